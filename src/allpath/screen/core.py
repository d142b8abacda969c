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
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from allpath.errors import AllPathError
from allpath.observations.catalogue import load_catalogue
from allpath.rules.loader import Knowledge, load_knowledge
from allpath.rules.vectorised import (
    STATUS_DECIDED,
    Column,
    decisions_needed,
    evaluate_pack_vectorised,
)
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


class Screener:
    """Screens chunks of CBC rows with the bundled packs.

    ``units`` declares a unit per value column (``{"wbc": "/uL"}``) for the whole input; a
    column ``<name>_unit`` in the data gives a unit per row instead.
    """

    def __init__(self, units: Mapping[str, str] | None = None,
                 knowledge: Knowledge | None = None) -> None:
        self.kb = knowledge or load_knowledge()
        self.findings = self.kb.pack("findings")
        self.triage = self.kb.pack("triage")
        self.needed = decisions_needed((self.findings, self.triage), TARGETS)
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
                 npt.NDArray[np.bool_]]], required: bool) -> npt.NDArray[np.float64]:
        arr = table.column(col)
        if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) \
                or pa.types.is_decimal(arr.type):
            values = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
            values = np.asarray(values, dtype=np.float64)
            missing = np.isnan(values)
        elif pa.types.is_null(arr.type):
            values = np.full(len(table), np.nan)
            missing = np.ones(len(table), dtype=bool)
        else:
            text = pl.from_arrow(pc.cast(arr, pa.string()))
            assert isinstance(text, pl.Series)
            stripped = text.str.strip_chars()
            parsed = stripped.cast(pl.Float64, strict=False)
            values = parsed.fill_null(np.nan).to_numpy().astype(np.float64, copy=False)
            empty = (stripped.is_null() | (stripped == "")).to_numpy()
            non_numeric = ~empty & parsed.is_null().to_numpy()
            if non_numeric.any():
                problems.append((col, "not a number", non_numeric))
            missing = empty | non_numeric
            values = np.where(missing, np.nan, values)
        if required:
            blank = np.isnan(values) & ~np.any(
                [p[2] for p in problems if p[0] == col] or [np.zeros(len(table), bool)], axis=0)
            if blank.any():
                problems.append((col, "missing value", blank))
        return np.asarray(values, dtype=np.float64)

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

    # ------------------------------------------------------------------ screening
    def screen(self, table: pa.Table, offset: int = 0) -> ChunkResult:
        """Screen one chunk; ``offset`` is the number of data rows before it."""
        self.check_columns(table.column_names)
        n = len(table)
        problems: list[tuple[str, str, npt.NDArray[np.bool_]]] = []
        pid_null = np.asarray(table.column("patient_id").is_null())
        if pid_null.any():
            problems.append(("patient_id", "missing value", pid_null))
        age = self._numbers(table, "age_years", problems, required=True)
        with np.errstate(invalid="ignore"):
            bad_age = ~np.isnan(age) & ((age < AGE_RANGE[0]) | (age > AGE_RANGE[1]))
        if bad_age.any():
            problems.append(("age_years", "impossible value", bad_age))
        sex_enc = pc.dictionary_encode(pc.cast(table.column("sex"), pa.string()))
        sex_enc = sex_enc.combine_chunks() if isinstance(sex_enc, pa.ChunkedArray) else sex_enc
        lut = np.array([_SEX.get(str(v).strip().lower(), -1)
                        for v in sex_enc.dictionary.to_pylist()] + [-1], dtype=np.int64)
        sidx = sex_enc.indices.to_numpy(zero_copy_only=False)
        sidx = np.where(np.asarray(sex_enc.indices.is_null()), len(lut) - 1, sidx)
        sex_codes = lut[sidx.astype(np.int64)]
        bad_sex = sex_codes < 0
        if bad_sex.any():
            problems.append(("sex", "unknown sex (female or male needed for reference ranges)",
                             bad_sex))
        facts: dict[str, Column] = {}
        for col, (_code, fact, _unit) in VALUE_COLUMNS.items():
            present = col in table.column_names
            if not present:
                continue
            values = self._numbers(table, col, problems, required=col in REQUIRED)
            values = self._convert(table, col, values, problems)
            lo, hi = self.plausible[col]
            with np.errstate(invalid="ignore"):
                impossible = ~np.isnan(values) & ((values < lo) | (values > hi))
            if impossible.any():
                problems.append((col, "impossible value", impossible))
            if fact is not None:
                facts[fact] = Column.number(values)
        bad = np.zeros(n, dtype=bool)
        for _, _, mask in problems:
            bad |= mask
        ok = ~bad
        facts["age.years"] = Column.number(age, ok.copy())
        # age.days = ceil(years x 365.25), as allpath.triage.age_days_from_years
        days = np.where(ok, np.ceil(np.where(ok, age, 0.0) * 365.25), np.nan)
        facts["age.days"] = Column.number(days, ok.copy())
        facts["sex"] = Column.term(np.maximum(sex_codes, 0), ("female", "male"), ok & ~bad_sex)
        for name, colm in list(facts.items()):
            if colm.kind == "number" and name not in ("age.years", "age.days"):
                colm.known = colm.known & ok
        evaluate_pack_vectorised(self.findings, facts, n, self.needed)
        results = {r.output: r for r in
                   evaluate_pack_vectorised(self.triage, facts, n, self.needed)}
        return self._output(table, offset, n, ok, facts, results, problems)

    def _output(self, table: pa.Table, offset: int, n: int, ok: npt.NDArray[np.bool_],
                facts: Mapping[str, Column], results: Mapping[str, Any],
                problems: list[tuple[str, str, npt.NDArray[np.bool_]]]) -> ChunkResult:
        susp = results["triage.cbc_suspicion"]
        flag_r = results["triage.cbc_flag"]
        findings = facts["triage.cbc_findings"]
        decided = ok & (susp.status == STATUS_DECIDED)
        # suspicion as a dictionary column over SUSPICIONS
        vocab_index = np.array([SUSPICIONS.index(str(v)) for v in susp.values], dtype=np.int8)
        s_codes = np.where(decided, vocab_index[np.maximum(susp.value, 0)],
                           SUSPICIONS.index("invalid")).astype(np.int8)
        flag_lut = np.array([bool(v) for v in flag_r.values], dtype=bool)
        flag_known = ok & (flag_r.status == STATUS_DECIDED)
        flag_vals = flag_lut[np.maximum(flag_r.value, 0)]
        # reason codes: a bit per finding, then one string per distinct combination
        bits = np.zeros(n, dtype=np.int64)
        counts: dict[str, int] = {}
        for i, codename in enumerate(self.reason_codes):
            member = findings.members.get(codename)
            if member is None:
                continue
            m = member & ok
            bits |= m.astype(np.int64) << i
            counts[codename] = int(m.sum())
        uniq, inv = np.unique(bits, return_inverse=True)
        labels = [";".join(c for i, c in enumerate(self.reason_codes) if int(u) >> i & 1)
                  for u in uniq]
        bad_labels: dict[int, str] = {}
        row_problem = np.full(n, -1, dtype=np.int64)
        for k, (col, problem, mask) in enumerate(problems):
            row_problem = np.where(mask & (row_problem < 0), k, row_problem)
            bad_labels[k] = f"bad:{col}:{problem}"
        reason_dict = labels + [bad_labels[k] for k in range(len(problems))]
        r_idx = np.where(row_problem >= 0, len(labels) + row_problem, inv).astype(np.int32)
        rule_ids = [*susp.rule_ids, ""]
        rule_idx = np.where(decided & (susp.rule_index >= 0), susp.rule_index,
                            len(rule_ids) - 1).astype(np.int32)
        out = pa.table({
            "row": pa.array(np.arange(offset + 1, offset + n + 1, dtype=np.int64)),
            "patient_id": table.column("patient_id"),
            "time": table.column("time"),
            "flag": pa.array(flag_vals, mask=~flag_known),
            "suspicion": pa.DictionaryArray.from_arrays(pa.array(s_codes),
                                                        pa.array(SUSPICIONS)),
            "reasons": pa.DictionaryArray.from_arrays(pa.array(r_idx), pa.array(reason_dict)),
            "rule": pa.DictionaryArray.from_arrays(pa.array(rule_idx), pa.array(rule_ids)),
        })
        bad_tables = []
        for col, problem, mask in problems:
            where = np.flatnonzero(mask)
            if not len(where):
                continue
            idx = pa.array(where)
            src = table.column(col) if col in table.column_names else None
            value = (pc.cast(src.take(idx), pa.string()) if src is not None
                     else pa.nulls(len(where), pa.string()))
            bad_tables.append(pa.table({
                "row": pa.array(where + offset + 1, pa.int64()),
                "patient_id": pc.cast(table.column("patient_id").take(idx), pa.string()),
                "column": pa.array([col] * len(where), pa.string()),
                "problem": pa.array([problem] * len(where), pa.string()),
                "value": value,
            }))
        bad = (pa.concat_tables(bad_tables).sort_by([("row", "ascending")]) if bad_tables
               else pa.table({c: pa.array([], pa.int64() if c == "row" else pa.string())
                              for c in BAD_COLUMNS}))
        by_s = np.bincount(s_codes, minlength=len(SUSPICIONS))
        return ChunkResult(
            table=out, bad=bad, rows=n, bad_rows=int((~ok).sum()),
            flagged=int((flag_vals & flag_known).sum()),
            by_suspicion={s: int(c) for s, c in zip(SUSPICIONS, by_s, strict=True) if c},
            by_reason={k: v for k, v in counts.items() if v},
        )


def iter_chunks(path: Path, chunk_size: int) -> Iterator[pa.Table]:
    """Stream an input file (CSV or Parquet) in chunks of about ``chunk_size`` rows."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if path.suffix.lower() in (".parquet", ".pq"):
        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
        Screener.check_columns(names)
        cols = [c for c in names if c in REQUIRED or c in OPTIONAL or c.endswith("_unit")]
        for batch in pf.iter_batches(batch_size=chunk_size, columns=cols):
            yield pa.Table.from_batches([batch])
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


def count_rows(path: Path) -> int | None:
    """Row count when it is cheap to know (Parquet metadata), else None."""
    import pyarrow.parquet as pq

    if path.suffix.lower() in (".parquet", ".pq"):
        return int(pq.ParquetFile(path).metadata.num_rows)
    return None
