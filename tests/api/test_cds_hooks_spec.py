"""CDS Hooks 2.0 as the specification defines it: the EHR's signed JWT, data fetched from
the EHR's FHIR server when not prefetched (a real loopback server serving the official
mCODE example and Synthea bundles), 412 when the data cannot be had, no cards for charts
that are not about ALL, the hook name, systemActions, CORS and card links without a token.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from api_helpers import REFERENCE_DAY, example_doc
from cds_fhir_stub import (
    MCODE_BUNDLE,
    SYNTHEA_CHILD,
    SYNTHEA_CHILD_2,
    SYNTHEA_COLON,
    TOKEN,
    Stub,
    load_resources,
    patient_id,
    prefetch_of,
    start,
)
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from allpath.api import Settings, create_app
from allpath.api import cds as cds_module
from allpath.db import AuditEvent, Database
from allpath.interop.fhir.codes import ALL_CONDITION_CODES, CS
from allpath.observations.catalogue import load_catalogue

BASE = "https://allpath.test"
PV = "/cds-services/allpath-patient-view"
OS = "/cds-services/allpath-order-sign"
ISS = "https://ehr.example.test"
ISS_EC = "https://ehr-ec.example.test"
HARNESS = "https://harness.example.test"

# ALL itself, as codes.py lists it (SNOMED, no lineage)
ALL_CODE = next(k for k, v in ALL_CONDITION_CODES.items() if k[0] == CS.SNOMED and not v[1])

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    return {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec": ec.generate_private_key(ec.SECP384R1()),
            "stranger": rsa.generate_private_key(public_exponent=65537, key_size=2048)}


def _jwk(private: Any, kid: str, alg: str) -> dict[str, Any]:
    algo = jwt.algorithms.RSAAlgorithm if alg.startswith("RS") else jwt.algorithms.ECAlgorithm
    out: dict[str, Any] = algo.to_jwk(private.public_key(), as_dict=True)
    return {**out, "kid": kid, "alg": alg, "use": "sig"}


def _all_child() -> list[dict[str, Any]]:
    """A Synthea child (Enda) with an ALL condition and a WBC in a unit that does not fit."""
    res = load_resources(SYNTHEA_CHILD_2)
    pid = patient_id(res)
    for r in res:  # a second patient id, so the healthy original can be served too
        if r["resourceType"] == "Patient":
            r["id"] = "all-child"
    text = json.dumps(res).replace(f"Patient/{pid}", "Patient/all-child")
    res = json.loads(text)
    res.append({"resourceType": "Condition", "id": "all-dx",
                "clinicalStatus": {"coding": [{"system": CS.CONDITION_CLINICAL,
                                               "code": "active"}]},
                "verificationStatus": {"coding": [{"system": CS.CONDITION_VERIFICATION,
                                                   "code": "confirmed"}]},
                "code": {"coding": [{"system": ALL_CODE[0], "code": ALL_CODE[1]}]},
                "subject": {"reference": "Patient/all-child"},
                "onsetDateTime": "2024-04-02"})
    res.append({"resourceType": "Observation", "id": "wbc-bad-unit", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "6690-2"}]},
                "subject": {"reference": "Patient/all-child"},
                "effectiveDateTime": "2024-04-02",
                "valueQuantity": {"value": 12.0, "unit": "kg",
                                  "system": "http://unitsofmeasure.org", "code": "kg"}})
    return res


@pytest.fixture(scope="module")
def stub(keys: dict[str, Any]) -> Iterator[Stub]:
    resources = load_resources(MCODE_BUNDLE, SYNTHEA_CHILD, SYNTHEA_COLON) + _all_child()
    with start(resources, jwks={"keys": [_jwk(keys["ec"], "ec1", "ES384")]}) as s:
        yield s


def _registry(tmp_path: Path, keys: dict[str, Any], stub: Stub) -> Path:
    path = tmp_path / "cds-issuers.json"
    path.write_text(json.dumps({"issuers": [
        {"iss": ISS, "name": "Test EHR", "jwks": {"keys": [_jwk(keys["rsa"], "rs1", "RS384")]},
         "fhir_servers": [stub.fhir, f"{stub.base}/loop", f"{stub.base}/elsewhere",
                          f"{stub.base}/broken"]},
        {"iss": ISS_EC, "jku": [f"{stub.base}/jwks.json"], "fhir_servers": [stub.fhir]},
    ]}), encoding="utf-8")
    return path


def _app(database: Database, registry: Path, **over: Any) -> FastAPI:
    cfg: dict[str, Any] = {
        "today": lambda: REFERENCE_DAY, "public_url": BASE, "cds_issuers_path": registry,
        "cds_allow_unauthenticated": False, "cds_fhir_servers": (),
        "cors_origins": (HARNESS,), "link_secret": "test-link-secret", **over}
    return create_app(settings=Settings(**cfg), database=database)


@pytest.fixture
def registry(tmp_path: Path, keys: dict[str, Any], stub: Stub) -> Path:
    return _registry(tmp_path, keys, stub)


@pytest.fixture
def ehr(database: Database, registry: Path) -> Iterator[TestClient]:
    with TestClient(_app(database, registry), raise_server_exceptions=False) as c:
        yield c


def _sign(keys: dict[str, Any], url: str = PV, *, alg: str = "RS384", kid: str = "rs1",
          key: str = "rsa", iss: str = ISS, headers: dict[str, Any] | None = None,
          **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": iss, "sub": "ehr-client", "aud": BASE + url, "exp": now + 120,
               "iat": now, "jti": str(uuid.uuid4())}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, keys[key], algorithm=alg,
                      headers={"kid": kid, "typ": "JWT", **(headers or {})})


def bearer_scheme(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _hook(pid: str, prefetch: dict[str, Any] | None = None, fhir: str | None = None,
          access_token: str = TOKEN, name: str = "patient-view",
          **context: Any) -> dict[str, Any]:
    h: dict[str, Any] = {"hook": name, "hookInstance": str(uuid.uuid4()),
                         "context": {"userId": "Practitioner/1", "patientId": pid,
                                     **context}}
    if prefetch is not None:
        h["prefetch"] = prefetch
    if fhir is not None:
        h["fhirServer"] = fhir
        h["fhirAuthorization"] = {"access_token": access_token, "token_type": "Bearer",
                                  "expires_in": 300, "scope": "patient/*.read",
                                  "subject": "allpath"}
    return h


def _unsigned(claims: dict[str, Any]) -> str:
    def b64(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")
    return f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': 'rs1'})}.{b64(claims)}."


MCODE_PID = "mCODETrialMatchingPatientExample01"

# ----------------------------------------------------------------------- authentication


def test_rs384_jwt_from_a_registered_issuer_is_accepted(ehr: TestClient, keys: dict[str, Any],
                                                        stub: Stub, database: Database,
                                                        ) -> None:
    r = ehr.post(PV, json=_hook(MCODE_PID, stub.prefetch(MCODE_PID)),
                 headers=bearer_scheme(_sign(keys)))
    assert r.status_code == 200, r.text
    assert r.json()["cards"] == []  # breast cancer, not ALL


def test_es384_jwt_with_a_jku_on_the_issuers_list_is_accepted(
        ehr: TestClient, keys: dict[str, Any], stub: Stub) -> None:
    token = _sign(keys, alg="ES384", kid="ec1", key="ec", iss=ISS_EC,
                  headers={"jku": f"{stub.base}/jwks.json"})
    r = ehr.post(PV, json=_hook(MCODE_PID, stub.prefetch(MCODE_PID)), headers=bearer_scheme(token))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(("case", "reason"), [
    ("unknown issuer", "not registered"),
    ("wrong audience", "another audience"),
    ("audience of the other service", "another audience"),
    ("expired", "expired"),
    ("issued in the future", "not valid yet"),
    ("no jti", "missing the jti claim"),
    ("no exp", "missing the exp claim"),
    ("HS384 with a shared secret", "algorithm 'HS384' is not accepted"),
    ("alg none", "algorithm 'none' is not accepted"),
    ("RS256", "algorithm 'RS256' is not accepted"),
    ("jku not on the list", "not on the key-set list"),
    ("unknown kid", "no key with kid"),
    ("signed by another key", "signature does not verify"),
    ("no kid", "has no kid"),
    ("valid for an hour", "more than 300 s ahead"),
])
def test_cds_jwt_is_refused(ehr: TestClient, keys: dict[str, Any], stub: Stub,
                            database: Database, case: str, reason: str) -> None:
    now = int(time.time())
    token = {
        "unknown issuer": lambda: _sign(keys, iss="https://evil.example.test"),
        "wrong audience": lambda: _sign(keys, aud="https://elsewhere.test/cds-services/x"),
        "audience of the other service": lambda: _sign(keys, url=OS),
        "expired": lambda: _sign(keys, exp=now - 120, iat=now - 240),
        "issued in the future": lambda: _sign(keys, iat=now + 600, exp=now + 660),
        "no jti": lambda: _sign(keys, jti=None),
        "no exp": lambda: _sign(keys, exp=None),
        "HS384 with a shared secret": lambda: jwt.encode(
            {"iss": ISS, "aud": BASE + PV, "exp": now + 60, "iat": now, "jti": "h"},
            "a-shared-secret-of-at-least-48-bytes-for-hs384-xxxxxxxx", algorithm="HS384",
            headers={"kid": "rs1"}),
        "alg none": lambda: _unsigned({"iss": ISS, "aud": BASE + PV, "exp": now + 60,
                                       "iat": now, "jti": "n"}),
        "RS256": lambda: _sign(keys, alg="RS256"),
        "jku not on the list": lambda: _sign(keys, headers={
            "jku": "https://attacker.example.test/jwks.json"}),
        "unknown kid": lambda: _sign(keys, kid="rs-unknown"),
        "signed by another key": lambda: _sign(keys, key="stranger"),
        "no kid": lambda: jwt.encode({"iss": ISS, "aud": BASE + PV, "exp": now + 60,
                                      "iat": now, "jti": "k"}, keys["rsa"],
                                     algorithm="RS384"),
        "valid for an hour": lambda: _sign(keys, exp=now + 3600),
    }[case]()
    r = ehr.post(PV, json=_hook(MCODE_PID, stub.prefetch(MCODE_PID)), headers=bearer_scheme(token))
    assert r.status_code == 401, (case, r.text)
    assert reason in r.json()["detail"], (case, r.json()["detail"])
    assert r.headers["www-authenticate"].startswith("Bearer")
    with database.transaction() as session:
        failed = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "auth.failed")).all()
        assert failed and all(token not in (e.detail or "") for e in failed)


def test_replayed_jti_is_refused_also_by_another_worker(
        database: Database, registry: Path, keys: dict[str, Any], stub: Stub) -> None:
    token = _sign(keys)
    hook = _hook(MCODE_PID, stub.prefetch(MCODE_PID))
    with TestClient(_app(database, registry)) as one, TestClient(_app(database, registry)) \
            as two:  # two apps on one database: two workers
        assert one.post(PV, json=hook, headers=bearer_scheme(token)).status_code == 200
        again = one.post(PV, json=hook, headers=bearer_scheme(token))
        assert again.status_code == 401 and "replayed" in again.json()["detail"]
        other = two.post(PV, json=hook, headers=bearer_scheme(token))
        assert other.status_code == 401 and "replayed" in other.json()["detail"]
        assert two.post(PV, json=hook, headers=bearer_scheme(_sign(keys))).status_code == 200


def test_unsigned_call_is_401_unless_demo_mode_which_logs_each_call(
        database: Database, registry: Path, stub: Stub,
        caplog: pytest.LogCaptureFixture) -> None:
    hook = _hook(MCODE_PID, stub.prefetch(MCODE_PID))
    with TestClient(_app(database, registry), raise_server_exceptions=False) as strict:
        r = strict.post(PV, json=hook)
        assert r.status_code == 401 and r.json()["type"].endswith("/unauthorized")
    with TestClient(_app(database, registry, cds_allow_unauthenticated=True),
                    raise_server_exceptions=False) as demo, caplog.at_level("WARNING"):
        assert demo.post(PV, json=hook).status_code == 200
        assert any("without authentication accepted" in m for m in caplog.messages)
        # demo mode only waives a missing header: a bad token is still refused
        assert demo.post(PV, json=hook, headers=bearer_scheme("a.b.c")).status_code == 401
        # and it never opens the REST API
        assert demo.get("/v1/patients").status_code == 401


def test_allpath_tokens_keep_working_and_a_cds_jwt_does_not_open_the_rest_api(
        ehr: TestClient, keys: dict[str, Any], stub: Stub, auth: dict[str, str]) -> None:
    assert ehr.post(PV, json=_hook(MCODE_PID, stub.prefetch(MCODE_PID)),
                    headers=auth).status_code == 200
    assert ehr.get("/v1/patients", headers=auth).status_code == 200
    r = ehr.get("/v1/patients", headers=bearer_scheme(_sign(keys, url="/v1/patients")))
    assert r.status_code == 401


def test_feedback_accepts_a_jwt_addressed_to_the_feedback_endpoint(
        ehr: TestClient, keys: dict[str, Any]) -> None:
    url = PV + "/feedback"
    body = {"feedback": [{"card": "c1", "outcome": "accepted"}]}
    assert ehr.post(url, json=body, headers=bearer_scheme(_sign(keys, url=url))).json() == \
        {"stored": 1}


# ------------------------------------------------------------------ data and fetching


def test_missing_prefetch_is_fetched_from_the_fhir_server_following_next_pages(
        ehr: TestClient, keys: dict[str, Any], stub: Stub) -> None:
    colon = load_resources(SYNTHEA_COLON)
    pid = patient_id(colon)
    n_obs = sum(r["resourceType"] == "Observation" for r in colon)
    assert n_obs > 30  # several pages of 10
    stub.seen.clear()
    r = ehr.post(PV, json=_hook(pid, fhir=stub.fhir), headers=bearer_scheme(_sign(keys)))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cards"] == []  # an adult with colon cancer: nothing about ALL
    fetched = body["extension"]["allpath-fetched"]
    assert sorted(fetched["keys"]) == ["conditions", "medications", "observations", "patient"]
    obs_pages = [p for p, _ in stub.seen if p.startswith("/fhir/Observation")]
    assert len(obs_pages) == -(-n_obs // 10)
    assert all(a == f"Bearer {TOKEN}" for _, a in stub.seen)
    assert "systemActions" not in body


def test_official_mcode_example_partly_prefetched_is_completed_and_warnings_reach_the_response(
        ehr: TestClient, keys: dict[str, Any], stub: Stub) -> None:
    full = stub.prefetch(MCODE_PID)
    partial = {"patient": full["patient"], "conditions": full["conditions"]}
    stub.seen.clear()
    r = ehr.post(PV, json=_hook(MCODE_PID, partial, fhir=stub.fhir),
                 headers=bearer_scheme(_sign(keys)))
    assert r.status_code == 200, r.text
    ext = r.json()["extension"]
    assert sorted(ext["allpath-fetched"]["keys"]) == ["medications", "observations"]
    assert not any(p.startswith(("/fhir/Patient", "/fhir/Condition")) for p, _ in stub.seen)
    warnings = ext["allpath-import-warnings"]
    assert warnings["count"] == len(warnings["warnings"]) > 0
    assert any("408643008" in w.get("code", "") for w in warnings["warnings"])  # breast ca
    assert ext["allpath-relevance"] == {"concerns_all": False, "why": []}


def test_operation_outcome_in_the_prefetch_is_fetched_instead_and_reported(
        ehr: TestClient, keys: dict[str, Any], stub: Stub) -> None:
    pre = stub.prefetch("all-child")
    pre["observations"] = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "timeout", "diagnostics": "EHR search timed out"}]}
    r = ehr.post(PV, json=_hook("all-child", pre, fhir=stub.fhir),
                 headers=bearer_scheme(_sign(keys)))
    assert r.status_code == 200, r.text
    ext = r.json()["extension"]
    assert ext["allpath-fetched"]["keys"] == ["observations"]
    note = next(w for w in ext["allpath-import-warnings"]["warnings"]
                if w["path"] == "prefetch.observations")
    assert "EHR search timed out" in note["message"] and "fetched" in note["message"]


def test_operation_outcome_without_a_fhir_server_is_412(ehr: TestClient,
                                                       keys: dict[str, Any],
                                                       stub: Stub) -> None:
    pre = stub.prefetch("all-child")
    pre["observations"] = {"resourceType": "OperationOutcome", "issue": []}
    r = ehr.post(PV, json=_hook("all-child", pre), headers=bearer_scheme(_sign(keys)))
    assert r.status_code == 412 and "observations" in r.json()["detail"]


def test_null_prefetch_key_means_no_data_and_is_not_fetched(
        ehr: TestClient, keys: dict[str, Any], stub: Stub) -> None:
    pre = stub.prefetch(MCODE_PID)
    pre["medications"] = None
    r = ehr.post(PV, json=_hook(MCODE_PID, pre), headers=bearer_scheme(_sign(keys)))
    assert r.status_code == 200 and "allpath-fetched" not in r.json()["extension"]


@pytest.mark.parametrize(("case", "status_text"), [
    ("no fhirServer", "names no fhirServer"),
    ("fhirServer answers 401", "HTTP 401"),
    ("fhirServer answers 500", "HTTP 500"),
    ("fhirServer not registered", "not registered for this caller"),
    ("patient unknown to the server", "HTTP 404"),
])
def test_data_that_cannot_be_had_is_412(ehr: TestClient, keys: dict[str, Any], stub: Stub,
                                        case: str, status_text: str) -> None:
    hook = {
        "no fhirServer": _hook(MCODE_PID),
        "fhirServer answers 401": _hook(MCODE_PID, fhir=stub.fhir, access_token="stale"),
        "fhirServer answers 500": _hook(MCODE_PID, fhir=f"{stub.base}/broken"),
        "fhirServer not registered": _hook(MCODE_PID, fhir="http://127.0.0.1:9/fhir"),
        "patient unknown to the server": _hook("nobody", fhir=stub.fhir),
    }[case]
    r = ehr.post(PV, json=hook, headers=bearer_scheme(_sign(keys)))
    assert r.status_code == 412, (case, r.text)
    assert status_text in r.json()["detail"], r.json()["detail"]
    assert TOKEN not in r.text and "stale" not in r.text


def test_paging_stops_at_its_bound_and_says_so(ehr: TestClient, keys: dict[str, Any],
                                               stub: Stub) -> None:
    from allpath.api.cds_fetch import MAX_PAGES

    pre = stub.prefetch("all-child")
    del pre["observations"]
    stub.seen.clear()
    r = ehr.post(PV, json=_hook("all-child", pre, fhir=f"{stub.base}/loop"),
                 headers=bearer_scheme(_sign(keys)))
    assert r.status_code == 200, r.text
    assert sum(p.startswith("/loop/Observation") for p, _ in stub.seen) == MAX_PAGES
    notes = r.json()["extension"]["allpath-import-warnings"]["warnings"]
    assert any(f"more than {MAX_PAGES} pages" in w["message"] for w in notes)
    assert "Data ALLPath did not use" in r.json()["cards"][0]["detail"]


def test_a_next_link_to_another_host_is_not_followed(ehr: TestClient, keys: dict[str, Any],
                                                     stub: Stub) -> None:
    pre = stub.prefetch("all-child")
    del pre["observations"]
    stub.seen.clear()
    r = ehr.post(PV, json=_hook("all-child", pre, fhir=f"{stub.base}/elsewhere"),
                 headers=bearer_scheme(_sign(keys)))
    assert r.status_code == 200, r.text
    assert [p for p, _ in stub.seen] == ["/elsewhere/Observation?patient=all-child"
                                         "&_count=1000"]
    notes = r.json()["extension"]["allpath-import-warnings"]["warnings"]
    assert any("leaves the FHIR server" in w["message"] for w in notes)


# ------------------------------------------------------------------ no alert fatigue


@pytest.mark.parametrize("bundle", [SYNTHEA_CHILD, SYNTHEA_CHILD_2, SYNTHEA_COLON, MCODE_BUNDLE],
                         ids=["healthy-child", "healthy-child-2", "adult-colon-cancer",
                              "mcode-breast-cancer"])
def test_chart_not_about_all_gets_no_cards(ehr: TestClient, keys: dict[str, Any],
                                           bundle: Path) -> None:
    res = load_resources(bundle)
    pid = patient_id(res)
    r = ehr.post(PV, json=_hook(pid, prefetch_of(res, pid)), headers=bearer_scheme(_sign(keys)))
    assert r.status_code == 200, r.text
    assert r.json()["cards"] == []
    assert r.json()["extension"]["allpath-relevance"]["concerns_all"] is False


def test_child_with_an_all_condition_gets_cards_and_the_import_warnings_in_summary(
        ehr: TestClient, keys: dict[str, Any], stub: Stub) -> None:
    r = ehr.post(PV, json=_hook("all-child", stub.prefetch("all-child")),
                 headers=bearer_scheme(_sign(keys)))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cards"], body
    why = body["extension"]["allpath-relevance"]["why"]
    assert any(ALL_CODE[1] in w for w in why)
    warnings = body["extension"]["allpath-import-warnings"]
    unit = [w for w in warnings["warnings"] if "unit 'kg'" in w["message"]]
    assert unit, warnings  # the WBC in kg is refused, and said
    detail = body["cards"][0]["detail"]
    assert f"({warnings['count']} import warning(s))" in detail
    refused, unused = detail.split("Refused or skipped (")[1].split("Not used by ALLPath (")
    assert "wbc: unit 'kg' does not parse or does not fit" in refused  # listed first
    assert "observation code not known to ALLPath" in unused


def test_order_sign_for_a_chart_not_about_all_gets_no_cards(ehr: TestClient,
                                                            keys: dict[str, Any]) -> None:
    res = load_resources(SYNTHEA_COLON)
    pid = patient_id(res)
    order = {"resourceType": "MedicationRequest", "status": "draft", "intent": "order",
             "medicationCodeableConcept": {"text": "vincristine"},
             "dosageInstruction": [{"doseAndRate": [{"doseQuantity": {"value": 2,
                                                                      "unit": "mg"}}]}]}
    hook = _hook(pid, prefetch_of(res, pid), name="order-sign",
                 draftOrders={"resourceType": "Bundle", "type": "collection",
                              "entry": [{"resource": order}]})
    r = ehr.post(OS, json=hook, headers=bearer_scheme(_sign(keys, url=OS)))
    assert r.status_code == 200, r.text
    assert r.json()["cards"] == []


# ------------------------------------------------------ hook name, response, CORS, links


def test_a_hook_the_service_does_not_answer_is_400_naming_the_served_hooks(
        ehr: TestClient, auth: dict[str, str]) -> None:
    r = ehr.post(PV, json=_hook("x", name="order-select"), headers=auth)
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert "'patient-view'" in detail and "'order-select'" in detail and "order-sign" in detail
    r = ehr.post(PV, json=_hook("x", name="order-sign"), headers=auth)
    assert r.status_code == 400 and "answers the 'patient-view' hook" in r.json()["detail"]


def test_an_unknown_service_is_404_pointing_to_discovery(ehr: TestClient) -> None:
    r = ehr.post("/cds-services/allpath-nope", json=_hook("x"))
    assert r.status_code == 404 and "GET /cds-services" in r.json()["detail"]


def test_system_actions_and_empty_extension_are_omitted(ehr: TestClient,
                                                        auth: dict[str, str]) -> None:
    ehr.post("/v1/patients", json=example_doc("example-001"), headers=auth)
    r = ehr.post(OS, json=_hook("example-001", name="order-sign"), headers=auth)
    assert r.json() == {"cards": []}  # no draft orders: nothing to say, nothing empty
    r = ehr.post(PV, json=_hook("example-001"), headers=auth)
    assert r.status_code == 200 and "systemActions" not in r.json()
    assert r.json()["cards"]


def test_cors_answers_allowed_origins_only(ehr: TestClient, database: Database,
                                          registry: Path) -> None:
    pre = {"Origin": HARNESS, "Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "authorization,content-type"}
    r = ehr.options(PV, headers=pre)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == HARNESS
    assert "authorization" in r.headers["access-control-allow-headers"].lower()
    r = ehr.get("/cds-services", headers={"Origin": HARNESS})
    assert r.headers["access-control-allow-origin"] == HARNESS
    r = ehr.options(PV, headers={**pre, "Origin": "https://evil.example.test"})
    assert "access-control-allow-origin" not in r.headers
    r = ehr.get("/v1/patients", headers={"Origin": HARNESS})  # the REST API: no CORS
    assert "access-control-allow-origin" not in r.headers
    with TestClient(_app(database, registry, cors_origins=())) as default:
        r = default.get("/cds-services", headers={"Origin": HARNESS})
        assert "access-control-allow-origin" not in r.headers


def test_card_links_open_without_a_token(ehr: TestClient, auth: dict[str, str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert ehr.post("/v1/patients", json=example_doc("example-001"),
                    headers=auth).status_code == 201
    cards = ehr.post(PV, json=_hook("example-001"), headers=auth).json()["cards"]
    links = [link["url"] for c in cards for link in c.get("links", [])
             if link["url"].startswith(BASE)]
    links += [c["source"]["url"] for c in cards if c["source"].get("url", "").startswith(BASE)]
    assert any("/cds-links/v1/rules/" in u for u in links)
    history = next(u for u in links if "/assessments?" in u)
    for url in links:
        r = ehr.get(url.removeprefix(BASE))  # no Authorization header
        assert r.status_code == 200, (url, r.text)
    assert isinstance(ehr.get(history.removeprefix(BASE)).json(), list)
    tampered = history.removeprefix(BASE).replace("sig=", "sig=x")
    assert ehr.get(tampered).status_code == 403
    # a signature that is not ASCII is a 403 too, never a 500 (benchmarks/hardening.py found
    # compare_digest raising TypeError on it)
    for odd in ("%C3%A9", "%E2%82%AC" * 11, "%F0%9F%98%80"):
        assert ehr.get(history.removeprefix(BASE).replace("sig=", f"sig={odd}")
                       ).status_code == 403
    monkeypatch.setattr(cds_module, "LINK_TTL_S", -1)
    cards = ehr.post(PV, json=_hook("example-001"), headers=auth).json()["cards"]
    old = next(link["url"] for c in cards for link in c.get("links", [])
               if "/assessments?" in link["url"])
    r = ehr.get(old.removeprefix(BASE))
    assert r.status_code == 403 and "expired" in r.json()["detail"]


# ------------------------------------------------------------------- key sets by URL


def test_jwks_url_is_read_once_and_cached(database: Database, tmp_path: Path,
                                          keys: dict[str, Any], stub: Stub) -> None:
    reg = tmp_path / "issuers-url.json"
    stub.jwks = {"keys": [_jwk(keys["ec"], "ec1", "ES384")]}
    reg.write_text(json.dumps({"issuers": [{"iss": ISS_EC, "jwks_url": f"{stub.base}/jwks.json",
                                            "fhir_servers": [stub.fhir]}]}), encoding="utf-8")
    stub.seen.clear()
    with TestClient(_app(database, reg)) as c:
        for _ in range(3):
            token = _sign(keys, alg="ES384", kid="ec1", key="ec", iss=ISS_EC)
            assert c.post(PV, json=_hook(MCODE_PID, stub.prefetch(MCODE_PID)),
                          headers=bearer_scheme(token)).status_code == 200
    assert [p for p, _ in stub.seen] == ["/jwks.json"]


def test_a_jwks_url_that_does_not_answer_fails_within_the_timeout(
        database: Database, tmp_path: Path, keys: dict[str, Any], stub: Stub,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from allpath.api import cds_auth

    monkeypatch.setattr(cds_auth, "JWKS_TIMEOUT_S", 0.5)
    silent = socket.socket()  # listens (the connection is queued) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/jwks.json"
        reg = tmp_path / "issuers-silent.json"
        reg.write_text(json.dumps({"issuers": [{"iss": ISS_EC, "jwks_url": url}]}),
                       encoding="utf-8")
        with TestClient(_app(database, reg), raise_server_exceptions=False) as c:
            t0 = time.monotonic()
            r = c.post(PV, json=_hook(MCODE_PID, stub.prefetch(MCODE_PID)), headers=bearer_scheme(
                _sign(keys, alg="ES384", kid="ec1", key="ec", iss=ISS_EC)))
            assert time.monotonic() - t0 < 5
        assert r.status_code == 401 and "could not be read" in r.json()["detail"]
    finally:
        silent.close()


def test_an_issuer_added_to_the_registry_is_trusted_without_a_restart(
        database: Database, tmp_path: Path, keys: dict[str, Any], stub: Stub) -> None:
    reg = tmp_path / "issuers-live.json"
    (tmp_path / "ehr-keys.json").write_text(json.dumps(
        {"keys": [_jwk(keys["rsa"], "rs1", "RS384")]}), encoding="utf-8")
    reg.write_text(json.dumps({"issuers": [{"iss": ISS_EC, "jku": [f"{stub.base}/jwks.json"]}]}),
                   encoding="utf-8")
    hook = _hook(MCODE_PID, stub.prefetch(MCODE_PID))
    with TestClient(_app(database, reg), raise_server_exceptions=False) as c:
        assert c.post(PV, json=hook, headers=bearer_scheme(_sign(keys))).status_code == 401
        reg.write_text(json.dumps({"issuers": [{"iss": ISS, "jwks_file": "ehr-keys.json"}]}),
                       encoding="utf-8")
        assert c.post(PV, json=hook, headers=bearer_scheme(_sign(keys))).status_code == 200


@pytest.mark.parametrize(("entry", "message"), [
    ({"iss": ISS}, "no key set"),
    ({"iss": ISS, "jwks_url": "http://ehr.example.test/jwks"}, "must be https"),
    ({"iss": ISS, "jwks": {"keys": []}, "jwks_url": "https://x.test/k"}, "not several"),
    ({"iss": ISS, "jwks": {"keys": []}, "colour": "blue"}, "colour"),
])
def test_a_bad_issuer_registry_stops_the_app_at_start_naming_the_field(
        database: Database, tmp_path: Path, entry: dict[str, Any], message: str) -> None:
    reg = tmp_path / "bad.json"
    reg.write_text(json.dumps({"issuers": [entry]}), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        _app(database, reg)


# ------------------------------------------------------------- data ALLPath cannot read


def test_unreadable_data_gets_a_card_naming_the_path_only_on_an_all_chart(
        ehr: TestClient, keys: dict[str, Any], stub: Stub) -> None:
    pre = stub.prefetch("all-child")
    pre["patient"] = {**pre["patient"], "birthDate": "2020-13-01"}
    r = ehr.post(PV, json=_hook("all-child", pre), headers=bearer_scheme(_sign(keys)))
    assert r.status_code == 200, r.text
    card = r.json()["cards"][0]
    assert card["summary"] == "ALLPath could not read this patient's data"
    assert "birthDate" in card["detail"]
    errors = r.json()["extension"]["allpath-import-errors"]
    assert errors["count"] == 1 and errors["errors"][0]["got"] == "'2020-13-01'"
    colon = load_resources(SYNTHEA_COLON)
    pid = patient_id(colon)
    pre = prefetch_of(colon, pid)
    pre["patient"] = {**pre["patient"], "birthDate": "2020-13-01"}
    r = ehr.post(PV, json=_hook(pid, pre), headers=bearer_scheme(_sign(keys)))
    assert r.status_code == 200 and r.json()["cards"] == []
    assert r.json()["extension"]["allpath-import-errors"]["count"] == 1


def test_blood_count_flagged_by_the_triage_pack_makes_a_chart_about_all(
        ehr: TestClient, keys: dict[str, Any]) -> None:
    """No ALL condition yet: blasts in the blood of a healthy Synthea child's chart raise
    the triage pack's leukaemia suspicion, so the chart gets the ALL cards (work-up)."""
    res = load_resources(SYNTHEA_CHILD)
    pid = patient_id(res)
    loinc = load_catalogue().analytes["blood_blasts"].loinc[0]
    res.append({"resourceType": "Observation", "id": "blasts", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
                "subject": {"reference": f"Patient/{pid}"},
                "effectiveDateTime": "2024-05-10",
                "valueQuantity": {"value": 30, "unit": "%",
                                  "system": "http://unitsofmeasure.org", "code": "%"}})
    r = ehr.post(PV, json=_hook(pid, prefetch_of(res, pid)), headers=bearer_scheme(_sign(keys)))
    assert r.status_code == 200, r.text
    why = r.json()["extension"]["allpath-relevance"]["why"]
    assert len(why) == 1 and why[0].startswith("blood count suspicious for leukaemia: "
                                               "suspicion high (rule triage.cbc_suspicion")
    assert r.json()["cards"]


