"""Issue 14 regressions: hostile input has a bounded cost, concurrent writes lose nothing,
stale writes are refused, and bad values are a 422 at the edge on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from api_helpers import example_doc
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from allpath import RecordError
from allpath.api import Settings, create_app
from allpath.db import AuditEvent, Database, create_token
from allpath.db.engine import ForeignDatabaseError
from allpath.record.load import MAX_RECORD_CHARS, load_yaml_text, read_document
from bad_input_corpus import BILLION_LAUGHS, bad_requests, mutated


def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    return body


# ------------------------------------------------------------------ 1. YAML alias bombs


def test_billion_laughs_record_is_refused_at_the_anchor_in_milliseconds() -> None:
    assert len(BILLION_LAUGHS) < 700
    start = time.perf_counter()
    with pytest.raises(RecordError) as info:
        load_yaml_text(BILLION_LAUGHS)
    assert time.perf_counter() - start < 0.5
    (problem,) = info.value.problems
    assert problem.path == "line 2, column 5" and "aliases" in problem.message


def test_a_single_alias_or_merge_key_is_refused_too() -> None:
    for text in ("format: x\na: &x 1\nb: *x\n", "base: &b {k: 1}\nother:\n  <<: *b\n"):
        with pytest.raises(RecordError, match="anchors and aliases"):
            load_yaml_text(text)
    assert load_yaml_text("a: '&not an anchor'\nb: '*nor an alias'\n") == {
        "a": "&not an anchor", "b": "*nor an alias"}


def test_record_text_over_the_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    big = "format: allpath.record/1\nnote: '" + "x" * MAX_RECORD_CHARS + "'\n"
    with pytest.raises(RecordError, match="too large"):
        load_yaml_text(big)
    f = tmp_path / "big.yaml"
    f.write_text(big, encoding="utf-8")
    with pytest.raises(RecordError, match="too large"):
        read_document(f)


def test_cli_assess_refuses_an_alias_bomb_with_a_clear_error(tmp_path: Path) -> None:
    from allpath.cli import app
    from allpath.cli.commands import app as _registered  # noqa: F401

    f = tmp_path / "bomb.yaml"
    f.write_text(BILLION_LAUGHS, encoding="utf-8")
    start = time.perf_counter()
    result = CliRunner().invoke(app, ["assess", str(f)])
    assert result.exit_code != 0
    assert "anchors and aliases" in result.output
    assert time.perf_counter() - start < 5


def test_web_page_refuses_an_alias_bomb_without_echoing_it() -> None:
    from allpath.web import create_web_app

    with TestClient(create_web_app()) as c:
        start = time.perf_counter()
        r = c.post("/web/assess", json={"text": BILLION_LAUGHS})
        assert time.perf_counter() - start < 2
    assert r.status_code == 422
    assert "anchors and aliases" in r.text and "lol" not in r.text


def test_api_error_never_formats_a_whole_large_value(client: TestClient,
                                                      auth: dict[str, str]) -> None:
    # a huge value where an object is expected: the problem quotes a short prefix only
    r = client.post("/v1/patients/x/observations", headers=auth,
                    json={"observations": ["x" * 500_000, [[["y" * 1000] * 30] * 30]]})
    body = _problem(r, 422)
    assert len(r.content) < 3000
    assert all(len(e["got"]) <= 80 for e in body["errors"])


# ------------------------------------------------- 2. concurrent writes, ETags, If-Match


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a loopback port for the length of one test."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


CLIENTS = 4
WRITES_BEFORE_KILL = 5  # acknowledged writes per client before the server is killed
WRITES_EACH = 8


def test_concurrent_observations_to_one_patient_keep_every_acknowledged_write(
        live_url: str, auth: dict[str, str]) -> None:
    with httpx.Client(base_url=live_url, headers=auth, timeout=60) as c:
        created = c.post("/v1/patients", json=example_doc("example-001"))
        assert created.status_code == 201, created.text
        pid = created.json()["id"]

    def writer(n: int) -> list[tuple[int, str]]:
        out = []
        with httpx.Client(base_url=live_url, headers=auth, timeout=60) as c:
            for i in range(WRITES_EACH):
                mark = f"c{n}-w{i}"
                obs = {"code": "wbc", "value": 4 + n + i / 10, "unit": "10*9/L",
                       "time": f"2024-06-{1 + i:02d}", "method": mark}
                r = c.post(f"/v1/patients/{pid}/observations",
                           json={"observations": [obs]})
                out.append((r.status_code, mark))
        return out

    start = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = [x for part in pool.map(writer, range(CLIENTS)) for x in part]
    assert time.monotonic() - start < 240
    codes = [code for code, _ in results]
    assert all(code < 500 for code in codes), codes
    acknowledged = {mark for code, mark in results if code == 201}
    assert len(acknowledged) == CLIENTS * WRITES_EACH, codes
    with httpx.Client(base_url=live_url, headers=auth, timeout=60) as c:
        rows = c.get(f"/v1/patients/{pid}/observations").json()
        record = c.get(f"/v1/patients/{pid}/record")
        versions = c.get(f"/v1/patients/{pid}/records").json()
    assert {o["data"]["method"] for o in rows} == acknowledged
    in_record = {o.get("method") for o in record.json()["observations"]}
    assert acknowledged <= in_record
    assert [v["version"] for v in versions] == list(range(1, 2 + len(acknowledged)))
    assert record.headers["etag"] == f'"v{1 + len(acknowledged)}"'


def test_concurrent_creates_of_one_record_id_give_one_201_and_409s(
        live_url: str, auth: dict[str, str]) -> None:
    doc = example_doc("example-002")

    def create(_: int) -> int:
        with httpx.Client(base_url=live_url, headers=auth, timeout=60) as c:
            return c.post("/v1/patients", json=doc).status_code

    with ThreadPoolExecutor(CLIENTS) as pool:
        codes = sorted(pool.map(create, range(CLIENTS)))
    assert codes == [201] + [409] * (CLIENTS - 1)


def test_stale_if_match_is_412_and_writes_nothing(client: TestClient,
                                                  auth: dict[str, str]) -> None:
    doc = example_doc("example-001")
    r = client.post("/v1/patients", json=doc, headers=auth)
    assert r.status_code == 201 and r.headers["etag"] == '"v1"'
    pid = r.json()["id"]
    tag = client.get(f"/v1/patients/{pid}", headers=auth).headers["etag"]
    assert tag == '"v1"'
    # someone else writes first
    r = client.put(f"/v1/patients/{pid}/record", json=doc, headers={**auth, "If-Match": tag})
    assert r.status_code == 200 and r.headers["etag"] == '"v2"'
    # the stale writer is refused, for a replace, an observation and a delete
    stale = {**auth, "If-Match": tag}
    body = _problem(client.put(f"/v1/patients/{pid}/record", json=doc, headers=stale), 412)
    assert "version 2" in body["detail"]
    obs = {"observations": [{"code": "wbc", "value": 5, "unit": "10*9/L",
                             "time": "2024-06-01"}]}
    _problem(client.post(f"/v1/patients/{pid}/observations", json=obs, headers=stale), 412)
    _problem(client.delete(f"/v1/patients/{pid}", headers=stale), 412)
    versions = client.get(f"/v1/patients/{pid}/records", headers=auth).json()
    assert [v["version"] for v in versions] == [1, 2]
    # the current tag (and '*') are accepted
    r = client.post(f"/v1/patients/{pid}/observations", json=obs,
                    headers={**auth, "If-Match": '"v2"'})
    assert r.status_code == 201 and r.headers["etag"] == '"v3"'
    assert client.delete(f"/v1/patients/{pid}", headers={**auth, "If-Match": "*"}
                         ).status_code == 204


def test_creating_an_existing_record_id_is_409(client: TestClient,
                                               auth: dict[str, str]) -> None:
    doc = example_doc("example-003")
    assert client.post("/v1/patients", json=doc, headers=auth).status_code == 201
    body = _problem(client.post("/v1/patients", json=doc, headers=auth), 409)
    assert "exists" in body["detail"]


# ------------------------------------------------- 5. order-sign dose check fails closed


def _order_sign(dose: Any, unit: str = "mg") -> dict[str, Any]:
    order = {"resourceType": "MedicationRequest", "status": "draft", "intent": "order",
             "medicationCodeableConcept": {"text": "vincristine"},
             "dosageInstruction": [{"doseAndRate": [{"doseQuantity": {
                 "value": dose, "unit": unit}}]}]}
    return {"hook": "order-sign", "hookInstance": "d1b7a1f0-0000-4000-8000-000000000014",
            "context": {"userId": "Practitioner/1", "patientId": "example-001",
                        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                                        "entry": [{"resource": order}]}},
            "extension": {"allpath-reference-date": "2024-05-20"}}


@pytest.mark.parametrize(("dose", "unit"), [
    (0, "mg"), (-1.0, "mg"), (float("nan"), "mg"), (float("inf"), "mg"),
    (-float("inf"), "mg"), (1e-9, "mg"), (0.0005, "mg"), (True, "mg"), ("1.4", "mg"),
    (None, "mg"), (10**30, "mg"), (0, "mg/m2")])
def test_order_dose_that_is_not_a_plausible_positive_number_is_a_could_not_check_warning(
        client: TestClient, auth: dict[str, str], dose: Any, unit: str) -> None:
    assert client.post("/v1/patients", json=example_doc("example-001"),
                       headers=auth).status_code == 201
    r = client.post("/cds-services/allpath-order-sign", content=json.dumps(
        _order_sign(dose, unit)), headers={**auth, "content-type": "application/json"})
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    assert cards[0]["indicator"] == "warning"
    assert "could not check this dose" in cards[0]["summary"]
    assert not any("within" in c["summary"] for c in cards)


def test_a_plausible_order_dose_gets_no_could_not_check_card(client: TestClient,
                                                             auth: dict[str, str]) -> None:
    assert client.post("/v1/patients", json=example_doc("example-001"),
                       headers=auth).status_code == 201
    r = client.post("/cds-services/allpath-order-sign", json=_order_sign(1.04),
                    headers=auth)
    assert r.status_code == 200
    assert not any("could not check this dose" in c["summary"] for c in r.json()["cards"])


# ------------------------------------------------------ 6. body limits and headers


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    yield b'{"format": "allpath.record/1", "id": "'
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size
    yield b'"}'


def test_chunked_body_over_the_limit_is_413_not_400(client: TestClient,
                                                    auth: dict[str, str]) -> None:
    r = client.post("/v1/patients", content=_chunks(3 * 1024 * 1024),
                    headers={**auth, "content-type": "application/json"})
    body = _problem(r, 413)
    assert "limit" in body["detail"]


def test_web_page_has_a_body_limit_for_declared_and_chunked_bodies() -> None:
    from allpath.web import create_web_app

    with TestClient(create_web_app()) as c:
        big = b'{"text": "' + b"x" * (5 * 1024 * 1024) + b'"}'
        r = c.post("/web/assess", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413
        r = c.post("/web/assess", content=_chunks(5 * 1024 * 1024),
                   headers={"content-type": "application/json"})
        assert r.status_code == 413


def test_security_headers_on_api_and_web_page(client: TestClient,
                                              auth: dict[str, str]) -> None:
    from allpath.web import create_web_app

    r = client.post("/v1/patients", json=example_doc("example-004"), headers=auth)
    for resp in (r, client.get("/v1/patients/nope", headers=auth)):
        assert resp.headers["cache-control"] == "no-store"
        assert resp.headers["x-content-type-options"] == "nosniff"
    with TestClient(create_web_app()) as c:
        page = c.get("/")
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "'sha256-" in csp
        assert page.headers["x-frame-options"] == "DENY"


# ------------------------------- 4 and 7. bad input at the edge, the same on both databases

def _send(client: TestClient, method: str, url: str, body: Any,
          headers: dict[str, str]) -> httpx.Response:
    return client.request(method, url, content=json.dumps(body, allow_nan=True),
                          headers={**headers, "content-type": "application/json"})


def test_bad_input_corpus_is_never_a_5xx(client: TestClient, auth: dict[str, str],
                                         db_url: str) -> None:
    """Every leaf of a record, every bad value: create, replace, add as an observation and
    send as CDS context and addresses; no answer is a 5xx, the patient still reads back."""
    doc = example_doc("example-001")
    r = client.post("/v1/patients", json=doc, headers=auth)
    assert r.status_code == 201
    pid = r.json()["id"]
    tried = 0
    statuses: dict[int, int] = {}
    for req in bad_requests(doc, pid):
        r = (client.get(req.url, headers=auth) if req.body is None
             else _send(client, req.method, req.url, req.body, auth))
        tried += 1
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert r.status_code < 500, (req.label, r.text[:300])
        if req.expect:
            assert r.status_code in req.expect, (req.label, r.status_code)
    assert tried > 300
    # the stored patient still reads back, with only the versions written by 2xx answers
    assert client.get(f"/v1/patients/{pid}/record", headers=auth).status_code == 200
    print(f"\n{db_url.split(':')[0]}: {tried} bad inputs, statuses {sorted(statuses.items())}")


def test_infinity_and_nul_in_a_record_are_422_naming_the_field(client: TestClient,
                                                               auth: dict[str, str]) -> None:
    doc = example_doc("example-001")
    body = _problem(_send(client, "POST", "/v1/patients",
                          mutated(doc, ("observations", 0, "value"), float("inf")), auth), 422)
    assert body["errors"][0]["path"] == "observations[0].value"
    assert body["errors"][0]["message"] == "not a finite number"
    body = _problem(_send(client, "POST", "/v1/patients", mutated(doc, ("id",), "a\x00b"),
                          auth), 422)
    assert "NUL" in body["detail"]
    body = _problem(_send(client, "POST", "/v1/patients", mutated(doc, ("id",), "x" * 201),
                          auth), 422)
    assert body["errors"][0]["path"] == "id" and "201" in body["errors"][0]["got"]
    body = _problem(client.post("/v1/roadmap", params={"start": "9999-12-01"},
                                json=doc, headers=auth), 422)
    assert body["errors"][0]["path"] == "start"
    body = _problem(_send(client, "POST", "/v1/patients",
                          mutated(doc, ("diagnosis_date",), "9999-12-01"), auth), 422)
    assert body["errors"][0]["path"] == "diagnosis_date"


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in resources]}


WBC = {"resourceType": "Observation", "status": "final",
       "code": {"coding": [{"system": "http://loinc.org", "code": "6690-2"}]},
       "valueQuantity": {"value": 62, "unit": "10*3/uL"},
       "effectiveDateTime": "2024-05-01"}


def test_fhir_bundle_without_a_patient_is_422_and_never_stored(client: TestClient,
                                                               auth: dict[str, str]) -> None:
    for bundle, where in ((_bundle(WBC), "entry"),
                          (_bundle({"resourceType": "Patient", "gender": "female"}, WBC),
                           "entry[0].resource.id"),
                          (_bundle({"resourceType": "Patient", "id": "p1"},
                                   {"resourceType": "Patient", "id": "p2"}, WBC),
                           "entry[1]")):
        body = _problem(client.post("/v1/patients", json=bundle, headers=auth), 422)
        assert body["errors"][0]["path"] == where
    assert client.get("/v1/patients", headers=auth).json()["total"] == 0
    ok = _bundle({"resourceType": "Patient", "id": "p1", "gender": "female",
                  "birthDate": "2018-01-01"}, {**WBC, "subject": {"reference": "Patient/p1"}})
    r = client.post("/v1/patients", json=ok, headers=auth)
    assert r.status_code == 201 and r.json()["external_id"] == "p1"


# ------------------------------------------------------------------ 3. access


def _token(database: Database, *scopes: str, expires: dt.timedelta | None = None) -> dict[
        str, str]:
    with database.transaction() as session:
        token = create_token(session, "scoped", scopes=scopes, expires_in=expires)
    return {"Authorization": f"Bearer {token}"}


def test_token_scopes_read_write_admin(client: TestClient, database: Database) -> None:
    reader = _token(database, "read")
    writer = _token(database, "read", "write")
    admin = _token(database, "admin")
    doc = example_doc("example-001")
    assert client.post("/v1/assess", json=doc, headers=reader).status_code == 200
    body = _problem(client.post("/v1/patients", json=doc, headers=reader), 403)
    assert "'write' scope" in body["detail"]
    r = client.post("/v1/patients", json=doc, headers=writer)
    assert r.status_code == 201
    pid = r.json()["id"]
    assert client.get(f"/v1/patients/{pid}", headers=reader).status_code == 200
    _problem(client.delete(f"/v1/patients/{pid}", headers=writer), 403)
    assert client.delete(f"/v1/patients/{pid}", headers=admin).status_code == 204
    with pytest.raises(ValueError, match="scopes must be"):
        _token(database, "root")


def test_expired_token_is_refused(client: TestClient, database: Database) -> None:
    live = _token(database, "read", expires=dt.timedelta(hours=1))
    dead = _token(database, "read", expires=dt.timedelta(seconds=-1))
    assert client.get("/v1/patients", headers=live).status_code == 200
    _problem(client.get("/v1/patients", headers=dead), 401)


def test_failed_authentication_is_audited_then_rate_limited_with_retry_after(
        database: Database) -> None:
    app = create_app(settings=Settings(auth_failures_per_minute=3), database=database)
    with TestClient(app, raise_server_exceptions=False) as c:
        bad = {"Authorization": "Bearer ap_abcdef123456_wrongsecret"}
        codes = [c.get("/v1/patients", headers=bad).status_code for _ in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        r = c.get("/v1/patients", headers=bad)
        assert 1 <= int(r.headers["retry-after"]) <= 60
        _problem(r, 429)
    with database.transaction() as session:
        rows = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "auth.failed")).all()
        assert len(rows) == 3
        assert {(e.actor, e.client) for e in rows} == {("token:abcdef123456", "testclient")}
        assert all("wrongsecret" not in (e.detail or "") for e in rows)


def test_audit_names_client_cds_user_and_listed_patients(client: TestClient,
                                                         auth: dict[str, str],
                                                         database: Database) -> None:
    pid = client.post("/v1/patients", json=example_doc("example-001"), headers=auth
                      ).json()["id"]
    assert client.get("/v1/patients", headers=auth).status_code == 200
    hook = {"hook": "patient-view", "hookInstance": "h-2",
            "context": {"userId": "Practitioner/dr-who", "patientId": "example-001"}}
    assert client.post("/cds-services/allpath-patient-view", json=hook,
                       headers=auth).status_code == 200
    with database.transaction() as session:
        listed = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "patient.list")).one()
        assert listed.patients == pid and listed.client == "testclient"
        cds = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "cds.patient-view")).one()
        assert cds.user_ref == "Practitioner/dr-who" and cds.patient_id == pid


def test_tokens_list_and_revoke_from_the_cli(tmp_path: Path) -> None:
    from allpath.cli import app
    from allpath.cli.commands import app as _registered  # noqa: F401

    url_file = tmp_path / "db-url"
    url_file.write_text(f"sqlite:///{tmp_path / 'cli.db'}\n", encoding="utf-8")
    run = CliRunner()
    made = run.invoke(app, ["tokens", "create", "--database", f"@{url_file}", "--name", "ci",
                            "--scope", "read", "--expires-days", "30"])
    assert made.exit_code == 0, made.output
    key = made.output.strip().split("_")[1]
    listed = run.invoke(app, ["tokens", "list", "--database", f"@{url_file}"])
    assert listed.exit_code == 0
    line = next(x for x in listed.output.splitlines() if x.startswith(key))
    assert "\tci\tread\t" in line and line.endswith("active") and "never" not in line
    assert made.output.strip().split("_", 2)[2] not in listed.output
    assert run.invoke(app, ["tokens", "revoke", key, "--database", f"@{url_file}"]
                      ).exit_code == 0
    listed = run.invoke(app, ["tokens", "list", "--database", f"@{url_file}"])
    assert next(x for x in listed.output.splitlines() if x.startswith(key)).endswith("revoked")
    bad = run.invoke(app, ["tokens", "create", "--database", f"@{url_file}", "--scope", "x"])
    assert bad.exit_code == 2 and "scopes must be" in bad.output


# ------------------------------------------------------------------ also: the database


def test_sqlite_file_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'private.db'}")
    try:
        with db.transaction() as session:
            create_token(session, "x")
    finally:
        db.dispose()
    for f in tmp_path.glob("private.db*"):
        assert f.stat().st_mode & 0o077 == 0, (f.name, oct(f.stat().st_mode))


def test_a_database_that_is_not_allpaths_is_not_migrated(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    with pytest.raises(ForeignDatabaseError, match="refusing to migrate"):
        Database(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert tables == {"invoices"}


def test_card_links_never_come_from_the_host_header(client: TestClient,
                                                    auth: dict[str, str]) -> None:
    assert client.post("/v1/patients", json=example_doc("example-001"),
                       headers=auth).status_code == 201
    hook = {"hook": "patient-view", "hookInstance": "h-3",
            "context": {"userId": "Practitioner/1", "patientId": "example-001"}}
    r = client.post("/cds-services/allpath-patient-view", json=hook,
                    headers={**auth, "Host": "evil.example"})
    assert r.status_code == 200 and r.json()["cards"]
    assert "evil.example" not in r.text


def test_screening_csv_with_a_million_rows_is_refused_before_reading(
        client: TestClient, auth: dict[str, str]) -> None:
    body = b"patient_id,age_years,sex,time,wbc\n" + b"\n" * 1_000_000
    r = client.post("/v1/screen", content=body, headers={**auth, "content-type": "text/csv"})
    assert _problem(r, 422)["type"].endswith("too-many-rows")


def test_web_page_validation_errors_are_problem_json_without_the_input() -> None:
    from allpath.web import create_web_app

    with TestClient(create_web_app()) as c:
        r = c.post("/web/assess", json={"text": "z" * 2_100_000})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert len(r.content) < 3000


def test_request_costs_are_bounded_by_item_caps(client: TestClient,
                                                auth: dict[str, str]) -> None:
    from allpath.api.cds import MAX_DRAFT_ORDERS
    from allpath.api.features import MAX_TITRATE_BYTES
    from allpath.api.inputs import MAX_BUNDLE_ENTRIES, MAX_OBSERVATIONS

    doc = example_doc("example-001")
    obs = doc["observations"][0]
    body = _problem(client.post("/v1/assess", headers=auth, json={
        **doc, "observations": [obs] * (MAX_OBSERVATIONS + 1)}), 422)
    assert body["errors"][0]["path"] == "observations"
    assert body["errors"][0]["got"] == str(MAX_OBSERVATIONS + 1)
    bundle = _bundle({"resourceType": "Patient", "id": "p1"}, *[WBC] * MAX_BUNDLE_ENTRIES)
    assert _problem(client.post("/v1/assess", json=bundle, headers=auth),
                    422)["errors"][0]["path"] == "entry"
    hook = _order_sign(1.0)
    entry = hook["context"]["draftOrders"]["entry"]
    hook["context"]["draftOrders"]["entry"] = entry * (MAX_DRAFT_ORDERS + 1)
    assert _problem(client.post("/cds-services/allpath-order-sign", json=hook, headers=auth),
                    422)["errors"][0]["path"] == "context.draftOrders"
    big = {"format": "allpath.maintenance-log/1", "x": "y" * MAX_TITRATE_BYTES}
    _problem(client.post("/v1/titrate", json=big, headers=auth), 413)


def test_error_list_is_capped_with_the_total_count(client: TestClient,
                                                   auth: dict[str, str]) -> None:
    from allpath.api.problems import MAX_ERRORS

    doc = example_doc("example-001")
    bad = [{"code": f"nope{i}", "value": 1, "unit": "g/L"} for i in range(200)]
    body = _problem(client.post("/v1/assess", json={**doc, "observations": bad},
                                headers=auth), 422)
    assert len(body["errors"]) == MAX_ERRORS
    total = int(body["detail"].split()[0])
    assert total >= 200 and f"first {MAX_ERRORS}" in body["detail"]


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    allpath = Path(sys.executable).with_name("allpath")
    server = subprocess.Popen([str(allpath), "serve", "--host", "127.0.0.1", "--port",
                               str(port), "--database", url, "--log-level", "warning"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
        time.sleep(0.1)


@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
def test_kill_9_during_concurrent_writes_keeps_every_acknowledged_observation(
        db_url: str) -> None:
    allpath = Path(sys.executable).with_name("allpath")
    token = subprocess.run([str(allpath), "tokens", "create", "--database", db_url],
                           check=True, capture_output=True, text=True).stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(db_url, port)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
            pid = c.post("/v1/patients", json=example_doc("example-001")).json()["id"]
        stop = threading.Event()
        # the kill comes while all writers are writing, once each has had writes
        # acknowledged (or one has stopped), instead of after a fixed sleep
        acks = [0] * CLIENTS
        writing = threading.Event()

        def writer(n: int) -> list[str]:
            acked: list[str] = []
            try:
                with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
                    for i in range(500):
                        if stop.is_set():
                            break
                        mark = f"k{n}-{i}"
                        try:
                            r = c.post(f"/v1/patients/{pid}/observations", json={
                                "observations": [{"code": "wbc", "value": 5,
                                                  "unit": "10*9/L", "time": "2024-06-01",
                                                  "method": mark}]})
                        except httpx.HTTPError:
                            break
                        if r.status_code == 201:
                            acked.append(mark)
                            acks[n] = len(acked)
                            if min(acks) >= WRITES_BEFORE_KILL:
                                writing.set()
            finally:
                writing.set()  # a writer that stopped before the kill: kill now
            return acked

        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [pool.submit(writer, n) for n in range(CLIENTS)]
            writing.wait(timeout=60)
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=30)
            stop.set()
            acknowledged = {m for f in futures for m in f.result()}
        assert acknowledged, "no write was acknowledged before the kill"
        server = _serve(db_url, port)
        with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
            rows = c.get(f"/v1/patients/{pid}/observations").json()
            record = c.get(f"/v1/patients/{pid}/record").json()
        assert acknowledged <= {o["data"]["method"] for o in rows}
        assert acknowledged <= {o.get("method") for o in record["observations"]}
    finally:
        server.kill()
        server.wait(timeout=30)


def test_api_docs_pages_load_local_assets_only(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        r = client.get(page)
        assert r.status_code == 200
        assert "cdn." not in r.text and "//fastapi.tiangolo.com" not in r.text
    html = client.get("/docs").text
    asset = html.split('src="', 2)[1].split('"')[0]
    assert asset.startswith("/") and client.get(asset).status_code == 200


def test_a_lock_wait_that_runs_out_is_503_with_retry_after(app: FastAPI) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    @app.get("/test-busy")
    def busy() -> None:
        raise OperationalError("UPDATE ...", {}, sqlite3.OperationalError("database is locked"))

    @app.get("/test-broken")
    def broken() -> None:
        raise OperationalError("SELECT ...", {}, sqlite3.OperationalError("no such table: x"))

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/test-busy")
        assert _problem(r, 503) and r.headers["retry-after"] == "1"
        assert "no such table" not in _problem(c.get("/test-broken"), 500)["detail"]
