"""Problems read as plain text for people: no ``<root>``, no Python reprs; values are shown
as they came, text in plain quotes (issue 17)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from allpath import RecordError, parse_record
from allpath.cli import app
from allpath.cli.commands import app as _registered  # noqa: F401
from allpath.errors import Problem, UnknownRuleError, did_you_mean, shown
from allpath.interop.fhir.load import load_import

GOOD: dict[str, Any] = {
    "format": "allpath.record/1", "id": "t-1", "sex": "female", "birth_date": "2020-02-10",
    "diagnosis_date": "2024-05-03",
    "observations": [{"code": "wbc", "value": 62000, "unit": "/uL", "time": "2024-05-01"}],
}


@pytest.mark.parametrize(("value", "text"), [
    (None, "nothing"), (True, "true"), (False, "false"), (7, "7"), (4000.0, "4000"),
    (4.5, "4.5"), ("femal", "'femal'"), ("crohn's", "'crohn's'"), ("a\x00b", "'a\\x00b'"),
    ({"x": 1}, "a mapping"), ({}, "an empty mapping"), (["f"], "a list of 1"),
    ([], "an empty list"), (dt.date(2024, 1, 2), "2024-01-02"),
    (10**200, "a number of more than 80 digits"),
])
def test_a_value_is_shown_as_it_came_never_as_a_repr(value: object, text: str) -> None:
    assert shown(value) == text


def test_a_long_text_is_cut_to_the_limit_quotes_included() -> None:
    text = shown("x" * 10_000)
    assert len(text) == 80 and text.startswith("'xxx") and text.endswith("…'")


def test_a_problem_with_the_whole_input_has_no_made_up_path() -> None:
    assert str(Problem("", "file not found", got="x.yaml")) == "file not found, got x.yaml"
    assert str(Problem("", "the file has no header row", source="log.csv")) == \
        "log.csv: the file has no header row"
    assert str(Problem("sex", "unknown sex", got="'femal'")) == "sex: unknown sex, got 'femal'"


def test_a_field_of_the_wrong_shape_names_what_came_not_its_repr() -> None:
    rec = copy.deepcopy(GOOD)
    rec["sex"] = ["female"]
    rec["birth_date"] = {"year": 2020}
    rec["favourite_colour"] = None
    with pytest.raises(RecordError) as info:
        parse_record(rec)
    got = {p.path: p.got for p in info.value.problems}
    assert got["sex"] == "a list of 1"
    assert got["birth_date"] == "a mapping"
    assert got["favourite_colour"] == "nothing"
    assert not any("[" in str(p) or "{" in str(p) or "None" in str(p)
                   for p in info.value.problems), info.value.problems


def test_suggestions_and_unknown_rules_quote_names_plainly() -> None:
    assert did_you_mean("crohns", ["crohn's", "fever"]) == "did you mean 'crohn's'?"
    assert str(UnknownRuleError("risk.nci_hihg", ["risk.nci_high"])) == \
        "no rule with id 'risk.nci_hihg'; did you mean 'risk.nci_high'?"


@pytest.mark.parametrize(("name", "content", "got"), [
    ("list.json", [1, 2], "a JSON list of 2 items"),
    ("plain.json", {"id": "x"}, "a JSON mapping without format or resourceType"),
    ("patient.json", {"resourceType": "Patient", "id": "x"},
     "a FHIR Patient resource (resourceType: Patient)"),
    ("log.json", {"format": "allpath.maintenance-log/1"},
     "a mapping with format: 'allpath.maintenance-log/1'"),
    ("number.json", 42, "a single JSON value (42)"),
])
def test_a_file_neither_record_nor_bundle_is_said_what_it_is(
        tmp_path: Path, name: str, content: object, got: str) -> None:
    path = tmp_path / name
    path.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(RecordError) as info:
        load_import(path)
    (problem,) = info.value.problems
    assert problem.message == "neither a patient record nor a FHIR Bundle"
    assert problem.got == got


def test_the_cli_prints_a_whole_file_problem_in_plain_words(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    result = CliRunner().invoke(app, ["assess", str(empty)])
    assert result.exit_code == 2
    assert "  - neither a patient record nor a FHIR Bundle; expected format: " \
           "allpath.record/1 or resourceType: Bundle, got an empty file" in result.output
    assert "<root>" not in result.output and "None" not in result.output
