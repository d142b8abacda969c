"""Evaluate rule packs over facts with three-valued logic, keeping a trace of every step.

A condition is TRUE, FALSE or UNKNOWN. Unknown comes from facts that are missing and
propagates unless the known parts decide (``any`` with one TRUE part is TRUE). A decision in
``first`` mode returns the first TRUE rule only when no earlier rule with a *different*
answer was UNKNOWN; otherwise the answer is unknown, with the missing facts listed and, where
the pack allows it, a provisional answer under stated assumptions plus the answers still
possible.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, overload

from allpath.rules.facts import Among, Fact, FactSpec, FactValue, Registry
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
    Pack,
    RefTable,
    Rule,
    Scalar,
)
from allpath.units import convert

__all__ = [
    "CompiledPack",
    "DecisionResult",
    "Eval",
    "FactStore",
    "PackRun",
    "Tri",
    "decision_conditions",
    "decision_reads",
    "evaluate_condition",
    "evaluate_decision",
    "evaluate_pack",
    "fill_not_applicable",
    "threshold_points",
]

FactStore = MutableMapping[str, Fact]
Status = Literal["decided", "unknown", "not_applicable"]
OutputValue = Scalar | dict[str, Scalar | None] | list[Any] | None


class Tri(Enum):
    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Eval:
    """Result of one condition: its truth, the facts it read and the facts it lacked.

    Immutable, so that a leaf can hand out the same few results again and again."""

    truth: Tri
    used: AbstractSet[str] = frozenset()
    missing: AbstractSet[str] = frozenset()
    provisional: bool = False


@dataclass(frozen=True)
class CompiledPack:
    """A validated pack with every threshold converted to its fact's canonical unit."""

    pack: Pack
    source: str
    thresholds: Mapping[int, float]  # id(Compare) -> canonical threshold
    tables: Mapping[str, RefTable]
    table_units: Mapping[str, str]  # table -> canonical unit of the compared fact
    registry: Registry
    # id(condition) -> (condition, its compiled evaluator); the condition is kept so that its
    # id cannot be reused by another object while the entry lives (see :func:`_evaluator`).
    evaluators: dict[int, tuple[Condition, _Evaluator, frozenset[str] | None]] = field(
        default_factory=dict, compare=False, repr=False)
    # (registry size) -> the facts that applicability conditions read (evaluate_pack)
    applicability_reads: dict[int, frozenset[str]] = field(
        default_factory=dict, compare=False, repr=False)
    # (registry size) -> the facts that declare a not-applicable value (fill_not_applicable)
    conditional_facts: dict[int, tuple[tuple[str, FactSpec, Condition, FactValue], ...]] = field(
        default_factory=dict, compare=False, repr=False)
    # id(decision) -> (decision, its applicability closure, (rule, closure) per rule): the
    # closures a decision runs, looked up once (:func:`_decision_fns`)
    decision_fns: dict[int, tuple[Decision, _Evaluator | None,
                                  tuple[tuple[Rule, _Evaluator], ...]]] = field(
        default_factory=dict, compare=False, repr=False)

    @property
    def id(self) -> str:
        return self.pack.id

    @property
    def version(self) -> str:
        return self.pack.version


@dataclass(frozen=True)
class DecisionResult:
    """Outcome of one decision with everything needed to explain it."""

    decision: str
    title: str
    pack: str
    pack_version: str
    output: str
    status: Status
    value: OutputValue
    rule_id: str | None
    cite: tuple[str, ...]
    evidence: Literal["confirmed", "unconfirmed"]
    scheme: str | None = None
    provisional: bool = False
    provisional_reason: str | None = None
    missing: tuple[str, ...] = ()
    inputs: Mapping[str, Any] = field(default_factory=dict)
    input_refs: tuple[str, ...] = ()
    note: str | None = None
    hits: tuple[tuple[str, tuple[str, ...], str], ...] = ()  # mode all: (rule, cite, evidence)
    hit_inputs: tuple[Mapping[str, Any], ...] = ()  # mode all: the facts each hit read
    hit_refs: tuple[tuple[str, ...], ...] = ()  # mode all: the record fields behind each hit
    # the answers still possible (see :attr:`possible`): the search over the missing facts,
    # bound to a copy of the facts it reads, run on first use and then kept
    search: Callable[[], tuple[Any, ...]] | tuple[Any, ...] = field(
        default=(), repr=False, compare=False)

    @property
    def display_value(self) -> OutputValue:
        return self.value if self.status != "unknown" else "unknown"

    @property
    def possible(self) -> tuple[Any, ...]:
        """Every answer the decision could still give over its missing facts (empty when it
        is decided). Worked out when first read: it is the costliest part of a decision, and
        most decisions' (findings, genetics, an intermediate group) are never shown."""
        found = self.search
        if callable(found):
            found = found()
            object.__setattr__(self, "search", found)  # frozen: kept once, never changed
        return found


# --------------------------------------------------------------------------- conditions


def _table_threshold(
    cp: CompiledPack, table_name: str, facts: Mapping[str, Fact]
) -> tuple[float | None, set[str]]:
    table = cp.tables[table_name]
    needs = {table.age_fact, "sex"}
    age = facts.get(table.age_fact)
    sex = facts.get("sex")
    if age is None:
        return None, needs
    age_val = float(age.value)  # type: ignore[arg-type]
    age_unit = cp.registry.get(table.age_fact)
    age_in_table_unit = convert(age_val, age_unit.unit if age_unit and age_unit.unit else "a",
                                table.age_unit)
    sex_val = str(sex.value) if sex is not None else None
    candidates = []
    for row in table.rows:
        lo = row.age_from if row.age_from is not None else float("-inf")
        hi = row.age_to if row.age_to is not None else float("inf")
        if lo <= age_in_table_unit < hi:
            candidates.append(row)
    specific = [r for r in candidates if r.sex != "any"]
    if specific:
        if sex_val not in ("female", "male"):
            return None, needs
        chosen = [r for r in specific if r.sex == sex_val]
    else:
        chosen = candidates
    if not chosen:
        return None, needs
    return convert(chosen[0].value, table.unit, cp.table_units[table_name]), needs


