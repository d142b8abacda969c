"""Population CBC screening: the triage pack's blood-count decisions over columns.

One output row per input row: ``row`` (1-based data row number), ``patient_id``, ``time``,
``flag``, ``suspicion`` (high | moderate | low | none, or ``invalid`` for a bad row),
``reasons`` (the blood-count finding codes, ``;``-separated) and ``rule`` (the rule that set
the suspicion). The thresholds are those of the findings and triage packs, evaluated by
:mod:`allpath.rules.vectorised`; nothing is re-typed here.

Bad rows (missing or non-numeric values, impossible values, unknown sex or units) never stop
the run and never pass as normal: they get ``suspicion = invalid``, an empty flag, and one
line each in the bad-row report with the row number, column and problem.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from allpath.errors import AllPathError
from allpath.observations.catalogue import load_catalogue
from allpath.rules.loader import Knowledge, load_knowledge
from allpath.rules.vectorised import (
    STATUS_DECIDED,
    Column,
    VecDecision,
    decisions_needed,
    evaluate_pack_vectorised,
)
from allpath.rules.vectorised_plan import DecisionPlan
from allpath.units import UnitError, convert

__all__ = [
    "BAD_COLUMNS",
    "OPTIONAL",
    "OUTPUT_COLUMNS",
    "REQUIRED",
    "ChunkResult",
    "ScreenError",
    "ScreenSummary",
    "Screener",
]

REQUIRED = ("patient_id", "age_years", "sex", "time", "wbc", "hemoglobin", "platelets", "anc")
OPTIONAL = ("lymphocytes", "blasts_pct")
# input column -> (catalogue analyte, fact read by the packs or None, default unit)
VALUE_COLUMNS: dict[str, tuple[str, str | None, str]] = {
    "wbc": ("wbc", "wbc.dx", "10*9/L"),
    "hemoglobin": ("hemoglobin", "hemoglobin.dx", "g/dL"),
    "platelets": ("platelets", "platelets.dx", "10*9/L"),
    "anc": ("anc", "anc.dx", "10*9/L"),
    "lymphocytes": ("lymphocytes", None, "10*9/L"),
    "blasts_pct": ("blood_blasts", "blood_blasts.dx", "%"),
}
AGE_RANGE = (0.0, 130.0)
OUTPUT_COLUMNS = ("row", "patient_id", "time", "flag", "suspicion", "reasons", "rule")
NEVER_NULL = ("row", "suspicion", "reasons", "rule")
BAD_COLUMNS = ("row", "patient_id", "column", "problem", "value")
SUSPICIONS = ("high", "moderate", "low", "none", "invalid")
_SEX = {"female": 0, "f": 0, "male": 1, "m": 1}
TARGETS = ("triage.cbc_findings", "triage.cbc_suspicion", "triage.cbc_flag")


class ScreenError(AllPathError):
    """A problem that stops the whole screen (missing column, unknown declared unit)."""


@dataclass
class ChunkResult:
    """The screened rows of one chunk and its bad-row report."""

    table: pa.Table
    bad: pa.Table
    rows: int
    bad_rows: int
    flagged: int
    by_suspicion: dict[str, int]
    by_reason: dict[str, int]


@dataclass
class ScreenSummary:
    """Totals over a whole run."""

    rows: int = 0
    bad_rows: int = 0
    flagged: int = 0
    by_suspicion: Counter[str] = field(default_factory=Counter)
    by_reason: Counter[str] = field(default_factory=Counter)

    def add(self, chunk: ChunkResult) -> None:
        self.rows += chunk.rows
        self.bad_rows += chunk.bad_rows
        self.flagged += chunk.flagged
        self.by_suspicion.update(chunk.by_suspicion)
        self.by_reason.update(chunk.by_reason)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "bad_rows": self.bad_rows,
            "flagged": self.flagged,
            "by_suspicion": {k: self.by_suspicion.get(k, 0) for k in SUSPICIONS},
            "by_reason": dict(sorted(self.by_reason.items())),
        }


def _tidy(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Round to 12 significant digits, as :func:`allpath.units.convert` does."""
    out = x.copy()
    nz = np.isfinite(x) & (x != 0)
    mag = np.floor(np.log10(np.abs(x[nz])))
    scale = 10.0 ** (11 - mag)
    out[nz] = np.round(x[nz] * scale) / scale
    return out


