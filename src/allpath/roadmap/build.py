"""Build a patient's treatment roadmap from an assessment: template, doses, calendar, status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal, Protocol

from allpath.disclaimer import DISCLAIMER
from allpath.errors import AllPathError
from allpath.observations.normalise import Timeline
from allpath.record.models import PatientRecord
from allpath.roadmap.bsa import BodySize, body_size
from allpath.roadmap.calendar import (
    CalendarItem,
    PhaseDates,
    component_offsets,
    day_by_day,
    norm_name,
    phase_items,
    plan_phases,
    procedure_offsets,
    to_ics,
)
from allpath.roadmap.doses import compute_dose, vinca_warning
from allpath.roadmap.dosing import Dosing, age_years_on, applies, load_dosing
from allpath.roadmap.responses import Course, MarrowReading, reading_for
from allpath.roadmap.templates import (
    Applies,
    Component,
    DecisionPoint,
    Eligibility,
    Option,
    Phase,
    Procedure,
    Template,
    expand_days,
    load_templates,
)
from allpath.rules.engine import DecisionResult, evaluate_pack
from allpath.rules.facts import Fact
from allpath.rules.loader import Knowledge

__all__ = ["ROADMAP_FORMAT", "Assessed", "Roadmap", "build_roadmap"]

ROADMAP_FORMAT = "allpath.roadmap/1"
#: a dated fact the roadmap works out for each phase (declared in facts.d/roadmap.yaml)
MRD_BY_PHASE_START = "roadmap.marrow_mrd_by_phase_start"
Setting = Literal["frontline", "relapsed", "refractory"]
_NOTE = "Planned from a protocol template; " + DISCLAIMER


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _offset_ranges(start: dt.date, offsets: list[int]) -> list[dict[str, str]]:
    """The dates ``start + offset`` folded into ``{from, to}`` ranges of consecutive days
    (folded on the offsets: no date is made for every day of a long daily schedule)."""
    if not offsets:
        return []
    day0 = start.toordinal()
    return [{"from": _iso_day(day0 + lo), "to": _iso_day(day0 + hi)}
            for lo, hi in _runs(tuple(offsets))]


@lru_cache(maxsize=4096)
def _runs(offsets: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """Runs of consecutive offsets as (first, last) pairs (a template's schedules repeat
    from patient to patient: weekly methotrexate over two years is over a hundred runs)."""
    os_ = sorted(set(offsets))
    out: list[tuple[int, int]] = []
    lo = prev = os_[0]
    for o in os_[1:]:
        if o - prev == 1:
            prev = o
            continue
        out.append((lo, prev))
        lo = prev = o
    out.append((lo, prev))
    return tuple(out)


@lru_cache(maxsize=65536)
def _iso_day(ordinal: int) -> str:
    """The ISO date of a proleptic Gregorian ordinal (the days of one plan repeat across its
    drugs and lumbar punctures)."""
    return dt.date.fromordinal(ordinal).isoformat()


def _result_dict(r: DecisionResult | None) -> dict[str, Any] | None:
    if r is None:
        return None
    value: Any = r.value
    return {
        "decision": r.decision,
        "pack": r.pack,
        "pack_version": r.pack_version,
        "status": r.status,
        "value": value,
        "rule_id": r.rule_id,
        "rules": [h[0] for h in r.hits] if r.hits else ([r.rule_id] if r.rule_id else []),
        "cite": list(r.cite),
        "evidence": r.evidence,
        "provisional": r.provisional,
        "provisional_reason": r.provisional_reason,
        "missing": list(r.missing),
        "possible": [list(p) if isinstance(p, tuple) else p for p in r.possible],
        "note": r.note,
    }


@dataclass(frozen=True)
class _Active:
    """What of a phase applies to this patient (decided at the phase start)."""

    components: tuple[tuple[Component, bool | None, tuple[str, ...]], ...]
    skipped: tuple[tuple[Component, str], ...]
    procedures: tuple[tuple[Procedure, bool | None, tuple[str, ...]], ...]
    age: float | None
    body: BodySize


class Assessed(Protocol):
    """What a roadmap reads of an assessed patient: the record, its timeline, the facts after
    the pathway packs and the knowledge that produced them.

    :class:`allpath.outputs.assessment.Assessment` is one; :func:`allpath.pipeline.assess`
    builds the roadmap stage from the same four before the Assessment exists.
    """

    @property
    def record(self) -> PatientRecord: ...

    @property
    def timeline(self) -> Timeline: ...

    @property
    def facts(self) -> Mapping[str, Fact]: ...

    @property
    def knowledge(self) -> Knowledge: ...


@dataclass(frozen=True)
class Roadmap:
    """A patient's roadmap: the chosen template laid out on dates, with doses and checks."""

    assessment: Assessed
    setting: str
    template: Template | None
    selection: DecisionResult | None
    alternatives: tuple[str, ...]
    transplant: DecisionResult | None
    body: BodySize
    start: dt.date | None
    start_source: str
    phases: tuple[PhaseDates, ...]
    extra: tuple[CalendarItem, ...]
    bsa_formula: str = "mosteller"
    #: the dated marrow responses of the monitoring stage (roadmap/responses.py) that
    #: settle the options naming a ``response``
    readings: tuple[MarrowReading, ...] = ()
    #: the facts of the relapse the plan is for (relapsed setting), as the templates read them
    relapse_facts: tuple[tuple[str, str | bool], ...] = ()
    #: per-instance memo of what a phase's layout computes (applicability, dated items):
    #: the roadmap is immutable, and serialising it reads each phase several times
    _memo: dict[Any, Any] = field(default_factory=dict, init=False, repr=False,
                                  compare=False)

    # ------------------------------------------------------------------ patient
    @property
    def dosing(self) -> Dosing:
        return load_dosing()

    @property
    def sex(self) -> str | None:
        v = str(getattr(self.assessment.record.sex, "value", self.assessment.record.sex))
        return v if v in ("male", "female") else None

    def age_on(self, on: dt.date) -> float | None:
        """Age in years on a date: from the birth date, else from the age at diagnosis."""
        rec = self.assessment.record
        if rec.birth_date is not None:
            return age_years_on(rec.birth_date, on)
        f = self.assessment.facts.get("age.years")
        if f is None or not isinstance(f.value, (int, float)):
            return None
        if rec.diagnosis_date is not None:
            return float(f.value) + (on - rec.diagnosis_date).days / 365.2425
        return float(f.value)

    def _facts(self) -> dict[str, object]:
        facts: dict[str, object] | None = self._memo.get("facts")
        if facts is None:
            facts = self._memo["facts"] = {k: f.value for k, f in
                                           self.assessment.facts.items()}
            if self.setting == "relapsed":  # the relapse's facts (roadmap/responses.Course)
                facts.update(self.relapse_facts)
        return facts

    def _applies(self, a: Applies | None, on: dt.date, body: BodySize
                 ) -> tuple[bool | None, tuple[str, ...]]:
        if a is None:
            return True, ()
        facts = self._facts()
        if any(fc.fact == MRD_BY_PHASE_START for fc in a.facts):
            facts = {**facts, MRD_BY_PHASE_START: self._mrd_by(on)}
        return applies(a, age=self.age_on(on), weight=body.weight_kg, bsa=body.bsa_m2,
                       sex=self.sex, facts=facts, bmi=body.bmi_kg_m2)

    def _mrd_by(self, on: dt.date) -> float | None:
        """The latest marrow MRD result (%) dated on or before ``on`` (fact
        ``roadmap.marrow_mrd_by_phase_start``): a TKI stepped down "once MRD-negative CR is
        reached" reads the result in hand when each phase begins."""
        before = [o for o in self.assessment.timeline.series("mrd_marrow") if o.time <= on]
        return before[-1].value if before else None

    def active(self, pd: PhaseDates) -> _Active:
        """Components and procedures that apply, with the body size at the phase start."""
        if not self._own(pd):
            return self._active(pd)
        key = ("active", pd.index)
        hit: _Active | None = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = self._active(pd)
        return hit

    def _own(self, pd: PhaseDates) -> bool:
        """``pd`` is one of this roadmap's phases (so its derived layout may be memoised)."""
        return 0 <= pd.index < len(self.phases) and self.phases[pd.index] is pd

    def _active(self, pd: PhaseDates) -> _Active:
        body = body_size(self.assessment.timeline, self.bsa_formula, on=pd.start)
        comps: list[tuple[Component, bool | None, tuple[str, ...]]] = []
        skipped: list[tuple[Component, str]] = []
        for c in pd.phase.components:
            ok, needs = self._applies(c.applies_if, pd.start, body)
            if ok is False:
                skipped.append((c, c.applies_if.label if c.applies_if else ""))
            else:
                comps.append((c, ok, needs))
        procs = []
        for r in pd.phase.procedures:
            ok, needs = self._applies(r.applies_if, pd.start, body)
            if ok is not False:
                procs.append((r, ok, needs))
        return _Active(tuple(comps), tuple(skipped), tuple(procs), self.age_on(pd.start), body)

    def intrathecal(self, r: Procedure, on: dt.date) -> list[dict[str, Any]]:
        """Intrathecal doses by age on the day of one lumbar puncture."""
        t = self.template
        if t is None or t.intrathecal_dosing is None or not r.intrathecal:
            return []
        scheme = self.dosing.it_scheme(t.intrathecal_dosing)
        age = self.age_on(on)
        out: list[dict[str, Any]] = []
        for drug in r.intrathecal:
            bands = scheme.drugs.get(drug)
            if bands is None:
                out.append({"drug": drug, "dose_mg": None, "note": "dose per protocol in use"})
                continue
            if age is None and any(b.age_min_years is not None or b.age_below_years is not None
                                   for b in bands):
                out.append({"drug": drug, "dose_mg": None, "needs": ["age (birth date)"]})
                continue
            band = next((b for b in bands if age is None or b.holds(age)), None)
            out.append({"drug": drug, "dose_mg": band.dose_mg if band else None,
                        "scheme": scheme.scheme, "cite": list(scheme.cite),
                        "evidence": scheme.evidence})
        return out

    def _it_text(self, r: Procedure, on: dt.date) -> str:
        parts = []
        for d in self.intrathecal(r, on):
            if d.get("dose_mg") is not None:
                parts.append(f"IT {d['drug']} {d['dose_mg']:g} mg")
            elif d.get("needs"):
                parts.append(f"IT {d['drug']}: needs {', '.join(d['needs'])}")
        return "; ".join(parts)

    def phase_calendar(self, pd: PhaseDates, drugs: bool = True) -> list[CalendarItem]:
        """The phase's dated items that apply to this patient, with IT doses in the detail."""
        if not self._own(pd):
            return self._phase_calendar(pd, drugs)
        key = ("calendar", pd.index, drugs)
        hit: tuple[CalendarItem, ...] | None = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = tuple(self._phase_calendar(pd, drugs))
        return list(hit)

    def _phase_calendar(self, pd: PhaseDates, drugs: bool) -> list[CalendarItem]:
        act = self.active(pd)
        items = phase_items(pd, drugs=drugs, components=tuple(c for c, _, _ in act.components),
                            procedures=tuple(r for r, _, _ in act.procedures))
        by_id = {r.id: r for r in pd.phase.procedures}
        out = []
        for it in items:
            pid = it.extra.get("procedure")
            if isinstance(pid, str) and pid in by_id and by_id[pid].intrathecal:
                text = self._it_text(by_id[pid], it.date)
                if text:
                    it = CalendarItem(it.date, it.kind, it.title, it.phase_id, it.phase_day,
                                      it.uid_key, text, it.end, it.extra)
            out.append(it)
        return out

    # ------------------------------------------------------------------ helpers
    @property
    def transplant_indications(self) -> tuple[str, ...]:
        t = self.transplant
        if t is None or t.status != "decided" or not isinstance(t.value, list):
            return ()
        return tuple(str(v) for v in t.value if v != "none")

    def unconfirmed(self) -> list[dict[str, str]]:
        """Every template item marked ``evidence: unconfirmed`` (and unconfirmed rules)."""
        out: list[dict[str, str]] = []
        if self.selection is not None and self.selection.evidence == "unconfirmed":
            out.append({"path": f"rule {self.selection.rule_id}",
                        "text": "template selection rests on an unconfirmed fact"})
        for rid, _cite, ev in (self.transplant.hits if self.transplant else ()):
            if ev == "unconfirmed":
                out.append({"path": f"rule {rid}", "text": "transplant indication rule is "
                            "unconfirmed"})
        t = self.template
        if t is None:
            return out
        if t.evidence == "unconfirmed":
            out.append({"path": t.id, "text": t.title})
        for p in t.phases:
            if p.evidence == "unconfirmed":
                out.append({"path": f"{p.id}", "text": p.note or f"{p.title}: length or "
                            "content unconfirmed"})
            for c in p.components:
                if c.evidence == "unconfirmed":
                    out.append({"path": f"{p.id}/{c.drug}", "text": c.note or
                                f"{c.drug}: dose or schedule unconfirmed"})
            for r in p.procedures:
                if r.evidence == "unconfirmed":
                    out.append({"path": f"{p.id}/{r.id}", "text": r.note or r.title})
        for e in t.eligibility:
            if e.evidence == "unconfirmed":
                out.append({"path": f"eligibility/{e.label}", "text": e.note or e.label})
        for m in t.modifications:
            if m.evidence == "unconfirmed":
                out.append({"path": f"modification/{m.label}", "text": m.note or m.text})
        d = self.dosing
        if t.intrathecal_dosing is not None:
            s = d.it_scheme(t.intrathecal_dosing)
            if s.evidence == "unconfirmed":
                out.append({"path": f"intrathecal/{s.scheme}", "text": s.note or s.title})
        infant = d.infant_fractions
        if infant.evidence == "unconfirmed" and any(
                a is not None and any(b.holds(a) for b in infant.bands)
                for a in (self.age_on(pd.start) for pd in self.phases)):
            out.append({"path": f"dosing/{d.infant_fractions.id}",
                        "text": d.infant_fractions.note or d.infant_fractions.title})
        return out

    def eligibility(self) -> list[dict[str, Any]]:
        """Age and line-of-therapy limits of the products of every template in the plan that
        names them (the chosen one, or one the plan continues on: blinatumomab without
        remission goes on to CAR-T), each checked against the age on the day that template's
        first phase starts: a label's "up to 25 years of age" is the age when the product is
        given, not at diagnosis (review Z, rvz06). Without a dated plan the age is not checked."""
        out: list[dict[str, Any]] = []
        for tpl, pd in self._eligibility_templates():
            age = None if pd is None else self.age_on(pd.start)
            later = [] if pd is None else [p for p in self.phases[pd.index + 1:]
                                           if getattr(self._template_of(p), "id", None)
                                           == tpl.id]
            for e in tpl.eligibility:
                ok = None if age is None else _age_ok(e, age)
                row: dict[str, Any] = {
                    "label": e.label, "age_min_years": e.age_min_years,
                    "age_max_years": e.age_max_years, "line_of_therapy": e.line,
                    "age_ok": ok, "line_of_therapy_check": "confirm with the care team",
                    "template": tpl.id, "phase": None if pd is None else pd.phase.id,
                    "on": None if pd is None else pd.start.isoformat(),
                    "age_years": None if age is None else round(age, 2),
                    "age_basis": ("age on the first day of " + pd.phase.title
                                  if pd is not None and age is not None else
                                  "not checked: " + ("the plan has no dates (give a start "
                                                     "date)" if pd is None else
                                                     "no birth date or age at diagnosis")),
                    "cite": list(e.cite), "evidence": e.evidence, "note": e.note}
                # a limit crossed before a later phase of the same template starts (25 at
                # apheresis, 26 at the infusion) is said, not decided
                crossed = next((p for p in later if ok is not None
                                and (a := self.age_on(p.start)) is not None
                                and _age_ok(e, a) is not ok), None)
                if crossed is not None:
                    row["age_limit_crossed"] = {
                        "phase": crossed.phase.id, "date": crossed.start.isoformat(),
                        "text": (f"the age limit is no longer met on {crossed.phase.title} "
                                 if ok else f"the age limit is met only from "
                                 f"{crossed.phase.title} ")
                                + f"({crossed.start.isoformat()}): confirm with the care team",
                        "met_from_then": not ok}
                out.append(row)
        return out

    def _eligibility_templates(self) -> list[tuple[Template, PhaseDates | None]]:
        """Each template of the plan that names product limits, with the first laid-out phase
        of it (None for the chosen template of an undated plan)."""
        out: list[tuple[Template, PhaseDates | None]] = []
        seen: set[str] = set()
        for pd in self.phases:
            tpl = self._template_of(pd)
            if tpl is not None and tpl.eligibility and tpl.id not in seen:
                seen.add(tpl.id)
                out.append((tpl, pd))
        if not self.phases and self.template is not None and self.template.eligibility:
            out.append((self.template, None))
        return out

    def _plan_templates(self) -> list[tuple[Template, list[PhaseDates]]]:
        """The chosen template, then each template the dated plan continues on, with the
        phases laid out from it (in plan order)."""
        out: list[tuple[Template, list[PhaseDates]]] = []
        if self.template is not None:
            out.append((self.template, [pd for pd in self.phases
                                        if self._template_of(pd) is self.template]))
        for pd in self.phases:
            tpl = self._template_of(pd)
            if tpl is None:
                continue
            known = next((phases for t, phases in out if t.id == tpl.id), None)
            if known is None:
                out.append((tpl, [pd]))
            elif pd not in known:
                known.append(pd)
        return out

    def modifications(self) -> dict[str, Any]:
        """Population adaptations (Down syndrome, older adults) that apply, of the chosen
        template and of every template the dated plan continues on (an infant plan that goes
        on to the standard-risk backbone has that backbone's Down syndrome note; review EE)."""
        t = self.template
        if t is None:
            return {"applies": [], "possible": [], "none_apply": True, "text": ""}
        applies_: list[dict[str, Any]] = []
        possible: list[dict[str, Any]] = []
        for tpl, tpl_phases in self._plan_templates():
            continued = tpl.id != t.id
            on = (tpl_phases[0].start if tpl_phases
                  else self.start or dt.date.today())
            for m in tpl.modifications:
                first = tpl_phases[0] if tpl_phases else None
                ok, needs = self._applies(m.applies_if, on,
                                          self.active(first).body if first else self.body)
                row: dict[str, Any] = {"label": m.label, "text": m.text, "cite": list(m.cite),
                                       "evidence": m.evidence, "needs": list(needs),
                                       "from": None}
                if continued:
                    row["template"] = tpl.id
                if ok is not True:
                    # one that comes to apply later (a 59-year-old who turns 60 before course
                    # 3B) applies from that phase on, as its doses do
                    later = next((pd for pd in tpl_phases[1:] if self._applies(
                        m.applies_if, pd.start, self.active(pd).body)[0] is True), None)
                    if later is not None:
                        ok, row["needs"] = True, []
                        row["from"] = {"phase": later.phase.id,
                                       "date": later.start.isoformat()}
                if continued and ok and row["from"] is None and first is not None:
                    row["from"] = {"phase": first.phase.id, "date": first.start.isoformat()}
                if ok:
                    applies_.append(row)
                elif ok is None:
                    possible.append(row)
        if not t.modifications and not applies_ and not possible:
            text = "This template names no population modifications."
        elif applies_:
            text = "Modifications that apply: " + "; ".join(
                r["label"] + (f" (from {r['from']['phase']}, {r['from']['date']})"
                              if r["from"] else "") for r in applies_) + "."
            if possible:  # what is still open is said too (review CC, rcc02)
                text += " Still open: " + "; ".join(
                    f"{r['label']} (needs {', '.join(r['needs'])})" for r in possible) + "."
        elif possible:
            text = ("No modification is known to apply; still open: "
                    + "; ".join(f"{r['label']} (needs {', '.join(r['needs'])})"
                                for r in possible) + ".")
        else:
            text = ("None of this template's modifications apply ("
                    + ", ".join(m.label for m in t.modifications) + ").")
        return {"applies": applies_, "possible": possible,
                "none_apply": not applies_, "text": text}

    def anthracyclines(self) -> dict[str, Any]:
        """Cumulative anthracycline dose (mg/m2 and mg) across phases, and the echo checkpoint."""
        d = self.dosing
        rows: list[dict[str, Any]] = []
        total_m2 = 0.0
        total_mg: float | None = 0.0
        uncounted: list[str] = []
        first: dt.date | None = None
        for pd in self.phases:
            act = self.active(pd)
            for c, _ok, _needs in act.components:
                if c.drug_class not in d.anthracyclines.classes:
                    continue
                offsets = component_offsets(pd, c)
                # the echocardiogram comes before the first anthracycline, even one whose
                # dose or days the template leaves to the protocol (then: by the start of its
                # phase; review C, infants)
                day = pd.start + dt.timedelta(days=offsets[0]) if offsets else pd.start
                first = day if first is None or day < first else first
                if c.dose is None or c.dose.basis != "m2":
                    uncounted.append(f"{pd.phase.id}/{c.drug}")
                    continue
                line = compute_dose(c, act.body.bsa_m2, act.body.weight_kg, age_years=act.age,
                                    dosing=d)
                given = len(offsets) * c.doses_per_day
                m2 = c.dose.amount * given
                mg = line.amount * given if line.amount is not None else None
                total_m2 += m2
                if mg is None:
                    total_mg = None
                elif total_mg is not None:
                    total_mg += mg
                rows.append({"phase": pd.phase.id, "drug": c.drug, "doses": given,
                             "mg_m2": m2, "mg": mg, "cumulative_mg_m2": total_m2,
                             "cite": list(c.cite)})
        echo = d.anthracyclines.echo
        return {"by_phase": rows, "cumulative_mg_m2": total_m2,
                "cumulative_mg": round(total_mg, 2) if total_mg is not None else None,
                "not_counted": uncounted,
                "echo": None if first is None else {
                    "date": first.isoformat(), "text": echo.text, "cite": list(echo.cite),
                    "evidence": echo.evidence, "note": echo.note},
                "note": "Doses as planned (BSA at each phase start); drugs are summed as given, "
                        "not converted to doxorubicin equivalents."}

    def items(self) -> list[CalendarItem]:
        """Dated procedures and checkpoints (no drug days), extra steps included."""
        hit: tuple[CalendarItem, ...] | None = self._memo.get("items")
        if hit is None:
            out: list[CalendarItem] = list(self.extra)
            for pd in self.phases:
                out.extend(self.phase_calendar(pd, drugs=False))
            hit = self._memo["items"] = tuple(sorted(out, key=lambda i: (i.date, i.kind,
                                                                         i.title)))
        return list(hit)

    def calendar(self) -> list[tuple[dt.date, list[CalendarItem]]]:
        """The day-by-day calendar (days with something on it)."""
        return day_by_day(self.phases, self.extra,
                          items={pd.index: self.phase_calendar(pd) for pd in self.phases})

    def ics(self, stamp: dt.datetime | None = None) -> bytes:
        """The roadmap as an iCalendar file (all-day events, opaque stable UIDs)."""
        t = self.template
        if t is None:
            raise AllPathError("no template was chosen, so there is no calendar to export")
        rid = self.assessment.record.id
        items = {pd.index: self.phase_calendar(pd, drugs=False) for pd in self.phases}
        details: dict[str, str] = {}  # item details (IT doses) travel in the items themselves
        for pd in self.phases:
            act = self.active(pd)
            warn = [f"{c.drug}: {vinca_warning(c, self.dosing)}" for c, _, _ in act.components
                    if vinca_warning(c, self.dosing)]
            if warn:
                details[f"phase/{pd.phase.id}"] = " ".join(dict.fromkeys(warn))
        return to_ics(self.phases, self.extra, uid_prefix=f"{rid}/{t.id}",
                      title=f"ALLPath roadmap: {t.title}", note=_NOTE, stamp=stamp,
                      details=details, items=items)

    # ------------------------------------------------------------------ status
    def _recorded(self, pd: PhaseDates) -> list[dt.date]:
        """Recorded starts of a planned phase: treatment events named like it (its id, kind
        or title). Failing those, an event under a name none of the plan's phases has
        ("relapse_therapy") that was under way on the planned start stands for it: the
        record says treatment was given then, in words the plan does not use, so the phase
        is not reported as missing (nor as moved: the date is the planned one)."""
        treatment = self.assessment.record.treatment
        keys = {norm_name(pd.phase.id), norm_name(pd.phase.kind), norm_name(pd.phase.title)}
        named = [ev.start for ev in treatment if norm_name(ev.phase) in keys]
        if named:
            return named
        plan = {norm_name(x) for p in self.phases for x in (p.phase.id, p.phase.kind,
                                                          p.phase.title)}
        covering = any(norm_name(ev.phase) not in plan and ev.start <= pd.start
                       and (ev.end is None or ev.end >= pd.start) for ev in treatment)
        return [pd.start] if covering else []

    def _phase_of(self, item: CalendarItem) -> PhaseDates:
        """The laid-out phase a calendar item belongs to (by phase id and date)."""
        return next((pd for pd in self.phases if pd.phase.id == item.phase_id
                     and pd.start <= item.date <= pd.end), self.phases[0])

    @staticmethod
    def _mrd_code(pd: PhaseDates, item: CalendarItem) -> str:
        """``mrd_blood`` for a blood MRD procedure, else ``mrd_marrow``."""
        return "mrd_blood" if any(r.id == item.extra.get("procedure") and r.kind == "blood_mrd"
                                  for r in pd.phase.procedures) else "mrd_marrow"

    def _mrd_done(self, pd: PhaseDates, item: CalendarItem) -> bool:
        code = self._mrd_code(pd, item)
        tp = item.extra.get("timepoint")
        for o in self.assessment.timeline.series(code):
            if (tp is not None and o.timepoint == tp) or pd.start <= o.time <= pd.end:
                return True
        # a marrow whose morphology already shows the leukaemia is not in remission settles
        # the time point: MRD measures what morphology cannot see
        return code == "mrd_marrow" and any(
            m.state == "not_in_remission"
            and (m.checkpoint == tp if tp is not None and m.checkpoint is not None
                 else pd.start <= m.date <= pd.end)
            for m in self.readings)

    def _until(self, pd: PhaseDates) -> dt.date | None:
        """For :func:`decision_reading`: the day before the next laid-out phase's first MRD
        marrow, when it is of the same template."""
        own = self._template_of(pd)
        return None if own is None else next_mrd_day(own.phases, pd.phase, pd.end)

    def _template_of(self, pd: PhaseDates) -> Template | None:
        if pd.template_id is None or (self.template is not None
                                      and pd.template_id == self.template.id):
            return self.template
        return load_templates().get(pd.template_id)

    def _marrow_without_mrd(self, pd: PhaseDates, item: CalendarItem) -> dt.date | None:
        """The date of a marrow examined in the phase (or at the item's time point) that has
        no MRD result, for the overdue reason."""
        if self._mrd_code(pd, item) != "mrd_marrow":
            return None
        tp = item.extra.get("timepoint")
        return next((o.time for o in self.assessment.timeline.series("marrow_blasts")
                     if (tp is not None and o.timepoint == tp)
                     or pd.start <= o.time <= pd.end), None)

    def where_now(self, on: dt.date) -> dict[str, Any]:
        """Current phase and day, what is due next and what is overdue on a given date
        (worked out once per date: the assessment reads it for its output and for the MRD
        time points it lists as missing)."""
        key = ("where_now", on)
        hit: dict[str, Any] | None = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = self._where_now(on)
        # the caller's own top level and lists (the items in them are not changed by anyone)
        return {k: list(v) if isinstance(v, list) else v for k, v in hit.items()}

    def _where_now(self, on: dt.date) -> dict[str, Any]:
        out: dict[str, Any] = {"date": on.isoformat(), "phase": None, "phase_day": None,
                               "status": None, "due_next": [], "overdue": []}
        if not self.phases:
            out["status"] = "no roadmap (no template chosen)"
            return out
        if on < self.phases[0].start:
            out["status"] = f"not started; starts {self.phases[0].start.isoformat()}"
        elif on > self.phases[-1].end:
            out["status"] = "all planned phases completed"
        for pd in self.phases:
            if pd.start <= on <= pd.end:
                out["phase"] = {"id": pd.phase.id, "title": pd.phase.title,
                                "start": pd.start.isoformat(), "end": pd.end.isoformat()}
                out["phase_day"] = (on - pd.start).days + 1
                out["status"] = (f"{pd.phase.title}, day {(on - pd.start).days + 1} "
                                 f"(of days 1-{pd.length_days})")
        upcoming = [i for i in self.items() if i.date >= on
                    and not (i.kind == "procedure" and i.extra.get("mrd")
                             and self._mrd_done(self._phase_of(i), i))]
        upcoming += [CalendarItem(pd.start, "phase", f"Start: {pd.phase.title}", pd.phase.id,
                                  0, pd.phase.id) for pd in self.phases if pd.start > on]
        upcoming.sort(key=lambda i: (i.date, i.kind != "phase"))
        out["due_next"] = [{"date": i.date.isoformat(), "kind": i.kind, "title": i.title,
                            "phase": i.phase_id, "phase_day": i.protocol_day,
                            "detail": i.detail} for i in upcoming[:6]]
        overdue: list[dict[str, Any]] = []
        finished = on > self.phases[-1].end  # therapy over: past time points are history
        for pd in self.phases:
            if pd.start > on or finished:
                continue
            recorded = self._recorded(pd)
            if not recorded:
                overdue.append({"date": pd.start.isoformat(), "kind": "phase",
                                "title": f"Start of {pd.phase.title}",
                                "reason": "planned start has passed and no treatment event "
                                          "records it"})
            elif pd.planned_start is not None:  # the plan moved to the recorded start
                out.setdefault("shifted", []).append({
                    "phase": pd.phase.id, "planned": pd.planned_start.isoformat(),
                    "recorded": pd.start.isoformat(),
                    "days": (pd.start - pd.planned_start).days, "replanned": True})
            elif min(recorded) != pd.start:
                out.setdefault("shifted", []).append({
                    "phase": pd.phase.id, "planned": pd.start.isoformat(),
                    "recorded": min(recorded).isoformat(),
                    "days": (min(recorded) - pd.start).days, "replanned": False})
            for it in self.phase_calendar(pd, drugs=False):
                if it.date < on and it.kind == "procedure" and it.extra.get("mrd") \
                        and not self._mrd_done(pd, it):
                    marrow = self._marrow_without_mrd(pd, it)
                    overdue.append({
                        "date": it.date.isoformat(), "kind": "procedure", "title": it.title,
                        "phase": pd.phase.id, "timepoint": it.extra.get("timepoint"),
                        "reason": ("no MRD result in the record for this time point"
                                   if marrow is None else
                                   f"the marrow of {marrow.isoformat()} has no MRD result "
                                   "in the record")})
        out["overdue"] = overdue
        out["note"] = ("Lumbar punctures and drug doses are not recorded in the patient record, "
                       "so only phase starts and MRD time points are checked.")
        return out

    def _settled(self, o: Option, reading: MarrowReading | None = None) -> bool | None:
        """An option the record settles (its ``applies_if`` on assessment facts, its
        ``response`` on the marrow its decision reads): True when the plan follows it, False
        when the record rules it out, None when not settled."""
        return settled_option(o, self.sex, self._facts(), reading,
                              _marrow_mrd(self.assessment.timeline, reading))

    # ------------------------------------------------------------------ output
    def _phase_dict(self, pd: PhaseDates) -> dict[str, Any]:
        p = pd.phase
        length = pd.length_days
        span = p.cycle_days or length
        offsets = list(range(0, length, p.cycle_days)) if p.cycle_days else [0]

        def dates(days: tuple[int | str, ...], cycles: tuple[int, ...] = ()
                  ) -> list[dt.date]:
            return [pd.start + dt.timedelta(days=o + d) for ci, o in enumerate(offsets)
                    if not cycles or ci + 1 in cycles
                    for d in expand_days(days) if o + d < length]

        act = self.active(pd)
        comps = []
        for c, ok, needs in act.components:
            offs = component_offsets(pd, c)
            line = compute_dose(c, act.body.bsa_m2, act.body.weight_kg, age_years=act.age,
                                dosing=self.dosing)
            comps.append({
                "drug": c.drug, "class": c.drug_class, "route": c.route,
                "days": sorted({o % span + 1 for o in offs}) if offs else [],
                "schedule": c.schedule,
                "dates": _offset_ranges(pd.start, offs),
                "doses": len(offs) * c.doses_per_day, "doses_per_day": c.doses_per_day,
                "applies": {"label": c.applies_if.label, "decided": ok is True,
                            "needs": list(needs)} if c.applies_if else None,
                "dose": line.to_dict(), "warning": line.warning,
                "cite": list(c.cite), "evidence": c.evidence, "note": c.note,
            })
        procs = []
        for r, ok, needs in act.procedures:
            ds = [pd.start + dt.timedelta(days=day) for _ci, _d, day in procedure_offsets(pd, r)]
            procs.append({
                "id": r.id, "kind": r.kind, "title": r.title, "intrathecal": list(r.intrathecal),
                "mrd": r.mrd, "timepoint": r.timepoint,
                "dates": [d.isoformat() for d in ds],
                "days": [(d - pd.start).days + 1 for d in ds],
                "scheduled": bool(r.days),
                "intrathecal_doses": [{"date": d.isoformat(), "day": (d - pd.start).days + 1,
                                       "age_years": (None if self.age_on(d) is None
                                                     else round(self.age_on(d) or 0.0, 2)),
                                       "doses": self.intrathecal(r, d)} for d in ds]
                if r.intrathecal else [],
                "applies": {"label": r.applies_if.label, "decided": ok is True,
                            "needs": list(needs)} if r.applies_if else None,
                "cite": list(r.cite), "evidence": r.evidence, "note": r.note,
            })
        decs = []
        for dp in p.decisions:
            day = pd.length_days - 1 if dp.day == "end" else min(dp.day, pd.length_days - 1)
            reading = decision_reading(
                pd, dp, self.readings, self.phases[0].start if self.phases else None,
                self._until(pd))
            decs.append({
                "id": dp.id, "title": dp.title, "day": day + 1,
                "date": (pd.start + dt.timedelta(days=day)).isoformat(),
                "options": [{"when": o.when, "next": o.next, "cite": list(o.cite),
                             "evidence": o.evidence, "response": o.response,
                             "settled_by_record": self._settled(o, reading)}
                            for o in dp.options],
                "response_read": (reading.to_dict() if reading is not None
                                  and any(o.response for o in dp.options) else None),
                "cite": list(dp.cite), "evidence": dp.evidence,
            })
        sex_rule: dict[str, Any] | None = None
        if p.until_by_sex:
            sex_rule = {"sex": self.sex, "decided": self.sex in p.until_by_sex,
                        "note": ("length by sex: " + ", ".join(
                            f"{k} {u.years} years from the {u.at} of {u.anchor}"
                            for k, u in p.until_by_sex.items())
                            + (f"; otherwise {p.until.years} years from the {p.until.at} of "
                               f"{p.until.anchor}" if p.until else ""))}
            if sex_rule["decided"] is False:
                sex_rule["needs"] = ["sex"]
        return {
            "id": p.id, "title": p.title, "kind": p.kind, "index": pd.index,
            "template": pd.template_id or (self.template.id if self.template else None),
            "start": pd.start.isoformat(), "end": pd.end.isoformat(),
            "length_days": pd.length_days, "cycle_days": p.cycle_days,
            "length_by_sex": sex_rule,
            "body_size": act.body.to_dict(),
            "age_years_at_start": None if act.age is None else round(act.age, 2),
            "cite": list(p.cite), "evidence": p.evidence, "note": p.note,
            "components": comps,
            "not_given": [{"drug": d, "because_not": label} for d, label in dict.fromkeys(
                (c.drug, label) for c, label in act.skipped)],  # once each (step-up lines)
            "procedures": procs, "decisions": decs,
        }

    def to_dict(self) -> dict[str, Any]:
        t = self.template
        tr = _result_dict(self.transplant)
        donor = [i for i in self.extra if i.kind == "checkpoint" and "donor" in i.uid_key]
        return {
            "format": ROADMAP_FORMAT,
            "record_id": self.assessment.record.id,
            "setting": self.setting,
            "template": None if t is None else {
                "id": t.id, "version": t.version, "title": t.title, "family": t.family,
                "population": t.population, "description": t.description,
                "cite": list(t.cite), "evidence": t.evidence,
                "intrathecal_dosing": t.intrathecal_dosing,
            },
            "selection": _result_dict(self.selection),
            "alternatives": list(self.alternatives),
            "start": {"date": _iso(self.start), "source": self.start_source},
            "day_numbering": "day 1 = the first day of each phase",
            "body_size": self.body.to_dict(),
            "phases": [self._phase_dict(pd) for pd in self.phases],
            "checkpoints": [
                {"date": i.date.isoformat(), "kind": i.kind, "title": i.title,
                 "phase": i.phase_id, "phase_day": i.protocol_day}
                for i in self.items() if i.kind == "checkpoint" or i.extra.get("mrd")
            ],
            "anthracyclines": self.anthracyclines(),
            "modifications": self.modifications(),
            "transplant": {
                "indicated": bool(self.transplant_indications),
                "indications": list(self.transplant_indications),
                "decision": tr,
                "donor_search": (
                    {"date": donor[0].date.isoformat(), "title": donor[0].title}
                    if donor else None),
            },
            "eligibility": self.eligibility(),
            "unconfirmed": self.unconfirmed(),
            "disclaimer": DISCLAIMER,
        }


