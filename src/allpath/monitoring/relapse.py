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

__all__ = ["CONFIRMED_SITES", "RelapseFinding", "find_relapse"]

CONFIRMED_SITES = ("marrow", "combined", "isolated_cns", "isolated_testicular")

@dataclass(frozen=True)
class RelapseFinding:
    """The first relapse found after remission (or that none was found)."""

    remission_date: dt.date | None
    relapse_date: dt.date | None
    results: tuple[DecisionResult, ...]
    # a date with leukaemia found outside the marrow (CSF or testicular biopsy) whose site
    # rules could not be settled: not 'no relapse'
    unsettled: bool = False

    def notes(self) -> list[str]:
        site = next((r for r in self.results if r.output == "relapse.site"), None)
        out = []
        if site is not None and site.status == "decided" and site.value == "suspected":
            out.append("Relapse suspected, not confirmed: " + (site.note or "").strip())
        if self.unsettled and site is not None:
            out.append("Relapse not settled on this date: missing "
                       + ", ".join(site.missing) + ".")
        if site is not None and site.value in ("marrow", "combined") \
                and site.inputs.get("rel.testicular_enlargement") == "present" \
                and site.inputs.get("rel.testicular_blasts") != "present":
            out.append("Testis enlarged on this date without a biopsy: testicular involvement "
                       "(a combined relapse) is not settled; scrotal ultrasound and biopsy "
                       "settle it.")
        if site is not None and site.value in CONFIRMED_SITES \
                and site.inputs.get("rel.csf_blasts") == "not_done":
            out.append("CNS not assessed on this date: a lumbar puncture tells a marrow "
                       "relapse from a combined one.")
        return out

    def to_dict(self) -> dict[str, Any]:
        by = {r.output: r for r in self.results}
        site = by.get("relapse.site")
        detected = (site is not None and site.status == "decided"
                    and site.value in CONFIRMED_SITES)
        suspected = site is not None and site.status == "decided" and site.value == "suspected"
        unsettled = self.unsettled

        def val(key: str) -> Any:
            r = by.get(key)
            if r is None:
                return None
            return r.value if r.status == "decided" else "unknown"

        return {
            # A suspected (unconfirmed) relapse is neither detected nor ruled out: null.
            # So is a date whose site rules could not be settled (a fact missing).
            "detected": None if suspected or unsettled else detected,
            "remission_date": self.remission_date.isoformat() if self.remission_date else None,
            "date": self.relapse_date.isoformat()
            if (detected or suspected or unsettled) and self.relapse_date else None,
            "suspected": suspected,
            "confirm_with": site.note if suspected and site is not None else None,
            "site": val("relapse.site") if detected else None,
            "timing": {
                "cog": val("relapse.timing.cog") if detected else None,
                "bfm": val("relapse.timing.bfm") if detected else None,
                "nccn": val("relapse.timing.nccn") if detected else None,
            },
            "risk": {
                "cog": val("relapse.risk.cog") if detected else None,
                "bfm": val("relapse.risk.bfm") if detected else None,
                "intreall": val("relapse.risk.intreall") if detected else None,
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


def _therapy_status(record: PatientRecord, when: dt.date) -> tuple[bool | None, dt.date | None]:
    """Whether front-line therapy was still going on at ``when``, and when it ended.

    Front-line therapy ends with the end of the last maintenance event. A treatment phase that
    had started by ``when`` and has no end date means therapy was still going on; so does a
    date on or before the end of maintenance. Without any treatment event it is unknown.
    """
    events = sorted((ev for ev in record.treatment if ev.start <= when), key=lambda e: e.start)
    # Phases follow one another: only the latest phase begun by then can still be open.
    if events and events[-1].end is None:
        return True, None
    ends = [ev.end for ev in record.treatment if ev.phase == "maintenance" and ev.end]
    if ends:
        end = max(ends)
        return when <= end, end
    return None, None


def _facts_on(
    when: dt.date, record: PatientRecord, timeline: Timeline, base: dict[str, Fact]
) -> dict[str, Fact]:
    win = load_windows()
    facts: dict[str, Fact] = {}
    same_day = {o.code: o for o in timeline if o.time == when}
    marrow = same_day.get("marrow_blasts")
    if marrow is not None:
        facts["rel.marrow_blasts"] = Fact(marrow.value or 0.0, "%", (marrow.ref,))
        # Other tests on the same marrow (MRD by flow, PCR or NGS), highest first. A test not
        # done stays unknown: an unconfirmed marrow is a suspected relapse, never "none".
        others = sorted((o for o in timeline if o.time == when and o.code == "mrd_marrow"),
                        key=lambda o: -(o.value or 0.0))
        for rank, name in enumerate(("rel.other_test_highest", "rel.other_test_second")):
            if rank < len(others):
                facts[name] = Fact(others[rank].value or 0.0, "%", (others[rank].ref,))
    for code, name in (("csf_wbc", "rel.csf_wbc"), ("csf_blasts", "rel.csf_blasts"),
                       ("testicular_biopsy", "rel.testicular_blasts")):
        if code in same_day:
            f = fact_of(same_day[code])
            if f is not None:
                facts[name] = f
    if "rel.csf_blasts" not in facts:
        facts["rel.csf_blasts"] = Fact("not_done", inputs=(f"no CSF examined on {when}",))
    # A testicular examination on this date (enlargement or swelling): read for anyone who is
    # not recorded as female; for a girl the fact cannot apply and the pack fills it in.
    exam = same_day.get("testicular_enlargement")
    if exam is not None and not (base.get("sex") is not None
                                 and base["sex"].value == "female"):
        f = fact_of(exam)
        if f is not None:
            facts["rel.testicular_enlargement"] = f
    if "rel.testicular_blasts" not in facts and base.get("sex") is not None \
            and base["sex"].value != "female":
        facts["rel.testicular_blasts"] = Fact("not_done",
                                              inputs=(f"no testicular biopsy on {when}",))
    if "sex" in base:
        facts["sex"] = base["sex"]
    lineage = base.get("diagnosis.lineage")
    if lineage is not None:
        facts["rel.lineage"] = Fact(lineage.value, inputs=lineage.inputs)
    block1 = [o for o in timeline.series("mrd_marrow")
              if o.time > when and o.timepoint == "end_of_block1"]
    if block1:
        f1 = fact_of(block1[0])
        if f1 is not None:
            facts["rel.mrd_end_block1"] = f1
    f = fact_of(nearest(timeline.series("blood_blasts"), when, win.count_window_days))
    if f is not None:
        facts["rel.blood_blasts"] = f
    if record.diagnosis_date is not None:
        facts["rel.months_from_diagnosis"] = Fact(
            months_between(record.diagnosis_date, when), "mo", ("diagnosis_date",))
    on_therapy, end = _therapy_status(record, when)
    if on_therapy is not None:
        facts["rel.on_therapy"] = Fact(on_therapy, inputs=("treatment",))
    if on_therapy is False and end is not None:
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
    """Scan marrow, CSF, testicular-biopsy and testicular-examination results after remission;
    the first that meets a site rule (a biopsy on a day without a marrow still dates an
    isolated testicular relapse once a marrow is known: without one the site stays unknown; an
    enlarged testis without a biopsy is a suspected relapse)."""
    remission = _remission_date(timeline, responses)
    if remission is None:
        return RelapseFinding(None, None, ())
    pack = kb.pack("relapse")
    dates = sorted({o.time for o in timeline
                    if o.time > remission
                    and o.code in ("marrow_blasts", "csf_blasts", "testicular_biopsy",
                                   "testicular_enlargement")})
    last: tuple[dt.date | None, tuple[DecisionResult, ...]] = (None, ())
    suspected: tuple[dt.date | None, tuple[DecisionResult, ...], bool] | None = None
    for when in dates:
        facts = _facts_on(when, record, timeline, base)
        results = tuple(evaluate_pack(pack, facts))
        site = results[0]
        if site.status == "decided" and site.value in CONFIRMED_SITES:
            return RelapseFinding(remission, when, results)
        # blasts found in the CSF or a testicular biopsy, site not settled (a routine clear
        # lumbar puncture without a marrow that day is not)
        unsettled = site.status == "unknown" and any(
            f is not None and f.value == "present"
            for f in (facts.get("rel.csf_blasts"), facts.get("rel.testicular_blasts")))
        if suspected is None and (unsettled or (
                site.status == "decided" and site.value == "suspected")):
            # keep looking for a confirming marrow; a later 'none' does not undo this date
            suspected = (when, results, unsettled)
        last = (when, results)
    if suspected is not None:
        return RelapseFinding(remission, suspected[0], suspected[1], suspected[2])
    return RelapseFinding(remission, last[0], last[1])
