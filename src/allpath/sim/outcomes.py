"""Outcomes, assays and survival bookkeeping shared by the simulator's kernels.

The reference kernel (:func:`allpath.sim.engine.run_batch`), the numpy cohort kernel
(:func:`allpath.sim.fast.run_cohort_batch`) and its JAX port
(:func:`allpath.sim.jax_kernel.run_cohort_batch_jax`) integrate the model differently, but
turn the burdens and counts they reach into events and measured values with the code here, so
that the three cannot drift apart (models.md §9.2):

* **Assays** (:func:`assay`, :func:`count`, :func:`poisson_ppf`): a measured fraction is a
  Poisson count of cells at the patient's pre-drawn uniform; MRD counts k_LOD/LOD cells and
  reads 0 below k_LOD/2 events; a smear or marrow counts a fixed number of cells.
* **Diagnosis counts** (:func:`diagnosis_columns`) from the steady state at diagnosis.
* **Events** (:class:`Events`): the induction-death hazard, remission / induction failure at
  the end of induction, relapse and death after relapse, treatment-related death in remission
  (daily or in closed form), relapse after therapy in closed form, and the EFS / OS columns.
  Every array is per patient and every operation is vectorised along the patient axis.

This module sits below the kernels and the modules they call (checkpoints, salvage,
immunotherapy), so it imports none of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from allpath.sim.base import AnyArray, Array
from allpath.sim.model import PARAMS
from allpath.sim.params import ParameterSet, Protocol
from allpath.sim.population import Batch, U

__all__ = [
    "ASSAY_COLUMNS",
    "DAYS_PER_MONTH",
    "EXTINCT",
    "X_RELAPSE",
    "AssayLimits",
    "Events",
    "RunResult",
    "adapt_post_induction",
    "assay",
    "count",
    "day8_columns",
    "diagnosis_columns",
    "eoi_columns",
    "fill_assay_columns",
    "poisson_ppf",
]

EXTINCT = -1.0e3  # log cell number of an extinct clone (exp underflows to 0)
DAYS_PER_MONTH = 365.25 / 12.0
#: Burden x = L/K_N at 5 % marrow blasts, the relapse level.
X_RELAPSE = 0.05 / 0.95
#: Assay columns every kernel returns (NaN where the day was not reached).
ASSAY_COLUMNS = ("pb_blasts_d8_per_uL", "mrd_blood_d8", "mrd_eoi_true", "mrd_eoi_flow",
                 "mrd_eoi_pcr", "anc_eoi", "platelets_eoi", "mrd_d78_pcr")
_PI = {name: i for i, name in enumerate(PARAMS)}
_FIVE_YEARS = 5 * 365.25


@dataclass
class RunResult:
    """Per-patient outcomes (each array shaped ``(n_patients,)``) and optional trajectories.

    ``trajectory`` has shape ``(n_patients, n_days + 1, n_states)`` when requested; ``doses`` the
    daily 6-MP dose in mg, ``(n_patients, n_days + 1)``.
    """

    columns: dict[str, Array]
    trajectory: Array | None = None
    doses: Array | None = None
    phase_starts: tuple[int, ...] = field(default_factory=tuple)


# --- assays -----------------------------------------------------------------------------------


def poisson_ppf(q: Array, lam: Array) -> Array:
    """``scipy.stats.poisson.ppf(q, lam)`` (0 where ``lam`` is 0 or the result is not finite):
    the smallest k with P(K <= k) >= q, computed exactly but cheaply.

    ppf = 0 exactly when q <= P(K = 0) = e^{-lam}. Elsewhere a Cornish-Fisher guess is corrected
    by +-1 steps with the Poisson CDF (``pdtr``, cheap) until it is the smallest k whose CDF
    reaches q; the costly numerical inverse (``pdtrik``) is only a fallback.
    """
    from scipy import special

    lam = np.asarray(lam, dtype=np.float64)
    out = np.zeros(np.shape(lam))
    sel = np.flatnonzero((lam > 0) & (q > np.exp(-lam)))
    if not sel.size:
        return out
    qs, ms = q[sel], lam[sel]
    z = special.ndtri(qs)
    k = np.maximum(np.floor(ms + np.sqrt(ms) * z + (z * z - 1.0) / 6.0 + 0.5), 0.0)
    for _ in range(60):
        up = special.pdtr(k, ms) < qs
        down = ~up & (k > 0) & (special.pdtr(k - 1.0, ms) >= qs)
        if not (up.any() or down.any()):
            break
        k = k + up - down
    else:  # not converged (extreme tails): scipy's own inverse and correction
        vals = np.ceil(special.pdtrik(qs, ms))
        vals1 = np.maximum(vals - 1, 0)
        k = np.where(special.pdtr(vals1, ms) >= qs, vals1, vals)
    out[sel] = k
    out[~np.isfinite(out)] = 0.0
    return out


def assay(true_frac: Array, u: Array, lod: float, k_lod: float) -> Array:
    """Measured fraction: Poisson count of n = k_lod/lod cells at the uniforms ``u``; 0 when
    below k_lod/2 events."""
    n_cells = k_lod / lod
    k = poisson_ppf(u, np.clip(true_frac, 0.0, 1.0) * n_cells)
    out: Array = np.where(k >= k_lod / 2.0, k / n_cells, 0.0)
    return out


def count(u: Array, frac: Array, n_cells: float) -> Array:
    """Cells of a kind among ``n_cells`` counted, for true fractions ``frac`` (Poisson)."""
    k = poisson_ppf(u, np.clip(frac, 0.0, 1.0) * n_cells)
    out: Array = np.minimum(k, n_cells)
    return out


@dataclass(frozen=True, slots=True)
class AssayLimits:
    """The assays' parameters: events at the detection limit, flow and PCR limits, and the
    leukocytes counted on a smear."""

    k_lod: float
    lod_flow: float
    lod_pcr: float
    n_smear: float

    @classmethod
    def of(cls, ps: ParameterSet, population: str) -> AssayLimits:
        """The values of ``ps`` for ``population``."""
        return cls(ps.value("assay_events_at_lod", population),
                   ps.value("flow_detection_limit", population),
                   ps.value("pcr_detection_limit", population),
                   ps.value("smear_cells_counted", population))


def day8_columns(x: Array, anc: Array, batch: Batch, limits: AssayLimits) -> dict[str, Array]:
    """Day-8 blood: blasts per uL counted on a smear and the flow MRD of the blood, from the
    burden x = L/K_N and the ANC (float64, per patient). PB blasts = q x^h, WBC = ANC + ALC +
    PB blasts (models.md §9.2)."""
    u = batch.uniforms
    pb = batch.q_pb * x**batch.pb_exponent
    wbc = anc + batch.alc + pb
    frac = pb / wbc
    k = poisson_ppf(u[:, U["d8_smear"]], frac * limits.n_smear)
    return {"pb_blasts_d8_per_uL": k / limits.n_smear * wbc * 1000.0,
            "mrd_blood_d8": assay(frac, u[:, U["d8_flow"]], limits.lod_flow, limits.k_lod)}


def eoi_columns(b: Array, anc: Array, platelets: Array, batch: Batch,
                limits: AssayLimits) -> dict[str, Array]:
    """End of induction: the true marrow blast fraction ``b``, its flow and PCR MRD, and the
    ANC and platelets."""
    u = batch.uniforms
    return {"mrd_eoi_true": b,
            "mrd_eoi_flow": assay(b, u[:, U["eoi_flow"]], limits.lod_flow, limits.k_lod),
            "mrd_eoi_pcr": assay(b, u[:, U["eoi_pcr"]], limits.lod_pcr, limits.k_lod),
            "anc_eoi": anc, "platelets_eoi": platelets}


def fill_assay_columns(cols: dict[str, Array], n: int) -> None:
    """NaN columns for the assays whose day the run did not reach."""
    for key in ASSAY_COLUMNS:
        cols.setdefault(key, np.full(n, np.nan))


# --- diagnosis and risk adaptation ------------------------------------------------------------


def diagnosis_columns(batch: Batch, y0: Array) -> dict[str, Array]:
    """Counts at diagnosis from the steady state ``y0`` ``(n, n_states)``: WBC = ANC + ALC + PB
    blasts, Hb = Hb0 sum R, platelets, ANC and the marrow blast fraction x / (1 + x)."""
    lnk = batch.p[:, _PI["lnK_N"]]
    x0 = np.exp(y0[:, 0] - lnk) + np.exp(y0[:, 1] - lnk)
    pb0 = batch.q_pb * x0**batch.pb_exponent
    return {
        "wbc_dx": y0[:, 6] + batch.alc + pb0,
        "hemoglobin_dx": batch.hb0 * y0[:, 15:19].sum(axis=1),
        "platelets_dx": y0[:, 11].copy(),
        "anc_dx": y0[:, 6].copy(),
        "marrow_blasts_dx": x0 / (1.0 + x0),
    }


def adapt_post_induction(p: Array, higher_risk: AnyArray, multiplier: float) -> None:
    """Risk-adapted post-induction sensitivity: ``s_post`` of the ``higher_risk`` patients times
    ``multiplier``, in place (NCI risk at diagnosis, MRD at the end of induction)."""
    p[:, _PI["s_post"]] *= np.where(higher_risk, multiplier, 1.0)


# --- events -----------------------------------------------------------------------------------


@dataclass
class Events:
    """Per-patient event state of a kernel run, and the hazards that move it.

    Hazards: induction death h = h0 (RR_ANC if neutropenic else 1), h0 chosen so that the
    induction-death probability is reached when half of the induction days are neutropenic;
    constant hazards for treatment-related death in remission (p_TRM over post-induction
    therapy) and for death after induction failure or relapse (from the cited 5-yr OS). Event
    times come from the patients' pre-drawn uniforms (Exp(1) thresholds on the cumulative
    hazard), so they do not depend on the kernel or the chunking.
    """

    u: Array
    alive: AnyArray
    in_cr: AnyArray
    relapsed: AnyArray
    fail: AnyArray
    ind_death: AnyArray
    death_day: Array
    relapse_day: Array
    e_ind: Array
    e_trm: Array
    h_ind_cum: Array
    h_trm_cum: Array
    h0_ind: float
    rr: float
    h_trm: float
    h_fail: float
    #: 5-yr OS after a very early, early and late relapse (COG timing classes).
    os5: tuple[float, float, float]
    #: Relapses are treated by the salvage roadmap (:mod:`allpath.sim.salvage`), which then
    #: decides the deaths after relapse; the death hazard here is not applied.
    treated: bool

    @classmethod
    def start(cls, ps: ParameterSet, protocol: Protocol, batch: Batch,
              treated: bool) -> Events:
        """Everyone alive at diagnosis, with the hazards of ``ps`` for the batch's population."""
        pop = batch.population
        n = batch.n
        u = batch.uniforms
        ind_days = protocol.phases[0].days
        rr = ps.value("neutropenia_death_rr", pop)
        h0_ind = -math.log1p(-ps.value("induction_death_probability", pop)) / (
            ind_days * (0.5 * rr + 0.5)
        )
        post_days = max(protocol.therapy_days - ind_days, 1)
        return cls(
            u=u, alive=np.ones(n, dtype=bool), in_cr=np.zeros(n, dtype=bool),
            relapsed=np.zeros(n, dtype=bool), fail=np.zeros(n, dtype=bool),
            ind_death=np.zeros(n, dtype=bool), death_day=np.full(n, np.inf),
            relapse_day=np.full(n, np.inf), e_ind=-np.log(u[:, U["ind_death"]]),
            e_trm=-np.log(u[:, U["trm"]]), h_ind_cum=np.zeros(n), h_trm_cum=np.zeros(n),
            h0_ind=h0_ind, rr=rr,
            h_trm=-math.log1p(-ps.value("trm_probability", pop)) / post_days,
            h_fail=-math.log(ps.value("induction_failure_os5", pop)) / _FIVE_YEARS,
            os5=(ps.value("post_relapse_os5_very_early", pop),
                 ps.value("post_relapse_os5_early", pop), ps.value("post_relapse_os5_late", pop)),
            treated=treated,
        )  # fmt: skip

    def induction_day(self, day: int, neutropenic: AnyArray) -> None:
        """Induction-death hazard over [day, day + 1) for patients with ANC < 0.5 or not."""
        h = self.h0_ind * np.where(neutropenic, self.rr, 1.0)
        self.h_ind_cum += np.where(self.alive, h, 0.0)
        dead = self.alive & (self.h_ind_cum >= self.e_ind)
        self.death_day[dead] = day + 1.0
        self.ind_death |= dead
        self.alive &= ~dead

    def end_of_induction(self, in_cr: AnyArray, ind_days: int) -> None:
        """Remission call: ``in_cr`` continue; the other living patients are induction failures
        and die at the induction-failure hazard."""
        self.in_cr = in_cr
        fail = self.alive & ~in_cr
        self.fail = fail
        self.death_day[fail] = ind_days - np.log(self.u[fail, U["fail"]]) / self.h_fail

    def post_relapse_death(self, idx: AnyArray, t: Array, os5: Array | None = None) -> None:
        """Death after the relapses of patients ``idx`` at days ``t``: constant hazard of the
        5-yr OS of their COG timing class, ``os5`` as the relapse pack called it or, None, from
        the months since diagnosis (< 18 very early, < 36 early). Nothing when relapses are
        treated (the salvage roadmap decides)."""
        if self.treated:
            return
        if os5 is None:
            months = t / DAYS_PER_MONTH
            very_early, early, late = self.os5
            os5 = np.where(months < 18, very_early, np.where(months < 36, early, late))
        h = -np.log(os5) / _FIVE_YEARS
        self.death_day[idx] = np.minimum(self.death_day[idx],
                                         t - np.log(self.u[idx, U["post_relapse"]]) / h)

    def record_relapses(self, idx: AnyArray, t: Array | float) -> None:
        """Patients ``idx`` relapse at days ``t``; their death after relapse is drawn."""
        self.relapsed[idx] = True
        self.relapse_day[idx] = t
        self.post_relapse_death(idx, self.relapse_day[idx])

    def trm_day(self, day: int) -> None:
        """Treatment-related death hazard over [day, day + 1) for patients in remission."""
        at_risk = self.alive & self.in_cr & ~self.relapsed
        self.h_trm_cum += np.where(at_risk, self.h_trm, 0.0)
        dead = at_risk & (self.h_trm_cum >= self.e_trm)
        self.death_day[dead] = day + 1.0

    def trm_closed_form(self, ind_days: int, until: int) -> None:
        """Treatment-related death in remission up to day ``until``, in closed form: the
        hazard is constant, so the day is ind_days + ceil(E / h). A death on or before the
        relapse day replaces the relapse."""
        trm_day = ind_days + np.ceil(self.e_trm / self.h_trm)
        trm = self.in_cr & (trm_day <= until) & (self.relapse_day >= trm_day)
        self.relapse_day[trm] = np.inf
        self.relapsed[trm] = False
        self.death_day[trm] = trm_day[trm]

    def relapse_after_therapy(self, lnl_end: Array, last_day: int, horizon_days: int,
                              ln_x_relapse: Array, r_post: Array) -> None:
        """Relapses after the last integrated day in closed form: ln L grows at ``r_post`` from
        ``lnl_end`` to ``ln_x_relapse`` (the logistic term is < 3 % below 5 % blasts and is
        neglected); extinct burdens never relapse."""
        cand = self.in_cr & ~self.relapsed & (self.death_day > last_day) & (lnl_end > EXTINCT / 2)
        t_rel = last_day + np.maximum(ln_x_relapse - lnl_end, 0.0) / r_post
        idx = np.flatnonzero(cand & (t_rel <= horizon_days))
        self.record_relapses(idx, np.ceil(t_rel[idx]))

    def columns(self, horizon_days: int) -> dict[str, Array]:
        """The event columns at the horizon: CR, induction death / failure, relapse and death
        (with their days), EFS (an induction failure is an event at day 0) and OS."""
        horizon = float(horizon_days)
        death = self.death_day <= horizon
        rel = self.relapse_day <= horizon
        efs_time = np.minimum(np.where(self.fail, 0.0, np.inf),
                              np.minimum(self.death_day, self.relapse_day))
        return {
            "cr": self.in_cr.astype(np.float64),
            "induction_death": self.ind_death.astype(np.float64),
            "induction_failure": self.fail.astype(np.float64),
            "relapse": rel.astype(np.float64),
            "relapse_day": np.where(rel, self.relapse_day, np.nan),
            "death": death.astype(np.float64),
            "death_day": np.where(death, self.death_day, np.nan),
            "efs_event": (efs_time <= horizon).astype(np.float64),
            "efs_day": np.minimum(efs_time, horizon),
            "os_day": np.minimum(self.death_day, horizon),
        }