def _age_ok(e: Eligibility, age: float) -> bool:
    """An age within a product's limits: ``age_max_years`` is inclusive ("up to and including
    25 years": eligible until the 26th birthday)."""
    return (e.age_min_years is None or age >= e.age_min_years) and (
        e.age_max_years is None or age < e.age_max_years + 1)


def _default_start(
    a: Assessed, setting: Setting = "frontline", relapse_date: dt.date | None = None
) -> tuple[dt.date | None, str]:
    """The first day of the roadmap when none is given, and where it came from.

    Front line: the first treatment event, else the day after diagnosis. Relapsed or
    refractory: the first treatment event after the relapse, else the day after the relapse;
    without a relapse date, the day after the latest date in the record (never the front-line
    start, which would date the relapse plan years back and dose it from old measurements).
    """
    if setting != "frontline":
        if relapse_date is not None:
            after = [ev.start for ev in a.record.treatment if ev.start > relapse_date]
            if after:
                return min(after), "first treatment event after the relapse"
            return relapse_date + dt.timedelta(days=1), "relapse date + 1 day"
        ref = a.timeline.reference
        if ref is not None:
            return (ref + dt.timedelta(days=1),
                    "day after the latest date in the record (no confirmed relapse date; "
                    "give a start date)")
        return None, "unknown (no relapse date and no dated entry; give a start date)"
    if a.record.treatment:
        return min(ev.start for ev in a.record.treatment), "first treatment event"
    if a.record.diagnosis_date is not None:
        return a.record.diagnosis_date + dt.timedelta(days=1), "diagnosis date + 1 day"
    return None, "unknown (no treatment event and no diagnosis date; give a start date)"


