"""Dose lines: per-m2, per-kg or flat amounts turned into a dose with caps and rounding stated."""

from __future__ import annotations

import math
from dataclasses import dataclass

from allpath.roadmap.templates import PER_PROTOCOL, Component

__all__ = ["VERIFY", "DoseLine", "compute_dose"]

VERIFY = "verify against the protocol in use"
_DISPLAY_DECIMALS = 2


def _fmt(x: float) -> str:
    return f"{x:.{_DISPLAY_DECIMALS}f}".rstrip("0").rstrip(".")


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
            "text": self.text,
        }


def compute_dose(c: Component, bsa_m2: float | None, weight_kg: float | None) -> DoseLine:
    """Compute a component's dose; caps are applied after rounding so they always hold."""
    if c.dose is None:
        return DoseLine("per_protocol", None, None, PER_PROTOCOL, False,
                        _cap_text(c), "not applicable", (), f"{PER_PROTOCOL}; {VERIFY}")
    d = c.dose
    basis = {"m2": "/m2", "kg": "/kg", "flat": ""}[d.basis]
    prescribed = f"{_fmt(d.amount)} {d.unit}{basis}{'/day' if d.per_day else ''}"
    needs: tuple[str, ...]
    size: float | None
    if d.basis == "m2":
        size, needs = bsa_m2, ("height (cm)", "weight (kg)")
    elif d.basis == "kg":
        size, needs = weight_kg, ("weight (kg)",)
    else:
        size, needs = 1.0, ()
    if c.rounding is not None:
        rounding = f"rounded to the nearest {_fmt(c.rounding.step)} {c.rounding.unit}"
    else:
        rounding = (f"shown to {_DISPLAY_DECIMALS} decimals; apply the rounding of the "
                    "protocol in use")
    if size is None:
        return DoseLine("missing", None, d.unit, prescribed, False, _cap_text(c), rounding,
                        needs, f"{prescribed}: dose missing, needs {' and '.join(needs)}; "
                        f"{VERIFY}")
    raw = d.amount * size
    if c.rounding is not None:
        step = c.rounding.step
        value = round(raw / step) * step
    else:
        value = round(raw, _DISPLAY_DECIMALS)
    capped = False
    if c.cap is not None and value > c.cap.amount:
        value, capped = c.cap.amount, True
    if not math.isfinite(value):
        raise ValueError("dose is not finite")
    per_day = "/day" if d.per_day else ""
    text = f"{_fmt(value)} {d.unit}{per_day} ({prescribed}"
    if d.basis == "flat":
        text += " flat dose"
    elif d.basis == "m2":
        text += f" x {size:.2f} m2"
    elif d.basis == "kg":
        text += f" x {_fmt(size)} kg"
    text += ")"
    if capped and c.cap is not None:
        text += f", capped at {_fmt(c.cap.amount)} {c.cap.unit}"
    elif c.cap is not None:
        text += f", cap {_fmt(c.cap.amount)} {c.cap.unit}"
    text += f"; {rounding}; {VERIFY}"
    return DoseLine("computed", value, d.unit, prescribed, capped, _cap_text(c), rounding,
                    (), text)


def _cap_text(c: Component) -> str | None:
    return f"max {_fmt(c.cap.amount)} {c.cap.unit}" if c.cap is not None else None
