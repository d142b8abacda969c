"""More models.md §10 targets: maintenance dose response (target 7 and its secondary checks),
survival after relapse by timing (target 9) and the ends of the age gradient (target 10).

Cohorts: the session fixtures of ``conftest.py`` (seed 2025) plus the 10-year pediatric
follow-up, the ``aya`` (15-39 y) and ``older_adult`` (60-80 y) presets. Targets the model cannot
meet are strict xfails with the value measured at seed 2025.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from allpath.sim import simulate_cohort
from allpath.sim.base import patient_randoms
from allpath.sim.cohort import load_config
from allpath.sim.fast import run_cohort_batch
from allpath.sim.model import PARAMS
from allpath.sim.population import N_NORMAL, N_UNIFORM, U, make_batch
from allpath.sim.validation import (
    induction_anc_nadir_day,
    maintenance_dose_step,
    os_at,
    post_relapse_os,
)

Cols = dict[str, np.ndarray[Any, Any]]


# ----------------------------------------------------------------- target 7, dose response
@pytest.mark.parametrize("dose_after", [75.0, 25.0])
def test_jost2020_cpic_time_to_new_anc_steady_state_typical_patient(dose_after: float) -> None:
    """Time to 90 % of a new ANC steady state after a 6-MP change from 50 mg/m²/d: 21-45 days
    (CPIC: 2-4 weeks IM / 4-6 weeks PM; Jost model 37-40 d, models.md §2.1.4 and §10 target 7).

    The population's typical child on the Jost 2020 chain, stepped up and down by 25 mg/m²/d.
    """
    cfg = load_config("pediatric")
    step = maintenance_dose_step(cfg.parameters, cfg.population, cfg.protocol, 1, 0,
                                 dose_after=dose_after, typical=True)
    assert step.anc_end[0] == pytest.approx(step.anc_before[0], rel=1e-6)
    assert 21 <= step.t90[0] <= 45


def test_jost2020_cpic_time_to_new_anc_steady_state_cohort() -> None:
    """The same on 1,000 virtual children with inter-individual variability (Jost 2020 EBE
    spreads): median t90 within 21-45 days and at least 80 % of patients inside the range."""
    cfg = load_config("pediatric")
    step = maintenance_dose_step(cfg.parameters, cfg.population, cfg.protocol, 1000, 2025)
    assert 21 <= np.nanmedian(step.t90) <= 45
    assert np.mean((step.t90 >= 21) & (step.t90 <= 45)) >= 0.8


def test_jost2020_typical_patient_anc_steady_state_at_50_mg() -> None:
    """Jost 2020 typical patient: ANC_ss ≈ 1.8 G/L at 50 mg/m²/d (models.md §2.1.4, 1.81 at
    the median parameters; §10 secondary check). "≈" read as ±10 % (±0.18 G/L)."""
    cfg = load_config("pediatric")
    step = maintenance_dose_step(cfg.parameters, cfg.population, cfg.protocol, 1, 0,
                                 typical=True, days_after=1)
    assert abs(step.anc_before[0] - 1.8) <= 0.18


def test_models_note_induction_anc_nadir_day_14_to_18() -> None:
    """ANC nadir at day 14-18 of induction (models.md §4.3 planning values; median nadir day
    17 in a 243-case induction series; §10 secondary check): median over 4,000 children."""
    cfg = load_config("pediatric")
    n = 4000
    z, u = patient_randoms(2025, 0, n, N_NORMAL, N_UNIFORM)
    batch = make_batch(cfg.parameters, cfg.population, cfg.protocol, np.arange(n), z, u)
    res = run_cohort_batch(cfg.parameters, cfg.protocol, batch, 40, trace_days=35)
    assert res.trajectory is not None
    nadir = induction_anc_nadir_day(res.trajectory[:, :, 1])
    assert 14 <= np.median(nadir) <= 18


# ----------------------------------------------------------------- target 9, after relapse
def test_rheingold2024_b_all_5y_os_after_relapse_by_timing(pediatric_long: Cols) -> None:
    """Rheingold 2024 (COG): 5-yr OS after B-ALL relapse 25.8 / 49.5 / 66.4 % for early
    (< 18 mo) / intermediate (18-36) / late (>= 36) relapse; tolerance ±8 pp.

    Survival after relapse is simulated (:mod:`allpath.sim.salvage`: the packs' salvage
    roadmap on the marrow model), and these three numbers are *fitted* targets of its
    transplant kill, continuation kill and active-disease death ratio
    (``relapse_therapy.yaml``); the timing gradient itself comes from the chemo-resistant
    subclones behind early relapses. Validation of the same machinery on unfitted outcomes:
    ``test_salvage.py`` (AALL0433, GMALL). Relapses in the first 5 years, each followed 5 years
    (10-year cohort).
    """
    os_ = post_relapse_os(pediatric_long)
    assert min(os_["n_early"], os_["n_intermediate"], os_["n_late"]) >= 200
    assert abs(os_["early"] - 0.26) <= 0.08
    assert abs(os_["intermediate"] - 0.50) <= 0.08
    assert abs(os_["late"] - 0.66) <= 0.08


# ----------------------------------------------------------------- target 10, age gradient
def test_sasaki2021_seer_5y_os_15_to_19(aya: Cols) -> None:
    """SEER (Sasaki 2021): 5-yr survival 74 % at 15-19 y; tolerance ±6 pp.

    The ``aya`` preset's protocol mix (Muffly 2018: 87 % of 15-18 y and 16 % of 19-24 y treated
    in a pediatric setting) gives those patients the pediatric kill sensitivities; not fitted
    to this row (v0.4.0 without the mix: 0.607).
    """
    assert abs(os_at(aya, 5.0, 15, 20) - 0.74) <= 0.06


def test_muffly2018_aya_protocol_mix_follows_table1_shares() -> None:
    """Muffly 2018 Table 1: 414/476 of 15-18 y and 58/362 of 19-24 y in a pediatric setting;
    those patients (and only those) take the pediatric induction sensitivity."""
    cfg = load_config("aya")
    n = 40_000
    z, u = patient_randoms(7, 0, n, N_NORMAL, N_UNIFORM)
    b = make_batch(cfg.parameters, cfg.population, cfg.protocol, np.arange(n), z, u)
    young = b.age < 19
    mid = (b.age >= 19) & (b.age < 25)
    assert abs(b.mixed[young].mean() - 414 / 476) < 0.015
    assert abs(b.mixed[mid].mean() - 58 / 362) < 0.015
    assert not b.mixed[(b.age >= 30) & (b.age < 35)].any()
    # same normal draw of s: the mixed patients' induction sensitivity is the pediatric value's
    ps = cfg.parameters
    ratio = ps.value("induction_sensitivity", "pediatric") / ps.value("induction_sensitivity",
                                                                       "aya")
    s_ind = b.p[:, PARAMS.index("s_ind")]
    b0 = make_batch(ps, replace(cfg.population, protocol_mix=None), cfg.protocol,
                    np.arange(n), z, u)
    s0 = b0.p[:, PARAMS.index("s_ind")]
    assert np.allclose(s_ind[b.mixed], s0[b.mixed] * ratio)
    assert np.array_equal(s_ind[~b.mixed], s0[~b.mixed])


def test_sasaki2021_seer_5y_os_60_and_over(older_adult: Cols) -> None:
    """SEER (Sasaki 2021): 5-yr survival below 30 % at 60 y and over (upper bound target).

    ``older_adult`` preset (60-80 y): adult values with the induction death of >= 60 y (15 %,
    hyper-CVAD) and the age slope of the post-induction sensitivity fitted to 20-59 y.
    """
    assert os_at(older_adult, 5.0, 60, 200) < 0.30


def test_sasaki2021_seer_5y_os_20_to_39_aya_preset(aya: Cols) -> None:
    """The ``aya`` preset reproduces the adult preset's 20-39 y band (SEER 59 % ±6 pp)."""
    assert abs(os_at(aya, 5.0, 20, 40) - 0.59) <= 0.06


