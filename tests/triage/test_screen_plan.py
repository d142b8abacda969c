"""The compiled decision plan behind the screen agrees exactly with the column evaluator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_triage_screen import _random_rows

from allpath.rules.engine import _table_threshold
from allpath.rules.facts import Fact
from allpath.rules.loader import load_knowledge
from allpath.rules.vectorised import Column, evaluate_pack_vectorised
from allpath.rules.vectorised_plan import DecisionPlan, table_lookup
from allpath.screen import Screener, screen_file
from allpath.screen.core import TARGETS


def _with_bad_values(table: pa.Table, seed: int) -> pa.Table:
    """Text columns with blanks, words, impossible values, unknown sexes and per-row units."""
    rng = np.random.default_rng(seed)
    n = table.num_rows
    cols: dict[str, Any] = {}
    for name in table.column_names:
        values = [None if v is None else str(v) for v in table.column(name).to_pylist()]
        if name in ("wbc", "hemoglobin", "platelets", "anc", "blasts_pct", "age_years"):
            for i in np.flatnonzero(rng.random(n) < 0.01):
                values[i] = str(rng.choice(["", "abc", "-3", "1e9", " 5 "]))
        if name == "sex":
            for i in np.flatnonzero(rng.random(n) < 0.01):
                values[i] = str(rng.choice(["X", "", "unknown"]))
        cols[name] = pa.array(values, pa.string())
    cols["platelets_unit"] = pa.array(
        rng.choice(["", "10*9/L", "/uL", "furlongs"], n, p=[0.7, 0.2, 0.05, 0.05]).tolist())
    # a per-row unit of /uL means the value is in /uL: scale those rows
    return pa.table(cols)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compiled_screen_equals_generic_evaluator(seed: int) -> None:
    table = _random_rows(4000, seed=seed)
    if seed == 3:
        table = _with_bad_values(table, seed)
    if seed == 2:
        table = table.drop_columns(["blasts_pct"])
    fast, slow = Screener(), Screener(compiled=False)
    a, b = fast.screen(table, 10), slow.screen(table, 10)
    assert a.table.to_pylist() == b.table.to_pylist()
    assert a.bad.to_pylist() == b.bad.to_pylist()
    assert (a.rows, a.bad_rows, a.flagged, a.by_suspicion, a.by_reason) == (
        b.rows, b.bad_rows, b.flagged, b.by_suspicion, b.by_reason)
    # a second chunk reuses the evaluated keys and still agrees
    again = fast.screen(table.slice(100, 500), 0)
    assert again.table.to_pylist() == slow.screen(table.slice(100, 500), 0).table.to_pylist()


def _facts(n: int, seed: int) -> dict[str, Column]:
    rng = np.random.default_rng(seed)
    facts: dict[str, Column] = {}
    for name, points in (("hemoglobin.dx", [6, 8, 10, 11.5, 12, 13, 14.5]),
                         ("anc.dx", [0.5, 1.0, 1.5, 1.7]),
                         ("platelets.dx", [25, 50, 75, 150]),
                         ("wbc.dx", [4, 4.5, 6, 9, 100]),
                         ("blood_blasts.dx", [0, 0.5])):
        v = rng.choice(points, n) + np.where(rng.random(n) < 0.5, 0, rng.normal(0, 1, n))
        known = rng.random(n) < 0.9
        facts[name] = Column.number(np.where(known, v, np.nan))
    days = np.where(rng.random(n) < 0.5, rng.choice([0, 7, 14, 28, 30, 91, 183, 366, 731, 1826,
                                                     2192, 4383, 6575], n),
                    rng.uniform(0, 30000, n)).round()
    age_known = rng.random(n) < 0.95
    facts["age.days"] = Column.number(days, age_known)
    facts["sex"] = Column.term(rng.integers(0, 2, n), ("female", "male"), rng.random(n) < 0.9)
    return facts


@pytest.mark.parametrize("dense_limit", [1 << 24, 1])
def test_plan_equals_column_evaluator_with_missing_facts(dense_limit: int) -> None:
    kb = load_knowledge()
    packs = (kb.pack("findings"), kb.pack("triage"))
    plan = DecisionPlan(packs, TARGETS, dense_limit=dense_limit)
    assert plan.dense == (dense_limit > 1)
    n = 20_000
    facts = _facts(n, seed=4)
    got = plan.evaluate(facts, n)
    store = dict(facts)
    want = {}
    for cp in packs:
        for r in evaluate_pack_vectorised(cp, store, n, plan_ids(plan)):
            want[r.output] = r
    assert plan.n_slots < n  # rows share keys
    for out in TARGETS:
        g, w = got[out], want[out]
        assert np.array_equal(g.status, w.status), out
        assert np.array_equal(g.rule_index, w.rule_index), out
        if w.value is not None:
            assert g.value is not None
            gv = np.array([g.values[i] if i >= 0 else None for i in g.value], dtype=object)
            wv = np.array([w.values[i] if i >= 0 else None for i in w.value], dtype=object)
            assert (gv == wv).all(), out
        for m in set(g.members) | set(w.members):
            assert np.array_equal(g.members.get(m, np.zeros(n, bool)),
                                  w.members.get(m, np.zeros(n, bool))), (out, m)


def plan_ids(plan: DecisionPlan) -> set[str]:
    return {d.id for _, d in plan.steps}


def test_table_lookup_matches_the_engine_on_every_table() -> None:
    kb = load_knowledge()
    rng = np.random.default_rng(9)
    n = 3000
    for cp in (kb.pack("findings"), kb.pack("triage")):
        for name, table in cp.tables.items():
            edges = [e for r in table.rows for e in (r.age_from, r.age_to) if e is not None]
            ages = np.concatenate([edges, np.array(edges) - 0.5, rng.uniform(-5, 40000, n),
                                   [np.nan]])
            m = len(ages)
            sexes = rng.integers(0, 3, m)  # 2: unknown
            facts = {table.age_fact: Column.number(ages),
                     "sex": Column.term(np.minimum(sexes, 1), ("female", "male"), sexes < 2)}
            thr, ok = table_lookup(cp, name, facts, m)
            for i in range(m):
                one = {} if np.isnan(ages[i]) else {table.age_fact: Fact(float(ages[i]))}
                if sexes[i] < 2:
                    one["sex"] = Fact(("female", "male")[sexes[i]])
                want, _ = _table_threshold(cp, name, one)
                assert (want is None) == (not ok[i]), (name, ages[i], sexes[i])
                if want is not None:
                    assert thr[i] == want, (name, ages[i], sexes[i])


def test_threaded_screen_is_identical(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(_random_rows(5000, seed=8), src, row_group_size=700)
    one, two = tmp_path / "one.parquet", tmp_path / "two.parquet"
    a = screen_file(src, one, chunk_size=700, progress=False, threads=1)
    b = screen_file(src, two, chunk_size=700, progress=False, threads=2)
    assert pq.read_table(one).to_pylist() == pq.read_table(two).to_pylist()
    assert a.to_dict() == b.to_dict()


def test_errors_while_reading_in_the_background_reach_the_caller(tmp_path: Path) -> None:
    from allpath.screen import ScreenError

    src = tmp_path / "in.csv"
    src.write_text("patient_id,age_years,sex,time,wbc\na,5,F,2024-06-01,7\n", encoding="utf-8")
    with pytest.raises(ScreenError, match="required column"):
        screen_file(src, tmp_path / "out.csv", progress=False)


def test_representatives_evaluate_once_per_key() -> None:
    table = _random_rows(3000, seed=12)
    screener = Screener()
    first = screener.screen(table)
    assert screener.plan is not None
    slots = screener.plan.n_slots
    assert 0 < slots < table.num_rows
    again = screener.screen(table, 3000)  # nothing new to evaluate
    assert screener.plan.n_slots == slots
    assert again.table.column("suspicion").to_pylist() == \
        first.table.column("suspicion").to_pylist()
