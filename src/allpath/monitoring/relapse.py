"""Relapse after remission: site and timing under named schemes (pack ``relapse``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from allpath.findings.base import calendar_age
from allpath.findings.mrd import MrdReading, compared_thresholds, read_mrd_results
from allpath.monitoring.checkpoints import CheckpointResponse, marrow_response_facts
from allpath.monitoring.snapshots import fact_of, load_windows, months_between, nearest
from allpath.observations.catalogue import load_catalogue
from allpath.observations.normalise import NormalObservation, Timeline
from allpath.record.models import PatientRecord
from allpath.rules.engine import DecisionResult, evaluate_pack
from allpath.rules.facts import Fact
from allpath.rules.loader import Knowledge
from allpath.rules.schema import AllOf, AnyOf, AtLeast, Compare, Known, Match, Not

__all__ = ["CONFIRMED_SITES", "RelapseFinding", "block1_mrd", "find_relapse",
           "is_transplant", "transplant_before"]

CONFIRMED_SITES = ("marrow", "combined", "isolated_cns", "isolated_testicular",
                   "isolated_extramedullary")

@dataclass(frozen=True)
class RelapseFinding:
    """The latest relapse found after a remission (or that none was found), with the earlier
    ones: a relapse, a remission after it (a marrow in CR or CRi), then a new relapse is a
    second relapse, read on its own work-up."""

    remission_date: dt.date | None
    relapse_date: dt.date | None
    results: tuple[DecisionResult, ...]
    # a date with leukaemia found outside the marrow (CSF or testicular biopsy) whose site
    # rules could not be settled: not 'no relapse'
    unsettled: bool = False
    # first and last day of the results read as this work-up, and the window used (days)
    workup: tuple[dt.date, dt.date] | None = None
    window: int | None = None
    # extramedullary sites where the work-up found leukaemia: cns (CSF blasts), testis
    # (positive testicular biopsy)
    extramedullary: tuple[str, ...] = ()
    # for a suspected relapse: the facts the deciding rule read that the work-up has not
    # settled (not done or not recorded) - their settled_by tests confirm or refute it
    open_facts: tuple[str, ...] = ()
    # which relapse this is (1 = the first after the first remission); None when none found
    number: int | None = None
    # the earlier confirmed relapses, each followed by a remission, oldest first
    previous: tuple[RelapseFinding, ...] = ()
    # the date of the remission reached after this relapse (a marrow in CR or CRi), if any
    remission_after: dt.date | None = None
    # a new relapse suspected (or unsettled) after that remission, pending its confirmation:
    # this confirmed relapse stays the one described (detected), the new one rides along
    suspected_next: RelapseFinding | None = None
    # marrows after this relapse's work-up not in remission (date, blasts %), before any
    # remission: disease persisting on relapse treatment
    not_in_remission: tuple[tuple[dt.date, float], ...] = ()
    # why the end-of-block-1 marrow MRD was measured but left unknown (too insensitive for
    # the pack's threshold, or same-day results on both sides of it: allpath.findings.mrd)
    mrd_note: str | None = None
    # the remission the scan started from was read from the end-of-induction marrow alone
    # (the response was not settled): the note says so and which results settle it
    remission_note: str | None = None

    @property
    def latest_confirmed_date(self) -> dt.date | None:
        """The date of the latest confirmed relapse: this one, else the last earlier one (a
        relapse after which a new relapse is only suspected still sets the relapsed plan)."""
        if self.confirmed:
            return self.relapse_date
        return self.previous[-1].relapse_date if self.previous else None

    @property
    def confirmed(self) -> bool:
        """A relapse confirmed at a site (not suspected, not unsettled)."""
        site = next((r for r in self.results if r.output == "relapse.site"), None)
        return (not self.unsettled and site is not None and site.status == "decided"
                and site.value in CONFIRMED_SITES)

    @property
    def pending(self) -> bool:
        """A relapse suspected, or leukaemia found outside the marrow with the site open: not
        confirmed, and never 'no relapse'."""
        site = next((r for r in self.results if r.output == "relapse.site"), None)
        return self.unsettled or (site is not None and site.status == "decided"
                                  and site.value == "suspected")

    def notes(self) -> list[str]:
        site = next((r for r in self.results if r.output == "relapse.site"), None)
        out = [self.remission_note] if self.remission_note else []
        if site is not None and site.status == "decided" and site.value == "suspected":
            out.append("Relapse suspected, not confirmed: " + (site.note or "").strip())
        if self.unsettled and site is not None:
            out.append("Relapse not settled by this work-up: missing "
                       + ", ".join(site.missing) + ".")
        if site is not None and site.value in ("marrow", "combined") \
                and site.inputs.get("rel.testicular_enlargement") == "present" \
                and site.inputs.get("rel.testicular_blasts") != "present":
            out.append("Testis enlarged in this work-up without a biopsy: testicular involvement "
                       "(a combined relapse) is not settled; scrotal ultrasound and biopsy "
                       "settle it.")
        if self.number is not None and self.number > 1 and self.confirmed:
            out.append(f"Relapse number {self.number} (after a remission on "
                       f"{_iso(self.remission_date)}): the timing and risk groups classify a "
                       "first relapse (COG, BFM, NCCN, IntReALL, UK) and are not given for it; "
                       "the first relapse's are under previous.")
        for day, blasts in self.not_in_remission:
            out.append(f"Marrow on {day.isoformat()} after this relapse not in remission "
                       f"({blasts:g}% blasts): disease persisting on relapse treatment.")
        if self.remission_after is not None:
            later = ("a new relapse is suspected (below)" if self.suspected_next is not None
                     else "no later relapse found")
            out.append(f"In remission again since {self.remission_after.isoformat()} (marrow "
                       f"in CR or CRi after this relapse); {later}.")
        if self.mrd_note is not None:
            out.append(self.mrd_note)
        if self.suspected_next is not None:
            out.extend(self.suspected_next.notes())
        if site is not None and site.value in CONFIRMED_SITES \
                and site.inputs.get("rel.csf_blasts") == "not_done":
            out.append("CNS not assessed in this work-up: a lumbar puncture tells a marrow "
                       "relapse from a combined one.")
        return out

    def to_dict(self) -> dict[str, Any]:
        by = {r.output: r for r in self.results}
        site = by.get("relapse.site")
        detected = (site is not None and site.status == "decided"
                    and site.value in CONFIRMED_SITES)
        suspected = site is not None and site.status == "decided" and site.value == "suspected"
        unsettled = self.unsettled
        following = self.suspected_next.to_dict() if self.suspected_next is not None else None

        def val(key: str) -> Any:
            r = by.get(key)
            if r is None or r.status == "not_applicable":  # a later relapse: first-relapse
                return None                                # schemes do not classify it
            return r.value if r.status == "decided" else "unknown"

        return {
            # A suspected (unconfirmed) relapse is neither detected nor ruled out: null.
            # So is a date whose site rules could not be settled (a fact missing).
            "detected": None if suspected or unsettled else detected,
            "remission_date": self.remission_date.isoformat() if self.remission_date else None,
            "date": self.relapse_date.isoformat()
            if (detected or suspected or unsettled) and self.relapse_date else None,
            # a relapse suspected now: this one, or a new one after the remission that
            # followed this confirmed relapse (suspected_next)
            "suspected": suspected or bool(following and following["suspected"]),
            "confirm_with": site.note if suspected and site is not None
            else following["confirm_with"] if following else None,
            "site": val("relapse.site") if detected else None,
            # the extramedullary sites with leukaemia found in the work-up (CSF blasts: cns; a
            # positive testicular biopsy: testis), e.g. both for an isolated extramedullary
            # relapse at two sites
            "extramedullary_sites": list(self.extramedullary) if detected else None,
            # the results read together as one work-up: first and last day, and the window
            # (days after the first result) from the relapse pack's table relapse_workup_window
            "workup": {"first_result": self.workup[0].isoformat(),
                       "last_result": self.workup[1].isoformat(),
                       "window_days": self.window}
            if self.workup is not None and (detected or suspected or unsettled) else None,
            "timing": {
                "cog": val("relapse.timing.cog") if detected else None,
                "bfm": val("relapse.timing.bfm") if detected else None,
                "nccn": val("relapse.timing.nccn") if detected else None,
            },
            "risk": {
                "cog": val("relapse.risk.cog") if detected else None,
                "bfm": val("relapse.risk.bfm") if detected else None,
                "intreall": val("relapse.risk.intreall") if detected else None,
                # UK (CCLG, ALL R3) standard/intermediate/high, rules relapse.risk.uk.*
                # (evidence unconfirmed: see the pack)
                "uk": val("relapse.risk.uk") if detected else None,
            },
            # 1 for the first relapse, 2 for a relapse after a second remission, ...
            "number": self.number if (detected or suspected or unsettled) else None,
            "remission_after": _iso(self.remission_after),
            # marrows after this relapse not in remission (before any remission after it)
            "not_in_remission": [{"date": d.isoformat(), "marrow_blasts": b}
                                 for d, b in self.not_in_remission],
            "previous": [p.summary() for p in self.previous],
            # a new relapse suspected after the remission that followed this one (pending)
            "suspected_next": None if self.suspected_next is None else {
                "number": self.suspected_next.number,
                "date": _iso(self.suspected_next.relapse_date),
                "confirm_with": following["confirm_with"] if following else None,
                "site_unsettled": self.suspected_next.unsettled},
            "notes": self.notes(),
            "trace": [
                {"output": r.output, "value": r.value if r.status != "unknown" else "unknown",
                 "rule_id": r.rule_id, "citations": list(r.cite), "inputs": dict(r.inputs),
                 "missing": list(r.missing), "scheme": r.scheme, "evidence": r.evidence}
                for r in self.results
            ] if self.results else [],
        }


    def summary(self) -> dict[str, Any]:
        """An earlier relapse in a few fields (``previous`` of a later one)."""
        full = self.to_dict()
        return {"number": self.number, "date": full["date"], "site": full["site"],
                "remission_date": full["remission_date"],
                "remission_after": _iso(self.remission_after),
                "timing": full["timing"], "risk": full["risk"]}


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _remission_date(
    timeline: Timeline, responses: list[CheckpointResponse]
) -> dt.date | None:
    for cp in responses:
        if cp.result.status == "decided" and cp.result.value in ("CR", "CRi") and cp.date:
            return cp.date
    return None


def _marrow_remission(timeline: Timeline, responses: list[CheckpointResponse],
                      kb: Knowledge) -> tuple[dt.date | None, str | None]:
    """When no checkpoint settled a remission (the response is not assessable: no marrow
    morphology, or blood counts missing) and none found the disease persisting: the first
    end-of-induction marrow result below the relapse pack's morphological-remission level
    (table ``marrow_remission_below``; morphology or marrow MRD), with the note that says so.
    A relapse after it is then found, not missed in silence (review II)."""
    if any(cp.result.status == "decided" and cp.result.value in ("refractory", "PD")
           for cp in responses):
        return None, None
    below = {"marrow_blasts": _percent_table(kb, "marrow_remission_below"),
             "mrd_marrow": _percent_table(kb, "marrow_mrd_remission_below")}
    lo, hi = _eoi_window(kb)
    for o in timeline:
        if o.code not in below or o.value is None:
            continue
        labelled = o.timepoint == "end_of_induction"
        in_window = (o.timepoint is None and lo is not None and hi is not None
                     and lo <= o.day <= hi)
        if (labelled or in_window) and o.value < below[o.code]:
            what = ("marrow blasts {v:g}%, under the {b:g}% of a morphological remission"
                    if o.code == "marrow_blasts" else
                    "marrow MRD {v:g}%, under the {b:g}% that stands for a remission when the "
                    "morphology is not recorded").format(v=o.value, b=below[o.code])
            return o.time, (
                f"Remission at the end of induction is not settled (the response could not "
                f"be assessed), so relapse is read from the marrow of {o.time.isoformat()} "
                f"({what}). The end-of-induction results that settle a remission are the "
                "marrow morphology, the blood counts and blood blasts, and the spinal fluid.")
    return None, None


def _percent_table(kb: Knowledge, name: str) -> float:
    table = kb.pack("relapse").tables[name]
    if table.unit != "%" or len(table.rows) != 1:
        raise ValueError(f"pack relapse: table {name} must hold one row in %")
    return float(table.rows[0].value)


def _eoi_window(kb: Knowledge) -> tuple[int | None, int | None]:
    """The end-of-induction window (days) of the registry's ``mrd.eoi_marrow``."""
    spec = kb.registry.get("mrd.eoi_marrow")
    window = (spec.source.get("window") if spec is not None else None) or [None, None]
    assert isinstance(window, list)
    lo, hi = window[0], window[1]
    return (int(lo) if lo is not None else None, int(hi) if hi is not None else None)


