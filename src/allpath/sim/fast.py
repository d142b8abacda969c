"""Fast cohort kernel: the same model and events as :func:`allpath.sim.engine.run_batch`, cheaper.

:func:`run_cohort_batch` returns the same per-patient columns as ``run_batch`` (fast-forward
mode) and is what :func:`allpath.sim.simulate_cohort` uses. It differs only numerically; the
LSODA test in ``tests/sim/test_numerics.py`` holds it within 2 % on counts and the
equivalence test against ``run_batch`` keeps the events the same. What makes it fast:

* **Only the states that feed an output are integrated.** In a cohort run the erythroid chain
  and 6-TGN-free acute phases feed nothing but the Hb at diagnosis (closed form) and the
  platelet chain feeds only ``platelets_eoi``, so platelets are integrated to day 29 and
  erythroid states not at all (single-patient runs, which plot them, use ``run_batch``).
* **State blocks, float32.** States are a ``(n_block_states, n_patients)`` C-ordered float32
  array, so RK4 stage sums are one numpy call per block instead of one per state; every
  operation writes into preallocated buffers. float32 carries ln L to ~3e-6 absolute and counts
  to ~1e-7 relative per step, far inside the 2 % tolerance (models.md §8.3).
* **Exact sub-steps for the linear parts in maintenance** (models.md §8.3): 6-TGN is linear
  (``dT/dt = a dose - CL T``) and is updated exactly, ``T(t+h) = T e^{-CL h} + T_inf
  (1 - e^{-CL h})``, also at the RK4 stage times; the leukaemic log-burden gets the exact
  integral of the 6-TGN kill over the day, with the logistic growth and marrow crowding frozen at
  the start of the day (x_L < 0.053 in remission, so their change within a day is < 1e-4).
  The Jost neutrophil chain keeps one RK4 step per day (k_circ h = 2.38 < 2.78, RK4's stability
  limit; a 2-day step would be unstable).
* **Precomputed schedule.** The per-day drive (kill, theta, phase flags) is tabulated once per
  protocol; treatment-related death in remission has a constant hazard, so its day is computed
  in closed form per patient instead of accumulating a hazard every day.

Everything is elementwise along the patient axis, so results do not depend on the chunk size.
Events, hazards and assays are the shared bookkeeping of :mod:`allpath.sim.outcomes`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from allpath.sim.base import Array
from allpath.sim.checkpoints import (
    CU,
    REMISSION,
    RESPONSE,
    CheckpointPolicy,
    eoi_response,
    post_relapse_os5,
    relapse_call,
)
from allpath.sim.closed_loop import (
    COG_GROUPS,
    HIGH_RISK,
    MaintenanceLoop,
    TitrationConfig,
    risk_restratification,
)
from allpath.sim.engine import auto_substeps, drive_for_day
from allpath.sim.model import PARAMS, steady_state
from allpath.sim.outcomes import (
    DAYS_PER_MONTH,
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

__all__ = ["Schedule", "Trace", "run_cohort_batch", "schedule_for"]

_PI = {name: i for i, name in enumerate(PARAMS)}
F32 = npt.NDArray[np.floating[Any]]
Rhs = Callable[[F32, F32, int], None]


@dataclass(frozen=True)
class Schedule:
    """The protocol's drive tabulated per day (index = day since diagnosis, < therapy_days)."""

    kill: tuple[float, ...]
    theta_n: tuple[float, ...]
    theta_p: tuple[float, ...]
    post_induction: tuple[bool, ...]
    prophase: tuple[bool, ...]
    maintenance: tuple[bool, ...]
    substeps: tuple[int, ...]


