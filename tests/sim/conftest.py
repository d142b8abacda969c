"""Shared fixtures for the simulator tests: one cohort per preset, simulated once per session."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from allpath.sim import simulate_cohort
from allpath.sim.cohort import summarise_table

PEDIATRIC_N = 16_000
ADULT_N = 6_000


def _cols(preset: str, n: int) -> dict[str, Any]:
    table = simulate_cohort(preset, n=n, seed=2025, chunk_size=4096)
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
