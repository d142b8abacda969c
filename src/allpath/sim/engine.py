"""Run a batch of virtual patients through a protocol: integration, dosing, events, assays.

One protocol calendar is shared by the batch (phase changes on the same day for everyone), so
the treatment drive is a scalar per day plus per-patient 6-MP doses. Everything per patient is
vectorised; the only Python loop is over days.

Events (models.md §9.2):

* **Induction death**: daily hazard h = h0 (RR_ANC if ANC < 0.5 else 1), h0 chosen so that the
  induction-death probability equals p_ind_death when half of the 29 days are neutropenic
  (toy normalisation). Times come from pre-drawn Exp(1) thresholds on the cumulative hazard.
* **CR** at the end of induction (day 29): alive and marrow blasts B < 5 %.
  (Count recovery is reported but not required: CR/CRi, as in E1910.)
* **Relapse**: B >= 5 % after CR (checked daily; analytic after therapy when ``fast_forward``).
* **Cure**: a clone is extinct once it falls below N_crit = ln U / ln(d/b) (models.md §3.5).
* **Treatment-related death** in remission: constant hazard giving p_TRM over post-induction
  therapy. **Death after relapse / induction failure**: constant hazard from the cited 5-yr OS.
* **Assays**: MRD = B measured by Poisson counting of k_LOD/LOD cells (flow 1e-4, PCR 1e-5);
  day-8 blood blasts counted on a smear of n_smear leukocytes.

The event bookkeeping, the hazards and the assays are :mod:`allpath.sim.outcomes`, shared with
the cohort kernels; this module integrates every state daily (treatment-related death too, where
the cohort kernels use its closed form).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit

from allpath.sim.base import Array, advance_day
from allpath.sim.model import PARAMS, STATES, AllModel, Drive, steady_state
from allpath.sim.outcomes import (
    EXTINCT,
    X_RELAPSE,
    AssayLimits,
    Events,
    RunResult,
    adapt_post_induction,
    assay,
    day8_columns,
    diagnosis_columns,
    eoi_columns,
    fill_assay_columns,
)
from allpath.sim.params import ParameterSet, Protocol
from allpath.sim.population import Batch, U, tgn_ref

if TYPE_CHECKING:
    from allpath.sim.immuno import ImmuneDrive

__all__ = [
    "auto_substeps",
    "counts",
    "drive_for_day",
    "run_batch",
]

_PI = {name: i for i, name in enumerate(PARAMS)}
_SI = {name: i for i, name in enumerate(STATES)}


def drive_for_day(
    protocol: Protocol, day: int, tgn_reference: float, dose_mg: Array | None
) -> Drive:
    """The treatment drive of ``day`` (0-based days since diagnosis)."""
    start = 0
    for i, ph in enumerate(protocol.phases):
        if day < start + ph.days:
            kill = ph.kill
            prophase = bool(ph.prophase_days) and day - start < ph.prophase_days
            if prophase:
                kill = ph.prophase_kill
            on = ph.theta_days is None or day - start < ph.theta_days
            return Drive(
                kill=kill,
                post_induction=i > 0,
                on_therapy=True,
                theta_n=ph.theta_neutrophils if on else 0.0,
                theta_p=ph.theta_platelets if on else 0.0,
                theta_e=ph.theta_erythroid if on else 0.0,
                maintenance=ph.maintenance,
                tgn_ref=tgn_reference,
                dose_mg=dose_mg if ph.maintenance else None,
                prophase=prophase,
            )
        start += ph.days
    # off therapy: no drug, and the neutrophils go back to the Friberg chain of the acute phases
    # (models.md §1: gamma 0.16-0.24, the feedback of recovery after myelosuppression, strongly
    # damped). The Jost chain (gamma ~0.8, k_ma/k_tr ~16) is a fit to ANC *under* 6-MP/MTX
    # (models.md §2.1): drug-free it sits next to its Hopf point (eigenvalues -0.0016 +- 0.081i
    # /d, a 78-day wave damped over ~600 d, §2.1.4), so kept after therapy it made ANC waves that
    # never settle. The hand-over is at the current ANC (run_batch, day = therapy_end).
    return Drive(on_therapy=False, post_induction=True, maintenance=False, tgn_ref=tgn_reference)


def auto_substeps(protocol: Protocol) -> Callable[[int], int]:
    """RK4 steps per day: 2 in the acute phases, 1 in maintenance and off therapy.

    One step per day is 2-4 % off LSODA in the days after an acute phase starts (fast
    crowding relief and myelosuppression onset); two steps bring it below 0.1 %
    (tests/sim/test_numerics.py). Maintenance dynamics are slow (k_tr 0.15/d).
    """
    maint = next((s for s, ph in zip(protocol.phase_starts(), protocol.phases, strict=True)
                  if ph.maintenance), protocol.therapy_days)
    return lambda day: 1 if day >= maint else 2


def counts(batch: Batch, y: Array) -> dict[str, Array]:
    """Blood counts from states ``y`` ``(n, n_states)`` (or ``(n, t, n_states)``).

    WBC = ANC + ALC + PB blasts, PB blasts = q (L/K_N)^h (models.md §9.2); Hb = Hb0 sum R.
    """
    lnk = batch.p[:, _PI["lnK_N"]]
    if y.ndim == 3:
        lnk = lnk[:, None]
    x = np.exp(y[..., 0] - lnk) + np.exp(y[..., 1] - lnk)
    q = batch.q_pb if y.ndim == 2 else batch.q_pb[:, None]
    alc = batch.alc if y.ndim == 2 else batch.alc[:, None]
    hb0 = batch.hb0 if y.ndim == 2 else batch.hb0[:, None]
    pb = q * x**batch.pb_exponent
    anc = y[..., _SI["ANC"]]
    return {
        "blast_fraction": x / (1.0 + x),
        "pb_blasts": pb,
        "anc": anc,
        "wbc": anc + alc + pb,
        "platelets": y[..., _SI["PLT"]],
        "hemoglobin": hb0 * y[..., 15:19].sum(axis=-1),
    }


def run_batch(
    ps: ParameterSet,
    protocol: Protocol,
    batch: Batch,
    horizon_days: int,
    substeps: int | None = None,
    fast_forward: bool = True,
    keep_trajectory: bool = False,
    immune: ImmuneDrive | None = None,
) -> RunResult:
    """Simulate ``batch`` from diagnosis to ``horizon_days``.

    With ``fast_forward`` the ODE stops at the end of therapy; relapse times after therapy are
    then computed in closed form (ln L grows at r_post; the logistic term is < 3 % below 5 %
    blasts and is neglected). Without it, every day to the horizon is integrated.
    ``substeps`` None means :func:`auto_substeps`. ``immune``: blinatumomab kill of both
    clones on the protocol's infusion days (:class:`allpath.sim.immuno.ImmuneDrive`, effector
    ratio at the burden of the start of the day).
    """
    pop = batch.population
    model = AllModel()
    n = batch.n
    p = batch.p
    y = steady_state(p, batch.ln_l_s, batch.ln_l_r)
    ref = tgn_ref(ps, protocol, pop)
    therapy_end = protocol.therapy_days
    ind_days = protocol.phases[0].days
    starts = protocol.phase_starts()
    maint_start = next(
        (s for s, ph in zip(starts, protocol.phases, strict=True) if ph.maintenance), None
    )
    last_day = min(horizon_days, therapy_end) if fast_forward else horizon_days
    steps_of = auto_substeps(protocol)

    cols = diagnosis_columns(batch, y)
    adapt_post_induction(p, (batch.age >= protocol.nci_high_risk_age)
                         | (cols["wbc_dx"] >= protocol.nci_high_risk_wbc),
                         protocol.nci_high_risk_multiplier)

    from allpath.sim import salvage

    ev = Events.start(ps, protocol, batch, treated=salvage.enabled(ps, pop))
    lnk = p[:, _PI["lnK_N"]]
    ln_x_rel = lnk + math.log(X_RELAPSE)  # ln L at 5 % blasts
    limits = AssayLimits.of(ps, pop)

    dose_nominal = protocol.mp_dose_mg_m2_d * batch.bsa * batch.dose_fraction
    dose_factor = np.ones(n)
    held = np.zeros(n, dtype=bool)
    dose = np.zeros(n)
    anc_maint_sum = np.zeros(n)
    dose_maint_sum = np.zeros(n)
    lo, hi = protocol.anc_window

    traj = np.empty((n, last_day + 1, len(STATES))) if keep_trajectory else None
    doses = np.zeros((n, last_day + 1)) if keep_trajectory else None

    for day in range(last_day + 1):
        # --- start-of-day bookkeeping (states at time t = day) --------------------------
        ext = y[:, 0:2] < batch.ln_n_crit
        y[:, 0:2] = np.where(ext, EXTINCT, y[:, 0:2])
        lnl = np.logaddexp(y[:, 0], y[:, 1])
        if day == 8:
            x = np.exp(y[:, 0] - lnk) + np.exp(y[:, 1] - lnk)
            cols.update(day8_columns(x, y[:, _SI["ANC"]], batch, limits))
        if day == ind_days:
            b = expit(lnl - lnk)
            c = counts(batch, y)
            cols.update(eoi_columns(b, c["anc"], c["platelets"], batch, limits))
            ev.end_of_induction(ev.alive & (b < 0.05), ind_days)
            adapt_post_induction(p, cols["mrd_eoi_flow"] >= protocol.mrd_positive_threshold,
                                 protocol.mrd_positive_multiplier)
        if day == 78:
            b = expit(lnl - lnk)
            cols["mrd_d78_pcr"] = assay(b, batch.uniforms[:, U["d78_pcr"]], limits.lod_pcr,
                                        limits.k_lod)
        if day > ind_days:
            new_rel = ev.in_cr & ~ev.relapsed & ev.alive & (lnl >= ln_x_rel)
            if new_rel.any():
                ev.record_relapses(np.flatnonzero(new_rel), float(day))
        if maint_start is not None and day == maint_start:
            # hand-over to the Jost chain at the current ANC, assumed quasi-steady (§7 option 1)
            pre = y[:, 6] * p[:, _PI["kc_M"]] / p[:, _PI["ktr_M"]]
            y[:, 2:6] = pre[:, None]
        if maint_start is not None and day == therapy_end:
            # end of therapy: back to the Friberg neutrophil chain at the current ANC,
            # quasi-steady (P = T = ANC k_circ/k_tr), as at the hand-over into maintenance
            pre = y[:, 6] * p[:, _PI["kc_N"]] / p[:, _PI["ktr_N"]]
            y[:, 2:6] = pre[:, None]
        if maint_start is not None and maint_start <= day < therapy_end:
            since = day - maint_start
            if since % protocol.check_every_days == 0:
                anc = y[:, 6]
                if since > 0:
                    low = anc < lo
                    resume = ~low & held
                    dose_factor = np.where(resume, dose_factor * (1 - protocol.dose_step),
                                           dose_factor)
                    up = ~low & ~held & (anc > hi)
                    dose_factor = np.where(
                        up, np.minimum(dose_factor * (1 + protocol.dose_step),
                                       protocol.max_dose_factor), dose_factor)
                    held = low
                dose = np.where(held, 0.0, dose_factor * dose_nominal)
            anc_maint_sum += y[:, 6]
            dose_maint_sum += dose / batch.bsa
        elif day >= therapy_end:
            dose = np.zeros(n)
        if traj is not None and doses is not None:
            traj[:, day, :] = y
            doses[:, day] = dose
        if day == last_day:
            break
        # --- hazards over [day, day + 1) -------------------------------------------------
        if day < ind_days:
            ev.induction_day(day, y[:, 6] < 0.5)
        elif day < therapy_end:
            ev.trm_day(day)
        ev.alive &= ev.death_day > day + 1.0
        k = substeps if substeps is not None else steps_of(day)
        u_day = drive_for_day(protocol, day, ref, dose)
        if immune is not None:
            k_imm = immune.kill(day, np.exp(lnl - lnk))
            if k_imm is not None:
                u_day = replace(u_day, immune=np.ascontiguousarray(k_imm.T))
        y = advance_day(model, day, y, p, u_day, k)

    if fast_forward and last_day < horizon_days:
        ev.relapse_after_therapy(np.logaddexp(y[:, 0], y[:, 1]), last_day, horizon_days,
                                 ln_x_rel, p[:, _PI["r_post"]])

    if ev.treated:
        # the salvage roadmap of the packs as the relapsed patients' protocol
        cols.update(salvage.apply_to_cohort(ps, protocol, batch, ev.relapsed, ev.relapse_day,
                                            ev.death_day, (y[:, 0], y[:, 1])))
    cols.update(ev.columns(horizon_days))
    maint_days = (
        max(min(therapy_end, last_day + 1) - maint_start, 1) if maint_start is not None else 1
    )
    cols["anc_maintenance_mean"] = anc_maint_sum / maint_days
    cols["mp_dose_mean_mg_m2"] = dose_maint_sum / maint_days
    fill_assay_columns(cols, n)
    return RunResult(columns=cols, trajectory=traj, doses=doses, phase_starts=starts)
