"""Evaluate rule-pack decisions over columns: the same conditions, one array per fact.

This is the column form of :mod:`allpath.rules.engine`, used by population screening so
that the thresholds live once, in the packs. A fact is a :class:`Column` (values plus a
``known`` mask); a condition evaluates to two boolean masks, TRUE and UNKNOWN (FALSE is
neither), with exactly the engine's three-valued rules:

* a missing fact is UNKNOWN; ``known`` is never unknown;
* ``all``/``any``/``at_least`` count TRUE and UNKNOWN parts; ``not`` swaps TRUE and FALSE;
* a ``first`` decision takes the first TRUE rule only when every earlier UNKNOWN rule would
  have given the same answer; otherwise the row is unknown;
* an ``all`` decision collects every TRUE rule; with none, it is unknown when any rule was
  unknown, else it takes ``otherwise``;
* unknown outputs stay unknown (``known`` False), as the engine leaves them out of the store.

Thresholds come from the compiled pack (``cp.thresholds``) and reference tables are looked
up by age band and sex exactly as the engine does, converted with the same unit code.
:func:`evaluate_decision_vectorised` does not support decisions with a ``provisional`` block
or with named output fields (:class:`NotImplementedError`); the triage and findings packs use
neither. :func:`evaluate_decision_columns` and :func:`evaluate_pack_columns` (used by the
simulator's pathway checkpoints, closed loop and roadmaps) add both:

* **named output fields** (``then: {action: hold, mp: stop, ...}``): each distinct field
  dictionary of a decision is replaced by a string code on a shallow copy of the decision (the
  condition objects are shared, so the compiled thresholds, keyed by ``id(condition)``, still
  apply), the copy is evaluated by :func:`evaluate_decision_vectorised` and every field is
  stored as its own column ``output.field``, as :func:`allpath.rules.engine.store_result`
  stores it (a ``null`` field stays unknown);
* **provisional answers**: rows left unknown while one of the ``provisional.assume`` facts is
  missing are evaluated again with the assumed values filled in, exactly as
  :func:`allpath.rules.engine.evaluate_decision` does for one fact store; their answers are
  taken where that decides them and flagged in :attr:`ColumnDecision.provisional`.

``tests/sim/test_closed_loop.py`` checks these against the engine row by row on random fact
stores.

For speed, :mod:`allpath.rules.vectorised_plan` compiles decisions into a plan that runs this
evaluator once per distinct combination of leaf outcomes instead of once per row.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from allpath.rules.engine import CompiledPack, decision_reads
from allpath.rules.schema import (
    OPERATORS,
    AllOf,
    AnyOf,
    AtLeast,
    Compare,
    Condition,
    Decision,
    Known,
    Match,
    Not,
    Otherwise,
)
from allpath.units import convert

__all__ = [
    "STATUS_DECIDED",
    "STATUS_NOT_APPLICABLE",
    "STATUS_UNKNOWN",
    "Column",
    "ColumnDecision",
    "VecDecision",
    "decisions_needed",
    "evaluate_decision_columns",
    "evaluate_decision_vectorised",
    "evaluate_pack_columns",
    "evaluate_pack_vectorised",
    "fields_by_value",
    "match_column",
    "term_column",
]

Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

STATUS_DECIDED = 0
STATUS_UNKNOWN = 1
STATUS_NOT_APPLICABLE = 2


@dataclass
class Column:
    """One fact over ``n`` rows.

    ``number``: ``values`` holds float64 (canonical unit of the fact);
    ``term``: ``values`` holds int codes into ``vocab`` (values as the engine stores them);
    ``set``: ``members`` maps each member to a boolean array.
    """

    kind: Literal["number", "term", "set"]
    known: Bools
    values: npt.NDArray[Any] | None = None
    vocab: tuple[Any, ...] = ()
    members: dict[str, Bools] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.known.shape[0])

    @classmethod
    def number(cls, values: npt.ArrayLike, known: Bools | None = None) -> Column:
        arr = np.asarray(values, dtype=np.float64)
        mask = ~np.isnan(arr) if known is None else known
        return cls("number", mask, arr)

    @classmethod
    def term(cls, codes: npt.ArrayLike, vocab: Sequence[Any], known: Bools) -> Column:
        return cls("term", known, np.asarray(codes, dtype=np.int64), tuple(vocab))

    def take(self, idx: npt.NDArray[np.integer[Any]]) -> Column:
        """The rows ``idx`` of this column."""
        return Column(self.kind, self.known[idx],
                      None if self.values is None else self.values[idx], self.vocab,
                      {m: a[idx] for m, a in self.members.items()})

    def slice(self, start: int, stop: int) -> Column:
        """Rows ``start:stop`` of this column (views, no copy)."""
        return Column(self.kind, self.known[start:stop],
                      None if self.values is None else self.values[start:stop], self.vocab,
                      {m: a[start:stop] for m, a in self.members.items()})

    @classmethod
    def constant_set(cls, n: int, members: Iterable[str] = ()) -> Column:
        return cls("set", np.ones(n, dtype=bool),
                   members={m: np.ones(n, dtype=bool) for m in members})


@dataclass
class VecDecision:
    """Column result of one decision: status, value code and the rule that decided."""

    decision: str
    output: str
    status: npt.NDArray[np.int8]
    rule_index: Ints  # index into ``rule_ids``; -1 where no rule decided
    rule_ids: tuple[str, ...]
    values: tuple[Any, ...] = ()  # first mode: the distinct answers; codes in ``value``
    value: Ints | None = None
    members: dict[str, Bools] = field(default_factory=dict)  # all mode: answers per member


# --------------------------------------------------------------------------- conditions

Tri = tuple[Bools, Bools]  # (TRUE, UNKNOWN)


def _table_threshold(cp: CompiledPack, name: str, facts: Mapping[str, Column],
                     n: int) -> tuple[Floats, Bools]:
    table = cp.tables[name]
    thr = np.full(n, np.nan)
    ok = np.zeros(n, dtype=bool)
    age = facts.get(table.age_fact)
    if age is None or age.kind != "number" or age.values is None:
        return thr, ok
    spec = cp.registry.get(table.age_fact)
    from_unit = spec.unit if spec and spec.unit else "a"
    ages = age.values
    if from_unit != table.age_unit:
        ages = ages * convert(1.0, from_unit, table.age_unit)
    sex = facts.get("sex")
    is_female = np.zeros(n, dtype=bool)
    is_male = np.zeros(n, dtype=bool)
    if sex is not None and sex.kind == "term" and sex.values is not None:
        lut_f = np.array([str(v) == "female" for v in sex.vocab] + [False])
        lut_m = np.array([str(v) == "male" for v in sex.vocab] + [False])
        codes = np.where(sex.known, sex.values, len(sex.vocab))
        is_female, is_male = lut_f[codes], lut_m[codes]
    inside = []
    for row in table.rows:
        lo = row.age_from if row.age_from is not None else -np.inf
        hi = row.age_to if row.age_to is not None else np.inf
        inside.append(age.known & (ages >= lo) & (ages < hi))
    any_specific = np.zeros(n, dtype=bool)
    for row, m in zip(table.rows, inside, strict=True):
        if row.sex != "any":
            any_specific |= m
    unit = cp.table_units[name]
    # The first chosen row wins: walk the rows backwards so earlier rows overwrite later ones.
    for row, m in reversed(list(zip(table.rows, inside, strict=True))):
        if row.sex == "any":
            sel = m & ~any_specific
        elif row.sex == "female":
            sel = m & any_specific & is_female
        else:
            sel = m & any_specific & is_male
        if sel.any():
            thr[sel] = convert(row.value, table.unit, unit)
            ok |= sel
    return thr, ok


def _compare(a: Floats, op: str, b: Floats | float) -> Bools:
    """``a op b`` elementwise, with the pack operators (``rules.schema.OPERATORS``)."""
    with np.errstate(invalid="ignore"):
        out: Bools = np.asarray(OPERATORS[op](a, b), dtype=bool)
    return out


def _lut(col: Column, test: Any) -> Bools:
    table = np.array([bool(test(v)) for v in col.vocab] + [False], dtype=bool)
    assert col.values is not None
    return table[np.where(col.known, col.values, len(col.vocab))]


def match_column(cond: Match, col: Column) -> Bools:
    n = col.n
    if col.kind == "set":
        def member(m: str) -> Bools:
            return col.members.get(m, np.zeros(n, dtype=bool))

        if cond.contains is not None:
            return member(cond.contains)
        if cond.contains_any is not None:
            out = np.zeros(n, dtype=bool)
            for m in cond.contains_any:
                out |= member(m)
            return out
        if cond.matches is not None:
            pattern = cond.matches.replace("[", "[[]")
            out = np.zeros(n, dtype=bool)
            for m, arr in col.members.items():
                if fnmatch.fnmatchcase(m, pattern):
                    out |= arr
            return out
        raise NotImplementedError("is/in on a set-valued fact")
    if col.kind == "term":
        if cond.is_ is not None:
            want = cond.is_
            return _lut(col, lambda v: v == want)
        if cond.in_ is not None:
            pool = cond.in_
            return _lut(col, lambda v: v in pool)
        if cond.contains is not None:
            one = cond.contains
            return _lut(col, lambda v: str(v) == one)
        if cond.contains_any is not None:
            many = set(cond.contains_any)
            return _lut(col, lambda v: str(v) in many)
        assert cond.matches is not None
        pat = cond.matches.replace("[", "[[]")
        return _lut(col, lambda v: fnmatch.fnmatchcase(str(v), pat))
    assert col.values is not None
    values = col.values
    if cond.is_ is not None or cond.in_ is not None:
        wanted = [cond.is_] if cond.is_ is not None else list(cond.in_ or ())
        out = np.zeros(n, dtype=bool)
        for w in wanted:
            if isinstance(w, bool | int | float):
                out |= values == float(w)
        return out
    raise NotImplementedError("set tests on a number fact")


def evaluate_condition_vectorised(cond: Condition, facts: Mapping[str, Column],
                                  cp: CompiledPack, n: int) -> Tri:
    """Evaluate one condition node over all rows: (TRUE mask, UNKNOWN mask)."""
    if isinstance(cond, AllOf | AnyOf | AtLeast):
        parts = (cond.all if isinstance(cond, AllOf) else
                 cond.any if isinstance(cond, AnyOf) else cond.of)
        need = (len(parts) if isinstance(cond, AllOf) else
                1 if isinstance(cond, AnyOf) else cond.at_least)
        n_true = np.zeros(n, dtype=np.int16)
        n_unknown = np.zeros(n, dtype=np.int16)
        for p in parts:
            t, u = evaluate_condition_vectorised(p, facts, cp, n)
            n_true += t
            n_unknown += u
        true = n_true >= need
        return true, ~true & (n_true + n_unknown >= need)
    if isinstance(cond, Not):
        t, u = evaluate_condition_vectorised(cond.not_, facts, cp, n)
        return ~t & ~u, u
    if isinstance(cond, Known):
        col = facts.get(cond.known)
        known = col.known.copy() if col is not None else np.zeros(n, dtype=bool)
        return known, np.zeros(n, dtype=bool)
    col = facts.get(cond.fact)
    if col is None:
        return np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
    if isinstance(cond, Compare):
        if col.kind != "number" or col.values is None:
            raise NotImplementedError(f"comparison on non-number column {cond.fact!r}")
        if cond.table is not None:
            thr, thr_ok = _table_threshold(cp, cond.table, facts, n)
            known = col.known & thr_ok
            return known & _compare(col.values, cond.op, thr), ~known
        threshold = cp.thresholds[id(cond)]
        return col.known & _compare(col.values, cond.op, threshold), ~col.known
    assert isinstance(cond, Match)
    return col.known & match_column(cond, col), ~col.known


# --------------------------------------------------------------------------- decisions


def _key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def evaluate_decision_vectorised(decision: Decision, facts: Mapping[str, Column],
                                 cp: CompiledPack, n: int) -> VecDecision:
    """Evaluate one decision over all rows (see the module notes for the semantics)."""
    if decision.provisional is not None:
        raise NotImplementedError(f"decision {decision.id}: provisional answers")
    thens = [r.then for r in decision.rules] + [decision.otherwise.then]
    if any(isinstance(t, dict) for t in thens):
        raise NotImplementedError(f"decision {decision.id}: named output fields")
    rule_ids = tuple(r.id for r in decision.rules) + (decision.otherwise.id,) + (
        (decision.not_applicable.id,) if decision.not_applicable is not None else ())
    status = np.full(n, STATUS_UNKNOWN, dtype=np.int8)
    rule_index = np.full(n, -1, dtype=np.int64)
    open_ = np.ones(n, dtype=bool)
    values: list[Any] = []
    index: dict[tuple[str, Any], int] = {}

    def code(v: Any) -> int:
        k = _key(v)
        if k not in index:
            index[k] = len(values)
            values.append(v)
        return index[k]

    value = np.full(n, -1, dtype=np.int64)
    if decision.applies_when is not None:
        t, u = evaluate_condition_vectorised(decision.applies_when, facts, cp, n)
        na = ~t & ~u
        na_rule = decision.not_applicable
        assert na_rule is not None
        status[na] = STATUS_NOT_APPLICABLE
        rule_index[na] = len(rule_ids) - 1
        if na_rule.then is not None:
            value[na] = code(na_rule.then)
        open_ &= t
    if decision.mode == "first":
        pending = np.zeros(n, dtype=np.int64)
        for ri, rule in enumerate(decision.rules):
            c = code(rule.then)
            if c > 62:
                raise NotImplementedError("more than 63 distinct answers in one decision")
            bit = np.int64(1) << np.int64(c)
            t, u = evaluate_condition_vectorised(rule.when, facts, cp, n)
            hit = open_ & t
            ok = hit & ((pending & ~bit) == 0)
            status[ok] = STATUS_DECIDED
            value[ok] = c
            rule_index[ok] = ri
            open_ &= ~hit
            pending |= np.where(open_ & u, bit, np.int64(0))
        rest = open_ & (pending == 0)
        ow = decision.otherwise
        if not ow.unknown:
            status[rest] = STATUS_DECIDED
            value[rest] = code(ow.then)
            rule_index[rest] = len(decision.rules)
        return VecDecision(decision.id, decision.output, status, rule_index, rule_ids,
                           tuple(values), value)
    # mode all: every TRUE rule is collected
    members: dict[str, Bools] = {}
    any_hit = np.zeros(n, dtype=bool)
    any_unknown = np.zeros(n, dtype=bool)
    first_hit = np.full(n, -1, dtype=np.int64)
    for ri, rule in enumerate(decision.rules):
        t, u = evaluate_condition_vectorised(rule.when, facts, cp, n)
        hit = open_ & t
        name = str(rule.then)
        members[name] = members.get(name, np.zeros(n, dtype=bool)) | hit
        first_hit = np.where(hit & (first_hit < 0), ri, first_hit)
        any_hit |= hit
        any_unknown |= open_ & u
    decided = open_ & any_hit
    status[decided] = STATUS_DECIDED
    rule_index[decided] = first_hit[decided]
    rest = open_ & ~any_hit & ~any_unknown
    ow = decision.otherwise
    if not ow.unknown:
        status[rest] = STATUS_DECIDED
        rule_index[rest] = len(decision.rules)
        if ow.then != "none":
            name = str(ow.then)
            members[name] = members.get(name, np.zeros(n, dtype=bool)) | rest
    return VecDecision(decision.id, decision.output, status, rule_index, rule_ids,
                       members=members)


def store_vectorised(result: VecDecision, facts: MutableMapping[str, Column]) -> None:
    """Write a decision's output column into the fact store, as the engine stores facts."""
    if result.value is None:  # mode all: a set fact, known where decided
        known = result.status == STATUS_DECIDED
        facts[result.output] = Column(
            "set", known, members={m: arr & known for m, arr in result.members.items()})
        return
    stored = [float(v) if isinstance(v, int) and not isinstance(v, bool) else v
              for v in result.values]
    known = (result.status != STATUS_UNKNOWN) & (result.value >= 0)
    facts[result.output] = Column.term(np.where(known, result.value, 0), stored, known)


