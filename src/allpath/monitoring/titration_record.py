"""Maintenance titration from a patient record (the ``titration`` part of an assessment).

The record's counts and dose observations (``mercaptopurine_dose`` in mg/m2/d,
``methotrexate_dose`` in mg/m2/wk) during the maintenance phase (from its start to its end)
become rows of a maintenance log, read by the same row reader as a log file
(:func:`allpath.monitoring.titration_log.read_rows`) and run by
:func:`allpath.monitoring.titration.run_titration` with the same cited pack as
``allpath titrate``. Phenotypes come from ``pharmacogenomics``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from allpath.monitoring.titration import TitrationRun, run_titration
from allpath.monitoring.titration_log import MaintenanceLog, read_rows
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


def _maintenance_spans(record: PatientRecord) -> list[tuple[dt.date, dt.date | None]]:
    """(start, end) of every maintenance phase of the record (end None while it goes on)."""
    return sorted((ev.start, ev.end) for ev in record.treatment if ev.phase == "maintenance")


def _span_of(when: dt.date, spans: list[tuple[dt.date, dt.date | None]]) -> dt.date | None:
    """The start of the maintenance phase ``when`` falls in (None: not in maintenance)."""
    for start, end in spans:
        if start <= when and (end is None or when <= end):
            return start
    return None


def log_from_record(record: PatientRecord, timeline: Timeline) -> MaintenanceLog | None:
    """Visits (one per date with a count) during maintenance, or None without any.

    Results dated after a maintenance phase ended (off therapy) are not titration visits.
    Each visit's values go through the log reader's row checks (:func:`read_rows`), so an
    ANC above the WBC is rejected here as in ``allpath titrate``. A 6-MP dose recorded on the
    day maintenance started dates the first wait from that day (the ``last_change`` a log
    header would give); otherwise the run says that the record lacks it.
    """
    spans = _maintenance_spans(record)
    if not spans:
        return None
    by_date: dict[dt.date, dict[str, NormalObservation]] = defaultdict(dict)
    for obs in timeline:
        if (obs.code in _FIELDS and obs.value is not None
                and _span_of(obs.time, spans) is not None):
            by_date[obs.time][_FIELDS[obs.code]] = obs
    rows: list[tuple[int, dict[str, Any], dict[str, str]]] = []
    starts: list[dt.date] = []
    for when, values in sorted(by_date.items()):
        if not {"anc", "wbc", "platelets"} & set(values):
            continue  # a dose or a weight without counts is not a titration visit
        start = _span_of(when, spans)
        assert start is not None
        cells: dict[str, Any] = {f: o.value for f, o in values.items()}
        cells.update(date=when, week=round((when - start).days / 7.0, 1),
                     note="from " + ", ".join(sorted(o.ref for o in values.values())))
        rows.append((len(rows) + 1, cells, {f: f"{o.ref} ({o.code})"
                                            for f, o in values.items()}))
        starts.append(start)
    if not rows:
        return None
    visits = read_rows(f"record {record.id}", rows)
    first = visits[0]
    last_change = starts[0] if first.date == starts[0] and first.mp is not None else None
    pg = record.pharmacogenomics
    return MaintenanceLog(
        source=f"record {record.id}",
        format="record",
        visits=tuple(visits),
        patient=record.id,
        tpmt=pg.tpmt if pg else None,
        nudt15=pg.nudt15 if pg else None,
        dose_unit="mg/m2",
        last_change=last_change,
        maintenance_start=starts[0],
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
