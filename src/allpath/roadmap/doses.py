"""Dose lines: per-m2, per-kg or flat amounts turned into a dose a pharmacist can check.

Order of work (each step is stated in the line): the template's dose; a shared override when
it applies (pegaspargase 82.5 U/kg below 0.6 m2, 2,000 U/m2 above 21 years); the infant
fraction for per-m2 chemotherapy (2/3 under 6 months, 3/4 at 6-12 months); oral tablets as a
weekly total of whole tablets; the template's rounding; then the cap, so a cap always holds.
Vinca alkaloids carry their route warning on every line. Where a published dose-banding table
covers the drug (adults, BSA-calculated doses), the band is shown beside the dose, never
instead of it. A per-m2 or per-kg parenteral dose also shows the window a pharmacy may round it
within (to a vial size) under its dose-rounding policy (HOPA: within 10%); the window never
passes the cap and is never applied to the dose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from allpath.roadmap.dosing import Dosing, applies, load_dosing
from allpath.roadmap.templates import PER_PROTOCOL, Component, Dose

__all__ = ["VERIFY", "DoseLine", "compute_dose", "vinca_warning"]

VERIFY = "verify against the protocol in use"
_DISPLAY_DECIMALS = 2


def _fmt(x: float, decimals: int = _DISPLAY_DECIMALS) -> str:
    return f"{x:.{decimals}f}".rstrip("0").rstrip(".")


def _window_decimals(unit: str) -> int:
    """Decimals of a rounding window: to 0.01 of the unit, but to the milligram for a dose in
    grams (2 decimals of a gram would move the window by up to 5 mg)."""
    return 3 if unit == "g" else _DISPLAY_DECIMALS


@dataclass(frozen=True, slots=True)
class DoseLine:
    """One component's dose for one patient. ``amount`` is None when not computed."""

    status: str  # computed | per_protocol | missing
    amount: float | None
    unit: str | None
    prescribed: str
    capped: bool
    cap: str | None
    rounding: str
    needs: tuple[str, ...]
    text: str
    modifiers: tuple[str, ...] = ()
    tablets: str | None = None
    warning: str | None = None
    cite: tuple[str, ...] = ()
    calculated: float | None = None  # before tablet or vial rounding, after the cap
    band: str | None = None  # the national dose band where one applies and differs
    rounding_window: tuple[float, float] | None = None  # vial rounding allowed, never applied

    def to_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "amount": self.amount,
            "unit": self.unit,
            "prescribed": self.prescribed,
            "capped": self.capped,
            "cap": self.cap,
            "rounding": self.rounding,
            "needs": list(self.needs),
            "modifiers": list(self.modifiers),
            "tablets": self.tablets,
            "warning": self.warning,
            "cite": list(self.cite),
            "calculated": self.calculated,
            "band": self.band,
            "rounding_window": (None if self.rounding_window is None else
                                {"low": self.rounding_window[0],
                                 "high": self.rounding_window[1]}),
            "text": self.text,
        }


def vinca_warning(c: Component, dosing: Dosing | None = None) -> str | None:
    """The route warning for vinca alkaloids (None for other classes)."""
    d = dosing if dosing is not None else load_dosing()
    return d.vinca_warning.text if c.drug_class in d.vinca_warning.classes else None


def _prescribed(d: Dose) -> str:
    basis = {"m2": "/m2", "kg": "/kg", "flat": ""}[d.basis]
    return f"{_fmt(d.amount)} {d.unit}{basis}{'/day' if d.per_day else ''}"


def _tablet_plan(amount_mg: float, strength: float, per_day: bool) -> tuple[float, str]:
    """Whole tablets: a daily dose becomes a weekly total spread over 7 days."""
    if not per_day:
        n = max(1, round(amount_mg / strength))
        dev = (n * strength - amount_mg) / amount_mg * 100 if amount_mg else 0.0
        return n * strength, (f"{n} x {_fmt(strength)} mg tablet(s) = {_fmt(n * strength)} mg "
                              f"({dev:+.0f}% of the calculated {_fmt(amount_mg)} mg)")
    weekly = amount_mg * 7
    n = max(1, round(weekly / strength))
    base, extra = divmod(n, 7)
    parts = []
    if extra:
        parts.append(f"{base + 1} tablet(s) on {extra} day(s)")
    if 7 - extra:
        parts.append(f"{base} tablet(s) on {7 - extra} day(s)" if base else
                     f"none on {7 - extra} day(s)")
    total = n * strength
    dev = (total - weekly) / weekly * 100 if weekly else 0.0
    return total / 7, (f"{n} x {_fmt(strength)} mg tablets a week = {_fmt(total)} mg/week "
                       f"({'; '.join(parts)}; {dev:+.0f}% of the calculated "
                       f"{_fmt(weekly)} mg/week)")