def decisions_needed(packs: Sequence[CompiledPack], outputs: Iterable[str]) -> set[str]:
    """Decision ids needed to compute ``outputs`` (the decisions whose outputs they read)."""
    from allpath.rules.engine import decision_conditions

    by_output: dict[str, Decision] = {}
    for cp in packs:
        for d in cp.pack.decisions:
            by_output[d.output] = d
    wanted = list(outputs)
    needed: set[str] = set()
    while wanted:
        out = wanted.pop()
        found = by_output.get(out)
        if found is None or found.id in needed:
            continue
        needed.add(found.id)
        for c in decision_conditions(found):
            if isinstance(c, Compare | Match):
                wanted.append(c.fact)
            elif isinstance(c, Known):
                wanted.append(c.known)
    return needed


def evaluate_pack_vectorised(cp: CompiledPack, facts: MutableMapping[str, Column], n: int,
                             only: set[str] | None = None) -> list[VecDecision]:
    """Evaluate a pack's decisions in order (optionally only those in ``only``)."""
    out = []
    for decision in cp.pack.decisions:
        if only is not None and decision.id not in only:
            continue
        res = evaluate_decision_vectorised(decision, facts, cp, n)
        store_vectorised(res, facts)
        out.append(res)
    return out


# --- named output fields and provisional answers ----------------------------------------------