def test_kantarjian2004_induction_death_rises_to_15_percent_from_60_years() -> None:
    """Hyper-CVAD (clinical fact sheet 5.3): induction death 15 % at 60 y and over. The E1910
    cohort (30-70 y, adult values) takes it by age: about 6 % below 60 y (the adult preset's
    GIMEMA figure) and about 15 % from 60 y, on the same random draws."""
    t = simulate_cohort("e1910_chemotherapy", n=8000, seed=3)
    age = t.column("age").to_numpy()
    died = t.column("induction_death").to_numpy(zero_copy_only=False) == 1
    old = age >= 60
    assert old.sum() >= 1500
    assert abs(died[~old].mean() - 0.06) <= 0.02
    assert abs(died[old].mean() - 0.15) <= 0.035
    # the draw is only transformed from 60 y: younger patients keep theirs, older ones get a
    # larger uniform (a smaller exponential threshold, an earlier crossing of the hazard)
    cfg = load_config("e1910_chemotherapy")
    z, u = patient_randoms(3, 0, 4000, N_NORMAL, N_UNIFORM)
    b = make_batch(cfg.parameters, cfg.population, cfg.protocol, np.arange(4000), z, u)
    col = U["ind_death"]
    young = b.age < 60
    assert np.array_equal(b.uniforms[young, col], u[young, col])
    assert np.all(b.uniforms[~young, col] > u[~young, col])