def _no_remission_documented(timeline: Timeline, kb: Knowledge) -> RelapseFinding | None:
    """No remission settled and no end-of-induction marrow to read one from, but a marrow at
    the relapse level after the induction period: relapse cannot be told from disease that
    never remitted. Not "no relapse": undetermined, with the note that says what settles it
    (review JJ, rvjj04)."""
    level = _percent_table(kb, "marrow_remission_below")
    _, hi = _eoi_window(kb)
    if hi is None:
        return None
    late = [o for o in timeline.series("marrow_blasts")
            if o.value is not None and o.day > hi and o.value >= level]
    if not late:
        return None
    first = late[0]
    assert first.value is not None
    return RelapseFinding(
        None, first.time, (), unsettled=True,
        remission_note=(
            f"No remission is documented (no end-of-induction marrow in the record), so the "
            f"marrow of {first.time.isoformat()} with {first.value:g}% blasts cannot be told "
            "apart: a relapse, or disease that never went into remission. The end-of-"
            "induction marrow report settles it."))


def is_transplant(event: object) -> bool:
    """Whether a treatment event is a stem cell transplant (phase ``transplant``)."""
    phase = getattr(event, "phase", None)
    return str(getattr(phase, "value", phase)) == "transplant"


def transplant_before(record: PatientRecord, when: dt.date) -> bool:
    """Whether a treatment event of the record names a transplant that started before
    ``when`` (the record's treatment history is read as complete)."""
    return any(is_transplant(ev) and ev.start < when for ev in record.treatment)


