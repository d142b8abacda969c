"""A number known only to lie among some values (``Among``): how the engine reads it.

An MRD time point whose same-day results disagree, or whose negative result comes from too
coarse an assay, is stored as the values it can still take (``allpath.findings.mrd``). The
engine settles a test of it where every value agrees, leaves it unknown where they do not,
and never calls it known. Checked on the bundled COG risk decision's end-of-induction marrow
MRD test (at or above 0.01% [S4]); what this does to risk groups, possible groups and the
provisional group is checked on whole records in
``tests/clinical/test_mrd_sensitivity_and_discordance.py``, and the search for the answers
still possible against the enumeration in ``tests/test_engine_possible.py``."""

from __future__ import annotations

import pytest

from allpath.rules.engine import Tri, decision_conditions, evaluate_condition
from allpath.rules.facts import Among, Fact
from allpath.rules.loader import load_knowledge
from allpath.rules.schema import Compare, Known

_RISK = load_knowledge().pack("risk")
[_COG] = [d for d in _RISK.pack.decisions if d.id == "cog_pdq"]
_AT_OR_ABOVE = next(c for c in decision_conditions(_COG) if isinstance(c, Compare)
                    and c.fact == "mrd.eoi_marrow" and c.op == ">=")


def _mrd(*values: float) -> dict[str, Fact]:
    return {"mrd.eoi_marrow": Fact(Among(values), "%", ("observations[1]", "observations[2]"))}


def test_the_cog_test_compares_with_0_01_percent() -> None:
    assert _RISK.thresholds[id(_AT_OR_ABOVE)] == 0.01


@pytest.mark.parametrize(("values", "truth"), [
    ((0.06, 0.15), Tri.TRUE),      # both at or above 0.01%
    ((0.001, 0.005), Tri.FALSE),   # both below
    ((0.005, 0.15), Tri.UNKNOWN),  # one on each side
    ((0.01,), Tri.TRUE),           # exactly at the threshold
])
def test_a_threshold_test_is_settled_only_where_every_value_agrees(
        values: tuple[float, ...], truth: Tri) -> None:
    ev = evaluate_condition(_AT_OR_ABOVE, _mrd(*values), _RISK)
    assert ev.truth is truth
    assert set(ev.missing) == ({"mrd.eoi_marrow"} if truth is Tri.UNKNOWN else set())


def test_a_number_known_only_among_values_is_not_known() -> None:
    ev = evaluate_condition(Known(known="mrd.eoi_marrow"), _mrd(0.06, 0.15), _RISK)
    assert ev.truth is Tri.FALSE


def test_among_needs_a_value() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        Among(())
