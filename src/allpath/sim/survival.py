"""Survival estimates of simulated cohorts, all by lifelines' Kaplan-Meier estimator.

Every survival figure the simulator reports (EFS / OS at a time, survival after relapse,
remission duration, the streamed cohort summary) goes through these functions, so the
estimator is one, tested library rather than hand-written arithmetic. Simulated patients are
mostly followed to the cohort horizon, where the estimate equals the fraction without the
event; where follow-up ends earlier (e.g. remission duration from a late response), the
patient is censored there, as a trial would.

lifelines is imported on first use (it is slow to import and most commands never need it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["km_at", "km_at_from_tallies", "km_median"]


def _fitter() -> Any:
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter()


def km_at(durations: npt.ArrayLike, observed: npt.ArrayLike, t: float) -> float:
    """Kaplan-Meier survival at time ``t`` (events at ``t`` included); NaN for no subjects.

    ``durations``: time to the event or to the end of follow-up; ``observed``: the event
    happened at that time (else the subject is censored there)."""
    time = np.asarray(durations, dtype=np.float64).ravel()
    event = np.asarray(observed, dtype=bool).ravel()
    if time.size == 0:
        return math.nan
    kmf = _fitter().fit(time, event_observed=event)
    return float(kmf.survival_function_at_times(t).iloc[0])


def km_median(durations: npt.ArrayLike, observed: npt.ArrayLike) -> float:
    """Kaplan-Meier median: the first time the survival falls to 0.5 or below; NaN when it
    never does within follow-up, or for no subjects."""
    time = np.asarray(durations, dtype=np.float64).ravel()
    event = np.asarray(observed, dtype=bool).ravel()
    if time.size == 0:
        return math.nan
    m = float(_fitter().fit(time, event_observed=event).median_survival_time_)
    return m if math.isfinite(m) else math.nan


def km_at_from_tallies(times: npt.ArrayLike, removed: npt.ArrayLike, deaths: npt.ArrayLike,
                       n: int, t: float) -> float:
    """Kaplan-Meier survival at ``t`` from tallies: at each distinct time ``times[i]``
    (sorted, all <= t) ``removed[i]`` subjects leave the risk set, ``deaths[i]`` of them by the
    event; the other of the ``n`` subjects are followed beyond ``t``. The tallies are given to
    lifelines as weighted rows (events and censorings at each time, the rest censored after
    ``t``), so a streamed summary needs no per-patient rows."""
    tt = np.asarray(times, dtype=np.float64)
    rem = np.asarray(removed, dtype=np.float64)
    dead = np.asarray(deaths, dtype=np.float64)
    if n == 0:
        return math.nan
    rest = n - float(rem.sum())
    durations = np.concatenate([tt, tt, [t + 1.0]])
    observed = np.concatenate([np.ones(tt.size, dtype=bool), np.zeros(tt.size, dtype=bool),
                               [False]])
    weights = np.concatenate([dead, rem - dead, [rest]])
    keep = weights > 0
    if not keep[:-1].any():
        return 1.0
    kmf = _fitter().fit(durations[keep], event_observed=observed[keep], weights=weights[keep])
    return float(kmf.survival_function_at_times(t).iloc[0])
