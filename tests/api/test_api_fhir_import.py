"""The API's FHIR import route (POST /v1/patients with a Bundle): an invalid date is a 422
naming its FHIR path, a record without leukaemia says so in the warnings."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": "fhir-p1", "gender": "male",
               "birthDate": "2017-06-01"}
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": patient}, *({"resource": r} for r in resources)]}


def _wbc(when: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "6690-2"}]},
            "subject": {"reference": "Patient/fhir-p1"}, "effectiveDateTime": when,
            "valueQuantity": {"value": 6.1, "unit": "10*9/L",
                              "system": "http://unitsofmeasure.org", "code": "10*9/L"}}


def test_invalid_fhir_date_is_422_with_its_path(client: TestClient,
                                                auth: dict[str, str]) -> None:
    r = client.post("/v1/patients", json=_bundle(_wbc("2020-13-01")), headers=auth)
    assert r.status_code == 422, r.text
    body = r.json()
    paths = [e["path"] for e in body["errors"]]
    assert paths == ["Bundle.entry[1].resource.effectiveDateTime"]
    assert "not a valid date" in body["errors"][0]["message"]
    r = client.post("/v1/assess", json=_bundle(_wbc("2024-02-30T08:00:00Z")), headers=auth)
    assert r.status_code == 422 and "Traceback" not in r.text


def test_bundle_without_leukaemia_says_so(client: TestClient, auth: dict[str, str]) -> None:
    r = client.post("/v1/patients", json=_bundle(_wbc("2024-05-01T08:30:00Z")), headers=auth)
    assert r.status_code == 201, r.text
    warnings = r.json()["warnings"]
    assert warnings[0].startswith("Bundle: no leukaemia diagnosis in this record")
