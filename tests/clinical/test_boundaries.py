"""Generated boundary tests: every numeric threshold in every pack, at, just below and just above.

The side a value exactly at the threshold belongs to is taken from the source text and kept in
tests/clinical/boundaries.yaml (one entry per pack, fact and threshold, with the source words).
For each comparison in each pack the test checks that its operator puts the boundary on that
side, and evaluates the comparison with the value given in the unit the pack states (so unit
conversion at the boundary is exercised): at the threshold, 1e-6 below and 1e-6 above. A new
threshold without an entry fails until its side is written down from its source.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from allpath.rules.engine import CompiledPack, Tri, _iter_conditions, evaluate_condition
from allpath.rules.facts import Fact
from allpath.rules.loader import load_knowledge
from allpath.rules.schema import Compare
from allpath.units import convert
from support import load_yaml

_REGISTRY = load_yaml((Path(__file__).parent / "boundaries.yaml").read_text("utf-8"))
_ENTRIES = {(e["pack"], e["fact"], float(e["value"]), str(e["unit"])): e
            for e in _REGISTRY["thresholds"]}


def _comparisons() -> list[tuple[CompiledPack, str, Compare]]:
    out = []
    for cp in load_knowledge().packs:
        for d in cp.pack.decisions:
            owners: list[tuple[str, Any]] = []
            if d.applies_when is not None:
                owners.append((f"{d.id} (applies_when)", d.applies_when))
            owners += [(r.id, r.when) for r in d.rules]
            for owner, cond in owners:
                for c in _iter_conditions(cond):
                    if isinstance(c, Compare) and c.value is not None and c.op not in ("==",
                                                                                      "!="):
                        out.append((cp, owner, c))
    return out


_CASES = _comparisons()


def _side(cp: CompiledPack, owner: str, c: Compare) -> str:
    entry = _ENTRIES.get((cp.id, c.fact, float(c.value or 0), str(c.unit)))
    assert entry is not None, (
        f"{cp.id}: {owner}: threshold {c.fact} {c.op} {c.value} {c.unit} has no entry in "
        "tests/clinical/boundaries.yaml; write its side from the source text")
    # "rules" names the rules whose source puts the boundary on the other side (schemes that
    # disagree); "per_rule" entries list every rule.
    return str(entry.get("rules", {}).get(owner, entry["side"]))


def test_every_registry_entry_is_still_used() -> None:
    used = {(cp.id, c.fact, float(c.value or 0), str(c.unit)) for cp, _, c in _CASES}
    assert set(_ENTRIES) <= used, sorted(set(_ENTRIES) - used)


@pytest.mark.parametrize(("cp", "owner", "cond"), _CASES,
                         ids=[f"{cp.id}:{o}:{c.fact}{c.op}{c.value:g}" for cp, o, c in _CASES])
def test_threshold_at_just_below_and_just_above(cp: CompiledPack, owner: str,
                                                cond: Compare) -> None:
    side = _side(cp, owner, cond)
    upper = cond.op in (">=", ">")  # the rule selects values above the threshold
    if side == "at_or_above":
        assert cond.op in (">=", "<"), f"{owner}: the source puts the boundary above ({side})"
    else:
        assert cond.op in (">", "<="), f"{owner}: the source puts the boundary below ({side})"
    spec = cp.registry.get(cond.fact)
    assert spec is not None and spec.unit is not None
    t = float(cond.value or 0)
    eps = max(abs(t), 1.0) * 1e-6
    for stated, expect_upper in ((t - eps, False), (t, side == "at_or_above"),
                                 (t + eps, True)):
        value = convert(stated, str(cond.unit), spec.unit)
        got = evaluate_condition(cond, {cond.fact: Fact(value, spec.unit)}, cp).truth
        want = Tri.TRUE if expect_upper == upper else Tri.FALSE
        assert got is want, f"{owner}: {cond.fact}={stated:g} {cond.unit}: got {got}"
