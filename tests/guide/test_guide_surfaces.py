"""The team's 24-hour number and the guide on the REST API and the web page (issue 21)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from allpath.api import Settings, create_app
from allpath.db import Database, create_token
from allpath.web import create_web_app
from support import example_doc

web = TestClient(create_web_app())


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    db = Database(f"sqlite:///{tmp_path / 'allpath.db'}")
    app = create_app(settings=Settings(today=lambda: dt.date(2024, 5, 20)), database=db)
    with db.transaction() as session:
        token = create_token(session, "guide-tests")
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, {"Authorization": f"Bearer {token}"}
    db.dispose()


def test_web_guide_shows_the_team_phone_back_and_when_to_call_first() -> None:
    doc = web.get("/web/guide", params={"team_phone": "+1 555 010 2030"}).json()
    assert doc["topics"][0]["id"] == "when-to-call"
    assert "+1 555 010 2030" in doc["topics"][0]["sections"][0]["text"]
    assert doc["topics"][0]["sections"][1]["sources"][0]["url"]
    empty = web.get("/web/guide").json()
    assert "write it here" in empty["topics"][0]["sections"][0]["text"]


def test_web_guide_bad_phone_is_a_422_naming_the_field() -> None:
    r = web.get("/web/guide", params={"team_phone": "ring the ward"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "team_phone"


def test_api_guide_takes_team_phone_on_every_route(
        api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    doc = client.get("/v1/guide", params={"team_phone": "555 0100"}, headers=auth).json()
    assert doc["team_phone"] == "555 0100"
    one = client.get("/v1/guide/when-to-call", params={"team_phone": "555 0100"},
                     headers=auth).json()
    assert "555 0100" in one["topics"][0]["sections"][0]["text"]
    mine = client.post("/v1/guide", params={"team_phone": "555 0100"},
                       json=example_doc("example-001"), headers=auth).json()
    assert mine["topics"][0]["id"] == "when-to-call" and mine["team_phone"] == "555 0100"
    bad = client.get("/v1/guide", params={"team_phone": "ring the ward"}, headers=auth)
    assert bad.status_code == 422 and "team_phone" in bad.text