@dataclass
class ColumnDecision:
    """One decision over all rows: the vectorised result plus decoded field dictionaries."""

    result: VecDecision
    provisional: Bools
    fields: tuple[dict[str, Any], ...] = ()  # value code -> field dictionary (field decisions)

    @property
    def decided(self) -> Bools:
        out: Bools = self.result.status == STATUS_DECIDED
        return out

    def field_codes(self, name: str, vocab: tuple[Any, ...]) -> npt.NDArray[np.int64]:
        """Per row, the index in ``vocab`` of field ``name`` (a not-applicable answer's
        fields included, as the engine stores them); -1 where unknown or not in it."""
        per_value = fields_by_value(self.result, self.fields)
        lut = np.array([vocab.index(f[name]) if f is not None and f.get(name) in vocab
                        else -1 for f in per_value] + [-1], dtype=np.int64)
        assert self.result.value is not None
        answered = (self.result.status != STATUS_UNKNOWN) & (self.result.value >= 0)
        code = np.where(answered, self.result.value, len(per_value))
        out: npt.NDArray[np.int64] = lut[code]
        return out

    def value_codes(self, vocab: tuple[Any, ...]) -> npt.NDArray[np.int64]:
        """Per row, the index in ``vocab`` of a scalar answer (a not-applicable answer
        included); -1 where unknown."""
        values = self.result.values
        lut = np.array([vocab.index(v) if v in vocab else -1 for v in values] + [-1],
                       dtype=np.int64)
        assert self.result.value is not None
        answered = self.result.status != STATUS_UNKNOWN  # decided or not applicable
        code = np.where(answered & (self.result.value >= 0), self.result.value, len(values))
        out: npt.NDArray[np.int64] = lut[code]
        return out


