"""A compiled plan for evaluating rule-pack decisions over columns, fast.

:mod:`allpath.rules.vectorised` walks the condition trees with full-length numpy passes for
every node of every decision. Here the decisions are compiled once into a *plan*:

1. Every leaf test on a base fact (one that no planned decision produces) is an *atom*:
   a fixed threshold (``{fact, op, value}``), a reference-table threshold
   (``{fact, op, table}``), an ``is``/``in``/``contains``/... test, or ``known``.
2. Per chunk, each base fact gets one small integer *state* that determines the outcome of
   every atom on it: unknown, or (known and) the position of the value among the fact's
   distinct fixed thresholds (below, equal, between, ... - every ``<``, ``<=``, ``>``, ``>=``,
   ``==``, ``!=`` test against those thresholds is constant there; NaN has its own state),
   times the three-valued outcome of each table test (the table is looked up once per row
   through a band x sex look-up table) and the outcome of each term/set test. The states
   are combined into one mixed-radix key per row.
3. Every row with the same key has the same outcome for every atom, so - because the column
   evaluator only ever reads facts through atoms and then folds three-valued masks - the
   same output for every decision. The plan evaluates each distinct key once, with the
   unchanged column evaluator on one representative row, and caches it in a dense look-up
   table (``slot`` per key); later chunks only evaluate keys not seen before.

So the three-valued semantics are the column evaluator's (and the engine's) by
construction, while the per-row cost is a handful of comparisons and one gather. Reference
tables: the band x sex look-up reproduces :func:`allpath.rules.engine._table_threshold`
exactly (tested against it).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from allpath.rules.engine import CompiledPack, decision_conditions
from allpath.rules.schema import OPERATORS, Compare, Decision, Known, Match
from allpath.rules.vectorised import (
    Bools,
    Column,
    Floats,
    Ints,
    VecDecision,
    decisions_needed,
    evaluate_decision_vectorised,
    match_column,
    store_vectorised,
)
from allpath.units import convert

__all__ = ["DecisionPlan", "table_lookup"]

Slots = npt.NDArray[np.intp]
_SEX_CODES = ("female", "male")  # band look-ups use 0 female, 1 male, 2 anything else
DENSE_LIMIT = 1 << 24
BLOCK = 1 << 16


# --------------------------------------------------------------------------- tables


@dataclass(eq=False)
class _Table:
    """One reference table as a band x sex look-up, in the table's age unit."""

    cp: CompiledPack
    name: str
    bounds: Floats  # sorted distinct finite band edges
    lut: Floats  # (len(bounds) + 2) x 3: threshold in the compared fact's unit, NaN if none

    @classmethod
    def build(cls, cp: CompiledPack, name: str, edges: Iterable[float] = ()) -> _Table:
        """The look-up over the table's band edges plus ``edges`` (finer bands are exact)."""
        table = cp.tables[name]
        all_edges = {float(e) for r in table.rows for e in (r.age_from, r.age_to)
                     if e is not None and np.isfinite(e)} | set(edges)
        bounds = np.array(sorted(all_edges), dtype=np.float64)
        unit = cp.table_units[name]
        # band j (np.searchsorted side=right) covers [bounds[j-1], bounds[j]); the extra last
        # band is for NaN or unknown ages, which fall in no row.
        reps = [float(bounds[0]) - 1.0 if len(bounds) else 0.0, *map(float, bounds)]
        lut = np.full((len(bounds) + 2, 3), np.nan)
        for j, age in enumerate(reps):
            for s, sex in enumerate((*_SEX_CODES, None)):
                value = _row_value(table.rows, age, sex)
                if value is not None:
                    lut[j, s] = convert(value, table.unit, unit)
        return cls(cp, name, bounds, lut.reshape(-1))

    def age_key(self) -> tuple[str, float]:
        """The age fact and the factor from its unit to the table's age unit."""
        table = self.cp.tables[self.name]
        spec = self.cp.registry.get(table.age_fact)
        from_unit = spec.unit if spec and spec.unit else "a"
        factor = 1.0 if from_unit == table.age_unit else convert(1.0, from_unit,
                                                                 table.age_unit)
        return table.age_fact, factor


