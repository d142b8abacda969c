"""``allpath titrate`` through Typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from titration_helpers import maintenance_dir
from typer.testing import CliRunner

from allpath.cli import commands  # noqa: F401  (registers the sub-commands)
from allpath.cli.app import app

runner = CliRunner()
ALLMT = maintenance_dir()

LOG = """\
# tpmt: normal
# nudt15: normal
date,wbc,anc,platelets,mp,mtx
2024-01-01,2.5,1.2,200,350,15
2024-01-15,0.9,0.4,200,0,0
2024-01-22,6545132,1.1,150,0,0
2024-01-29,2.0,1.1,150,300,12.5
"""


@pytest.fixture()
def log(tmp_path: Path) -> Path:
    path = tmp_path / "log.csv"
    path.write_text(LOG, encoding="utf-8")
    return path


def test_text_table(log: Path) -> None:
    result = runner.invoke(app, ["titrate", str(log)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Maintenance titration" in out and "TPMT normal" in out
    assert "not assessable" in out and "hold" in out
    assert "4 visits" in out and "(lines 6)" in out
    assert "never replace" in out


def test_json_output(log: Path) -> None:
    result = runner.invoke(app, ["titrate", str(log), "--format", "json", "--nudt15",
                                 "intermediate", "--mp-start", "75 mg/m2/d"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["start"]["mp_group"] == "intermediate"
    assert doc["start"]["mp_percent"] == [30.0, 80.0]
    assert doc["summary"]["visits"] == 4 and doc["summary"]["rejected_lines"] == [6]
    visits = doc["visits"]
    assert visits[1]["action"] == "hold" and "hold.anc" in visits[1]["rules"]
    assert visits[2]["status"] == "not_assessable"
    assert "6545132" in visits[2]["reason"]
    assert visits[3]["action"] == "restart_reduced"


def test_bad_phenotype_is_a_clear_error(log: Path) -> None:
    result = runner.invoke(app, ["titrate", str(log), "--tpmt", "slow"])
    assert result.exit_code == 2
    assert "unknown TPMT phenotype" in result.output
    assert "Traceback" not in result.output


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["titrate", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "no such file" in result.output


@pytest.mark.skipif(ALLMT is None, reason="shared allMT data not present")
def test_allmt_external_log(tmp_path: Path) -> None:
    assert ALLMT is not None
    result = runner.invoke(app, ["titrate", str(ALLMT / "allMT_external_UPN_1.csv"),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert 5 in doc["summary"]["rejected_lines"]
    assert doc["format"] == "allmt_external"