def compute_dose(c: Component, bsa_m2: float | None, weight_kg: float | None, *,
                 age_years: float | None = None, dosing: Dosing | None = None) -> DoseLine:
    """Compute a component's dose for one patient (see the module docstring for the order)."""
    rules = dosing if dosing is not None else load_dosing()
    warning = vinca_warning(c, rules)
    if c.dose is None:
        text = f"{PER_PROTOCOL}; {VERIFY}"
        if warning:
            text = f"{warning} {text}"
        return DoseLine("per_protocol", None, None, PER_PROTOCOL, False, _cap_text(c),
                        "not applicable", (), text, warning=warning)
    d = c.dose
    modifiers: list[str] = []
    cites: list[str] = []
    facts: dict[str, object] = {}
    for o in rules.overrides:
        if o.drug != c.drug:
            continue
        ok, _needs = applies(o.applies_if, age=age_years, weight=weight_kg, bsa=bsa_m2,
                             sex=None, facts=facts)
        if ok:
            d = o.dose
            modifiers.append(f"{o.applies_if.label}: {_prescribed(o.dose)} instead of "
                             f"{_prescribed(c.dose)}")
            cites.extend(o.cite)
            break
    prescribed = _prescribed(c.dose)
    factor = 1.0
    inf = rules.infant_fractions
    if d.basis == "m2" and age_years is not None and c.drug_class not in inf.exclude_classes:
        for band in inf.bands:
            if band.holds(age_years):
                factor = band.factor
                modifiers.append(f"infant: {band.label}"
                                 + (" (unconfirmed)" if inf.evidence == "unconfirmed" else ""))
                cites.extend(inf.cite)
                break
    needs: tuple[str, ...]
    size: float | None
    if d.basis == "m2":
        size, needs = bsa_m2, ("height (cm)", "weight (kg)")
    elif d.basis == "kg":
        size, needs = weight_kg, ("weight (kg)",)
    else:
        size, needs = 1.0, ()
    tab = rules.tablet(c.drug, c.route) if d.unit == "mg" else None
    if tab is not None:
        rounding = (f"whole {_fmt(tab.strength_mg)} mg tablets"
                    + (", as a weekly total" if d.per_day else ""))
    elif c.rounding is not None:
        rounding = f"rounded to the nearest {_fmt(c.rounding.step)} {c.rounding.unit}"
    else:
        rounding = (f"shown to {_DISPLAY_DECIMALS} decimals; apply the rounding of the "
                    "protocol in use")
    if size is None:
        text = (f"{prescribed}: dose missing, needs {' and '.join(needs)}; {VERIFY}")
        if warning:
            text = f"{warning} {text}"
        return DoseLine("missing", None, d.unit, prescribed, False, _cap_text(c), rounding,
                        needs, text, tuple(modifiers), None, warning, tuple(cites))
    raw = d.amount * size * factor
    tablets: str | None = None
    if tab is not None:
        value, tablets = _tablet_plan(raw, tab.strength_mg, d.per_day)
        cites.extend(tab.cite)
    elif c.rounding is not None:
        step = c.rounding.step
        value = round(raw / step) * step
    else:
        value = raw
    value = round(value, _DISPLAY_DECIMALS)
    capped = False
    if c.cap is not None and value > c.cap.amount:
        value, capped = c.cap.amount, True
    if not math.isfinite(value):
        raise ValueError("dose is not finite")
    per_day = "/day" if d.per_day else ""
    text = f"{_fmt(value)} {d.unit}{per_day} ({_prescribed(d)}"
    if d.basis == "m2":
        text += f" x {size:.2f} m2"
    elif d.basis == "kg":
        text += f" x {_fmt(size)} kg"
    else:
        text += " flat dose"
    if factor != 1.0:
        text += f" x {_fmt(factor)}"
    text += ")"
    if modifiers:
        text += f" [{'; '.join(modifiers)}]"
    if capped and c.cap is not None:
        text += f", capped at {_fmt(c.cap.amount)} {c.cap.unit}"
    elif c.cap is not None:
        text += f", cap {_fmt(c.cap.amount)} {c.cap.unit}"
    if tablets:
        text += f"; {tablets}"
    calculated = min(raw, c.cap.amount) if c.cap is not None else raw
    band_text = _band_text(c, d, calculated, age_years, rules)
    if band_text is not None:
        text += f"; {band_text}"
        cites.extend(_banding_cites(c, rules))
    window = _rounding_window(c, d, calculated, tab is not None, rules)
    if window is not None and rules.rounding_tolerance is not None:
        t = rules.rounding_tolerance
        k = _window_decimals(d.unit)
        text += (f"; vial rounding within {_fmt(t.percent)}%: {_fmt(window[0], k)}-"
                 f"{_fmt(window[1], k)} {d.unit}{per_day} where the pharmacy's dose-rounding "
                 "policy allows")
        cites.extend(t.cite)
    text += f"; {rounding}; {VERIFY}"
    if warning:
        text = f"{warning} {text}"
    return DoseLine("computed", value, d.unit, prescribed, capped, _cap_text(c), rounding,
                    (), text, tuple(modifiers), tablets, warning, tuple(dict.fromkeys(cites)),
                    calculated, band_text, window)