def _glob(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


_TRUE, _FALSE, _UNKNOWN = Tri.TRUE, Tri.FALSE, Tri.UNKNOWN


_Evaluator = Callable[[Mapping[str, Fact], AbstractSet[str]], Eval]


def evaluate_condition(
    cond: Condition,
    facts: Mapping[str, Fact],
    cp: CompiledPack,
    varied: AbstractSet[str] = frozenset(),
) -> Eval:
    """Evaluate one condition node (three-valued).

    ``varied`` names facts that are absent here but will be given some value (the search for
    the answers still possible): they read as unknown, except that ``known`` is TRUE for them.

    Each condition is compiled once per pack into a closure (:func:`_compile`): the tree is
    walked once, thresholds are looked up once, and evaluation no longer dispatches on the
    node type at every call (the engine evaluates thousands of nodes per assessment).
    """
    return _evaluator(cond, cp)(facts, varied)


def _evaluator(cond: Condition, cp: CompiledPack) -> _Evaluator:
    return _compiled(cond, cp)[0]


def _compiled(cond: Condition, cp: CompiledPack) -> tuple[_Evaluator, frozenset[str] | None]:
    """The closure of ``cond`` and the facts it always reads (None where that depends on
    the facts: a reference-table threshold reads the age and sex it finds)."""
    hit = cp.evaluators.get(id(cond))
    if hit is not None and hit[0] is cond:
        return hit[1], hit[2]
    fn, reads = _compile(cond, cp)
    cp.evaluators[id(cond)] = (cond, fn, reads)
    return fn, reads


def _compile(cond: Condition, cp: CompiledPack) -> tuple[_Evaluator, frozenset[str] | None]:
    """A closure that evaluates ``cond`` exactly as the three-valued rules above say."""
    if isinstance(cond, AllOf | AnyOf | AtLeast):
        sub, need = ((cond.all, len(cond.all)) if isinstance(cond, AllOf) else
                     (cond.any, 1) if isinstance(cond, AnyOf) else (cond.of, cond.at_least))
        parts = [_compiled(c, cp) for c in sub]
        reads: frozenset[str] | None = None
        if all(r is not None for _, r in parts):
            reads = frozenset().union(*(r for _, r in parts if r is not None))
        return _compile_combine(tuple(fn for fn, _ in parts), need, reads), reads
    if isinstance(cond, Not):
        inner, inner_reads = _compiled(cond.not_, cp)

        def negate(facts: Mapping[str, Fact], varied: AbstractSet[str]) -> Eval:
            ev = inner(facts, varied)
            truth = ev.truth  # identity tests: an Enum hashes in Python, slowly
            flipped = _FALSE if truth is _TRUE else _TRUE if truth is _FALSE else truth
            return Eval(flipped, ev.used, ev.missing, ev.provisional)

        return negate, inner_reads
    if isinstance(cond, Known):
        known = cond.known
        read = frozenset({known})
        outcomes = {(present, provisional): Eval(Tri.TRUE if present else Tri.FALSE, read,
                                                 frozenset(), provisional)
                    for present in (True, False) for provisional in (True, False)}

        def is_known(facts: Mapping[str, Fact], varied: AbstractSet[str]) -> Eval:
            fact = facts.get(known)
            # a number known only to lie among some values (Among) is not known
            present = (fact is not None and fact.value.__class__ is not Among) or known in varied
            return outcomes[present, bool(fact and fact.provisional)]

        return is_known, read
    if isinstance(cond, Compare):
        return _compile_compare(cond, cp), (frozenset({cond.fact}) if cond.table is None
                                            else None)
    return _compile_match(cond), frozenset({cond.fact})


_NOTHING: frozenset[str] = frozenset()


def _compile_combine(parts: tuple[_Evaluator, ...], need: int,
                     reads: frozenset[str] | None) -> _Evaluator:
    """``all`` (need every part), ``any`` (need one) and ``at_least`` (need N). Every part is
    evaluated (no short cut), so that the facts read and lacked are all reported. Where the
    facts read do not depend on the values (``reads``), the decided results are made once
    (indexed by the provisional flag)."""
    decided_true = decided_false = None
    if reads is not None:
        decided_true = (Eval(_TRUE, reads, _NOTHING, False), Eval(_TRUE, reads, _NOTHING, True))
        decided_false = (Eval(_FALSE, reads, _NOTHING, False),
                         Eval(_FALSE, reads, _NOTHING, True))

    def combine(facts: Mapping[str, Fact], varied: AbstractSet[str]) -> Eval:
        evals = []
        n_true = n_unknown = 0
        provisional = False
        for part in parts:
            p = part(facts, varied)
            evals.append(p)
            truth = p.truth
            if truth is _UNKNOWN:
                n_unknown += 1
            else:
                if truth is _TRUE:
                    n_true += 1
                if p.provisional:
                    provisional = True
        if n_true >= need:
            if decided_true is not None:
                return decided_true[provisional]
            result = _TRUE
        elif n_true + n_unknown >= need:
            result = _UNKNOWN
        else:
            if decided_false is not None:
                return decided_false[provisional]
            result = _FALSE
        missing: set[str] = set()
        if result is _UNKNOWN:
            for p in evals:
                missing |= p.missing
        if reads is not None:
            return Eval(result, reads, missing, provisional)
        used: set[str] = set()
        for p in evals:
            used |= p.used
        return Eval(result, used, missing, provisional)

    return combine


def _compile_compare(cond: Compare, cp: CompiledPack) -> _Evaluator:
    name = cond.fact
    op = OPERATORS[cond.op]
    table = cond.table
    if table is None:
        known_threshold = cp.thresholds.get(id(cond))
        key = id(cond)
        lacking, results = _leaf_results(name)

        def compare(facts: Mapping[str, Fact], varied: AbstractSet[str]) -> Eval:
            fact = facts.get(name)
            if fact is None:
                return lacking
            # A condition the pack did not compile has no threshold: that fails here, when
            # a value must be compared, as it always did (a missing fact is still unknown).
            threshold = cp.thresholds[key] if known_threshold is None else known_threshold
            value = fact.value
            if value.__class__ is Among:  # settled only where every value it can take agrees
                sides = {bool(op(x, threshold)) for x in value.values}
                if len(sides) > 1:
                    return lacking
                return results[sides.pop(), fact.provisional]
            ok = op(float(value), threshold)  # type: ignore[arg-type]
            return results[bool(ok), fact.provisional]

        return compare

    lacking_fact = _leaf_results(name)[0]

    def compare_table(facts: Mapping[str, Fact], varied: AbstractSet[str]) -> Eval:
        fact = facts.get(name)
        if fact is None or fact.value.__class__ is Among:
            return lacking_fact
        limit, needs = _table_threshold(cp, table, facts)
        used = {name} | (needs & set(facts))
        if limit is None:
            return Eval(Tri.UNKNOWN, used, needs - set(facts) or needs)
        ok = op(float(fact.value), limit)  # type: ignore[arg-type]
        return Eval(Tri.TRUE if ok else Tri.FALSE, used, set(), fact.provisional)

    return compare_table


def _compile_match(cond: Match) -> _Evaluator:
    name = cond.fact
    test: Callable[[FactValue], bool]
    if cond.is_ is not None:
        expected = cond.is_

        def test(value: FactValue) -> bool:
            return bool(value == expected)
    elif cond.in_ is not None:
        allowed = cond.in_

        def test(value: FactValue) -> bool:
            return value in allowed
    else:
        def members(value: FactValue) -> frozenset[Any]:
            return value if isinstance(value, frozenset) else frozenset({str(value)})

        if cond.contains is not None:
            wanted = cond.contains

            def test(value: FactValue) -> bool:
                return wanted in members(value)
        elif cond.contains_any is not None:
            any_of = cond.contains_any

            def test(value: FactValue) -> bool:
                m = members(value)
                return any(v in m for v in any_of)
        else:
            assert cond.matches is not None
            pattern = cond.matches

            def test(value: FactValue) -> bool:
                return any(_glob(pattern, m) for m in members(value))

    lacking, results = _leaf_results(name)

    def match(facts: Mapping[str, Fact], varied: AbstractSet[str]) -> Eval:
        fact = facts.get(name)
        if fact is None or fact.value.__class__ is Among:
            return lacking
        return results[test(fact.value), fact.provisional]

    return match


def _leaf_results(name: str) -> tuple[Eval, Mapping[tuple[bool, bool], Eval]]:
    """The only results a test of one fact can have: unknown (the fact is absent), and TRUE
    or FALSE, provisional or not. Made once per leaf and shared (Eval is immutable)."""
    read = frozenset({name})
    return Eval(Tri.UNKNOWN, read, read), {
        (ok, provisional): Eval(Tri.TRUE if ok else Tri.FALSE, read, frozenset(), provisional)
        for ok in (True, False) for provisional in (True, False)}


# --------------------------------------------------------------------------- decisions


def _iter_conditions(cond: Condition) -> Iterator[Condition]:
    yield cond
    if isinstance(cond, AllOf):
        for c in cond.all:
            yield from _iter_conditions(c)
    elif isinstance(cond, AnyOf):
        for c in cond.any:
            yield from _iter_conditions(c)
    elif isinstance(cond, AtLeast):
        for c in cond.of:
            yield from _iter_conditions(c)
    elif isinstance(cond, Not):
        yield from _iter_conditions(cond.not_)


def decision_conditions(decision: Decision) -> Iterator[Condition]:
    """Every condition node of a decision (applicability and rules)."""
    if decision.applies_when is not None:
        yield from _iter_conditions(decision.applies_when)
    for rule in decision.rules:
        yield from _iter_conditions(rule.when)


@dataclass
class _Raw:
    status: Status
    value: OutputValue
    rule: Rule | Otherwise | None
    used: set[str]
    missing: set[str]
    provisional: bool
    hits: list[Rule] = field(default_factory=list)
    hit_used: list[set[str]] = field(default_factory=list)


def _agreed_fields(rule: Rule, pending: list[Rule]) -> dict[str, Scalar | None] | None:
    """For a decision with named fields: the fields on which the first TRUE rule and every
    earlier UNKNOWN rule agree (others None); None when they agree on no field."""
    if not isinstance(rule.then, dict) or not all(isinstance(p.then, dict) for p in pending):
        return None
    agreed: dict[str, Scalar | None] = {
        k: v if all(p.then.get(k) == v for p in pending if isinstance(p.then, dict)) else None
        for k, v in rule.then.items()
    }
    if all(v is None for v in agreed.values()):
        return None
    return agreed


def _decision_fns(
    decision: Decision, cp: CompiledPack
) -> tuple[_Evaluator | None, tuple[tuple[Rule, _Evaluator], ...]]:
    """The compiled closures of a decision's applicability and rules, found once per pack (a
    decision is evaluated many times: once per assessment, and again and again while the
    answers still possible are searched)."""
    hit = cp.decision_fns.get(id(decision))
    if hit is not None and hit[0] is decision:
        return hit[1], hit[2]
    applies = (None if decision.applies_when is None
               else _evaluator(decision.applies_when, cp))
    rules = tuple((rule, _evaluator(rule.when, cp)) for rule in decision.rules)
    cp.decision_fns[id(decision)] = (decision, applies, rules)
    return applies, rules


def _raw_decide(
    decision: Decision,
    facts: Mapping[str, Fact],
    cp: CompiledPack,
    varied: AbstractSet[str] = frozenset(),
) -> _Raw:
    used: set[str] = set()
    provisional = False
    applies_fn, rule_fns = _decision_fns(decision, cp)
    if applies_fn is not None:
        app = applies_fn(facts, varied)
        used |= app.used
        provisional |= app.provisional
        if app.truth is Tri.FALSE:
            na = decision.not_applicable
            assert na is not None
            return _Raw("not_applicable", na.then, na, used, set(), provisional)
        if app.truth is Tri.UNKNOWN:
            return _Raw("unknown", None, None, used, set(app.missing), provisional)
    missing: set[str] = set()
    if decision.mode == "first":
        pending: list[Rule] = []  # earlier rules whose truth is unknown
        for rule, fn in rule_fns:
            ev = fn(facts, varied)
            used |= ev.used
            if ev.truth is Tri.TRUE:
                if all(p.then == rule.then for p in pending):
                    return _Raw("decided", rule.then, rule, used, set(),
                                provisional or ev.provisional)
                agreed = _agreed_fields(rule, pending) if decision.partial_fields else None
                if agreed is not None:
                    # Named fields every still-possible answer shares are known; the others
                    # stay unknown (None) with the facts that would settle them.
                    return _Raw("decided", agreed, rule, used, missing,
                                provisional or ev.provisional)
                return _Raw("unknown", None, None, used, missing, provisional)
            if ev.truth is Tri.UNKNOWN:
                pending.append(rule)
                missing |= ev.missing
        if pending:
            return _Raw("unknown", None, None, used, missing, provisional)
        ow = decision.otherwise
        if ow.unknown:
            return _Raw("unknown", None, ow, used, set(), provisional)
        return _Raw("decided", ow.then, ow, used, set(), provisional)
    hits: list[Rule] = []
    hit_used: list[set[str]] = []
    for rule, fn in rule_fns:
        ev = fn(facts, varied)
        used |= ev.used
        if ev.truth is Tri.TRUE:
            hits.append(rule)
            hit_used.append(set(ev.used))
            provisional |= ev.provisional
        elif ev.truth is Tri.UNKNOWN:
            missing |= ev.missing
    if hits:
        return _Raw("decided", [r.then for r in hits], hits[0], used, missing, provisional, hits,
                    hit_used)
    if missing:
        return _Raw("unknown", None, None, used, missing, provisional)
    ow = decision.otherwise
    if ow.unknown:
        return _Raw("unknown", None, ow, used, set(), provisional)
    value = ow.then
    return _Raw("decided", [] if value == "none" else [value], ow, used, set(), provisional)


def _assumed_fact(cp: CompiledPack, name: str, spec: Scalar | dict[str, Scalar]) -> Fact:
    if isinstance(spec, dict):
        reg = cp.registry.get(name)
        value = convert(float(spec["value"]), str(spec["unit"]),
                        reg.unit if reg and reg.unit else str(spec["unit"]))
        return Fact(value, reg.unit if reg else None, provisional=True)
    return Fact(spec, provisional=True)


_MAX_COMBINATIONS = 4096


def threshold_points(t: float) -> tuple[float, float, float]:
    """A number just below ``t``, ``t`` itself and one just above: a point of each side a
    comparison with ``t`` can tell apart (``<``, ``<=``, ``>=``, ``>``)."""
    eps = max(abs(t), 1.0) * 1e-6
    return (t - eps, t, t + eps)


def _candidates(decision: Decision, cp: CompiledPack, name: str) -> list[FactValue]:
    """The values of an absent fact worth trying: each threshold and a hair either side of it
    for a number, each declared or tested value (and one other) for a term."""
    spec = cp.registry.get(name)
    kind = spec.type if spec else "term"
    if kind == "bool":
        return [True, False]
    if kind == "number":
        points: set[float] = set()
        for c in decision_conditions(decision):
            if isinstance(c, Compare) and c.fact == name and c.table is None:
                points |= set(threshold_points(cp.thresholds[id(c)]))
        out: list[FactValue] = []
        out.extend(sorted(points))
        return out
    if kind == "set":
        members: list[FactValue] = [frozenset()]
        for c in decision_conditions(decision):
            if isinstance(c, Match) and c.fact == name:
                if c.contains is not None:
                    members.append(frozenset({c.contains}))
                if c.contains_any:
                    members.extend(frozenset({v}) for v in c.contains_any)
                if c.matches:
                    members.append(frozenset({c.matches.replace("*", "X")}))
        return list(dict.fromkeys(members))
    values: list[FactValue] = list(spec.values) if spec and spec.values else []
    for c in decision_conditions(decision):
        if isinstance(c, Match) and c.fact == name:
            if c.is_ is not None:
                values.append(c.is_)
            if c.in_:
                values.extend(c.in_)
    values.append("__other__")
    return list(dict.fromkeys(values))


def _representatives(
    decision: Decision, cp: CompiledPack, name: str, pool: list[FactValue]
) -> tuple[FactValue, ...]:
    """One value per class of candidates that every test of ``name`` in the decision treats
    alike: a number matters only by which side of each threshold it falls on, a term only by
    which tested values it equals. A fact that also picks a reference-table row (the table's
    age fact, sex) or is compared with a table threshold is kept whole."""
    leaves = _fact_leaves(decision, cp, name)
    if leaves is None:
        return tuple(pool)
    classes: dict[tuple[Tri, ...], FactValue] = {}
    for value in pool:
        probe = {name: Fact(value)}
        signature = tuple(evaluate_condition(c, probe, cp).truth for c in leaves)
        classes.setdefault(signature, value)
    return tuple(classes.values())


# (id(pack), id(decision), fact, registry size) -> (pack, decision, candidate count,
# representatives); the objects are kept so that a reused id never answers for another
# decision, and the size so that facts registered later (while packs load) are seen.
_CLASSES: dict[tuple[int, int, str, int],
               tuple[CompiledPack, Decision, int, tuple[FactValue, ...]]]
_CLASSES = {}
_REFERENCED: dict[int, tuple[Decision, frozenset[str]]] = {}
_PLANS: dict[int, tuple[Decision, _Plan]] = {}


@dataclass(frozen=True)
class _Plan:
    """What the search needs to know of a decision, worked out once."""

    rank: Mapping[str, int]  # fact -> position of its first test (applicability, then rules)
    answers: frozenset[Any] | None  # every answer it can give; None when unbounded (mode all)


def _plan(decision: Decision, cp: CompiledPack) -> _Plan:
    hit = _PLANS.get(id(decision))
    if hit is not None and hit[0] is decision:
        return hit[1]
    rank: dict[str, int] = {}
    for i, c in enumerate(decision_conditions(decision)):
        if isinstance(c, Compare | Match):
            rank.setdefault(c.fact, i)
            if isinstance(c, Compare) and c.table is not None:
                rank.setdefault(cp.tables[c.table].age_fact, i)
                rank.setdefault("sex", i)
        elif isinstance(c, Known):
            rank.setdefault(c.known, i)
    answers: frozenset[Any] | None = None
    if decision.mode == "first":
        thens: list[OutputValue] = [r.then for r in decision.rules]
        thens += [o.then for o in (decision.otherwise, decision.not_applicable)
                  if o is not None and not o.unknown]
        answers = frozenset(_primary(t) for t in thens)
        if decision.partial_fields:
            answers |= {None}  # a field the still-open rules disagree on
    plan = _Plan(rank, answers)
    if len(_PLANS) > 20_000:
        _PLANS.clear()
    _PLANS[id(decision)] = (decision, plan)
    return plan


def _value_classes(
    decision: Decision, cp: CompiledPack, name: str
) -> tuple[int, tuple[FactValue, ...]]:
    key = (id(cp), id(decision), name, len(cp.registry.specs))
    hit = _CLASSES.get(key)
    if hit is None or hit[0] is not cp or hit[1] is not decision:
        if len(_CLASSES) > 20_000:  # packs compiled again and again (tests): start afresh
            _CLASSES.clear()
        pool = _candidates(decision, cp, name)
        hit = (cp, decision, len(pool), _representatives(decision, cp, name, pool))
        _CLASSES[key] = hit
    return hit[2], hit[3]


def _primary(value: OutputValue) -> Any:
    if isinstance(value, dict):
        return next(iter(value.values()))
    if isinstance(value, list):
        return tuple(sorted(str(_primary(v)) for v in value))
    return value


def decision_reads(decision: Decision) -> frozenset[str]:
    """The facts a decision's conditions read (applicability and rules), worked out once."""
    hit = _REFERENCED.get(id(decision))
    if hit is not None and hit[0] is decision:
        return hit[1]
    names: set[str] = set()
    for c in decision_conditions(decision):
        if isinstance(c, Compare | Match):
            names.add(c.fact)
        elif isinstance(c, Known):
            names.add(c.known)
    if len(_REFERENCED) > 20_000:
        _REFERENCED.clear()
    _REFERENCED[id(decision)] = (decision, frozenset(names))
    return frozenset(names)


def _possible(
    decision: Decision, facts: Mapping[str, Fact], cp: CompiledPack, missing: set[str]
) -> tuple[Any, ...]:
    """Every answer the decision could still give over the absent facts' candidate values.

    All facts the decision reads and the store lacks are varied together (not only those
    the first pass reported), because an unknown applicability hides the rules behind it.
    The answer is the one trying every combination of candidates would give (and, as that
    did, empty beyond ``_MAX_COMBINATIONS`` combinations or when a fact has no candidate),
    found without trying them all: candidates a decision cannot tell apart are one class
    (:func:`_representatives`), and a partial assignment whose three-valued answer no longer
    depends on the facts still open settles every completion of it at once
    (:func:`_search`).
    """
    # absent facts, and numbers known only to lie among some values (Among), are varied
    names = sorted({n for n in decision_reads(decision)
                    if n not in facts or isinstance(facts[n].value, Among)} | missing)
    total = 1
    classes: dict[str, tuple[FactValue, ...]] = {}
    for n in names:
        held = facts.get(n)
        if held is not None and isinstance(held.value, Among):  # only the values it can take
            pool: list[FactValue] = list(held.value.values)
            size, reps = len(pool), _representatives(decision, cp, n, pool)
        else:
            size, reps = _value_classes(decision, cp, n)
        if size == 0:
            return ()
        total *= size
        classes[n] = reps
    if total > _MAX_COMBINATIONS:
        return ()
    varied = frozenset(names)
    store = {k: v for k, v in facts.items() if k not in varied}
    seen: dict[Any, None] = {}
    _search(decision, store, cp, classes, varied, seen, _plan(decision, cp))
    order = {v: i for i, v in enumerate(decision.values or ())}
    return tuple(sorted(seen, key=lambda v: (order.get(v, len(order)), str(v))))


def _deferred(
    decision: Decision, facts: Mapping[str, Fact], cp: CompiledPack, missing: set[str]
) -> Callable[[], tuple[Any, ...]]:
    """:func:`_possible` for later: bound to copies of the facts the decision reads (the
    store goes on growing as later decisions are stored) and of ``missing``.

    The answers are a function of what the decision can tell apart in those facts (which
    side of each threshold a number falls on, which tested value a term equals) and of the
    facts missing, so they are kept under that signature (:func:`_signature`) and shared by
    every assessment that asks the same question: two children whose ages and counts fall
    in the same bands while the same results are pending."""
    kept = {k: facts[k] for k in _search_reads(decision, cp) if k in facts}
    wanted = frozenset(missing)

    def search() -> tuple[Any, ...]:
        key = (id(cp), id(decision), len(cp.registry.specs), wanted,
               _signature(decision, cp, kept))
        hit = _ANSWERS.get(key)
        if hit is not None and hit[0] is cp and hit[1] is decision:
            return hit[2]
        found = _possible(decision, kept, cp, set(wanted))
        if len(_ANSWERS) > 20_000:  # a bounded memo
            _ANSWERS.clear()
        _ANSWERS[key] = (cp, decision, found)
        return found

    return search


# (id(pack), id(decision), registry size, missing facts, signature) -> (pack, decision,
# answers still possible); the objects are kept so that a reused id never answers for another
_ANSWERS: dict[tuple[Any, ...], tuple[CompiledPack, Decision, tuple[Any, ...]]] = {}
_LEAVES: dict[tuple[int, int, str], tuple[Decision, CompiledPack,
                                          tuple[Compare | Match, ...] | None]] = {}


def _fact_leaves(decision: Decision, cp: CompiledPack,
                 name: str) -> tuple[Compare | Match, ...] | None:
    """The tests of ``name`` in a decision, or None when a value is read whole (the fact
    picks a reference-table row, or is compared with a table threshold)."""
    key = (id(decision), id(cp), name)
    hit = _LEAVES.get(key)
    if hit is not None and hit[0] is decision and hit[1] is cp:
        return hit[2]
    leaves: list[Compare | Match] | None = []
    for c in decision_conditions(decision):
        if (isinstance(c, Compare) and c.table is not None
                and name in (c.fact, cp.tables[c.table].age_fact, "sex")):
            leaves = None
            break
        if isinstance(c, Compare | Match) and c.fact == name:
            assert leaves is not None
            leaves.append(c)
    found = None if leaves is None else tuple(leaves)
    if len(_LEAVES) > 20_000:
        _LEAVES.clear()
    _LEAVES[key] = (decision, cp, found)
    return found


def _signature(decision: Decision, cp: CompiledPack,
               facts: Mapping[str, Fact]) -> tuple[Any, ...]:
    """What a decision can tell apart in the facts present: per fact, the truth of each of
    its tests (the value itself where it is read whole). Two stores with the same signature
    give every condition of the decision the same truth, whatever the facts still open."""
    out: list[Any] = []
    for name in sorted(facts):
        leaves = _fact_leaves(decision, cp, name)
        value = facts[name].value
        if leaves is None:
            out.append((name, value))
        elif isinstance(value, Among):  # the classes of the values it can still take
            out.append((name, frozenset(
                tuple(evaluate_condition(c, {name: Fact(x)}, cp).truth.value for c in leaves)
                for x in value.values)))
        else:
            probe = {name: Fact(value)}
            out.append((name, tuple(evaluate_condition(c, probe, cp).truth.value
                                    for c in leaves)))
    return tuple(out)


_SEARCH_READS: dict[tuple[int, int], tuple[Decision, CompiledPack, frozenset[str]]] = {}


def _search_reads(decision: Decision, cp: CompiledPack) -> frozenset[str]:
    """The facts the search for a decision's possible answers reads: those its conditions
    test, and the age and sex that pick a reference-table row (worked out once)."""
    hit = _SEARCH_READS.get((id(decision), id(cp)))
    if hit is not None and hit[0] is decision and hit[1] is cp:
        return hit[2]
    tables = {f for c in decision_conditions(decision) if isinstance(c, Compare)
              and c.table is not None for f in (cp.tables[c.table].age_fact, "sex")}
    names = decision_reads(decision) | tables
    if len(_SEARCH_READS) > 20_000:
        _SEARCH_READS.clear()
    _SEARCH_READS[(id(decision), id(cp))] = (decision, cp, names)
    return names


def _reachable(
    decision: Decision, store: Mapping[str, Fact], cp: CompiledPack, varied: AbstractSet[str]
) -> set[Any]:
    """A superset of the answers a ``first`` decision can give over completions of ``store``:
    a rule's answer needs the rule not FALSE and no earlier rule TRUE."""
    out: set[Any] = set()
    if decision.partial_fields:
        out.add(None)
    applies_fn, rule_fns = _decision_fns(decision, cp)
    if applies_fn is not None:
        truth = applies_fn(store, varied).truth
        if truth is not Tri.TRUE:
            assert decision.not_applicable is not None
            out.add(_primary(decision.not_applicable.then))
        if truth is Tri.FALSE:
            return out
    for rule, fn in rule_fns:
        truth = fn(store, varied).truth
        if truth is Tri.FALSE:
            continue
        out.add(_primary(rule.then))
        if truth is Tri.TRUE:
            return out
    if not decision.otherwise.unknown:
        out.add(_primary(decision.otherwise.then))
    return out


def _search(
    decision: Decision,
    store: dict[str, Fact],
    cp: CompiledPack,
    classes: Mapping[str, tuple[FactValue, ...]],
    varied: frozenset[str],
    seen: dict[Any, None],
    plan: _Plan,
) -> bool:
    """Add to ``seen`` the answers of every completion of ``store`` over ``varied``.

    Three-valued evaluation is sound: what is TRUE or FALSE with the varied facts open
    stays so whatever values they take, and an unknown that lists none of them as missing
    stays unknown. So when the decision's missing facts include no open varied fact, every
    completion gives this answer; otherwise branch on the open fact tested first. Returns
    True once every answer the decision has is seen (nothing left to find).
    """
    raw = _raw_decide(decision, store, cp, varied)
    open_ = raw.missing & varied
    if not open_:
        if raw.status != "unknown":
            seen[_primary(raw.value)] = None
            return plan.answers is not None and len(seen) == len(plan.answers)
        return False
    if plan.answers is not None and _reachable(decision, store, cp, varied) <= seen.keys():
        return False  # nothing new below
    name = min(open_, key=lambda n: (plan.rank.get(n, len(plan.rank)), n))
    rest = varied - {name}
    done = False
    for value in classes[name]:
        store[name] = Fact(value)
        if _search(decision, store, cp, classes, rest, seen, plan):
            done = True
            break
    del store[name]
    return done


def evaluate_decision(
    decision: Decision,
    facts: Mapping[str, Fact],
    cp: CompiledPack,
    why_unknown: Mapping[str, tuple[str, ...]] | None = None,
) -> DecisionResult:
    """Evaluate one decision; ``why_unknown`` maps derived facts to the base facts they lack."""
    raw = _raw_decide(decision, facts, cp)
    provisional = raw.provisional
    provisional_reason = None
    missing = set(raw.missing)
    possible: Callable[[], tuple[Any, ...]] | tuple[Any, ...] = ()
    if raw.status == "unknown" and decision.provisional is not None:
        assumed = {
            name: _assumed_within(facts.get(name), _assumed_fact(cp, name, spec))
            for name, spec in decision.provisional.assume.items()
            if name not in facts or isinstance(facts[name].value, Among)
        }
        if assumed:
            trial = dict(facts)
            trial.update(assumed)
            again = _raw_decide(decision, trial, cp)
            possible = _deferred(decision, facts, cp, missing)
            provisional = True
            provisional_reason = decision.provisional.text(assumed)
            if again.status != "unknown":
                raw = again
                missing |= {n for n in assumed if n in again.used}
            else:
                missing |= again.missing
        elif missing:  # nothing to assume: the answers still possible are searched all the same
            possible = _deferred(decision, facts, cp, missing)
    elif raw.status == "unknown" and missing:
        possible = _deferred(decision, facts, cp, missing)
    base_missing: set[str] = set()
    for name in missing:
        base_missing |= set((why_unknown or {}).get(name, (name,)))
    rule = raw.rule
    if raw.hits:
        cite = tuple(dict.fromkeys(c for r in raw.hits for c in r.cite))
        evidence: Literal["confirmed", "unconfirmed"] = (
            "unconfirmed" if any(r.evidence == "unconfirmed" for r in raw.hits) else "confirmed"
        )
    elif rule is not None:
        cite, evidence = rule.cite, rule.evidence
    else:
        cite, evidence = (), "confirmed"
    inputs: dict[str, Any] = {}
    refs: list[str] = []
    for name in sorted(raw.used):
        f = facts.get(name)
        if f is None:
            continue
        inputs[name] = _plain_value(f.value)
        refs.extend(f.inputs)
    return DecisionResult(
        decision=decision.id,
        title=decision.title,
        pack=cp.id,
        pack_version=cp.version,
        output=decision.output,
        status=raw.status,
        value=raw.value if raw.status != "unknown" else (decision.unknown_value
                                                         if decision.unknown_value is not None
                                                         else None),
        rule_id=rule.id if rule is not None else None,
        cite=cite,
        evidence=evidence,
        scheme=decision.scheme,
        provisional=provisional and raw.status != "not_applicable",
        provisional_reason=provisional_reason,
        missing=tuple(sorted(base_missing)),
        search=possible,
        inputs=inputs,
        input_refs=tuple(dict.fromkeys(refs)),
        note=rule.note if rule is not None else None,
        hits=tuple((r.id, r.cite, r.evidence) for r in raw.hits),
        hit_inputs=tuple(
            {n: _plain_value(facts[n].value) for n in sorted(u) if n in facts}
            for u in raw.hit_used
        ),
        hit_refs=tuple(
            tuple(dict.fromkeys(r for n in sorted(u) if n in facts for r in facts[n].inputs))
            for u in raw.hit_used
        ),
    )


def _assumed_within(held: Fact | None, assumed: Fact) -> Fact:
    """The provisional assumption for a fact: the pack's value for an absent fact; for a
    number known only to lie among some values (:class:`Among`), the one of those values
    nearest the pack's (its best case among what the results allow)."""
    if held is None or not isinstance(held.value, Among) or isinstance(assumed.value, bool) \
            or not isinstance(assumed.value, int | float):
        return assumed
    target = float(assumed.value)
    nearest = min(held.value.values, key=lambda x: (abs(x - target), x))
    return Fact(nearest, held.unit, held.inputs, provisional=True)


def _plain_value(value: FactValue) -> Any:
    if isinstance(value, Among):
        return sorted(value.values)
    return sorted(value) if isinstance(value, frozenset) else value


def store_result(
    result: DecisionResult, facts: FactStore, why_unknown: dict[str, tuple[str, ...]]
) -> list[str]:
    """Write a decision's output into the fact store (unknown outputs stay absent); returns
    the names of the facts written."""
    targets: dict[str, FactValue | int | None] = {}
    if result.status == "unknown":
        why_unknown[result.output] = result.missing
        if isinstance(result.value, dict):  # a field decision: each field is unknown too
            for k in result.value:
                why_unknown[f"{result.output}.{k}"] = result.missing
        return []
    value = result.value
    if isinstance(value, dict):
        for k, field_value in value.items():
            targets[f"{result.output}.{k}"] = field_value
    elif isinstance(value, list):
        scalars = [v for v in value if isinstance(v, str | bool | int | float)]
        targets[result.output] = frozenset(str(v) for v in scalars)
    else:
        targets[result.output] = value
    written = []
    for name, v in targets.items():
        if v is None:
            why_unknown[name] = result.missing
            continue
        facts[name] = Fact(
            float(v) if isinstance(v, int) and not isinstance(v, bool) else v,
            inputs=result.input_refs,
            provisional=result.provisional,
        )
        written.append(name)
    return written


def fill_not_applicable(cp: CompiledPack, facts: FactStore) -> list[str]:
    """Give every absent fact that cannot apply its declared not-applicable value.

    A fact declares ``applies_when`` (and ``if_not_applicable``) in the fact registry: testes
    in a female patient, say. When the condition is FALSE for this patient the fact is never
    missing; it takes the stated value, with the reason as its input. Unknown applicability
    leaves the fact missing. Returns the names filled.
    """
    filled = []
    specs = cp.registry.specs
    conditional = cp.conditional_facts.get(len(specs))
    if conditional is None:  # once per registry size: packs add facts while they load
        conditional = tuple(
            (name, spec, spec.applies_when, spec.if_not_applicable)
            for name, spec in specs.items()
            if spec.if_not_applicable is not None and spec.applies_when is not None)
        cp.conditional_facts.clear()
        cp.conditional_facts[len(specs)] = conditional
    for name, spec, applies_when, value in conditional:
        if name in facts or specs.get(name) is not spec:  # filled, or since redeclared
            continue
        app = evaluate_condition(applies_when, facts, cp)
        if app.truth is Tri.FALSE:
            why = spec.not_applicable_note or f"{name} does not apply"
            facts[name] = Fact(value, inputs=(f"not applicable: {why}",),
                               provisional=app.provisional)
            filled.append(name)
    return filled


@dataclass(frozen=True)
class PackRun(Sequence[DecisionResult]):
    """What one pack concluded: its results in decision order, and the new fact store.

    ``facts`` is the input store plus every output the pack wrote and every not-applicable
    fact it filled; ``why_unknown`` likewise. The input store is left as it was. A
    ``PackRun`` reads as the sequence of its results (``for r in evaluate_pack(...)``).
    """

    results: tuple[DecisionResult, ...]
    facts: Mapping[str, Fact]
    why_unknown: Mapping[str, tuple[str, ...]]

    @overload
    def __getitem__(self, index: int) -> DecisionResult: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[DecisionResult, ...]: ...

    def __getitem__(self, index: int | slice) -> DecisionResult | tuple[DecisionResult, ...]:
        return self.results[index]

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[DecisionResult]:
        return iter(self.results)


def evaluate_pack(
    cp: CompiledPack,
    facts: Mapping[str, Fact],
    why_unknown: Mapping[str, tuple[str, ...]] | None = None,
) -> PackRun:
    """Evaluate every decision of a pack in order over a copy of ``facts``.

    Each decision reads the outputs of the decisions before it. Facts that cannot apply to
    this patient are filled first (:func:`fill_not_applicable`). Neither ``facts`` nor
    ``why_unknown`` is changed: the store after the pack comes back in the :class:`PackRun`.
    """
    store: dict[str, Fact] = dict(facts)
    why: dict[str, tuple[str, ...]] = dict(why_unknown) if why_unknown is not None else {}
    results = []
    fill_not_applicable(cp, store)
    watched = _applicability_reads(cp)
    for decision in cp.pack.decisions:
        res = evaluate_decision(decision, store, cp, why)
        written = store_result(res, store, why)
        if not watched.isdisjoint(written):  # it may settle whether a fact applies
            fill_not_applicable(cp, store)
        results.append(res)
    return PackRun(tuple(results), store, why)


def _applicability_reads(cp: CompiledPack) -> frozenset[str]:
    """The facts that the applicability of the registry's conditional facts reads (a
    decision writing one of them may make a fact not applicable); once per registry size."""
    specs = cp.registry.specs
    hit = cp.applicability_reads.get(len(specs))
    if hit is None:
        names: set[str] = set()
        for spec in specs.values():
            if spec.if_not_applicable is not None and spec.applies_when is not None:
                for c in _iter_conditions(spec.applies_when):
                    if isinstance(c, Compare | Match):
                        names.add(c.fact)
                    elif isinstance(c, Known):
                        names.add(c.known)
        hit = frozenset(names)
        cp.applicability_reads.clear()
        cp.applicability_reads[len(specs)] = hit
    return hit
