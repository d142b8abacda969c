"""Maintenance logs for titration: the allMT formats and ALLPath's native CSV/YAML format.

A log is a list of visits. Each visit holds the counts of that day and the 6-MP and MTX doses
recorded at it (the prescription made at that visit, as in the allMT sheets). Every count is
checked against the plausible range of the analyte catalogue (``knowledge/analytes.yaml``);
a value outside it is rejected with the file, line, column and range, and the visit is
marked not assessable. Reading never stops at a bad row.

Formats
-------
``allmt_processed``
    ``Cycle, Dates, Weeks, ANC, PLT, Hb, MP, MTX, MP_adj, MTX_adj`` (allMT processed data).
``allmt_external``
    the same plus ``Weight, Height, WBC`` (allMT external data).
``native`` (CSV)
    ``date, anc, wbc, platelets, hemoglobin, mp, mtx`` and optional ``weight, height, cycle,
    week, note, glucose, alt, bilirubin, tgn, memp`` (6-TGN and MeMP in pmol/8x10^8 red cells,
    written ``pmol/8e8{RBC}``); a column may carry its unit in brackets (``anc [/uL]``,
    ``bilirubin [umol/L]``, ``tgn [pmol/8e8{RBC}]``), converted with the analyte catalogue.
    Leading lines ``# key: value`` set header fields (``tpmt``, ``nudt15``, ``mp_start``,
    ``mtx_start``, ``dose_unit``, ``last_change``, ``patient``).
``native`` (YAML)
    ``format: allpath.maintenance-log/1`` with the same header fields, optional ``units``
    (column to unit) and ``visits`` (a list of mappings with the CSV column names).

Counts are in 10^9/L and hemoglobin in g/dL unless a unit is given; allMT files carry no
units and are read as 10^9/L and g/dL (the allMT convention). Doses are kept as recorded.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from allpath.errors import Problem, RecordError, shown
from allpath.observations.catalogue import load_catalogue
from allpath.record.phenotypes import PHENOTYPES, normalise_phenotype
from allpath.units import UnitError, convert

__all__ = [
    "PHENOTYPES",
    "LogFormat",
    "LogVisit",
    "MaintenanceLog",
    "normalise_phenotype",
    "parse_dose_per_m2",
    "read_log",
    "read_rows",
]

#: ``record``: the maintenance visits of a patient record (``allpath assess``), read by the
#: same row reader as a log file
LogFormat = Literal["allmt_processed", "allmt_external", "native", "record"]
COUNT_FIELDS: tuple[str, ...] = ("anc", "wbc", "platelets", "hemoglobin")
# read, never blocking (a rejected value is reported, the visit stays assessable)
BODY_FIELDS: tuple[str, ...] = ("weight", "height", "glucose", "alt", "bilirubin", "tgn", "memp")
_MISSING = {"", "na", "nan", "n/a", "null", "none", "-"}

# column name (lower case) -> field
_ALLMT_COLUMNS = {
    "dates": "date", "date": "date", "weeks": "week", "cycle": "cycle", "anc": "anc",
    "wbc": "wbc", "plt": "platelets", "hb": "hemoglobin", "mp": "mp", "6-mp": "mp",
    "6mp": "mp", "mtx": "mtx", "mp_adj": "mp_adj", "mtx_adj": "mtx_adj", "weight": "weight",
    "height": "height",
}
_NATIVE_COLUMNS = {
    "date": "date", "week": "week", "cycle": "cycle", "anc": "anc", "wbc": "wbc",
    "platelets": "platelets", "plt": "platelets", "hemoglobin": "hemoglobin", "hb": "hemoglobin",
    "mp": "mp", "mp_dose": "mp", "6-mp": "mp", "mtx": "mtx", "mtx_dose": "mtx",
    "weight": "weight", "height": "height", "note": "note",
    "glucose": "glucose", "alt": "alt", "alat": "alt", "bilirubin": "bilirubin",
    "tbil": "bilirubin", "total_bilirubin": "bilirubin", "tgn": "tgn", "6-tgn": "tgn",
    "6tgn": "tgn", "memp": "memp", "6-mmp": "memp", "6mmp": "memp", "mmp": "memp",
}
_HEADER_KEYS = ("patient", "tpmt", "nudt15", "mp_start", "mtx_start", "dose_unit", "last_change",
                "allopurinol")
_YES = {"yes", "true", "1", "y"}
_NO = {"no", "false", "0", "n"}


@dataclass(frozen=True)
class LogVisit:
    """One visit as read: values in catalogue units, ``None`` where absent or rejected."""

    line: int  # line of the file (CSV; the header is line 1) or 1-based visit index (YAML)
    date: dt.date | None
    week: float | None
    cycle: str | None
    anc: float | None
    wbc: float | None
    platelets: float | None
    hemoglobin: float | None
    mp: float | None
    mtx: float | None
    weight: float | None = None
    height: float | None = None
    note: str | None = None
    glucose: float | None = None  # mg/dL
    alt: float | None = None  # U/L
    tgn: float | None = None  # 6-thioguanine nucleotides, pmol/8e8{RBC} (catalogue unit)
    memp: float | None = None  # methylated 6-MP metabolites, pmol/8e8{RBC} (catalogue unit)
    problems: tuple[Problem, ...] = ()
    rejected: tuple[str, ...] = ()  # columns whose value was rejected
    bilirubin: float | None = None  # total bilirubin, mg/dL

    @property
    def assessable(self) -> bool:
        """False when a count or a dose of the visit was rejected."""
        return not any(c in self.rejected for c in (*COUNT_FIELDS, "mp", "mtx"))


@dataclass(frozen=True)
class MaintenanceLog:
    """A maintenance log: header fields and visits in file order."""

    source: str
    format: LogFormat
    visits: tuple[LogVisit, ...]
    patient: str | None = None
    tpmt: str | None = None
    nudt15: str | None = None
    mp_start: float | None = None  # mg/m2/d
    mtx_start: float | None = None  # mg/m2/wk
    dose_unit: str | None = None
    last_change: dt.date | None = None
    allopurinol: bool | None = None  # allopurinol given with 6-MP (header)
    problems: tuple[Problem, ...] = field(default=())  # file-level (header) problems
    # format "record": the start of the maintenance phase of the first visit (a record has no
    # header, so what dates the first wait is said in the record's terms)
    maintenance_start: dt.date | None = None

    @property
    def rejected_visits(self) -> tuple[LogVisit, ...]:
        return tuple(v for v in self.visits if not v.assessable)


# --------------------------------------------------------------------------- helpers


def parse_dose_per_m2(raw: Any, default_unit: str, *, what: str,
                      source: str | None = None) -> float:
    """A dose per m2 as ``75``, ``"75 mg/m2/d"`` or ``{value: 75, unit: mg/m2/d}``."""
    value: Any = raw
    unit = default_unit
    if isinstance(raw, Mapping):
        value, unit = raw.get("value"), str(raw.get("unit", default_unit))
    elif isinstance(raw, str):
        m = re.fullmatch(r"\s*([0-9.]+)\s*(.*?)\s*", raw)
        if m:
            value, unit = m.group(1), (m.group(2) or default_unit)
    try:
        number = float(value)
        out = convert(number, unit, default_unit)
    except (TypeError, ValueError, UnitError):
        raise RecordError([Problem(what, "not a dose per m2", expected=f"a number in "
                                   f"{default_unit}", got=shown(raw), source=source)],
                          source) from None
    if not out > 0:
        raise RecordError([Problem(what, "a starting dose must be positive", got=shown(raw),
                                   source=source)], source)
    return out


def _parse_date(text: str) -> dt.date | None:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _number(text: Any) -> float | str | None:
    """A float, None for a missing cell, or the offending text."""
    if text is None:
        return None
    if isinstance(text, bool):
        return str(text)
    if isinstance(text, int | float):
        try:
            return float(text) if math.isfinite(float(text)) else str(text)
        except OverflowError:  # an integer too large for a float
            return str(text)[:20] + "..."
    s = str(text).strip()
    if s.lower() in _MISSING:
        return None
    try:
        # a comma only between groups of three digits (1,500); "1,5" (a decimal comma) is
        # not a number here, never 15
        value = float(s.replace(",", "")) if re.fullmatch(
            r"-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?", s) else float(s)
    except ValueError:
        return s
    return value if math.isfinite(value) else s


_CATALOGUE_CODE = {"anc": "anc", "wbc": "wbc", "platelets": "platelets",
                   "hemoglobin": "hemoglobin", "weight": "weight", "height": "height",
                   "glucose": "glucose", "alt": "alt", "bilirubin": "bilirubin",
                   "tgn": "tgn", "memp": "memp"}


@dataclass
class _RowReader:
    source: str
    units: Mapping[str, str]  # field -> unit of the file
    columns: Mapping[str, str]  # field -> column name as written (for messages)

    def read(self, line: int, cells: Mapping[str, Any],
             places: Mapping[str, str] | None = None) -> LogVisit:
        """One visit from its cells; ``places`` (field -> where the value was written, such
        as ``observations[12]`` of a record) replaces "line N, column X" in the problems."""
        cat = load_catalogue()
        problems: list[Problem] = []
        rejected: list[str] = []
        values: dict[str, float | None] = {}

        def where(fname: str) -> str:
            if places is not None:
                return places.get(fname, fname)
            return f"line {line}, column {self.columns.get(fname, fname)}"

        for fname in (*COUNT_FIELDS, *BODY_FIELDS):
            raw = cells.get(fname)
            num = _number(raw)
            if isinstance(num, str):
                problems.append(Problem(where(fname), "not a number", got=shown(raw),
                                        source=self.source))
                rejected.append(fname)
                values[fname] = None
                continue
            if num is None:
                values[fname] = None
                continue
            analyte = cat[_CATALOGUE_CODE[fname]]
            unit = analyte.unit or "1"
            try:
                value = convert(num, self.units.get(fname, unit), unit, analyte.molar_mass)
            except UnitError:
                problems.append(Problem(where(fname), "unit does not fit the analyte",
                                        expected=unit, got=self.units.get(fname),
                                        source=self.source))
                rejected.append(fname)
                values[fname] = None
                continue
            lo, hi = analyte.plausible or (-math.inf, math.inf)
            if not lo <= value <= hi:
                problems.append(Problem(
                    where(fname), f"implausible {analyte.name.lower()} rejected",
                    expected=f"{lo:g}-{hi:g} {unit} (plausible range, knowledge/analytes.yaml)",
                    got=f"{raw}", source=self.source))
                rejected.append(fname)
                values[fname] = None
                continue
            values[fname] = value
        anc, wbc = values.get("anc"), values.get("wbc")
        if anc is not None and wbc is not None and anc > wbc:
            problems.append(Problem(
                f"{where('anc')} and {where('wbc')}" if places is not None else
                f"line {line}, columns {self.columns.get('anc', 'anc')} and "
                f"{self.columns.get('wbc', 'wbc')}",
                "ANC exceeds WBC: a neutrophil count greater than the white count cannot be right "
                "(neutrophils are part of the white cells); both rejected",
                got=f"ANC {cells.get('anc')}, WBC {cells.get('wbc')}", source=self.source))
            rejected += ["anc", "wbc"]
            values["anc"] = values["wbc"] = None
        doses: dict[str, float | None] = {}
        for fname in ("mp", "mtx"):
            num = _number(cells.get(fname))
            if isinstance(num, str) or (isinstance(num, float) and num < 0):
                problems.append(Problem(where(fname), "a dose must be a number of 0 or more",
                                        got=shown(cells.get(fname)), source=self.source))
                rejected.append(fname)
                doses[fname] = None
            else:
                doses[fname] = num
        date = None
        raw_date = cells.get("date")
        if isinstance(raw_date, dt.date):
            date = raw_date
        elif raw_date not in (None, ""):
            date = _parse_date(str(raw_date))
            if date is None:
                problems.append(Problem(where("date"), "not a date",
                                        expected="YYYY-MM-DD or DD/MM/YYYY",
                                        got=shown(raw_date), source=self.source))
        week = _number(cells.get("week"))
        cycle = cells.get("cycle")
        note = cells.get("note")
        return LogVisit(
            line=line, date=date, week=week if isinstance(week, float) else None,
            cycle=None if cycle in (None, "") else str(cycle),
            anc=values["anc"], wbc=values["wbc"], platelets=values["platelets"],
            hemoglobin=values["hemoglobin"], mp=doses["mp"], mtx=doses["mtx"],
            weight=values["weight"], height=values["height"], glucose=values["glucose"],
            alt=values["alt"], bilirubin=values["bilirubin"],
            note=None if note in (None, "") else str(note),
            tgn=values["tgn"], memp=values["memp"],
            problems=tuple(problems), rejected=tuple(dict.fromkeys(rejected)),
        )


def read_rows(source: str,
              rows: Sequence[tuple[int, Mapping[str, Any], Mapping[str, str]]]) -> list[LogVisit]:
    """Visits from rows already split into fields, in catalogue units (a record's
    maintenance visits): each row is ``(line, cells, places)``, ``places`` naming where each
    value was written. The rows go through the same reader, checks and rejections as a log
    file's rows, so a record and a log of the same visits are read alike."""
    reader = _RowReader(source, {}, {})
    return [reader.read(line, cells, places) for line, cells, places in rows]


