"""The clinician application on ``allpath serve`` without a browser: sign-in, sessions, CSRF,
rate limit, patient data never shown anonymously, uploads with field errors, CBC results,
the roadmap calendar and family links."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from allpath import assess_file
from allpath.api import create_app
from allpath.db import Database
from allpath.examples import example_paths
from allpath.web.accounts import add_user
from allpath.web.clinic import COOKIE
from support import POSTGRES_ENV, postgres_url

PASSWORD = "correct horse battery staple"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path,
             migrated_sqlite: Callable[[Path], Database]) -> Iterator[Database]:
    """A fresh database with one account, on SQLite and (where ``.ci/run`` provides one,
    as for the API tests) on PostgreSQL."""
    if request.param == "sqlite":
        db = migrated_sqlite(tmp_path / "web.db")
    else:
        url = postgres_url()
        if url is None:
            pytest.skip(f"PostgreSQL: set {POSTGRES_ENV} to run against a server")
        db = Database(url)
    with db.transaction() as session:
        add_user(session, "alice", PASSWORD)
    yield db
    db.dispose()


@pytest.fixture
def client(database: Database) -> TestClient:
    return TestClient(create_app(database=database), base_url="http://testserver")


def _sign_in(client: TestClient) -> str:
    r = client.post("/app/api/login", json={"name": "alice", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf"])


def _add(client: TestClient, csrf: str, name: str = "example-001") -> str:
    path = next(p for p in example_paths() if p.stem == name)
    r = client.post("/app/api/patients", json={"text": path.read_text(encoding="utf-8")},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_every_data_route_refuses_an_anonymous_browser(client: TestClient) -> None:
    signed_in = TestClient(client.app, base_url="http://testserver")
    pid = _add(signed_in, _sign_in(signed_in))
    data_routes = [("GET", "/app/api/patients"), ("GET", "/app/api/me"),
                   ("GET", f"/app/api/patients/{pid}"),
                   ("GET", f"/app/api/patients/{pid}/roadmap.ics"),
                   ("POST", "/app/api/patients"), ("POST", "/app/api/patients/form"),
                   ("POST", f"/app/api/patients/{pid}/cbc"),
                   ("POST", f"/app/api/patients/{pid}/share"), ("POST", "/app/api/logout"),
                   ("POST", "/app/api/screen"), ("GET", "/app/api/screen/{job_id}"),
                   ("GET", "/app/api/screen/{job_id}/result")]
    for method, url in data_routes:
        r = client.request(method, url, json={})
        assert r.status_code == 401, (method, url, r.status_code)
        assert "example-001" not in r.text
    for page in ("/app", f"/app/patients/{pid}", "/app/screen"):
        r = client.get(page, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/app/login")
    # every JSON route of the application is in the list above, but sign-in and the
    # family data (which needs a signed link, tested below)
    from allpath.web.clinic import clinic_router

    json_routes = {p for r in clinic_router().routes if "/api/" in (p := getattr(r, "path", ""))}
    tested = {u.replace(pid, "{patient_id}") for _, u in data_routes}
    assert json_routes - tested == {"/app/api/login", "/family/api/{token}"}


def test_sign_in_sets_a_strict_httponly_cookie_and_sign_out_ends_the_session(
        client: TestClient) -> None:
    r = client.post("/app/api/login", json={"name": "alice", "password": PASSWORD})
    cookie = r.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower() and "Secure" not in cookie  # plain http here
    old = client.cookies.get(COOKIE)
    csrf = r.json()["csrf"]
    assert client.get("/app/api/me").json()["name"] == "alice"
    assert client.post("/app/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.get("/app/api/me").status_code == 401
    client.cookies.clear()
    client.cookies.set(COOKIE, str(old))  # the old cookie no longer signs in
    assert client.get("/app/api/patients").status_code == 401
    # signing in again gives a new session and ends the one the browser had
    client.cookies.clear()
    first = _sign_in(client)
    before = client.cookies.get(COOKIE)
    assert _sign_in(client) != first
    after = client.cookies.get(COOKIE)
    assert after != before
    client.cookies.clear()
    client.cookies.set(COOKIE, str(before))
    assert client.get("/app/api/me").status_code == 401
    client.cookies.clear()
    client.cookies.set(COOKIE, str(after))
    assert client.get("/app/api/me").status_code == 200


def test_cookie_is_secure_over_https(database: Database) -> None:
    c = TestClient(create_app(database=database), base_url="https://testserver")
    r = c.post("/app/api/login", json={"name": "alice", "password": PASSWORD})
    assert "Secure" in r.headers["set-cookie"]


def test_wrong_password_is_401_and_is_rate_limited(client: TestClient) -> None:
    codes = [client.post("/app/api/login", json={"name": "alice", "password": "wrong" * 3}
                         ).status_code for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    # even the right password waits until the window has passed
    r = client.post("/app/api/login", json={"name": "alice", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_state_changes_need_the_csrf_token_and_the_same_origin(client: TestClient) -> None:
    csrf = _sign_in(client)
    path = example_paths()[0]
    body = {"text": path.read_text(encoding="utf-8")}
    assert client.post("/app/api/patients", json=body).status_code == 403
    assert client.post("/app/api/patients", json=body,
                       headers={"X-CSRF-Token": "x" + csrf}).status_code == 403
    assert client.post("/app/api/patients", json=body, headers={
        "X-CSRF-Token": csrf, "Origin": "https://evil.example"}).status_code == 403
    assert client.post("/app/api/login", json={"name": "alice", "password": PASSWORD},
                       headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post("/app/api/patients", json=body, headers={
        "X-CSRF-Token": ("\u00e9" + csrf[1:]).encode("latin-1")}).status_code == 403
    assert client.post("/app/api/patients", json=body, headers={
        "X-CSRF-Token": csrf, "Origin": "http://testserver"}).status_code == 201


def test_upload_lists_every_problem_with_its_field(client: TestClient) -> None:
    csrf = _sign_in(client)
    text = ("format: allpath.record/1\nid: bad-1\nsex: femal\nobservations:\n"
            "  - {code: wcb, value: 12, unit: 10*9/L, time: 2024-01-01}\n"
            "  - {code: hgb, value: 71, unit: g/dL, time: 2024-01-01}\n")
    r = client.post("/app/api/patients", json={"text": text},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422
    paths = {e["path"] for e in r.json()["errors"]}
    assert "sex" in paths and any(p.startswith("observations[0]") for p in paths)
    r = client.post("/app/api/patients", json={"text": "id: [unclosed"},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and re.fullmatch(r"line \d+, column \d+",
                                                        r.json()["errors"][0]["path"])
    assert client.get("/app/api/patients").json()["total"] == 0


def test_upload_of_a_fhir_bundle_adds_the_patient(client: TestClient) -> None:
    import allpath.examples

    csrf = _sign_in(client)
    bundle = Path(allpath.examples.__file__).parent / "bundle.json"
    r = client.post("/app/api/patients", json={"text": bundle.read_text(encoding="utf-8"),
                                               "filename": "bundle.json"},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    assert client.get("/app/api/patients").json()["total"] == 1


def test_list_and_search(client: TestClient) -> None:
    csrf = _sign_in(client)
    _add(client, csrf, "example-001")
    _add(client, csrf, "example-002")
    everything = client.get("/app/api/patients").json()
    assert everything["total"] == 2 and everything["shown"] == 2
    found = client.get("/app/api/patients", params={"q": "ETV6"}).json()
    assert [p["external_id"] for p in found["items"]] == ["example-001"]
    assert client.get("/app/api/patients", params={"q": "example-002"}).json()["shown"] == 1


def test_dashboard_is_the_library_assessment_with_the_timeline(client: TestClient) -> None:
    csrf = _sign_in(client)
    pid = _add(client, csrf)
    doc = client.get(f"/app/api/patients/{pid}").json()
    want = assess_file(example_paths()[0]).to_dict()
    assert doc["assessment"]["risk"][0]["rule_id"] == want["risk"][0]["rule_id"]
    assert doc["assessment"]["where_now"]["status"] == want["where_now"]["status"]
    panels = {p["title"]: p for p in doc["timeline"]["panels"]}
    assert panels["Blood counts"]["log"] is True
    wbc = next(s for s in panels["Blood counts"]["series"] if s["code"] == "wbc")
    assert wbc["points"] and all(re.fullmatch(r"\d{4}-\d\d-\d\d", d) for d, _ in wbc["points"])
    assert doc["timeline"]["phases"][0]["name"] == "induction"
    assert any(c["kind"] == "checkpoint" for c in doc["timeline"]["checkpoints"])


def test_cbc_with_units_adds_results_and_reassesses(client: TestClient) -> None:
    csrf = _sign_in(client)
    pid = _add(client, csrf)
    h = {"X-CSRF-Token": csrf}
    r = client.post(f"/app/api/patients/{pid}/cbc", headers=h, json={
        "date": "2024-06-05", "counts": {"wbc": {"value": 3100, "unit": "/uL"},
                                         "anc": {"value": 0.4, "unit": "10*9/L"}}})
    assert r.status_code == 201, r.text
    assert r.json()["added"] == 2 and r.json()["assessment"]["as_of"] == "2024-06-05"
    doc = client.get(f"/app/api/patients/{pid}").json()
    wbc = next(s for p in doc["timeline"]["panels"] for s in p["series"] if s["code"] == "wbc")
    assert ["2024-06-05", pytest.approx(3.1)] in wbc["points"]  # /uL shown in x10^9/L


def test_cbc_errors_name_the_form_fields(client: TestClient) -> None:
    csrf = _sign_in(client)
    pid = _add(client, csrf)
    h = {"X-CSRF-Token": csrf}
    r = client.post(f"/app/api/patients/{pid}/cbc", headers=h, json={
        "date": "5 June", "counts": {"anc": {"value": 0.4},
                                     "hemoglobin": {"value": 7, "unit": "g/dL"}}})
    paths = {e["path"] for e in r.json()["errors"]}
    assert r.status_code == 422 and paths == {"date", "counts.anc.unit"}
    r = client.post(f"/app/api/patients/{pid}/cbc", headers=h, json={
        "date": "2024-06-05", "counts": {"hemoglobin": {"value": 71, "unit": "g/dL"}}})
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "counts.hemoglobin.value"
    r = client.post(f"/app/api/patients/{pid}/cbc", headers=h,
                    json={"date": "2024-06-05", "counts": {}})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "counts"


def test_roadmap_calendar_download(client: TestClient) -> None:
    csrf = _sign_in(client)
    pid = _add(client, csrf)
    r = client.get(f"/app/api/patients/{pid}/roadmap.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert r.text.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in r.text
    assert 'filename="example-001-roadmap.ics"' in r.headers["content-disposition"]


def _family_text(doc: dict[str, Any]) -> str:
    parts: list[str] = [doc["title"], *doc["intro"], doc["disclaimer"]]
    parts += [f"{u['when']} {u['what']} {u['title']}" for u in doc["upcoming"]]
    parts += [s["text"] for t in doc["topics"] for s in t["sections"]]
    if doc["phase"]:
        parts.append(doc["phase"]["title"])
    return "\n".join(parts)


def test_family_link_shows_plain_words_and_expires(client: TestClient) -> None:
    csrf = _sign_in(client)
    pid = _add(client, csrf)
    r = client.post(f"/app/api/patients/{pid}/share", json={"hours": 1},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    link = r.json()
    expires = dt.datetime.fromisoformat(link["expires"])
    assert dt.timedelta(minutes=59) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=1)
    anonymous = TestClient(client.app)
    assert anonymous.get(link["path"]).status_code == 200  # the page itself holds no data
    doc = anonymous.get("/family/api/" + link["code"]).json()
    text = _family_text(doc)
    for key in ("nci_rome", "sr_favorable", "cog_pdq", "None", "True", "{"):
        assert key not in text, key
    assert not re.search(r"\b[a-z0-9]+_[a-z0-9_]+\b", text)  # no snake_case keys
    assert "does not replace" in doc["disclaimer"]
    assert any(t["id"] == "when-to-call" for t in doc["topics"])
    assert doc["upcoming"] and all(re.fullmatch(r"\d{1,2} \w+ \d{4}", u["when"])
                                   for u in doc["upcoming"])
    # a changed token or a token past its time is refused
    bad = link["code"][:-2] + ("AA" if not link["code"].endswith("AA") else "BB")
    assert anonymous.get("/family/api/" + bad).status_code == 404
    assert anonymous.get("/family/api/" + bad[:-1] + "\u00e9").status_code == 404
    pid_, exp, _ = link["code"].split(".")
    assert anonymous.get(f"/family/api/{pid_}.{int(exp) + 3600}.{link['code'].split('.')[2]}"
                         ).status_code == 404


def test_family_link_past_its_time_is_refused(database: Database) -> None:
    from allpath.web.clinic import ShareKeys

    keys = ShareKeys("secret")
    token = keys.sign("abc", int(dt.datetime.now(dt.UTC).timestamp()) - 1)
    with pytest.raises(Exception, match="expired"):
        keys.check(token)
    assert keys.check(keys.sign("abc", 2**40)) == "abc"
    assert ShareKeys("other").sign("abc", 2**40) != keys.sign("abc", 2**40)


def test_pages_carry_a_content_security_policy_and_vendored_assets(
        client: TestClient) -> None:
    r = client.get("/app/login")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/static/vendor/uPlot.iife.min.js").status_code == 200
    assert client.get("/static/vendor/..%2F..%2Fapp.py").status_code == 404
    assert client.get("/", follow_redirects=False).headers["location"] == "/app"
    assert "Check symptoms" in client.get("/family").text


def test_openapi_docs_are_served_from_local_assets(client: TestClient) -> None:
    html = client.get("/docs").text
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    scripts = [a for a in assets if a.endswith((".js", ".css"))]
    assert scripts and all(a.startswith("/") for a in scripts), scripts
    for a in scripts:
        assert client.get(a).status_code == 200, a
    assert "cdn" not in html.lower()
    # the application's own routes are not part of the API's OpenAPI document
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/app", "/web", "/family", "/static"))]


def test_users_add_reads_the_password_from_stdin(tmp_path: Path) -> None:
    from allpath.cli import commands  # noqa: F401  (registers the sub-commands)
    from allpath.cli.app import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    r = runner.invoke(app, ["users", "add", "bob", "--database", url],
                      input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["users", "add", "bob", "--database", url], input=PASSWORD + "\n")
    assert r.exit_code == 2 and "exists" in r.output
    r = runner.invoke(app, ["users", "add", "carol", "--database", url], input="short\n")
    assert r.exit_code == 2 and "12 to 1024" in r.output
    r = runner.invoke(app, ["users", "list", "--database", url])
    assert "bob\t" in r.output and "active" in r.output and "argon2" not in r.output
    db = Database(url)
    try:
        c = TestClient(create_app(database=db))
        assert c.post("/app/api/login", json={"name": "bob", "password": PASSWORD}
                      ).status_code == 200
        r = runner.invoke(app, ["users", "disable", "bob", "--database", url])
        assert r.exit_code == 0
        assert c.get("/app/api/me").status_code == 401  # signed out everywhere
    finally:
        db.dispose()


def test_passwords_are_stored_as_argon2_hashes(database: Database) -> None:
    from sqlalchemy import select

    from allpath.db.models import WebUser

    with database.transaction() as session:
        stored = session.scalars(select(WebUser.password_hash)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_screening_job_runs_and_downloads_the_flagged_rows(client: TestClient) -> None:
    import time

    import allpath.examples

    csrf = _sign_in(client)
    table = (Path(allpath.examples.__file__).parent / "cbc.csv").read_text(encoding="utf-8")
    units = {"wbc": "10*9/L", "hemoglobin": "g/dL", "platelets": "10*9/L", "anc": "10*9/L"}
    assert client.post("/app/api/screen", json={"text": table}).status_code == 403
    r = client.post("/app/api/screen", json={"text": table, "units": units},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 202, r.text
    job = r.json()
    deadline = time.monotonic() + 60
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.02)
        job = client.get(f"/app/api/screen/{job['id']}").json()
    assert job["status"] == "done", job
    assert job["summary"]["rows"] == 6 and job["summary"]["flagged"] == 3
    every = client.get(job["result_url"]).text.strip().splitlines()
    flagged = client.get(job["flagged_url"])
    assert "flagged.csv" in flagged.headers["content-disposition"]
    rows = flagged.text.strip().splitlines()
    assert rows[0] == every[0] and len(rows) == 1 + 3
    assert all(",true," in row for row in rows[1:])
    # another user's job, or no session, is not shown
    anonymous = TestClient(client.app)
    assert anonymous.get(f"/app/api/screen/{job['id']}").status_code == 401
    assert anonymous.get(job["flagged_url"]).status_code == 401
    bad = client.post("/app/api/screen", json={"text": table, "units": {"wbc": "g/dL"}},
                      headers={"X-CSRF-Token": csrf}).json()
    while bad["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.02)
        bad = client.get(f"/app/api/screen/{bad['id']}").json()
    assert bad["status"] == "failed" and "wbc" in bad["error"]


def test_structured_form_record_is_stored_or_its_problems_listed(client: TestClient) -> None:
    csrf = _sign_in(client)
    h = {"X-CSRF-Token": csrf}
    record: dict[str, Any] = {
        "format": "allpath.record/1", "id": "form-1", "sex": "male",
        "birth_date": "2019-03-02", "diagnosis_date": "2024-04-02",
        "observations": [{"code": "wbc", "value": 8.2, "time": "2024-04-01"},
                         {"code": "hemoglobin", "value": 7.1, "unit": "g/dL", "time": ""}],
        "immunophenotype": {"time": "2024-04-02", "markers": {"CD19": "positive",
                                                              "CD10": "maybe"}}}
    r = client.post("/app/api/patients/form", json={"record": record}, headers=h)
    assert r.status_code == 422
    paths = {e["path"] for e in r.json()["errors"]}
    assert {"observations[0].unit", "observations[1].time"} <= paths
    assert any(p.startswith("immunophenotype.markers") for p in paths)
    record["observations"][0]["unit"] = "10*9/L"
    record["observations"][1]["time"] = "2024-04-01"
    record["immunophenotype"]["markers"]["CD10"] = "positive"
    r = client.post("/app/api/patients/form", json={"record": record}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["latest_assessment"]["diagnosis"] is not None


def test_users_demo_stores_the_examples_and_an_account_that_signs_in(tmp_path: Path) -> None:
    from allpath.cli import commands  # noqa: F401  (registers the sub-commands)
    from allpath.cli.app import app

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    r = CliRunner().invoke(app, ["users", "demo", "--database", url])
    assert r.exit_code == 0, r.output
    password = re.search(r"password: (\S+)", r.output)
    assert password and "http://127.0.0.1:8000/app" in r.output
    db = Database(url)
    try:
        c = TestClient(create_app(database=db))
        assert c.post("/app/api/login", json={"name": "demo", "password": password.group(1)}
                      ).status_code == 200
        listed = c.get("/app/api/patients").json()
        assert sorted(p["external_id"] for p in listed["items"]) == sorted(
            p.stem for p in example_paths())
        assert all(p["latest_assessment"]["diagnosis"] for p in listed["items"])
    finally:
        db.dispose()
    again = CliRunner().invoke(app, ["users", "demo", "--database", url])
    assert again.exit_code == 0 and "already there" in again.output
