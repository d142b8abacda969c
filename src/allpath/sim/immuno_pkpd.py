"""Immunotherapy PK/PD: blinatumomab exposure and kill, CAR-T kinetics and kill.

Blinatumomab at steady state C = rate / CL with an Emax effect, CAR-T by the Stein 2019
kinetics, both kills saturating with the effector-to-target ratio, and the exact log kill of an
immune kill over an interval (:func:`immune_log_kill`). The equations are in
:mod:`allpath.sim.immuno`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allpath.sim.base import Array
from allpath.sim.immuno_params import ImmunoParameters

__all__ = [
    "CarKinetics",
    "KillConstants",
    "blin_concentration",
    "blin_effect",
    "ec50_from_ec90",
    "immune_log_kill",
]

# --------------------------------------------------------------------------------------------
# exposure and kill
# --------------------------------------------------------------------------------------------


def blin_concentration(rate_ug_d: Array | float, cl_l_h: Array | float) -> Array:
    """Steady-state blinatumomab concentration (pg/mL) of an infusion of ``rate_ug_d`` µg/d at
    clearance ``cl_l_h`` L/h: C = rate/CL (1 µg/d = 1e6 pg / 24 h; 1 L = 1000 mL)."""
    out: Array = np.asarray(rate_ug_d, dtype=np.float64) * (1e3 / 24.0) / np.asarray(cl_l_h)
    return out


def blin_effect(conc: Array, ec50: float, hill: float = 1.0) -> Array:
    """Fraction of the maximal kill, E = C^n/(EC50^n + C^n)."""
    c = np.power(np.maximum(conc, 0.0), hill)
    out: Array = c / (ec50**hill + c)
    return out


def ec50_from_ec90(ec90: float, hill: float) -> float:
    """EC50 of an Emax curve with Hill coefficient ``hill`` whose EC90 is ``ec90``."""
    return float(ec90 / 9.0 ** (1.0 / hill))


@dataclass(frozen=True, slots=True)
class KillConstants:
    """Population constants of the kill terms (from :class:`ImmunoParameters`)."""

    kappa_blin: float
    ec50: float
    hill: float
    x_ref: float
    kappa_car: float
    c_ref: float

    @classmethod
    def from_parameters(cls, ip: ImmunoParameters) -> KillConstants:
        """Constants of ``ip``."""
        hill = ip.value("blin_hill")
        return cls(
            kappa_blin=ip.value("blin_kill_max"),
            ec50=ec50_from_ec90(ip.value("blin_ec90"), hill),
            hill=hill,
            x_ref=ip.value("blin_et_reference"),
            kappa_car=ip.value("car_kill"),
            c_ref=ip.value("car_reference_level"),
        )

    def blin_rate(self, conc: Array) -> Array:
        """kappa_blin E(C): the blinatumomab kill rate at a high effector-to-target ratio."""
        out: Array = self.kappa_blin * blin_effect(conc, self.ec50, self.hill)
        return out

    def car_rate(self, level: Array) -> Array:
        """kappa_CAR C/C_ref: the CAR-T kill rate at a high effector-to-target ratio."""
        out: Array = self.kappa_car / self.c_ref * level
        return out

    def car_kill(self, level: Array, x: Array) -> Array:
        """k_CAR = kappa_CAR (C/C_ref) / (1 + x/x_ref) (``level`` C, or its integral over an
        interval for the kill integral at a fixed effector-to-target term)."""
        out: Array = self.kappa_car / self.c_ref * level / (1.0 + x / self.x_ref)
        return out

    def blin_kill(self, conc: Array, x: Array) -> Array:
        """k_blin = kappa E(C) / (1 + x/x_ref), ``x`` = L/K_N (1/d, per patient)."""
        out: Array = self.kappa_blin * blin_effect(conc, self.ec50, self.hill) / (
            1.0 + x / self.x_ref
        )
        return out


@dataclass(frozen=True, slots=True)
class CarKinetics:
    """Per-patient Stein 2019 CAR-T kinetics (arrays shaped ``(n_patients,)``)."""

    foldx: Array
    tmax: Array
    cmax: Array
    alpha: Array
    fb: Array
    beta: Array

    @property
    def rho(self) -> Array:
        """Expansion rate ln(foldx)/Tmax (1/d)."""
        out: Array = np.log(self.foldx) / self.tmax
        return out

    def level(self, t: Array | float) -> Array:
        """Transgene level C(t) (copies/µg) at ``t`` days after infusion (0 before it)."""
        t = np.asarray(t, dtype=np.float64)
        up = self.cmax / self.foldx * np.exp(self.rho * np.minimum(t, self.tmax))
        dt = np.maximum(t - self.tmax, 0.0)
        down = self.cmax * ((1.0 - self.fb) * np.exp(-self.alpha * dt)
                            + self.fb * np.exp(-self.beta * dt))
        out: Array = np.where(t < 0, 0.0, np.where(t < self.tmax, up, down))
        return out

    def exposure(self, t0: float, t1: float) -> Array:
        """Exact integral of C over [t0, t1] (days after infusion; copies/µg x d)."""
        t0, t1 = max(t0, 0.0), max(t1, 0.0)
        rho = self.rho
        a, b = np.minimum(t0, self.tmax), np.minimum(t1, self.tmax)
        grow = self.cmax / self.foldx / rho * (np.exp(rho * b) - np.exp(rho * a))
        a, b = np.maximum(t0, self.tmax) - self.tmax, np.maximum(t1, self.tmax) - self.tmax
        shrink = self.cmax * (
            (1.0 - self.fb) / self.alpha * (np.exp(-self.alpha * a) - np.exp(-self.alpha * b))
            + self.fb / self.beta * (np.exp(-self.beta * a) - np.exp(-self.beta * b))
        )
        out: Array = grow + shrink
        return out



def immune_log_kill(integral: Array, x_killed: Array, x_spared: Array, x_ref: float) -> Array:
    """Log reduction of the CD19+ cells by an immune kill over an interval, exactly.

    With the rate k(t) = K(t) / (1 + x/x_ref), x = x_killed e^{-D} + x_spared, the log reduction
    D of the killed cells obeys dD/dt = K(t) / (1 + b + a e^{-D}), a = x_killed/x_ref,
    b = x_spared/x_ref, so (1 + b) D + a (1 - e^{-D}) = I = integral of K (growth is split off).
    The left side is increasing and concave in D; Newton's method from a lower bound,
    max(I/(1 + a + b), (I - a)/(1 + b)), rises monotonically to the root.
    """
    a = x_killed / x_ref
    b1 = 1.0 + x_spared / x_ref
    d = np.maximum(integral / (a + b1), (integral - a) / b1)
    for _ in range(60):
        e = np.exp(-d)
        f = b1 * d + a * (1.0 - e) - integral
        todo = np.abs(f) >= 1e-12  # per patient, so the result does not depend on the chunk
        if not todo.any():
            break
        d = np.where(todo, d - f / (b1 + a * e), d)
    return d
