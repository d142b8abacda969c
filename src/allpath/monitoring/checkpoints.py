"""Response at the end of induction and the end of consolidation (pack ``response``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from allpath.monitoring.snapshots import fact_of, load_windows, nearest, window_series
from allpath.observations.normalise import NormalObservation, Timeline
from allpath.record.models import PatientRecord
from allpath.rules.engine import DecisionResult, evaluate_pack
from allpath.rules.facts import Fact
from allpath.rules.loader import Knowledge

__all__ = ["CheckpointResponse", "assess_checkpoints", "checkpoint_facts", "due_checkpoints",
           "marrow_response_facts"]


@dataclass(frozen=True)
class CheckpointResponse:
    """The response at one checkpoint; ``sites`` is the pack's ``failed_sites`` decision (the
    sites not in remission, each rule with the inputs it read), None when not evaluated."""

    checkpoint: str
    date: dt.date | None
    result: DecisionResult
    sites: DecisionResult | None = None

    def failed_sites(self) -> list[dict[str, Any]]:
        """Each site not in remission (marrow, blood, extramedullary) with its rule."""
        s = self.sites
        if s is None or s.status != "decided" or not isinstance(s.value, list):
            return []
        return [
            {"site": site, "rule_id": rule_id, "inputs": dict(inputs),
             "citations": list(cite)}
            for site, (rule_id, cite, _), inputs in zip(s.value, s.hits, s.hit_inputs,
                                                        strict=True)
        ]

    def note(self) -> str | None:
        """Why the response is less than CR or still open, naming the inputs."""
        r = self.result
        if r.status == "unknown":
            open_ = " or ".join(str(p) for p in r.possible) or "undecided"
            return (f"Checkpoint marrow read, but {', '.join(r.missing) or 'a fact'} "
                    f"missing: {open_} cannot be told apart until it is known.")
        failed = self.failed_sites()
        if r.status != "decided" or r.value not in ("refractory", "PD") or not failed:
            return None
        parts = ", ".join(
            f"{f['site']} ({', '.join(f'{k} = {_num(v)}' for k, v in f['inputs'].items())})"
            for f in failed)
        return f"Not in remission: {parts}."

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "checkpoint": self.checkpoint,
            "date": self.date.isoformat() if self.date else None,
            # unknown: a marrow exists but a fact the decision needs is missing (`missing`,
            # `possible`); not_assessable: no checkpoint marrow
            "status": r.value if r.status == "decided" else "unknown",
            "scheme": r.scheme,
            "rule_id": r.rule_id,
            "inputs": dict(r.inputs),
            "input_refs": list(r.input_refs),
            "citations": list(r.cite),
            "evidence": r.evidence,
            "missing": list(r.missing),
            "possible": list(r.possible) if r.status == "unknown" else [],
            "failed_sites": self.failed_sites(),
            "note": self.note(),
        }


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value).lower()


def checkpoint_facts(
    name: str, record: PatientRecord, timeline: Timeline, base: dict[str, Fact]
) -> tuple[dict[str, Fact], dt.date | None]:
    """Facts ``cp.*`` for one checkpoint, and the date of its marrow (None if absent)."""
    win = load_windows()
    first, last, label = win.checkpoints[name]
    facts: dict[str, Fact] = {"cp.name": Fact(name)}
    age = base.get("age.years")
    if age is not None:  # the response pack applies the count-recovery criterion to adults only
        facts["age.years"] = age
    marrows = window_series(timeline, "marrow_blasts", first, last, label)
    if not marrows:
        return facts, None
    marrow = marrows[0]
    dx = base.get("marrow_blasts.dx")
    baseline = dx.value if dx is not None and isinstance(dx.value, float) else None
    facts.update(marrow_response_facts(marrow, timeline, base, baseline,
                                       dx.inputs if dx is not None else ()))
    return facts, marrow.time


def marrow_response_facts(
    marrow: NormalObservation, timeline: Timeline, base: dict[str, Fact],
    baseline: float | None, baseline_refs: tuple[str, ...] = (), *,
    cns1_fallback: bool = True,
) -> dict[str, Fact]:
    """The ``cp.*`` facts the response pack reads for one marrow: its blasts, their ratio to
    ``baseline`` (the blasts before this treatment: at diagnosis, or at a relapse), the blood
    blasts, ANC and platelets nearest to it, and extramedullary disease (the CSF nearest to
    it, clinical CNS signs). Without a CSF there, CNS1 at diagnosis means no known
    extramedullary disease only where ``cns1_fallback`` (not after a relapse that involved
    the CNS)."""
    win = load_windows()
    when = marrow.time
    facts: dict[str, Fact] = {"cp.marrow_blasts": Fact(marrow.value or 0.0, "%",
                                                        (marrow.ref,))}
    if baseline is not None and baseline > 0:
        facts["cp.marrow_blast_ratio"] = Fact(
            (marrow.value or 0.0) / baseline, "1", (marrow.ref, *baseline_refs)
        )
    for code, name_ in (("blood_blasts", "cp.blood_blasts"), ("anc", "cp.anc"),
                        ("platelets", "cp.platelets")):
        f = fact_of(nearest(timeline.series(code), when, win.count_window_days))
        if f is not None:
            facts[name_] = f
    csf = nearest(timeline.series("csf_blasts"), when, win.count_window_days)
    signs = base.get("extramedullary.cns_clinical_signs")
    if csf is not None:
        facts["cp.emd"] = Fact(
            csf.category == "present" or bool(signs and signs.value is True), inputs=(csf.ref,)
        )
    elif signs is not None and signs.value is True:
        facts["cp.emd"] = Fact(True, inputs=signs.inputs)
    elif cns1_fallback:
        group = base.get("cns.group")
        if group is not None and group.value == "CNS1" and signs is not None:
            # No CSF at the checkpoint: no known extramedullary disease if CNS1 at diagnosis.
            facts["cp.emd"] = Fact(False, inputs=group.inputs + signs.inputs)
    return facts


def assess_checkpoints(
    record: PatientRecord, timeline: Timeline, base: dict[str, Fact], kb: Knowledge
) -> list[CheckpointResponse]:
    """Response at each checkpoint that has (or is due to have) a marrow."""
    pack = kb.pack("response")
    out: list[CheckpointResponse] = []
    if record.diagnosis_date is None:
        return out
    reached = (timeline.reference - record.diagnosis_date).days if timeline.reference else 0
    for name, (first, _, _) in load_windows().checkpoints.items():
        facts, when = checkpoint_facts(name, record, timeline, base)
        if when is None and (name != "end_of_induction" or reached < first):
            continue  # a checkpoint is reported once its marrow exists or is due
        result, sites = evaluate_pack(pack, facts)
        out.append(CheckpointResponse(name, when, result, sites))
    return out


def due_checkpoints(
    overdue: set[str], responses: tuple[CheckpointResponse, ...], record: PatientRecord,
    timeline: Timeline, base: dict[str, Fact], kb: Knowledge,
) -> tuple[CheckpointResponse, ...]:
    """The checkpoints the treatment plan scheduled whose day has passed without their marrow
    (``overdue``: time point names from the roadmap), not yet among ``responses``: each is
    reported as its marrow's absence reads, as the end of induction is once due (review F,
    rf04: an SR-High child's missing end-of-consolidation marrow was not in the list)."""
    pack = kb.pack("response")
    have = {r.checkpoint for r in responses}
    out: list[CheckpointResponse] = []
    for name in load_windows().checkpoints:
        if name in overdue and name not in have:
            facts, when = checkpoint_facts(name, record, timeline, base)
            result, sites = evaluate_pack(pack, facts)
            out.append(CheckpointResponse(name, when, result, sites))
    return tuple(out)

