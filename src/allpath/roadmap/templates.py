"""Protocol templates (format ``allpath.protocol/1``): treatment roadmaps as versioned data.

A template is an ordered list of phases. Each phase states its length (``length_days``, or
``until``: a number of years after the start or end of an earlier phase, for maintenance that
runs "2 years from interim maintenance 1"), optional ``cycle_days`` (components and procedures
repeat every cycle), its drug ``components``, its ``procedures`` (lumbar punctures with
intrathecal therapy, marrow assessments, MRD time points) and its ``decisions`` (checkpoints
whose options name the next phase, another template, or the end).

Days in a template are offsets counted from 0 (the phase's first day), written as integers or
strings: ``"0-27"`` (every offset 0 to 27) and ``"0-83/7"`` (every 7th from 0 to 83). Every
output shows them the way protocols write them, day 1 = the phase's first day (offset + 1), so
the end-of-induction marrow at offset 28 is "day 29".

A component may apply only to some patients (``applies_if``: age on the dose day, weight, BSA,
sex, assessment facts, or a check the record cannot answer); a phase may have a sex-specific
length (``until_by_sex``); a template names its intrathecal dosing scheme and its population
modifications (Down syndrome, older adults). Shared dosing rules (intrathecal doses by age,
infant reductions, pegaspargase by age and BSA, tablet strengths, the vinca warning) live in
``protocols/shared/dosing.yaml`` (:mod:`allpath.roadmap.dosing`).

Every number must be traceable: a phase, component, procedure, decision or eligibility entry
that holds a number must cite at least one id of ``knowledge/citations.yaml``; numbers the fact
sheet marks unconfirmed carry ``evidence: unconfirmed`` and are flagged in every roadmap.
Where the fact sheet gives no dose, a component has no ``dose`` and the roadmap says
"dose per protocol in use". :func:`load_templates` lists every problem with file and path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from allpath.errors import KnowledgeError, Problem, did_you_mean, validation_problems
from allpath.knowledge import knowledge_dir, parse_yaml
from allpath.roadmap.dosing import check_dosing
from allpath.roadmap.parts import Applies, Dose, FactCondition
from allpath.rules.loader import load_citations

__all__ = [
    "PROTOCOL_FORMAT",
    "Applies",
    "Cap",
    "Component",
    "DecisionPoint",
    "Dose",
    "Eligibility",
    "FactCondition",
    "Option",
    "Phase",
    "Procedure",
    "Rounding",
    "Template",
    "Until",
    "check_templates",
    "expand_days",
    "fold_days",
    "load_templates",
]

PROTOCOL_FORMAT = "allpath.protocol/1"
Evidence = Literal["confirmed", "unconfirmed"]
DaySpec = int | str
PER_PROTOCOL = "dose per protocol in use"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _parse_day(spec: DaySpec) -> tuple[int, int, int]:
    """``5`` -> (5, 5, 1); ``"0-27"`` -> (0, 27, 1); ``"0-83/7"`` -> (0, 83, 7)."""
    if isinstance(spec, int):
        return spec, spec, 1
    text = spec.strip()
    step = 1
    if "/" in text:
        text, step_text = text.split("/", 1)
        step = int(step_text)
    if "-" in text:
        a, b = text.split("-", 1)
        lo, hi = int(a), int(b)
    else:
        lo = hi = int(text)
    if lo < 0 or hi < lo or step < 1:
        raise ValueError(f"bad day range {spec!r}")
    return lo, hi, step


@lru_cache(maxsize=4096)
def expand_days(specs: tuple[DaySpec, ...]) -> tuple[int, ...]:
    """Every phase day named by a list of day specs, sorted and without repeats (memoised:
    templates name the same few specs over and over)."""
    out: set[int] = set()
    for s in specs:
        lo, hi, step = _parse_day(s)
        out.update(range(lo, hi + 1, step))
    return tuple(sorted(out))


def fold_days(days: list[int] | tuple[int, ...]) -> str:
    """Sorted day numbers folded into ranges, as protocols write them: [1, 2, 3, 8] -> "1-3, 8"."""
    out: list[str] = []
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1:
            j += 1
        out.append(f"{days[i]}-{days[j]}" if j > i else str(days[i]))
        i = j + 1
    return ", ".join(out)


class _Cited(_Strict):
    cite: tuple[str, ...] = ()
    evidence: Evidence = "confirmed"
    note: str | None = None


class Cap(_Strict):
    amount: float = Field(gt=0)
    unit: Literal["mg", "g", "ug", "U"]


class Rounding(_Strict):
    step: float = Field(gt=0)
    unit: Literal["mg", "g", "ug", "U"]


class Component(_Cited):
    drug: str = Field(min_length=1)
    drug_class: str = Field(alias="class", min_length=1)
    route: Literal["IV", "CIV", "PO", "SC", "IM", "IV/IM", "IT"]
    dose: Dose | None = None
    days: tuple[DaySpec, ...] = ()
    schedule: str | None = None  # words, e.g. "once between day 3 and day 5"
    # doses given on each listed day ("every 12 hours": 2); the dose is per administration
    doses_per_day: int = Field(default=1, ge=1, le=24)
    cap: Cap | None = None
    rounding: Rounding | None = None
    applies_if: Applies | None = None
    max_doses: int | None = Field(default=None, ge=1)  # e.g. "x4" over a cycle phase
    cycles: tuple[int, ...] = ()  # 1-based cycles of a cycle phase it is given in (all if empty)

    @field_validator("days")
    @classmethod
    def _days_parse(cls, v: tuple[DaySpec, ...]) -> tuple[DaySpec, ...]:
        for s in v:
            _parse_day(s)
        return v

    def numbers(self) -> bool:
        return bool(self.dose or self.days or self.cap or self.rounding or self.applies_if)


class Procedure(_Cited):
    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    kind: Literal["lumbar_puncture", "marrow", "blood_mrd", "radiotherapy", "apheresis",
                  "infusion", "assessment"]
    title: str
    days: tuple[DaySpec, ...] = ()
    intrathecal: tuple[str, ...] = ()
    mrd: bool = False
    timepoint: str | None = None  # matches an observation's ``timepoint`` label
    applies_if: Applies | None = None
    cycles: tuple[int, ...] = ()  # 1-based cycles of a cycle phase it is done in (all if empty)

    @field_validator("days")
    @classmethod
    def _days_parse(cls, v: tuple[DaySpec, ...]) -> tuple[DaySpec, ...]:
        for s in v:
            _parse_day(s)
        return v


class Option(_Cited):
    when: str
    next: str  # a phase id of this template, "template:<id>" or "end"
    # where the record already settles the choice (assessment facts; a ``check`` keeps it
    # unsettled but the facts can still rule it out), the dated plan follows this option:
    # with "template:<id>" it continues on that template's phases from ``from_phase``
    # (default: its first phase) instead of this template's remaining ones
    applies_if: Applies | None = None
    from_phase: str | None = None
    # the marrow response this option stands for ("No response: ..." is not_in_remission):
    # the record settles it from the marrow its phase reads (roadmap/responses.py); a
    # reading of the other state rules the option out
    response: Literal["remission", "not_in_remission"] | None = None
    # with ``response: remission``: the marrow MRD (%) of that same marrow must also be below
    # this (an MRD-negative remission); no MRD result on that day leaves the option open
    mrd_below: float | None = Field(default=None, gt=0)


class DecisionPoint(_Cited):
    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    title: str
    day: Literal["end"] | int = "end"
    options: tuple[Option, ...] = Field(min_length=1)


class Until(_Strict):
    years: int = Field(ge=1)
    anchor: str  # an earlier phase id, or the phase's own id with ``at: start``
    at: Literal["start", "end"] = "start"


class Phase(_Cited):
    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    title: str
    kind: Literal["prophase", "induction", "consolidation", "interim_maintenance",
                  "delayed_intensification", "intensification", "maintenance",
                  "immunotherapy", "cellular_therapy", "transplant", "workup"]
    length_days: int | None = Field(default=None, ge=1)
    until: Until | None = None
    until_by_sex: dict[Literal["male", "female"], Until] = Field(default_factory=dict)
    cycle_days: int | None = Field(default=None, ge=1)
    components: tuple[Component, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    decisions: tuple[DecisionPoint, ...] = ()


class Modification(_Cited):
    """A named population adaptation (Down syndrome, older adults): said in every roadmap."""

    label: str = Field(min_length=1)
    applies_if: Applies
    text: str = Field(min_length=1)


class Eligibility(_Cited):
    label: str
    age_min_years: float | None = None
    age_max_years: float | None = None  # inclusive: "up to 25 years"
    line: str | None = None


class Template(_Cited):
    format: Literal["allpath.protocol/1"]
    id: str = Field(pattern=r"^[a-z0-9\-]+$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    title: str
    family: str
    population: str
    description: str
    phases: tuple[Phase, ...] = Field(min_length=1)
    eligibility: tuple[Eligibility, ...] = ()
    intrathecal_dosing: str | None = None  # a scheme of protocols/shared/dosing.yaml
    modifications: tuple[Modification, ...] = ()

    def phase(self, phase_id: str) -> Phase:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise KeyError(phase_id)


# --------------------------------------------------------------------------- validation


def _cited_items(t: Template) -> Iterator[tuple[str, _Cited, bool]]:
    """(path, item, holds_numbers) for everything in a template that may cite."""
    yield "", t, False
    for i, e in enumerate(t.eligibility):
        yield f"eligibility[{i}]", e, e.age_min_years is not None or e.age_max_years is not None
    for i, m in enumerate(t.modifications):
        yield f"modifications[{i}] ({m.label})", m, True
    for pi, p in enumerate(t.phases):
        pp = f"phases[{pi}] ({p.id})"
        yield pp, p, bool(p.length_days or p.until or p.cycle_days)
        for ci, c in enumerate(p.components):
            yield f"{pp}.components[{ci}] ({c.drug})", c, c.numbers()
        for ri, r in enumerate(p.procedures):
            yield f"{pp}.procedures[{ri}] ({r.id})", r, bool(r.days)
        for di, d in enumerate(p.decisions):
            dp = f"{pp}.decisions[{di}] ({d.id})"
            yield dp, d, isinstance(d.day, int)
            for oi, o in enumerate(d.options):
                yield f"{dp}.options[{oi}]", o, False


def _check_one(t: Template, source: str, citations: Mapping[str, object],
               template_ids: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    for path, item, numbers in _cited_items(t):
        for cid in item.cite:
            if cid not in citations:
                problems.append(Problem(f"{path}.cite" if path else "cite",
                                        f"citation {cid!r} does not resolve",
                                        hint=did_you_mean(cid, citations), source=source))
        if numbers and not item.cite:
            problems.append(Problem(path, "a number without a citation",
                                    hint="add cite: [...] with fact-sheet source ids, and "
                                         "evidence: unconfirmed where the fact sheet says so",
                                    source=source))
    if not t.cite:
        problems.append(Problem("cite", "the template must cite its sources", source=source))
    seen: dict[str, int] = {}
    for pi, p in enumerate(t.phases):
        pp = f"phases[{pi}] ({p.id})"
        if p.id in seen:
            problems.append(Problem(pp, f"phase id {p.id!r} is not unique", source=source))
        for sx, u in p.until_by_sex.items():
            own = u.anchor == p.id and u.at == "start"
            if u.anchor not in seen and not own:
                problems.append(Problem(f"{pp}.until_by_sex.{sx}.anchor",
                                        f"anchor {u.anchor!r} is not an earlier phase",
                                        source=source))
        if p.until_by_sex and p.until is None:
            problems.append(Problem(pp, "until_by_sex needs a default until", source=source))
        if (p.length_days is None) == (p.until is None):
            problems.append(Problem(pp, "a phase needs exactly one of length_days or until",
                                    source=source))
        own_start = p.until is not None and p.until.anchor == p.id and p.until.at == "start"
        if p.until is not None and p.until.anchor not in seen and not own_start:
            problems.append(Problem(f"{pp}.until.anchor",
                                    f"anchor {p.until.anchor!r} is not an earlier phase",
                                    hint=did_you_mean(p.until.anchor, seen), source=source))
        seen[p.id] = pi
        span = p.cycle_days or p.length_days
        day_lists: list[tuple[str, tuple[DaySpec, ...]]] = [
            (f"{pp}.components[{ci}]", c.days) for ci, c in enumerate(p.components)
        ] + [(f"{pp}.procedures[{ri}]", r.days) for ri, r in enumerate(p.procedures)]
        for ipath, days in day_lists:
            if span is not None and any(d >= span for d in expand_days(days)):
                problems.append(Problem(f"{ipath}.days", "day beyond the phase (or cycle)",
                                        expected=f"days 0..{span - 1}", source=source))
        for ci, c in enumerate(p.components):
            cp = f"{pp}.components[{ci}]"
            if c.cap is not None and c.dose is not None and c.cap.unit != c.dose.unit:
                problems.append(Problem(f"{cp}.cap.unit", "cap unit differs from dose unit",
                                        expected=c.dose.unit, got=c.cap.unit, source=source))
            if c.rounding is not None and c.dose is not None and c.rounding.unit != c.dose.unit:
                problems.append(Problem(f"{cp}.rounding.unit", "rounding unit differs from "
                                        "dose unit", expected=c.dose.unit, got=c.rounding.unit,
                                        source=source))
            if c.route != "IT" and not c.days and not c.schedule:
                problems.append(Problem(cp, "a component needs days or a schedule",
                                        source=source))
        for di, d in enumerate(p.decisions):
            dp = f"{pp}.decisions[{di}]"
            if isinstance(d.day, int) and span is not None and d.day >= span:
                problems.append(Problem(f"{dp}.day", "day beyond the phase",
                                        expected=f"0..{span - 1}", source=source))
    phase_ids = {p.id for p in t.phases}
    for pi, p in enumerate(t.phases):
        for di, d in enumerate(p.decisions):
            for oi, o in enumerate(d.options):
                path = f"phases[{pi}] ({p.id}).decisions[{di}].options[{oi}].next"
                if o.next == "end" or o.next in phase_ids:
                    continue
                if o.next.startswith("template:"):
                    target = o.next.split(":", 1)[1]
                    if target not in template_ids:
                        problems.append(Problem(path, f"no template {target!r}",
                                                hint=did_you_mean(target, template_ids),
                                                source=source))
                    continue
                problems.append(Problem(path, f"next {o.next!r} is not a phase, "
                                        "'template:<id>' or 'end'",
                                        hint=did_you_mean(o.next, phase_ids), source=source))
    return problems


def check_templates(folder: Path | None = None) -> tuple[dict[str, Template], list[Problem]]:
    """Load every template in ``folder`` (default: the bundled ones) and list all problems."""
    folder = folder if folder is not None else knowledge_dir() / "protocols"
    citations = load_citations()
    problems: list[Problem] = []
    parsed: list[tuple[Template, str]] = []
    for path in sorted(folder.glob("*.yaml")):
        source = f"protocols/{path.name}"
        try:
            doc = parse_yaml(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(Problem("", f"malformed YAML: {exc}", source=source))
            continue
        try:
            parsed.append((Template.model_validate(doc), source))
        except ValidationError as err:
            problems.extend(validation_problems(err, source))
    templates: dict[str, Template] = {}
    for t, source in parsed:
        if t.id in templates:
            problems.append(Problem("id", f"template id {t.id!r} is used twice", source=source))
        templates[t.id] = t
    ids = set(templates)
    dosing, dosing_problems = check_dosing()
    problems.extend(dosing_problems)
    schemes = {s.scheme for s in dosing.intrathecal} if dosing is not None else set()
    for t, source in parsed:
        problems.extend(_check_one(t, source, citations, ids))
        for pi, p in enumerate(t.phases):
            for di, d in enumerate(p.decisions):
                for oi, o in enumerate(d.options):
                    where = f"phases[{pi}] ({p.id}).decisions[{di}].options[{oi}]"
                    target = templates.get(o.next.split(":", 1)[1]) \
                        if o.next.startswith("template:") else None
                    if o.from_phase is not None and target is None:
                        problems.append(Problem(f"{where}.from_phase", "from_phase needs "
                                                "next: template:<id>", source=source))
                    elif o.from_phase is not None and target is not None and \
                            o.from_phase not in {ph.id for ph in target.phases}:
                        problems.append(Problem(f"{where}.from_phase",
                                                f"no phase {o.from_phase!r} in {target.id}",
                                                source=source))
                    if o.applies_if is not None and not o.applies_if.facts:
                        problems.append(Problem(f"{where}.applies_if", "an option's condition "
                                                "reads assessment facts (facts:); a check the "
                                                "record cannot settle may come with them",
                                                source=source))
        if t.intrathecal_dosing is not None and dosing is not None \
                and t.intrathecal_dosing not in schemes:
            problems.append(Problem("intrathecal_dosing",
                                    f"no intrathecal scheme {t.intrathecal_dosing!r}",
                                    hint=did_you_mean(t.intrathecal_dosing, schemes),
                                    source=source))
    return templates, problems


@lru_cache(maxsize=1)
def _bundled() -> dict[str, Template]:
    templates, problems = check_templates()
    if problems:
        raise KnowledgeError(problems, "protocol templates")
    return templates


def load_templates(folder: Path | None = None) -> dict[str, Template]:
    """Templates by id; raises :class:`KnowledgeError` listing every problem found."""
    if folder is None:
        return dict(_bundled())
    templates, problems = check_templates(folder)
    if problems:
        raise KnowledgeError(problems, str(folder))
    return templates