def _therapy_status(record: PatientRecord, when: dt.date) -> tuple[bool | None, dt.date | None]:
    """Whether front-line therapy was still going on at ``when``, and when it ended.

    Front-line therapy ends with the end of the last maintenance event, or, in a record with
    no maintenance, with the end of a transplant in first remission that ended before
    ``when`` (the transplant is then the last front-line treatment; review BB). A treatment
    phase that had started by ``when`` and has no end date means therapy was still going on;
    so does a date on or before the end of maintenance. Without any treatment event it is
    unknown.
    """
    events = sorted((ev for ev in record.treatment if ev.start <= when), key=lambda e: e.start)
    # Phases follow one another: only the latest phase begun by then can still be open.
    if events and events[-1].end is None:
        return True, None
    ends = [ev.end for ev in record.treatment if ev.phase == "maintenance" and ev.end]
    if not ends:
        ends = [ev.end for ev in events
                if is_transplant(ev) and ev.end is not None and ev.end <= when]
    if ends:
        end = max(ends)
        return when <= end, end
    return None, None


# Observation codes that belong to the work-up of a relapse (exam, marrow, CSF, biopsy).
_WORKUP_CODES = ("marrow_blasts", "csf_blasts", "testicular_biopsy", "testicular_enlargement")


def workup_window_days(kb: Knowledge) -> int:
    """Days after a work-up's first result within which the exam, marrow, CSF and testicular
    biopsy of one relapse episode are read together: the relapse pack's table
    ``relapse_workup_window`` (cited, evidence recorded there), never a number in code."""
    table = kb.pack("relapse").tables["relapse_workup_window"]
    if table.unit != "d" or len(table.rows) != 1:
        raise ValueError("pack relapse: table relapse_workup_window must hold one row in "
                         f"days (unit d); got unit {table.unit!r} with {len(table.rows)} rows")
    return int(table.rows[0].value)