def _row_value(rows: Sequence[Any], age: float, sex: str | None) -> float | None:
    """The engine's choice of table row (``allpath.rules.engine._table_threshold``)."""
    candidates = []
    for row in rows:
        lo = row.age_from if row.age_from is not None else float("-inf")
        hi = row.age_to if row.age_to is not None else float("inf")
        if lo <= age < hi:
            candidates.append(row)
    specific = [r for r in candidates if r.sex != "any"]
    if specific:
        if sex not in _SEX_CODES:
            return None
        chosen = [r for r in specific if r.sex == sex]
    else:
        chosen = candidates
    return float(chosen[0].value) if chosen else None


def _sex_codes(facts: Mapping[str, Column], n: int) -> npt.NDArray[np.intp]:
    sex = facts.get("sex")
    if sex is None or sex.kind != "term" or sex.values is None:
        return np.full(n, 2, dtype=np.intp)
    lut = np.array([_SEX_CODES.index(str(v)) if str(v) in _SEX_CODES else 2
                    for v in sex.vocab] + [2], dtype=np.intp)
    codes = sex.values if sex.known.all() else np.where(sex.known, sex.values, len(sex.vocab))
    out: npt.NDArray[np.intp] = lut[codes]
    return out


def table_lookup(cp: CompiledPack, name: str, facts: Mapping[str, Column],
                 n: int) -> tuple[Floats, Bools]:
    """Threshold per row from a reference table and where it is known (for tests and tools)."""
    t = _Table.build(cp, name)
    thr = _TableCache(facts, n).threshold(t)
    return thr, ~np.isnan(thr)


class _TableCache:
    """Per-chunk band x sex indices, shared by the tables on the same age fact and unit."""

    def __init__(self, facts: Mapping[str, Column], n: int) -> None:
        self.facts, self.n = facts, n
        self._sex: npt.NDArray[np.intp] | None = None
        self._index: dict[tuple[str, float, bytes], npt.NDArray[np.intp]] = {}

    def threshold(self, t: _Table) -> Floats:
        """Threshold in the compared fact's unit; NaN where the table gives none."""
        age_fact, factor = t.age_key()
        age = self.facts.get(age_fact)
        if age is None or age.kind != "number" or age.values is None:
            return np.full(self.n, np.nan)
        k = (age_fact, factor, t.bounds.tobytes())
        index = self._index.get(k)
        if index is None:
            ages = age.values if factor == 1.0 else age.values * factor
            # the band number, as np.searchsorted(t.bounds, ages, side="right") for non-NaN
            # ages: summing comparisons is faster for a few edges on cache-sized blocks
            counts: npt.NDArray[Any] = np.zeros(
                self.n, dtype=np.int8 if len(t.bounds) < 127 else np.int64)
            with np.errstate(invalid="ignore"):
                for edge in t.bounds.tolist():
                    counts += (ages >= edge).view(np.int8)
            band = counts.astype(np.intp)
            bad = np.isnan(ages)
            if not age.known.all():
                bad |= ~age.known
            if bad.any():
                band[bad] = len(t.bounds) + 1
            band *= 3
            if self._sex is None:
                self._sex = _sex_codes(self.facts, self.n)
            band += self._sex
            index = self._index[k] = band
        return t.lut.take(index, mode="clip")


# --------------------------------------------------------------------------- atoms


@dataclass
class _Group:
    """The atoms on one base fact and the radix of its state."""

    fact: str
    cuts: list[float] = field(default_factory=list)  # fixed thresholds
    tables: list[tuple[str, _Table]] = field(default_factory=list)  # (op, table)
    matches: list[Match] = field(default_factory=list)
    numeric: bool = False

    @property
    def radix(self) -> int:
        regions = 2 * len(self.cuts) + 2 if self.numeric else 1
        return int(1 + regions * 3 ** len(self.tables) * 2 ** len(self.matches))


def _compare(a: Floats, op: str, b: Floats) -> Bools:
    """``a op b`` elementwise, with the pack operators (``rules.schema.OPERATORS``)."""
    with np.errstate(invalid="ignore"):
        out: Bools = np.asarray(OPERATORS[op](a, b), dtype=bool)
    return out


