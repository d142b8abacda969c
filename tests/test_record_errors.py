"""Bad records get clear errors naming the field, what was expected and what came."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from allpath import RecordError, load_record, parse_record
from allpath.cli import app
from allpath.cli.commands import app as _registered  # noqa: F401
from allpath.record.load import MAX_OBSERVATIONS, load_yaml_text

GOOD: dict[str, Any] = {
    "format": "allpath.record/1",
    "id": "t-1",
    "sex": "female",
    "birth_date": "2020-02-10",
    "diagnosis_date": "2024-05-03",
    "observations": [
        {"code": "wbc", "value": 62000, "unit": "/uL", "time": "2024-05-01"},
        {"code": "hemoglobin", "value": 7.1, "unit": "g/dL", "time": "2024-05-01"},
        {"code": "marrow_blasts", "value": 88, "unit": "%", "time": "2024-05-03"},
    ],
}


def _problems(record: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(RecordError) as info:
        parse_record(record)
    return [(p.path, str(p)) for p in info.value.problems]


def _with(path: str, value: Any) -> dict[str, Any]:
    rec = copy.deepcopy(GOOD)
    target: Any = rec
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return rec


def test_good_record_parses() -> None:
    assert parse_record(GOOD).id == "t-1"


def test_unknown_field_is_named() -> None:
    rec = copy.deepcopy(GOOD)
    rec["favourite_colour"] = "blue"
    assert _problems(rec) == [("favourite_colour", "favourite_colour: unknown field, got 'blue'")]


def test_unknown_code_suggests_the_nearest() -> None:
    [(path, text)] = _problems(_with("observations[0].code", "wcb"))
    assert path == "observations[0].code"
    assert "did you mean 'wbc'" in text


def test_unparseable_unit_is_named() -> None:
    [(path, text)] = _problems(_with("observations[0].unit", "bananas/uL"))
    assert path == "observations[0].unit"
    assert "bananas/uL" in text and "10*9/L" in text


def test_incompatible_unit_is_named() -> None:
    [(path, text)] = _problems(_with("observations[1].unit", "10*9/L"))
    assert path == "observations[1].unit"
    assert "does not fit hemoglobin" in text


def test_missing_unit_is_never_assumed() -> None:
    [(path, text)] = _problems(_with("observations[1].unit", None))
    assert path == "observations[1].unit"
    assert "never assumed" in text


def test_implausible_value_is_rejected() -> None:
    [(path, text)] = _problems(_with("observations[1].value", 71))
    assert path == "observations[1].value"
    assert "plausible" in text and "71 g/dL" in text


def test_dates_in_the_wrong_order() -> None:
    [(path, text)] = _problems(_with("diagnosis_date", "2019-01-01"))
    assert path == "diagnosis_date"
    assert "before birth" in text


def test_wrong_types_are_named() -> None:
    problems = _problems(_with("birth_date", "last spring"))
    assert problems[0][0] == "birth_date"
    problems = _problems(_with("observations[0].value", [1, 2]))
    assert problems[0][0] == "observations[0].value"


def test_all_problems_are_reported_at_once() -> None:
    rec = _with("observations[0].code", "wcb")
    rec["observations"][1]["value"] = 71
    rec["symptoms"] = ["feverr"]
    rec["immunophenotype"] = {"markers": {"CD19": "positive", "CD999": "positive"}}
    paths = {p for p, _ in _problems(rec)}
    assert paths == {
        "observations[0].code",
        "observations[1].value",
        "symptoms[0]",
        "immunophenotype.markers.CD999",
    }


def test_wrong_format_is_named() -> None:
    rec = _with("format", "allpath.record/9")
    [(path, text)] = _problems(rec)
    assert path == "format" and "allpath.record/1" in text


def test_malformed_yaml_is_a_record_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: allpath.record/1\nid: [unclosed\n", encoding="utf-8")
    with pytest.raises(RecordError, match="malformed YAML"):
        load_record(bad)


def test_malformed_json_is_a_record_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "allpath.record/1", ', encoding="utf-8")
    with pytest.raises(RecordError, match="malformed JSON"):
        load_record(bad)


def test_fusion_must_be_written_with_double_colon() -> None:
    rec = copy.deepcopy(GOOD)
    rec["genetics"] = {"fusions": ["ETV6-RUNX1"]}
    [(path, text)] = _problems(rec)
    assert path == "genetics.fusions[0]" and "GENE1::GENE2" in text


def test_cli_prints_problems_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "format: allpath.record/1\nid: x\nobservations:\n"
        "  - {code: hemoglobin, value: 71, unit: g/dL, time: 2024-01-01}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["assess", str(bad)])
    assert result.exit_code == 2
    assert "observations[0].value" in result.output
    assert "Traceback" not in result.output


def test_undated_observation_is_rejected_not_placed_on_a_guessed_day() -> None:
    [(path, text)] = _problems(_with("observations[0].time", None))
    assert path == "observations[0].time"
    assert "date" in text


def test_a_record_over_the_observation_cap_is_refused_before_any_is_checked(
        tmp_path: Path) -> None:
    """The 3,000-observation cap is the record layer's: the CLI (and the web page) refuse
    what the API refuses, quickly (benchmarks/hardening.py: a 1 MB YAML record of 15,601
    observations took 3-4 s through ``allpath assess`` before)."""
    row = {"code": "wbc", "value": 4.2, "unit": "10*9/L", "time": "2024-05-10"}
    over = {**GOOD, "observations": [row] * (MAX_OBSERVATIONS + 1)}
    [(path, text)] = _problems(over)
    assert path == "observations" and f"at most {MAX_OBSERVATIONS}" in text
    assert str(MAX_OBSERVATIONS + 1) in text
    at_cap = {**GOOD, "observations": [row] * MAX_OBSERVATIONS}
    assert len(parse_record(at_cap).observations) == MAX_OBSERVATIONS
    f = tmp_path / "big.json"
    f.write_text(json.dumps(over), encoding="utf-8")
    result = CliRunner().invoke(app, ["assess", str(f)])
    assert result.exit_code != 0 and "too many observations" in result.output


def test_yaml_anchors_are_refused_even_beside_text_with_ampersands() -> None:
    """The anchor check is skipped only for a text with no '&' or '*' at all (neither can be
    written without them); a record with an ampersand in a note is still read, and one with
    an anchor is still refused."""
    assert load_yaml_text("note: A&E visit\nvalue: 2 * 3\n") == {"note": "A&E visit",
                                                                  "value": "2 * 3"}
    with pytest.raises(RecordError, match="anchors and aliases"):
        load_yaml_text("a: &x [1, 2]\nb: *x\n")
    assert load_yaml_text("a: [1, 2]\n") == {"a": [1, 2]}


def test_a_symptom_onset_with_a_time_of_day_is_read_as_its_day() -> None:
    """Review II (r13): an onset written as a date-time got two confusing problems (the
    symptom "should be a valid string", and the validator's own words); it is now read as
    its day, as an observation time may carry a time of day."""
    import datetime as dt

    from allpath import parse_record

    rec = parse_record({"format": "allpath.record/1", "id": "x", "sex": "female",
                        "birth_date": "2015-01-01",
                        "symptoms": [{"code": "limp", "onset": "2025-12-01T08:00:00+00:00"}]})
    assert rec.symptoms[0].onset == dt.date(2025, 12, 1)  # type: ignore[union-attr]
