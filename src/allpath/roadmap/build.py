"""Build a patient's treatment roadmap from an assessment: template, doses, calendar, status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from allpath.errors import AllPathError
from allpath.outputs.assessment import DISCLAIMER, Assessment
from allpath.roadmap.bsa import BodySize, body_size
from allpath.roadmap.calendar import (
    CalendarItem,
    PhaseDates,
    day_by_day,
    phase_items,
    plan_phases,
    to_ics,
)
from allpath.roadmap.doses import compute_dose
from allpath.roadmap.templates import Template, expand_days, load_templates
from allpath.rules.engine import DecisionResult, evaluate_pack
from allpath.rules.facts import Fact

__all__ = ["ROADMAP_FORMAT", "Roadmap", "build_roadmap"]

ROADMAP_FORMAT = "allpath.roadmap/1"
Setting = Literal["frontline", "relapsed", "refractory"]
_NOTE = "Planned from a protocol template; " + DISCLAIMER


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _ranges(dates: list[dt.date]) -> list[dict[str, str]]:
    """Consecutive dates folded into ``{from, to}`` ranges."""
    out: list[dict[str, str]] = []
    if not dates:
        return out
    ds = sorted(set(dates))
    lo = prev = ds[0]
    for d in ds[1:]:
        if (d - prev).days == 1:
            prev = d
            continue
        out.append({"from": lo.isoformat(), "to": prev.isoformat()})
        lo = prev = d
    out.append({"from": lo.isoformat(), "to": prev.isoformat()})
    return out


def _norm(text: str) -> str:
    return text.strip().lower().replace("-", "_").replace(" ", "_")


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
class Roadmap:
    """A patient's roadmap: the chosen template laid out on dates, with doses and checks."""

    assessment: Assessment
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
        return out

    def eligibility(self) -> list[dict[str, Any]]:
        """Age and line-of-therapy limits of the template's products, checked against age."""
        if self.template is None:
            return []
        age_fact = self.assessment.facts.get("age.years")
        age = float(age_fact.value) if age_fact is not None else None  # type: ignore[arg-type]
        out = []
        for e in self.template.eligibility:
            if age is None:
                ok: bool | None = None
            else:
                ok = (e.age_min_years is None or age >= e.age_min_years) and (
                    e.age_max_years is None or age < e.age_max_years + 1)
            out.append({"label": e.label, "age_min_years": e.age_min_years,
                        "age_max_years": e.age_max_years, "line_of_therapy": e.line,
                        "age_ok": ok, "line_of_therapy_check": "confirm with the care team",
                        "cite": list(e.cite), "evidence": e.evidence, "note": e.note})
        return out

    def items(self) -> list[CalendarItem]:
        """Dated procedures and checkpoints (no drug days), extra steps included."""
        out: list[CalendarItem] = list(self.extra)
        for pd in self.phases:
            out.extend(phase_items(pd, drugs=False))
        return sorted(out, key=lambda i: (i.date, i.kind, i.title))

    def calendar(self) -> list[tuple[dt.date, list[CalendarItem]]]:
        """The day-by-day calendar (days with something on them)."""
        return day_by_day(self.phases, self.extra)

    def ics(self) -> bytes:
        """The roadmap as an iCalendar file (all-day events, stable UIDs)."""
        t = self.template
        if t is None:
            raise AllPathError("no template was chosen, so there is no calendar to export")
        rid = self.assessment.record.id
        return to_ics(self.phases, self.extra, uid_prefix=f"{rid}/{t.id}",
                      title=f"ALLPath roadmap {rid}: {t.title}", note=_NOTE)

    # ------------------------------------------------------------------ status
    def _recorded(self, pd: PhaseDates) -> list[dt.date]:
        keys = {_norm(pd.phase.id), _norm(pd.phase.kind), _norm(pd.phase.title)}
        return [ev.start for ev in self.assessment.record.treatment if _norm(ev.phase) in keys]

    def _mrd_done(self, pd: PhaseDates, item: CalendarItem) -> bool:
        code = "mrd_blood" if pd.phase.procedures and any(
            r.id == item.extra.get("procedure") and r.kind == "blood_mrd"
            for r in pd.phase.procedures) else "mrd_marrow"
        tp = item.extra.get("timepoint")
        for o in self.assessment.timeline.series(code):
            if (tp is not None and o.timepoint == tp) or pd.start <= o.time <= pd.end:
                return True
        return False

    def where_now(self, on: dt.date) -> dict[str, Any]:
        """Current phase and day, what is due next and what is overdue on a given date."""
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
                out["phase_day"] = (on - pd.start).days
                out["status"] = (f"{pd.phase.title}, day {(on - pd.start).days} "
                                 f"(of days 0-{pd.length_days - 1})")
        upcoming = [i for i in self.items() if i.date >= on]
        upcoming += [CalendarItem(pd.start, "phase", f"Start: {pd.phase.title}", pd.phase.id,
                                  0, pd.phase.id) for pd in self.phases if pd.start > on]
        upcoming.sort(key=lambda i: (i.date, i.kind != "phase"))
        out["due_next"] = [{"date": i.date.isoformat(), "kind": i.kind, "title": i.title,
                            "phase": i.phase_id} for i in upcoming[:6]]
        overdue: list[dict[str, Any]] = []
        for pd in self.phases:
            if pd.start > on:
                continue
            recorded = self._recorded(pd)
            if not recorded:
                overdue.append({"date": pd.start.isoformat(), "kind": "phase",
                                "title": f"Start of {pd.phase.title}",
                                "reason": "planned start has passed and no treatment event "
                                          "records it"})
            elif min(recorded) != pd.start:
                out.setdefault("shifted", []).append({
                    "phase": pd.phase.id, "planned": pd.start.isoformat(),
                    "recorded": min(recorded).isoformat(),
                    "days": (min(recorded) - pd.start).days})
            for it in phase_items(pd, drugs=False):
                if it.date < on and it.kind == "procedure" and it.extra.get("mrd") \
                        and not self._mrd_done(pd, it):
                    overdue.append({"date": it.date.isoformat(), "kind": "procedure",
                                    "title": it.title,
                                    "reason": "no MRD result in the record for this time point"})
        out["overdue"] = overdue
        out["note"] = ("Lumbar punctures and drug doses are not recorded in the patient record, "
                       "so only phase starts and MRD time points are checked.")
        return out

    # ------------------------------------------------------------------ output
    def _phase_dict(self, pd: PhaseDates) -> dict[str, Any]:
        p = pd.phase
        offsets = list(range(0, pd.length_days, p.cycle_days)) if p.cycle_days else [0]

        def dates(days: tuple[int | str, ...]) -> list[dt.date]:
            return [pd.start + dt.timedelta(days=o + d) for o in offsets
                    for d in expand_days(days) if o + d < pd.length_days]

        bsa_m2, weight = self.body.bsa_m2, self.body.weight_kg
        comps = []
        for c in p.components:
            comps.append({
                "drug": c.drug, "class": c.drug_class, "route": c.route,
                "days": [str(d) for d in c.days], "schedule": c.schedule,
                "dates": _ranges(dates(c.days)),
                "dose": compute_dose(c, bsa_m2, weight).to_dict(),
                "cite": list(c.cite), "evidence": c.evidence, "note": c.note,
            })
        procs = []
        for r in p.procedures:
            procs.append({
                "id": r.id, "kind": r.kind, "title": r.title, "intrathecal": list(r.intrathecal),
                "mrd": r.mrd, "timepoint": r.timepoint,
                "dates": [d.isoformat() for d in dates(r.days)],
                "scheduled": bool(r.days),
                "cite": list(r.cite), "evidence": r.evidence, "note": r.note,
            })
        decs = []
        for dp in p.decisions:
            day = pd.length_days - 1 if dp.day == "end" else min(dp.day, pd.length_days - 1)
            decs.append({
                "id": dp.id, "title": dp.title,
                "date": (pd.start + dt.timedelta(days=day)).isoformat(),
                "options": [{"when": o.when, "next": o.next, "cite": list(o.cite),
                             "evidence": o.evidence} for o in dp.options],
                "cite": list(dp.cite), "evidence": dp.evidence,
            })
        return {
            "id": p.id, "title": p.title, "kind": p.kind, "index": pd.index,
            "start": pd.start.isoformat(), "end": pd.end.isoformat(),
            "length_days": pd.length_days, "cycle_days": p.cycle_days,
            "cite": list(p.cite), "evidence": p.evidence, "note": p.note,
            "components": comps, "procedures": procs, "decisions": decs,
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
            },
            "selection": _result_dict(self.selection),
            "alternatives": list(self.alternatives),
            "start": {"date": _iso(self.start), "source": self.start_source},
            "body_size": self.body.to_dict(),
            "phases": [self._phase_dict(pd) for pd in self.phases],
            "checkpoints": [
                {"date": i.date.isoformat(), "kind": i.kind, "title": i.title,
                 "phase": i.phase_id, "phase_day": i.phase_day}
                for i in self.items() if i.kind == "checkpoint" or i.extra.get("mrd")
            ],
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


