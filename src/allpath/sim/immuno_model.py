"""Immunotherapy model: per-patient draws, the relapsed/refractory ODE model and the frontline
blinatumomab drive.

:class:`RelapseModel` (two log-scale clones under salvage chemotherapy, blinatumomab and
CAR-T, integrated by Strang splitting), its parameter matrix (:func:`relapse_parameters`) and
entry state (:func:`entry_state`); :class:`ImmuneDrive`, the per-day blinatumomab kill that the
frontline kernels subtract. Draws come from the immunotherapy random stream
(:data:`IMMUNO_STREAM`). The equations are in :mod:`allpath.sim.immuno`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
from scipy.stats import beta as beta_dist

from allpath.sim.base import AnyArray, Array, OdeModel, patient_randoms
from allpath.sim.immuno_params import ImmunoParameters, RelapsedCohort
from allpath.sim.immuno_pkpd import CarKinetics, KillConstants, blin_concentration, immune_log_kill
from allpath.sim.model import PARAMS as MODEL_PARAMS
from allpath.sim.population import Batch

__all__ = [
    "IMMUNO_NORMALS",
    "IMMUNO_STREAM",
    "IMMUNO_UNIFORMS",
    "N_IMMUNO_NORMAL",
    "N_IMMUNO_UNIFORM",
    "RR_INDEX",
    "RR_PARAMS",
    "ImmuneDrive",
    "ImmunoDrive",
    "ImmunoPatients",
    "RelapseModel",
    "draw_patients",
    "entry_state",
    "immuno_randoms",
    "relapse_parameters",
]

#: spawn-key suffix of the immunotherapy random stream (any fixed non-zero constant)
IMMUNO_STREAM = 0x1A11
N_IMMUNO_NORMAL = 8
N_IMMUNO_UNIFORM = 8
#: Columns of the immunotherapy stream's normals and uniforms; fixed forever so seeds stay
#: reproducible.
IMMUNO_NORMALS = {name: i for i, name in enumerate(
    ("cl_blin", "foldx", "tmax", "cmax", "alpha", "fb", "beta"))}  # fmt: skip
IMMUNO_UNIFORMS = {name: i for i, name in enumerate(("cd19neg", "death", "entry", "assay",
                                                     "hsct", "hsct_trm"))}
_MPI = {name: i for i, name in enumerate(MODEL_PARAMS)}


@dataclass(frozen=True, slots=True)
class ImmunoPatients:
    """Per-patient immunotherapy draws (arrays shaped ``(n_patients,)``).

    ``cl_blin`` blinatumomab clearance (L/h, BSA-scaled, with IIV); ``cd19neg`` whether the
    minor (resistant) clone is CD19-negative; ``car`` CAR-T kinetics; ``uniforms`` the
    immunotherapy stream's uniforms ``(n, N_IMMUNO_UNIFORM)`` (entry burden, death, assay).
    """

    bsa: Array
    cl_blin: Array
    cd19neg: AnyArray
    car: CarKinetics
    uniforms: Array


def immuno_randoms(seed: int, start: int, stop: int) -> tuple[Array, Array]:
    """Patients ``start .. stop-1``'s immunotherapy draws (independent of the main stream)."""
    return patient_randoms(seed, start, stop, N_IMMUNO_NORMAL, N_IMMUNO_UNIFORM,
                           stream=IMMUNO_STREAM)


def draw_patients(ip: ImmunoParameters, bsa: Array, normals: Array,
                  uniforms: Array) -> ImmunoPatients:
    """Per-patient parameters: theta_i = theta_pop exp(omega eta_i) (models.md §8.3)."""
    z = normals

    def ln(name: str) -> Array:
        out: Array = ip.value(name) * np.exp(ip.omega(name) * z[:, IMMUNO_NORMALS[name.removeprefix(
            "car_")]])
        return out

    cl = (
        ip.value("blin_clearance")
        * (bsa / ip.value("blin_clearance_reference_bsa"))
        ** ip.value("blin_clearance_bsa_exponent")
        * np.exp(ip.omega("blin_clearance") * z[:, IMMUNO_NORMALS["cl_blin"]])
    )
    car = CarKinetics(
        foldx=np.maximum(ln("car_foldx"), 1.0001), tmax=ln("car_tmax"), cmax=ln("car_cmax"),
        alpha=ln("car_alpha"), fb=np.minimum(ln("car_fb"), 0.999), beta=ln("car_beta"),
    )  # fmt: skip
    neg = uniforms[:, IMMUNO_UNIFORMS["cd19neg"]] < ip.value("cd19neg_probability")
    return ImmunoPatients(bsa=bsa, cl_blin=cl, cd19neg=neg, car=car, uniforms=uniforms)


# --------------------------------------------------------------------------------------------
# relapsed/refractory model
# --------------------------------------------------------------------------------------------

