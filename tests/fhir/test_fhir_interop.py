"""FHIR R4 / mCODE import and export (allpath.interop.fhir)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from allpath.examples import example_paths, example_records
from allpath.interop.fhir import (
    FHIR_MODELS,
    FHIR_RELEASE,
    assessment_to_bundle,
    load_any,
    read_bundle,
    read_ndjson,
)
from allpath.interop.fhir.release import model_class, validate_resource
from allpath.pipeline import assess
from support import shared_dir

DATA = Path(__file__).parent / "data"
PEDIATRIC = DATA / "mcode_pediatric_all_bundle.json"
NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _entry(bundle: dict[str, Any], rtype: str, **match: Any) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype
            and all(e["resource"].get(k) == v for k, v in match.items())]


def _obs(record: Any, code: str) -> list[tuple[Any, float | str, str | None]]:
    return [(o.time, o.value, o.unit) for o in record.observations if o.code == code]


def test_release_named_in_one_place() -> None:
    assert FHIR_RELEASE == "R4B"
    assert FHIR_MODELS == "fhir.resources.R4B"
    assert model_class("Observation").__module__.startswith(FHIR_MODELS)


# ----------------------------------------------------------------- mCODE pediatric fixture
def _check_pediatric(rec: Any) -> None:
    assert rec.sex.value == "male"
    assert rec.birth_date == dt.date(2021, 1, 1)
    assert rec.diagnosis_date == dt.date(2024, 1, 1)
    assert rec.genetics is not None and rec.genetics.fusions == ("ETV6::RUNX1",)
    wbc = [(t, v) for t, v, _ in _obs(rec, "wbc")]
    hgb = [(t, v) for t, v, _ in _obs(rec, "hemoglobin")]
    assert len(wbc) == 1 and len(hgb) == 1
    assert str(wbc[0][0])[:10] == "2024-01-04" and str(hgb[0][0])[:10] == "2024-01-04"
    assert hgb[0][1] == pytest.approx(6.7)
    assert rec.immunophenotype is not None
    for marker in ("CD19", "CD10", "TdT", "CD20"):
        assert rec.immunophenotype.markers[marker].value == "positive"


def _wbc_canonical(rec: Any) -> float:
    from allpath.units import convert

    [(_, value, unit)] = _obs(rec, "wbc")
    return convert(float(value), str(unit), "10*9/L")


def test_pediatric_fixture_is_valid_fhir() -> None:
    bundle = json.loads(PEDIATRIC.read_text())
    validate_resource(bundle)
    for e in bundle["entry"]:
        validate_resource(e["resource"])
    assert len(bundle["entry"]) == 28


def test_pediatric_round_trip() -> None:
    imp = read_bundle(PEDIATRIC)
    rec = imp.patient
    _check_pediatric(rec)
    assert _wbc_canonical(rec) == pytest.approx(88.5)
    assert [d["lineage"] for d in imp.diagnoses] == ["B"]
    assert imp.diagnoses[0]["code"] == "277571004"
    assessment = assess(rec)
    doc = assessment.to_dict()
    assert doc["age_years"] == pytest.approx(3.0, abs=0.01)
    assert doc["diagnosis"]["lineage"] == "B"
    # The fixture carries no marrow blast count: ALLPath does not invent the diagnosis.
    assert doc["diagnosis"]["status"] in ("ALL", "indeterminate")
    # Write, parse again with fhir.resources, read again: the same values.
    bundle = assessment_to_bundle(assessment, now=NOW)
    text = json.dumps(bundle)
    parsed = model_class("Bundle").model_validate_json(text)
    assert parsed.type == "collection"
    again = read_bundle(json.loads(text))
    _check_pediatric(again.patient)
    assert _wbc_canonical(again.patient) == pytest.approx(88.5)
    assert assess(again.patient).to_dict()["diagnosis"] == doc["diagnosis"]


def test_pediatric_warnings_have_paths() -> None:
    imp = read_bundle(PEDIATRIC)
    by_path = {w.path: w for w in imp.warnings}
    # The Lansky play-performance status is not an ALLPath analyte: a warning with its path
    # and code (hematocrit, once unknown, is now in the catalogue and read).
    lansky = by_path["Bundle.entry[13].resource.code"]
    assert lansky.code.endswith("|C38144")
    assert any(o.code == "hematocrit" for o in imp.patient.observations)
    # Chemotherapy orders without a phase: warned, not guessed.
    assert any("treatment phase not derivable" in w.message for w in imp.warnings)
    assert imp.patient.treatment == ()
    assert imp.risk_assessments and imp.disease_status
    for w in imp.warnings:
        assert w.path.startswith("Bundle")


# ----------------------------------------------------------------- unknown codes, robustness
def _mini_bundle(*resources: dict[str, Any], btype: str = "transaction") -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female",
               "birthDate": "2018-03-04"}
    entries = [{"fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000001",
                "resource": patient, "request": {"method": "POST", "url": "Patient"}}]
    for i, r in enumerate(resources, start=2):
        entries.append({"fullUrl": f"urn:uuid:00000000-0000-0000-0000-{i:012d}",
                        "resource": r, "request": {"method": "POST", "url": r["resourceType"]}})
    return {"resourceType": "Bundle", "type": btype, "entry": entries}


def _lab(code: str, value: float, unit: str, system: str = "http://loinc.org",
         when: str = "2024-05-01T08:30:00+02:00") -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": system, "code": code}]},
            "subject": {"reference": "urn:uuid:00000000-0000-0000-0000-000000000001"},
            "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": unit,
                              "system": "http://unitsofmeasure.org", "code": unit}}


def test_unknown_codes_become_warnings_with_paths() -> None:
    bundle = _mini_bundle(
        _lab("6690-2", 62000, "/uL"),
        _lab("99999-9", 1.0, "mg/dL"),
        _lab("718-7", 7.1, "mmHg"),  # unit that does not fit
        _lab("777-3", 20, "10*9/L", when="2024"),  # partial date
        {"resourceType": "Condition", "code": {"coding": [{"system": "http://snomed.info/sct",
                                                           "code": "123456"}]},
         "subject": {"reference": "Patient/p1"}},
        {"resourceType": "Condition", "code": {"coding": [{
            "system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C91.00"}]},
         "onsetDateTime": "2024-05-02", "subject": {"reference": "Patient/p1"}},
        {"resourceType": "Condition", "code": {"coding": [{
            "system": "http://hl7.org/fhir/sid/icd-10", "code": "Q90.9"}]},
         "subject": {"reference": "Patient/p1"}},
        {"resourceType": "Encounter", "status": "finished",
         "class": {"system": "x", "code": "AMB"}},
    )
    imp = read_bundle(bundle)
    paths = {w.path: w for w in imp.warnings}
    assert "Bundle.entry[2].resource.code" in paths
    assert paths["Bundle.entry[2].resource.code"].code == "http://loinc.org|99999-9"
    assert "Bundle.entry[3].resource.valueQuantity" in paths
    assert "Bundle.entry[4].resource.effective[x]" in paths
    assert "Bundle.entry[5].resource.code" in paths
    assert "Bundle.entry[8].resource" in paths  # the Encounter, not read
    rec = imp.patient
    assert rec.id == "p1" and rec.sex.value == "female"
    assert _obs(rec, "wbc") == [(dt.datetime(2024, 5, 1, 8, 30), 62000, "/uL")]
    assert rec.diagnosis_date == dt.date(2024, 5, 2)
    assert rec.conditions == ("down_syndrome",)


def test_implausible_values_are_left_out_with_a_warning() -> None:
    bundle = _mini_bundle(_lab("718-7", 71, "g/dL"), _lab("6690-2", 5, "10*9/L"))
    imp = read_bundle(bundle)
    assert [o.code for o in imp.patient.observations] == ["wbc"]
    assert any("plausible" in w.message and w.path.startswith("Bundle.entry[1]")
               for w in imp.warnings)


def test_no_patient_data_is_not_all() -> None:
    imp = read_bundle({"resourceType": "Bundle", "type": "searchset", "entry": []})
    doc = assess(imp.patient).to_dict()
    assert doc["diagnosis"]["status"] != "ALL"


def test_not_a_bundle_is_a_record_error() -> None:
    from allpath.errors import RecordError

    with pytest.raises(RecordError):
        read_bundle({"resourceType": "Patient", "id": "x"})


# ----------------------------------------------------------------- shared public bundles
def _shared_bundles() -> list[Path]:
    root = shared_dir()
    if root is None:
        return []
    folder = root / "data" / "fhir"
    return sorted((folder / "synthea").glob("*.json")) + sorted(
        (folder / "mcode-json").glob("*.json"))


@pytest.mark.skipif(shared_dir() is None, reason="shared data folder not present")
@pytest.mark.parametrize("path", _shared_bundles(), ids=lambda p: p.name[:30])
def test_shared_bundles_import_and_are_not_all(path: Path) -> None:
    imp = read_bundle(path)
    doc = assess(imp.patient).to_dict()
    assert doc["diagnosis"]["status"] in ("not_ALL", "indeterminate", "unknown", "not ALL")
    assert imp.diagnoses == []
    assert all(w.path for w in imp.warnings)
    bundle = assessment_to_bundle(assess(imp.patient), now=NOW)
    assert not _entry(bundle, "Condition", id="ALL")
    assert not any(r.get("meta", {}).get("profile") == ["http://hl7.org/fhir/us/mcode/"
                   "StructureDefinition/mcode-primary-cancer-condition"]
                   for r in _entry(bundle, "Condition"))


@pytest.mark.skipif(shared_dir() is None, reason="shared data folder not present")
def test_synthea_values_are_read() -> None:
    [path] = [p for p in _shared_bundles() if p.name.startswith("Luigi")]
    imp = read_bundle(path)
    rec = imp.patient
    assert rec.birth_date == dt.date(2020, 10, 20)
    assert {o.code for o in rec.observations} >= {"height", "weight"}


# ----------------------------------------------------------------- export
@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_export_of_every_example_parses_back(path: Path) -> None:
    rec = load_any(path)[0]
    assessment = assess(rec)
    bundle = assessment_to_bundle(assessment, now=NOW)
    parsed = model_class("Bundle").model_validate_json(json.dumps(bundle))
    assert parsed.type == "collection"
    for e in bundle["entry"]:
        validate_resource(e["resource"])
    doc = assessment.to_dict()
    # Risk assessment per decided scheme, with the ALLPath group extension.
    risks = [r for r in _entry(bundle, "Observation")
             if r["code"]["coding"][0]["code"] == "C167435"]
    decided = [r for r in doc["risk"] if r["group"] not in ("not_applicable", "unknown")]
    assert len(risks) == len(decided)
    for r in risks:
        ext = r["extension"][0]
        assert ext["url"].endswith("all-risk-group")
        group = next(x["valueCode"] for x in ext["extension"] if x["url"] == "group")
        codes = {c["code"] for c in r["valueCodeableConcept"]["coding"]}
        if group == "standard":
            assert "C122457" in codes
        if group == "high":
            assert "C122458" in codes
    # CNS status with its NCIt code.
    if doc["cns"]["ncit"]:
        [cns] = [r for r in _entry(bundle, "Observation")
                 if r["code"]["coding"][0]["code"] == "C116832"]
        assert cns["valueCodeableConcept"]["coding"][0]["code"] == doc["cns"]["ncit"]
    # Alerts as DetectedIssue; Provenance names the ruleset and the citations.
    assert len(_entry(bundle, "DetectedIssue")) == len(doc["alerts"])
    [prov] = _entry(bundle, "Provenance")
    assert doc["generated_by"]["ruleset"] in prov["policy"][0]
    assert len(prov["entity"]) == len(doc["citations"])
    # The bundle reads back into the same record (values compared in canonical units).
    again = read_bundle(bundle).patient
    a, b = rec.model_dump(), again.model_dump()
    for key in a:
        if key != "observations":
            assert _dates(a[key]) == _dates(b[key]), key
    assert assess(again).to_dict()["risk"] == doc["risk"]


def _dates(value: Any) -> Any:
    """Date-times at midnight read back as dates' equals."""
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time(0) else value
    if isinstance(value, dict):
        return {k: _dates(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_dates(v) for v in value]
    return value


def test_careplan_from_roadmap() -> None:
    bundle = assessment_to_bundle(assess(example_records()[0]), now=NOW)
    [plan] = _entry(bundle, "CarePlan")
    assert plan["intent"] == "proposal" and plan["status"] == "draft"
    assert any("Induction" in a["detail"].get("description", "") for a in plan["activity"])
    assert assessment_to_bundle(assess(example_records()[0]), now=NOW,
                                roadmap=False)["entry"] != bundle["entry"]


def test_export_is_deterministic() -> None:
    a = assess(example_records()[1])
    assert assessment_to_bundle(a, now=NOW) == assessment_to_bundle(a, now=NOW)


# ----------------------------------------------------------------- NDJSON and load_any
def test_ndjson_bulk(tmp_path: Path) -> None:
    bundle = assessment_to_bundle(assess(example_records()[0]), now=NOW)
    second = copy.deepcopy(_mini_bundle(_lab("6690-2", 3.5, "10*9/L")))
    by_type: dict[str, list[dict[str, Any]]] = {}
    for e in bundle["entry"] + second["entry"]:
        r = dict(e["resource"])
        if r["resourceType"] == "Observation" and "urn:uuid:0000" in json.dumps(r):
            r["subject"] = {"reference": "Patient/p1"}
        else:
            ref = r.get("subject") or r.get("patient")
            if isinstance(ref, dict):
                key = "subject" if "subject" in r else "patient"
                r[key] = {"reference": f"Patient/{bundle['entry'][0]['resource']['id']}"}
        by_type.setdefault(r["resourceType"], []).append(r)
    for rtype, items in by_type.items():
        (tmp_path / f"{rtype}.ndjson").write_text(
            "\n".join(json.dumps(r) for r in items) + "\n{not json\n")
    imports = read_ndjson(tmp_path)
    ids = sorted(i.patient.id for i in imports)
    assert ids == ["example-001", "p1"]
    first = next(i for i in imports if i.patient.id == "example-001")
    assert first.patient.genetics is not None
    assert first.patient.genetics.fusions == ("ETV6::RUNX1",)
    assert any(w.path.endswith(".ndjson:" + w.path.rsplit(":", 1)[1]) and "malformed"
               in w.message for w in first.warnings)
    p1 = next(i for i in imports if i.patient.id == "p1")
    assert [o.code for o in p1.patient.observations] == ["wbc"]


def test_load_any_sniffs(tmp_path: Path) -> None:
    rec, warnings = load_any(example_paths()[0])
    assert rec.id == "example-001" and warnings == []
    rec2, warnings2 = load_any(PEDIATRIC)
    assert rec2.id == "cancer-patient-brian-l" and warnings2
    other = tmp_path / "x.json"
    other.write_text(json.dumps({"resourceType": "Patient"}))
    from allpath.errors import RecordError

    with pytest.raises(RecordError):
        load_any(other)


def test_cli_export(tmp_path: Path) -> None:
    from allpath.cli import app
    from allpath.cli.commands import app as _registered  # noqa: F401

    out = tmp_path / "out.json"
    result = CliRunner().invoke(app, ["export", str(PEDIATRIC), "--fhir", str(out)])
    assert result.exit_code == 0, result.output
    bundle = json.loads(out.read_text())
    validate_resource(bundle)
    assert _entry(bundle, "Patient")[0]["birthDate"] == "2021-01-01"