def _episode(when: dt.date, timeline: Timeline, window: int,
             after: dt.date) -> dict[str, NormalObservation]:
    """The work-up read with the candidate date ``when``: for each kind of result, the one
    nearest to ``when`` within ``window`` days before or after it (same day first, then the
    later on a tie), never from the remission date or before. The CSF cell count is the one
    of the same lumbar puncture as the cytospin."""
    picked: dict[str, NormalObservation] = {}
    for o in timeline:
        if o.code not in _WORKUP_CODES or o.time <= after:
            continue
        gap = abs((o.time - when).days)
        if gap > window:
            continue
        best = picked.get(o.code)
        if best is None or gap < abs((best.time - when).days) or (
                gap == abs((best.time - when).days) and o.time > best.time):
            picked[o.code] = o
    lp = picked.get("csf_blasts")
    lp_day = lp.time if lp is not None else when
    wbc = next((o for o in timeline if o.code == "csf_wbc" and o.time == lp_day), None)
    if wbc is not None:
        picked["csf_wbc"] = wbc
    return picked


def block1_mrd(timeline: Timeline, when: dt.date, kb: Knowledge | None) -> MrdReading:
    """The end-of-block-1 marrow MRD after the relapse on ``when``: the first marrow MRD
    labelled ``end_of_block1`` and the other results of that day, read with their assay
    sensitivity against the relapse pack's threshold (allpath.findings.mrd)."""
    block1 = [o for o in timeline.series("mrd_marrow")
              if o.time > when and o.timepoint == "end_of_block1" and o.value is not None]
    same_day = [o for o in block1 if block1 and o.time == block1[0].time]
    return read_mrd_results("rel.mrd_end_block1", same_day,
                            compared_thresholds(kb).get("rel.mrd_end_block1", ()),
                            specimen="marrow")


