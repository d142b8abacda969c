"""Measurement noise on virtual patients' observations: records and titration visits."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from allpath.sim import load_parameters, simulate_patient, to_record
from allpath.sim.closed_loop import TitrationConfig, parse_titration
from allpath.sim.cohort import load_config, simulate_cohort, summarise_table
from allpath.sim.patient import measured_series, measurement_rng

PROFILE = {"id": "v1", "age": 6.0, "sex": "female", "subtype": "B-ALL"}


def _anc_obs(rec: dict[str, Any]) -> list[float]:
    return [o["value"] for o in rec["observations"] if o["code"] == "anc"]


def test_gebhard2023_anc_residual_error_is_the_record_noise() -> None:
    """Measured ANC = model ANC x log-normal with omega^2 = ln(1 + 0.5^2) (Gebhard 2023
    proportional residual error, variance 0.25), mean-preserving; WBC moves with it."""
    run = simulate_patient(PROFILE, seed=3)
    got = measured_series(run, measurement_rng(3))
    ratio = got["anc"] / run.series["anc"]
    omega = math.sqrt(math.log1p(load_parameters().value("anc_residual_cv") ** 2))
    assert np.std(np.log(ratio)) == pytest.approx(omega, rel=0.1)
    assert np.mean(ratio) == pytest.approx(1.0, abs=0.06)
    assert np.allclose(got["wbc"] - got["anc"], run.series["wbc"] - run.series["anc"])
    assert np.array_equal(got["platelets"], run.series["platelets"])


def test_marrow_blasts_are_counted_among_500_cells() -> None:
    run = simulate_patient(PROFILE, seed=3)
    rec = to_record(run, measurement_rng(3))
    marrow = [o["value"] for o in rec["observations"] if o["code"] == "marrow_blasts"]
    assert marrow and all(abs(v / 0.2 - round(v / 0.2)) < 1e-6 for v in marrow)


def test_exact_record_has_the_model_values_and_measured_is_reproducible() -> None:
    run = simulate_patient(PROFILE, seed=3)
    exact = _anc_obs(to_record(run))
    a = _anc_obs(to_record(run, measurement_rng(3)))
    b = _anc_obs(to_record(run, measurement_rng(3)))
    c = _anc_obs(to_record(run, measurement_rng(3, patient=1)))
    assert a == b and a != exact and a != c
    days = sorted({0, 8, 15, 29})
    assert len(exact) > len(days)


def test_parse_titration_anc_noise_must_be_a_flag() -> None:
    assert parse_titration({"policy": "pack", "anc_noise": True}) == TitrationConfig(
        policy="pack", anc_noise=True)
    with pytest.raises(ValueError, match=r"titration\.anc_noise: expected true or false"):
        parse_titration({"policy": "pack", "anc_noise": "y"})


def _cols(table: Any) -> dict[str, np.ndarray[Any, Any]]:
    assert isinstance(table, pa.Table)
    return {k: table.column(k).to_numpy(zero_copy_only=False) for k in table.column_names}


def test_noisy_visit_anc_makes_the_pack_hold_more_often() -> None:
    """With the residual error on the visit ANC, more visits fall under the pack's hold limit
    by chance, so holds per patient-year rise; the run stays chunk-independent."""
    base = load_config("pediatric")
    quiet = replace(base, titration=TitrationConfig(policy="pack", basis="anc"))
    noisy = replace(base, titration=TitrationConfig(policy="pack", basis="anc",
                                                    anc_noise=True))
    q = summarise_table(_cols(simulate_cohort(quiet, n=1500, seed=5)))["maintenance"]
    a = _cols(simulate_cohort(noisy, n=1500, seed=5, chunk_size=1500))
    b = _cols(simulate_cohort(noisy, n=1500, seed=5, chunk_size=500))
    assert np.array_equal(a["maint_holds"], b["maint_holds"])
    m = summarise_table(a)["maintenance"]
    assert m["holds_per_patient_year"] > q["holds_per_patient_year"] + 0.1