def _rounding_window(c: Component, d: Dose, calculated: float, tablets: bool,
                     rules: Dosing) -> tuple[float, float] | None:
    """The doses a pharmacy may round a dose to (a per-m2 or per-kg parenteral dose without a
    rounding of its own), as the shared tolerance gives them; None where it does not apply.

    The window is taken from the calculated (capped) dose, not from the dose shown to 2
    decimals, and rounded inward (low end up, high end down), so the window shown never
    reaches outside the tolerance: 1.056 mg gives 0.96-1.16 mg, not 0.95-1.17 mg (+10.8%)."""
    t = rules.rounding_tolerance
    if (t is None or tablets or c.rounding is not None or d.basis not in t.bases
            or c.route not in t.routes or c.drug_class in t.exclude_classes
            or calculated <= 0):
        return None
    lo, hi = t.window(calculated, c.cap.amount if c.cap is not None else None)
    scale = 10 ** _window_decimals(d.unit)
    # the 1e-9 absorbs binary error (0.9 x 2 = 1.8000000000000003 must stay 1.8)
    return (math.ceil(lo * scale - 1e-9) / scale, math.floor(hi * scale + 1e-9) / scale)


def _banding_cites(c: Component, rules: Dosing) -> tuple[str, ...]:
    t = rules.banding(c.drug)
    return t.cite if t is not None else ()


def _band_text(c: Component, d: Dose, value: float, age_years: float | None,
               rules: Dosing) -> str | None:
    """The national dose band of an adult's BSA-calculated dose (``value``: the calculated,
    capped dose, not the one shown to 2 decimals), when it differs from it; the difference
    is given from the calculated dose (review R: 1.9748 mg -> 2 mg is +1.3%, not +1.5%)."""
    t = rules.banding(c.drug)
    if t is None or d.basis != "m2" or d.unit != "mg" or age_years is None:
        return None
    if t.age_min_years is not None and age_years < t.age_min_years:
        return None
    row = t.band(value)
    if row is None or abs(row.band_mg - value) < 0.005:
        return None
    dev = (row.band_mg - value) / value * 100
    return (f"dose band {_fmt(row.band_mg)} mg ({dev:+.1f}% of the calculated "
            f"{_fmt(value, 3)} mg) where the "
            f"{t.title} is used")


def _cap_text(c: Component) -> str | None:
    return f"max {_fmt(c.cap.amount)} {c.cap.unit}" if c.cap is not None else None