def _facts_on(
    when: dt.date, record: PatientRecord, timeline: Timeline, base: dict[str, Fact],
    window: int, after: dt.date, kb: Knowledge | None = None,
) -> tuple[dict[str, Fact], dict[str, NormalObservation]]:
    win = load_windows()
    facts: dict[str, Fact] = {}
    episode = _episode(when, timeline, window, after)
    marrow = episode.get("marrow_blasts")
    if marrow is not None:
        facts["rel.marrow_blasts"] = Fact(marrow.value or 0.0, "%", (marrow.ref,))
        # Other tests on the same marrow (MRD by flow, PCR or NGS), highest first. A test not
        # done stays unknown: an unconfirmed marrow is a suspected relapse, never "none".
        others = sorted((o for o in timeline
                         if o.time == marrow.time and o.code == "mrd_marrow"),
                        key=lambda o: -(o.value or 0.0))
        for rank, name in enumerate(("rel.other_test_highest", "rel.other_test_second")):
            if rank < len(others):
                facts[name] = Fact(others[rank].value or 0.0, "%", (others[rank].ref,))
    span = (f"from {when - dt.timedelta(days=window)} to "
            f"{when + dt.timedelta(days=window)}")
    for code, name in (("csf_wbc", "rel.csf_wbc"), ("csf_blasts", "rel.csf_blasts"),
                       ("testicular_biopsy", "rel.testicular_blasts")):
        if code in episode:
            f = fact_of(episode[code])
            if f is not None:
                facts[name] = f
    if "rel.csf_blasts" not in facts:
        facts["rel.csf_blasts"] = Fact("not_done", inputs=(f"no CSF examined {span}",))
    # A testicular examination in this work-up (enlargement or swelling): read for anyone who
    # is not recorded as female; for a girl the fact cannot apply and the pack fills it in.
    exam = episode.get("testicular_enlargement")
    if exam is not None and not (base.get("sex") is not None
                                 and base["sex"].value == "female"):
        f = fact_of(exam)
        if f is not None:
            facts["rel.testicular_enlargement"] = f
    if "rel.testicular_blasts" not in facts and base.get("sex") is not None \
            and base["sex"].value != "female":
        facts["rel.testicular_blasts"] = Fact("not_done",
                                              inputs=(f"no testicular biopsy {span}",))
    if "sex" in base:
        facts["sex"] = base["sex"]
    lineage = base.get("diagnosis.lineage")
    if lineage is not None:
        facts["rel.lineage"] = Fact(lineage.value, inputs=lineage.inputs)
    f1 = block1_mrd(timeline, when, kb).stored
    if f1 is not None:
        facts["rel.mrd_end_block1"] = f1
    smear_day = marrow.time if marrow is not None else when
    f = fact_of(nearest(timeline.series("blood_blasts"), smear_day, win.count_window_days))
    if f is not None:
        facts["rel.blood_blasts"] = f
    if record.diagnosis_date is not None:
        facts["rel.months_from_diagnosis"] = Fact(
            months_between(record.diagnosis_date, when), "mo", ("diagnosis_date",))
    if record.birth_date is not None:  # the paediatric relapse schemes' populations
        facts["rel.age_years"] = Fact(calendar_age(record.birth_date, when)[0], "a",
                                      ("birth_date",))
    # a transplant before the relapse (the relapse trials exclude relapse after a transplant;
    # the record's treatment history is read as complete, as the roadmap's prior_hct is)
    facts["rel.prior_hct"] = Fact(transplant_before(record, when), inputs=("treatment",))
    on_therapy, end = _therapy_status(record, when)
    if on_therapy is not None:
        facts["rel.on_therapy"] = Fact(on_therapy, inputs=("treatment",))
    if on_therapy is False and end is not None:
        facts["rel.months_after_end_of_therapy"] = Fact(months_between(end, when), "mo",
                                                        ("treatment",))
    return facts, episode


