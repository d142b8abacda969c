"""Survival estimates of the simulator (allpath.sim.survival) against lifelines called
directly, and the censoring they handle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from lifelines import KaplanMeierFitter

from allpath.sim.cohort_stats import KaplanMeierAt
from allpath.sim.immuno_relapsed import summarise_relapsed
from allpath.sim.survival import km_at, km_at_from_tallies, km_median


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    time = np.round(rng.exponential(900.0, n))  # whole days: many ties
    censor = np.round(rng.uniform(200.0, 2500.0, n))
    return np.minimum(time, censor), time <= censor


def test_km_at_and_median_are_lifelines_with_censoring() -> None:
    t, e = _data(3000, 1)
    kmf = KaplanMeierFitter().fit(t, event_observed=e)
    for at in (100.0, 365.25, 1000.0, 1826.0):
        assert km_at(t, e, at) == pytest.approx(
            float(kmf.survival_function_at_times(at).iloc[0]), abs=1e-12)
    assert km_median(t, e) == kmf.median_survival_time_
    crude = 1.0 - np.mean(e & (t <= 1000.0))  # censoring matters: the crude share is higher
    assert km_at(t, e, 1000.0) < crude - 0.01


def test_km_of_no_subjects_is_nan_and_a_median_never_reached_is_nan() -> None:
    assert math.isnan(km_at(np.array([]), np.array([], dtype=bool), 10.0))
    assert math.isnan(km_median(np.array([5.0, 9.0, 12.0]), np.array([True, False, False])))


@pytest.mark.parametrize("chunk", [1, 7, 500, 5000])
def test_streamed_kaplan_meier_equals_lifelines_on_all_rows(chunk: int) -> None:
    t, e = _data(4000, 2)
    km = KaplanMeierAt(1826.0)
    for i in range(0, t.size, chunk):
        km.add(t[i:i + chunk], e[i:i + chunk])
    direct = KaplanMeierFitter().fit(t, event_observed=e).survival_function_at_times(1826.0)
    assert km.value == pytest.approx(float(direct.iloc[0]), abs=1e-12)


def test_tallies_with_no_event_before_t_give_one() -> None:
    assert km_at_from_tallies(np.array([]), np.array([]), np.array([]), 10, 5.0) == 1.0
    assert km_at_from_tallies(np.array([3.0]), np.array([2]), np.array([0]), 10, 5.0) == 1.0
    assert math.isnan(km_at_from_tallies(np.array([]), np.array([]), np.array([]), 0, 5.0))


def test_remission_duration_censors_responders_at_the_end_of_follow_up() -> None:
    """A responder whose follow-up ends before 12 months without relapse is censored there,
    not counted relapse-free at 12 months (the crude share did that)."""
    nan = np.nan
    cols = {
        "id": np.arange(4),
        "response": np.array([1.0, 1.0, 1.0, 1.0]),
        "response_day": np.array([10.0, 10.0, 10.0, 300.0]),
        # patient 0 relapses 180 days after remission, 1 and 2 after 290 days; patient 3
        # responded late and is followed only 200 days (horizon 500 d) without a relapse
        "relapse_day": np.array([190.0, 300.0, 300.0, nan]),
        "death_day": np.full(4, nan),
        "death": np.zeros(4),
        "os_day": np.full(4, 500.0),
        "efs_day": np.array([190.0, 300.0, 300.0, 500.0]),
        "efs_event": np.array([1.0, 1.0, 1.0, 0.0]),
        "relapse": np.array([1.0, 1.0, 1.0, 0.0]),
        "cd19neg_relapse": np.zeros(4),
    }
    s = summarise_relapsed(cols)
    # KM: 1 event of 4 at risk at 180 d, patient 3 censored at 200 d, 2 events of the 2 left
    # at 290 d -> 0 at 12 months (the crude share of patients without a relapse was 1/4)
    assert s["rfs_12m_responders"] == pytest.approx(0.0)
    assert s["median_remission_months"] == pytest.approx(290.0 / (365.25 / 12))
