"""Checks beside the declarative targets (``test_validation_targets.py``): that the maintenance
dose step starts at its steady state and the cohort's t90 spread, the sample sizes behind the
survival-after-relapse rows, the aya preset's protocol mix and 20-39 y band, and the induction
death of >= 60 y.

Cohorts: the session fixtures of ``conftest.py`` (seed 2025).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from allpath.sim import simulate_cohort
from allpath.sim.base import patient_randoms
from allpath.sim.cohort import load_config
from allpath.sim.model import PARAMS
from allpath.sim.population import N_NORMAL, N_UNIFORM, U, make_batch
from allpath.sim.validation import maintenance_dose_step, os_at, post_relapse_os

Cols = dict[str, np.ndarray[Any, Any]]


# ----------------------------------------------------------------- target 7, dose response
@pytest.mark.parametrize("dose_after", [75.0, 25.0])
def test_jost2020_dose_step_starts_at_the_steady_state_of_the_old_dose(dose_after: float) -> None:
    """The dose step behind the t90 rows (validation_targets.yaml, target 7) starts at the
    closed-form steady state of 50 mg/m²/d, so t90 times the change and not a transient."""
    cfg = load_config("pediatric")
    step = maintenance_dose_step(cfg.parameters, cfg.population, cfg.protocol, 1, 0,
                                 dose_after=dose_after, typical=True)
    assert step.anc_end[0] == pytest.approx(step.anc_before[0], rel=1e-6)


def test_jost2020_cpic_t90_of_most_children_within_21_to_45_days() -> None:
    """On 1,000 virtual children with inter-individual variability (Jost 2020 EBE spreads) at
    least 80 % of patients reach 90 % of the new ANC steady state within 21-45 days (CPIC;
    the median is the row jost2020_cpic_t90_cohort_median)."""
    cfg = load_config("pediatric")
    step = maintenance_dose_step(cfg.parameters, cfg.population, cfg.protocol, 1000, 2025)
    assert np.mean((step.t90 >= 21) & (step.t90 <= 45)) >= 0.8


# ----------------------------------------------------------------- target 9, after relapse
def test_rheingold2024_relapse_timing_classes_each_hold_200_relapses(pediatric_long: Cols) -> None:
    """The rows after relapse (Rheingold 2024 5-yr OS by timing class, validation_targets.yaml
    target 9) rest on at least 200 simulated relapses per class in the 10-year cohort."""
    os_ = post_relapse_os(pediatric_long)
    assert min(os_["n_early"], os_["n_intermediate"], os_["n_late"]) >= 200


# ----------------------------------------------------------------- target 10, age gradient
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
