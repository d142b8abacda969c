"""Shared dosing rules (``protocols/shared/dosing.yaml``, format ``allpath.dosing/1``).

Rules that hold across templates: intrathecal doses by age on the day of each lumbar puncture,
drug overrides (pegaspargase by BSA and age), the infant dose fractions, tablet strengths for
oral drugs, the vinca-alkaloid route warning, the anthracycline echocardiogram, national
dose bands (shown beside a calculated adult dose, never instead of it) and the vial-rounding
tolerance (the window a pharmacy may round a calculated parenteral dose within, also shown beside
the dose, never applied). Every rule
cites its source; :func:`check_dosing` lists every problem (schema, citations).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from allpath.errors import KnowledgeError, Problem, did_you_mean, validation_problems
from allpath.knowledge import knowledge_dir, parse_yaml
from allpath.roadmap.parts import Applies, Dose
from allpath.rules.loader import load_citations

__all__ = [
    "DOSING_FORMAT",
    "DoseBanding",
    "Dosing",
    "InfantBand",
    "ItBand",
    "RoundingTolerance",
    "age_years_on",
    "check_dosing",
    "load_dosing",
]

DOSING_FORMAT = "allpath.dosing/1"
Evidence = Literal["confirmed", "unconfirmed"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _AgeBand(_Strict):
    """An age band [age_min_years, age_below_years) in years; an open end is None."""

    age_min_years: float | None = None
    age_below_years: float | None = None

    def holds(self, age: float) -> bool:
        return (self.age_min_years is None or age >= self.age_min_years) and (
            self.age_below_years is None or age < self.age_below_years)


class ItBand(_AgeBand):
    dose_mg: float = Field(gt=0)


class ItScheme(_Strict):
    scheme: str
    title: str
    cite: tuple[str, ...] = Field(min_length=1)
    evidence: Evidence = "confirmed"
    note: str | None = None
    drugs: dict[str, tuple[ItBand, ...]]


class Override(_Strict):
    id: str
    drug: str
    applies_if: Applies
    dose: Dose
    cite: tuple[str, ...] = Field(min_length=1)
    evidence: Evidence = "confirmed"
    note: str | None = None


class InfantBand(_AgeBand):
    numerator: int = Field(ge=1)
    denominator: int = Field(ge=1)
    label: str

    @property
    def factor(self) -> float:
        return self.numerator / self.denominator


class InfantFractions(_Strict):
    id: str
    title: str
    cite: tuple[str, ...] = Field(min_length=1)
    evidence: Evidence = "confirmed"
    note: str | None = None
    exclude_classes: tuple[str, ...] = ()
    bands: tuple[InfantBand, ...] = Field(min_length=1)


class Tablet(_Strict):
    drug: str
    route: str = "PO"
    strength_mg: float = Field(gt=0)
    cite: tuple[str, ...] = Field(min_length=1)


class VincaWarning(_Strict):
    classes: tuple[str, ...]
    text: str
    cite: tuple[str, ...] = Field(min_length=1)


class Echo(_Strict):
    text: str
    cite: tuple[str, ...] = Field(min_length=1)
    evidence: Evidence = "confirmed"
    note: str | None = None


class Anthracyclines(_Strict):
    classes: tuple[str, ...]
    echo: Echo


class Band(_Strict):
    """One row of a dose-banding table: calculated doses in [from_mg, below_mg) get band_mg."""

    from_mg: float = Field(gt=0)
    below_mg: float = Field(gt=0)
    band_mg: float = Field(gt=0)


class DoseBanding(_Strict):
    """A published dose-banding table for some drugs (adults only where the source says so)."""

    id: str
    title: str
    drugs: tuple[str, ...] = Field(min_length=1)
    age_min_years: float | None = None
    cite: tuple[str, ...] = Field(min_length=1)
    note: str | None = None
    bands: tuple[Band, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _contiguous(self) -> DoseBanding:
        prev: Band | None = None
        for b in self.bands:
            if not b.from_mg <= b.band_mg < b.below_mg:
                raise ValueError(f"band {b.band_mg} mg is outside its row "
                                 f"[{b.from_mg}, {b.below_mg})")
            if prev is not None and b.from_mg != prev.below_mg:
                raise ValueError(f"bands are not contiguous: {prev.below_mg} mg then "
                                 f"{b.from_mg} mg")
            prev = b
        return self

    def band(self, amount_mg: float) -> Band | None:
        """The row holding a calculated dose (None outside the table)."""
        for b in self.bands:
            if b.from_mg <= amount_mg < b.below_mg:
                return b
        return None


class RoundingTolerance(_Strict):
    """How far a pharmacy may round a calculated parenteral dose (to a vial size): shown as a
    window beside the dose, never applied to it; the institution's policy decides."""

    id: str
    title: str
    percent: float = Field(gt=0, lt=100)
    routes: tuple[str, ...] = Field(min_length=1)
    bases: tuple[Literal["m2", "kg"], ...] = ("m2", "kg")
    exclude_classes: tuple[str, ...] = ()
    cite: tuple[str, ...] = Field(min_length=1)
    evidence: Evidence = "confirmed"
    note: str | None = None

    def window(self, amount: float, cap: float | None) -> tuple[float, float]:
        """The doses within the tolerance of ``amount``; the top never passes a cap."""
        lo = amount * (1 - self.percent / 100)
        hi = amount * (1 + self.percent / 100)
        return lo, hi if cap is None else min(hi, cap)