def _split_unit(column: str) -> tuple[str, str | None]:
    m = re.fullmatch(r"\s*(.*?)\s*\[(.+)\]\s*", column)
    if m:
        return m.group(1), m.group(2).strip()
    return column.strip(), None


def _header_from(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _HEADER_KEYS or value in (None, ""):
            continue
        if key in ("tpmt", "nudt15"):
            out[key] = normalise_phenotype(str(value), what=key, source=source)
        elif key == "mp_start":
            out[key] = parse_dose_per_m2(value, "mg/m2/d", what=key, source=source)
        elif key == "mtx_start":
            out[key] = parse_dose_per_m2(value, "mg/m2/wk", what=key, source=source)
        elif key == "allopurinol":
            word = str(value).strip().lower()
            if isinstance(value, bool):
                out[key] = value
            elif word in _YES | _NO:
                out[key] = word in _YES
            else:
                raise RecordError([Problem(key, "not a yes/no answer", expected="yes | no",
                                           got=shown(value), source=source)], source)
        elif key == "last_change":
            date = value if isinstance(value, dt.date) else _parse_date(str(value))
            if date is None:
                raise RecordError([Problem(key, "not a date", expected="YYYY-MM-DD",
                                           got=shown(value), source=source)], source)
            out[key] = date
        else:
            out[key] = str(value)
    return out


def _read_csv(path: Path) -> MaintenanceLog:
    source = str(path)
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    header_raw: dict[str, str] = {}
    skip = 0
    for line in lines:
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            header_raw[key.strip().lower()] = value.strip()
            skip += 1
        elif not line.strip():
            skip += 1
        else:
            break
    rows = list(csv.reader(lines[skip:]))
    if not rows:
        raise RecordError([Problem("", "the file has no header row", source=source)], source)
    names = [c.strip() for c in rows[0]]
    lowered = {n.lower() for n in names}
    fmt: LogFormat
    if "mp_adj" in lowered or {"dates", "weeks"} <= lowered:
        fmt = "allmt_external" if ({"wbc", "weight"} & lowered) else "allmt_processed"
        mapping = _ALLMT_COLUMNS
    else:
        fmt = "native"
        mapping = _NATIVE_COLUMNS
    fields: list[str | None] = []
    units: dict[str, str] = {}
    columns: dict[str, str] = {}
    for name in names:
        bare, unit = _split_unit(name)
        fname = mapping.get(bare.lower())
        fields.append(fname)
        if fname is not None:
            columns[fname] = bare
            if unit:
                units[fname] = unit
    problems: list[Problem] = []
    for needed in ("mp", "mtx"):
        if needed not in columns:
            problems.append(Problem("header", f"no {needed.upper()} dose column",
                                    expected=" | ".join(k for k, v in mapping.items()
                                                        if v == needed), source=source))
    if not ({"anc", "wbc", "platelets"} & set(columns)):
        problems.append(Problem("header", "no count column (ANC, WBC or platelets)",
                                source=source))
    if problems:
        raise RecordError(problems, source)
    reader = _RowReader(source, units, columns)
    visits: list[LogVisit] = []
    for offset, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        cells = {f: v for f, v in zip(fields, row, strict=False) if f is not None}
        visits.append(reader.read(skip + offset, cells))
    header = _header_from(header_raw, source)
    return MaintenanceLog(source=source, format=fmt, visits=tuple(visits), **header)


def _read_yaml(path: Path) -> MaintenanceLog:
    from allpath.record.load import read_document  # bounded size, no YAML aliases

    source = str(path)
    doc = read_document(path)
    if not isinstance(doc, dict) or doc.get("format") != "allpath.maintenance-log/1":
        raise RecordError([Problem("format", "not a maintenance log",
                                   expected="allpath.maintenance-log/1",
                                   got=shown(doc.get("format") if isinstance(doc, dict) else doc),
                                   source=source)],
                          source)
    raw_visits = doc.get("visits")
    if not isinstance(raw_visits, list) or not raw_visits:
        raise RecordError([Problem("visits", "a log needs a non-empty list of visits",
                                   source=source)], source)
    units_raw = doc.get("units") or {}
    units = {_NATIVE_COLUMNS.get(str(k).lower(), str(k)): str(v) for k, v in units_raw.items()}
    reader = _RowReader(source, units, {})
    visits: list[LogVisit] = []
    problems: list[Problem] = []
    for i, raw in enumerate(raw_visits, start=1):
        if not isinstance(raw, dict):
            problems.append(Problem(f"visits[{i - 1}]", "a visit must be a mapping",
                                    source=source))
            continue
        cells = {_NATIVE_COLUMNS.get(str(k).lower(), str(k)): v for k, v in raw.items()}
        visit = reader.read(i, cells)
        # YAML paths read better as visits[i].field than as line/column
        fixed = tuple(
            Problem(p.path.replace(f"line {i}, column ", f"visits[{i - 1}].")
                    .replace(f"line {i}, columns ", f"visits[{i - 1}]."),
                    p.message, p.expected, p.got, p.hint, p.source)
            for p in visit.problems)
        visits.append(LogVisit(**{**visit.__dict__, "problems": fixed}))
    if problems:
        raise RecordError(problems, source)
    header = _header_from(doc, source)
    return MaintenanceLog(source=source, format="native", visits=tuple(visits), **header)


def read_log(path: str | Path, **overrides: Any) -> MaintenanceLog:
    """Read a maintenance log; ``overrides`` (tpmt, nudt15, mp_start, ...) replace the header.

    Raises :class:`RecordError` only when the file as a whole cannot be read (no such file,
    no header, no dose column); bad values are reported per visit instead.
    """
    p = Path(path)
    if not p.is_file():
        raise RecordError([Problem("", "no such file", source=str(p))], str(p))
    log = _read_yaml(p) if p.suffix.lower() in (".yaml", ".yml") else _read_csv(p)
    given = {k: v for k, v in overrides.items() if v is not None}
    for key in ("tpmt", "nudt15"):
        if key in given:
            given[key] = normalise_phenotype(str(given[key]), what=key)
    unknown = set(given) - set(_HEADER_KEYS)
    if unknown:
        raise TypeError(f"unknown log header field(s): {sorted(unknown)}")
    if not given:
        return log
    return MaintenanceLog(**{**log.__dict__, **given})


def visits_in_order(visits: Sequence[LogVisit]) -> list[Problem]:
    """Problems for visits dated before the visit above them (the log is read in file order)."""
    out: list[Problem] = []
    last: dt.date | None = None
    for v in visits:
        if v.date is not None and last is not None and v.date < last:
            out.append(Problem(f"line {v.line}", "visit dated before the previous one",
                               got=v.date.isoformat()))
        if v.date is not None:
            last = v.date
    return out
