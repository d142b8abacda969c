"""``allpath export BUNDLE --fhir OUT`` keeps the source Patient's MRN and name (#15)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from allpath.cli import app
from allpath.cli.commands import app as _registered  # noqa: F401

BUNDLE = Path(__file__).parent / "data" / "mcode_pediatric_all_bundle.json"


def test_cli_export_of_a_bundle_keeps_the_mrn_system_and_the_name(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = CliRunner().invoke(app, ["export", str(BUNDLE), "--fhir", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    patient = next(e["resource"] for e in doc["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    assert {"system": "http://hospital.example.org", "value": "MRN5678"} in [
        {k: i[k] for k in ("system", "value")} for i in patient["identifier"]]
    assert patient["name"][0]["family"] == "L"
