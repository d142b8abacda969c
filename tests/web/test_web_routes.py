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


def test_trials_returns_the_library_trial_matches_document() -> None:
    from allpath.trials import bundled_trials, match_trials

    path = example_paths()[0]
    r = client.post("/web/trials?limit=3", json={"text": path.read_text(encoding="utf-8")})
    assert r.status_code == 200
    got = r.json()
    assert got["format"] == "allpath.trial_matches/1"
    assert got == match_trials(assess_file(path), bundled_trials(), limit=3).to_dict()
    assert len(got["matches"]) == 3 and got["disclaimer"]
    assert got["screened"] == sum(got["counts"].values())
    first = got["matches"][0]
    assert first["nct_id"].startswith("NCT") and first["url"].startswith("https://")
    assert {c["outcome"] for c in first["criteria"]} <= {"met", "not_met", "unknown"}
    # the default lists ten; a country keeps only studies with a site there
    text = path.read_text(encoding="utf-8")
    assert len(client.post("/web/trials", json={"text": text}).json()["matches"]) == 10
    fr = client.post("/web/trials?country=France", json={"text": text}).json()
    want = match_trials(assess_file(path), bundled_trials(), country="France", limit=10)
    assert fr["screened"] == want.screened < got["screened"]


def test_trials_bad_input_is_a_problem_document() -> None:
    text = ("format: allpath.record/1\nid: x\nobservations:\n"
            "  - {code: hgb, value: 71, unit: g/dL, time: 2024-01-01}\n")
    r = client.post("/web/trials", json={"text": text})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["path"] == "observations[0].value"
    good = example_paths()[0].read_text(encoding="utf-8")
    for bad in ("0", "51", "ten"):
        r = client.post(f"/web/trials?limit={bad}", json={"text": good})
        assert r.status_code == 422, bad
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert body["status"] == 422 and body["errors"][0]["path"] == "limit"
    r = client.get("/web/centres?limit=0")
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "limit"
    r = client.get("/web/centres", params={"city": "x" * 101})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "city"


def test_centres_filter_by_place() -> None:
    r = client.get("/web/centres", params={"country": "United States", "limit": 50})
    assert r.status_code == 200
    body = r.json()
    centres = body["centres"]
    assert 0 < len(centres) <= 50 and body["total"] >= len(centres)
    assert all(c["country"] == "United States" for c in centres)
    assert all(c["open_studies"] == len(c["nct_ids"]) >= 1 for c in centres)
    ca = client.get("/web/centres", params={"country": "united states", "state": "California",
                                            "city": ""}).json()["centres"]
    assert ca and all(c["state"] == "California" for c in ca)
    assert client.get("/web/centres", params={"country": "Atlantis"}).json() == {
        "centres": [], "total": 0}


def test_family_study_text_is_about_8th_grade_or_easier() -> None:
    from html.parser import HTMLParser

    import textstat

    class Plain(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth, self.text = 0, list[str]()

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if self.depth or ("class", "plain") in attrs:
                self.depth += 1

        def handle_endtag(self, tag: str) -> None:
            if self.depth:
                self.depth -= 1

        def handle_data(self, data: str) -> None:
            if self.depth:
                self.text.append(data)

    page = Plain()
    page.feed(client.get("/family").text)
    text = " ".join(" ".join(page.text).split())
    assert "always your choice" in text
    assert textstat.flesch_kincaid_grade(text) <= 8.5
