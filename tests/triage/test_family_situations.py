"""The family situations of issue 21 on every surface: library, CLI, REST API, web route, browser.

Two tables drive these tests: ``family_situations.yaml`` (the issue's list, each row with its
source) and ``independent_cases.yaml`` (written from the sources by a reviewer who had not seen
the code, before it was run). Where the pack deliberately answers differently from a reviewer's
case, the case is listed in ``DIFFERS`` with the reason and the source, and the test checks
that the answer is the documented one (so a change in either direction fails).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from allpath.cli.app import app as cli_app
from allpath.cli.commands import app as _registered  # noqa: F401
from allpath.triage import triage
from allpath.web import create_web_app
from support import load_yaml

HERE = Path(__file__).parent
URGENCY = ("routine", "soon", "urgent", "emergency")

# case id -> (the urgency ALLPath gives, why it differs from the reviewer's expectation)
DIFFERS: dict[str, tuple[str, str]] = {
    "rc02-37.8C-toddler-on-chemo-route-unknown": (
        "urgent",
        "Sources disagree and the form does not ask how the temperature was taken: St Jude "
        "counts 37.7 C under the arm as a fever, while COG-FEVER, CCLG-FN and BLANK-FEVER use "
        "38.0 C (IDSA 38.3 C) without naming the route. ALLPath uses 38.0 C; at 37.8 C on "
        "treatment it says to call the team today, recheck in one hour and call now at "
        "38.0 C. The reviewer marked the case medium confidence; the route question is left "
        "to the maintainers (closing note)."),
    "fever-new-child-anc-999-per-uL": (
        "emergency",
        "Issue 21 names 'fever with ANC 0.5-0.99 sends families to urgent care' as a defect; "
        "CCLG-FN (one published version) defines febrile neutropenia as ANC < 1.0 x10^9/L with "
        "38 C once, and IDSA (S35) counts ANC < 1,000/uL expected to fall, which a family "
        "cannot judge. The reviewer marked the case confidence: low."),
}


def _cases(name: str) -> list[dict[str, Any]]:
    doc = load_yaml((HERE / name).read_text(encoding="utf-8"))
    assert doc["format"] == "allpath.triage-cases/1"
    return list(doc["cases"])


OWN = _cases("family_situations.yaml")
INDEPENDENT = _cases("independent_cases.yaml")
REVIEW_C = _cases("review_c.yaml")  # review C (2026-12-07), written before running
REVIEW_E = _cases("review_e.yaml")  # review E (2026-12-07), written before running
ALL = [("own", c) for c in OWN] + [("independent", c) for c in INDEPENDENT] + \
    [("review_c", c) for c in REVIEW_C] + [("review_e", c) for c in REVIEW_E]


def _doc(case: dict[str, Any]) -> dict[str, Any]:
    return {"format": "allpath.triage/1", **case["input"]}


def _family_text(result: dict[str, Any]) -> str:
    return " ".join(" ".join(v) if isinstance(v, list) else str(v or "")
                    for v in result["plain_language"].values())


def check(case: dict[str, Any], result: dict[str, Any]) -> None:
    """Compare one triage result with the case's expectations (all checks at once).

    The browser sees no advice code and shows the temperature inside the page text, so a
    result from the page leaves those keys out and they are checked on the page instead.
    """
    expect = case["expect"]
    want = DIFFERS.get(case["id"], (expect["urgency"], ""))[0]
    headline = result["plain_language"]["headline"].lower()
    text = _family_text(result).lower()
    wrong = []
    if result["urgency"] != want:
        wrong.append(f"urgency {result['urgency']}, expected {want}")
    if "advice" in expect and "advice" in result and result["advice"] != expect["advice"] \
            and case["id"] not in DIFFERS:  # a documented difference changes the advice too
        wrong.append(f"advice {result['advice']}, expected {expect['advice']}")
    wrong += [f"headline lacks {w!r}" for w in expect.get("headline_contains", [])
              if w.lower() not in headline]
    wrong += [f"headline has {w!r}" for w in expect.get("headline_not_contains", [])
              if w.lower() in headline]
    wrong += [f"family text lacks {w!r}" for w in expect.get("plain_contains", [])
              if w.lower() not in text]
    wrong += [f"family text has {w!r}" for w in expect.get("plain_not_contains", [])
              if w.lower() in text]
    if "temperature_text" in expect and "temperature" in result["plain_language"] and \
            result["plain_language"]["temperature"] != expect["temperature_text"]:
        wrong.append(f"temperature shown as {result['plain_language']['temperature']!r}")
    assert not wrong, (case["id"], wrong, result["plain_language"]["headline"])


def _ids(rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [f"{kind}:{c['id']}" for kind, c in rows]


# ------------------------------------------------------------------ library and CLI
@pytest.mark.parametrize(("kind", "case"), ALL, ids=_ids(ALL))
def test_family_situation_library(kind: str, case: dict[str, Any]) -> None:
    check(case, triage(_doc(case)).to_dict())


@pytest.mark.parametrize(("kind", "case"), ALL, ids=_ids(ALL))
def test_family_situation_cli(kind: str, case: dict[str, Any], tmp_path: Path) -> None:
    f = tmp_path / "visit.yaml"
    f.write_text(yaml.safe_dump(_doc(case)), encoding="utf-8")
    out = CliRunner().invoke(cli_app, ["triage", str(f), "--format", "json"])
    assert out.exit_code == 0, out.output
    check(case, json.loads(out.output))
    text = CliRunner().invoke(cli_app, ["triage", str(f)])
    # the terminal text opens with the headline, wrapped to the terminal's width (which
    # differs between a terminal, a pipe and a test worker): compare the words
    headline = json.loads(out.output)["plain_language"]["headline"]
    assert text.exit_code == 0
    assert " ".join(text.output.split()).startswith(" ".join(headline.split())), text.output


# ------------------------------------------------------------------ REST API and web route
@pytest.fixture(scope="module")
def web() -> Iterator[TestClient]:
    with TestClient(create_web_app()) as client:
        yield client


@pytest.mark.parametrize(("kind", "case"), ALL, ids=_ids(ALL))
def test_family_situation_web_route(kind: str, case: dict[str, Any], web: TestClient) -> None:
    r = web.post("/web/triage", json=json.loads(json.dumps(case["input"], default=str)))
    assert r.status_code == 200, r.text
    check(case, r.json())


def test_family_situations_on_the_rest_api(tmp_path: Path) -> None:
    from allpath.api import Settings, create_app
    from allpath.db import Database, create_token

    db = Database(f"sqlite:///{tmp_path / 'api.db'}")
    try:
        with db.transaction() as session:
            token = create_token(session, "tests")
        with TestClient(create_app(settings=Settings(), database=db)) as client:
            for _, case in ALL:
                r = client.post("/v1/triage", json=json.loads(json.dumps(_doc(case),
                                                                         default=str)),
                                headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 200, (case["id"], r.text)
                check(case, r.json())
    finally:
        db.dispose()


# ------------------------------------------------------------------ the table itself
def test_every_case_names_its_source_and_the_tables_cover_the_issue() -> None:
    for _, case in ALL:
        assert case.get("source"), case["id"]
        assert case["expect"]["urgency"] in URGENCY
    own = {c["id"] for c in OWN}
    for needed in ("fever-on-chemo-no-counts", "fever-on-chemo-with-normal-counts",
                   "fever-central-line-only", "fahrenheit-100.4",
                   "fever-anc-300-per-uL-not-on-treatment",
                   "breathing-trouble", "petechiae-low-platelets", "well-child-normal-count"):
        assert needed in own
    assert len(INDEPENDENT) >= 30
    assert set(DIFFERS) <= {c["id"] for c in INDEPENDENT + REVIEW_C}
    assert len(REVIEW_C) == 16


def test_headline_always_agrees_with_the_emergency_list() -> None:
    """Every sign named under 'get emergency help at once' is an emergency on its own."""
    base = {"format": "allpath.triage/1", "age_years": 30, "sex": "female",
            "on_treatment": False, "central_line": False}
    quiet = triage({**base, "symptoms": []})
    listed = quiet.emergency_signs()
    assert "Trouble breathing, noisy breathing, or blue lips" in listed
    assert "A seizure or new confusion" in listed
    from allpath.triage.texts import EMERGENCY_HEAD_INJURY, EMERGENCY_ITEMS

    codes = quiet.emergency_sign_codes()
    # tiny spots (review V) or new bruises (review AA) with a fever
    with_fever = quiet.fever_emergency_sign_codes()
    assert with_fever == ["petechiae", "easy_bruising"]
    # every item shown stands for codes of the pack's emergency rules (or the head-injury rule)
    for item in listed:
        if item == EMERGENCY_HEAD_INJURY:
            continue
        group = next((g for g, text in EMERGENCY_ITEMS if text == item), ())
        assert set(group) & {*codes, *with_fever}, item
    for code, temperature in [*((c, 36.8) for c in codes), *((c, 38.5) for c in with_fever)]:
        out = triage({**base, "symptoms": [code],
                      "temperature": {"value": temperature, "unit": "Cel"}}).to_dict()
        assert out["urgency"] == "emergency", code
        assert out["plain_language"]["headline"].startswith("Get emergency help now"), code
    # the head-injury item: a hit to the head with a low measured platelet count
    bump = triage({**base, "symptoms": ["head_injury"],
                   "cbc": {"platelets": {"value": 18, "unit": "10*9/L"}}}).to_dict()
    assert bump["urgency"] == "emergency"


def test_counts_without_a_unit_get_a_question_back() -> None:
    from allpath.errors import RecordError

    with pytest.raises(RecordError) as err:
        triage({"format": "allpath.triage/1", "age_years": 5, "sex": "male",
                "cbc": {"anc": 300}})
    (problem,) = err.value.problems
    assert problem.path == "cbc.anc.unit"
    assert "300 /uL (= 0.3 x10^9/L)" in (problem.hint or "")


def test_a_count_that_does_not_fit_its_unit_suggests_the_other_one() -> None:
    from allpath.errors import RecordError

    with pytest.raises(RecordError) as err:
        triage({"format": "allpath.triage/1", "age_years": 5, "sex": "male",
                "cbc": {"wbc": {"value": 4500, "unit": "10*9/L"}}})
    (problem,) = err.value.problems
    assert problem.path == "cbc.wbc.unit" and "4,500 /uL (= 4.5 x10^9/L)" in (problem.hint or "")


def test_a_neutrophil_count_above_the_white_count_is_refused() -> None:
    from allpath.errors import RecordError

    with pytest.raises(RecordError) as err:
        triage({"format": "allpath.triage/1", "age_years": 5, "sex": "male",
                "cbc": {"wbc": {"value": 1.2, "unit": "10*9/L"},
                        "anc": {"value": 500, "unit": "10*9/L"}}})
    assert err.value.problems[0].path.startswith("cbc.anc")


def test_celsius_typed_as_fahrenheit_gets_a_question_back() -> None:
    from allpath.errors import RecordError

    with pytest.raises(RecordError) as err:
        triage({"format": "allpath.triage/1", "age_years": 5, "sex": "male",
                "temperature": {"value": 101.3, "unit": "Cel"}})
    assert "101.3 °F" in (err.value.problems[0].hint or "")


def test_no_family_text_advises_rectal_temperatures_or_lab_orders() -> None:
    for _, case in ALL:
        text = _family_text(triage(_doc(case)).to_dict()).lower()
        assert "rectal" not in text.replace("never in the bottom", "")
        for word in ("uric acid", "ldh", "clotting test", "coagulation", "chemistry"):
            assert word not in text, (case["id"], word)


def test_a_json_date_text_is_a_date_and_a_bad_one_names_its_field() -> None:
    """JSON carries dates as ISO text: the REST API and the web form send them so (review C's
    rc12 was refused with 'expected a date' for '2024-06-02')."""
    from allpath.errors import RecordError

    doc = {"format": "allpath.triage/1", "age_years": 10, "sex": "female",
           "on_treatment": True, "date": "2024-06-02",
           "cbc": {"time": "2024-06-01", "platelets": {"value": 15, "unit": "10*9/L"}}}
    result = triage(doc).to_dict()
    assert "severe_thrombocytopenia" in result["findings"]
    with pytest.raises(RecordError) as err:
        triage({**doc, "date": "2024-13-01"})
    assert [p.path for p in err.value.problems] == ["date"]


def test_see_today_advice_is_never_softened_by_these_signs_are_common() -> None:
    """Review C (rc14): unexplained petechiae without a count are seen today (NICE NG12 asks
    for immediate assessment); the family text must not call them common everyday signs."""
    doc = {"format": "allpath.triage/1", "age_years": 7, "sex": "male",
           "on_treatment": False, "central_line": False, "symptoms": ["petechiae"]}
    result = triage(doc).to_dict()
    assert result["urgency"] == "urgent"
    meaning = result["plain_language"]["what_it_can_mean"].lower()
    assert "today" in meaning and "common" not in meaning and "virus" not in meaning


def test_on_treatment_text_names_signs_only_when_there_are_some() -> None:
    """Review C (rc04): a well child on maintenance is not told 'the care team needs to know
    about these signs' when no sign was given; a child with a sign is."""
    base = {"format": "allpath.triage/1", "age_years": 6, "sex": "female",
            "on_treatment": True, "central_line": False,
            "temperature": {"value": 36.8, "unit": "Cel"}}
    quiet = triage({**base, "symptoms": []}).to_dict()["plain_language"]["what_it_can_mean"]
    sign = triage({**base, "symptoms": ["easy_bruising"]}).to_dict()
    assert "these signs" not in quiet
    assert "these signs" in sign["plain_language"]["what_it_can_mean"]