def schedule_for(protocol: Protocol, substeps: int | None = None) -> Schedule:
    """Tabulate :func:`allpath.sim.engine.drive_for_day` over the therapy days."""
    steps = auto_substeps(protocol)
    drives = [drive_for_day(protocol, d, 1.0, None) for d in range(protocol.therapy_days)]
    return Schedule(
        kill=tuple(u.kill for u in drives),
        theta_n=tuple(u.theta_n for u in drives),
        theta_p=tuple(u.theta_p for u in drives),
        post_induction=tuple(u.post_induction for u in drives),
        prophase=tuple(u.prophase for u in drives),
        maintenance=tuple(u.maintenance for u in drives),
        substeps=tuple(substeps or steps(d) for d in range(protocol.therapy_days)),
    )


@dataclass
class Trace:
    """Daily ln L (total), ANC and PLT, each ``(n_patients, n_days + 1)`` (tests only)."""

    ln_l: Array
    anc: Array
    plt: Array


class _Chain:
    """Parameters of one Friberg chain as float32 rows: k_tr, gamma, gamma ln C0, crowding."""

    def __init__(self, p: Array, ktr: str, gam: str, c0: str, kc: str, crowd: str,
                 dt: type[np.floating[Any]]) -> None:
        self.ktr = p[:, _PI[ktr]].astype(dt)
        self.gam = p[:, _PI[gam]].astype(dt)
        self.gl = (p[:, _PI[gam]] * np.log(p[:, _PI[c0]])).astype(dt)
        self.dk = (p[:, _PI[ktr]] - p[:, _PI[kc]]).astype(dt)
        self.crowd = p[:, _PI[crowd]].astype(dt)


class _Kernel:
    """Preallocated buffers and the right-hand sides of the cohort kernel."""

    def __init__(self, n: int, m: int, dt: type[np.floating[Any]]) -> None:
        self.k = [np.empty((m, n), dtype=dt) for _ in range(4)]
        self.tmp = np.empty((m, n), dtype=dt)
        self.w = np.empty(n, dtype=dt)
        self.w2 = np.empty(n, dtype=dt)
        self.xs = np.empty((2, n), dtype=dt)
        self.x = np.empty(n, dtype=dt)
        self.lm = np.empty(n, dtype=dt)

    def burden(self, lnl: F32, lnk: F32) -> F32:
        """x_L = (e^{lnL_S} + e^{lnL_R}) / K_N into ``self.x``."""
        np.subtract(lnl, lnk, out=self.xs)
        np.exp(self.xs, out=self.xs)
        out: F32 = np.add(self.xs[0], self.xs[1], out=self.x)
        return out

    def chain(self, y: F32, dy: F32, c: _Chain, expo: F32, ome: F32 | float) -> None:
        """Friberg chain derivative: ``expo`` = gamma ln C0 - crowding term (per patient)."""
        w = self.w
        np.maximum(y[4], 1e-9, out=w)
        np.log(w, out=w)
        w *= c.gam
        np.subtract(expo, w, out=w)
        np.exp(w, out=w)
        w *= ome
        w -= 1.0
        np.multiply(y[0], w, out=dy[0])
        dy[0] *= c.ktr
        np.subtract(y[0:4], y[1:5], out=dy[1:5])
        dy[1:5] *= c.ktr
        np.multiply(c.dk, y[4], out=w)
        dy[4] += w


def _rk4(kern: _Kernel, s: F32, h: float, fn: Rhs) -> None:
    """One classical RK4 step of ``s`` in place; ``fn(y, dy, stage)``, stage 0 / 1 (mid) / 2."""
    k1, k2, k3, k4 = (k[: s.shape[0]] for k in kern.k)
    tmp = kern.tmp[: s.shape[0]]
    fn(s, k1, 0)
    np.multiply(k1, 0.5 * h, out=tmp)
    tmp += s
    fn(tmp, k2, 1)
    np.multiply(k2, 0.5 * h, out=tmp)
    tmp += s
    fn(tmp, k3, 1)
    np.multiply(k3, h, out=tmp)
    tmp += s
    fn(tmp, k4, 2)
    k2 += k3
    k2 *= 2.0
    k1 += k2
    k1 += k4
    k1 *= h / 6.0
    s += k1


