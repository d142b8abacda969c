"""Terminal and document output people can read (issue 17): the assessment is dated on the
latest data, ages are in years and months, no ``None`` or Python reprs, re-stratification
only when the group changes, schemes that do not apply folded, tables within the width."""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from allpath.cli import commands  # noqa: F401  (registers the sub-commands)
from allpath.cli.app import app
from allpath.examples import example_paths, example_records
from allpath.outputs.readable import age_in_words, words
from allpath.outputs.render import render_markdown, render_text
from allpath.pipeline import assess, assess_file

runner = CliRunner()
REPR = re.compile(r"\bNone\b|\{'|\['|\(\)|\s->\s|<[A-Za-z.]+ object")
EXAMPLE_1 = next(p for p in example_paths() if p.stem == "example-001")


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return [assess(r).to_dict() for r in example_records()]


# ---------------------------------------------------------------- the date of the assessment
def test_assessment_with_day_28_results_is_dated_day_28_not_not_started() -> None:
    a = assess_file(EXAMPLE_1)  # diagnosed 2024-05-03, end-of-induction marrow 2024-05-31
    doc = a.to_dict()
    assert doc["as_of"] == "2024-05-31"
    assert doc["where_now"]["phase"]["id"] == "induction"
    assert "not started" not in doc["where_now"]["status"]
    assert doc["current"]["as_of"] == "2024-05-31"


def test_ages_read_by_the_rules_stay_ages_at_diagnosis() -> None:
    a = assess_file(EXAMPLE_1)
    assert a.to_dict()["age_years"] == 4.23  # 2020-02-10 to 2024-05-03
    assert a.to_dict()["age_text"] == "4 years 2 months"


def test_as_of_option_dates_where_now_and_the_current_phase() -> None:
    a = assess_file(EXAMPLE_1, as_of=dt.date(2024, 6, 10))
    doc = a.to_dict()
    assert doc["as_of"] == "2024-06-10"
    assert doc["where_now"]["date"] == "2024-06-10"
    assert doc["current"]["as_of"] == "2024-06-10"
    early = assess_file(EXAMPLE_1, as_of=dt.date(2024, 5, 20)).to_dict()
    assert any("still read" in n for n in early["notes"])


def test_cli_as_of_and_a_bad_date_is_a_clear_error() -> None:
    ok = runner.invoke(app, ["assess", str(EXAMPLE_1), "--as-of", "2024-06-10"])
    assert ok.exit_code == 0, ok.output
    assert "as of 2024-06-10" in ok.output
    bad = runner.invoke(app, ["assess", str(EXAMPLE_1), "--as-of", "10/06/2024"])
    assert bad.exit_code == 2 and "--as-of" in bad.output


def test_rest_api_dates_the_assessment_like_the_cli(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    import json

    from fastapi.testclient import TestClient

    from allpath.api import create_app
    from allpath.db import Database, create_token

    body = json.loads(assess_file(EXAMPLE_1).record.model_dump_json(exclude_none=True))
    db = Database(f"sqlite:///{tmp_path / 'api.db'}")
    try:
        with db.transaction() as session:
            token = create_token(session, "tests", scopes=("read",))
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(database=db)) as client:
            plain = client.post("/v1/assess", json=body, headers=headers)
            assert plain.status_code == 200, plain.text
            assert plain.json()["as_of"] == "2024-05-31"
            dated = client.post("/v1/assess", params={"as_of": "2024-06-10"}, json=body,
                                headers=headers)
            assert dated.status_code == 200, dated.text
            assert dated.json()["where_now"]["date"] == "2024-06-10"
    finally:
        db.dispose()


# ---------------------------------------------------------------- ages and words
@pytest.mark.parametrize(("years", "text"), [
    (4.23, "4 years 2 months"), (0.42, "5 months"), (1.0, "1 year"), (2.5, "2 years 6 months"),
    (0.05, "2 weeks"), (0.01, "4 days"), (17.0, "17 years"), (None, "unknown"),
])
def test_age_in_words(years: float | None, text: str) -> None:
    assert age_in_words(years) == text


def test_age_from_exact_months_is_not_rounded_up_across_a_birthday() -> None:
    assert age_in_words(months=59.97) == "4 years 11 months"
    assert age_in_words(months=60.0) == "5 years"


def test_words_never_show_python_reprs() -> None:
    assert words(None) == "unknown"
    assert words({"cog": None, "bfm": "high"}) == "bfm high"
    assert words(["a", "b"]) == "a, b" and words([]) == "none"
    assert words(True) == "yes" and words(3.0) == "3"


