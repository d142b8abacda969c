"""Triage input: a patient record, or the small triage file ``allpath.triage/1``.

The triage file (documented in ``docs/triage.md``)::

    format: allpath.triage/1
    id: visit-17                 # optional
    age_years: 5                 # or birth_date (with date, or the CBC time, as the day)
    sex: female                  # female | male | other | unknown
    date: 2024-06-01             # optional: the day of the triage (default: CBC time, else today)
    symptoms: [fever, {code: bone_pain, duration_days: 10}]
    on_treatment: true           # on cancer treatment (chemotherapy) now: true | false | unknown
    central_line: false          # has a central line (port, PICC, Hickman): true | false | unknown
    treatment_start: 2024-05-29  # optional: the first day of induction (or of relapse treatment)
    recent_transplant: false     # optional: stem cell transplant in the last 100 days (or unknown)
    transplant: false            # optional: a stem cell transplant at any time, still followed
                                 # by the transplant team (or unknown); implied by recent_transplant
    temperature: {value: 101.3, unit: "[degF]"}  # optional; Cel or [degF] (also C, F, °C, °F)
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

Counts are read in the unit given, never assumed: a bare number is answered with a question
naming each reading the analyte catalogue's plausible range allows (``500`` can be 500 /uL =
0.5 x10^9/L), and a number that does not fit its unit but fits the other common one (a
neutrophil count of 300 x10^9/L that is 300 /uL on a US lab report) is refused with that
suggestion. A neutrophil count above the white count is refused too (check the units).
"""

from __future__ import annotations

import datetime as dt
import math
import re
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
           "cbc", "on_treatment", "central_line", "treatment_start", "recent_transplant",
           "transplant"}
# Counts that families copy from lab reports, in x10^9/L or per microlitre (1 x10^9/L = 1000/uL).
_COUNTS = ("wbc", "anc", "platelets", "lymphocytes", "monocytes")
_ALTERNATE_UNITS = {"10*9/L": "/uL", "10*3/uL": "/uL", "/uL": "10*9/L", "/mm3": "10*9/L",
                    "{cells}/uL": "10*9/L"}
_TEMPERATURE_UNITS = {"c": "Cel", "°c": "Cel", "degc": "Cel", "cel": "Cel", "celsius": "Cel",
                      "f": "[degF]", "°f": "[degF]", "degf": "[degF]", "[degf]": "[degF]",
                      "fahrenheit": "[degF]"}


def age_days_from_years(years: float) -> float:
    """Age in days from an age in years: ``ceil(years x 365.25)``.

    The reference tables count age in days with boundaries at ``ceil(n x 365.25)`` (6 years =
    day 2192, 18 years = day 6575), so an exact birthday given in years lands in the new band.
    Population screening uses the same formula.
    """
    return float(math.ceil(years * _DAYS_PER_YEAR))


@dataclass(frozen=True)
class TriageInput:
    """A checked record plus an age given in years when no birth date is known.

    ``on_treatment`` and ``central_line`` are the answers to the first questions of the symptom
    check (``None`` = not answered). For a record they come from its treatment phases.
    ``treatment_start`` is the first day of induction (or of relapse treatment), when given:
    the first week is the tumour-lysis window (fact sheet 7.2). ``recent_transplant`` is the
    answer to "a stem cell transplant in the last 100 days?" (acute graft-versus-host disease);
    ``transplant`` to "a stem cell transplant at any time, still followed by the transplant
    team?" (chronic graft-versus-host disease comes after 100 days); a recent transplant is one.
    """

    record: PatientRecord
    age_years: float | None = None
    date: dt.date | None = None
    on_treatment: bool | None = None
    central_line: bool | None = None
    treatment_start: dt.date | None = None
    recent_transplant: bool | None = None
    cbc_time: dt.date | None = None  # the day of the blood count, only when it was given
    transplant: bool | None = None
    # "not sure" given as the answer to the treatment or line question (not left out): the
    # family does not know whether the person is on treatment (review GG)
    treatment_unsure: bool = False


def _yes_no(data: Mapping[str, Any], key: str, problems: list[Problem]) -> bool | None:
    raw = data.get(key)
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("unknown", "not_sure",
                                                                        "not sure", "")):
        return None
    if isinstance(raw, bool):
        return raw
    problems.append(Problem(key, "answer true, false or unknown", got=repr(raw)))
    return None


def _fmt(x: float) -> str:
    return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"


