"""The README's ``allpath simulate`` lines are run with ``--help`` only (they take minutes;
tests/test_examples_command.py), so their input files are checked here: each one exists, and
the two policies of ``simulate compare`` load (issue 17)."""

from __future__ import annotations

from allpath.sim.policy import load_policy
from test_examples_command import ROOT, readme_commands


def _simulate_lines() -> list[list[str]]:
    return [c for c in readme_commands() if c[0] == "simulate"]


def test_readme_lists_simulate_compare_with_two_example_policies() -> None:
    (compare,) = [c for c in _simulate_lines() if c[1] == "compare"]
    a, b = compare[2:4]
    assert compare[4:] == ["--n", "20000", "--seed", "1"]
    arms = [load_policy(ROOT / a), load_policy(ROOT / b)]
    assert arms[0].name != arms[1].name


def test_every_file_named_by_a_readme_simulate_line_exists() -> None:
    files = [w for c in _simulate_lines() for w in c if w.endswith((".yaml", ".yml"))]
    assert files
    for name in files:
        assert (ROOT / name).is_file(), name