# ---------------------------------------------------------------- the report
@pytest.mark.parametrize("width", [80, 60])
def test_report_fits_the_width_and_shows_no_reprs(docs: list[dict[str, Any]],
                                                  width: int) -> None:
    for doc in docs:
        text = render_text(doc, width=width)
        for line in text.splitlines():
            assert len(line) <= width, (doc["patient_id"], line)
        assert not REPR.search(text), (doc["patient_id"], REPR.search(text))
        assert " years" in text or " months" in text
        assert not re.search(r"\d\.\d+ years", text)


def test_markdown_shows_no_reprs(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        text = render_markdown(doc)
        assert not REPR.search(text), (doc["patient_id"], REPR.search(text))


def test_schemes_that_do_not_apply_are_folded_unless_all(docs: list[dict[str, Any]]) -> None:
    doc = docs[0]
    na = [r["scheme"] for r in doc["risk"] if r["group"] == "not_applicable"]
    assert na, "example-001 has schemes that do not apply"
    folded = render_text(doc, width=200)
    assert "Not applicable to this patient: " + ", ".join(na) in folded
    assert "--all" in folded
    assert not any(re.search(rf"│ {s}\s+│", folded) for s in na)
    every = render_text(doc, width=200, show_all=True)
    assert all(re.search(rf"│ {s}\s+│", every) for s in na)
    assert "Not applicable to this patient" not in every
    cli = runner.invoke(app, ["assess", str(EXAMPLE_1), "--all"])
    assert cli.exit_code == 0 and "Not applicable to this patient" not in cli.output


def test_restratification_is_shown_only_when_the_group_changes(
        docs: list[dict[str, Any]]) -> None:
    doc = copy.deepcopy(docs[0])
    same = {"scheme": "cog_pdq", "before": {"group": "low"}, "after": {"group": "low"},
            "reason": {"rule_id": "cog_pdq.low"}}
    changed = {"scheme": "aall1731", "before": {"group": "sr_favorable"},
               "after": {"group": "sr_high"}, "reason": {"rule_id": "aall1731.sr_high"}}
    doc["mrd"]["restratification"] = [same, changed]
    text = render_text(doc, width=200)
    assert "MRD changed the aall1731 group from sr favorable to sr high" in text
    assert "cog_pdq group" not in text and "low -> low" not in text


def test_response_without_a_marrow_says_so_instead_of_none(docs: list[dict[str, Any]]) -> None:
    text = render_text(docs[0], width=200)
    assert "Response at end of induction: not assessable yet: no marrow blast count" in text
    assert "(None)" not in text


# ---------------------------------------------------------------- the patient plot
def test_patient_plot_has_title_axis_labels_and_legends(tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    from allpath.outputs.plot import plot_assessment

    out = tmp_path / "patient.svg"
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text kept as text in the SVG
        plot_assessment(assess_file(EXAMPLE_1), out)
    svg = out.read_text(encoding="utf-8")
    for text in ("Patient example-001: results over time", "Blood counts", "date",
                 "count (x10^9/L, log scale)", "white cells (WBC)", "MRD, marrow",
                 "treatment phases", "induction", "diagnosis", "as of 2024-05-31"):
        assert text in svg, text


def test_plot_option_writes_a_png_and_refuses_an_unknown_extension(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "p.png"
    ok = runner.invoke(app, ["assess", str(EXAMPLE_1), "--plot", str(png)])
    assert ok.exit_code == 0, ok.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = runner.invoke(app, ["assess", str(EXAMPLE_1), "--plot", str(tmp_path / "p.txt")])
    assert bad.exit_code == 2 and ".png" in bad.stderr
    assert not (tmp_path / "p.txt").exists()


# ---------------------------------------------------------------- the roadmap
ROADMAP_REPR = re.compile(r"\bNone\b(?! of)|\{'|\['|=True|=False|\s->\s")


@pytest.mark.parametrize("columns", ["80", "60"])
def test_roadmap_fits_the_width_says_the_dose_caveat_once_per_table(columns: str) -> None:
    result = runner.invoke(app, ["roadmap", str(EXAMPLE_1)], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    out = result.output
    for line in out.splitlines():
        assert len(line) <= int(columns), line
    assert not ROADMAP_REPR.search(out), ROADMAP_REPR.search(out)
    tables = out.count("┏")
    assert tables >= 3
    assert out.count("Doses: verify against the protocol in use") == tables
    flat = " ".join(out.split())
    assert flat.count("verify against the protocol in use") == tables
    assert "age 4 years 2 months" in flat and not re.search(r"age \d\.\d", flat)


def test_roadmap_shows_where_the_patient_is_on_the_latest_data_date() -> None:
    result = runner.invoke(app, ["roadmap", str(EXAMPLE_1)], env={"COLUMNS": "120"})
    assert "On 2024-05-31: Induction (3-drug), day 28" in result.output
    later = runner.invoke(app, ["roadmap", str(EXAMPLE_1), "--as-of", "2024-06-10"],
                          env={"COLUMNS": "120"})
    assert "On 2024-06-10: Consolidation" in later.output


# ---------------------------------------------------------------- the titration
TITRATION_LOG = """\
# tpmt: normal
# nudt15: normal
date,wbc,anc,platelets,mp,mtx
2024-01-01,2.5,1.2,200,350,15
2024-01-15,0.9,0.4,200,0,0
2024-01-29,2.0,1.1,150,300,12.5
"""


@pytest.mark.parametrize("columns", [80, 60])
def test_titration_fits_a_narrow_terminal_one_block_per_visit(tmp_path: Path,
                                                             columns: int) -> None:
    log = tmp_path / "log.csv"
    log.write_text(TITRATION_LOG, encoding="utf-8")
    result = runner.invoke(app, ["titrate", str(log)], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    for line in result.output.splitlines():
        assert len(line) <= columns, line
    assert "Line 5, 2024-01-15: hold *" in result.output
    assert "restart reduced" in result.output and "restart_reduced *" not in result.output
    assert not re.search(r"suggested: 6-MP \?", result.output)
    assert "recorded: hold (agrees)" in result.output


def test_titration_wide_terminal_keeps_the_table(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(TITRATION_LOG, encoding="utf-8")
    result = runner.invoke(app, ["titrate", str(log), "-f", "text"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "┃ Line" in result.output and "6-MP suggested" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 200


# ---------------------------------------------------------------- triage and trials text
@pytest.mark.parametrize("columns", [80, 60])
def test_triage_and_trial_text_wrap_at_the_terminal_width(tmp_path: Path, columns: int) -> None:
    from allpath.examples import example_files

    person = next(f for f in example_files() if f.name == "person.yaml")
    for args in (["triage", str(person)],
                 ["trials", "match", str(EXAMPLE_1), "--limit", "3"]):
        result = runner.invoke(app, args, env={"COLUMNS": str(columns),
                                               "XDG_DATA_HOME": str(tmp_path)})
        assert result.exit_code == 0, result.output
        for line in result.output.splitlines():
            assert len(line) <= columns, (args[0], line)


def test_trial_age_criterion_reads_in_years_and_months(tmp_path: Path) -> None:
    result = runner.invoke(app, ["trials", "match", str(EXAMPLE_1), "--limit", "5"],
                           env={"COLUMNS": "300", "XDG_DATA_HOME": str(tmp_path)})
    assert result.exit_code == 0, result.output
    ages = [line for line in result.output.splitlines() if " Age: requires" in line]
    assert ages
    for line in ages:
        assert re.search(r"patient \d+ years?( \d+ months?)?", line), line
        assert not re.search(r"requires [^,]*\d\.\d", line), line


# ---------------------------------------------------------------- one option name each
FORMAT_COMMANDS = [["assess"], ["demo"], ["explain"], ["roadmap"], ["titrate"], ["guide"],
                   ["triage"], ["trials", "match"], ["trials", "centres"], ["rules", "list"]]


@pytest.mark.parametrize("command", FORMAT_COMMANDS, ids=" ".join)
def test_every_command_that_prints_a_document_takes_format_and_f(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert re.search(r"--format\s+-f\b", result.output), result.output
    assert "json" in result.output


def test_the_plot_option_is_named_plot() -> None:
    result = runner.invoke(app, ["assess", "--help"], env={"COLUMNS": "200"})
    assert "--plot" in result.output and "--png" not in result.output


def test_explain_and_rules_list_as_json() -> None:
    import json

    rule = runner.invoke(app, ["explain", "nci_rome.high.wbc", "--format", "json"])
    assert rule.exit_code == 0, rule.output
    doc = json.loads(rule.output)
    assert doc["rule"] == "nci_rome.high.wbc" and doc["then"] == "high"
    assert [s["id"] for s in doc["sources"]] and all(s["reference"] for s in doc["sources"])
    packs = json.loads(runner.invoke(app, ["rules", "list", "-f", "json"]).output)
    assert any(p["pack"] == "risk" for p in packs)


def test_trial_markdown_and_json_free_text_show_no_none(tmp_path: Path) -> None:
    result = runner.invoke(app, ["trials", "match", str(EXAMPLE_1), "--limit", "5", "-f",
                                 "markdown"], env={"XDG_DATA_HOME": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "| criterion | requires | patient |" in result.output
    assert not REPR.search(result.output), REPR.search(result.output)