def _not_finite(value: Any, path: str) -> Problem | None:
    """A number too large for a float (a 400-digit integer), NaN or infinity."""
    try:
        if math.isfinite(float(value)):
            return None
    except OverflowError:
        pass
    text = str(value)
    return Problem(path, "expected a finite number",
                   got=text if len(text) <= 24 else f"{text[:20]}... ({len(text)} characters)")


def _count_problem(code: str, value: Any, unit: Any, path: str) -> Problem | None:
    """A question back when a count has no unit, or does not fit the unit it was given."""
    from allpath.observations.catalogue import load_catalogue
    from allpath.units import UnitError, convert

    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if (bad := _not_finite(value, f"{path}.value" if unit is not None else path)) is not None:
        return bad
    analyte = load_catalogue().resolve(code)
    if (analyte is None or analyte.code not in _COUNTS or analyte.plausible is None
            or analyte.unit is None):
        return None
    low, high = analyte.plausible

    canonical = analyte.unit

    def fits(u: str) -> bool:
        return bool(low <= convert(float(value), u, canonical) <= high)

    if unit is None or (isinstance(unit, str) and not unit.strip()):
        readings = [f"{_fmt(value)} {u} (= {_fmt(convert(float(value), u, '10*9/L'))} x10^9/L)"
                    for u in ("/uL", "10*9/L") if fits(u)]
        return Problem(f"{path}.unit", "which unit is on the lab report? A count is never "
                       "read without its unit", got=f"{value!r} with no unit",
                       hint=("it could be " + " or ".join(readings)) if readings else
                       "no common unit makes this number possible; check the value")
    if not isinstance(unit, str):
        return None
    try:
        ok = fits(unit)
    except UnitError:
        return None  # the record checker reports the unit itself
    other = _ALTERNATE_UNITS.get(unit.strip())
    if ok or other is None or not fits(other):
        return None
    as_other = convert(float(value), other, "10*9/L")
    return Problem(f"{path}.unit", f"{_fmt(value)} {unit} is not a possible {analyte.name.lower()}",
                   got=f"{value!r} {unit}",
                   hint=f"did you mean {_fmt(value)} {other} (= {_fmt(as_other)} x10^9/L)? "
                        "Choose the unit printed on the lab report")


def _temperature_unit(unit: Any) -> Any:
    if isinstance(unit, str):
        return _TEMPERATURE_UNITS.get(unit.strip().lower(), unit)
    return unit


def _temperature_problem(value: Any, unit: Any) -> Problem | None:
    """A question back for a temperature in the wrong scale (101.3 Cel that is 101.3 °F).

    The limits are the analyte catalogue's plausible range for body temperature (data-entry
    bounds, never a clinical threshold).
    """
    from allpath.observations.catalogue import load_catalogue
    from allpath.units import UnitError, convert

    if isinstance(value, bool) or not isinstance(value, int | float) or not isinstance(unit, str):
        return None
    if (bad := _not_finite(value, "temperature.value")) is not None:
        return bad
    analyte = load_catalogue().resolve("temperature")
    if analyte is None or analyte.plausible is None or analyte.unit is None:
        return None
    low, high = analyte.plausible
    try:
        reading = convert(float(value), unit, analyte.unit)
    except UnitError:
        return None
    if low <= reading <= high:
        return None
    other = "[degF]" if unit == "Cel" else "Cel" if unit == "[degF]" else None
    if other is not None and low <= convert(float(value), other, analyte.unit) <= high:
        label = "°F" if other == "[degF]" else "°C"
        return Problem("temperature.unit", f"{value} {unit} is not a possible body temperature",
                       got=f"{value!r} {unit}", hint=f"did you mean {value} {label}?")
    return None


def on_treatment_from_record(record: PatientRecord, on: dt.date | None) -> bool | None:
    """True when a treatment phase of the record has started and not ended by ``on``."""
    if not record.treatment or on is None:
        return None
    return any(t.start <= on and (t.end is None or t.end >= on) for t in record.treatment)


# a number with thousands separators: 1,500 or 12,345.6 (never a decimal comma)
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _quantity(raw: Any, path: str, problems: list[Problem]) -> tuple[Any, Any] | None:
    if isinstance(raw, Mapping):
        return raw.get("value"), raw.get("unit")
    if isinstance(raw, str):
        parts = raw.strip().split(None, 1)
        if len(parts) == 2 and "," in parts[0] and not _THOUSANDS.fullmatch(parts[0]):
            # "1,5" is 1.5 in much of the world and 15 if the comma is dropped: never guess
            problems.append(Problem(path, "write the number with a decimal point (38.2, not "
                                    "38,2); a comma is read only between groups of three "
                                    "digits (1,500)", got=repr(raw)[:60]))
            return None
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


