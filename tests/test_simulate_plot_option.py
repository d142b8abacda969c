"""``allpath simulate patient`` takes ``--plot`` like every other command; ``--out-png`` is
kept as a hidden, deprecated alias (issue 17)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from allpath.cli import app
from allpath.cli.commands import app as _registered  # noqa: F401

PNG = b"\x89PNG\r\n\x1a\n"


def _profile(tmp_path: Path) -> Path:
    profile = tmp_path / "profile.yaml"
    profile.write_text("id: vp-1\nage: 6\nsex: female\nsubtype: B-ALL\n", encoding="utf-8")
    return profile


def test_simulate_patient_plot_option_writes_the_png(tmp_path: Path) -> None:
    png = tmp_path / "patient.png"
    result = CliRunner().invoke(app, ["simulate", "patient", str(_profile(tmp_path)),
                                      "--plot", str(png), "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == PNG
    assert f"plot written to {png}" in result.output.replace("\n", "")
    assert "deprecated" not in result.output


def test_simulate_patient_old_out_png_name_still_works_and_says_it_is_deprecated(
        tmp_path: Path) -> None:
    png = tmp_path / "old.png"
    result = CliRunner().invoke(app, ["simulate", "patient", str(_profile(tmp_path)),
                                      "--out-png", str(png), "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == PNG
    assert "--out-png is deprecated; use --plot" in result.output


def test_simulate_patient_help_shows_plot_and_hides_out_png() -> None:
    result = CliRunner().invoke(app, ["simulate", "patient", "--help"],
                                env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0
    assert "--plot" in result.output and "--out-png" not in result.output