RR_PARAMS: tuple[str, ...] = (
    "r", "inv_KL", "lnK_N", "rho", "s_chemo", "cl_blin", "bsa", "cd19pos_R",
    "foldx", "tmax", "cmax", "alpha", "fb", "beta",
)  # fmt: skip
#: Column of each of :data:`RR_PARAMS` in the parameter matrix.
RR_INDEX = {name: i for i, name in enumerate(RR_PARAMS)}


@dataclass(frozen=True, slots=True)
class ImmunoDrive:
    """Treatment of one day of an r/r regimen (constant within the day but the CAR level).

    ``chemo_kill`` (1/d, times s_i) and blinatumomab rates (flat µg/d, or µg/m²/d times the
    patient's BSA) apply to patients where ``on`` is true (None: everyone); ``car_day`` is the
    CAR-T infusion day (None: no CAR-T).
    """

    constants: KillConstants
    chemo_kill: float = 0.0
    blin_ug_d: float = 0.0
    blin_ug_m2_d: float = 0.0
    on: AnyArray | None = None
    car_day: float | None = None

    @property
    def blin(self) -> bool:
        """Whether blinatumomab runs today."""
        return self.blin_ug_d > 0 or self.blin_ug_m2_d > 0


class RelapseModel(OdeModel[ImmunoDrive]):
    """Two log-scale clones (CD19+ bulk, minor clone) under salvage chemotherapy, blinatumomab
    and CAR-T (equations in the module docstring)."""

    state_names: ClassVar[tuple[str, ...]] = ("lnL_S", "lnL_R")
    param_names: ClassVar[tuple[str, ...]] = RR_PARAMS

    def drive_for_patient(self, u: ImmunoDrive, i: int) -> ImmunoDrive:
        """Patient ``i``'s slice of the treatment mask."""
        return u if u.on is None else replace(u, on=u.on[i : i + 1])

    @staticmethod
    def burden(y: Array, p: Array) -> Array:
        """x = L/K_N."""
        lnk = p[:, RR_INDEX["lnK_N"]]
        out: Array = np.exp(y[:, 0] - lnk) + np.exp(y[:, 1] - lnk)
        return out

    @staticmethod
    def state_free_kill(p: Array, u: ImmunoDrive) -> tuple[Array, Array]:
        """Chemotherapy kill rate of each clone (1/d), ``(n,)`` each."""
        on = 1.0 if u.on is None else u.on.astype(np.float64)
        kc = u.chemo_kill * p[:, RR_INDEX["s_chemo"]] * on
        out: tuple[Array, Array] = (kc, kc * p[:, RR_INDEX["rho"]])
        return out

    @staticmethod
    def blin_conc(p: Array, u: ImmunoDrive) -> Array:
        """Blinatumomab concentration of each patient today (pg/mL)."""
        rate = u.blin_ug_d + u.blin_ug_m2_d * p[:, RR_INDEX["bsa"]]
        if u.on is not None:
            rate = rate * u.on
        return blin_concentration(rate, p[:, RR_INDEX["cl_blin"]])

    @staticmethod
    def car(p: Array) -> CarKinetics:
        """The patients' CAR-T kinetics."""
        return CarKinetics(*(p[:, RR_INDEX[k]] for k in ("foldx", "tmax", "cmax", "alpha", "fb",
                                                      "beta")))

    def rhs(self, t: float, y: Array, p: Array, u: ImmunoDrive) -> Array:
        """d(lnL_S, lnL_R)/dt, ``y`` ``(n, 2)``."""
        x = self.burden(y, p)
        g = p[:, RR_INDEX["r"]] * (1.0 - x * p[:, RR_INDEX["inv_KL"]])
        kc_s, kc_r = self.state_free_kill(p, u)
        k_imm = np.zeros_like(x)
        if u.blin:
            k_imm += u.constants.blin_kill(self.blin_conc(p, u), x)
        if u.car_day is not None:
            k_imm += u.constants.car_kill(self.car(p).level(t - u.car_day), x)
        dy = np.empty_like(y)
        dy[:, 0] = g - kc_s - k_imm
        dy[:, 1] = g - kc_r - k_imm * p[:, RR_INDEX["cd19pos_R"]]
        return dy

    def step_day(self, day: int, y: Array, p: Array, u: ImmunoDrive) -> Array:
        """States at ``day + 1`` from ``y`` at ``day`` (Strang splitting).

        Half a day of kill, one day of logistic growth, half a day of kill, each part solved
        exactly: the logistic step of the total burden, ln x(t+1) - ln x(t) = r - ln(1 + x
        (e^r - 1) K_N/K_L), is stable at any burden (an explicit step is not once x exceeds
        K_L/K_N, as it does at entry for many patients); the chemotherapy kill is state-free;
        the immune kill, whose effector-to-target term changes with the burden it removes, is
        integrated in closed form by :func:`immune_log_kill` from the integral of its rate
        (exact for the CAR-T level, whatever its time course).
        """
        kc_s, kc_r = self.state_free_kill(p, u)
        pos_r = p[:, RR_INDEX["cd19pos_R"]]
        lnk = p[:, RR_INDEX["lnK_N"]]
        conc = self.blin_conc(p, u) if u.blin else None
        car = self.car(p) if u.car_day is not None else None
        out = y.copy()

        def kill_half(t0: float) -> None:
            out[:, 0] -= 0.5 * kc_s
            out[:, 1] -= 0.5 * kc_r
            integral = np.zeros(out.shape[0])
            if conc is not None:
                integral += 0.5 * u.constants.blin_rate(conc)
            if car is not None and u.car_day is not None:
                integral += u.constants.car_rate(
                    car.exposure(t0 - u.car_day, t0 + 0.5 - u.car_day))
            if conc is not None or car is not None:
                x_s, x_r = np.exp(out[:, 0] - lnk), np.exp(out[:, 1] - lnk)
                d = immune_log_kill(integral, x_s + pos_r * x_r, (1.0 - pos_r) * x_r,
                                    u.constants.x_ref)
                out[:, 0] -= d
                out[:, 1] -= d * pos_r

        kill_half(float(day))
        r = p[:, RR_INDEX["r"]]
        growth = r - np.log1p(self.burden(out, p) * np.expm1(r) * p[:, RR_INDEX["inv_KL"]])
        out += growth[:, None]
        kill_half(day + 0.5)
        return out


