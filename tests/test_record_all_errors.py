"""A record with several mistakes lists every one of them (README: "raises RecordError listing
every problem"), shape errors and catalogue errors together, with the paths of the record as
written; the command line prints at most a screenful and counts the rest."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from allpath.cli import commands  # noqa: F401  (registers the sub-commands)
from allpath.cli.app import app
from allpath.cli.common import MAX_PROBLEMS_SHOWN, problem_lines
from allpath.errors import Problem, RecordError
from allpath.record.load import load_yaml_text, parse_record

BASE: dict[str, Any] = {
    "format": "allpath.record/1",
    "id": "bad-1",
    "sex": "female",
    "birth_date": "2020-02-10",
    "diagnosis_date": "2024-05-03",
}


def _problems(doc: dict[str, Any]) -> dict[str, Problem]:
    with pytest.raises(RecordError) as info:
        parse_record(doc)
    return {p.path: p for p in info.value.problems}


def test_misspelt_sex_and_unknown_analyte_code_are_both_reported() -> None:
    doc = {**BASE, "sex": "femal",
           "observations": [{"code": "wcb", "value": 12400, "unit": "/uL",
                             "time": "2024-05-01"}]}
    problems = _problems(doc)
    assert set(problems) == {"sex", "observations[0].code"}
    assert "'femal'" in str(problems["sex"])
    assert "did you mean 'wbc'" in str(problems["observations[0].code"])


def test_entry_with_a_shape_error_keeps_the_indices_of_the_later_entries() -> None:
    doc = {**BASE, "observations": [
        {"code": "wbc", "value": 12.4, "unit": "10*9/L", "time": "2024-05-01", "extra": 1},
        {"code": "hgb", "value": 7.1, "unit": "g/dL", "time": "2024-05-01"},
        {"code": "hbg", "value": 7.1, "unit": "g/dL", "time": "2024-05-01"},
    ], "treatment": [{"phase": "inducton", "start": "2024-05-04"}, {"phase": "induction"}]}
    problems = _problems(doc)
    assert set(problems) == {"observations[0].extra", "observations[2].code",
                             "treatment[0].phase", "treatment[1].start"}


def test_problems_follow_the_order_of_the_record() -> None:
    doc = {**BASE, "colour": "blue", "sex": "femal",
           "genetics": {"fusions": ["ETV6-RUNX1"], "chromosome_count": 5},
           "observations": [{"code": "wcb", "value": 1, "unit": "10*9/L",
                             "time": "2024-05-01"}]}
    with pytest.raises(RecordError) as info:
        parse_record(doc)
    paths = [p.path for p in info.value.problems]
    assert paths == ["sex", "colour", "genetics.chromosome_count", "genetics.fusions[0]",
                     "observations[0].code"]


def test_date_that_does_not_exist_is_a_field_problem_beside_the_others() -> None:
    text = ("format: allpath.record/1\nid: d1\nsex: femal\nobservations:\n"
            "  - {code: wbc, value: 5, unit: 10*9/L, time: 2024-13-01}\n"
            "  - {code: wcb, value: 5, unit: 10*9/L, time: 2024-05-01}\n")
    problems = _problems(load_yaml_text(text))
    assert set(problems) == {"sex", "observations[0].time", "observations[1].code"}
    assert "2024-13-01" in str(problems["observations[0].time"])


def test_valid_record_still_loads_unchanged() -> None:
    rec = parse_record({**BASE, "observations": [
        {"code": "hgb", "value": 7.1, "unit": "g/dL", "time": "2024-05-01"}]})
    assert rec.observations[0].code == "hemoglobin"


def test_problem_list_is_capped_with_a_count_of_the_rest() -> None:
    problems = [Problem(f"observations[{i}].code", "unknown observation code")
                for i in range(MAX_PROBLEMS_SHOWN + 7)]
    lines = problem_lines(problems)
    assert len(lines) == MAX_PROBLEMS_SHOWN + 1
    assert lines[-1] == "  ... and 7 more"
    assert problem_lines(problems[:3]) == [f"  - {p}" for p in problems[:3]]


def test_cli_prints_every_problem_of_a_small_record_and_caps_a_long_list(tmp_path: Any
                                                                        ) -> None:
    few = tmp_path / "few.yaml"
    few.write_text("format: allpath.record/1\nid: f\nsex: femal\nobservations:\n"
                   "  - {code: wcb, value: 5, unit: 10*9/L, time: 2024-05-01}\n")
    result = CliRunner().invoke(app, ["assess", str(few)])
    assert result.exit_code == 2
    assert "2 problem(s)" in result.stderr
    assert "sex:" in result.stderr and "observations[0].code" in result.stderr
    many = tmp_path / "many.yaml"
    rows = "".join(f"  - {{code: bad{i}, value: 5, unit: 10*9/L, time: 2024-05-01}}\n"
                   for i in range(30))
    many.write_text("format: allpath.record/1\nid: m\nobservations:\n" + rows)
    result = CliRunner().invoke(app, ["assess", str(many)])
    assert result.exit_code == 2
    assert "30 problem(s)" in result.stderr
    assert result.stderr.count("\n  - ") == MAX_PROBLEMS_SHOWN
    assert f"... and {30 - MAX_PROBLEMS_SHOWN} more" in result.stderr
