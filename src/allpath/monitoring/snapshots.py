"""Read a timeline at a snapshot: values near a date, windows from knowledge/monitoring.yaml."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from allpath.knowledge import load_yaml
from allpath.observations.normalise import NormalObservation, Timeline
from allpath.record.models import PatientRecord, TreatmentEvent
from allpath.rules.facts import Fact

__all__ = [
    "Windows",
    "fact_of",
    "first_treatment_start",
    "load_windows",
    "months_between",
    "nearest",
    "phase_on",
]


@dataclass(frozen=True)
class Windows:
    """Operational windows (days) for reading a timeline; see knowledge/monitoring.yaml."""

    checkpoints: dict[str, tuple[int, int, str]]
    count_window_days: int
    alert_window_days: int
    tls_window: tuple[int, int]
    hdmtx_level_hours: tuple[int, ...]
    hdmtx_creatinine_baseline_days: int


@lru_cache(maxsize=1)
def load_windows() -> Windows:
    doc: Any = load_yaml("monitoring.yaml")
    return Windows(
        checkpoints={
            name: (int(v["window"][0]), int(v["window"][1]), str(v["timepoint"]))
            for name, v in doc["checkpoints"].items()
        },
        count_window_days=int(doc["count_window_days"]),
        alert_window_days=int(doc["alert_window_days"]),
        tls_window=(int(doc["tls_window"][0]), int(doc["tls_window"][1])),
        hdmtx_level_hours=tuple(int(h) for h in doc["hdmtx_level_hours"]),
        hdmtx_creatinine_baseline_days=int(doc["hdmtx_creatinine_baseline_days"]),
    )


def nearest(
    items: Iterable[NormalObservation], when: dt.date, within_days: int
) -> NormalObservation | None:
    """The observation closest to ``when`` within ``within_days`` (later one on ties)."""
    best: NormalObservation | None = None
    for o in items:
        gap = abs((o.time - when).days)
        if gap > within_days:
            continue
        if best is None or gap < abs((best.time - when).days) or (
            gap == abs((best.time - when).days) and o.time > best.time
        ):
            best = o
    return best


def fact_of(obs: NormalObservation | None) -> Fact | None:
    """A Fact from one normalised observation (None stays None)."""
    if obs is None:
        return None
    if obs.value is not None:
        return Fact(obs.value, obs.unit, (obs.ref,))
    if obs.category is not None:
        return Fact(obs.category, inputs=(obs.ref,))
    return None


def months_between(start: dt.date, end: dt.date) -> float:
    """Calendar months from ``start`` to ``end`` (completed months plus the fraction)."""
    from allpath.findings.base import calendar_age

    if end >= start:
        return calendar_age(start, end)[1]
    return -calendar_age(end, start)[1]


def first_treatment_start(record: PatientRecord) -> dt.date | None:
    starts = [ev.start for ev in record.treatment]
    return min(starts) if starts else None


def phase_on(record: PatientRecord, when: dt.date) -> TreatmentEvent | None:
    """The treatment event in progress on ``when`` (latest start on or before it)."""
    started = [ev for ev in record.treatment if ev.start <= when]
    if not started:
        return None
    current = max(started, key=lambda ev: ev.start)
    if current.end is not None and current.end < when:
        return None
    return current


def window_series(
    timeline: Timeline, code: str, first: int, last: int, label: str | None = None
) -> list[NormalObservation]:
    """Observations of ``code`` labelled ``label``, else those with ``first <= day <= last``."""
    series = timeline.series(code)
    if label is not None:
        labelled = [o for o in series if o.timepoint == label]
        if labelled:
            return labelled
    return [o for o in series if first <= o.day <= last and o.timepoint in (None, label)]