def _date_of(value: Any, path: str, problems: list[Problem]) -> dt.date | None:
    """A date from YAML (a date) or JSON (an ISO ``YYYY-MM-DD`` text, which is all JSON can
    carry); anything else is a problem at ``path``."""
    if isinstance(value, dt.datetime):
        return value.date()
    if value is None or isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    problems.append(Problem(path, "expected a date (YYYY-MM-DD)", got=repr(value)[:60]))
    return None


def parse_triage_input(data: Any, source: str | None = None) -> TriageInput:
    """Check a triage document (``allpath.triage/1``) or a record (``allpath.record/1``)."""
    if isinstance(data, Mapping) and data.get("format") == RECORD_FORMAT:
        record = parse_record(data, source=source)
        return TriageInput(record, on_treatment=on_treatment_from_record(record, dt.date.today()))
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
    day = _date_of(data.get("date"), "date", problems)
    cbc = data.get("cbc") or {}
    if not isinstance(cbc, Mapping):
        problems.append(Problem("cbc", "expected a mapping of analyte: quantity",
                                got=repr(cbc)))
        cbc = {}
    on_treatment = _yes_no(data, "on_treatment", problems)
    central_line = _yes_no(data, "central_line", problems)
    recent_transplant = _yes_no(data, "recent_transplant", problems)
    transplant = True if recent_transplant else _yes_no(data, "transplant", problems)
    cbc_time = _date_of(cbc.get("time"), "cbc.time", problems)
    treatment_start = _date_of(data.get("treatment_start"), "treatment_start", problems)
    when = cbc_time or day or dt.date.today()
    observations: list[dict[str, Any]] = []
    paths: list[str] = []
    for code, raw in cbc.items():
        if code == "time":
            continue
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            bare = _count_problem(str(code), raw, None, f"cbc.{code}")
            if bare is not None:
                problems.append(bare)
                continue
        q = _quantity(raw, f"cbc.{code}", problems)
        if q is not None:
            slip = _count_problem(str(code), q[0], q[1], f"cbc.{code}")
            if slip is not None:
                problems.append(slip)
                continue
            observations.append({"code": str(code), "value": q[0], "unit": q[1], "time": when})
            paths.append(f"cbc.{code}")
    temp = data.get("temperature")
    if temp is not None:
        q = _quantity(temp, "temperature", problems)
        if q is not None:
            q = (q[0], _temperature_unit(q[1]))
            slip = _temperature_problem(*q)
            if slip is not None:
                problems.append(slip)
        if q is not None and slip is None:
            observations.append({"code": "temperature", "value": q[0], "unit": q[1],
                                 "time": day or when})
            paths.append("temperature")
    _anc_above_wbc(observations, problems)
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
    unsure = any(isinstance(data.get(k), str) and str(data.get(k)).strip().lower()
                 in ("unknown", "not_sure", "not sure") for k in ("on_treatment", "central_line"))
    return TriageInput(record, float(age) if age is not None else None, day, on_treatment,
                       central_line, treatment_start, recent_transplant, cbc_time, transplant,
                       unsure)


def _anc_above_wbc(observations: list[dict[str, Any]], problems: list[Problem]) -> None:
    from allpath.units import UnitError, convert

    got = {o["code"]: o for o in observations if o["code"] in ("anc", "wbc")}
    if len(got) < 2 or problems:
        return
    try:
        anc, wbc = (convert(float(got[c]["value"]), str(got[c]["unit"]), "10*9/L")
                    for c in ("anc", "wbc"))
    except (UnitError, TypeError, ValueError, OverflowError):
        return
    if anc > wbc:
        problems.append(Problem("cbc.anc", "the neutrophil count cannot be higher than the "
                                "white cell count", got=f"ANC {_fmt(anc)} x10^9/L, WBC "
                                f"{_fmt(wbc)} x10^9/L", hint="check both numbers and their units "
                                "on the lab report"))


def load_triage_input(path: str | Path) -> TriageInput:
    """Read a triage file or a record file (YAML or JSON)."""
    return parse_triage_input(read_document(path), source=str(path))