def term_column(values: npt.ArrayLike, vocab: tuple[Any, ...], known: Bools | None = None
                ) -> Column:
    """A term (or bool) fact column from codes into ``vocab``."""
    codes = np.asarray(values, dtype=np.int64)
    mask = np.ones(codes.shape[0], dtype=bool) if known is None else known
    return Column.term(codes, vocab, mask)


_FIELDS_CODE = "__fields_"


def _code_of(then: Any, codes: dict[str, int], fields: list[dict[str, Any]]) -> str:
    key = repr(sorted(then.items()))
    if key not in codes:
        codes[key] = len(fields)
        fields.append(dict(then))
    return f"{_FIELDS_CODE}{codes[key]}"


def fields_by_value(result: VecDecision, fields: tuple[dict[str, Any], ...]
                    ) -> list[dict[str, Any] | None]:
    """The field dictionary behind each value code of ``result`` (None for a plain answer).

    Value codes number the answers in the order the vectorised evaluator meets them (the
    not-applicable answer first, then the rules'), field indices in the order
    :func:`scalarised` coded them, so a value code is never a field index: read the code.
    """
    out: list[dict[str, Any] | None] = []
    for v in result.values:
        if isinstance(v, str) and v.startswith(_FIELDS_CODE):
            out.append(fields[int(v[len(_FIELDS_CODE):])])
        else:
            out.append(None)
    return out