def relapse_parameters(batch: Batch, imm: ImmunoPatients) -> Array:
    """Parameter matrix ``(n, len(RR_PARAMS))`` of :class:`RelapseModel` from a batch."""
    p = batch.p
    cols = {
        "r": p[:, _MPI["r"]], "inv_KL": 1.0 / p[:, _MPI["K_L_ratio"]],
        "lnK_N": p[:, _MPI["lnK_N"]], "rho": p[:, _MPI["rho"]], "s_chemo": p[:, _MPI["s_ind"]],
        "cl_blin": imm.cl_blin, "bsa": imm.bsa,
        "cd19pos_R": 1.0 - imm.cd19neg.astype(np.float64),
        "foldx": imm.car.foldx, "tmax": imm.car.tmax, "cmax": imm.car.cmax,
        "alpha": imm.car.alpha, "fb": imm.car.fb, "beta": imm.car.beta,
    }  # fmt: skip
    out = np.empty((batch.n, len(RR_PARAMS)), order="F")
    for i, name in enumerate(RR_PARAMS):
        out[:, i] = cols[name]
    return out


def entry_state(ip: ImmunoParameters, cohort: RelapsedCohort, batch: Batch,
                imm: ImmunoPatients) -> tuple[Array, Array]:
    """Marrow blast fraction at entry ``(n,)`` and initial states ``(n, 2)``.

    Overt relapse: B ~ Beta (relapse_blast_fraction) truncated to [0.05, 0.999]; MRD study:
    log-uniform between blast_mrd_low and blast_mrd_high. The minor clone keeps the patient's
    resistant fraction f_R (its share of the diagnosis burden).
    """
    u = imm.uniforms[:, IMMUNO_UNIFORMS["entry"]]
    if cohort.entry == "mrd":
        lo, hi = math.log(ip.value("blast_mrd_low")), math.log(ip.value("blast_mrd_high"))
        b = np.exp(lo + (hi - lo) * u)
    else:
        iiv = ip.parameters["relapse_blast_fraction"].iiv
        assert iiv is not None
        b = np.clip(beta_dist.ppf(u, iiv.args["a"], iiv.args["b"]), 0.05, 0.999)
    lnk = batch.p[:, _MPI["lnK_N"]]
    ln_l = lnk + np.log(b / (1.0 - b))
    ln_f = batch.ln_l_r - np.logaddexp(batch.ln_l_s, batch.ln_l_r)
    y = np.empty((batch.n, 2))
    y[:, 0] = ln_l + np.log1p(-np.exp(ln_f))
    y[:, 1] = ln_l + ln_f
    return b, y


@dataclass(frozen=True)
class ImmuneDrive:
    """Per-day blinatumomab kill of a frontline run, for the cohort kernel and the engine.

    ``kill(day, x)`` returns the kill rates ``(2, n)`` (1/d) of the chemo-sensitive and the
    chemo-resistant clone on ``day`` (the resistant one only when CD19+), with the
    effector-to-target term at the burden ``x`` = L/K_N of the start of the day, or None on days
    without infusion.
    """

    rate_ug_d: tuple[float, ...]
    cl: Array
    cd19pos_r: Array
    constants: KillConstants

    def kill(self, day: int, x: AnyArray) -> Array | None:
        """Kill rates of both clones on ``day`` (None without blinatumomab)."""
        if day >= len(self.rate_ug_d) or self.rate_ug_d[day] <= 0.0:
            return None
        conc = blin_concentration(self.rate_ug_d[day], self.cl)
        k = self.constants.blin_kill(conc, np.asarray(x, dtype=np.float64))
        return np.stack([k, k * self.cd19pos_r])
