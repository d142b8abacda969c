"""The possible-answers search the engine used before it reasoned over threshold classes.

Kept here, unchanged in what it computes, as the oracle for
``tests/test_engine_possible.py``: it tries every combination of every absent fact's
candidate values (up to 4,096) and collects the answers the decision gives. The one
addition since: a number known only to lie among some values (``Among``, an MRD time point
whose same-day results disagree) is varied too, over those values.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from allpath.rules.engine import CompiledPack, _raw_decide, decision_conditions
from allpath.rules.facts import Among, Fact, FactValue
from allpath.rules.schema import Compare, Decision, Known, Match

MAX_COMBINATIONS = 4096


def candidates(decision: Decision, cp: CompiledPack, name: str) -> list[FactValue]:
    spec = cp.registry.get(name)
    kind = spec.type if spec else "term"
    if kind == "bool":
        return [True, False]
    if kind == "number":
        points: set[float] = set()
        for c in decision_conditions(decision):
            if isinstance(c, Compare) and c.fact == name and c.table is None:
                t = cp.thresholds[id(c)]
                eps = max(abs(t), 1.0) * 1e-6
                points |= {t - eps, t, t + eps}
        return sorted(points)
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


def primary(value: Any) -> Any:
    if isinstance(value, dict):
        return next(iter(value.values()))
    if isinstance(value, list):
        return tuple(sorted(str(primary(v)) for v in value))
    return value


def referenced(decision: Decision) -> set[str]:
    names: set[str] = set()
    for c in decision_conditions(decision):
        if isinstance(c, Compare | Match):
            names.add(c.fact)
        elif isinstance(c, Known):
            names.add(c.known)
    return names


def possible_by_enumeration(
    decision: Decision, facts: Mapping[str, Fact], cp: CompiledPack, missing: set[str],
    limit: int = MAX_COMBINATIONS,
) -> tuple[Any, ...]:
    """Every answer the decision could still give, trying each absent fact's boundaries."""
    among = {n: list(f.value.values) for n, f in facts.items()
             if n in referenced(decision) and isinstance(f.value, Among)}
    names = sorted((referenced(decision) - set(facts)) | missing | set(among))
    pools = [among[n] if n in among else candidates(decision, cp, n) for n in names]
    if any(not p for p in pools):
        return ()
    total = 1
    for p in pools:
        total *= len(p)
    if total > limit:
        return ()
    seen: dict[Any, None] = {}
    for combo in itertools.product(*pools):
        trial = dict(facts)
        for n, v in zip(names, combo, strict=True):
            trial[n] = Fact(v)
        raw = _raw_decide(decision, trial, cp)
        if raw.status == "decided" or raw.status == "not_applicable":
            seen[primary(raw.value)] = None
    order = {v: i for i, v in enumerate(decision.values or ())}
    return tuple(sorted(seen, key=lambda v: (order.get(v, len(order)), str(v))))
