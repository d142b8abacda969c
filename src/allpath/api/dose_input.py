"""Is an order's dose a plausible positive number? Checked before the order-sign checks.

A dose that is not (JSON ``true``, a string, ``0``, a negative, ``NaN``, ``Infinity`` or a
mass under one microgram, which no order of the drug map is written in) cannot be compared
with the protocol dose: the hook shows a warning card saying the dose could not be checked,
and the order's other checks (interactions, counts, lumbar puncture) still run without it.
The one-microgram floor is a data-plausibility bound (a unit or typing slip), not a dosing
threshold.
"""

from __future__ import annotations

import contextlib
import copy
import math
import re
from collections.abc import Mapping
from typing import Any

from allpath.units import UnitError, convert

__all__ = ["MIN_PLAUSIBLE_MG", "dose_problem", "without_dose"]

MIN_PLAUSIBLE_MG = 0.001  # one microgram
_MASS = re.compile(r"\s*([a-zA-Zµ]+)\s*(/.*)?")


def _dose_quantity(mr: Mapping[str, Any]) -> Mapping[str, Any] | None:
    try:
        q = mr["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    except (KeyError, IndexError, TypeError):
        return None
    return q if isinstance(q, Mapping) else None


def dose_problem(mr: Mapping[str, Any]) -> str | None:
    """Why the order's ``doseQuantity.value`` is not a plausible dose, or None when it is
    (or when the order has no dose quantity at all, which the checks report themselves)."""
    q = _dose_quantity(mr)
    if q is None or "value" not in q:
        return None
    value = q["value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        shown = "true/false" if isinstance(value, bool) else type(value).__name__
        return f"the dose value is not a number (got {shown})"
    if isinstance(value, int) and abs(value) > 10**12:
        return "the dose value is out of any plausible range"
    if not math.isfinite(value):
        return "the dose value is not a finite number"
    if value <= 0:
        return f"the dose is {value:g}: zero or negative"
    unit = q.get("unit") or q.get("code")
    m = _MASS.fullmatch(unit) if isinstance(unit, str) else None
    if m:
        try:
            mg = convert(float(value), m.group(1).replace("µ", "u"), "mg")
        except UnitError:
            return None
        if mg < MIN_PLAUSIBLE_MG:
            return (f"the dose is {value:g} {str(unit)[:20]}, under one microgram: most likely a "
                    "unit or typing error")
    return None


def without_dose(mr: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the order without its dose quantity (for the checks that do not need it)."""
    out = copy.deepcopy(dict(mr))
    with contextlib.suppress(KeyError, IndexError, TypeError):
        del out["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    return out
