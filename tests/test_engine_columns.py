"""Column-wise evaluation (sim/pathway.py over rules/vectorised.py) equals the row engine for
decisions with named output fields, not-applicable answers included."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from allpath.knowledge import knowledge_dir
from allpath.rules.engine import CompiledPack, evaluate_pack
from allpath.rules.facts import Fact
from allpath.rules.loader import load_packs
from allpath.rules.vectorised import Column
from allpath.sim.pathway import evaluate_pack_columns

# A male-only decision whose not-applicable answer is a field dictionary of its own, listed
# after the rules' dictionaries: code order and field order differ.
_PACK: dict[str, Any] = {
    "format": "allpath.rulepack/1", "id": "fieldtest", "version": "1.0.0", "title": "t",
    "stage": "risk", "order": 99, "description": "named fields with a not-applicable answer",
    "decisions": [{
        "id": "d", "title": "test decision", "output": "test.out",
        "fields": {"level": ["hi", "lo", "na"], "flag": None},
        "applies_when": {"fact": "sex", "is": "male"},
        "not_applicable": {"id": "t.na", "then": {"level": "na", "flag": "skip"},
                           "cite": ["S4"]},
        "rules": [{"id": "t.hi", "when": {"fact": "wbc.dx", "op": ">=", "value": 50,
                                         "unit": "10*9/L"},
                   "then": {"level": "hi", "flag": "check"}, "cite": ["S4"]}],
        "otherwise": {"id": "t.lo", "then": {"level": "lo", "flag": "none"}, "cite": ["S4"]},
    }],
    "examples": [{"name": "girl", "given": {"sex": "female", "wbc.dx": 60},
                  "expect": {"test.out.level": "na"}}],
}

# rows: (sex or None, wbc.dx or None)
_ROWS: list[tuple[str | None, float | None]] = [
    ("male", 60.0), ("male", 10.0), ("female", 60.0), ("female", 10.0), (None, 60.0),
    ("male", None), ("female", None), (None, None),
]
_SEXES = ("female", "male")


def _pack(tmp_path: Path) -> CompiledPack:
    for f in (knowledge_dir() / "packs").glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "99-fieldtest.yaml").write_text(yaml.safe_dump(_PACK), encoding="utf-8")
    knowledge, problems = load_packs(tmp_path)
    assert problems == [], problems
    return knowledge.pack("fieldtest")


def _row_fields(cp: CompiledPack, sex: str | None, wbc: float | None) -> dict[str, Any]:
    facts: dict[str, Fact] = {}
    if sex is not None:
        facts["sex"] = Fact(sex)
    if wbc is not None:
        facts["wbc.dx"] = Fact(wbc, "10*9/L")
    after = evaluate_pack(cp, facts).facts
    return {k: after[f"test.out.{k}"].value if f"test.out.{k}" in after else None
            for k in ("level", "flag")}


def _column_fields(cp: CompiledPack) -> list[dict[str, Any]]:
    n = len(_ROWS)
    sex_known = np.array([s is not None for s, _ in _ROWS])
    sex = Column.term([_SEXES.index(s) if s is not None else 0 for s, _ in _ROWS], _SEXES,
                      sex_known)
    wbc = Column.number([np.nan if w is None else w for _, w in _ROWS])
    cols: dict[str, Column] = {"sex": sex, "wbc.dx": wbc}
    evaluate_pack_columns(cp, cols, n)
    out: list[dict[str, Any]] = [{} for _ in range(n)]
    for k in ("level", "flag"):
        col = cols[f"test.out.{k}"]
        assert col.values is not None
        for i in range(n):
            out[i][k] = col.vocab[col.values[i]] if col.known[i] else None
    return out


def test_columns_give_a_not_applicable_field_answer_as_the_row_engine_does(
        tmp_path: Path) -> None:
    cp = _pack(tmp_path)
    rows = [_row_fields(cp, s, w) for s, w in _ROWS]
    assert rows[2] == {"level": "na", "flag": "skip"}  # the row engine: a girl is n/a
    assert rows[0] == {"level": "hi", "flag": "check"}
    assert rows[4] == {"level": None, "flag": None}  # sex unknown: unknown
    assert _column_fields(cp) == rows


def test_field_codes_read_each_rows_own_field_dictionary(tmp_path: Path) -> None:
    cp = _pack(tmp_path)
    n = len(_ROWS)
    sex = Column.term([_SEXES.index(s) if s is not None else 0 for s, _ in _ROWS], _SEXES,
                      np.array([s is not None for s, _ in _ROWS]))
    wbc = Column.number([np.nan if w is None else w for _, w in _ROWS])
    res = evaluate_pack_columns(cp, {"sex": sex, "wbc.dx": wbc}, n)["test.out"]
    vocab = ("hi", "lo", "na")
    got = [vocab[c] if c >= 0 else None for c in res.field_codes("level", vocab)]
    want = [_row_fields(cp, s, w)["level"] for s, w in _ROWS]
    assert got == want
