"""REST: /v1/trials/match and /v1/trials/centres (thin over allpath.trials)."""

from __future__ import annotations

from api_helpers import example_doc
from fastapi.testclient import TestClient

import allpath
from allpath.trials import bundled_trials, match_trials


def test_trials_match_equals_the_library(client: TestClient, auth: dict[str, str]) -> None:
    doc = example_doc("example-001")
    r = client.post("/v1/trials/match", json=doc, headers=auth, params={"limit": 5})
    assert r.status_code == 200, r.text
    lib = match_trials(allpath.assess(allpath.parse_record(doc)), bundled_trials(), limit=5)
    assert r.json() == lib.to_dict()
    r = client.post("/v1/trials/match", json=doc, headers=auth,
                    params={"limit": 2, "output": "fhir"})
    assert r.status_code == 200 and r.json()["type"] == "searchset"


def test_trials_match_needs_a_token_and_a_valid_record(client: TestClient,
                                                      auth: dict[str, str]) -> None:
    assert client.post("/v1/trials/match", json=example_doc("example-001")).status_code == 401
    r = client.post("/v1/trials/match", json={"format": "allpath.record/1"}, headers=auth)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")


def test_trials_centres(client: TestClient, auth: dict[str, str]) -> None:
    r = client.get("/v1/trials/centres", headers=auth, params={"country": "Germany"})
    assert r.status_code == 200, r.text
    centres = r.json()["centres"]
    assert centres and all(c["country"] == "Germany" for c in centres)
    r = client.get("/v1/trials/centres", headers=auth, params={"lat": 10})
    assert r.status_code == 422
    r = client.get("/v1/trials/centres", headers=auth, params={"within_km": 5})
    assert r.status_code == 422


def test_patient_view_ends_with_a_trials_card(client: TestClient, auth: dict[str, str]) -> None:
    doc = example_doc("example-001")
    assert client.post("/v1/patients", json=doc, headers=auth).status_code == 201
    hook = {"hook": "patient-view", "hookInstance": "t1",
            "context": {"userId": "Practitioner/1", "patientId": "example-001"}}
    cards = client.post("/cds-services/allpath-patient-view", json=hook,
                        headers=auth).json()["cards"]
    card = cards[-1]
    lib = match_trials(allpath.assess(allpath.parse_record(doc)), bundled_trials(), limit=3)
    assert card["indicator"] == "info"
    assert card["summary"].startswith(f"Clinical trials: {lib.count('possible')} open studies")
    assert [link["url"] for link in card["links"]] == [m.trial.url for m in lib.matches]
    assert "first look, not a decision" in card["detail"]


def test_trials_for_a_stored_patient(client: TestClient, auth: dict[str, str]) -> None:
    doc = example_doc("example-002")
    pid = client.post("/v1/patients", json=doc, headers=auth).json()["id"]
    r = client.get(f"/v1/patients/{pid}/trials", headers=auth, params={"limit": 4})
    assert r.status_code == 200, r.text
    lib = match_trials(allpath.assess(allpath.parse_record(doc)), bundled_trials(), limit=4)
    assert r.json() == lib.to_dict()
    assert client.get("/v1/patients/nobody/trials", headers=auth).status_code == 404
