"""``allpath examples --to DIR`` writes an input for every README command, never overwrites
without ``--force``, and every command of the README's "Using it" block works on those files."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from allpath.cli import commands  # noqa: F401  (registers the sub-commands)
from allpath.cli.app import app
from allpath.examples import EXAMPLE_INPUTS, example_files

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

#: README commands that start a server or a long simulation: only their --help is run here
#: (the servers have their own tests in tests/api and tests/web, the simulator in tests/sim)
NOT_RUN_IN_FULL = {"web", "serve", "simulate"}


def readme_commands() -> list[list[str]]:
    """The ``allpath`` command lines of the README's "Using it" block, comments removed."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Using it", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    out = []
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            assert words[0] == ".venv/bin/allpath", line
            out.append(words[1:])
    return out


def test_examples_writes_every_input_and_lists_it(tmp_path: Path) -> None:
    result = runner.invoke(app, ["examples", "--to", str(tmp_path / "ex")])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "ex").iterdir())
    assert written == sorted(f.name for f in example_files())
    assert set(EXAMPLE_INPUTS) <= set(written)
    assert "example-001.yaml" in written
    for name in written:
        assert name in result.output
    for f in example_files():
        assert (tmp_path / "ex" / f.name).read_bytes() == f.read_bytes()


def test_examples_never_overwrites_without_force(tmp_path: Path) -> None:
    ex = tmp_path / "ex"
    ex.mkdir()
    (ex / "person.yaml").write_text("mine\n", encoding="utf-8")
    refused = runner.invoke(app, ["examples", "--to", str(ex)])
    assert refused.exit_code == 2
    assert "person.yaml" in refused.stderr and "--force" in refused.stderr
    assert (ex / "person.yaml").read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in ex.iterdir()) == ["person.yaml"]  # nothing half-written
    forced = runner.invoke(app, ["examples", "--to", str(ex), "--force"])
    assert forced.exit_code == 0, forced.output
    assert (ex / "person.yaml").read_text(encoding="utf-8") != "mine\n"


def test_examples_into_a_file_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["examples", "--to", str(target)])
    assert result.exit_code == 2 and "not a folder" in result.stderr


def test_readme_lists_every_command_that_reads_an_example() -> None:
    cmds = readme_commands()
    used = {w.split("/", 1)[1] for c in cmds for w in c if w.startswith("ex/")}
    assert set(EXAMPLE_INPUTS) <= used
    assert cmds[0] == ["examples", "--to", "ex"]


@pytest.mark.parametrize("args", readme_commands(), ids=lambda a: " ".join(a)[:60])
def test_readme_command_works_on_the_written_examples(
        args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # no local trial snapshot
    assert runner.invoke(app, ["examples", "--to", "ex"]).exit_code == 0
    if args[0] in NOT_RUN_IN_FULL:
        result = runner.invoke(app, [*args[:2 if args[0] == "simulate" else 1], "--help"])
        assert result.exit_code == 0, result.output
        return
    if args[0] == "examples":
        result = runner.invoke(app, [*args, "--force"])
    else:
        result = runner.invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
    assert "Traceback" not in result.output
    if args[:2] == ["assess", "ex/bundle.json"]:
        doc = json.loads(result.stdout)
        assert doc["format"] == "allpath.assessment/1"
    for option, name in (("--plot", "patient.png"), ("--ics", "plan.ics"),
                         ("--out", "flags.csv"), ("--fhir", "bundle-out.json")):
        if option in args:
            assert (tmp_path / name).stat().st_size > 0, name
