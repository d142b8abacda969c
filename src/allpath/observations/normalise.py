"""Normalise a record's observations: canonical units, and days counted from diagnosis.

Day 0 is the diagnosis date (the diagnostic marrow). Without a diagnosis date, days are
counted from the record's reference date (its latest dated entry), so "before diagnosis"
work-ups and triage records still have a timeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from allpath.observations.catalogue import Catalogue, load_catalogue
from allpath.record.models import PatientRecord
from allpath.units import convert

__all__ = ["NormalObservation", "Timeline", "normalise", "reference_date"]


@dataclass(frozen=True, slots=True)
class NormalObservation:
    """An observation in its analyte's canonical unit, placed on the timeline.

    ``value`` is set for quantities (canonical unit in ``unit``), ``category`` for
    categorical results. ``index`` is the position in the record's ``observations`` list,
    so that explanations can point back at the input.
    """

    code: str
    time: dt.date
    day: int
    index: int
    value: float | None = None
    unit: str | None = None
    category: str | None = None
    method: str | None = None
    sensitivity: float | None = None
    timepoint: str | None = None
    # the record list ``index`` points into: observations, or symptoms for an examination
    # finding the record gives as a symptom with its onset (a testicular swelling at relapse)
    source: str = "observations"

    @property
    def ref(self) -> str:
        return f"{self.source}[{self.index}]"


@dataclass(frozen=True)
class Timeline:
    """All observations of one record, sorted by date, then clock time where the record
    gives one, then input order."""

    day0: dt.date | None
    reference: dt.date | None
    items: tuple[NormalObservation, ...]

    def __iter__(self) -> Iterator[NormalObservation]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def series(self, code: str) -> tuple[NormalObservation, ...]:
        """Every observation of one analyte, oldest first."""
        return tuple(o for o in self.items if o.code == code)

    def between(
        self, code: str, first_day: int | None, last_day: int | None
    ) -> tuple[NormalObservation, ...]:
        """Observations of ``code`` with ``first_day <= day <= last_day`` (None: open)."""
        return tuple(
            o
            for o in self.items
            if o.code == code
            and (first_day is None or o.day >= first_day)
            and (last_day is None or o.day <= last_day)
        )


def _date(value: dt.date | dt.datetime | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def reference_date(record: PatientRecord) -> dt.date | None:
    """The date the record speaks for: the latest dated entry, else the diagnosis date."""
    dates: list[dt.date] = []
    for obs in record.observations:
        d = _date(obs.time)
        if d is not None:
            dates.append(d)
    for block in (record.immunophenotype, record.genetics):
        d = _date(block.time) if block is not None else None
        if d is not None:
            dates.append(d)
    dates.extend(ev.start for ev in record.treatment)
    if record.diagnosis_date is not None:
        dates.append(record.diagnosis_date)
    return max(dates) if dates else None


def normalise(record: PatientRecord, catalogue: Catalogue | None = None) -> Timeline:
    """Convert every observation to its canonical unit and place it on the timeline.

    The record must already have passed :func:`allpath.record.parse_record`, which
    guarantees that codes resolve and units convert.
    """
    cat = catalogue or load_catalogue()
    ref = reference_date(record)
    day0 = record.diagnosis_date or ref
    items: list[NormalObservation] = []
    for i, obs in enumerate(record.observations):
        analyte = cat[obs.code]
        when = _date(obs.time) or ref
        if when is None or day0 is None:
            continue
        day = (when - day0).days
        if analyte.kind == "quantity":
            assert analyte.unit is not None and obs.unit is not None
            assert not isinstance(obs.value, str | bool)
            value = convert(float(obs.value), obs.unit, analyte.unit, analyte.molar_mass)
            items.append(
                NormalObservation(
                    code=analyte.code,
                    time=when,
                    day=day,
                    index=i,
                    value=value,
                    unit=analyte.unit,
                    method=obs.method,
                    sensitivity=obs.sensitivity,
                    timepoint=obs.timepoint,
                )
            )
        else:
            items.append(
                NormalObservation(
                    code=analyte.code,
                    time=when,
                    day=day,
                    index=i,
                    category=str(obs.value),
                    method=obs.method,
                    timepoint=obs.timepoint,
                )
            )
    # same-day results in clock order where the record gives a time of day (a 06:00 count
    # before an 18:00 one, whatever their order in the file); results with a date only
    # count as the start of their day and otherwise keep the record's order
    clock = [_seconds_of_day(obs.time) for obs in record.observations]
    items.sort(key=lambda o: (o.time, clock[o.index], o.index))
    return Timeline(day0=day0, reference=ref, items=tuple(items))


def _seconds_of_day(value: dt.date | dt.datetime | None) -> int:
    """The clock time of a result as written (its own UTC offset), in seconds; 0 without one."""
    if isinstance(value, dt.datetime):
        return value.hour * 3600 + value.minute * 60 + value.second
    return 0
