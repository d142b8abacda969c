"""The outcome, assay and survival bookkeeping every kernel shares (allpath.sim.outcomes)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.stats import poisson

from allpath.sim import load_config
from allpath.sim.base import patient_randoms
from allpath.sim.outcomes import X_RELAPSE, Events, assay, count, diagnosis_columns
from allpath.sim.population import N_NORMAL, N_UNIFORM, Batch, U, make_batch


def _batch(n: int, preset: str = "pediatric", seed: int = 11) -> tuple[Any, Batch]:
    cfg = load_config(preset)
    z, u = patient_randoms(seed, 0, n, N_NORMAL, N_UNIFORM)
    return cfg, make_batch(cfg.parameters, cfg.population, cfg.protocol, np.arange(n), z, u)


def test_assay_is_the_poisson_quantile_of_scipy_with_the_half_event_cut() -> None:
    """The one assay is what the reference kernel computed with scipy.stats.poisson.ppf."""
    rng = np.random.default_rng(3)
    frac = np.concatenate([10.0 ** rng.uniform(-7, 0, 20_000), np.zeros(100)])
    u = rng.random(frac.size)
    lod, k_lod = 1e-4, 20.0
    n_cells = k_lod / lod
    k = poisson.ppf(u, frac * n_cells)
    k = np.where(np.isfinite(k), k, 0.0)
    expected = np.where(k >= k_lod / 2.0, k / n_cells, 0.0)
    np.testing.assert_array_equal(assay(frac, u, lod, k_lod), expected)
    assert (expected > 0).any() and (expected == 0).any()


def test_count_never_exceeds_the_cells_counted() -> None:
    u = np.array([0.5, 0.999999, 0.5])
    got = count(u, np.array([0.0, 1.0, 0.3]), 200.0)
    assert got[0] == 0.0
    assert got[1] == 200.0  # a Poisson count of mean 200 above 200 is capped
    assert got[2] == poisson.ppf(0.5, 60.0)


def test_closed_form_trm_gives_the_days_of_the_daily_hazard() -> None:
    """The cohort kernels' closed form and the reference kernel's daily hazard agree."""
    cfg, batch = _batch(4000)
    protocol = cfg.protocol
    ind_days = protocol.phases[0].days
    daily = Events.start(cfg.parameters, protocol, batch, treated=False)
    closed = Events.start(cfg.parameters, protocol, batch, treated=False)
    for ev in (daily, closed):
        ev.end_of_induction(np.ones(batch.n, dtype=bool), ind_days)
    for day in range(ind_days, protocol.therapy_days):
        daily.trm_day(day)
        daily.alive &= daily.death_day > day + 1.0
    closed.trm_closed_form(ind_days, protocol.therapy_days)
    died = np.isfinite(daily.death_day) & (daily.death_day <= protocol.therapy_days)
    assert 10 < died.sum() < batch.n // 2  # p_TRM of a few per cent
    np.testing.assert_array_equal(closed.death_day[died], daily.death_day[died])


def test_a_relapse_on_the_day_of_a_treatment_related_death_is_replaced_by_the_death() -> None:
    cfg, batch = _batch(2000)
    ind_days = cfg.protocol.phases[0].days
    ev = Events.start(cfg.parameters, cfg.protocol, batch, treated=False)
    ev.end_of_induction(np.ones(batch.n, dtype=bool), ind_days)
    trm_day = ind_days + np.ceil(ev.e_trm / ev.h_trm)
    i = int(np.argmin(trm_day))
    ev.record_relapses(np.array([i]), trm_day[i])
    ev.trm_closed_form(ind_days, cfg.protocol.therapy_days)
    assert not ev.relapsed[i] and ev.death_day[i] == trm_day[i]


def test_post_relapse_death_follows_the_timing_class_of_the_months_from_diagnosis() -> None:
    cfg, batch = _batch(3000)
    ev = Events.start(cfg.parameters, cfg.protocol, batch, treated=False)
    idx = np.arange(batch.n)
    t = np.full(batch.n, 400.0)  # 13 months: very early
    ev.post_relapse_death(idx, t)
    h = -np.log(ev.os5[0]) / (5 * 365.25)
    np.testing.assert_allclose(ev.death_day,
                               t - np.log(batch.uniforms[:, U["post_relapse"]]) / h)
    # the 5-yr OS of the class is what comes out
    assert np.mean(ev.death_day - t > 5 * 365.25) == pytest.approx(ev.os5[0], abs=0.03)
    treated = Events.start(cfg.parameters, cfg.protocol, batch, treated=True)
    treated.post_relapse_death(idx, t)
    assert np.isinf(treated.death_day).all()  # the salvage roadmap decides instead


def test_event_columns_count_an_induction_failure_as_an_efs_event_at_day_zero() -> None:
    cfg, batch = _batch(500)
    ind_days = cfg.protocol.phases[0].days
    ev = Events.start(cfg.parameters, cfg.protocol, batch, treated=False)
    in_cr = np.ones(batch.n, dtype=bool)
    in_cr[:5] = False
    ev.end_of_induction(in_cr, ind_days)
    cols = ev.columns(1827)
    assert (cols["induction_failure"][:5] == 1).all() and (cols["efs_day"][:5] == 0).all()
    assert (cols["efs_event"][:5] == 1).all()
    assert (ev.death_day[:5] > ind_days).all()


def test_relapse_after_therapy_grows_from_the_last_burden_at_r_post() -> None:
    cfg, batch = _batch(200)
    ev = Events.start(cfg.parameters, cfg.protocol, batch, treated=False)
    ev.end_of_induction(np.ones(batch.n, dtype=bool), cfg.protocol.phases[0].days)
    ln_x_rel = np.full(batch.n, np.log(X_RELAPSE) + 25.0)
    lnl_end = ln_x_rel - 1.0
    lnl_end[0] = -2000.0  # extinct: never relapses
    r_post = np.full(batch.n, 0.01)
    ev.relapse_after_therapy(lnl_end, 800, 1827, ln_x_rel, r_post)
    assert not ev.relapsed[0]
    alive = ev.death_day[1:] > 800
    assert (ev.relapse_day[1:][alive] == 900.0).all()


def test_diagnosis_columns_match_the_reference_counts() -> None:
    from allpath.sim.engine import counts
    from allpath.sim.model import steady_state

    _, batch = _batch(300)
    y0 = steady_state(batch.p, batch.ln_l_s, batch.ln_l_r)
    cols = diagnosis_columns(batch, y0)
    c = counts(batch, y0)
    for key, ref in (("wbc_dx", "wbc"), ("hemoglobin_dx", "hemoglobin"),
                     ("platelets_dx", "platelets"), ("anc_dx", "anc"),
                     ("marrow_blasts_dx", "blast_fraction")):
        np.testing.assert_array_equal(cols[key], c[ref])