def test_allpath_token_callers_fetch_only_from_the_configured_fhir_servers(
        database: Database, registry: Path, stub: Stub, auth: dict[str, str]) -> None:
    hook = _hook(MCODE_PID, fhir=stub.fhir)
    with TestClient(_app(database, registry), raise_server_exceptions=False) as c:
        r = c.post(PV, json=hook, headers=auth)
        assert r.status_code == 412 and "not registered for this caller" in r.json()["detail"]
    with TestClient(_app(database, registry, cds_fhir_servers=(stub.fhir,))) as c:
        assert c.post(PV, json=hook, headers=auth).status_code == 200


def test_a_prefetched_bundle_with_a_next_link_is_completed_from_the_server(
        ehr: TestClient, keys: dict[str, Any], stub: Stub) -> None:
    colon = load_resources(SYNTHEA_COLON)
    pid = patient_id(colon)
    pre = prefetch_of(colon, pid)
    obs = pre["observations"]["entry"]
    pre["observations"]["entry"] = obs[:10]
    pre["observations"]["link"] = [{"relation": "next",
                                    "url": f"{stub.fhir}/Observation?patient={pid}&_page=2"}]
    r = ehr.post(PV, json=_hook(pid, pre, fhir=stub.fhir), headers=bearer_scheme(_sign(keys)))
    assert r.status_code == 200, r.text
    assert r.json()["extension"]["allpath-fetched"]["keys"] == ["observations"]
    r = ehr.post(PV, json=_hook(pid, pre), headers=bearer_scheme(_sign(keys)))
    notes = r.json()["extension"]["allpath-import-warnings"]["warnings"]
    assert any("only the first page was read" in w["message"] for w in notes)


