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
Decisions with a ``provisional`` block or with named output fields are not supported here
(:class:`NotImplementedError`); the triage and findings packs use neither.

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

from allpath.rules.engine import CompiledPack
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
)
from allpath.units import convert

__all__ = ["Column", "VecDecision", "decisions_needed", "evaluate_decision_vectorised",
           "evaluate_pack_vectorised", "match_column"]

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
