"""A FHIR record without leukaemia says so plainly (official Synthea and mCODE examples),
and the CLI reports an invalid date with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir_import_helpers import SUBJECT, all_condition, bundle, lab
from typer.testing import CliRunner

from allpath.interop.fhir import read_bundle
from allpath.interop.fhir.read import NO_LEUKAEMIA
from support import shared_dir

PEDIATRIC = Path(__file__).parent / "data" / "mcode_pediatric_all_bundle.json"


def _official() -> list[Path]:
    root = shared_dir()
    if root is None:
        return []
    folder = root / "data" / "fhir"
    return sorted((folder / "synthea").glob("*.json")) + sorted(
        (folder / "mcode-json").glob("*.json"))


@pytest.mark.skipif(shared_dir() is None, reason="shared data folder not present")
@pytest.mark.parametrize("path", _official(), ids=lambda p: p.name[:30])
def test_official_bundles_without_all_say_no_leukaemia(path: Path) -> None:
    imp = read_bundle(path)
    assert imp.leukaemia == "none"
    assert imp.no_leukaemia is not None and imp.no_leukaemia.startswith(NO_LEUKAEMIA)
    assert imp.warnings[0].path == "Bundle" and imp.warnings[0].message == imp.no_leukaemia
    assert "suggests no marrow tests" in imp.no_leukaemia


def test_official_mcode_all_example_is_all() -> None:
    imp = read_bundle(PEDIATRIC)
    assert imp.leukaemia == "ALL" and imp.no_leukaemia is None


def test_other_leukaemia_is_named_not_assessed_as_all() -> None:
    aml = {"resourceType": "Condition", "subject": SUBJECT, "onsetDateTime": "2024-01-01",
           "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                "code": "C92.00", "display": "Acute myeloid leukemia"}]}}
    imp = read_bundle(bundle(aml))
    assert imp.leukaemia == "other"
    assert imp.no_leukaemia is not None and "Acute myeloid leukemia" in imp.no_leukaemia


def test_marrow_blasts_without_a_coded_diagnosis_are_assessed() -> None:
    imp = read_bundle(bundle(lab("77147-7", 85.0, "%", "2024-01-03")))
    assert imp.leukaemia == "results" and imp.no_leukaemia is None


def test_cli_assess_says_no_leukaemia_instead_of_listing_tests(tmp_path: Path) -> None:
    from allpath.cli import app
    from allpath.cli.commands import app as _registered  # noqa: F401

    path = tmp_path / "healthy.json"
    path.write_text(json.dumps(bundle(lab("6690-2", 7.0, "10*9/L", "2024-05-01"))))
    result = CliRunner().invoke(app, ["assess", str(path)])
    assert result.exit_code == 0, result.output
    assert NO_LEUKAEMIA in result.stdout and "marrow aspirate" not in result.stdout
    result = CliRunner().invoke(app, ["assess", "-f", "json", str(path)])
    doc = json.loads(result.stdout)
    assert doc["format"] == "allpath.no-leukaemia/1"
    assert doc["result"] == "no_leukaemia_diagnosis"


def test_cli_invalid_date_is_exit_2_with_the_path(tmp_path: Path) -> None:
    from allpath.cli import app
    from allpath.cli.commands import app as _registered  # noqa: F401

    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bundle(all_condition(),
                                      lab("6690-2", 7.0, "10*9/L", "2020-13-01"))))
    for command in (["assess", str(path)], ["export", str(path), "--fhir",
                                             str(tmp_path / "out.json")]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "Bundle.entry[2].resource.effectiveDateTime" in result.output
        assert "Traceback" not in result.output
