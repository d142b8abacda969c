"""The web page's JSON endpoints call the library and return its answers unchanged."""

from __future__ import annotations

from fastapi.testclient import TestClient

from allpath import assess_file
from allpath.examples import example_paths
from allpath.web import create_web_app

client = TestClient(create_web_app())


def test_pages_and_static_files_are_served() -> None:
    assert "ALLPath" in client.get("/").text
    assert "Check symptoms" in client.get("/family").text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/..%2Fapp.py").status_code == 404


def test_assess_returns_the_library_assessment() -> None:
    path = example_paths()[0]
    got = client.post("/web/assess", json={"text": path.read_text(encoding="utf-8")}).json()
    want = assess_file(path).to_dict()
    assert got["risk"] == want["risk"]
    assert got["diagnosis"] == want["diagnosis"]


def test_bad_record_is_a_problem_document_with_paths() -> None:
    text = ("format: allpath.record/1\nid: x\nobservations:\n"
            "  - {code: hgb, value: 71, unit: g/dL, time: 2024-01-01}\n")
    r = client.post("/web/assess", json={"text": text})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["path"] == "observations[0].value"


def test_malformed_text_is_a_problem_not_a_crash() -> None:
    r = client.post("/web/assess", json={"text": "format: [unclosed"})
    assert r.status_code == 422


def test_explain_returns_the_rule_and_its_sources() -> None:
    d = client.get("/web/explain/nci_rome.high.wbc").json()
    assert d["when"]["op"] == ">=" and d["sources"][0]["id"] == "S4"
    assert client.get("/web/explain/no.such.rule").status_code == 404


def test_triage_and_guide_for_families() -> None:
    r = client.post("/web/triage", json={"age_years": 8, "sex": "male",
                                         "symptoms": ["facial_swelling", "stridor"]})
    assert r.json()["urgency"] == "emergency"
    assert client.post("/web/triage", json={"age_years": 8, "symptoms": ["feverr"]}
                       ).status_code == 422
    guide = client.get("/web/guide").json()
    assert guide["topics"] and guide["disclaimer"]