def _scalarised(decision: Decision) -> tuple[Decision, tuple[dict[str, Any], ...]]:
    """A shallow copy of ``decision`` whose field answers are string codes (conditions shared)."""
    codes: dict[str, int] = {}
    fields: list[dict[str, Any]] = []
    rules = tuple(
        r.model_copy(update={"then": _code_of(r.then, codes, fields)})
        if isinstance(r.then, dict) else r for r in decision.rules)
    ow: Otherwise = decision.otherwise
    if isinstance(ow.then, dict):
        ow = ow.model_copy(update={"then": _code_of(ow.then, codes, fields)})
    na = decision.not_applicable
    if na is not None and isinstance(na.then, dict):
        na = na.model_copy(update={"then": _code_of(na.then, codes, fields)})
    copy = decision.model_copy(update={"rules": rules, "otherwise": ow, "not_applicable": na,
                                       "provisional": None})
    return copy, tuple(fields)


_SCALARISED: dict[int, tuple[Decision, Decision, tuple[dict[str, Any], ...]]] = {}


def _scalarised_cached(decision: Decision) -> tuple[Decision, tuple[dict[str, Any], ...]]:
    hit = _SCALARISED.get(id(decision))
    if hit is None or hit[0] is not decision:
        copy, fields = _scalarised(decision)
        hit = (decision, copy, fields)
        _SCALARISED[id(decision)] = hit
    return hit[1], hit[2]


