"""``allpath simulate`` prints words, not Python values, and keeps JSON on stdout clean (#17)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from allpath.cli import app
from allpath.cli.commands import app as _registered  # noqa: F401


def test_simulate_patient_line_says_the_events_in_words(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("id: vp-1\nage: 6\nsex: female\nsubtype: B-ALL\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["simulate", "patient", str(profile), "--seed", "3"])
    assert result.exit_code == 0, result.output
    line = " ".join(result.stdout.split())  # rich wraps the line at the terminal width
    assert "True" not in line and "False" not in line and "=" not in line
    assert "remission" in line and "relapse" in line and "years" in line


def test_simulate_cohort_json_is_the_only_thing_on_stdout(tmp_path: Path) -> None:
    out = tmp_path / "cohort.parquet"
    result = CliRunner().invoke(app, ["simulate", "cohort", "--n", "200", "--seed", "1",
                                      "--chunk-size", "100", "--out", str(out),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("{")
    assert json.loads(result.stdout)["n"] == 200