def _default_start(a: Assessment) -> tuple[dt.date | None, str]:
    if a.record.treatment:
        return min(ev.start for ev in a.record.treatment), "first treatment event"
    if a.record.diagnosis_date is not None:
        return a.record.diagnosis_date + dt.timedelta(days=1), "diagnosis date + 1 day"
    return None, "unknown (no treatment event and no diagnosis date; give a start date)"


def build_roadmap(
    assessment: Assessment,
    start: dt.date | None = None,
    bsa_formula: str = "mosteller",
    *,
    setting: Setting = "frontline",
    template: str | None = None,
    templates: Mapping[str, Template] | None = None,
) -> Roadmap:
    """Choose a protocol template by the roadmap rule pack and lay it out on dates.

    ``template`` overrides the choice (for example to look at an alternative); the selection
    result is still reported. Missing height or weight leaves per-m2 doses missing, with what
    is needed; no start date (no treatment event, no diagnosis date, none given) leaves the
    roadmap undated.
    """
    kb = assessment.knowledge
    catalogue = dict(templates) if templates is not None else load_templates()
    facts: dict[str, Fact] = dict(assessment.facts)
    facts["roadmap.setting"] = Fact(setting)
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
        start_date, source = _default_start(assessment)
    phases = tuple(plan_phases(tpl, start_date)) if tpl is not None and start_date else ()
    transplant = results.get("roadmap.transplant_indications")
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
    return Roadmap(
        assessment=assessment, setting=setting, template=tpl, selection=selection,
        alternatives=alternatives, transplant=transplant,
        body=body_size(assessment.timeline, bsa_formula), start=start_date,
        start_source=source, phases=phases, extra=tuple(extra),
    )
