"""Reading request bodies into library objects: native records or FHIR Bundles."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from allpath.api.problems import ApiProblem, FieldError
from allpath.errors import Problem, RecordError
from allpath.record import PatientRecord, parse_record
from allpath.record.load import MAX_OBSERVATIONS

__all__ = ["MAX_BUNDLE_ENTRIES", "MAX_OBSERVATIONS", "ParsedRecord", "check_date", "check_size",
           "check_values", "read_record", "refuse_nul",
           "value_problems"]


@dataclass(frozen=True)
class ParsedRecord:
    record: PatientRecord
    data: dict[str, Any]  # the allpath.record/1 document stored for the patient
    warnings: tuple[str, ...] = ()
    # a FHIR Bundle in which the import found no ALL: what to answer instead of an assessment
    no_leukaemia: dict[str, Any] | None = None


def _from_bundle(body: dict[str, Any]) -> ParsedRecord:
    from allpath.interop.fhir.load import Loaded
    from allpath.interop.fhir.read import read_bundle

    imported = read_bundle(body)
    data = json.loads(json.dumps(imported.record, default=str))
    if not isinstance(data, dict):
        raise RecordError([Problem("", "the FHIR Bundle did not give a record")])
    warnings = tuple(str(w) for w in imported.warnings)
    record = parse_record(data, source="FHIR Bundle")
    none = None
    if imported.no_leukaemia is not None:
        none = Loaded(record, list(imported.warnings), "FHIR Bundle", imported.leukaemia,
                      imported.no_leukaemia).no_leukaemia_document()
    return ParsedRecord(record, data, warnings, none)


# ------------------------------------------------------------------------- edge checks
# Values that no field may hold, refused with a 422 before they reach the library or the
# database (on PostgreSQL they would be a 500 and land in the server's error log).

_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_DATE = re.compile(r"(\d{4})-\d{2}-\d{2}")
EARLIEST_YEAR = 1900
HORIZON_YEARS = 100  # latest plausible date: this many years after today


async def refuse_nul(request: Request) -> None:
    """Every body: no NUL character, raw or escaped as ``\\u0000`` (the address and query
    are checked by the guard middleware)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    read = ctype in ("", "text/csv", "text/plain") or ctype.endswith(("/json", "+json"))
    if request.method in ("POST", "PUT", "PATCH") and read:  # others are 415 at the route
        raw = await request.body()
        if b"\x00" in raw or _NUL_ESCAPE.search(raw):
            raise ApiProblem(422, "the body holds a NUL character (\\u0000), which no field "
                                  "may contain", type_="invalid-request")


def latest_plausible_date() -> dt.date:
    today = dt.date.today()
    return dt.date(today.year + HORIZON_YEARS, 12, 31)


def check_date(path: str, value: dt.date) -> Problem | None:
    """A date outside 1900 .. today + 100 years is an input error, not a date to compute
    with (a start in 9999 overflows every later date)."""
    last = latest_plausible_date()
    if EARLIEST_YEAR <= value.year <= last.year:
        return None
    return Problem(path, "date outside the plausible range",
                   expected=f"{EARLIEST_YEAR}-01-01 to {last.isoformat()}",
                   got=value.isoformat())


def value_problems(value: Any, path: str = "", limit: int = 1000) -> list[Problem]:
    """Non-finite numbers (``NaN``, ``Infinity``) and implausible dates anywhere in a JSON
    value, each with its path (at most ``limit`` listed)."""
    out: list[Problem] = []
    last = latest_plausible_date().year
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack and len(out) < limit:
        where, v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            out.append(Problem(where, "not a finite number", expected="a number",
                               got=str(v)))
        elif isinstance(v, str) and (m := _DATE.match(v)) and not (
                EARLIEST_YEAR <= int(m.group(1)) <= last):
            out.append(Problem(where, "date outside the plausible range",
                               expected=f"years {EARLIEST_YEAR} to {last}", got=v[:10]))
        elif isinstance(v, dict):
            stack.extend((f"{where}.{k}" if where else str(k), x)
                         for k, x in reversed(list(v.items())))
        elif isinstance(v, list):
            stack.extend((f"{where}[{i}]", x) for i, x in reversed(list(enumerate(v))))
    return out


def check_values(value: Any, path: str = "") -> None:
    """Raise :class:`RecordError` (422) when :func:`value_problems` finds any."""
    problems = value_problems(value, path)
    if problems:
        raise RecordError(problems)


#: the most observations one record may hold (the record layer's cap, so the CLI and the web
#: page refuse what the API refuses), and FHIR entries one Bundle: a few years of weekly
#: counts are well under them, and they keep one request under about a second
MAX_BUNDLE_ENTRIES = 1000


def check_size(body: dict[str, Any], adding: int = 0) -> None:
    """Refuse a record with more than :data:`MAX_OBSERVATIONS` observations (``adding``:
    those about to be added) or a Bundle with more than :data:`MAX_BUNDLE_ENTRIES` entries,
    before any is checked."""
    for key, most in (("observations", MAX_OBSERVATIONS), ("entry", MAX_BUNDLE_ENTRIES)):
        items = body.get(key)
        n = (len(items) if isinstance(items, list) else 0) + adding
        if n > most:
            raise RecordError([Problem(key, "too many items in one record",
                                       expected=f"at most {most}", got=str(n))])


def _bundle_patients(body: dict[str, Any]) -> None:
    """A Bundle stored for a patient names exactly one Patient with an id or identifier;
    without one, different people's data would share a placeholder id."""
    entries = body.get("entry")
    patients = [(i, e["resource"]) for i, e in enumerate(entries or [])
                if isinstance(e, dict) and isinstance(e.get("resource"), dict)
                and e["resource"].get("resourceType") == "Patient"]
    if not patients:
        raise RecordError([Problem("entry", "the Bundle has no Patient resource",
                                   expected="one Patient resource with an id",
                                   hint="add the Patient the resources are about")])
    if len(patients) > 1:
        raise RecordError([Problem(f"entry[{patients[1][0]}]", "the Bundle holds more than "
                                   "one Patient", expected="one patient per request",
                                   got=f"{len(patients)} Patient resources")])
    i, res = patients[0]
    ids = [x.get("value") for x in res.get("identifier") or [] if isinstance(x, dict)]
    if not res.get("id") and not any(isinstance(x, str) and x for x in ids):
        raise RecordError([Problem(f"entry[{i}].resource.id", "the Patient has no id or "
                                   "identifier", expected="Patient.id or "
                                   "Patient.identifier[].value")])


def read_record(body: Any) -> ParsedRecord:
    """A checked record from a JSON body: ``allpath.record/1`` or a FHIR ``Bundle``."""
    if not isinstance(body, dict):
        raise ApiProblem(422, "the body must be a JSON object", errors=[FieldError(
            path="", message="expected an object", expected="allpath.record/1 or a FHIR "
                                                            "Bundle", got=type(body).__name__)])
    check_size(body)
    check_values(body)
    if body.get("resourceType") == "Bundle":
        _bundle_patients(body)
        return _from_bundle(body)
    return ParsedRecord(parse_record(body), body)