class DecisionPlan:
    """The decisions needed for ``outputs`` (from ``packs``, in order), compiled once.

    Use :meth:`slots` per chunk (a slot per row) with :meth:`results` (one
    :class:`VecDecision` per output, over slots), or :meth:`evaluate` for per-row results.
    Safe to share between threads.
    """

    def __init__(self, packs: Sequence[CompiledPack], outputs: Iterable[str],
                 dense_limit: int = DENSE_LIMIT) -> None:
        self.outputs = tuple(outputs)
        needed = decisions_needed(packs, self.outputs)
        self.steps: list[tuple[CompiledPack, Decision]] = [
            (cp, d) for cp in packs for d in cp.pack.decisions if d.id in needed]
        produced = {d.output for _, d in self.steps}
        groups: dict[str, _Group] = {}
        tables: dict[tuple[str, str], _Table] = {}
        table_atoms: dict[str, list[tuple[str, tuple[str, str]]]] = defaultdict(list)

        def group(name: str) -> _Group:
            return groups.setdefault(name, _Group(name))

        for cp, d in self.steps:
            for c in decision_conditions(d):
                if isinstance(c, Known):
                    if c.known not in produced:
                        group(c.known)
                elif isinstance(c, Compare) and c.fact not in produced:
                    g = group(c.fact)
                    g.numeric = True
                    if c.table is None:
                        cut = float(cp.thresholds[id(c)])
                        if cut not in g.cuts:
                            g.cuts.append(cut)
                    else:
                        tk = (cp.id, c.table)
                        if tk not in tables:
                            tables[tk] = _Table.build(cp, c.table)
                        if (c.op, tk) not in table_atoms[c.fact]:
                            table_atoms[c.fact].append((c.op, tk))
                elif isinstance(c, Match) and c.fact not in produced:
                    g = group(c.fact)
                    if c not in g.matches:
                        g.matches.append(c)
        # tables on the same age fact share one band index: rebuild them on all their edges
        edges: dict[tuple[str, float], set[float]] = defaultdict(set)
        for t in tables.values():
            edges[t.age_key()] |= set(t.bounds.tolist())
        tables = {tk: _Table.build(t.cp, t.name, edges[t.age_key()])
                  for tk, t in tables.items()}
        for fact, atoms in table_atoms.items():
            groups[fact].tables = [(op, tables[tk]) for op, tk in atoms]
        for g in groups.values():
            g.cuts.sort()
        self.groups = list(groups.values())
        self.size = 1
        for g in self.groups:
            self.size *= g.radix
        self.dense = self.size <= dense_limit
        # platform-size keys and slots: numpy gathers are several times faster with them
        self.key_dtype: type[np.signedinteger[Any]] = np.intp
        self._slot_of: npt.NDArray[np.intp] | None = None
        self._slot_dict: dict[int, int] = {}
        self._scratch: npt.NDArray[np.intp] | None = None
        self._store: dict[str, _SlotStore] = {
            d.output: _SlotStore(d) for _, d in self.steps if d.output in self.outputs}
        self._lock = threading.Lock()
        self.n_slots = 0

    # ------------------------------------------------------------------ keys
    def keys(self, facts: Mapping[str, Column], n: int) -> npt.NDArray[np.signedinteger[Any]]:
        """The mixed-radix key of every row (equal keys: equal outcome of every atom).

        Computed in blocks of :data:`BLOCK` rows so that the temporaries stay in cache.
        """
        key = np.empty(n, dtype=self.key_dtype)
        for start in range(0, n, BLOCK):
            stop = min(n, start + BLOCK)
            part = {name: col.slice(start, stop) for name, col in facts.items()}
            self._keys(part, stop - start, key[start:stop])
        return key

    def _keys(self, facts: Mapping[str, Column], n: int,
              out: npt.NDArray[np.signedinteger[Any]]) -> None:
        # accumulate in int32 when the key space allows (half the memory traffic)
        key: npt.NDArray[Any] = np.zeros(n, dtype=np.int32 if self.size < 2**31 else np.int64)
        stride = 1
        cache = _TableCache(facts, n)
        tmp = np.empty(n, dtype=key.dtype)
        for g in self.groups:
            col = facts.get(g.fact)
            if col is not None:
                if not g.numeric and not g.matches and col.known.all():
                    key += key.dtype.type(stride)  # known everywhere: the digit is 1
                    stride *= g.radix
                    continue
                if g.radix < 128 and not g.matches and col.known.all():
                    digit: npt.NDArray[Any] = self._digit(g, col, cache)
                else:
                    digit = self._state(g, col, cache, n)
                if stride > 1:
                    np.multiply(digit, key.dtype.type(stride), out=tmp)
                    key += tmp
                else:
                    key += digit
            stride *= g.radix
        out[:] = key

    def _digit(self, g: _Group, col: Column, cache: _TableCache) -> npt.NDArray[np.int8]:
        """:meth:`_state` for a fully known column with a small radix, in int8 (faster)."""
        if not g.numeric:
            return np.ones(len(col.known), dtype=np.int8)
        if col.kind != "number" or col.values is None:
            raise NotImplementedError(f"comparison on non-number column {g.fact!r}")
        v = col.values
        with np.errstate(invalid="ignore"):
            if g.cuts:
                d = (v > g.cuts[0]).view(np.int8) + (v >= g.cuts[0]).view(np.int8)
                for cut in g.cuts[1:]:
                    d += (v > cut).view(np.int8)
                    d += (v >= cut).view(np.int8)
            else:
                d = np.zeros(len(v), dtype=np.int8)
            nan = np.isnan(v)
            if nan.any():
                d[nan] = 2 * len(g.cuts) + 1
            mult = 2 * len(g.cuts) + 2
            for op, t in g.tables:
                thr = cache.threshold(t)
                ok = thr == thr
                hit = _compare(v, op, thr)
                if op == "!=":  # the only test that is TRUE against a NaN threshold
                    hit &= ok
                tri = ok.view(np.int8) + hit.view(np.int8)  # 0 unknown, 1 false, 2 true
                if mult > 1:
                    tri *= np.int8(mult)
                d += tri
                mult *= 3
        d += 1
        return d

    def _state(self, g: _Group, col: Column, cache: _TableCache,
               n: int) -> npt.NDArray[np.signedinteger[Any]]:
        """The group's digit: 0 where unknown, else 1 + (region, tables, matches) digits."""
        dt = self.key_dtype
        sub = np.zeros(n, dtype=dt)
        mult = 1
        if g.numeric:
            if col.kind != "number" or col.values is None:
                raise NotImplementedError(f"comparison on non-number column {g.fact!r}")
            v = col.values
            with np.errstate(invalid="ignore"):
                for cut in g.cuts:
                    sub += v > cut
                    sub += v >= cut
            nan = np.isnan(v)
            if nan.any():
                sub[nan] = 2 * len(g.cuts) + 1
            mult = 2 * len(g.cuts) + 2
            for op, t in g.tables:
                thr = cache.threshold(t)
                with np.errstate(invalid="ignore"):
                    ok = thr == thr
                hit = _compare(v, op, thr) & ok
                sub += (ok.astype(dt) + hit) * mult
                mult *= 3
        for m in g.matches:
            sub += match_column(m, col).astype(dt) * mult
            mult *= 2
        sub += 1
        if not col.known.all():
            sub[~col.known] = 0
        return sub

    # ------------------------------------------------------------------ slots
    def slots(self, facts: Mapping[str, Column], n: int) -> Slots:
        """Slot per row, evaluating (once) the decisions for keys not seen before."""
        key = self.keys(facts, n)
        if self.dense:
            if self._slot_of is None:
                with self._lock:
                    if self._slot_of is None:
                        self._slot_of = np.full(self.size, -1, dtype=np.intp)
            slot = self._slot_of[key]
            new = slot < 0
            if new.any():
                rows = np.flatnonzero(new)
                self._add(facts, key, rows)
                slot = self._slot_of[key]
            out: Slots = slot
            return out
        uniq, inverse = np.unique(key, return_inverse=True)
        missing = [i for i, k in enumerate(uniq.tolist()) if k not in self._slot_dict]
        if missing:
            first = np.full(len(uniq), -1, dtype=np.int64)
            first[inverse[::-1]] = np.arange(n - 1, -1, -1)
            self._add(facts, key, first[missing])
        lut = np.array([self._slot_dict[k] for k in uniq.tolist()], dtype=np.intp)
        slots: Slots = lut[inverse.reshape(-1)]
        return slots

    def _add(self, facts: Mapping[str, Column], key: npt.NDArray[np.signedinteger[Any]],
             rows: npt.NDArray[np.int64]) -> None:
        with self._lock:
            ks = key[rows]
            if self.dense:
                # one representative row per new key without sorting: scatter the rows into
                # a scratch table (any row of a key will do: they all agree)
                assert self._slot_of is not None
                if self._scratch is None:  # only ever read where just written
                    self._scratch = np.empty(self.size, dtype=np.intp)
                scratch = self._scratch
                unseen = self._slot_of[ks] < 0  # another thread may have added some
                ks, rows = ks[unseen], rows[unseen]
                scratch[ks] = rows
                landed = scratch[ks] == rows  # the row that landed is the representative
                keys, reps = ks[landed], rows[landed]
            else:
                keys, first = np.unique(ks, return_index=True)
                fresh = np.array([k not in self._slot_dict for k in keys.tolist()], dtype=bool)
                keys, reps = keys[fresh], rows[first[fresh]]
            if not len(keys):
                return
            sub: dict[str, Column] = {name: col.take(reps) for name, col in facts.items()}
            m = len(reps)
            results: dict[str, VecDecision] = {}
            for cp, d in self.steps:
                res = evaluate_decision_vectorised(d, sub, cp, m)
                store_vectorised(res, sub)
                results[d.output] = res
            for out, store in self._store.items():
                store.extend(results[out])
            new_slots = np.arange(self.n_slots, self.n_slots + m, dtype=np.intp)
            if self.dense:
                assert self._slot_of is not None
                self._slot_of[keys] = new_slots
            else:
                self._slot_dict.update(zip(keys.tolist(), new_slots.tolist(), strict=True))
            self.n_slots += m

    def results(self) -> dict[str, VecDecision]:
        """The planned outputs over the slots evaluated so far."""
        with self._lock:
            return {out: store.view() for out, store in self._store.items()}

    def evaluate(self, facts: Mapping[str, Column], n: int) -> dict[str, VecDecision]:
        """Per-row results, as :func:`allpath.rules.vectorised.evaluate_pack_vectorised`."""
        slot = self.slots(facts, n)
        return {out: _take(r, slot) for out, r in self.results().items()}