_EXTRAMEDULLARY_SITES = ("isolated_cns", "isolated_testicular", "isolated_extramedullary")


def _can_date(when: dt.date, episode: dict[str, NormalObservation], site: object) -> bool:
    """Whether ``when`` may date what its work-up shows: a finding of leukaemia (CSF blasts,
    a positive biopsy, an enlarged testis) on that very day, or - unless the relapse is
    extramedullary only - a marrow on that day. A clear lumbar puncture, or a clear marrow
    beside a later CNS or testicular finding, never dates it."""
    return any(o.time == when and (o.category == "present" or (
        o.code == "marrow_blasts" and site not in _EXTRAMEDULLARY_SITES))
        for o in episode.values())


def find_relapse(
    record: PatientRecord,
    timeline: Timeline,
    base: dict[str, Fact],
    responses: list[CheckpointResponse],
    kb: Knowledge,
) -> RelapseFinding:
    """Scan the relapse work-ups after remission: each candidate date (a marrow, CSF,
    testicular biopsy or testicular examination) is read together with the other results of
    the same work-up, those within the relapse pack's work-up window before or after it (an
    exam, then the marrow, then a biopsy days apart are one episode). The first work-up that
    meets a site rule is the relapse; without a marrow in the work-up the site of a positive
    biopsy or CSF stays unknown; an enlarged testis without a biopsy is a suspected
    relapse."""
    remission = _remission_date(timeline, responses)
    assumed: str | None = None
    if remission is None:
        remission, assumed = _marrow_remission(timeline, responses, kb)
    if remission is None:
        if any(cp.result.status == "decided" and cp.result.value in ("refractory", "PD")
               for cp in responses):
            return RelapseFinding(None, None, ())
        return _no_remission_documented(timeline, kb) or RelapseFinding(None, None, ())
    timeline = _with_reported_findings(record, timeline, remission)
    earlier: list[RelapseFinding] = []
    while True:
        number = len(earlier) + 1
        found = _scan(record, timeline, base, kb, remission, number)
        if not found.confirmed:
            if earlier:
                # no new confirmed relapse since the last remission: the latest confirmed
                # relapse is still the one in effect (detected), with the remission reached
                # after it and any new relapse only suspected since
                last = earlier.pop()
                pending = replace(found, number=number) if found.pending else None
                return replace(last, previous=tuple(earlier), remission_after=remission,
                               suspected_next=pending, remission_note=assumed)
            return replace(found, number=number if found.pending else None,
                           remission_note=assumed)
        again, persisting = _remission_after(found, timeline, base, kb)
        found = replace(found, number=number, previous=tuple(earlier),
                        not_in_remission=persisting)
        if again is None:
            return replace(found, remission_note=assumed)
        earlier.append(replace(found, previous=(), remission_after=again))
        remission = again


