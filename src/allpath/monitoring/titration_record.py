"""Maintenance titration from a patient record (the ``titration`` part of an assessment).

The record's counts and dose observations (``mercaptopurine_dose`` in mg/m2/d,
``methotrexate_dose`` in mg/m2/wk) from the start of the maintenance phase become visits of a
maintenance log, which :func:`allpath.monitoring.titration.run_titration` reads with the
same cited pack as ``allpath titrate``. Phenotypes come from ``pharmacogenomics``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from allpath.monitoring.titration import TitrationRun, run_titration
from allpath.monitoring.titration_log import LogVisit, MaintenanceLog
from allpath.observations.normalise import NormalObservation, Timeline
from allpath.record.models import PatientRecord

__all__ = ["log_from_record", "titration_for_record", "titration_run"]

_FIELDS = {
    "anc": "anc",
    "wbc": "wbc",
    "platelets": "platelets",
    "hemoglobin": "hemoglobin",
    "mercaptopurine_dose": "mp",
    "methotrexate_dose": "mtx",
    "weight": "weight",
    "height": "height",
    "glucose": "glucose",
    "alt": "alt",
    "bilirubin": "bilirubin",
    "tgn": "tgn",
    "memp": "memp",
}


def _maintenance_start(record: PatientRecord) -> dt.date | None:
    starts = [ev.start for ev in record.treatment if ev.phase == "maintenance"]
    return min(starts) if starts else None


def log_from_record(record: PatientRecord, timeline: Timeline) -> MaintenanceLog | None:
    """Visits (one per date) from the start of maintenance, or None before maintenance."""
    start = _maintenance_start(record)
    if start is None:
        return None
    by_date: dict[dt.date, dict[str, NormalObservation]] = defaultdict(dict)
    for obs in timeline:
        if obs.time >= start and obs.code in _FIELDS and obs.value is not None:
            by_date[obs.time][_FIELDS[obs.code]] = obs
    visits = []
    for i, (when, values) in enumerate(sorted(by_date.items()), start=1):
        if not {"anc", "wbc", "platelets"} & set(values):
            continue  # a dose or a weight without counts is not a titration visit
        kw: dict[str, Any] = {k: (o.value if o is not None else None)
                              for k, o in ((f, values.get(f)) for f in set(_FIELDS.values()))}
        visits.append(LogVisit(
            line=i, date=when, week=round((when - start).days / 7.0, 1), cycle=None,
            note="from " + ", ".join(sorted(o.ref for o in values.values())), **kw))
    if not visits:
        return None
    pg = record.pharmacogenomics
    return MaintenanceLog(
        source=f"record {record.id}",
        format="native",
        visits=tuple(visits),
        patient=record.id,
        tpmt=pg.tpmt if pg else None,
        nudt15=pg.nudt15 if pg else None,
        dose_unit="mg/m2",
    )


def titration_run(record: PatientRecord, timeline: Timeline) -> TitrationRun | None:
    """The titration stage of :func:`allpath.pipeline.assess`: pack 80 over the record's
    maintenance visits (None before maintenance or without a visit with counts)."""
    log = log_from_record(record, timeline)
    if log is None:
        return None
    return run_titration(log)


def titration_for_record(record: PatientRecord, timeline: Timeline) -> dict[str, Any] | None:
    """The titration run over the record's maintenance visits, as JSON (None before them)."""
    run = titration_run(record, timeline)
    return run.as_dict() if run is not None else None
