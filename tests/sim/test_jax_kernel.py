"""The JAX cohort kernel (allpath.sim.jax_kernel) against the numpy fast kernel.

Runs on JAX's default device (CPU here; a GPU where there is one). CI installs the ``jax``
extra, so these run there; without JAX the module is skipped.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

pytest.importorskip("jax")

from allpath.sim import load_config, simulate_cohort
from allpath.sim.base import patient_randoms
from allpath.sim.closed_loop import TitrationConfig
from allpath.sim.cohort import chunk_table, summarise
from allpath.sim.fast import run_cohort_batch
from allpath.sim.jax_kernel import run_cohort_batch_jax
from allpath.sim.population import N_NORMAL, N_UNIFORM, Batch, make_batch

N = 3000
EVENTS = ("cr", "induction_death", "induction_failure", "relapse", "death", "efs_event")


def _batch(preset: str, start: int, stop: int, seed: int = 5) -> Batch:
    cfg = load_config(preset)
    z, u = patient_randoms(seed, start, stop, N_NORMAL, N_UNIFORM)
    return make_batch(cfg.parameters, cfg.population, cfg.protocol, np.arange(start, stop), z, u)


@pytest.fixture(scope="module", params=["pediatric", "adult"])
def pair(request: pytest.FixtureRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """(numpy fast, JAX) columns of the same patients (adult: many more relapses)."""
    cfg = load_config(request.param)
    fast = run_cohort_batch(cfg.parameters, cfg.protocol, _batch(request.param, 0, N),
                            cfg.horizon_days).columns
    jx = run_cohort_batch_jax(cfg.parameters, cfg.protocol, _batch(request.param, 0, N),
                              cfg.horizon_days).columns
    return fast, jx


def test_same_columns_and_diagnosis_counts(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    fast, jx = pair
    assert set(fast) == set(jx)
    for key in ("wbc_dx", "hemoglobin_dx", "platelets_dx", "anc_dx", "marrow_blasts_dx"):
        np.testing.assert_allclose(jx[key], fast[key], rtol=1e-6, err_msg=key)


def test_counts_at_end_of_induction_within_2_percent(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    fast, jx = pair
    for key in ("anc_eoi", "platelets_eoi", "mrd_eoi_true"):
        np.testing.assert_allclose(jx[key], fast[key], rtol=0.02, atol=1e-12, err_msg=key)
    # the Poisson assays draw from the same uniforms: equal but for burdens at a count boundary
    for key in ("mrd_eoi_flow", "mrd_eoi_pcr", "mrd_blood_d8", "mrd_d78_pcr"):
        assert np.mean(jx[key] != fast[key]) < 0.02, key
    for key in ("anc_maintenance_mean", "mp_dose_mean_mg_m2"):
        np.testing.assert_allclose(jx[key], fast[key], rtol=0.02, err_msg=key)


def test_events_identical_for_nearly_all_patients(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    fast, jx = pair
    for key in EVENTS:
        same = np.mean(jx[key] == fast[key])
        assert same >= 0.995, (key, same)
    both = (jx["relapse"] == 1) & (fast["relapse"] == 1)
    assert both.sum() > 50
    assert np.all(np.abs(jx["relapse_day"][both] - fast["relapse_day"][both]) <= 1.0)


def test_relapse_therapy_same_in_both_kernels(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """The salvage roadmap (allpath.sim.salvage) is one numpy hook after either kernel: for
    patients relapsing on the same day the course after relapse is the same."""
    fast, jx = pair
    same_day = (jx["relapse"] == 1) & (fast["relapse"] == 1) & (
        jx["relapse_day"] == fast["relapse_day"])
    assert same_day.sum() > 50
    for key in ("cr2", "hsct_cr2", "relapse_risk_cog", "salvage_template"):
        agree = np.mean(jx[key][same_day] == fast[key][same_day])
        assert agree >= 0.98, (key, agree)


def test_cohort_summary_within_half_a_point() -> None:
    """Through simulate_cohort (kernel ``jax`` in chunk_table), chunks of 1000."""
    cfg = load_config("pediatric")
    s_fast = summarise(simulate_cohort(cfg, n=N, seed=3, chunk_size=1000))
    s_jax = summarise(simulate_cohort(replace(cfg, kernel="jax"), n=N, seed=3, chunk_size=1000,
                                      workers=2))
    for key in ("cr_rate", "induction_death_rate", "relapse_rate", "efs_5y", "os_5y"):
        assert abs(s_jax[key] - s_fast[key]) <= 0.005, (key, s_jax[key], s_fast[key])


def test_chunk_size_does_not_change_results() -> None:
    cfg = load_config("pediatric")
    whole = run_cohort_batch_jax(cfg.parameters, cfg.protocol, _batch("pediatric", 0, N),
                                 cfg.horizon_days).columns
    parts = [run_cohort_batch_jax(cfg.parameters, cfg.protocol, _batch("pediatric", a, b),
                                  cfg.horizon_days).columns for a, b in ((0, 2200), (2200, N))]
    for key, col in whole.items():
        joined = np.concatenate([p[key] for p in parts])
        np.testing.assert_array_equal(joined, col, err_msg=key)


@pytest.mark.parametrize(("option", "value"), [
    ("titration", TitrationConfig()),
    ("intensify", True),
    ("visit_z", np.zeros((4, 3))),
    ("immune", object()),
])
def test_unsupported_options_raise(option: str, value: Any) -> None:
    cfg = load_config("pediatric")
    with pytest.raises(ValueError, match=option):
        run_cohort_batch_jax(cfg.parameters, cfg.protocol, _batch("pediatric", 0, 4), 100,
                             **{option: value})


def test_unsupported_cohort_options_raise() -> None:
    cfg = replace(load_config("pediatric"), kernel="jax", intensification="pack")
    with pytest.raises(ValueError, match="intensify"):
        chunk_table(cfg, 0, 4, 1)
    with pytest.raises(ValueError, match="immunotherapy"):
        chunk_table(replace(load_config("tower_blinatumomab"), kernel="jax"), 0, 4, 1)


def test_package_imports_without_jax() -> None:
    """The simulator does not import JAX until kernel ``jax`` is used."""
    code = ("import sys; import allpath.sim, allpath.sim.cohort, allpath.sim.jax_kernel; "
            "assert 'jax' not in sys.modules, 'jax imported eagerly'")
    subprocess.run([sys.executable, "-c", code], check=True)
