"""Monitoring of one record over time: response, MRD, relapse, alerts, where the patient is."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from allpath.monitoring.alerts import alerts
from allpath.monitoring.checkpoints import CheckpointResponse, assess_checkpoints
from allpath.monitoring.mrd import mrd_series, restratification
from allpath.monitoring.relapse import RelapseFinding, find_relapse
from allpath.monitoring.snapshots import phase_on
from allpath.observations.normalise import Timeline
from allpath.record.models import PatientRecord
from allpath.rules.engine import DecisionResult
from allpath.rules.facts import Fact
from allpath.rules.loader import Knowledge

__all__ = ["Monitoring", "current_phase", "monitor"]


@dataclass(frozen=True)
class Monitoring:
    """Everything monitoring found for one record."""

    responses: tuple[CheckpointResponse, ...]
    mrd: tuple[dict[str, Any], ...]
    restratified: tuple[dict[str, Any], ...]
    relapse: RelapseFinding
    alerts: tuple[dict[str, Any], ...]
    results: tuple[DecisionResult, ...] = field(default=())
    as_of: dt.date | None = None
    current: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "response": [r.to_dict() for r in self.responses],
            "mrd": {"series": list(self.mrd), "restratification": list(self.restratified)},
            "relapse": self.relapse.to_dict(),
            "alerts": list(self.alerts),
            "current": self.current,
        }


def current_phase(record: PatientRecord, when: dt.date | None) -> dict[str, Any] | None:
    """The treatment event recorded as in progress on the reference date.

    Only recorded events are used: without an end date or a later event the phase is the
    last one recorded, not necessarily the one in progress (the roadmap knows phase lengths).
    """
    if when is None:
        return None
    ev = phase_on(record, when)
    return {
        "as_of": when.isoformat(),
        "last_recorded_phase": ev.phase if ev else None,
        "protocol": ev.protocol if ev else None,
        "phase_start": ev.start.isoformat() if ev else None,
        "phase_end": ev.end.isoformat() if ev and ev.end else None,
        "days_since_phase_start": (when - ev.start).days if ev else None,
    }


def monitor(
    record: PatientRecord,
    timeline: Timeline,
    facts: dict[str, Fact],
    risk_results: list[DecisionResult],
    kb: Knowledge,
) -> Monitoring:
    """Run every monitoring step on an assessed record."""
    responses = assess_checkpoints(record, timeline, facts, kb)
    relapse = find_relapse(record, timeline, facts, responses, kb)
    alert_list, alert_results = alerts(record, timeline, facts, kb, responses)
    return Monitoring(
        responses=tuple(responses),
        mrd=tuple(mrd_series(timeline, kb)),
        restratified=tuple(restratification(risk_results, facts, kb)),
        relapse=relapse,
        alerts=tuple(alert_list),
        results=tuple(alert_results),
        as_of=timeline.reference,
        current=current_phase(record, timeline.reference),
    )
