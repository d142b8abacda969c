"""Triage input: a patient record, or the small triage file ``allpath.triage/1``.

The triage file (documented in ``docs/triage.md``)::

    format: allpath.triage/1
    id: visit-17                 # optional
    age_years: 5                 # or birth_date (with date, or the CBC time, as the day)
    sex: female                  # female | male | other | unknown
    date: 2024-06-01             # optional: the day of the triage (default: CBC time, else today)
    symptoms: [fever, {code: bone_pain, duration_days: 10}]
    temperature: {value: 38.6, unit: Cel}        # optional
    cbc:                                          # optional; any unit the catalogue accepts
      time: 2024-06-01
      wbc: {value: 2100, unit: /uL}
      hemoglobin: "6.5 g/dL"
      platelets: {value: 20, unit: 10*9/L}
      anc: {value: 0.3, unit: 10*9/L}
      blood_blasts: {value: 0, unit: "%"}

It is turned into an ``allpath.record/1`` record and checked by the record checker, so codes,
units, plausible ranges and symptom terms are validated exactly as for records; problems are
reported with the triage file's own paths (``cbc.wbc.unit``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from allpath.errors import Problem, RecordError
from allpath.record.load import parse_record, read_document
from allpath.record.models import RECORD_FORMAT, PatientRecord

__all__ = ["TRIAGE_FORMAT", "TriageInput", "age_days_from_years", "load_triage_input",
           "parse_triage_input"]

TRIAGE_FORMAT = "allpath.triage/1"
_DAYS_PER_YEAR = 365.25
_FIELDS = {"format", "id", "age_years", "birth_date", "sex", "date", "symptoms", "temperature",
           "cbc"}


def age_days_from_years(years: float) -> float:
    """Age in days from an age in years: ``ceil(years x 365.25)``.

    The reference tables count age in days with boundaries at ``ceil(n x 365.25)`` (6 years =
    day 2192, 18 years = day 6575), so an exact birthday given in years lands in the new band.
    Population screening uses the same formula.
    """
    return float(math.ceil(years * _DAYS_PER_YEAR))


@dataclass(frozen=True)
class TriageInput:
    """A checked record plus an age given in years when no birth date is known."""

    record: PatientRecord
    age_years: float | None = None
    date: dt.date | None = None


def _quantity(raw: Any, path: str, problems: list[Problem]) -> tuple[Any, Any] | None:
    if isinstance(raw, Mapping):
        return raw.get("value"), raw.get("unit")
    if isinstance(raw, str):
        parts = raw.strip().split(None, 1)
        if len(parts) == 2:
            try:
                return float(parts[0].replace(",", "")), parts[1]
            except ValueError:
                pass
        problems.append(Problem(path, "write a quantity as {value: N, unit: U} or 'N UNIT'",
                                got=repr(raw)))
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        problems.append(Problem(f"{path}.unit", "a quantity needs a unit (units are never "
                                "assumed)", got=repr(raw)))
        return None
    problems.append(Problem(path, "expected a quantity", got=repr(raw)))
    return None


def parse_triage_input(data: Any, source: str | None = None) -> TriageInput:
    """Check a triage document (``allpath.triage/1``) or a record (``allpath.record/1``)."""
    if isinstance(data, Mapping) and data.get("format") == RECORD_FORMAT:
        return TriageInput(parse_record(data, source=source))
    if not isinstance(data, Mapping):
        raise RecordError([Problem("", "a triage file is a mapping of fields",
                                   got=type(data).__name__)], source)
    if data.get("format") != TRIAGE_FORMAT:
        raise RecordError([Problem("format", "unsupported or missing format",
                                   expected=f"{TRIAGE_FORMAT} or {RECORD_FORMAT}",
                                   got=repr(data.get("format")))], source)
    problems: list[Problem] = []
    for key in data:
        if key not in _FIELDS:
            problems.append(Problem(str(key), "unknown field", expected=", ".join(sorted(_FIELDS))))
    age = data.get("age_years")
    if age is not None and (isinstance(age, bool) or not isinstance(age, int | float)
                            or not 0 <= age <= 130):
        problems.append(Problem("age_years", "age in years must be a number from 0 to 130",
                                got=repr(age)))
        age = None
    if age is None and data.get("birth_date") is None and not problems:
        problems.append(Problem("age_years", "give age_years or birth_date",
                                hint="reference ranges depend on age"))
    day = data.get("date")
    if day is not None and not isinstance(day, dt.date):
        problems.append(Problem("date", "expected a date (YYYY-MM-DD)", got=repr(day)))
        day = None
    cbc = data.get("cbc") or {}
    if not isinstance(cbc, Mapping):
        problems.append(Problem("cbc", "expected a mapping of analyte: quantity",
                                got=repr(cbc)))
        cbc = {}
    cbc_time = cbc.get("time")
    when = cbc_time or day or dt.date.today()
    observations: list[dict[str, Any]] = []
    paths: list[str] = []
    for code, raw in cbc.items():
        if code == "time":
            continue
        q = _quantity(raw, f"cbc.{code}", problems)
        if q is not None:
            observations.append({"code": str(code), "value": q[0], "unit": q[1], "time": when})
            paths.append(f"cbc.{code}")
    temp = data.get("temperature")
    if temp is not None:
        q = _quantity(temp, "temperature", problems)
        if q is not None:
            observations.append({"code": "temperature", "value": q[0], "unit": q[1],
                                 "time": day or when})
            paths.append("temperature")
    if problems:
        raise RecordError(problems, source)
    record_doc: dict[str, Any] = {
        "format": RECORD_FORMAT,
        "id": str(data.get("id") or "triage"),
        "sex": data.get("sex", "unknown"),
        "symptoms": data.get("symptoms") or [],
        "observations": observations,
    }
    if data.get("birth_date") is not None:
        record_doc["birth_date"] = data["birth_date"]
    try:
        record = parse_record(record_doc, source=source)
    except RecordError as err:
        remapped = []
        for p in err.problems:
            path = p.path
            if path.startswith("observations["):
                i = int(path[len("observations["):path.index("]")])
                rest = path[path.index("]") + 1:]
                if rest in (".code",):
                    rest = ""
                path = paths[i] + rest if i < len(paths) else path
            remapped.append(Problem(path, p.message, expected=p.expected, got=p.got,
                                    hint=p.hint))
        raise RecordError(remapped, source) from None
    return TriageInput(record, float(age) if age is not None else None, day)


def load_triage_input(path: str | Path) -> TriageInput:
    """Read a triage file or a record file (YAML or JSON)."""
    return parse_triage_input(read_document(path), source=str(path))
