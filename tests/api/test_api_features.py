"""Feature endpoints (triage, roadmap, titrate, guide, screen, FHIR) and the migrations."""

from __future__ import annotations

import json
import time
from pathlib import Path

from api_helpers import example_doc
from fastapi.testclient import TestClient

import allpath
from allpath import roadmap, triage
from allpath.db import Base, Database, current_revision
from allpath.interop import fhir


def test_migrations_match_the_models(database: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    assert current_revision(database.engine) == "0004"
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_triage(client: TestClient, auth: dict[str, str]) -> None:
    doc = example_doc("example-001")
    r = client.post("/v1/triage", json=doc, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json() == json.loads(json.dumps(triage.triage(doc).to_dict(), default=str))


def test_roadmap(client: TestClient, auth: dict[str, str]) -> None:
    doc = example_doc("example-001")
    r = client.post("/v1/roadmap", json=doc, headers=auth)
    assert r.status_code == 200, r.text
    lib = roadmap.build_roadmap(allpath.assess(allpath.parse_record(doc))).to_dict()
    assert r.json()["template"]["id"] == lib["template"]["id"]
    r = client.post("/v1/roadmap", json=doc, headers=auth, params={"template": "nope"})
    assert r.status_code == 422


def test_titrate_json_and_csv(client: TestClient, auth: dict[str, str]) -> None:
    log = {"format": "allpath.maintenance-log/1", "patient": "demo", "tpmt": "normal",
           "nudt15": "normal", "units": {"anc": "/uL", "platelets": "/uL", "wbc": "/uL"},
           "visits": [{"date": "2024-01-01", "wbc": 2500, "anc": 1200, "platelets": 200000,
                       "mp": 50, "mtx": 15}]}
    r = client.post("/v1/titrate", json=log, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["summary"]["visits"] == 1
    r = client.post("/v1/titrate", json={"format": "nope"}, headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "format"
    r = client.post("/v1/titrate", content=b"\x00", headers={**auth,
                                                             "content-type": "image/png"})
    assert r.status_code == 415


def test_guide(client: TestClient, auth: dict[str, str]) -> None:
    r = client.get("/v1/guide", headers=auth)
    assert r.status_code == 200, r.text
    topics = r.json()["topics"]
    one = client.get(f"/v1/guide/{topics[0]['id']}", headers=auth).json()
    assert [t["id"] for t in one["topics"]] == [topics[0]["id"]]
    assert client.get("/v1/guide/no-such-topic", headers=auth).status_code == 404
    r = client.post("/v1/guide", json=example_doc("example-001"), headers=auth)
    assert r.status_code == 200 and r.json()["topics"]


def test_screen_job(client: TestClient, auth: dict[str, str]) -> None:
    csv = (b"patient_id,age_years,sex,time,wbc,hemoglobin,platelets,anc\n"
           b"a,5,F,2024-06-01,2.1,6.5,20,0.3\n"
           b"b,40,M,2024-06-01,7,13,200,3\n")
    r = client.post("/v1/screen", content=csv, headers={**auth, "content-type": "text/csv"})
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    for _ in range(50):
        status = client.get(f"/v1/screen/{job}", headers=auth).json()
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert status["status"] == "done", status
    assert status["summary"]["rows"] == 2
    res = client.get(f"/v1/screen/{job}/result", headers=auth)
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
    assert res.text.splitlines()[0].replace('"', "").startswith("row,patient_id")
    r = client.post("/v1/screen", content=b"x,y\n1,2\n",
                    headers={**auth, "content-type": "text/csv"})
    bad = client.get(f"/v1/screen/{r.json()['id']}", headers=auth).json()
    assert bad["status"] == "failed" and bad["error"]
    assert client.get(f"/v1/screen/{r.json()['id']}/result", headers=auth).status_code == 409


def test_fhir_bundle_in_and_out(client: TestClient, auth: dict[str, str]) -> None:
    doc = example_doc("example-001")
    bundle = fhir.assessment_to_bundle(allpath.assess(allpath.parse_record(doc)))
    r = client.post("/v1/assess", json=doc, headers=auth, params={"output": "fhir"})
    assert r.status_code == 200, r.text
    assert r.json()["resourceType"] == "Bundle"
    assert {e["resource"]["resourceType"] for e in r.json()["entry"]} == \
        {e["resource"]["resourceType"] for e in bundle["entry"]}


FHIR_PATIENT = {"resourceType": "Patient", "id": "fp1", "gender": "female",
                "birthDate": "2020-02-10"}
FHIR_WBC = {"resourceType": "Observation", "id": "o1", "status": "final",
            "subject": {"reference": "Patient/fp1"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "6690-2"}]},
            "effectiveDateTime": "2024-05-01",
            "valueQuantity": {"value": 12.4, "unit": "10*3/uL",
                              "system": "http://unitsofmeasure.org", "code": "10*3/uL"}}


FHIR_ALL = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/fp1"},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91857003"}]},
            "onsetDateTime": "2024-05-01"}


