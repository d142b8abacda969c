"""The relapsed/refractory immunotherapy simulator and its summaries.

:func:`simulate_relapsed` runs an r/r study cohort (salvage chemotherapy, blinatumomab, CAR-T,
optional HSCT and salvage after relapse) through :class:`allpath.sim.immuno_model.RelapseModel`;
:func:`summarise_relapsed` gives the study figures (response, survival, remission duration).
The model is described in :mod:`allpath.sim.immuno`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from allpath.sim.base import Array
from allpath.sim.immuno_model import (
    IMMUNO_UNIFORMS,
    ImmunoDrive,
    ImmunoPatients,
    RelapseModel,
    entry_state,
    relapse_parameters,
)
from allpath.sim.immuno_params import Course, ImmunoParameters, RelapsedCohort
from allpath.sim.immuno_pkpd import KillConstants, blin_concentration
from allpath.sim.outcomes import DAYS_PER_MONTH, EXTINCT, assay
from allpath.sim.params import (
    ParameterSet,
    Protocol,
)
from allpath.sim.population import Batch
from allpath.sim.survival import km_at, km_median

__all__ = [
    "CoursePlan",
    "plan_courses",
    "simulate_relapsed",
    "summarise_relapsed",
]

@dataclass(frozen=True, slots=True)
class CoursePlan:
    """A regimen tabulated per day: which course (index) runs, -1 for none."""

    course_of_day: tuple[int, ...]
    car_day: float | None


def plan_courses(courses: tuple[Course, ...]) -> CoursePlan:
    end = max(c.stop for c in courses)
    idx = [-1] * end
    car: float | None = None
    for k, c in enumerate(courses):
        if c.agent == "car_t":
            car = float(c.start) if car is None else car
            continue
        for d in range(c.start, c.stop):
            idx[d] = k
    return CoursePlan(tuple(idx), car)


def simulate_relapsed(
    ps: ParameterSet,
    ip: ImmunoParameters,
    cohort: RelapsedCohort,
    batch: Batch,
    imm: ImmunoPatients,
    *,
    extinction: bool = True,
    protocol: Protocol | None = None,
) -> dict[str, Array]:
    """Simulate an r/r cohort from entry to ``cohort.horizon_days``; per-patient columns.

    ``cohort.transplant_share``: that share of the patients in remission (and not relapsed) on
    ``cohort.transplant_day`` gets an allogeneic HSCT (log kill and transplant mortality of
    ``relapse_therapy.yaml``, variant of the population; no further study courses).
    ``cohort.salvage_after_relapse``: a relapse after remission is treated by the salvage
    roadmap (:func:`allpath.sim.salvage.treat_relapses`, frontline ``protocol`` for the
    continuation kill; timing from study entry), which then decides death.

    Columns: ``blasts_entry``, ``cd19neg_clone``, ``response`` (remission at an assessment
    day), ``response_day``, ``best_blasts`` (lowest B at the assessments), ``relapse`` /
    ``relapse_day`` (B >= 5 % after remission), ``cd19neg_relapse`` (the CD19-negative clone
    dominates at relapse), ``death`` / ``death_day`` (hazard h_dis B(t)), ``efs_event`` /
    ``efs_day`` (no remission counts at day 0), ``os_day``, ``blin_css_28`` (pg/mL at
    28 µg/d), ``car_cmax``.
    """
    model = RelapseModel()
    const = KillConstants.from_parameters(ip)
    p = relapse_parameters(batch, imm)
    b0, y = entry_state(ip, cohort, batch, imm)
    n = batch.n
    u = imm.uniforms
    ncrit = batch.ln_n_crit
    plan = plan_courses(cohort.courses)
    h_dis = ip.value("disease_death_rate")
    kappa_salv = ip.value("salvage_kill")
    k_lod = ps.value("assay_events_at_lod", batch.population)
    lod = ps.value("flow_detection_limit", batch.population)
    e_death = -np.log(u[:, IMMUNO_UNIFORMS["death"]])
    h_cum = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    responded = np.zeros(n, dtype=bool)
    relapsed = np.zeros(n, dtype=bool)
    response_day = np.full(n, np.inf)
    relapse_day = np.full(n, np.inf)
    death_day = np.full(n, np.inf)
    neg_relapse = np.zeros(n, dtype=bool)
    best = b0.copy()
    transplanted = np.zeros(n, dtype=bool)
    tx_death = np.full(n, np.inf)
    y_at_relapse = np.zeros((n, 2))
    tx_p = cohort.transplant_share
    tx_kill = tx_trm = tx_follow = 0.0
    if tx_p > 0 or cohort.salvage_after_relapse:
        from allpath.sim.salvage import load_relapse_therapy, split_uniform

        rt = load_relapse_therapy()
        var = rt.variant(max(ps.value("relapse_therapy", batch.population), 1.0))
        tx_kill = rt.value("hsct_log10_kill", var) * math.log(10.0)
        tx_trm = rt.value("hsct_trm_probability", var)
        tx_follow = float(rt.followup_days)
    assess = set(cohort.assess_days)
    first = min(cohort.assess_days)
    for day in range(cohort.horizon_days):
        if extinction:
            np.putmask(y, y < ncrit, EXTINCT)
        x = model.burden(y, p)
        b = x / (1.0 + x)
        if day in assess:
            best = np.where(alive, np.minimum(best, b), best)
            ok = b < 0.05
            if cohort.response == "mrd":
                ok = assay(b, u[:, IMMUNO_UNIFORMS["assay"]], lod, k_lod) == 0.0
            new = alive & ~responded & ok
            responded |= new
            response_day[new] = day
        if day > first:
            rel = responded & ~relapsed & alive & (b >= 0.05) & (day > response_day)
            if rel.any():
                relapsed |= rel
                relapse_day[rel] = day
                y_at_relapse[rel] = y[rel]
                neg_relapse |= rel & (y[:, 1] > y[:, 0]) & imm.cd19neg
        # death over [day, day + 1) at the hazard of the burden at the start of the day, while
        # the disease is active (not in remission at the last assessment, or relapsed)
        h = np.where((day >= first) & ~responded | relapsed, h_dis * b, 0.0)
        died = alive & (h_cum + h >= e_death)
        death_day[died] = day + (e_death[died] - h_cum[died]) / h[died]  # linear in the day
        h_cum += h
        alive &= ~died
        if tx_p > 0 and day == cohort.transplant_day:
            # allogeneic HSCT of the patients in remission: log kill of both clones now,
            # transplant death within the follow-up window
            go = alive & responded & ~relapsed & (u[:, IMMUNO_UNIFORMS["hsct"]] < tx_p)
            transplanted |= go
            y[go] -= tx_kill
            trm = go & (split_uniform(u[:, IMMUNO_UNIFORMS["hsct_trm"]], 2)[0] < tx_trm)
            t_trm = day + split_uniform(u[:, IMMUNO_UNIFORMS["hsct_trm"]], 2)[1] * tx_follow
            tx_death = np.where(trm, t_trm, tx_death)
        k = plan.course_of_day[day] if day < len(plan.course_of_day) else -1
        on = None
        chemo = blin = blin_m2 = 0.0
        if k >= 0:
            c = cohort.courses[k]
            on = responded & alive & ~transplanted if c.responders_only else None
            if c.agent == "chemotherapy":
                chemo = kappa_salv
            else:
                blin, blin_m2 = c.dose_ug_d, c.dose_ug_m2_d
        drive = ImmunoDrive(const, chemo, blin, blin_m2, on, plan.car_day)
        y = model.step_day(day, y, p, drive)

    # transplant deaths (before any relapse they would have had)
    died_tx = transplanted & (tx_death < np.minimum(relapse_day, death_day))
    death_day = np.where(died_tx, tx_death, death_day)
    relapse_day = np.where(died_tx, np.inf, relapse_day)
    relapsed &= ~died_tx
    extra: dict[str, Array] = {"hsct": transplanted.astype(np.float64)}
    if cohort.salvage_after_relapse:
        from allpath.sim import salvage

        if protocol is None:
            raise ValueError(f"{cohort.name}: salvage_after_relapse needs the frontline protocol")
        lnl_rel = np.where(relapsed[:, None], y_at_relapse, y)
        # composition of the relapse: the clones at the relapse day (rows of relapsed patients)
        fake = np.where(relapsed, relapse_day, np.inf)
        cols = salvage.apply_to_cohort(ps, protocol, batch, relapsed, fake, death_day,
                                       (lnl_rel[:, 0], lnl_rel[:, 1]),
                                       variant=cohort.salvage_variant)
        extra.update(cols)
    horizon = float(cohort.horizon_days)
    death = death_day <= horizon
    rel = relapse_day <= horizon
    efs_time = np.where(responded, np.minimum(relapse_day, death_day), 0.0)
    return {
        **extra,
        "blasts_entry": b0,
        "cd19neg_clone": imm.cd19neg.astype(np.float64),
        "response": responded.astype(np.float64),
        "response_day": np.where(responded, response_day, np.nan),
        "best_blasts": best,
        "relapse": rel.astype(np.float64),
        "relapse_day": np.where(rel, relapse_day, np.nan),
        "cd19neg_relapse": (neg_relapse & rel).astype(np.float64),
        "death": death.astype(np.float64),
        "death_day": np.where(death, death_day, np.nan),
        "efs_event": (efs_time <= horizon).astype(np.float64),
        "efs_day": np.minimum(efs_time, horizon),
        "os_day": np.minimum(death_day, horizon),
        "blin_css_28": blin_concentration(28.0, imm.cl_blin),
        "car_cmax": imm.car.cmax,
    }


def summarise_relapsed(cols: Mapping[str, np.ndarray[Any, Any]]) -> dict[str, Any]:
    """Summary of an r/r cohort: ``response_rate``, median OS and remission duration (months),
    OS and EFS at 6/12/36 months (while inside the horizon), relapse-free survival 12 months
    after remission among responders (``rfs_12m_responders``), relapse and CD19-negative
    relapse shares among responders."""
    n = int(cols["id"].shape[0])
    resp = cols["response"] == 1
    death = cols["death"] == 1
    horizon = float(np.max(cols["os_day"])) if n else 0.0
    out: dict[str, Any] = {
        "n": n,
        "response_rate": float(resp.mean()) if n else math.nan,
        "median_os_months": km_median(cols["os_day"], death) / DAYS_PER_MONTH,
    }
    os_, efs = {}, {}
    for months in (6, 12, 36):
        t = months * DAYS_PER_MONTH
        if t <= horizon + 1:
            os_[f"{months}m"] = km_at(cols["os_day"], death, t)
            efs[f"{months}m"] = km_at(cols["efs_day"], cols["efs_event"] == 1, t)
    out["os"] = os_
    out["efs"] = efs
    if resp.any():
        r0 = cols["response_day"][resp]
        end = np.fmin(cols["relapse_day"][resp], cols["death_day"][resp]) - r0
        ev = np.isfinite(end)
        # a responder without relapse or death is censored at the end of follow-up
        dur = np.where(ev, end, cols["os_day"][resp] - r0)
        out["rfs_12m_responders"] = km_at(dur, ev, 365.25)
        out["median_remission_months"] = km_median(dur, ev) / DAYS_PER_MONTH
        rel = cols["relapse"][resp] == 1
        out["relapse_rate_responders"] = float(rel.mean())
        out["cd19neg_relapse_share"] = float(cols["cd19neg_relapse"][resp][rel].mean()) \
            if rel.any() else math.nan
    return out
