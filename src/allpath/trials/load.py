"""Readers for the three shapes in which ClinicalTrials.gov hands out a study.

* :func:`read_ctgov_csv`: the CSV file behind the website's "Download" button;
* :func:`read_ctgov_xml`: one legacy ``<clinical_study>`` XML record (the pre-2023 format);
* :func:`read_ctgov_json`: the API v2 JSON, either one study or a page of search results;
* :func:`read_trials`: any of the above, chosen by file suffix, or every such file in a folder.

Each reader returns frozen :class:`~allpath.trials.records.Trial` values spelled in the API v2
vocabulary, whatever the source wrote (``"Active, not recruiting"`` becomes
``ACTIVE_NOT_RECRUITING``, ``"Phase 1/Phase 2"`` becomes ``PHASE1``, ``PHASE2``). Nothing is
guessed: a field the format does not carry stays ``None`` or empty.

A reader either returns every study of its file or raises one
:class:`~allpath.errors.TrialDataError` that lists every problem it found, each located by a
path (``rows[12].NCT Number``, ``eligibility/minimum_age``,
``studies[3].protocolSection.identificationModule.nctId``); it never returns part of a file.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree as SafeElementTree  # type: ignore[import-untyped, unused-ignore]

from allpath.errors import Problem, TrialDataError
from allpath.trials.records import Site, Trial

__all__ = [
    "AGE_GROUPS",
    "FHIR_PHASES",
    "parse_age_years",
    "read_ctgov_csv",
    "read_ctgov_json",
    "read_ctgov_xml",
    "read_fhir_research_studies",
    "read_trials",
]

#: ClinicalTrials.gov's standard age groups, youngest first: CHILD is birth to 17 years,
#: ADULT 18 to 64, OLDER_ADULT 65 and over.
AGE_GROUPS: tuple[str, ...] = ("CHILD", "ADULT", "OLDER_ADULT")

_T = TypeVar("_T")

_NCT_ID = re.compile(r"NCT\d{8}")
_NCT_EXPECTED = "'NCT' followed by 8 digits, e.g. NCT01207388"

# Columns a CSV export must have; the others the website offers are read when present.
_CSV_REQUIRED = ("NCT Number", "Study Title", "Study Status")

_PHASES = frozenset({"EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4"})
_NO_PHASE = frozenset({"", "N/A", "NA", "NONE", "NOT APPLICABLE"})
_SEXES = {"ALL": "ALL", "BOTH": "ALL", "FEMALE": "FEMALE", "MALE": "MALE"}
# Legacy XML spellings whose upper-cased form differs from the API v2 value.
_STATUS_ALIASES = {"UNKNOWN_STATUS": "UNKNOWN"}

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_WORDY_DATE = re.compile(r"([A-Za-z]+)\.?\s+(?:(\d{1,2}),?\s+)?(\d{4})")

# Years per unit, as (multiplier, divisor) so that "6 Months" gives exactly 0.5.
_AGE_UNITS: dict[str, tuple[float, float]] = {
    "year": (1.0, 1.0),
    "month": (1.0, 12.0),
    "week": (7.0, 365.25),
    "day": (1.0, 365.25),
    "hour": (1.0, 24.0 * 365.25),
    "minute": (1.0, 60.0 * 24.0 * 365.25),
}
_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)s?", re.IGNORECASE)
_NO_AGE = frozenset({"", "N/A", "NA", "NONE"})

# Location strings in the CSV export: "Facility, City, State, Zip, Country" with empty parts
# left out, so the state is only recognisable by position and context.
_POSTCODE = re.compile(r"[A-Z]{0,4}[- ]?\d[0-9A-Z -]*")
_STATE_COUNTRIES = frozenset({"United States", "Canada", "Australia"})
_FACILITY_WORDS = re.compile(
    r"hospital|h[oô]pital|ospedale|klinik|clinic|cl[ií]nic|universit|college|school|"
    r"department|\bdept\b|\babt\b|\bstation\b|\bcent(?:er|re)\b|institut|zentrum|\bunit\b|"
    r"laborator|medical|medicine|oncolog|onkolog|h(?:a)?ematolog|h[äa]matolog|"
    r"p(?:a|ä)?ediatr|\bpäd\b|kinder|child|physician|\bgmbh\b|\bltd\b|\binc\b|foundation|"
    r"research|\bcams\b|\bpumc\b|\bward\b|service|division|faculty|academy",
    re.IGNORECASE,
)


class _Problems:
    """Problems found in one file, raised together at the end."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[Problem] = []

    def add(
        self,
        path: str,
        message: str,
        *,
        expected: str | None = None,
        got: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.items.append(
            Problem(path, message, expected=expected, got=got, hint=hint, source=self.source)
        )

    def raise_if_any(self) -> None:
        if self.items:
            raise TrialDataError(self.items, source=self.source)


def _fail(source: str, path: str, message: str, *, expected: str | None = None,
          got: str | None = None) -> TrialDataError:
    problem = Problem(path, message, expected=expected, got=got, source=source)
    return TrialDataError([problem], source=source)


# --------------------------------------------------------------------------- value parsers


def parse_age_years(text: str) -> float | None:
    """Turn a registry age limit such as ``"18 Years"`` or ``"6 Months"`` into years.

    Years, months (``/12``), weeks (``*7/365.25``), days (``/365.25``), hours and minutes are
    understood, singular or plural, in any letter case. ``"N/A"`` (and an empty string)
    means the registry states no limit and gives ``None``.

    Raises:
        ValueError: for text that is not an age (``"eighteen"``, ``"18"``, ``"-1 Years"``).
            The file readers turn this into a :class:`~allpath.errors.Problem` that names
            the field.
    """
    cleaned = text.strip()
    if cleaned.upper() in _NO_AGE:
        return None
    match = _AGE.fullmatch(cleaned)
    if match is None:
        raise ValueError(
            f"not an age: {text!r} (expected a number and a unit such as '18 Years', "
            "'6 Months', '2 Weeks' or 'N/A')"
        )
    multiplier, divisor = _AGE_UNITS[match[2].lower()]
    return float(match[1]) * multiplier / divisor


def _age_groups(min_years: float | None, max_years: float | None) -> frozenset[str]:
    """Every standard age group that the inclusive range ``[min, max]`` touches."""
    low = 0.0 if min_years is None else min_years
    high = math.inf if max_years is None else max_years
    groups: set[str] = set()
    if low < 18:
        groups.add("CHILD")
    if low < 65 and high >= 18:
        groups.add("ADULT")
    if high >= 65:
        groups.add("OLDER_ADULT")
    return frozenset(groups)


def _parse_date(text: str) -> dt.date | None:
    """A registry date; a month without a day means the first of that month.

    Accepts ``2022-08-29``, ``2022-08``, ``8/29/2022`` (month first, as the CSV export writes
    it), ``March 2010`` and ``March 15, 2010``. Empty text gives ``None``; anything else raises
    ``ValueError``.
    """
    cleaned = text.strip()
    if not cleaned:
        return None
    if match := _ISO_DATE.fullmatch(cleaned):
        return dt.date(int(match[1]), int(match[2]), int(match[3] or 1))
    if match := _US_DATE.fullmatch(cleaned):
        return dt.date(int(match[3]), int(match[1]), int(match[2]))
    if (match := _WORDY_DATE.fullmatch(cleaned)) and match[1].lower() in _MONTHS:
        return dt.date(int(match[3]), _MONTHS[match[1].lower()], int(match[2] or 1))
    raise ValueError(f"not a date: {text!r}")


def _parse_count(text: str) -> int | None:
    """An enrollment count written as ``100`` or ``100.0``; empty text gives ``None``."""
    cleaned = text.strip()
    if not cleaned:
        return None
    number = float(cleaned)  # ValueError for text that is not a number
    if not number.is_integer() or number < 0:
        raise ValueError(f"not a whole, non-negative count: {text!r}")
    return int(number)


def _code(text: str) -> str:
    """``"Active, not recruiting"`` -> ``ACTIVE_NOT_RECRUITING``: the API v2 enum style."""
    return re.sub(r"[^A-Z0-9]+", "_", text.strip().upper()).strip("_")


def _status(text: str) -> str:
    code = _code(text)
    return _STATUS_ALIASES.get(code, code)


def _phases(values: Iterable[str]) -> tuple[str, ...]:
    """API v2 phase codes for phase text (``"Phase 1/Phase 2"``, ``PHASE2``, ``N/A``).

    Raises ``ValueError`` carrying the part that is not a phase.
    """
    out: list[str] = []
    for value in values:
        if value.strip().upper() in _NO_PHASE:
            continue
        for part in re.split(r"[/|]", value):
            if part.strip().upper() in _NO_PHASE:
                continue
            code = _code(re.sub(r"(?i)phase\s*(\d)", r"PHASE\1", part))
            if code not in _PHASES:
                raise ValueError(part)
            if code not in out:
                out.append(code)
    return tuple(out)


def _checked_phases(values: Iterable[str], path: str, problems: _Problems) -> tuple[str, ...]:
    try:
        return _phases(values)
    except ValueError as exc:
        problems.add(path, "unknown phase", expected=", ".join(sorted(_PHASES)) + " or N/A",
                     got=repr(exc.args[0]))
        return ()


def _sex(text: str, path: str, problems: _Problems) -> str | None:
    cleaned = text.strip().upper()
    if not cleaned:
        return None
    if cleaned not in _SEXES:
        problems.add(path, "unknown sex", expected="ALL, FEMALE or MALE", got=repr(text))
        return None
    return _SEXES[cleaned]


def _ages(min_text: str | None, max_text: str | None, min_path: str, max_path: str,
          problems: _Problems) -> tuple[float | None, float | None]:
    limits: list[float | None] = []
    for text, path in ((min_text, min_path), (max_text, max_path)):
        try:
            limits.append(None if text is None else parse_age_years(text))
        except ValueError:
            problems.add(path, "not an age", expected="e.g. '18 Years', '6 Months' or 'N/A'",
                         got=repr(text))
            limits.append(None)
    return limits[0], limits[1]


def _groups(values: Iterable[str], path: str, problems: _Problems) -> frozenset[str]:
    groups: set[str] = set()
    for value in values:
        code = _code(value)
        if not code:
            continue
        if code not in AGE_GROUPS:
            problems.add(path, "unknown age group", expected=", ".join(AGE_GROUPS),
                         got=repr(value))
        else:
            groups.add(code)
    return frozenset(groups)


def _date(text: str | None, path: str, problems: _Problems) -> dt.date | None:
    if text is None:
        return None
    try:
        return _parse_date(text)
    except ValueError:
        problems.add(path, "not a date",
                     expected="e.g. 2022-08-29, 2022-08, 8/29/2022 or March 15, 2010",
                     got=repr(text))
        return None


def _count(text: str | None, path: str, problems: _Problems) -> int | None:
    if text is None:
        return None
    try:
        return _parse_count(text)
    except ValueError:
        problems.add(path, "not an enrollment count", expected="a whole number",
                     got=repr(text))
        return None


def _check_nct(nct_id: str | None, path: str, problems: _Problems,
               hint: str | None = None) -> None:
    if not nct_id:
        problems.add(path, "the NCT number is missing", expected=_NCT_EXPECTED, hint=hint)
    elif _NCT_ID.fullmatch(nct_id) is None:
        problems.add(path, "not a ClinicalTrials.gov id", expected=_NCT_EXPECTED,
                     got=repr(nct_id), hint=hint)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _fail(str(path), "", f"cannot read the file ({exc.strerror or exc})") from exc


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(source, "", "the file is not UTF-8 text", got=str(exc)) from exc


# --------------------------------------------------------------------------------- CSV


def _repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was decoded as Windows-1252 once too often (``MÃ¼nster``).

    The website's export writes some names this way. The text is changed only when all of it
    round-trips (every character maps back to one byte and the bytes are valid UTF-8), which
    correctly written non-ASCII text practically never does.
    """
    if text.isascii():
        return text
    try:  # the whole text at once; character by character only when that fails
        return text.encode("cp1252").decode("utf-8")
    except UnicodeEncodeError:
        pass
    except UnicodeDecodeError:
        return text
    raw = bytearray()
    for char in text:
        try:
            raw += char.encode("cp1252")
        except UnicodeEncodeError:
            if ord(char) > 0xFF:  # a real non-Latin character: the text is not mojibake
                return text
            raw.append(ord(char))  # the five bytes cp1252 leaves undefined pass through
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return text


def _split_outside_brackets(text: str, sep: str = ", ") -> list[str]:
    """Split on ``sep`` except inside round brackets (facility names hold "(A, B)")."""
    if "(" not in text:  # no bracket to stay inside: a plain split gives the same parts
        return [p.strip() for p in text.split(sep) if p.strip()]
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _csv_site(text: str) -> Site:
    """One entry of the CSV ``Locations`` column.

    The export joins "facility, city, state, zip, country", leaving out the parts a site does
    not have, and facility names may hold commas themselves. The country is the last part; a
    postcode-like part before it is dropped (``Site`` has no postcode); of what is left, the
    last part is the state when the country is one whose sites always name a state (United
    States, Canada, Australia) or when the part before it does not look like a piece of a
    facility name; the part before the state (or the last part) is the city; the rest is the
    facility. A bare "City, Country" (the sponsor withheld the facility) gives an empty
    facility.
    """
    parts = _split_outside_brackets(text)
    if len(parts) == 1:
        return Site(facility=parts[0])
    country = parts[-1]
    rest = parts[:-1]
    if len(rest) >= 2 and _POSTCODE.fullmatch(rest[-1]):
        rest = rest[:-1]
    if len(rest) == 1:
        return Site(facility="", city=rest[0], country=country)
    state: str | None = None
    if len(rest) >= 3 and (
        country in _STATE_COUNTRIES or not _FACILITY_WORDS.search(rest[-2])
    ):
        state = rest[-1]
        rest = rest[:-1]
    return Site(facility=", ".join(rest[:-1]), city=rest[-1], state=state, country=country)


def read_ctgov_csv(path: str | Path) -> tuple[Trial, ...]:
    """Read a CSV file exported from the ClinicalTrials.gov website, one trial per row.

    The columns ``NCT Number``, ``Study Title`` and ``Study Status`` are required; the others
    the website offers (Conditions, Sponsor, Phases, Enrollment, Study Type, Start Date,
    Completion Date, Locations, Sex, Age) are read when present. Lists are pipe-separated,
    age groups comma-separated. The export has no exact age limits and no eligibility text, so
    every trial has ``has_exact_ages=False`` and only ``age_groups``. Text garbled by a double
    UTF-8 encoding (``HÃ´pital``) is repaired.

    Raises:
        TrialDataError: the file cannot be read, lacks a required column, or has rows with a
            missing or malformed NCT number, title, status, date, count, phase, sex or age
            group; every such problem of the file is listed, located as ``rows[i].Column``
            (``i`` counts data rows from 0; the hint gives the file line).
    """
    file = Path(path)
    source = str(file)
    text = _decode(_read_bytes(file), source)
    problems = _Problems(source)
    trials: list[Trial] = []
    try:
        reader = csv.DictReader(text.splitlines(keepends=True))
        header = [name.strip() for name in (reader.fieldnames or [])]
        reader.fieldnames = header
        missing = [name for name in _CSV_REQUIRED if name not in header]
        if missing:
            raise _fail(
                source, "columns",
                f"missing required column(s): {', '.join(repr(m) for m in missing)}",
                expected=", ".join(_CSV_REQUIRED),
                got=", ".join(repr(h) for h in header) if header else "no header row",
            )
        for index, row in enumerate(reader):
            before = len(problems.items)
            hint = f"line {reader.line_num} of the file"

            def cell(name: str, row: dict[str, str] = row) -> str:
                return _repair_mojibake((row.get(name) or "").strip())

            def where(name: str, index: int = index) -> str:
                return f"rows[{index}].{name}"

            nct_id = cell("NCT Number")
            _check_nct(nct_id, where("NCT Number"), problems, hint)
            title = cell("Study Title")
            if not title:
                problems.add(where("Study Title"), "the title is empty", hint=hint)
            status = _status(cell("Study Status"))
            if not status:
                problems.add(where("Study Status"), "the status is empty", hint=hint)
            trial = Trial(
                nct_id=nct_id,
                title=title,
                status=status,
                conditions=tuple(c.strip() for c in cell("Conditions").split("|") if c.strip()),
                phases=_checked_phases(cell("Phases").split("|"), where("Phases"), problems),
                study_type=_code(cell("Study Type")) or None,
                sponsor=cell("Sponsor") or None,
                sex=_sex(cell("Sex"), where("Sex"), problems),
                age_groups=_groups(cell("Age").split(","), where("Age"), problems),
                has_exact_ages=False,
                enrollment=_count(cell("Enrollment"), where("Enrollment"), problems),
                start_date=_date(cell("Start Date"), where("Start Date"), problems),
                completion_date=_date(
                    cell("Completion Date"), where("Completion Date"), problems
                ),
                sites=tuple(
                    _csv_site(loc) for loc in cell("Locations").split("|") if loc.strip()
                ),
                source="csv",
            )
            if len(problems.items) == before:
                trials.append(trial)
    except csv.Error as exc:
        raise _fail(source, "", "not a readable CSV file", got=str(exc)) from exc
    problems.raise_if_any()
    return tuple(trials)


# --------------------------------------------------------------------------------- XML


def _xml_text(element: Element, path: str) -> str | None:
    """The stripped text at ``path`` below ``element``; None when absent or empty."""
    found = element.find(path)
    if found is None or found.text is None or not found.text.strip():
        return None
    return found.text.strip()


def _xml_texts(element: Element, path: str) -> tuple[str, ...]:
    return tuple(
        e.text.strip() for e in element.findall(path) if e.text is not None and e.text.strip()
    )


def _xml_site(location: Element) -> Site:
    status = _xml_text(location, "status")
    return Site(
        facility=_xml_text(location, "facility/name") or "",
        city=_xml_text(location, "facility/address/city"),
        state=_xml_text(location, "facility/address/state"),
        country=_xml_text(location, "facility/address/country"),
        status=_status(status) if status else None,
    )


def read_ctgov_xml(path: str | Path) -> Trial:
    """Read one study from a legacy ClinicalTrials.gov ``<clinical_study>`` XML file.

    The file is parsed with ``defusedxml`` (no entity expansion, no external resources).
    Statuses, phases, study types and sex are turned into API v2 codes; the eligibility
    ages become years (``has_exact_ages=True``; ``N/A`` means no limit) and the standard age
    groups are worked out from them. Dates such as ``March 2010`` mean the first of the month.

    Raises:
        TrialDataError: the file is not well-formed XML, its root is not ``clinical_study``,
            ``id_info/nct_id``, ``brief_title`` or ``overall_status`` is missing, or a date,
            age, count, phase or sex cannot be read; problems are located by element path
            (``eligibility/minimum_age``) and all reported together.
    """
    file = Path(path)
    source = str(file)
    data = _read_bytes(file)
    try:
        root: Element = SafeElementTree.fromstring(data)
    except (ParseError, ValueError) as exc:  # defusedxml's refusals are ValueErrors
        raise _fail(source, "", "not a well-formed XML document",
                    expected="a <clinical_study> XML record", got=str(exc)) from exc
    if root.tag != "clinical_study":
        raise _fail(source, "", "not a ClinicalTrials.gov study record",
                    expected="root element <clinical_study>", got=f"<{root.tag}>")

    problems = _Problems(source)
    nct_id = _xml_text(root, "id_info/nct_id")
    _check_nct(nct_id, "id_info/nct_id", problems)
    title = _xml_text(root, "brief_title")
    if title is None:
        problems.add("brief_title", "required element is missing or empty",
                     expected="<brief_title> with text")
    status = _xml_text(root, "overall_status")
    if status is None:
        problems.add("overall_status", "required element is missing or empty",
                     expected="<overall_status> with text, e.g. Recruiting")
    min_age, max_age = _ages(
        _xml_text(root, "eligibility/minimum_age"), _xml_text(root, "eligibility/maximum_age"),
        "eligibility/minimum_age", "eligibility/maximum_age", problems,
    )
    criteria = root.find("eligibility/criteria/textblock")
    eligibility = (
        textwrap.dedent(criteria.text).strip()
        if criteria is not None and criteria.text
        else None
    )
    study_type = _xml_text(root, "study_type")
    trial = Trial(
        nct_id=nct_id or "",
        title=title or "",
        status=_status(status or ""),
        conditions=_xml_texts(root, "condition"),
        keywords=_xml_texts(root, "keyword"),
        interventions=_xml_texts(root, "intervention/intervention_name"),
        phases=_checked_phases(_xml_texts(root, "phase"), "phase", problems),
        study_type=_code(study_type) if study_type else None,
        sponsor=_xml_text(root, "sponsors/lead_sponsor/agency"),
        sex=_sex(_xml_text(root, "eligibility/gender") or "", "eligibility/gender", problems),
        age_groups=_age_groups(min_age, max_age),
        min_age_years=min_age,
        max_age_years=max_age,
        has_exact_ages=True,
        eligibility_text=eligibility or None,
        enrollment=_count(_xml_text(root, "enrollment"), "enrollment", problems),
        start_date=_date(_xml_text(root, "start_date"), "start_date", problems),
        completion_date=_date(_xml_text(root, "completion_date"), "completion_date", problems),
        sites=tuple(_xml_site(loc) for loc in root.findall("location")),
        source="xml",
    )
    problems.raise_if_any()
    return trial


# -------------------------------------------------------------------------------- JSON


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _member(obj: object, key: str) -> object:
    """``obj[key]`` when ``obj`` is a JSON object holding it, else None."""
    return obj.get(key) if isinstance(obj, Mapping) else None


class _JsonStudy:
    """Typed access to one API v2 study, recording a Problem for each ill-typed field."""

    def __init__(self, study: object, prefix: str, problems: _Problems) -> None:
        self.study = study
        self.prefix = prefix
        self.problems = problems

    def value(self, dotted: str) -> object:
        current = self.study
        for key in dotted.split("."):
            current = _member(current, key)
        return current

    def text(self, dotted: str, *, required: bool = False) -> str | None:
        value = self.value(dotted)
        path = _join(self.prefix, dotted)
        if value is None:
            if required:
                self.problems.add(path, "required field is missing", expected="a string")
            return None
        if not isinstance(value, str):
            self.problems.add(path, "wrong type", expected="a string", got=_kind(value))
            return None
        if required and not value.strip():
            self.problems.add(path, "required field is empty", expected="a non-empty string")
            return None
        return value.strip()

    def texts(self, dotted: str) -> tuple[str, ...]:
        return tuple(s for s in self._list_items(dotted, self.text_of) if s)

    def text_of(self, value: object, path: str) -> str | None:
        if not isinstance(value, str):
            self.problems.add(path, "wrong type", expected="a string", got=_kind(value))
            return None
        return value.strip()

    def objects(self, dotted: str) -> list[tuple[str, Mapping[str, object]]]:
        return self._list_items(dotted, self._object_of)

    def _object_of(self, value: object, path: str) -> tuple[str, Mapping[str, object]] | None:
        if not isinstance(value, Mapping):
            self.problems.add(path, "wrong type", expected="an object", got=_kind(value))
            return None
        return (path, value)

    def _list_items(
        self, dotted: str, convert: Callable[[object, str], _T | None]
    ) -> list[_T]:
        value = self.value(dotted)
        path = _join(self.prefix, dotted)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.add(path, "wrong type", expected="a list", got=_kind(value))
            return []
        out: list[_T] = []
        for i, item in enumerate(value):
            converted = convert(item, f"{path}[{i}]")
            if converted is not None:
                out.append(converted)
        return out


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _number(value: object, path: str, problems: _Problems) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.add(path, "wrong type", expected="a number", got=_kind(value))
        return None
    return float(value)


def _json_site(path: str, location: Mapping[str, object], problems: _Problems) -> Site:
    def text(key: str) -> str | None:
        value = location.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            problems.add(f"{path}.{key}", "wrong type", expected="a string", got=_kind(value))
            return None
        return value.strip() or None

    geo = location.get("geoPoint")
    status = text("status")
    return Site(
        facility=text("facility") or "",
        city=text("city"),
        state=text("state"),
        country=text("country"),
        status=_status(status) if status else None,
        lat=_number(_member(geo, "lat"), f"{path}.geoPoint.lat", problems),
        lon=_number(_member(geo, "lon"), f"{path}.geoPoint.lon", problems),
    )


def _json_trial(study: object, prefix: str, problems: _Problems) -> Trial | None:
    before = len(problems.items)
    if not isinstance(_member(study, "protocolSection"), Mapping):
        problems.add(_join(prefix, "protocolSection"), "required object is missing",
                     expected="an object with identificationModule and statusModule",
                     got=_kind(_member(study, "protocolSection")))
        return None
    s = _JsonStudy(study, prefix, problems)
    ps = "protocolSection"
    nct_path = f"{ps}.identificationModule.nctId"
    nct_id = s.text(nct_path)
    _check_nct(nct_id, _join(prefix, nct_path), problems)
    title = s.text(f"{ps}.identificationModule.briefTitle", required=True)
    status = s.text(f"{ps}.statusModule.overallStatus", required=True)

    eligibility_module = s.value(f"{ps}.eligibilityModule")
    has_exact = isinstance(eligibility_module, Mapping)
    elig = f"{ps}.eligibilityModule"
    min_age, max_age = _ages(
        s.text(f"{elig}.minimumAge"), s.text(f"{elig}.maximumAge"),
        _join(prefix, f"{elig}.minimumAge"), _join(prefix, f"{elig}.maximumAge"), problems,
    )
    std_ages = s.texts(f"{elig}.stdAges")
    if std_ages:
        groups = _groups(std_ages, _join(prefix, f"{elig}.stdAges"), problems)
    elif has_exact:
        groups = _age_groups(min_age, max_age)
    else:
        groups = frozenset()

    count_path = f"{ps}.designModule.enrollmentInfo.count"
    count = _number(s.value(count_path), _join(prefix, count_path), problems)
    if count is not None and (not count.is_integer() or count < 0):
        problems.add(_join(prefix, count_path), "not an enrollment count",
                     expected="a whole, non-negative number", got=repr(count))
    study_type = s.text(f"{ps}.designModule.studyType")
    criteria = s.text(f"{elig}.eligibilityCriteria")
    sex = s.text(f"{elig}.sex")
    trial = Trial(
        nct_id=nct_id or "",
        title=title or "",
        status=_status(status or ""),
        conditions=s.texts(f"{ps}.conditionsModule.conditions"),
        keywords=s.texts(f"{ps}.conditionsModule.keywords"),
        interventions=tuple(
            name
            for path, item in s.objects(f"{ps}.armsInterventionsModule.interventions")
            if (name := _JsonStudy(item, path, problems).text("name"))
        ),
        phases=_checked_phases(s.texts(f"{ps}.designModule.phases"),
                               _join(prefix, f"{ps}.designModule.phases"), problems),
        study_type=_code(study_type) if study_type else None,
        sponsor=s.text(f"{ps}.sponsorCollaboratorsModule.leadSponsor.name"),
        sex=_sex(sex or "", _join(prefix, f"{elig}.sex"), problems),
        age_groups=groups,
        min_age_years=min_age,
        max_age_years=max_age,
        has_exact_ages=has_exact,
        eligibility_text=criteria or None,
        enrollment=int(count) if count is not None and count.is_integer() else None,
        start_date=_date(s.text(f"{ps}.statusModule.startDateStruct.date"),
                         _join(prefix, f"{ps}.statusModule.startDateStruct.date"), problems),
        completion_date=_date(
            s.text(f"{ps}.statusModule.completionDateStruct.date"),
            _join(prefix, f"{ps}.statusModule.completionDateStruct.date"), problems,
        ),
        sites=tuple(
            _json_site(path, loc, problems)
            for path, loc in s.objects(f"{ps}.contactsLocationsModule.locations")
        ),
        source="json",
    )
    return trial if len(problems.items) == before else None


def read_ctgov_json(path: str | Path) -> tuple[Trial, ...]:
    """Read ClinicalTrials.gov API v2 JSON: one study, or one page of search results.

    A document with ``protocolSection`` is one study; one with a ``studies`` list is a search
    page (its ``nextPageToken`` is ignored: each page is its own file). Pages fetched with a
    ``fields`` filter may lack whole modules; what is missing stays empty. The exact ages
    (``has_exact_ages=True``) come from ``eligibilityModule`` when it is present, where a
    missing ``maximumAge`` means no upper limit; the age groups are ``stdAges`` when given,
    otherwise worked out from the ages, and empty when there is no ``eligibilityModule``.

    Raises:
        TrialDataError: the file is not JSON, not a study or search page, or a study lacks
            ``nctId``, ``briefTitle`` or ``overallStatus`` or has an ill-typed or unreadable
            field; problems are located like
            ``studies[3].protocolSection.identificationModule.nctId`` and all reported
            together.
    """
    file = Path(path)
    source = str(file)
    try:
        document: object = json.loads(_decode(_read_bytes(file), source))
    except json.JSONDecodeError as exc:
        raise _fail(source, "", "not valid JSON", got=f"{exc.msg} at line {exc.lineno}") from exc
    studies: list[tuple[str, object]]
    if isinstance(document, Mapping) and document.get("resourceType") in ("Bundle",
                                                                           "ResearchStudy"):
        return read_fhir_research_studies(document, source)
    if isinstance(document, Mapping) and "protocolSection" in document:
        studies = [("", document)]
    elif isinstance(document, Mapping) and isinstance(document.get("studies"), list):
        studies = [(f"studies[{i}]", study) for i, study in enumerate(document["studies"])]
    else:
        got = (
            "an object with keys " + ", ".join(sorted(map(str, document))[:8])
            if isinstance(document, Mapping)
            else _kind(document)
        )
        raise _fail(source, "", "not a ClinicalTrials.gov API v2 document",
                    expected='a study with "protocolSection" or a search page with "studies"',
                    got=got)
    problems = _Problems(source)
    trials = [_json_trial(study, prefix, problems) for prefix, study in studies]
    problems.raise_if_any()
    return tuple(t for t in trials if t is not None)


# -------------------------------------------------------------------- FHIR ResearchStudy

_FHIR_STATUS = {
    "active": "RECRUITING", "approved": "NOT_YET_RECRUITING", "in-review": "NOT_YET_RECRUITING",
    "closed-to-accrual": "ACTIVE_NOT_RECRUITING",
    "closed-to-accrual-and-intervention": "ACTIVE_NOT_RECRUITING",
    "temporarily-closed-to-accrual": "SUSPENDED",
    "temporarily-closed-to-accrual-and-intervention": "SUSPENDED",
    "completed": "COMPLETED", "administratively-completed": "TERMINATED",
    "disapproved": "WITHDRAWN", "withdrawn": "WITHDRAWN",
}

#: research-study-phase code -> (registry phases, display); the one table both directions use
FHIR_PHASES: dict[str, tuple[tuple[str, ...], str]] = {
    "early-phase-1": (("EARLY_PHASE1",), "Early Phase 1"),
    "phase-1": (("PHASE1",), "Phase 1"),
    "phase-1-phase-2": (("PHASE1", "PHASE2"), "Phase 1/Phase 2"),
    "phase-2": (("PHASE2",), "Phase 2"),
    "phase-2-phase-3": (("PHASE2", "PHASE3"), "Phase 2/Phase 3"),
    "phase-3": (("PHASE3",), "Phase 3"),
    "phase-4": (("PHASE4",), "Phase 4"),
}


def _fhir_study(res: Mapping[str, Any], path: str, problems: _Problems) -> Trial | None:
    from pydantic import ValidationError

    from allpath.errors import validation_problems
    from allpath.interop.fhir.release import validate_resource

    try:
        validate_resource(dict(res))
    except ValidationError as err:
        for p in validation_problems(err):
            problems.add(_join(path, p.path), p.message, expected=p.expected, got=p.got)
        return None
    nct = next((i.get("value") for i in res.get("identifier") or []
                if "clinicaltrials.gov" in str(i.get("system", ""))), None) or res.get("id")
    status = _FHIR_STATUS.get(str(res.get("status")))
    if status is None:  # the models do not check codes against the value set
        problems.add(_join(path, "status"), "not a research-study-status code",
                     expected=", ".join(_FHIR_STATUS), got=repr(res.get("status")))
    if not isinstance(nct, str) or not _NCT_ID.fullmatch(nct):
        problems.add(_join(path, "identifier"), "no NCT number",
                     expected=_NCT_EXPECTED, got=repr(nct))
        return None
    if status is None:
        return None
    contained = {c.get("id"): c for c in res.get("contained") or [] if isinstance(c, Mapping)}
    sites = []
    for ref in res.get("site") or []:
        loc = contained.get(str(ref.get("reference", "")).lstrip("#"))
        if loc is None or loc.get("resourceType") != "Location":
            continue
        addr = loc.get("address") or {}
        pos = loc.get("position") or {}
        sites.append(Site(facility=str(loc.get("name") or ""), city=addr.get("city"),
                          state=addr.get("state"), country=addr.get("country"),
                          lat=pos.get("latitude"), lon=pos.get("longitude")))
    sponsor = contained.get(str((res.get("sponsor") or {}).get("reference", "")).lstrip("#"))
    phase = next((c.get("code") for c in (res.get("phase") or {}).get("coding") or []), None)
    enrollment = res.get("enrollment") or []
    criteria = next((e.get("display") for e in enrollment if e.get("display")), None)
    return Trial(
        nct_id=nct, title=str(res.get("title") or ""),
        status=status,
        conditions=tuple(str(c.get("text")) for c in res.get("condition") or []
                         if c.get("text")),
        keywords=tuple(str(k.get("text")) for k in res.get("keyword") or [] if k.get("text")),
        phases=FHIR_PHASES.get(str(phase), ((), ""))[0],
        sponsor=None if sponsor is None else sponsor.get("name"),
        eligibility_text=None if criteria is None else str(criteria).strip(),
        sites=tuple(sites), source="fhir",
    )


def read_fhir_research_studies(document: Mapping[str, Any],
                               source: str = "<fhir>") -> tuple[Trial, ...]:
    """Trials from FHIR R4 ResearchStudy resources: one resource, or a Bundle of them
    (e.g. a trial-matching service's searchset).

    Each resource is validated with the fhir.resources models; the NCT number comes from an
    identifier whose system names clinicaltrials.gov (else the resource id); sites and the
    sponsor from contained Location/Organization; eligibility text from
    ``enrollment[].display`` where a matching service put it there. FHIR has no structured
    age limits, so ``has_exact_ages`` is False and the age groups are empty.

    Raises:
        TrialDataError: every invalid resource, located as ``entry[2].resource.status``.
    """
    problems = _Problems(source)
    if document.get("resourceType") == "ResearchStudy":
        items: list[tuple[str, Mapping[str, Any]]] = [("", document)]
    else:
        items = [(f"entry[{i}].resource", e["resource"])
                 for i, e in enumerate(document.get("entry") or [])
                 if isinstance(e, Mapping) and isinstance(e.get("resource"), Mapping)
                 and e["resource"].get("resourceType") == "ResearchStudy"]
        if not items:  # e.g. a patient Bundle passed as a trial registry
            kinds = sorted({str(e["resource"].get("resourceType"))
                            for e in document.get("entry") or []
                            if isinstance(e, Mapping) and isinstance(e.get("resource"), Mapping)})
            raise _fail(source, "entry", "no ResearchStudy resources in this Bundle",
                        expected="a Bundle of ResearchStudy resources",
                        got=", ".join(kinds) or "no resources")
    trials = [_fhir_study(res, path, problems) for path, res in items]
    problems.raise_if_any()
    return tuple(t for t in trials if t is not None)


# ------------------------------------------------------------------------------ dispatch


def _read_xml_as_tuple(path: Path) -> tuple[Trial, ...]:
    return (read_ctgov_xml(path),)


_READERS: dict[str, Callable[[Path], tuple[Trial, ...]]] = {
    ".csv": read_ctgov_csv,
    ".xml": _read_xml_as_tuple,
    ".json": read_ctgov_json,
}


def read_trials(path: str | Path) -> tuple[Trial, ...]:
    """Read trials from a ``.csv``, ``.xml`` or ``.json`` file, or from every one in a folder.

    ``.json`` is ClinicalTrials.gov API v2, or FHIR R4 ResearchStudy resources (one, or a
    Bundle of them).

    The reader is chosen by suffix (any letter case). For a folder, its files with those
    suffixes (not its subfolders) are read in name order and their trials concatenated; other
    files are skipped and an empty folder gives ``()``. When the same NCT number appears more
    than once, the first one read is kept and the others are dropped silently (a study is often
    downloaded in two formats).

    Raises:
        TrialDataError: the path does not exist, a file's suffix is not one of the three, or
            any file cannot be read; for a folder, the problems of every file are reported
            together.
    """
    target = Path(path)
    if target.is_dir():
        files = sorted(
            f for f in target.iterdir() if f.is_file() and f.suffix.lower() in _READERS
        )
    elif not target.exists():
        raise _fail(str(target), "", "no such file or folder")
    elif target.suffix.lower() not in _READERS:
        raise _fail(str(target), "", "unknown trial file type", expected=".csv, .xml or .json",
                    got=repr(target.name))
    else:
        files = [target]

    trials: list[Trial] = []
    seen: set[str] = set()
    problems: list[Problem] = []
    for file in files:
        try:
            loaded = _READERS[file.suffix.lower()](file)
        except TrialDataError as exc:
            problems.extend(exc.problems)
            continue
        for trial in loaded:
            if trial.nct_id not in seen:
                seen.add(trial.nct_id)
                trials.append(trial)
    if problems:
        raise TrialDataError(problems, source=str(target))
    return tuple(trials)