def decision_reading(pd: PhaseDates, dp: DecisionPoint, readings: tuple[MarrowReading, ...],
                     since: dt.date | None = None, until: dt.date | None = None
                     ) -> MarrowReading | None:
    """The marrow reading a decision of a dated phase reads (roadmap/responses.py): the
    phase's checkpoint response when its MRD procedure names a checkpoint, else the latest
    reading within the phase; else the first one after the phase ended and before
    ``until``, the day before the next phase's own response marrow (:func:`next_mrd_day`:
    a marrow taken the day after nelarabine course 1 ended is course 1's response, not
    course 2's, whose marrow comes at its end; review P, rpx04); failing those, a remission
    reached earlier in the plan (from ``since``, its first day), which lasts until a later
    marrow says otherwise (a second remission after course 1 still stands at the end of
    course 2)."""
    if not readings or not any(o.response for o in dp.options):
        return None
    checkpoint = next((r.timepoint for r in pd.phase.procedures
                       if r.mrd and r.timepoint is not None), None)
    found = reading_for(readings, checkpoint, pd.start, pd.end)
    if found is None and checkpoint is None and until is not None:
        found = next((m for m in readings if m.checkpoint is None
                      and pd.end < m.date <= until), None)
    if found is None and checkpoint is None and since is not None:
        earlier = [m for m in readings if m.checkpoint is None and since <= m.date < pd.start]
        if earlier and earlier[-1].state == "remission":
            found = earlier[-1]
    return found