class Dosing(_Strict):
    format: Literal["allpath.dosing/1"]
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    intrathecal: tuple[ItScheme, ...]
    overrides: tuple[Override, ...] = ()
    infant_fractions: InfantFractions
    tablets: tuple[Tablet, ...] = ()
    vinca_warning: VincaWarning
    anthracyclines: Anthracyclines
    dose_banding: tuple[DoseBanding, ...] = ()
    rounding_tolerance: RoundingTolerance | None = None

    def banding(self, drug: str) -> DoseBanding | None:
        for t in self.dose_banding:
            if drug in t.drugs:
                return t
        return None

    def it_scheme(self, name: str) -> ItScheme:
        for s in self.intrathecal:
            if s.scheme == name:
                return s
        raise KeyError(name)

    def tablet(self, drug: str, route: str) -> Tablet | None:
        for t in self.tablets:
            if t.drug == drug and t.route == route:
                return t
        return None


def _cites(d: Dosing) -> list[tuple[str, tuple[str, ...]]]:
    out: list[tuple[str, tuple[str, ...]]] = []
    out += [(f"intrathecal[{s.scheme}]", s.cite) for s in d.intrathecal]
    out += [(f"overrides[{o.id}]", o.cite) for o in d.overrides]
    out.append(("infant_fractions", d.infant_fractions.cite))
    out += [(f"tablets[{t.drug}]", t.cite) for t in d.tablets]
    out.append(("vinca_warning", d.vinca_warning.cite))
    out.append(("anthracyclines.echo", d.anthracyclines.echo.cite))
    out += [(f"dose_banding[{t.id}]", t.cite) for t in d.dose_banding]
    if d.rounding_tolerance is not None:
        out.append(("rounding_tolerance", d.rounding_tolerance.cite))
    return out


def check_dosing(path: Path | None = None) -> tuple[Dosing | None, list[Problem]]:
    """Load and check the shared dosing file; every problem with its path."""
    path = path if path is not None else knowledge_dir() / "protocols" / "shared" / "dosing.yaml"
    source = f"protocols/shared/{path.name}"
    try:
        doc = parse_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return None, [Problem("", f"malformed YAML: {exc}", source=source)]
    try:
        d = Dosing.model_validate(doc)
    except ValidationError as err:
        return None, validation_problems(err, source)
    citations = load_citations()
    problems = [Problem(f"{where}.cite", f"citation {cid!r} does not resolve",
                        hint=did_you_mean(cid, citations), source=source)
                for where, cites in _cites(d) for cid in cites if cid not in citations]
    return d, problems


