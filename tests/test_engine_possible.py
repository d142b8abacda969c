"""The answers still possible: the class search gives what trying every combination gave.

The engine lists the answers an unknown decision could still give by three-valued search over
classes of candidate values (``rules.engine._possible``). The oracle is the enumeration it
replaced (``tests/engine_oracle.py``). Both run on every call the pathway, monitoring,
roadmap and titration stages make for the bundled examples, the shared pathway vignettes and
the independent clinical cases, on every bundled pack's worked examples, and on seeded random
variants of all of these with facts taken away.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import allpath
from allpath.examples import example_paths
from allpath.rules import engine
from allpath.rules.engine import CompiledPack, _raw_decide
from allpath.rules.facts import Fact
from allpath.rules.loader import _given_fact, load_knowledge
from allpath.rules.schema import Decision
from engine_oracle import possible_by_enumeration, referenced
from support import load_yaml, shared_dir

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Site:
    where: str
    decision: Decision
    facts: Mapping[str, Fact]
    cp: CompiledPack
    missing: frozenset[str]


def _record_docs() -> list[tuple[str, dict[str, Any]]]:
    docs = [(p.stem, load_yaml(p.read_text(encoding="utf-8"))) for p in example_paths()]
    folders = [HERE / "clinical" / "independent_cases"]
    # review I's cases hold MRD time points their results cannot settle (Among facts)
    for p in sorted((HERE / "clinical" / "review_i").glob("ri*.yaml")):
        docs.append((p.stem, load_yaml(p.read_text(encoding="utf-8"))["record"]))
    shared = shared_dir()
    if shared is not None:
        folders.append(shared / "vignettes" / "pathway")
    for folder in folders:
        for p in sorted(folder.glob("*.yaml")):
            docs.append((p.stem, load_yaml(p.read_text(encoding="utf-8"))["record"]))
    return docs


def _sites() -> Iterator[Site]:
    """Every question the stages put to ``_possible`` for the records, then for the
    examples: each call to ``_deferred``, which binds the search for when the answers are
    first read (whether or not an output reads them)."""
    real = engine._deferred
    calls: list[Site] = []
    where = ""

    def spy(decision: Decision, facts: Mapping[str, Fact], cp: CompiledPack,
            missing: set[str]) -> Any:
        calls.append(Site(where, decision, dict(facts), cp, frozenset(missing)))
        return real(decision, facts, cp, missing)

    engine._deferred = spy  # type: ignore[assignment]
    try:
        for name, doc in _record_docs():
            where = name
            allpath.assess(allpath.parse_record(doc)).to_dict()
        kb = load_knowledge()
        for cp in kb.packs:
            for ex in cp.pack.examples:
                where = f"{cp.id} example {ex.name!r}"
                facts = {k: _given_fact(kb.registry, k, v) for k, v in ex.given.items()}
                engine.evaluate_pack(cp, facts)
    finally:
        engine._deferred = real  # type: ignore[assignment]
    yield from calls


@functools.cache
def _all_sites() -> tuple[Site, ...]:
    return tuple(_sites())


def _distinct_sites() -> list[Site]:
    """The calls that ask a different question: the stages repeat some calls (the same
    decision over the same facts with the same facts missing, e.g. a pack that two stages
    evaluate for one record), and both searches are pure functions of these arguments, so a
    repeat checks nothing new. The first record that asked each question names it."""
    seen: dict[tuple[int, int, str, frozenset[str]], Site] = {}
    for s in _all_sites():
        key = (id(s.cp), id(s.decision), repr(sorted(s.facts.items())), s.missing)
        seen.setdefault(key, s)
    return list(seen.values())


def test_the_stages_ask_for_possible_answers_often_enough_to_test() -> None:
    sites = _distinct_sites()
    assert len(sites) >= 100, len(sites)
    assert len({s.decision.id for s in sites}) >= 15
    assert any(engine._possible(s.decision, s.facts, s.cp, set(s.missing)) for s in sites)


def test_possible_answers_equal_the_enumeration_on_every_stage_call() -> None:
    wrong = []
    for s in _distinct_sites():
        new = engine._possible(s.decision, s.facts, s.cp, set(s.missing))
        old = possible_by_enumeration(s.decision, s.facts, s.cp, set(s.missing))
        if new != old:
            wrong.append(f"{s.where} {s.cp.id}/{s.decision.id}: {new} != {old}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("seed", range(3))
def test_possible_answers_equal_the_enumeration_with_facts_taken_away(seed: int) -> None:
    """Seeded random: drop each fact a decision reads with probability 1/2, on every decision
    of every pack, over the final fact stores of eight records drawn at random."""
    rng = random.Random(seed)
    kb = load_knowledge()
    stores = {}
    for s in _all_sites():  # the last store seen per record holds the most facts
        stores[s.where] = s.facts
    checked = informative = 0
    wrong = []
    for where in rng.sample(sorted(stores), 8):
        store = stores[where]
        for cp in kb.packs:
            for decision in cp.pack.decisions:
                facts = {k: v for k, v in store.items()
                         if k not in referenced(decision) or rng.random() < 0.5}
                missing = _raw_decide(decision, facts, cp).missing
                new = engine._possible(decision, facts, cp, set(missing))
                old = possible_by_enumeration(decision, facts, cp, set(missing))
                checked += 1
                informative += len(old) > 1
                if new != old:
                    wrong.append(f"{where} {cp.id}/{decision.id}: {new} != {old}")
    assert not wrong, "\n".join(wrong[:20])
    assert informative >= 10, (checked, informative)


def test_the_deferred_search_reads_a_copy_of_the_facts_of_that_moment() -> None:
    """The answers still possible are worked out when first read, from the facts as they
    were when the decision was made: facts stored later (by the decisions after it, or by
    the caller) change nothing."""
    s = next(s for s in _distinct_sites()
             if engine._possible(s.decision, s.facts, s.cp, set(s.missing)))
    store = dict(s.facts)
    result = engine.evaluate_decision(s.decision, store, s.cp)
    expected = engine._possible(s.decision, s.facts, s.cp, set(s.missing))
    for name in engine.decision_reads(s.decision):
        store[name] = Fact("__changed__")
    assert result.possible == expected
    assert result.possible is result.possible  # worked out once, then kept


def test_the_shared_answers_equal_the_search_for_every_question_asked() -> None:
    """The answers are kept under what the decision can tell apart in the facts (which side
    of each threshold, which tested value) and shared between assessments: every question
    the stages ask, answered through that memo in one shared run (so that questions with
    the same signature meet), equals the search run on its own facts; and on variants with
    every number moved by a hair, which changes no threshold side but every value."""
    sites = _distinct_sites()
    engine._ANSWERS.clear()
    wrong = []
    for s in sites:
        shared = engine._deferred(s.decision, s.facts, s.cp, set(s.missing))()
        alone = engine._possible(s.decision, s.facts, s.cp, set(s.missing))
        if shared != alone:
            wrong.append(f"{s.where} {s.cp.id}/{s.decision.id}: {shared} != {alone}")
    hits_before = len(engine._ANSWERS)
    for s in sites:
        nudged = {k: Fact(v.value * (1 + 1e-9), v.unit, v.inputs, v.provisional)
                  if isinstance(v.value, float) and v.value not in _thresholds(s) else v
                  for k, v in s.facts.items()}
        shared = engine._deferred(s.decision, nudged, s.cp, set(s.missing))()
        alone = engine._possible(s.decision, nudged, s.cp, set(s.missing))
        if shared != alone:
            wrong.append(f"nudged {s.where} {s.cp.id}/{s.decision.id}: {shared} != {alone}")
    assert not wrong, "\n".join(wrong)
    assert len(engine._ANSWERS) < 2 * hits_before  # the nudged questions mostly met again


def _thresholds(s: Site) -> set[float]:
    return {s.cp.thresholds[id(c)] for c in engine.decision_conditions(s.decision)
            if isinstance(c, engine.Compare) and c.table is None}
