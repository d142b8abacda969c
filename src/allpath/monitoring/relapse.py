"""Relapse after remission: site and timing under named schemes (pack ``relapse``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from allpath.monitoring.checkpoints import CheckpointResponse
from allpath.monitoring.snapshots import fact_of, load_windows, months_between, nearest
from allpath.observations.normalise import Timeline
from allpath.record.models import PatientRecord
from allpath.rules.engine import DecisionResult, evaluate_pack
from allpath.rules.facts import Fact
from allpath.rules.loader import Knowledge

__all__ = ["RelapseFinding", "find_relapse"]

@dataclass(frozen=True)
class RelapseFinding:
    """The first relapse found after remission (or that none was found)."""

    remission_date: dt.date | None
    relapse_date: dt.date | None
    results: tuple[DecisionResult, ...]

    def notes(self) -> list[str]:
        site = next((r for r in self.results if r.output == "relapse.site"), None)
        if site is not None and site.inputs.get("rel.csf_blasts") == "not_done":
            return ["CNS not assessed on this date: a lumbar puncture tells a marrow relapse "
                    "from a combined one."]
        return []

    def to_dict(self) -> dict[str, Any]:
        by = {r.output: r for r in self.results}
        site = by.get("relapse.site")
        detected = site is not None and site.status == "decided" and site.value != "none"

        def val(key: str) -> Any:
            r = by.get(key)
            if r is None:
                return None
            return r.value if r.status == "decided" else "unknown"

        return {
            "detected": detected,
            "remission_date": self.remission_date.isoformat() if self.remission_date else None,
            "date": self.relapse_date.isoformat() if detected and self.relapse_date else None,
            "site": val("relapse.site") if detected else None,
            "timing": {
                "cog": val("relapse.timing.cog") if detected else None,
                "bfm": val("relapse.timing.bfm") if detected else None,
                "nccn": val("relapse.timing.nccn") if detected else None,
            },
            "notes": self.notes(),
            "trace": [
                {"output": r.output, "value": r.value if r.status != "unknown" else "unknown",
                 "rule_id": r.rule_id, "citations": list(r.cite), "inputs": dict(r.inputs),
                 "missing": list(r.missing), "scheme": r.scheme}
                for r in self.results
            ] if self.results else [],
        }


def _remission_date(
    timeline: Timeline, responses: list[CheckpointResponse]
) -> dt.date | None:
    for cp in responses:
        if cp.result.status == "decided" and cp.result.value in ("CR", "CRi") and cp.date:
            return cp.date
    return None


def _end_of_therapy(record: PatientRecord) -> dt.date | None:
    ends = [ev.end for ev in record.treatment if ev.phase == "maintenance" and ev.end]
    return max(ends) if ends else None


def _facts_on(
    when: dt.date, record: PatientRecord, timeline: Timeline, base: dict[str, Fact]
) -> dict[str, Fact]:
    win = load_windows()
    facts: dict[str, Fact] = {}
    same_day = {o.code: o for o in timeline if o.time == when}
    marrow = same_day.get("marrow_blasts")
    if marrow is not None:
        facts["rel.marrow_blasts"] = Fact(marrow.value or 0.0, "%", (marrow.ref,))
        # Other tests on the same marrow (MRD by flow, PCR or NGS), highest first. With no
        # other test the values are 0%: neither confirms, which is what the rule needs.
        others = sorted((o for o in timeline if o.time == when and o.code == "mrd_marrow"),
                        key=lambda o: -(o.value or 0.0))
        for rank, name in enumerate(("rel.other_test_highest", "rel.other_test_second")):
            if rank < len(others):
                facts[name] = Fact(others[rank].value or 0.0, "%", (others[rank].ref,))
            else:
                facts[name] = Fact(0.0, "%", (f"no other test on the {when} marrow",))
    for code, name in (("csf_wbc", "rel.csf_wbc"), ("csf_blasts", "rel.csf_blasts")):
        if code in same_day:
            f = fact_of(same_day[code])
            if f is not None:
                facts[name] = f
    if "rel.csf_blasts" not in facts:
        facts["rel.csf_blasts"] = Fact("not_done", inputs=(f"no CSF examined on {when}",))
    f = fact_of(nearest(timeline.series("blood_blasts"), when, win.count_window_days))
    if f is not None:
        facts["rel.blood_blasts"] = f
    if record.diagnosis_date is not None:
        facts["rel.months_from_diagnosis"] = Fact(
            months_between(record.diagnosis_date, when), "mo", ("diagnosis_date",))
    end = _end_of_therapy(record)
    if end is not None:
        facts["rel.on_therapy"] = Fact(when <= end, inputs=("treatment",))
        facts["rel.months_after_end_of_therapy"] = Fact(months_between(end, when), "mo",
                                                        ("treatment",))
    return facts


def find_relapse(
    record: PatientRecord,
    timeline: Timeline,
    base: dict[str, Fact],
    responses: list[CheckpointResponse],
    kb: Knowledge,
) -> RelapseFinding:
    """Scan marrow and CSF results after remission; the first that meets a site rule."""
    remission = _remission_date(timeline, responses)
    if remission is None:
        return RelapseFinding(None, None, ())
    pack = kb.pack("relapse")
    dates = sorted({o.time for o in timeline
                    if o.time > remission and o.code in ("marrow_blasts", "csf_blasts")})
    last: tuple[dt.date | None, tuple[DecisionResult, ...]] = (None, ())
    for when in dates:
        results = tuple(evaluate_pack(pack, _facts_on(when, record, timeline, base)))
        site = results[0]
        if site.status == "decided" and site.value != "none":
            return RelapseFinding(remission, when, results)
        last = (when, results)
    return RelapseFinding(remission, last[0], last[1])