def _assumed_column(cp: CompiledPack, name: str, spec: Any, n: int,
                    have: Column | None) -> Column:
    """``have`` with its unknown rows filled by the pack's assumed value."""
    if isinstance(spec, dict):
        reg = cp.registry.get(name)
        unit = reg.unit if reg and reg.unit else str(spec["unit"])
        value = convert(float(spec["value"]), str(spec["unit"]), unit)
        vals = np.full(n, value)
        if have is not None and have.values is not None:
            vals = np.where(have.known, have.values.astype(np.float64), value)
        return Column.number(vals, np.ones(n, dtype=bool))
    if have is None or have.kind != "term" or have.values is None:
        return Column.term(np.zeros(n, dtype=np.int64), (spec,), np.ones(n, dtype=bool))
    vocab = have.vocab if spec in have.vocab else (*have.vocab, spec)
    codes = np.where(have.known, have.values, vocab.index(spec))
    return Column.term(codes, vocab, np.ones(n, dtype=bool))


def evaluate_decision_columns(decision: Decision, facts: Mapping[str, Column],
                              cp: CompiledPack, n: int) -> ColumnDecision:
    """Evaluate one decision over all rows, with field answers and provisional answers."""
    plain, fields = _scalarised_cached(decision)
    res = evaluate_decision_vectorised(plain, facts, cp, n)
    prov = np.zeros(n, dtype=bool)
    if decision.provisional is not None:
        lacking = np.zeros(n, dtype=bool)
        trial = dict(facts)
        for name, spec in decision.provisional.assume.items():
            have = facts.get(name)
            lacking |= np.ones(n, dtype=bool) if have is None else ~have.known
            trial[name] = _assumed_column(cp, name, spec, n, have)
        redo = lacking & (res.status == STATUS_UNKNOWN)
        if redo.any():
            again = evaluate_decision_vectorised(plain, trial, cp, n)
            take = redo & (again.status != STATUS_UNKNOWN)
            prov = redo.copy()
            if take.any():
                res = _merge(res, again, take)
    return ColumnDecision(res, prov, fields)