def test_fhir_bundle_as_input_and_as_prefetch(client: TestClient,
                                             auth: dict[str, str]) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": FHIR_PATIENT}, {"resource": FHIR_WBC},
                        {"resource": FHIR_ALL}]}
    r = client.post("/v1/assess", json=bundle, headers=auth)
    assert r.status_code == 200, r.text
    lib = allpath.assess(fhir.read_bundle(bundle).patient).to_dict()
    assert r.json() == json.loads(json.dumps(lib))
    r = client.post("/v1/patients", json=bundle, headers=auth)
    assert r.status_code == 201 and r.json()["external_id"] == "fp1"
    hook = {"hook": "patient-view", "hookInstance": "x1",
            "context": {"userId": "Practitioner/1", "patientId": "fp1"},
            "prefetch": {"patient": FHIR_PATIENT, "observations": {
                "resourceType": "Bundle", "type": "searchset",
                "entry": [{"resource": FHIR_WBC}]}}}
    r = client.post("/cds-services/allpath-patient-view", json=hook, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["cards"] and r.json()["cards"][0]["source"]["label"]


def test_fhir_export_of_a_bundle_keeps_the_source_patient_name_and_mrn(
        client: TestClient, auth: dict[str, str]) -> None:
    mrn = {"system": "http://hospital.example.org/mrn", "value": "MRN-0042"}
    patient = dict(FHIR_PATIENT, identifier=[mrn], name=[{"family": "Ngata", "given": ["Ana"]}])
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": patient}, {"resource": FHIR_WBC}]}
    r = client.post("/v1/assess", json=bundle, headers=auth, params={"output": "fhir"})
    assert r.status_code == 200, r.text
    out = next(e["resource"] for e in r.json()["entry"]
               if e["resource"]["resourceType"] == "Patient")
    assert mrn in out["identifier"]
    assert out["name"][0]["family"] == "Ngata"


def test_assess_of_a_bundle_without_leukaemia_says_so_instead_of_listing_tests(
        client: TestClient, auth: dict[str, str], shared: Path) -> None:
    synthea = sorted((shared / "data" / "fhir" / "synthea").glob("*.json"))[0]
    bundle = json.loads(synthea.read_text(encoding="utf-8"))
    r = client.post("/v1/assess", json=bundle, headers=auth)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["format"] == "allpath.no-leukaemia/1"
    assert doc["result"] == "no_leukaemia_diagnosis"
    assert "no leukaemia diagnosis" in doc["statement"]
    assert "tests_needed" not in doc and "risk" not in doc


def test_assess_of_a_bundle_returns_the_import_warnings_with_their_paths(
        client: TestClient, auth: dict[str, str]) -> None:
    prelim = dict(FHIR_WBC, id="o2", status="preliminary", effectiveDateTime="2024-05-02")
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": FHIR_PATIENT}, {"resource": FHIR_WBC},
                        {"resource": FHIR_ALL}, {"resource": prelim}]}
    r = client.post("/v1/assess", json=bundle, headers=auth)
    assert r.status_code == 200, r.text
    warnings = r.json()["import_warnings"]
    assert any("entry[3]" in w and "preliminary" in w for w in warnings), warnings
    native = client.post("/v1/assess", json=example_doc("example-001"), headers=auth)
    assert "import_warnings" not in native.json()
