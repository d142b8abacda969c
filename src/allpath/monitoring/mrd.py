"""MRD as a time series, and the risk re-stratification it triggers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from allpath.observations.normalise import Timeline
from allpath.rules.engine import DecisionResult, evaluate_pack
from allpath.rules.facts import Fact, Registry
from allpath.rules.loader import Knowledge

__all__ = ["mrd_series", "restratification"]

_SPECIMEN = {"mrd_blood": "blood", "mrd_marrow": "marrow"}


def _timepoint_of(registry: Registry, code: str, day: int, label: str | None) -> str | None:
    """The protocol time point an MRD result feeds, by label or by the facts.yaml windows."""
    for name in ("mrd.day8_blood", "mrd.eoi_marrow", "mrd.eoc_marrow"):
        spec = registry.get(name)
        if spec is None or spec.source.get("from") != code:
            continue
        tp = spec.source.get("timepoint")
        if label is not None:
            if label == tp:
                return str(tp)
            continue
        lo, hi = spec.source.get("window", [None, None])
        if (lo is None or day >= lo) and (hi is None or day <= hi):
            return str(tp)
    return label


def mrd_series(timeline: Timeline, kb: Knowledge) -> list[dict[str, Any]]:
    """Every MRD result with its specimen, method, sensitivity, time point and level."""
    pack = kb.pack("mrd")
    out = []
    for obs in timeline:
        if obs.code not in _SPECIMEN or obs.value is None:
            continue
        level, positive = evaluate_pack(pack, {"mrd.value": Fact(obs.value, "%", (obs.ref,))})
        out.append({
            "date": obs.time.isoformat(),
            "day": obs.day,
            "specimen": _SPECIMEN[obs.code],
            "value": obs.value,
            "unit": "%",
            "fraction": obs.value / 100.0,
            "method": obs.method,
            "sensitivity": obs.sensitivity,
            "timepoint": _timepoint_of(kb.registry, obs.code, obs.day, obs.timepoint),
            "level": level.value,
            "positive": positive.value,
            "rule_id": level.rule_id,
            "citations": sorted(set(level.cite) | set(positive.cite)),
            "input_ref": obs.ref,
        })
    return out


def restratification(
    final: Sequence[DecisionResult], facts: dict[str, Fact], kb: Knowledge
) -> list[dict[str, Any]]:
    """Risk groups before MRD (provisional) and after it, for each scheme that MRD changed.

    The risk packs are run again on the same facts without any ``mrd.*`` fact; a scheme whose
    group or provisional flag differs from the final answer was re-stratified by MRD.
    """
    if not any(r.scheme is not None and r.output.startswith("risk.")
               and any(k.startswith("mrd.") for k in r.inputs) for r in final):
        return []  # no group read an MRD result: none was re-stratified (no second run)
    without = {k: v for k, v in facts.items() if not k.startswith(("mrd.", "risk."))}
    before: dict[str, DecisionResult] = {}
    for pack in kb.stage("risk"):
        for r in evaluate_pack(pack, without):
            before[r.output] = r
    out = []
    for r in final:
        if r.scheme is None or not r.output.startswith("risk.") or r.output not in before:
            continue
        b = before[r.output]
        used_mrd = sorted(k for k in r.inputs if k.startswith("mrd."))
        if not used_mrd or (b.value == r.value and b.provisional == r.provisional):
            continue
        out.append({
            "scheme": r.scheme,
            "before": {"group": b.value if b.status != "unknown" else "unknown",
                       "provisional": b.provisional},
            "after": {"group": r.value if r.status != "unknown" else "unknown",
                      "provisional": r.provisional},
            "reason": {"rule_id": r.rule_id, "mrd": {k: r.inputs[k] for k in used_mrd},
                       "citations": list(r.cite)},
        })
    return out