def _merge(a: VecDecision, b: VecDecision, take: Bools) -> VecDecision:
    """Rows ``take`` from ``b``, the rest from ``a`` (value codes re-indexed)."""
    if a.value is None or b.value is None:
        members = {m: np.where(take, b.members.get(m, np.zeros_like(take)),
                               a.members.get(m, np.zeros_like(take)))
                   for m in set(a.members) | set(b.members)}
        return VecDecision(a.decision, a.output, np.where(take, b.status, a.status),
                           np.where(take, b.rule_index, a.rule_index), a.rule_ids,
                           members=members)
    values = list(a.values)
    remap = []
    for v in b.values:
        if v not in values:
            values.append(v)
        remap.append(values.index(v))
    lut = np.array([*remap, -1], dtype=np.int64)
    b_codes = lut[np.where(b.value >= 0, b.value, len(remap))]
    return VecDecision(a.decision, a.output, np.where(take, b.status, a.status),
                       np.where(take, b.rule_index, a.rule_index), a.rule_ids, tuple(values),
                       np.where(take, b_codes, a.value))


def _store(res: ColumnDecision, facts: MutableMapping[str, Column]) -> None:
    r = res.result
    if not res.fields:
        store_vectorised(r, facts)
        return
    assert r.value is not None
    decided = (r.status != STATUS_UNKNOWN) & (r.value >= 0)
    per_value = fields_by_value(r, res.fields)
    names = dict.fromkeys(k for f in res.fields for k in f)
    for name in names:
        raw = [None if f is None else f.get(name) for f in per_value]
        vocab = tuple(dict.fromkeys(
            float(v) if isinstance(v, int) and not isinstance(v, bool) else v
            for v in raw if v is not None))
        lut = np.array([-1 if v is None else vocab.index(
            float(v) if isinstance(v, int) and not isinstance(v, bool) else v) for v in raw]
            + [-1], dtype=np.int64)
        codes = lut[np.where(decided, r.value, len(raw))]
        known = codes >= 0
        if vocab and all(isinstance(v, float) for v in vocab):
            vals = np.where(known, np.array(vocab + (0.0,))[codes], np.nan)
            facts[f"{r.output}.{name}"] = Column.number(vals, known)
        else:
            facts[f"{r.output}.{name}"] = Column.term(np.maximum(codes, 0), vocab, known)


def _needed(cp: CompiledPack, outputs: tuple[str, ...]) -> set[str]:
    """Decision ids needed for ``outputs``; a field fact ``out.field`` needs decision ``out``
    (:func:`allpath.rules.vectorised.decisions_needed` knows scalar outputs only)."""
    fields = {f"{d.output}.{k}": d.output for d in cp.pack.decisions for k in (d.fields or {})}
    wanted = tuple(fields.get(o, o) for o in outputs)
    while True:
        needed = decisions_needed([cp], wanted)
        reads = {fields[c] for d in cp.pack.decisions if d.id in needed
                 for c in decision_reads(d) if c in fields}
        if reads <= set(wanted):
            return needed
        wanted = tuple(dict.fromkeys((*wanted, *reads)))


def evaluate_pack_columns(cp: CompiledPack, facts: MutableMapping[str, Column], n: int,
                          outputs: tuple[str, ...] | None = None) -> dict[str, ColumnDecision]:
    """Evaluate a pack's decisions in order (only those ``outputs`` need), storing outputs.

    Returns the results by output name.
    """
    only = _needed(cp, outputs) if outputs is not None else None
    out: dict[str, ColumnDecision] = {}
    for decision in cp.pack.decisions:
        if only is not None and decision.id not in only:
            continue
        res = evaluate_decision_columns(decision, facts, cp, n)
        _store(res, facts)
        out[decision.output] = res
    return out
