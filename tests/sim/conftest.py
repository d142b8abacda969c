"""Shared fixtures for the simulator tests: one cohort per preset, simulated once per session."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from allpath.sim import simulate_cohort
from allpath.sim.cohort import load_config, summarise_table
from allpath.sim.validation import COHORT_N, REPORT_SEEDS

# the cohorts of the validation report's first seed (scripts/sim_validation_report.py)
PEDIATRIC_N = COHORT_N["pediatric"]
ADULT_N = COHORT_N["adult"]
AYA_N = COHORT_N["aya"]
OLDER_N = COHORT_N["older_adult"]
SEED = REPORT_SEEDS[0]
LONG_HORIZON_DAYS = 3654  # 10 years + 1 day


def _cols(preset: str, n: int) -> dict[str, Any]:
    table = simulate_cohort(preset, n=n, seed=SEED, chunk_size=4096)
    assert not isinstance(table, str)
    return {k: table.column(k).to_numpy(zero_copy_only=False) for k in table.column_names}


@pytest.fixture(scope="session")
def pediatric() -> dict[str, np.ndarray[Any, Any]]:
    """Per-patient columns of a 16,000-child cohort (binomial SE of a 97 % rate ~0.13 pp)."""
    return _cols("pediatric", PEDIATRIC_N)


@pytest.fixture(scope="session")
def pediatric_summary(pediatric: dict[str, Any]) -> dict[str, Any]:
    """Summary of the pediatric cohort."""
    return summarise_table(pediatric)


@pytest.fixture(scope="session")
def adult() -> dict[str, np.ndarray[Any, Any]]:
    """Per-patient columns of a 6,000-adult cohort."""
    return _cols("adult", ADULT_N)


@pytest.fixture(scope="session")
def aya() -> dict[str, np.ndarray[Any, Any]]:
    """6,000 adolescents and young adults, 15-39 y (about 1,200 aged 15-19)."""
    return _cols("aya", AYA_N)


@pytest.fixture(scope="session")
def older_adult() -> dict[str, np.ndarray[Any, Any]]:
    """4,000 adults aged 60-80 (binomial SE of a 25 % survival ~0.7 pp)."""
    return _cols("older_adult", OLDER_N)


@pytest.fixture(scope="session")
def pediatric_long() -> dict[str, np.ndarray[Any, Any]]:
    """The pediatric cohort of :func:`pediatric` followed 10 years, so that every relapse in
    the first 5 years is followed 5 years (survival after relapse)."""
    cfg = replace(load_config("pediatric"), horizon_days=LONG_HORIZON_DAYS)
    table = simulate_cohort(cfg, n=PEDIATRIC_N, seed=SEED, chunk_size=4096)
    assert not isinstance(table, Path)
    return {k: table.column(k).to_numpy(zero_copy_only=False) for k in table.column_names}
