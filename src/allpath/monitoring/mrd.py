"""MRD as a time series, and the risk re-stratification it triggers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from allpath.findings.mrd import MRD_ANALYTES, read_mrd_facts
from allpath.observations.normalise import Timeline
from allpath.rules.engine import DecisionResult, evaluate_pack
from allpath.rules.facts import Fact, Registry
from allpath.rules.loader import Knowledge

__all__ = ["mrd_series", "restratification"]

_SPECIMEN = MRD_ANALYTES


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
    """Every MRD result with its specimen, method, sensitivity, time point and level.

    The level and positivity come from the MRD pack, which reads the result's assay
    sensitivity where the record gives it. ``fact`` names the protocol time-point fact the
    result counts for (``mrd.eoi_marrow``) and ``used`` says whether the rules read its value
    (false: too insensitive for a threshold, another result of the same day used, or same-day
    results that disagree; the assessment's notes say which); both are null for a result
    that counts for no time point."""
    pack = kb.pack("mrd")
    counted: dict[str, tuple[str, bool]] = {}
    for name, reading in read_mrd_facts(timeline, kb.registry, kb).items():
        for o in reading.results:
            counted[o.ref] = (name, reading.used == o.ref)
    out = []
    for obs in timeline:
        if obs.code not in _SPECIMEN or obs.value is None:
            continue
        given = {"mrd.value": Fact(obs.value, "%", (obs.ref,))}
        if obs.sensitivity is not None:
            given["mrd.sensitivity"] = Fact(obs.sensitivity * 100.0, "%", (obs.ref,))
        level, positive = evaluate_pack(pack, given)
        fact, used = counted.get(obs.ref, (None, None))
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
            "positive": positive.value if positive.status == "decided" else None,
            "rule_id": level.rule_id,
            "positive_rule_id": positive.rule_id,
            "fact": fact,
            "used": used,
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