def next_mrd_day(phases: tuple[Phase, ...], phase: Phase, end: dt.date) -> dt.date | None:
    """The day before the next phase's own response marrow would fall, were that phase to
    start the day after ``end`` (the first MRD procedure day of the phase after ``phase`` in
    ``phases``); None when there is no next phase or it schedules no MRD marrow."""
    ids = [p.id for p in phases]
    if phase.id not in ids or ids.index(phase.id) + 1 >= len(phases):
        return None
    nxt = phases[ids.index(phase.id) + 1]
    days = [min(expand_days(r.days)) for r in nxt.procedures if r.mrd and r.days]
    return end + dt.timedelta(days=min(days)) if days else None


def _marrow_mrd(timeline: Timeline, reading: MarrowReading | None) -> float | None:
    """The marrow MRD (%) measured on the day of a marrow reading, if any (the highest when
    several methods were used)."""
    if reading is None:
        return None
    values = [o.value for o in timeline.series("mrd_marrow")
              if o.time == reading.date and o.value is not None]
    return max(values) if values else None


def settled_option(o: Option, sex: str | None, facts: dict[str, object],
                   reading: MarrowReading | None = None,
                   mrd: float | None = None) -> bool | None:
    """Whether the record settles a decision option: False when its facts or the marrow
    reading rule it out, True when every condition it names holds, None when it names none
    or one is not settled (a fact missing, no marrow read yet, no MRD on that marrow for an
    option that needs an MRD-negative remission, a ``check``)."""
    parts: list[bool | None] = []
    if o.applies_if is not None:
        parts.append(applies(o.applies_if, age=None, weight=None, bsa=None, sex=sex,
                             facts=facts)[0])
    if o.response is not None:
        parts.append(None if reading is None else reading.state == o.response)
    if o.mrd_below is not None and reading is not None and reading.state == "remission":
        parts.append(None if mrd is None else mrd < o.mrd_below)
    if not parts:
        return None
    if False in parts:
        return False
    return True if all(p is True for p in parts) else None