def run_cohort_batch(
    ps: ParameterSet,
    protocol: Protocol,
    batch: Batch,
    horizon_days: int,
    substeps: int | None = None,
    *,
    dtype: type[np.floating[Any]] = np.float32,
    trace_days: int | None = None,
    extinction: bool = True,
    titrate: bool = True,
    titration: TitrationConfig | None = None,
    intensify: bool = False,
    checkpoints: CheckpointPolicy | None = None,
    checkpoint_u: Array | None = None,
    visit_z: Array | None = None,
    immune: ImmuneDrive | None = None,
) -> RunResult:
    """Simulate ``batch`` to ``horizon_days`` (relapse after therapy in closed form).

    Same outputs as :func:`allpath.sim.engine.run_batch` with ``fast_forward=True``. Test hooks:
    ``trace_days`` records :class:`Trace` for days ``0..trace_days`` (platelets are then
    integrated through the acute phases) in ``RunResult.trajectory`` as ``(n, days + 1, 3)``
    (ln L, ANC, PLT); ``extinction=False`` and ``titrate=False`` (constant nominal 6-MP dose)
    make the states comparable with a plain ODE solve. ``batch.p`` is updated in place with the
    risk-adapted post-induction sensitivity, as in ``run_batch``. ``titration`` runs maintenance
    through :class:`allpath.sim.closed_loop.MaintenanceLoop` (policy ``protocol``, ``fixed`` or
    ``pack``, the last through the titration pack) and adds its per-patient tallies.
    ``intensify``: at the end of induction the risk pack re-stratifies every patient from the
    simulated MRD (:func:`allpath.sim.closed_loop.risk_restratification`); patients in CR it
    puts at COG high / very high risk get the protocol's augmented phase (``augmented`` in
    ``protocols.yaml``). ``immune``: blinatumomab kill of both clones on the protocol's
    infusion days (:class:`allpath.sim.immuno.ImmuneDrive`; acute phases only, with the
    effector ratio at the burden of the start of the day), subtracted from d lnL/dt.
    ``checkpoints``: the response pack calls remission at the end of induction and the relapse
    pack detects and classifies relapses (:mod:`allpath.sim.checkpoints`), from the draws
    ``checkpoint_u`` (``(n, checkpoints.N_UNIFORM)``, their own random stream). ``visit_z``:
    standard normals ``(n, visits)`` for the titration visits' ANC noise (``anc_noise``).
    """
    dt = dtype
    pop = batch.population
    n = batch.n
    u = batch.uniforms
    p = batch.p
    sched = schedule_for(protocol, substeps)
    ref = tgn_ref(ps, protocol, pop)
    therapy_end = protocol.therapy_days
    ind_days = protocol.phases[0].days
    starts = protocol.phase_starts()
    maint_start = next(
        (s for s, ph in zip(starts, protocol.phases, strict=True) if ph.maintenance), therapy_end
    )
    last_day = min(horizon_days, therapy_end)
    plt_until = ind_days if trace_days is None else max(ind_days, min(trace_days, maint_start))

    y0 = steady_state(p, batch.ln_l_s, batch.ln_l_r)
    lnk64 = p[:, _PI["lnK_N"]]
    cols = diagnosis_columns(batch, y0)
    adapt_post_induction(p, (batch.age >= protocol.nci_high_risk_age)
                         | (cols["wbc_dx"] >= protocol.nci_high_risk_wbc),
                         protocol.nci_high_risk_multiplier)

    # --- per-patient float rows -----------------------------------------------------------
    lnk = lnk64.astype(dt)
    r = p[:, _PI["r"]].astype(dt)
    inv_kl = (1.0 / p[:, _PI["K_L_ratio"]]).astype(dt)
    rho = p[:, _PI["rho"]].astype(dt)
    s_ind = p[:, _PI["s_ind"]].astype(dt)
    s_pro = (p[:, _PI["s_ind"]] * p[:, _PI["s_pro"]]).astype(dt)
    s_post = p[:, _PI["s_post"]].astype(dt)
    ncrit = np.ascontiguousarray(batch.ln_n_crit.T).astype(dt)
    chain_n = _Chain(p, "ktr_N", "gam_N", "C0_N", "kc_N", "crowd_N", dt)
    chain_p = _Chain(p, "ktr_P", "gam_P", "C0_P", "kc_P", "crowd_P", dt)
    chain_m = _Chain(p, "ktr_M", "gam_M", "C0_M", "kc_M", "crowd_N", dt)
    slope = p[:, _PI["slope"]].astype(dt)
    cl = p[:, _PI["cl_tgn"]]
    tgn_in = p[:, _PI["tgn_in"]]

    # states: rows 0-1 ln L, 2-6 neutrophil chain, 7-11 platelet chain
    s = np.ascontiguousarray(y0[:, 0:12].T).astype(dt)
    kern = _Kernel(n, 12, dt)
    ks = np.empty(n, dtype=dt)
    expo_n = np.empty(n, dtype=dt)
    expo_p = np.empty(n, dtype=dt)
    m2 = np.empty((2, n), dtype=bool)
    mb = np.empty(n, dtype=bool)

    from allpath.sim import salvage

    ev = Events.start(ps, protocol, batch, treated=salvage.enabled(ps, pop))
    watch = np.zeros(n, dtype=bool)  # in CR and not yet relapsed
    ln_x_rel = lnk64 + math.log(X_RELAPSE)
    limits = AssayLimits.of(ps, pop)

    dose_nominal = protocol.mp_dose_mg_m2_d * batch.bsa * batch.dose_fraction
    dose_factor = np.ones(n)
    held = np.zeros(n, dtype=bool)
    dose = np.zeros(n)
    dose_per_bsa = np.zeros(n)
    anc_maint_sum = np.zeros(n)
    dose_maint_sum = np.zeros(n)
    lo, hi = protocol.anc_window
    q1 = (1.0 - np.exp(-cl)) / cl  # integral over a day of e^{-CL t}
    kill_coef = np.zeros(n)

    trace = None
    if trace_days is not None:
        trace = Trace(*(np.zeros((n, trace_days + 1)) for _ in range(3)))

    def acute_rhs(kill_rate: F32, growth: F32, theta_n: float, theta_p: float,
                  m: int, imm: F32 | None = None) -> Rhs:
        def f(y: F32, dy: F32, _stage: int) -> None:
            x = kern.burden(y[0:2], lnk)
            g = kern.w2
            np.multiply(x, inv_kl, out=g)
            np.subtract(1.0, g, out=g)
            g *= growth
            np.subtract(g, kill_rate, out=dy[0])
            np.multiply(rho, kill_rate, out=dy[1])
            np.subtract(g, dy[1], out=dy[1])
            if imm is not None:
                dy[0:2] -= imm
            np.log1p(x, out=kern.lm)
            np.multiply(chain_n.crowd, kern.lm, out=expo_n)
            np.subtract(chain_n.gl, expo_n, out=expo_n)
            kern.chain(y[2:7], dy[2:7], chain_n, expo_n, 1.0 - theta_n)
            if m > 7:
                np.multiply(chain_p.crowd, kern.lm, out=expo_p)
                np.subtract(chain_p.gl, expo_p, out=expo_p)
                kern.chain(y[7:12], dy[7:12], chain_p, expo_p, 1.0 - theta_p)
        return f

    maint = _Maintenance(kern, s, cl, slope, rho, q1, r, inv_kl, lnk, chain_m, expo_n)
    aug_days = range(0)
    aug_mult: F32 | None = None
    aug_ratio = 1.0
    if intensify and protocol.augmented_phase is not None:
        k_aug = [i for i, ph in enumerate(protocol.phases) if ph.name == protocol.augmented_phase]
        if k_aug:
            ph_aug = protocol.phases[k_aug[0]]
            aug_days = range(starts[k_aug[0]], starts[k_aug[0]] + ph_aug.days)
            aug_ratio = protocol.augmented_kill / ph_aug.kill
    loop: MaintenanceLoop | None = None
    if titration is not None:
        every = titration.interval_days(protocol)
        loop = MaintenanceLoop(titration, protocol, batch.genotype, dose_nominal,
                               -(-(therapy_end - maint_start) // every), nudt15=batch.nudt15)
        plt_exp = p[:, _PI["crowd_P"]] / p[:, _PI["gam_P"]]
        omega_anc = math.sqrt(math.log1p(ps.value("anc_residual_cv", pop) ** 2))

    for day in range(last_day + 1):
        lnl = s[0:2]
        if extinction:
            np.less(lnl, ncrit, out=m2)
            np.putmask(lnl, m2, EXTINCT)
        x = kern.burden(lnl, lnk)
        if day == 8:
            cols.update(day8_columns(x.astype(np.float64), s[6].astype(np.float64), batch,
                                     limits))
        if day == ind_days:
            x64 = x.astype(np.float64)
            b = x64 / (1.0 + x64)
            cols.update(eoi_columns(b, s[6].astype(np.float64), s[11].astype(np.float64), batch,
                                    limits))
            in_cr = ev.alive & (b < 0.05)
            if checkpoints is not None and checkpoints.response:
                # phase change decided by the response pack from the observed marrow and CBC
                assert checkpoint_u is not None
                pb_eoi = batch.q_pb * x64**batch.pb_exponent
                code, obs, _ = eoi_response(
                    b, cols["marrow_blasts_dx"], pb_eoi / (cols["anc_eoi"] + batch.alc + pb_eoi),
                    cols["anc_eoi"], cols["platelets_eoi"], checkpoint_u[:, CU["eoi_marrow"]],
                    checkpoint_u[:, CU["eoi_smear"]], ps.value("marrow_cells_counted", pop),
                    limits.n_smear, age=batch.age)
                code = np.where(ev.alive, code, -1)  # no marrow after an induction death
                cols["response_eoi"] = code.astype(np.float64)
                cols["marrow_blasts_eoi_obs"] = obs
                in_cr = ev.alive & np.isin(code, [RESPONSE.index(c) for c in REMISSION])
            watch = in_cr.copy()
            ev.end_of_induction(in_cr, ind_days)
            if intensify:
                groups = risk_restratification(
                    pop, batch.subtype, batch.age, cols["wbc_dx"], cols["mrd_blood_d8"],
                    cols["mrd_eoi_flow"], u[:, U["genetics"]])
                high = np.isin(groups["cog_pdq"], [COG_GROUPS.index(g) for g in HIGH_RISK])
                cols["risk_cog_pdq_eoi"] = groups["cog_pdq"].astype(np.float64)
                cols["risk_aall1731_eoi"] = groups["aall1731"].astype(np.float64)
                cols["intensified"] = (high & in_cr & (len(aug_days) > 0)).astype(np.float64)
                if len(aug_days):
                    aug_mult = np.where(in_cr & high, aug_ratio, 1.0).astype(dt)
            adapt_post_induction(p, cols["mrd_eoi_flow"] >= protocol.mrd_positive_threshold,
                                 protocol.mrd_positive_multiplier)
            s_post = p[:, _PI["s_post"]].astype(dt)
        if day == 78:
            x64 = x.astype(np.float64)
            cols["mrd_d78_pcr"] = assay(x64 / (1.0 + x64), u[:, U["d78_pcr"]], limits.lod_pcr,
                                        limits.k_lod)
        if day > ind_days:
            np.greater_equal(x, X_RELAPSE, out=mb)
            mb &= watch
            if mb.any():
                idx = np.flatnonzero(mb)
                watch[idx] = False
                ev.record_relapses(idx, float(day))
        if day == maint_start < therapy_end:
            # hand-over to the Jost chain at the current ANC, assumed quasi-steady (§7 option 1)
            s[2:6] = s[6] * (p[:, _PI["kc_M"]] / p[:, _PI["ktr_M"]]).astype(dt)
            kill_coef = p[:, _PI["s_post"]] * (sched.kill[day] / ref)
        if maint_start <= day < therapy_end:
            since = day - maint_start
            if loop is not None and since % loop.every == 0:
                # closed loop: the patients' observed counts go through the pathway's pack
                x64 = x.astype(np.float64)
                anc64 = s[6].astype(np.float64)
                if visit_z is not None:
                    # the visit's ANC as measured: the ANC model's residual error, log-normal
                    anc64 = anc64 * np.exp(omega_anc * visit_z[:, since // loop.every]
                                           - 0.5 * omega_anc**2)
                wbc = anc64 + batch.alc + batch.q_pb * x64**batch.pb_exponent
                plt_obs = p[:, _PI["C0_P"]] * (1.0 + x64) ** -plt_exp
                dose = loop.visit(day, since, anc64, wbc, plt_obs, watch & (ev.death_day > day))
                dose_per_bsa = dose / batch.bsa
                maint.set_dose(tgn_in * dose / cl, kill_coef)
            elif loop is None and since % protocol.check_every_days == 0:
                if titrate:
                    anc = s[6]
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
                else:
                    dose = dose_nominal
                dose_per_bsa = dose / batch.bsa
                maint.set_dose(tgn_in * dose / cl, kill_coef)
            anc_maint_sum += s[6]
            dose_maint_sum += dose_per_bsa
        if trace is not None and day <= trace.anc.shape[1] - 1:
            trace.ln_l[:, day] = np.logaddexp(s[0], s[1])
            trace.anc[:, day] = s[6]
            trace.plt[:, day] = s[11] if day <= plt_until else np.nan
        if day == last_day:
            break
        # --- hazards over [day, day + 1) -----------------------------------------------------
        if day < ind_days:
            ev.induction_day(day, s[6] < 0.5)
            ev.alive &= ev.death_day > day + 1.0  # later deaths gate no event (TRM below)
        # --- step ----------------------------------------------------------------------------
        k_sub = sched.substeps[day]
        if day < maint_start:
            growth = r
            s_row = s_post if sched.post_induction[day] else (
                s_pro if sched.prophase[day] else s_ind)
            np.multiply(s_row, sched.kill[day], out=ks)
            if aug_mult is not None and day in aug_days:
                ks *= aug_mult  # augmented phase for the re-stratified patients
            m = 12 if day < plt_until else 7
            k_imm = None if immune is None else immune.kill(day, x)
            f = acute_rhs(ks, growth, sched.theta_n[day], sched.theta_p[day], m,
                          None if k_imm is None else k_imm.astype(dt))
            for _ in range(k_sub):
                _rk4(kern, s[:m], 1.0 / k_sub, f)
                np.maximum(s[2:m], 1e-12, out=s[2:m])
        else:
            maint.step(k_sub)

    # --- treatment-related death in remission: constant hazard, closed form -----------------
    ev.trm_closed_form(ind_days, min(therapy_end, last_day))
    if last_day < horizon_days:
        ev.relapse_after_therapy(
            np.logaddexp(s[0].astype(np.float64), s[1].astype(np.float64)), last_day,
            horizon_days, ln_x_rel, p[:, _PI["r_post"]])

    if checkpoints is not None and checkpoints.relapse:
        # relapse found at a surveillance visit and classified by the relapse pack
        assert checkpoint_u is not None
        ri = np.flatnonzero(ev.relapsed & np.isfinite(ev.relapse_day))
        every_on = (protocol.check_every_days if checkpoints.weeks_on_therapy is None
                    else 7.0 * checkpoints.weeks_on_therapy)
        every_off = (None if checkpoints.weeks_off_therapy is None
                     else 7.0 * checkpoints.weeks_off_therapy)
        call = relapse_call(
            ev.relapse_day[ri], np.full(ri.size, math.log(X_RELAPSE)), p[ri, _PI["r_post"]],
            np.log(p[ri, _PI["K_L_ratio"]]), float(therapy_end), float(every_on), every_off,
            checkpoint_u[ri, CU["relapse"]:], ps.value("marrow_cells_counted", pop),
            limits.lod_flow, limits.k_lod, batch.subtype[ri] == 1, batch.age[ri], DAYS_PER_MONTH)
        ev.relapse_day[ri] = call.day
        ev.death_day[ri] = np.inf
        ev.post_relapse_death(ri, call.day, post_relapse_os5(call.timing_cog, *ev.os5))
        b_obs = np.full(n, np.nan)
        b_obs[ri] = call.marrow_pct / 100.0
        for key, vals, fill in (("relapse_site", call.site, -1.0),
                                ("relapse_timing_cog", call.timing_cog, -1.0),
                                ("relapse_template", call.template, -1.0),
                                ("relapse_marrow_blasts_obs", call.marrow_pct, np.nan),
                                ("relapse_repeat_marrows", call.repeats, np.nan)):
            col = np.full(n, fill)
            col[ri] = vals
            cols[key] = col
    if ev.treated:
        # the salvage roadmap of the packs as the relapsed patients' protocol
        cols.update(salvage.apply_to_cohort(
            ps, protocol, batch, ev.relapsed, ev.relapse_day, ev.death_day, (s[0], s[1]),
            None if checkpoints is None or not checkpoints.relapse else b_obs))
    cols.update(ev.columns(horizon_days))
    maint_days = max(min(therapy_end, last_day + 1) - maint_start, 1)
    cols["anc_maintenance_mean"] = anc_maint_sum / maint_days
    cols["mp_dose_mean_mg_m2"] = dose_maint_sum / maint_days
    if loop is not None:
        cols.update(loop.columns())
    fill_assay_columns(cols, n)
    traj = None
    if trace is not None:
        traj = np.stack([trace.ln_l, trace.anc, trace.plt], axis=2)
    return RunResult(columns=cols, trajectory=traj, phase_starts=starts)


class _Maintenance:
    """One maintenance day: exact 6-TGN, exact kill integral, RK4 on the Jost chain.

    6-TGN over a sub-step h is T(t+h) = a_h T + c_h, a_h = e^{-CL h}, c_h = T_inf (1 - a_h), so
    the Jost effect 1 - slope T at the RK4 stage times is affine in T(t) with coefficients
    precomputed per dose period (:meth:`set_dose`); the value at t + h is reused as the next
    step's value at t. The kill integral over a day is KA T(day) + KB.
    """

    def __init__(self, kern: _Kernel, s: F32, cl: Array, slope: F32, rho: F32, q1: Array,
                 r: F32, inv_kl: F32, lnk: F32, chain: _Chain, expo: F32) -> None:
        dt = s.dtype.type
        self.kern, self.s, self.cl, self.slope, self.q1 = kern, s, cl, slope, q1
        self.r, self.inv_kl, self.lnk, self.chain, self.expo = r, inv_kl, lnk, chain, expo
        n = s.shape[1]
        self.rho = rho
        self.rho2 = np.stack([np.ones_like(rho), rho])
        self.tgn = np.zeros(n, dtype=dt)
        self.buf2 = np.empty((2, n), dtype=dt)
        self.ome = [np.empty(n, dtype=dt) for _ in range(3)]
        self.ome0_valid = False
        self.kill_coef = np.zeros(n)
        self.ka = np.zeros(n, dtype=dt)
        self.kb = np.zeros(n, dtype=dt)
        self.t_inf = np.zeros(n)
        self.coef: dict[int, tuple[F32, F32, F32, F32, F32, F32]] = {}

    def rhs(self, y: F32, dy: F32, stage: int) -> None:
        """Jost chain derivative with the 6-TGN effect at RK4 stage ``stage``."""
        self.kern.chain(y, dy, self.chain, self.expo, self.ome[stage])

    def set_dose(self, t_inf: Array, kill_coef: Array) -> None:
        """New 6-TGN steady state ``t_inf`` (dose period) and kill coefficient s_post k/ref."""
        dt = self.s.dtype.type
        self.t_inf = t_inf
        self.kill_coef = kill_coef
        self.ka = (kill_coef * self.q1).astype(dt)
        self.kb = (kill_coef * t_inf * (1.0 - self.q1)).astype(dt)
        self.coef.clear()

    def _coefficients(self, k_sub: int) -> tuple[F32, F32, F32, F32, F32, F32]:
        if k_sub not in self.coef:
            dt = self.s.dtype.type
            h = 1.0 / k_sub
            a_half, a_h = np.exp(-self.cl * h / 2), np.exp(-self.cl * h)
            c_h = self.t_inf * (1.0 - a_h)
            slope = self.slope.astype(np.float64)
            self.coef[k_sub] = tuple(v.astype(dt) for v in (  # type: ignore[assignment]
                a_h, c_h,
                1.0 - slope * self.t_inf * (1.0 - a_half), slope * a_half,
                1.0 - slope * c_h, slope * a_h,
            ))  # fmt: skip
        return self.coef[k_sub]

    def step(self, k_sub: int) -> None:
        """Advance the leukaemia, 6-TGN and the neutrophil chain by one day."""
        kern, s, tgn, ome = self.kern, self.s, self.tgn, self.ome
        a_h, c_h, a1, b1, a2, b2 = self._coefficients(k_sub)
        x = kern.x  # burden at the start of the day (computed by the caller)
        expo = self.expo
        # crowding exponent of the neutrophil feedback, frozen over the day
        np.log1p(x, out=kern.lm)
        np.multiply(self.chain.crowd, kern.lm, out=expo)
        np.subtract(self.chain.gl, expo, out=expo)
        # leukaemia: g frozen at x(day); kill integral of s_post kappa_M TGN(t)/TGN_ref exactly
        g = kern.w2
        np.multiply(x, self.inv_kl, out=g)
        np.subtract(1.0, g, out=g)
        g *= self.r
        kint = kern.lm
        np.multiply(self.ka, tgn, out=kint)
        kint += self.kb
        big = np.flatnonzero(x > 0.01)
        if big.size:
            # a growing (relapsed) burden: midpoint rule for growth and crowding there
            lnl_mid = s[0:2, big] + 0.5 * (g[big] - kint[big] * self.rho2[:, big])
            x_mid = np.exp(lnl_mid - self.lnk[big]).sum(axis=0)
            g[big] = self.r[big] * (1.0 - x_mid * self.inv_kl[big])
            expo[big] = self.chain.gl[big] - self.chain.crowd[big] * np.log1p(x_mid)
        np.multiply(self.rho2, kint, out=self.buf2)
        s[0:2] += g
        s[0:2] -= self.buf2
        if not self.ome0_valid:
            np.multiply(self.slope, tgn, out=ome[0])
            np.subtract(1.0, ome[0], out=ome[0])
            self.ome0_valid = True
        y = s[2:7]
        h = 1.0 / k_sub
        for _ in range(k_sub):
            # 1 - slope TGN at t + h/2 and t + h (exact 6-TGN), then TGN(t + h)
            np.multiply(b1, tgn, out=ome[1])
            np.subtract(a1, ome[1], out=ome[1])
            np.multiply(b2, tgn, out=ome[2])
            np.subtract(a2, ome[2], out=ome[2])
            tgn *= a_h
            tgn += c_h
            _rk4(kern, y, h, self.rhs)
            np.maximum(y, 1e-12, out=y)
            ome[0], ome[2] = ome[2], ome[0]