def test_chkd_broken_line_first_aid_is_clamp_cover_and_go() -> None:
    """Review C (rc11): a broken or leaking line - clamp between the break and the skin,
    cover the break, go to the emergency department at once (CHKD)."""
    doc = {"format": "allpath.triage/1", "age_years": 3, "sex": "male", "on_treatment": True,
           "central_line": True, "symptoms": ["line_damage"]}
    result = triage(doc).to_dict()
    aid = [s for s in result["next_steps"] if s["code"] == "line_first_aid"]
    assert aid and "CHKD-LINE-BREAK" in aid[0]["citations"]
    assert "clamp it between the break and the skin" in aid[0]["plain"]
    assert result["urgency"] == "emergency"


def test_cdc_2013_chickenpox_contact_on_treatment_says_why_today() -> None:
    """Review C (rc09): a chickenpox contact on treatment is a call today because protective
    immune globulin works best within 96 hours and up to 10 days (CDC 2013)."""
    doc = {"format": "allpath.triage/1", "age_years": 4, "sex": "male", "on_treatment": True,
           "central_line": False, "symptoms": ["chickenpox_exposure"]}
    result = triage(doc).to_dict()
    step = [s for s in result["next_steps"] if s["code"] == "varicella_prophylaxis"]
    assert step and step[0]["citations"] == ["CDC-VARIZIG-2013"]
    assert "4 days" in step[0]["plain"] and "10 days" in step[0]["plain"]
    assert result["urgency"] == "urgent"
    off = triage({**doc, "on_treatment": False, "central_line": False}).to_dict()
    assert not [s for s in off["next_steps"] if s["code"] == "varicella_prophylaxis"]