def _follow(catalogue: Mapping[str, Template], sex: str | None, facts: dict[str, object],
            readings: tuple[MarrowReading, ...] = (), timeline: Timeline | None = None,
            main: Template | None = None
            ) -> Callable[[PhaseDates], tuple[Template | None, str] | None]:
    """For :func:`plan_phases`: the template a dated phase's settled decision continues on,
    or ``(None, "end")`` when the settled option ends the plan."""
    first: list[dt.date] = []  # the plan's first day (the first phase laid out)

    def follow(pd: PhaseDates) -> tuple[Template | None, str] | None:
        if not first:
            first.append(pd.start)
        own = catalogue.get(pd.template_id) if pd.template_id else main
        until = None if own is None else next_mrd_day(own.phases, pd.phase, pd.end)
        for dp in pd.phase.decisions:
            reading = decision_reading(pd, dp, readings, first[0], until)
            mrd = _marrow_mrd(timeline, reading) if timeline is not None else None
            for o in dp.options:
                if settled_option(o, sex, facts, reading, mrd) is not True:
                    continue
                if o.next.startswith("template:"):
                    other = catalogue[o.next.split(":", 1)[1]]
                    return other, o.from_phase or other.phases[0].id
                if o.next == "end":
                    return None, "end"
        return None

    return follow


