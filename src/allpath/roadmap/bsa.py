"""Body-surface area (H in cm, W in kg, BSA in m2) by the formulas of fact sheet section 10.1.

Mosteller is the default; DuBois & DuBois, Haycock and Gehan & George can be chosen. The
formula is always named in the output, because protocols specify which one applies [S33].
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

from allpath.observations.normalise import Timeline

__all__ = ["FORMULAS", "BodySize", "BsaFormula", "body_size", "bsa"]


@dataclass(frozen=True, slots=True)
class BsaFormula:
    name: str
    title: str
    expression: str
    compute: Callable[[float, float], float]
    cite: tuple[str, ...] = ("S42",)


FORMULAS: dict[str, BsaFormula] = {
    "mosteller": BsaFormula("mosteller", "Mosteller (1987)", "sqrt(H x W / 3600)",
                            lambda h, w: math.sqrt(h * w / 3600.0)),
    "dubois": BsaFormula("dubois", "DuBois & DuBois (1916)", "0.007184 x W^0.425 x H^0.725",
                         lambda h, w: 0.007184 * w**0.425 * h**0.725),
    "haycock": BsaFormula("haycock", "Haycock (1978)", "0.024265 x W^0.5378 x H^0.3964",
                          lambda h, w: 0.024265 * w**0.5378 * h**0.3964),
    "gehan-george": BsaFormula("gehan-george", "Gehan & George (1970)",
                               "0.0235 x W^0.51456 x H^0.42246",
                               lambda h, w: 0.0235 * w**0.51456 * h**0.42246),
}


def bsa(height_cm: float, weight_kg: float, formula: str = "mosteller") -> float:
    """Body-surface area in m2 (unrounded)."""
    if formula not in FORMULAS:
        raise ValueError(f"unknown BSA formula {formula!r}; choose one of {sorted(FORMULAS)}")
    if height_cm <= 0 or weight_kg <= 0:
        raise ValueError("height and weight must be positive")
    return FORMULAS[formula].compute(height_cm, weight_kg)


@dataclass(frozen=True, slots=True)
class BodySize:
    """Latest height and weight of a record and the BSA computed from them."""

    formula: BsaFormula
    height_cm: float | None
    height_date: dt.date | None
    weight_kg: float | None
    weight_date: dt.date | None

    @property
    def bsa_m2(self) -> float | None:
        if self.height_cm is None or self.weight_kg is None:
            return None
        return self.formula.compute(self.height_cm, self.weight_kg)

    @property
    def bmi_kg_m2(self) -> float | None:
        """Body-mass index: weight (kg) over height (m) squared."""
        if self.height_cm is None or self.weight_kg is None or self.height_cm <= 0:
            return None
        # rounded at 1e-9 so that a BMI of exactly 30 (76.8 kg at 160 cm) is not read as
        # 29.999999999999993 by a "30 or more" condition (review FF, rff12)
        return round(self.weight_kg * 10000.0 / (self.height_cm * self.height_cm), 9)

    @property
    def missing(self) -> tuple[str, ...]:
        out = []
        if self.height_cm is None:
            out.append("height (cm)")
        if self.weight_kg is None:
            out.append("weight (kg)")
        return tuple(out)

    def to_dict(self) -> dict[str, object]:
        b = self.bsa_m2
        return {
            "formula": self.formula.name,
            "formula_title": self.formula.title,
            "expression": self.formula.expression,
            "cite": list(self.formula.cite),
            "height_cm": self.height_cm,
            "height_date": self.height_date.isoformat() if self.height_date else None,
            "weight_kg": self.weight_kg,
            "weight_date": self.weight_date.isoformat() if self.weight_date else None,
            "bsa_m2": round(b, 3) if b is not None else None,
            "bmi_kg_m2": round(bmi, 1) if (bmi := self.bmi_kg_m2) is not None else None,
            "missing": list(self.missing),
        }


def body_size(timeline: Timeline, formula: str = "mosteller", on: dt.date | None = None
              ) -> BodySize:
    """The latest ``height`` (cm) and ``weight`` (kg) observations of a timeline.

    With ``on``, the latest measured on or before that date (a phase start), so the BSA is
    recalculated at each phase; when none was measured by then, the first one measured.
    """
    if formula not in FORMULAS:
        raise ValueError(f"unknown BSA formula {formula!r}; choose one of {sorted(FORMULAS)}")
    h = [o for o in timeline.series("height") if o.value is not None]
    w = [o for o in timeline.series("weight") if o.value is not None]
    if on is not None:
        h = [o for o in h if o.time <= on] or h[:1]
        w = [o for o in w if o.time <= on] or w[:1]
    return BodySize(
        formula=FORMULAS[formula],
        height_cm=h[-1].value if h else None,
        height_date=h[-1].time if h else None,
        weight_kg=w[-1].value if w else None,
        weight_date=w[-1].time if w else None,
    )