def _take(r: VecDecision, idx: Slots) -> VecDecision:
    return VecDecision(r.decision, r.output, r.status[idx], r.rule_index[idx], r.rule_ids,
                       r.values, None if r.value is None else r.value[idx],
                       {m: a[idx] for m, a in r.members.items()})


@dataclass
class _SlotStore:
    """One decision's results over slots, merged across evaluation batches."""

    decision: Decision
    status: npt.NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, np.int8))
    rule_index: Ints = field(default_factory=lambda: np.zeros(0, np.int64))
    rule_ids: tuple[str, ...] = ()
    values: list[Any] = field(default_factory=list)
    index: dict[tuple[str, Any], int] = field(default_factory=dict)
    value: Ints = field(default_factory=lambda: np.zeros(0, np.int64))
    members: dict[str, Bools] = field(default_factory=dict)

    def extend(self, r: VecDecision) -> None:
        old = len(self.status)
        self.rule_ids = r.rule_ids
        self.status = np.concatenate([self.status, r.status])
        self.rule_index = np.concatenate([self.rule_index, r.rule_index])
        if r.value is not None:
            remap = np.empty(len(r.values) + 1, dtype=np.int64)
            remap[-1] = -1
            for i, v in enumerate(r.values):
                k = (type(v).__name__, v)
                if k not in self.index:
                    self.index[k] = len(self.values)
                    self.values.append(v)
                remap[i] = self.index[k]
            self.value = np.concatenate([self.value, remap[r.value]])
        m = len(r.status)
        for name in set(self.members) | set(r.members):
            a = self.members.get(name, np.zeros(old, dtype=bool))
            b = r.members.get(name, np.zeros(m, dtype=bool))
            self.members[name] = np.concatenate([a, b])

    def view(self) -> VecDecision:
        d = self.decision
        return VecDecision(d.id, d.output, self.status, self.rule_index, self.rule_ids,
                           tuple(self.values), self.value if d.mode == "first" else None,
                           dict(self.members))