def _arrow(values: npt.NDArray[Any], valid: npt.NDArray[np.bool_] | None = None) -> pa.Array:
    """A numpy array of numbers or booleans as an Arrow array (``valid``: False marks a null).

    Built from buffers because ``pa.array`` imports pandas on its first call, which is
    most of a second of every ``allpath screen`` run; the result is the same array.
    """
    values = np.ascontiguousarray(values)
    n = len(values)
    bitmap = None if valid is None or valid.all() else pa.py_buffer(
        np.packbits(valid, bitorder="little"))
    if values.dtype == np.bool_:
        return pa.Array.from_buffers(pa.bool_(), n, [bitmap, pa.py_buffer(
            np.packbits(values, bitorder="little"))])
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), n,
                                 [bitmap, pa.py_buffer(values)])


def _strings(words: Sequence[str]) -> pa.Array:
    """A short list of strings as an Arrow string array (without ``pa.array``: see
    :func:`_arrow`)."""
    data = [w.encode("utf-8") for w in words]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(data), [
        None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))])


def _numpy(arr: pa.Array | pa.ChunkedArray) -> npt.NDArray[Any]:
    """An Arrow column as numpy (nulls as NaN for floats), zero-copy where Arrow allows.

    Goes through ``pa.Array.to_numpy``: ``pa.ChunkedArray.to_numpy`` imports pandas.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    if arr.null_count:
        arr = pc.fill_null(arr, np.nan if pa.types.is_floating(arr.type) else 0)
    dtype = _NUMPY_TYPES.get(str(arr.type))
    if dtype is not None:  # a view of the data buffer (to_numpy would import pandas)
        item = np.dtype(dtype).itemsize
        return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr),
                             offset=arr.offset * item)
    out: npt.NDArray[Any] = arr.to_numpy(zero_copy_only=False)
    return out


_NUMPY_TYPES: dict[str, type[np.generic]] = {
    "double": np.float64, "int8": np.int8, "int16": np.int16, "int32": np.int32,
    "int64": np.int64, "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32}


class _Ranges:
    """Minimum and maximum of arrays, computed once each (two reductions, no temporaries).

    The minimum is NaN when any value is NaN. Holds the arrays, so ids stay unique.
    """

    def __init__(self) -> None:
        self._seen: dict[int, tuple[npt.NDArray[np.float64], float, float]] = {}

    def get(self, x: npt.NDArray[np.float64]) -> tuple[float, float]:
        hit = self._seen.get(id(x))
        if hit is None:
            mn, mx = (float(x.min()), float(x.max())) if len(x) else (0.0, 0.0)
            hit = self._seen[id(x)] = (x, mn, mx)
        return hit[1], hit[2]

    def has_nan(self, x: npt.NDArray[np.float64]) -> bool:
        return bool(np.isnan(self.get(x)[0]))

    def within(self, x: npt.NDArray[np.float64], lo: float, hi: float) -> bool:
        """True when every value lies in [lo, hi] and none is NaN."""
        mn, mx = self.get(x)
        return lo <= mn and mx <= hi  # False when NaN


class Screener:
    """Screens chunks of CBC rows with the bundled packs.

    ``units`` declares a unit per value column (``{"wbc": "/uL"}``) for the whole input; a
    column ``<name>_unit`` in the data gives a unit per row instead.
    """

    def __init__(self, units: Mapping[str, str] | None = None,
                 knowledge: Knowledge | None = None, compiled: bool = True) -> None:
        self.kb = knowledge or load_knowledge()
        self.findings = self.kb.pack("findings")
        self.triage = self.kb.pack("triage")
        self.needed = decisions_needed((self.findings, self.triage), TARGETS)
        self.plan = DecisionPlan((self.findings, self.triage), TARGETS) if compiled else None
        cat = load_catalogue()
        self.units: dict[str, str] = {}
        self.factors: dict[str, float] = {}
        self.canonical: dict[str, str] = {}
        self.plausible: dict[str, tuple[float, float]] = {}
        for col, (code, _fact, default) in VALUE_COLUMNS.items():
            analyte = cat[code]
            assert analyte.unit is not None and analyte.plausible is not None
            self.canonical[col] = analyte.unit
            self.plausible[col] = analyte.plausible
            unit = (units or {}).get(col, default)
            try:
                factor = convert(1.0, unit, analyte.unit)
            except UnitError:
                raise ScreenError(f"unit {unit!r} declared for column {col!r} does not fit "
                                  f"{analyte.unit}") from None
            self.units[col] = unit
            self.factors[col] = factor
        for col in units or {}:
            if col not in VALUE_COLUMNS:
                raise ScreenError(f"a unit was declared for {col!r}, which is not a value "
                                  f"column ({', '.join(VALUE_COLUMNS)})")
        cbc = self.triage.pack.decisions
        findings_rule = next(d for d in cbc if d.output == "triage.cbc_findings")
        self.reason_codes: tuple[str, ...] = tuple(
            dict.fromkeys(str(r.then) for r in findings_rule.rules))

    # ------------------------------------------------------------------ parsing
    @staticmethod
    def check_columns(names: Sequence[str]) -> None:
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise ScreenError(f"input lacks required column(s): {', '.join(missing)}; "
                              f"required: {', '.join(REQUIRED)}")

    def _numbers(self, table: pa.Table, col: str, problems: list[tuple[str, str,
                 npt.NDArray[np.bool_]]], required: bool, ranges: _Ranges | None = None
                 ) -> npt.NDArray[np.float64]:
        ranges = ranges or _Ranges()
        arr = table.column(col)
        own = len(problems)
        if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) \
                or pa.types.is_decimal(arr.type):
            if arr.type != pa.float64():
                arr = pc.cast(arr, pa.float64())
            values = np.asarray(_numpy(arr), dtype=np.float64)
        elif pa.types.is_null(arr.type):
            values = np.full(len(table), np.nan)
        else:
            import polars as pl  # only for numbers given as text (CSV): ~0.1 s of start-up

            text = pl.from_arrow(pc.cast(arr, pa.string()))
            assert isinstance(text, pl.Series)
            stripped = text.str.strip_chars()
            parsed = stripped.cast(pl.Float64, strict=False)
            values = parsed.fill_null(np.nan).to_numpy().astype(np.float64, copy=False)
            empty = (stripped.is_null() | (stripped == "")).to_numpy()
            non_numeric = ~empty & parsed.is_null().to_numpy()
            if non_numeric.any():
                problems.append((col, "not a number", non_numeric))
            values = np.where(empty | non_numeric, np.nan, values)
        if required and ranges.has_nan(values):
            blank = np.isnan(values)
            if len(problems) > own:  # a value that is not a number is not also "missing"
                blank &= ~problems[own][2]
            if blank.any():
                problems.append((col, "missing value", blank))
        return values

    def _convert(self, table: pa.Table, col: str, values: npt.NDArray[np.float64],
                 problems: list[tuple[str, str, npt.NDArray[np.bool_]]]
                 ) -> npt.NDArray[np.float64]:
        unit_col = f"{col}_unit"
        if unit_col in table.column_names:
            enc = pc.dictionary_encode(pc.cast(table.column(unit_col), pa.string()))
            enc = enc.combine_chunks() if isinstance(enc, pa.ChunkedArray) else enc
            idx = enc.indices.to_numpy(zero_copy_only=False)
            idx = np.where(np.asarray(enc.indices.is_null()), -1, idx).astype(np.int64)
            factors = np.empty(len(enc.dictionary) + 1)
            factors[-1] = self.factors[col]  # blank unit: the declared/default unit
            for i, u in enumerate(enc.dictionary.to_pylist()):
                try:
                    factors[i] = convert(1.0, str(u), self.canonical[col]) if str(u).strip() \
                        else self.factors[col]
                except UnitError:
                    factors[i] = np.nan
            f = factors[idx]
            bad_unit = np.isnan(f)
            if bad_unit.any():
                problems.append((unit_col, "unknown unit", bad_unit))
            scaled = np.where(f == 1.0, values, _tidy(values * np.nan_to_num(f, nan=1.0)))
            return np.where(bad_unit, np.nan, scaled)
        factor = self.factors[col]
        return np.asarray(values if factor == 1.0 else _tidy(values * factor), dtype=np.float64)

    def _sex(self, table: pa.Table) -> npt.NDArray[np.int64]:
        """Sex code per row: 0 female, 1 male, -1 unknown."""
        column = table.column("sex")
        if pa.types.is_dictionary(column.type):
            column = column.unify_dictionaries() if isinstance(column, pa.ChunkedArray) \
                else column
            chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
            if chunks:
                dictionary = chunks[0].dictionary
                indices = pa.chunked_array([c.indices for c in chunks])
            else:
                dictionary = pa.array([], pa.string())
                indices = pa.chunked_array([], pa.int32())
            words = pc.cast(dictionary, pa.string()).to_pylist()
        else:
            enc = pc.dictionary_encode(pc.cast(column, pa.string()))
            enc = enc.combine_chunks() if isinstance(enc, pa.ChunkedArray) else enc
            words = enc.dictionary.to_pylist()
            indices = enc.indices
        lut = np.array([_SEX.get(str(v).strip().lower(), -1) if v is not None else -1
                        for v in words] + [-1], dtype=np.int64)
        if isinstance(indices, pa.ChunkedArray):
            indices = indices.combine_chunks() if indices.num_chunks else pa.array(
                [], pa.int32())
        if indices.null_count:
            indices = pc.fill_null(indices, len(lut) - 1)
        return lut[np.asarray(_numpy(indices), dtype=np.int64)]

    # ------------------------------------------------------------------ screening
    def facts(self, table: pa.Table, problems: list[tuple[str, str, npt.NDArray[np.bool_]]]
              ) -> tuple[dict[str, Column], npt.NDArray[np.bool_]]:
        """Parse and validate one chunk: the base facts the packs read, and the good rows."""
        self.check_columns(table.column_names)
        n = len(table)
        pid = table.column("patient_id")
        if pid.null_count:
            problems.append(("patient_id", "missing value", np.asarray(pid.is_null())))
        ranges = _Ranges()
        age = self._numbers(table, "age_years", problems, required=True, ranges=ranges)
        if not ranges.within(age, *AGE_RANGE):
            with np.errstate(invalid="ignore"):
                bad_age = (age < AGE_RANGE[0]) | (age > AGE_RANGE[1])  # NaN compares False
            if bad_age.any():
                problems.append(("age_years", "impossible value", bad_age))
        sex_codes = self._sex(table)
        bad_sex = sex_codes < 0
        if bad_sex.any():
            problems.append(("sex", "unknown sex (female or male needed for reference ranges)",
                             bad_sex))
        values: dict[str, npt.NDArray[np.float64]] = {}
        for col, (_code, fact, _unit) in VALUE_COLUMNS.items():
            if col not in table.column_names:
                continue
            v = self._numbers(table, col, problems, required=col in REQUIRED, ranges=ranges)
            v = self._convert(table, col, v, problems)
            lo, hi = self.plausible[col]
            if not ranges.within(v, lo, hi):
                with np.errstate(invalid="ignore"):
                    impossible = (v < lo) | (v > hi)  # NaN compares False
                if impossible.any():
                    problems.append((col, "impossible value", impossible))
            if fact is not None:
                values[fact] = v
        if problems:
            bad = problems[0][2].copy()
            for _, _, mask in problems[1:]:
                bad |= mask
            ok = ~bad
        else:
            ok = np.ones(n, dtype=bool)
        all_ok = not problems
        facts: dict[str, Column] = {}
        for fact, v in values.items():
            known = ~np.isnan(v) if ranges.has_nan(v) else ok
            facts[fact] = Column.number(v, known if all_ok else known & ok)
        facts["age.years"] = Column.number(age, ok)
        # age.days = ceil(years x 365.25), as allpath.triage.age_days_from_years
        if all_ok:
            days = age * 365.25
            np.ceil(days, out=days)
        else:
            days = np.where(ok, np.ceil(np.where(ok, age, 0.0) * 365.25), np.nan)
        facts["age.days"] = Column.number(days, ok)
        sex_known = ok if all_ok else ok & ~bad_sex
        facts["sex"] = Column.term(sex_codes if all_ok else np.maximum(sex_codes, 0),
                                   ("female", "male"), sex_known)
        return facts, ok

    def screen(self, table: pa.Table, offset: int = 0) -> ChunkResult:
        """Screen one chunk; ``offset`` is the number of data rows before it."""
        problems: list[tuple[str, str, npt.NDArray[np.bool_]]] = []
        facts, ok = self.facts(table, problems)
        n = len(table)
        if self.plan is not None:
            slot = self.plan.slots(facts, n)
            results = self.plan.results()
        else:  # the generic column evaluator, one row per slot
            evaluate_pack_vectorised(self.findings, facts, n, self.needed)
            results = {r.output: r for r in
                       evaluate_pack_vectorised(self.triage, facts, n, self.needed)}
            slot = np.arange(n, dtype=np.intp)
        return self._output(table, offset, n, ok, slot, results, problems)

    def _output(self, table: pa.Table, offset: int, n: int, ok: npt.NDArray[np.bool_],
                slot: npt.NDArray[np.intp], results: Mapping[str, VecDecision],
                problems: list[tuple[str, str, npt.NDArray[np.bool_]]]) -> ChunkResult:
        """Output rows from per-slot results (``slot`` per row; a slot's rows agree)."""
        susp = results["triage.cbc_suspicion"]
        flag_r = results["triage.cbc_flag"]
        findings = results["triage.cbc_findings"]
        invalid = SUSPICIONS.index("invalid")
        # --- per slot
        s_decided = susp.status == STATUS_DECIDED
        vocab_index = np.array([SUSPICIONS.index(str(v)) for v in susp.values] + [invalid],
                               dtype=np.int8)
        slot_s = np.where(s_decided, vocab_index[susp.value], invalid).astype(np.int8)
        flag_lut = np.array([bool(v) for v in flag_r.values] + [False], dtype=bool)
        slot_flag_known = flag_r.status == STATUS_DECIDED
        slot_flag = flag_lut[flag_r.value] & slot_flag_known
        f_known = findings.status == STATUS_DECIDED
        n_slots = len(susp.status)
        bits = np.zeros(n_slots, dtype=np.int64)
        members: dict[str, npt.NDArray[np.bool_]] = {}
        for i, codename in enumerate(self.reason_codes):
            member = findings.members.get(codename)
            if member is None:
                continue
            members[codename] = member & f_known
            bits |= members[codename].astype(np.int64) << i
        uniq, slot_label = np.unique(bits, return_inverse=True)
        labels = [";".join(c for i, c in enumerate(self.reason_codes) if int(u) >> i & 1)
                  for u in uniq]
        rule_ids = [*susp.rule_ids, ""]
        slot_rule = np.where(s_decided & (susp.rule_index >= 0), susp.rule_index,
                             len(rule_ids) - 1).astype(np.int32)
        # --- per row: one gather per output column, then the bad rows
        s_codes = slot_s[slot]
        flag_vals = slot_flag[slot]
        flag_known = slot_flag_known[slot]
        r_idx = slot_label.reshape(-1).astype(np.int32)[slot]  # int32 dictionary indices
        rule_idx = slot_rule[slot]
        bad_labels = [f"bad:{col}:{problem}" for col, problem, _ in problems]
        if problems:
            bad_rows = np.flatnonzero(~ok)
            row_problem = np.full(len(bad_rows), -1, dtype=np.int64)
            for k, (_, _, mask) in enumerate(problems):
                row_problem = np.where(mask[bad_rows] & (row_problem < 0), k, row_problem)
            s_codes[bad_rows] = invalid
            flag_known[bad_rows] = False
            flag_vals[bad_rows] = False
            r_idx[bad_rows] = len(labels) + row_problem
            rule_idx[bad_rows] = len(rule_ids) - 1
            counts = np.bincount(slot, minlength=n_slots) - np.bincount(
                slot[bad_rows], minlength=n_slots)
        else:
            counts = np.bincount(slot, minlength=n_slots)
        columns = {
            "row": _arrow(np.arange(offset + 1, offset + n + 1, dtype=np.int64)),
            "patient_id": table.column("patient_id"),
            "time": table.column("time"),
            "flag": _arrow(flag_vals, flag_known),
            # indices come from look-up tables over the dictionaries: no need to check them
            "suspicion": pa.DictionaryArray.from_arrays(_arrow(s_codes),
                                                        _strings(SUSPICIONS), safe=False),
            "reasons": pa.DictionaryArray.from_arrays(_arrow(r_idx),
                                                      _strings(labels + bad_labels),
                                                      safe=False),
            "rule": pa.DictionaryArray.from_arrays(_arrow(rule_idx), _strings(rule_ids),
                                                   safe=False),
        }
        # row, suspicion, reasons and rule are never null: saying so spares the Parquet
        # writer the definition levels of those columns
        out = pa.Table.from_arrays(list(columns.values()), schema=pa.schema([
            pa.field(name, arr.type, nullable=name not in NEVER_NULL)
            for name, arr in columns.items()]))
        bad_tables = []
        for col, problem, mask in problems:
            where = np.flatnonzero(mask)
            if not len(where):
                continue
            idx = _arrow(where)
            same = _arrow(np.zeros(len(where), dtype=np.int64))  # one label on every row
            src = table.column(col) if col in table.column_names else None
            value = (pc.cast(src.take(idx), pa.string()) if src is not None
                     else pa.nulls(len(where), pa.string()))
            bad_tables.append(pa.table({
                "row": _arrow((where + offset + 1).astype(np.int64)),
                "patient_id": pc.cast(table.column("patient_id").take(idx), pa.string()),
                "column": _strings([col]).take(same),
                "problem": _strings([problem]).take(same),
                "value": value,
            }))
        bad = (pa.concat_tables(bad_tables).sort_by([("row", "ascending")]) if bad_tables
               else pa.table({c: pa.nulls(0, pa.int64() if c == "row" else pa.string())
                              for c in BAD_COLUMNS}))
        by_s = np.bincount(slot_s, weights=counts, minlength=len(SUSPICIONS)).astype(np.int64)
        by_s[invalid] += n - int(counts.sum())
        return ChunkResult(
            table=out, bad=bad, rows=n, bad_rows=int(n - ok.sum()),
            flagged=int(counts[slot_flag].sum()),
            by_suspicion={s: int(c) for s, c in zip(SUSPICIONS, by_s, strict=True) if c},
            by_reason={k: int(counts[m].sum()) for k, m in members.items()
                       if counts[m].sum()},
        )


def iter_chunks(path: Path, chunk_size: int) -> Iterator[pa.Table]:
    """Stream an input file (CSV or Parquet) in chunks of about ``chunk_size`` rows."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if path.suffix.lower() in (".parquet", ".pq"):
        yield from iter_parquet_chunks(pq.ParquetFile(path), chunk_size)
        return
    if path.suffix.lower() not in (".csv", ".txt"):
        raise ScreenError(f"input must be .csv or .parquet, got {path.name!r}")
    with path.open("rb") as fh:
        header = fh.readline().decode("utf-8-sig").strip().split(",")
    names = [h.strip().strip('"') for h in header]
    Screener.check_columns(names)
    types = {c: pa.string() for c in names}
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=max(1 << 20, chunk_size * 64)),
        convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
    )
    for batch in reader:
        yield pa.Table.from_batches([batch])


def iter_parquet_chunks(pf: Any, chunk_size: int) -> Iterator[pa.Table]:
    """Stream an open :class:`pyarrow.parquet.ParquetFile` (local or from any fsspec file
    system) in row batches of about ``chunk_size`` rows, with the columns the screen reads."""
    names = pf.schema_arrow.names
    Screener.check_columns(names)
    cols = [c for c in names if c in REQUIRED or c in OPTIONAL or c.endswith("_unit")]
    for batch in pf.iter_batches(batch_size=chunk_size, columns=cols):
        yield pa.Table.from_batches([batch])


def count_rows(path: Path) -> int | None:
    """Row count when it is cheap to know (Parquet metadata), else None."""
    import pyarrow.parquet as pq

    if path.suffix.lower() in (".parquet", ".pq"):
        return int(pq.ParquetFile(path).metadata.num_rows)
    return None
