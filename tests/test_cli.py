"""The command line: demo, assess in every format, explain, rules check."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from allpath.cli import app
from allpath.cli.commands import app as _registered  # noqa: F401
from allpath.examples import example_paths

runner = CliRunner()


def test_demo_prints_every_example_with_the_disclaimer() -> None:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    for path in example_paths():
        assert path.stem in result.output
    assert result.output.count("does not replace") == len(example_paths())


def test_assess_json_is_the_versioned_document() -> None:
    result = runner.invoke(app, ["assess", str(example_paths()[0]), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["format"] == "allpath.assessment/1"
    assert doc["patient_id"] == "example-001"
    assert doc["diagnosis"]["subtype"]["key"] == "ETV6::RUNX1"


def test_assess_markdown() -> None:
    result = runner.invoke(app, ["assess", str(example_paths()[0]), "-f", "markdown"])
    assert result.exit_code == 0
    assert result.output.startswith("# ALLPath assessment: example-001")


def test_missing_file_is_a_clear_error() -> None:
    result = runner.invoke(app, ["assess", "no-such-file.yaml"])
    assert result.exit_code == 2
    assert "file not found" in result.output


def test_explain_prints_the_rule_and_its_sources() -> None:
    result = runner.invoke(app, ["explain", "nci_rome.high.wbc"])
    assert result.exit_code == 0
    assert '"op": ">="' in result.output and "[S4]" in result.output


def test_explain_unknown_rule_suggests_names() -> None:
    result = runner.invoke(app, ["explain", "nci_rome.high.wcb"])
    assert result.exit_code == 2
    assert "did you mean" in result.output


def test_rules_check_reports_all_packs_valid() -> None:
    result = runner.invoke(app, ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert "every rule cited" in result.output
