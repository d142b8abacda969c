"""The REST API through the ASGI test client, on SQLite and (when set) PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_helpers import example_doc, example_docs
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

import allpath
from allpath.db import (
    AssessmentRow,
    AuditEvent,
    CdsFeedback,
    Database,
    ObservationRow,
    Patient,
    RecordVersion,
    revoke_token,
)
from allpath.examples import example_paths

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def _counts(db: Database) -> dict[str, int]:
    with db.transaction() as s:
        return {m.__tablename__: int(s.scalar(select(func.count()).select_from(m)) or 0)
                for m in (Patient, RecordVersion, ObservationRow, AssessmentRow)}


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert set(body) >= PROBLEM_KEYS and body["status"] == status
    return body


# ------------------------------------------------------------------------------- auth


def test_health_and_discovery_need_no_token(client: TestClient) -> None:
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["ruleset"] == allpath.load_knowledge().version
    services = client.get("/cds-services").json()["services"]
    assert {s["hook"] for s in services} == {"patient-view", "order-sign"}
    assert all(s["prefetch"] and s["id"] and s["description"] for s in services)


@pytest.mark.parametrize(("method", "path"), [
    ("post", "/v1/assess"), ("post", "/v1/triage"), ("post", "/v1/roadmap"),
    ("post", "/v1/titrate"), ("get", "/v1/guide"), ("post", "/v1/screen"),
    ("get", "/v1/patients"), ("post", "/v1/patients"), ("get", "/v1/patients/x/assessments"),
    ("post", "/v1/patients/x/observations"), ("get", "/v1/rules/nci_rome.standard"),
    ("post", "/cds-services/allpath-patient-view"),
    ("post", "/cds-services/allpath-order-sign"),
    ("post", "/cds-services/allpath-order-sign/feedback"),
])
def test_every_endpoint_needs_a_token(client: TestClient, method: str, path: str) -> None:
    r = client.request(method, path, json={})
    assert _problem(r, 401)["type"].endswith("/unauthorized")
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = client.request(method, path, json={}, headers={"Authorization": "Bearer ap_x_y"})
    _problem(r, 401)


def test_openapi_is_published_and_documents_the_problem_shape(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "ProblemDetails" in spec["components"]["schemas"]
    assert "/v1/assess" in spec["paths"] and "/cds-services" in spec["paths"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_revoked_token_is_refused(client: TestClient, database: Database, token: str) -> None:
    client.app.state.token_cache.clear()  # type: ignore[attr-defined]
    with database.transaction() as s:
        assert revoke_token(s, token.split("_")[1])
    r = client.get("/v1/patients", headers={"Authorization": f"Bearer {token}"})
    _problem(r, 401)


# ------------------------------------------------------------------------ assess, errors


def test_assess_native_record_equals_library_and_cli(client: TestClient,
                                                     auth: dict[str, str]) -> None:
    from allpath.cli import app as cli_app
    from allpath.cli import commands  # noqa: F401

    path = example_paths()[0]
    doc = example_doc("example-001")
    r = client.post("/v1/assess", json=doc, headers=auth)
    assert r.status_code == 200, r.text
    lib = json.loads(json.dumps(allpath.assess(allpath.parse_record(doc)).to_dict()))
    assert r.json() == lib
    cli = CliRunner().invoke(cli_app, ["assess", str(path), "--format", "json"])
    assert cli.exit_code == 0
    assert r.json() == json.loads(cli.stdout)
    assert r.json()["generated_by"]["ruleset"] == allpath.load_knowledge().version


def test_invalid_record_gives_problem_details_with_field_paths(
        client: TestClient, auth: dict[str, str]) -> None:
    doc = example_doc("example-001")
    doc["observations"][2] = {"code": "platelets", "value": 23, "unit": "furlongs",
                              "time": "2024-05-01"}
    doc["observations"][0]["value"] = "lots"
    body = _problem(client.post("/v1/assess", json=doc, headers=auth), 422)
    paths = {e["path"] for e in body["errors"]}
    assert {"observations[2].unit", "observations[0].value"} <= paths
    by_path = {e["path"]: e for e in body["errors"]}
    assert by_path["observations[2].unit"]["got"]
    with pytest.raises(allpath.RecordError) as err:
        allpath.parse_record(doc)
    assert paths == {p.path for p in err.value.problems}
    doc = example_doc("example-001")
    doc["sex"] = "femal"
    body = _problem(client.post("/v1/assess", json=doc, headers=auth), 422)
    assert body["errors"][0]["path"] == "sex"


def test_request_shape_errors_and_size_limit(client: TestClient, auth: dict[str, str]) -> None:
    body = _problem(client.post("/v1/assess", content=b"{not json", headers={
        **auth, "content-type": "application/json"}), 422)
    assert body["errors"]
    body = _problem(client.post("/v1/patients/x/observations", json={"observations": "no"},
                                headers=auth), 422)
    assert body["errors"][0]["path"].startswith("body.observations")
    big = b'{"a": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    _problem(client.post("/v1/assess", content=big, headers={
        **auth, "content-type": "application/json"}), 413)
    _problem(client.get("/v1/nope", headers=auth), 404)
    _problem(client.get("/v1/rules/no.such.rule", headers=auth), 404)


def test_rule_explanation(client: TestClient, auth: dict[str, str]) -> None:
    r = client.get("/v1/rules/nci_rome.standard", headers=auth).json()
    assert r["rule_id"] == "nci_rome.standard" and r["citations"]


# ---------------------------------------------------------------------- patients, history


def _create(client: TestClient, auth: dict[str, str], rid: str) -> dict[str, Any]:
    r = client.post("/v1/patients", json=example_doc(rid), headers=auth)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def test_patient_crud_history_and_audit(client: TestClient, auth: dict[str, str],
                                        database: Database) -> None:
    p = _create(client, auth, "example-005")
    pid = p["id"]
    assert p["external_id"] == "example-005" and p["record_version"] == 1
    assert p["latest_assessment"]["ruleset"] == allpath.load_knowledge().version
    _problem(client.post("/v1/patients", json=example_doc("example-005"), headers=auth), 409)
    listed = client.get("/v1/patients", params={"external_id": "example-005"},
                        headers=auth).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == pid
    assert client.get(f"/v1/patients/{pid}/record", headers=auth).json() == \
        example_doc("example-005")
    doc = example_doc("example-005")
    doc["treatment"] = [{"phase": "induction", "start": "2024-02-15"}]
    r = client.put(f"/v1/patients/{pid}/record", json=doc, headers=auth)
    assert r.status_code == 200 and r.json()["record_version"] == 2
    doc["id"] = "other"
    assert _problem(client.put(f"/v1/patients/{pid}/record", json=doc, headers=auth),
                    422)["errors"][0]["path"] == "id"
    versions = client.get(f"/v1/patients/{pid}/records", headers=auth).json()
    assert [v["reason"] for v in versions] == ["created", "replaced"]
    hist = client.get(f"/v1/patients/{pid}/assessments", headers=auth).json()
    assert [h["record_version"] for h in hist] == [2, 1]
    one = client.get(f"/v1/patients/{pid}/assessments/{hist[0]['id']}", headers=auth).json()
    assert one["format"] == "allpath.assessment/1" and one["current"]["last_recorded_phase"] \
        == "induction"
    r = client.post(f"/v1/patients/{pid}/assessments", headers=auth)
    assert r.status_code == 201 and r.json()["ruleset"] == allpath.load_knowledge().version
    with database.transaction() as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        actions = [e.action for e in events]
        assert {"patient.create", "record.read", "record.replace", "assessment.list",
                "assessment.read", "assessment.create"} <= set(actions)
        assert all(e.actor.startswith("token:") for e in events)
        text = " ".join(f"{e.action} {e.detail or ''}" for e in events)
    for value in ("example-005", "2024-02-15", "induction", "female", "male"):
        assert value not in text  # identifiers are internal ids; no clinical values
    assert client.delete(f"/v1/patients/{pid}", headers=auth).status_code == 204
    _problem(client.get(f"/v1/patients/{pid}", headers=auth), 404)
    assert _counts(database) == {"patients": 0, "records": 0, "observations": 0,
                                 "assessments": 0}


def test_observations_appended_then_reassessed(client: TestClient, auth: dict[str, str],
                                               database: Database) -> None:
    doc = example_doc("example-001")
    doc["observations"] = [o for o in doc["observations"] if not o["code"].startswith("mrd")]
    r = client.post("/v1/patients", json=doc, headers=auth)
    pid = r.json()["id"]
    first = r.json()["latest_assessment"]
    assert first["risk"]["cog_pdq"] in ("unknown", "low", "average")
    mrd = [o for o in example_doc("example-001")["observations"] if o["code"].startswith("mrd")]
    r = client.post(f"/v1/patients/{pid}/observations", json={"observations": mrd},
                    headers=auth)
    assert r.status_code == 201, r.text
    added = r.json()
    assert added["record_version"] == 2 and added["added"] == 2
    full = allpath.assess(allpath.parse_record(example_doc("example-001"))).to_dict()
    assert added["assessment"]["risk"] == {x["scheme"]: x["group"] for x in full["risk"]}
    hist = client.get(f"/v1/patients/{pid}/assessments", headers=auth).json()
    assert len(hist) == 2 and hist[0]["id"] == added["assessment"]["id"]
    stored = client.get(f"/v1/patients/{pid}/assessments/{hist[0]['id']}",
                        headers=auth).json()
    assert stored["mrd"] == full["mrd"]
    obs = client.get(f"/v1/patients/{pid}/observations", headers=auth).json()
    assert [o["data"]["code"] for o in obs] == ["mrd_blood", "mrd_marrow"]
    # a bad observation: problem path points into the request body, nothing is stored
    before = _counts(database)
    bad = {"observations": [mrd[0], {"code": "wbc", "value": 3, "unit": "furlongs",
                                     "time": "2024-06-01"}]}
    body = _problem(client.post(f"/v1/patients/{pid}/observations", json=bad, headers=auth),
                    422)
    assert body["errors"][0]["path"].startswith("observations[1]")
    assert _counts(database) == before


def test_failure_mid_write_leaves_nothing(client: TestClient, auth: dict[str, str],
                                          database: Database,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import allpath.api.patients as patients_api

    def boom(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("disk on fire")  # after the patient and record rows were flushed

    monkeypatch.setattr(patients_api, "run_assess", boom)
    body = _problem(client.post("/v1/patients", json=example_doc("example-001"),
                                headers=auth), 500)
    assert "disk on fire" not in json.dumps(body)
    assert _counts(database) == {"patients": 0, "records": 0, "observations": 0,
                                 "assessments": 0}
    monkeypatch.undo()
    pid = _create(client, auth, "example-001")["id"]
    before = _counts(database)
    monkeypatch.setattr(patients_api, "run_assess", boom)
    obs = {"observations": [{"code": "wbc", "value": 3.1, "unit": "10*9/L",
                             "time": "2024-06-02"}]}
    _problem(client.post(f"/v1/patients/{pid}/observations", json=obs, headers=auth), 500)
    assert _counts(database) == before


# --------------------------------------------------------------------------- CDS Hooks


def _hook(hook: str, patient: str, **context: Any) -> dict[str, Any]:
    return {"hook": hook, "hookInstance": "d1b7a1f0-0000-4000-8000-000000000001",
            "context": {"userId": "Practitioner/1", "patientId": patient, **context},
            "extension": {"allpath-reference-date": "2024-05-20"}}


def _check_card(card: dict[str, Any]) -> None:
    assert set(card) <= {"uuid", "summary", "detail", "indicator", "source", "suggestions",
                         "selectionBehavior", "overrideReasons", "links"}
    assert isinstance(card["summary"], str) and 0 < len(card["summary"]) < 140
    assert card["indicator"] in ("info", "warning", "critical")
    assert card["source"]["label"]
    for link in card.get("links", []):
        assert link["type"] in ("absolute", "smart") and link["label"] and link["url"]


def test_patient_view_cards_for_every_demo_patient(client: TestClient,
                                                   auth: dict[str, str]) -> None:
    for doc in example_docs():
        assert client.post("/v1/patients", json=doc, headers=auth).status_code == 201
    for doc in example_docs():
        r = client.post("/cds-services/allpath-patient-view",
                        json=_hook("patient-view", doc["id"]), headers=auth)
        assert r.status_code == 200, r.text
        cards = r.json()["cards"]
        assert cards, doc["id"]
        for c in cards:
            _check_card(c)
        main = cards[0]
        assert main["source"]["topic"]["system"] == "https://allpath.invalid/rules"
        assert "[" in main["source"]["label"]  # citations named
        assert any(link["url"].endswith(f"/v1/rules/{main['source']['topic']['code']}")
                   for link in main["links"])
    # example-001: ETV6::RUNX1, induction day 27 as recorded, EOI marrow due within 14 days
    cards = client.post("/cds-services/allpath-patient-view",
                        json=_hook("patient-view", "example-001"), headers=auth).json()["cards"]
    assert "ETV6::RUNX1" in cards[0]["summary"] and "induction day 27" in cards[0]["summary"]
    if len(cards) > 1:
        assert "End-of-induction" in cards[1]["detail"]
    # example-002: mediastinal mass alert as a critical card citing its rule
    cards = client.post("/cds-services/allpath-patient-view",
                        json=_hook("patient-view", "example-002"), headers=auth).json()["cards"]
    alert = [c for c in cards if c["source"].get("topic", {}).get("code") ==
             "alert.mediastinal_mass"]
    assert alert and alert[0]["indicator"] == "critical"
    # unknown patient, no prefetch, no fhirServer: the data cannot be had, 412 (CDS Hooks 2.0)
    r = client.post("/cds-services/allpath-patient-view",
                    json=_hook("patient-view", "nobody"), headers=auth)
    assert r.status_code == 412 and "'nobody'" in r.json()["detail"]


def _order(drug: str, value: float, unit: str = "mg") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "status": "draft", "intent": "order",
        "medicationCodeableConcept": {"text": drug},
        "dosageInstruction": [{"doseAndRate": [{"doseQuantity": {
            "value": value, "unit": unit}}]}]}}]}


def test_order_sign_checks_dose_and_cap(client: TestClient, auth: dict[str, str]) -> None:
    _create(client, auth, "example-001")
    url = "/cds-services/allpath-order-sign"

    def cards(drug: str, value: float, unit: str = "mg") -> list[dict[str, Any]]:
        r = client.post(url, json=_hook("order-sign", "example-001",
                                         draftOrders=_order(drug, value, unit)), headers=auth)
        assert r.status_code == 200, r.text
        out: list[dict[str, Any]] = r.json()["cards"]
        for c in out:
            _check_card(c)
        return out

    ok = cards("vincristine", 1.04)
    assert ok[0]["indicator"] == "info" and "within" in ok[0]["summary"]
    assert "[" in ok[0]["source"]["label"]
    high = cards("vincristine", 1.8)
    assert high[0]["indicator"] == "warning" and "above the BSA-based" in high[0]["summary"]
    capped = cards("Vincristine sulfate", 2.5)
    assert capped[0]["indicator"] == "critical" and "cap" in capped[0]["summary"]
    counts = capped[-1]
    assert "ANC" in counts["detail"] and counts["indicator"] == "warning"  # 19 days old
    assert cards("vincristine", 1.0, "g")[0]["indicator"] == "critical"  # 1 g = 1000 mg (pint)
    assert cards("vincristine", 1.0, "mL")[0]["indicator"] == "warning"  # unit differs
    (unknown,) = cards("paracetamol", 500)  # never silence (issue 12)
    assert unknown["indicator"] == "info" and "could not identify" in unknown["summary"]
    r = client.post(url, json=_hook("order-sign", "example-001"), headers=auth)
    assert r.json()["cards"] == []


def test_order_sign_without_a_roadmap_says_the_dose_was_not_checked(
        client: TestClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import allpath.pipeline as pipeline

    _create(client, auth, "example-001")
    monkeypatch.setattr(pipeline, "build_roadmap",
                        lambda basis, **kw: None)  # no template applies
    r = client.post("/cds-services/allpath-order-sign", headers=auth, json=_hook(
        "order-sign", "example-001", draftOrders=_order("vincristine", 1.0)))
    cards = r.json()["cards"]
    dose = [c for c in cards if "roadmap" in c["summary"] or "dose" in c["summary"]]
    assert len(dose) == 1 and dose[0]["indicator"] == "info"
    assert "no treatment roadmap" in dose[0]["summary"]
    assert "dose not checked" in dose[0]["summary"]
    assert not any("within" in c["summary"] for c in cards)  # no dose judged without one


def test_feedback_is_stored(client: TestClient, auth: dict[str, str],
                            database: Database) -> None:
    fb = {"feedback": [
        {"card": "9368d37b-283f-44a0-93ea-547cebab93ed", "outcome": "accepted",
         "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
         "outcomeTimestamp": "2024-05-20T10:00:00Z"},
        {"card": "9368d37b-283f-44a0-93ea-547cebab93ee", "outcome": "overridden",
         "overrideReason": {"reason": {"code": "patient-reason", "system":
                                       "http://example.org/cds", "display": "Patient"},
                            "userComment": "discussed"},
         "outcomeTimestamp": "2024-05-20T10:01:00Z"}]}
    r = client.post("/cds-services/allpath-order-sign/feedback", json=fb, headers=auth)
    assert r.status_code == 200 and r.json() == {"stored": 2}
    with database.transaction() as s:
        rows = s.scalars(select(CdsFeedback).order_by(CdsFeedback.id)).all()
        assert [(x.outcome, x.service_id) for x in rows] == [
            ("accepted", "allpath-order-sign"), ("overridden", "allpath-order-sign")]
        assert rows[1].override_reason is not None
        assert rows[1].override_reason["reason"]["code"] == "patient-reason"
    _problem(client.post("/cds-services/nope/feedback", json=fb, headers=auth), 404)
    fb["feedback"][0]["outcome"] = "ignored"
    assert _problem(client.post("/cds-services/allpath-order-sign/feedback", json=fb,
                                headers=auth), 422)["errors"][0]["path"].startswith(
        "body.feedback[0].outcome")