def test_a_rotated_key_is_found_by_reading_the_key_set_again(
        database: Database, tmp_path: Path, keys: dict[str, Any], stub: Stub,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from allpath.api import cds_auth

    monkeypatch.setattr(cds_auth, "JWKS_REFETCH_S", 0.0)
    reg = tmp_path / "issuers-rotate.json"
    reg.write_text(json.dumps({"issuers": [{"iss": ISS_EC,
                                            "jwks_url": f"{stub.base}/jwks.json"}]}),
                   encoding="utf-8")
    old = {"keys": [_jwk(keys["ec"], "ec1", "ES384")]}
    new_key = ec.generate_private_key(ec.SECP384R1())
    try:
        stub.jwks = old
        with TestClient(_app(database, reg), raise_server_exceptions=False) as c:
            hook = _hook(MCODE_PID, stub.prefetch(MCODE_PID))
            assert c.post(PV, json=hook, headers=bearer_scheme(_sign(
                keys, alg="ES384", kid="ec1", key="ec", iss=ISS_EC))).status_code == 200
            stub.jwks = {"keys": [*old["keys"], _jwk(new_key, "ec2", "ES384")]}
            token = jwt.encode({"iss": ISS_EC, "aud": BASE + PV, "exp": int(time.time()) + 60,
                                "iat": int(time.time()), "jti": str(uuid.uuid4())}, new_key,
                               algorithm="ES384", headers={"kid": "ec2"})
            assert c.post(PV, json=hook, headers=bearer_scheme(token)).status_code == 200
    finally:
        stub.jwks = old


def test_seen_jti_rows_are_kept_until_expiry_then_deleted(database: Database) -> None:
    from types import SimpleNamespace

    from allpath.api.cds_auth import LEEWAY_S, CdsAuthError, remember_jti
    from allpath.db.models import CdsJwtSeen

    request: Any = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(db=database)))
    now = time.time()
    remember_jti(request, ISS, "old", now - LEEWAY_S - 10)  # already past exp + leeway
    remember_jti(request, ISS, "live", now + 60)
    with pytest.raises(CdsAuthError, match="replayed"):
        remember_jti(request, ISS, "live", now + 60)
    remember_jti(request, ISS_EC, "live", now + 60)  # same jti, another issuer: not a replay
    with database.transaction() as session:
        rows = session.scalars(select(CdsJwtSeen)).all()
    assert len(rows) == 2  # "old" was deleted by the next call