def build_roadmap(
    assessment: Assessed,
    start: dt.date | None = None,
    bsa_formula: str = "mosteller",
    *,
    setting: Setting = "frontline",
    template: str | None = None,
    templates: Mapping[str, Template] | None = None,
    relapse_date: dt.date | None = None,
    course: Course | None = None,
) -> Roadmap:
    """Choose a protocol template by the roadmap rule pack and lay it out on dates.

    ``relapse_date`` (a confirmed relapse) dates a relapsed or refractory roadmap from the
    relapse when no ``start`` is given (:func:`_default_start`). ``course`` (from
    :func:`allpath.roadmap.responses.course_of`) gives the marrow readings that settle the
    decision options naming a marrow ``response`` (after "no response" the plan goes on with
    what that option names) and the facts of a confirmed relapse that the relapse HCT
    indications read.

    ``template`` overrides the choice (for example to look at an alternative); the selection
    result is still reported. Missing height or weight leaves per-m2 doses missing, with what
    is needed; no start date (no treatment event, no diagnosis date, none given) leaves the
    roadmap undated.
    """
    kb = assessment.knowledge
    catalogue = dict(templates) if templates is not None else load_templates()
    facts: dict[str, Fact] = dict(assessment.facts)
    facts["roadmap.setting"] = Fact(setting)
    course = course or Course()
    readings = course.readings
    if setting == "relapsed":
        for name, value in course.relapse_facts:
            facts[name] = Fact(value, inputs=("relapse",))
    results = {r.output: r for r in evaluate_pack(kb.pack("roadmap"), facts)}
    selection = results.get("roadmap.template")
    alt_res = results.get("roadmap.alternatives")
    alternatives: tuple[str, ...] = ()
    if alt_res is not None and alt_res.status == "decided" and isinstance(alt_res.value, list):
        alternatives = tuple(str(v) for v in alt_res.value if v != "none")
    chosen = template
    if chosen is None and selection is not None and selection.status == "decided" \
            and isinstance(selection.value, str) and selection.value != "none":
        chosen = selection.value
    if chosen is not None and chosen not in catalogue:
        raise AllPathError(f"no protocol template {chosen!r}; have {sorted(catalogue)}")
    tpl = catalogue[chosen] if chosen is not None else None
    start_date: dt.date | None
    if start is not None:
        start_date, source = start, "given"
    else:
        start_date, source = _default_start(assessment, setting, relapse_date)
    sex_v = str(getattr(assessment.record.sex, "value", assessment.record.sex))
    sex_known = sex_v if sex_v in ("male", "female") else None
    values: dict[str, object] = {k: f.value for k, f in facts.items()}
    relapse_hct = results.get("roadmap.transplant_indications_relapse")
    if setting == "relapsed" and relapse_hct is not None and relapse_hct.status == "decided" \
            and isinstance(relapse_hct.value, list):
        # a relapse template's decision can follow the transplant indication of the second
        # remission (rr-blinatumomab: CR after the induction cycles goes to HCT; review Z)
        values["roadmap.transplant_indications_relapse"] = list(relapse_hct.value)
    # the record's treatment events from the plan's first day move each phase to the day it
    # really began (not when a start date is given: that lays out the template as asked)
    recorded = (sorted(((norm_name(ev.phase), ev.start, ev.end)
                        for ev in assessment.record.treatment
                        if ev.start >= start_date), key=lambda e: e[1])
                if start is None and start_date is not None else [])
    phases = (tuple(plan_phases(tpl, start_date, sex_known,
                                follow=_follow(catalogue, sex_known, values, readings,
                                               assessment.timeline, tpl),
                                recorded=recorded))
              if tpl is not None and start_date else ())
    transplant = results.get("roadmap.transplant_indications_relapse" if setting == "relapsed"
                             else "roadmap.transplant_indications")
    extra: list[CalendarItem] = []
    indications = (tuple(v for v in transplant.value if v != "none")
                   if transplant is not None and transplant.status == "decided"
                   and isinstance(transplant.value, list) else ())
    if indications and phases and tpl is not None and tpl.id != "hsct":
        first = phases[0]
        extra.append(CalendarItem(
            first.end, "checkpoint", "HLA typing and donor search (transplant indication)",
            first.phase.id, first.length_days - 1, "donor-search",
            detail="Indications: " + ", ".join(str(i) for i in indications) + ".",
            extra={"decision": "donor-search"}))
    rm = Roadmap(
        assessment=assessment, setting=setting, template=tpl, selection=selection,
        alternatives=alternatives, transplant=transplant,
        body=body_size(assessment.timeline, bsa_formula), start=start_date,
        start_source=source, phases=phases, extra=tuple(extra), bsa_formula=bsa_formula,
        readings=readings, relapse_facts=course.relapse_facts,
    )
    echo = rm.anthracyclines()["echo"]
    if echo is not None:
        echo_day = dt.date.fromisoformat(echo["date"])
        holder = next(ph for ph in phases if ph.start <= echo_day <= ph.end)
        extra.append(CalendarItem(
            echo_day, "checkpoint", echo["text"], holder.phase.id,
            (echo_day - holder.start).days,
            "echo-before-anthracycline", detail=echo["note"] or "",
            extra={"decision": "echo"}))
        rm = replace(rm, extra=tuple(extra))
    return rm