@lru_cache(maxsize=1)
def _bundled() -> Dosing:
    d, problems = check_dosing()
    if problems or d is None:
        raise KnowledgeError(problems, "protocols/shared/dosing.yaml")
    return d


def load_dosing() -> Dosing:
    """The bundled shared dosing rules; raises :class:`KnowledgeError` on any problem."""
    return _bundled()


@lru_cache(maxsize=8192)
def age_years_on(birth: dt.date, on: dt.date) -> float:
    """Calendar-exact age in years: completed months / 12 plus the fraction of the month
    (kept for recent pairs: a roadmap asks for the same dates again and again, for each
    lumbar puncture's dose and for its phase)."""
    months = (on.year - birth.year) * 12 + (on.month - birth.month)
    if on.day < birth.day:
        months -= 1
    y, m = divmod(birth.month - 1 + months, 12)
    anchor = _safe_date(birth.year + y, m + 1, birth.day)
    y2, m2 = divmod(birth.month + months, 12)
    nxt = _safe_date(birth.year + y2, m2 + 1, birth.day)
    frac = (on - anchor).days / max(1, (nxt - anchor).days)
    return (months + frac) / 12.0


def _safe_date(year: int, month: int, day: int) -> dt.date:
    while True:
        try:
            return dt.date(year, month, day)
        except ValueError:
            day -= 1


def _fact_holds(value: object, op: str | None, target: object, in_: tuple[str, ...] | None
                ) -> bool:
    if in_ is not None:  # a list fact (transplant indications): any of its values
        if isinstance(value, (list, tuple, set, frozenset)):
            return any(str(v) in in_ for v in value)
        return str(value) in in_
    if op == "contains":
        return isinstance(value, (list, tuple, set, frozenset)) and target in value
    if op is None or op == "==":
        return value == target
    if not isinstance(value, (int, float)) or not isinstance(target, (int, float)):
        return False
    v, t = float(value), float(target)
    return {"<": v < t, "<=": v <= t, ">": v > t, ">=": v >= t}[op]


def applies(a: Applies, *, age: float | None, weight: float | None, bsa: float | None,
            sex: str | None, facts: dict[str, object], bmi: float | None = None,
            ) -> tuple[bool | None, tuple[str, ...]]:
    """Three-valued: True, False or None (unknown) with what is needed to decide.

    A ``check`` the record cannot answer keeps the answer unknown when everything else holds.
    """
    needs: list[str] = []
    verdicts: list[bool] = []

    def num(value: float | None, lo: float | None, below: float | None, what: str) -> None:
        if lo is None and below is None:
            return
        if value is None:
            needs.append(what)
            return
        verdicts.append((lo is None or value >= lo) and (below is None or value < below))

    num(age, a.age_min_years, a.age_below_years, "age (birth date)")
    num(weight, a.weight_min_kg, a.weight_below_kg, "weight (kg)")
    num(bsa, a.bsa_min_m2, a.bsa_below_m2, "height (cm) and weight (kg)")
    num(bmi, a.bmi_min, None, "height (cm) and weight (kg)")
    if a.sex is not None:
        if sex in ("male", "female"):
            verdicts.append(sex == a.sex)
        else:
            needs.append("sex")
    for fc in a.facts:
        if fc.fact not in facts or facts[fc.fact] is None:
            needs.append(fc.fact)
        else:
            verdicts.append(_fact_holds(facts[fc.fact], fc.op, fc.value, fc.in_))
    if not all(verdicts):
        return False, ()
    if a.check is not None:
        needs.append(a.check)
    if needs:
        return None, tuple(needs)
    return True, ()