def test_a_decimal_comma_is_refused_never_read_as_ten_times_the_value() -> None:
    """Review C: '38,2 Cel' was reported as 382; worse, 'ANC 1,5 10*9/L' would read as 15 and
    hide neutropenia. A comma is read only as a thousands separator (1,500)."""
    from allpath.errors import RecordError

    base = {"format": "allpath.triage/1", "age_years": 5, "sex": "male", "on_treatment": True}
    for field, text in (("temperature", "38,2 Cel"), ("cbc", {"anc": "1,5 10*9/L"})):
        with pytest.raises(RecordError) as err:
            triage({**base, field: text})
        assert "decimal point" in str(err.value)
    ok = triage({**base, "cbc": {"anc": "1,500 /uL"}}).to_dict()
    assert "neutropenia" in ok["findings"]  # 1,500 /uL = 1.5 x10^9/L, below this age's range


def test_cdc_2013_chickenpox_contact_says_it_can_be_serious_during_treatment() -> None:
    """Review E: the family is told why a chickenpox contact matters, not only the generic
    blood-count text."""
    doc = {"format": "allpath.triage/1", "age_years": 6, "sex": "female", "on_treatment": True,
           "central_line": False, "symptoms": ["chickenpox_exposure"]}
    meaning = triage(doc).to_dict()["plain_language"]["what_it_can_mean"]
    assert "Chickenpox can be much more serious" in meaning
