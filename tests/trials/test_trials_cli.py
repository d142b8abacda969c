"""``allpath trials match|centres``: every format, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from allpath.cli import app
from allpath.cli.commands import app as _registered  # noqa: F401
from allpath.examples import example_paths
from allpath.trials import TRIALS_DISCLAIMER

runner = CliRunner()
EXAMPLE = str(example_paths()[0])


def test_match_text_lists_studies_with_their_criteria_and_the_disclaimer() -> None:
    r = runner.invoke(app, ["trials", "match", EXAMPLE, "--limit", "2"])
    assert r.exit_code == 0, r.output
    assert "studies compared" in r.output
    assert r.output.count("https://clinicaltrials.gov/study/NCT") == 2
    assert TRIALS_DISCLAIMER in " ".join(r.output.split())


def test_match_json_and_fhir() -> None:
    r = runner.invoke(app, ["trials", "match", EXAMPLE, "-f", "json", "--limit", "3"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["format"] == "allpath.trial_matches/1" and len(doc["matches"]) == 3
    r = runner.invoke(app, ["trials", "match", EXAMPLE, "-f", "fhir", "--limit", "3"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["resourceType"] == "Bundle"


def test_match_markdown_has_a_table_per_study() -> None:
    r = runner.invoke(app, ["trials", "match", EXAMPLE, "-f", "markdown", "--limit", "1"])
    assert r.exit_code == 0, r.output
    assert "| criterion | requires | patient | result | shown by |" in r.output


def test_match_reads_a_registry_file(shared: Path) -> None:
    xml = shared / "data" / "ctgov" / "NCT01207388_classic.xml"
    r = runner.invoke(app, ["trials", "match", EXAMPLE, "--trials", str(xml),
                            "--include-closed", "--show-excluded", "-f", "json"])
    assert r.exit_code == 0, r.output
    (m,) = json.loads(r.output)["matches"]
    assert m["nct_id"] == "NCT01207388"
    age = next(c for c in m["criteria"] if c["criterion"] == "age")
    assert age["requires"] == "18 to no upper limit" and age["outcome"] == "not_met"


def test_unreadable_registry_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "export.csv"
    bad.write_text("Study Title\nSomething\n", encoding="utf-8")
    r = runner.invoke(app, ["trials", "match", EXAMPLE, "--trials", str(bad)])
    assert r.exit_code == 2
    assert "NCT Number" in r.output


def test_centres_json_and_text() -> None:
    r = runner.invoke(app, ["trials", "centres", "--country", "France", "-f", "json"])
    assert r.exit_code == 0, r.output
    centres = json.loads(r.output)
    assert centres and all(c["country"] == "France" for c in centres)
    r = runner.invoke(app, ["trials", "centres", "--country", "Atlantis"])
    assert r.exit_code == 0 and "No centre" in r.output


def test_centres_bad_point_names_the_option() -> None:
    r = runner.invoke(app, ["trials", "centres", "--near", "north"])
    assert r.exit_code == 2
    assert "--near" in r.output and "LATITUDE,LONGITUDE" in r.output
    r = runner.invoke(app, ["trials", "centres", "--within", "50"])
    assert r.exit_code == 2 and "--near" in r.output


def test_match_reads_a_fhir_bundle_and_says_what_is_missing(shared: Path) -> None:
    bundle = shared / "data" / "fhir" / "mcode-json" / "TrialMatching_Patient01_mcode_bundle.json"
    r = runner.invoke(app, ["trials", "match", str(bundle), "-f", "json", "--limit", "1"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output[r.output.index("{"):])
    assert doc["counts"]["possible"] == 0  # a breast-cancer patient: nothing is confirmed
    assert any("does not establish ALL" in n for n in doc["notes"])