def _scan(record: PatientRecord, timeline: Timeline, base: dict[str, Fact], kb: Knowledge,
          remission: dt.date, number: int) -> RelapseFinding:
    """The first relapse work-up after ``remission`` that meets a site rule (else the first
    suspected or unsettled one, else the last work-up read); ``number`` tells the pack a
    first relapse from a later one (fact ``rel.episode``)."""
    pack = kb.pack("relapse")
    window = workup_window_days(kb)
    dates = sorted({o.time for o in timeline
                    if o.time > remission and o.code in _WORKUP_CODES})
    last: RelapseFinding = RelapseFinding(remission, None, ())
    suspected: RelapseFinding | None = None
    episode_fact = Fact("first" if number == 1 else "later",
                        inputs=(f"relapse number {number}",))
    for when in dates:
        facts, episode = _facts_on(when, record, timeline, base, window, remission, kb)
        mrd_note = block1_mrd(timeline, when, kb).note
        facts["rel.episode"] = episode_fact
        results = tuple(evaluate_pack(pack, facts))
        site = next(r for r in results if r.output == "relapse.site")
        em = tuple(name for fact, name in (("rel.csf_blasts", "cns"),
                                           ("rel.testicular_blasts", "testis"))
                   if facts.get(fact) is not None and facts[fact].value == "present")
        # a marrow or combined relapse beside an enlarged testis that was not biopsied: the
        # testicular involvement stays open (the biopsy's settled_by names the test)
        testis_open = (site.status == "decided" and site.value in ("marrow", "combined")
                       and _value(facts, "rel.testicular_enlargement") == "present"
                       and _value(facts, "rel.testicular_blasts") == "not_done")
        found = RelapseFinding(remission, when, results, workup=_span(episode), window=window,
                               extramedullary=em,
                               open_facts=("rel.testicular_blasts",) if testis_open else (),
                               mrd_note=mrd_note)
        datable = _can_date(when, episode, site.value if site.status == "decided" else None)
        if datable and site.status == "decided" and site.value in CONFIRMED_SITES:
            return found
        # blasts found in the CSF or a testicular biopsy, site not settled (a routine clear
        # lumbar puncture without a marrow that day is not)
        unsettled = site.status == "unknown" and any(
            f is not None and f.value == "present"
            for f in (facts.get("rel.csf_blasts"), facts.get("rel.testicular_blasts")))
        if datable and suspected is None and (unsettled or (
                site.status == "decided" and site.value == "suspected")):
            # keep looking for a confirming work-up; a later 'none' does not undo this date
            suspected = RelapseFinding(
                remission, when, results, unsettled, workup=_span(episode), window=window,
                extramedullary=em,
                open_facts=_open_facts(kb, site.rule_id, facts) if not unsettled else ())
        if datable or last.relapse_date is None:
            last = found
    return suspected if suspected is not None else last


def _remission_after(found: RelapseFinding, timeline: Timeline, base: dict[str, Fact],
                     kb: Knowledge) -> tuple[dt.date | None, tuple[tuple[dt.date, float], ...]]:
    """The first marrow after a confirmed relapse's work-up that the response pack reads as
    CR or CRi (the same criteria as at the front-line checkpoints; progression is measured
    against the relapse marrow), or None; and the marrows before it that the pack reads as
    refractory or progressive (date, blasts). After a relapse that reached the CNS a clear
    CSF near that marrow is needed: CNS1 at diagnosis no longer stands for it."""
    assert found.relapse_date is not None
    end = found.workup[1] if found.workup is not None else found.relapse_date
    at_relapse = next((o for o in timeline.series("marrow_blasts")
                       if found.workup is not None
                       and found.workup[0] <= o.time <= found.workup[1]), None)
    pack = kb.pack("response")
    persisting: list[tuple[dt.date, float]] = []
    for marrow in timeline.series("marrow_blasts"):
        if marrow.time <= end:
            continue
        facts: dict[str, Fact] = {"cp.name": Fact("after_relapse")}
        if "age.years" in base:
            facts["age.years"] = base["age.years"]
        facts.update(marrow_response_facts(
            marrow, timeline, base, at_relapse.value if at_relapse is not None else None,
            (at_relapse.ref,) if at_relapse is not None else (),
            cns1_fallback="cns" not in found.extramedullary))
        response = evaluate_pack(pack, facts)[0]
        if response.status == "decided" and response.value in ("CR", "CRi"):
            return marrow.time, tuple(persisting)
        if response.status == "decided" and response.value in ("refractory", "PD"):
            persisting.append((marrow.time, marrow.value or 0.0))
    return None, tuple(persisting)


def _with_reported_findings(record: PatientRecord, timeline: Timeline,
                            remission: dt.date) -> Timeline:
    """The timeline plus the work-up findings the record gives as symptoms with an onset after
    remission: a symptom whose code the analyte catalogue resolves to a work-up examination
    (``testicular_swelling`` is an alias of ``testicular_enlargement``) is that finding,
    present, on its onset day. Without it a swelling noted only as a symptom read as no
    relapse; with it the work-up around it is read and, without a biopsy, the relapse is
    suspected and the biopsy named. A symptom without an onset, or from before remission
    (at diagnosis), dates nothing here."""
    catalogue = load_catalogue()
    extra: list[NormalObservation] = []
    for i, symptom in enumerate(record.symptoms):
        if isinstance(symptom, str) or symptom.onset is None or symptom.onset <= remission:
            continue
        analyte = catalogue.resolve(symptom.code)
        if analyte is None or analyte.code not in _WORKUP_CODES or analyte.kind == "quantity":
            continue
        day0 = timeline.day0 or symptom.onset
        extra.append(NormalObservation(code=analyte.code, time=symptom.onset,
                                       day=(symptom.onset - day0).days, index=i,
                                       category="present", source="symptoms"))
    if not extra:
        return timeline
    items = sorted((*timeline.items, *extra), key=lambda o: o.time)  # stable: same-day order kept
    return Timeline(timeline.day0, timeline.reference, tuple(items))


def _condition_facts(cond: object) -> list[str]:
    """The facts a rule condition reads, in the order written."""
    if isinstance(cond, (Compare, Match)):
        return [cond.fact]
    if isinstance(cond, Known):
        return [cond.known]
    if isinstance(cond, Not):
        return _condition_facts(cond.not_)
    if isinstance(cond, (AllOf, AnyOf)):
        parts = cond.all if isinstance(cond, AllOf) else cond.any
        return [f for c in parts for f in _condition_facts(c)]
    if isinstance(cond, AtLeast):
        return [f for c in cond.of for f in _condition_facts(c)]
    raise TypeError(f"unknown condition node {type(cond).__name__}")


def _open_facts(kb: Knowledge, rule_id: str | None, facts: dict[str, Fact]) -> tuple[str, ...]:
    """Facts read by the pack rule ``rule_id`` that this work-up left unsettled."""
    rule = next((r for d in kb.pack("relapse").pack.decisions for r in d.rules
                 if r.id == rule_id), None)
    if rule is None:
        return ()
    out: list[str] = []
    for name in _condition_facts(rule.when):
        f = facts.get(name)
        if (f is None or f.value == "not_done") and name not in out:
            out.append(name)
    return tuple(out)


def _value(facts: dict[str, Fact], name: str) -> object:
    f = facts.get(name)
    return f.value if f is not None else None


def _span(episode: dict[str, NormalObservation]) -> tuple[dt.date, dt.date] | None:
    days = [o.time for o in episode.values()]
    return (min(days), max(days)) if days else None
