"""Review W fixes (triage pack 2.14.0): each test failed before its change and is named after
its source. Off treatment much less pee gets the NHS Healthier Together hours only (8 hours a
doctor today, 12 hours emergency help; no 6-hour cancer-team line); much less pee alone gets a
step; green or bloody vomit is said beside fluids not kept down too; the on-treatment bleeding
step names the signs entered; the emergency number during treatment says to tell them about
the treatment and the line, in the family guide too (review_w.yaml, test_review_w_cases.py)."""

from __future__ import annotations

from typing import Any

import pytest

from allpath.guide import load_guide
from allpath.triage import triage

BASE = {"format": "allpath.triage/1", "sex": "male"}
ON = {"on_treatment": True, "central_line": True}
OFF = {"on_treatment": False, "central_line": False, "transplant": False}
FEVER = {"value": 38.3, "unit": "Cel"}
NO_FEVER = {"value": 37.0, "unit": "Cel"}


def _run(symptoms: list[str], age: float = 5, temperature: dict[str, Any] | None = None,
         **answers: Any) -> dict[str, Any]:
    return triage({**BASE, "age_years": age, "symptoms": symptoms,
                   "temperature": temperature or NO_FEVER, **answers}).to_dict()


def _steps(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["code"]: s for s in result["next_steps"]}


def _todo(result: dict[str, Any]) -> str:
    return " ".join(result["plain_language"]["what_to_do"])


# ------------------------------------------------------------------ 1. a dry nappy off treatment
@pytest.mark.parametrize("age", [0.5, 1, 1.9])
@pytest.mark.parametrize("extra", [[], ["vomiting"], ["diarrhoea"],
                                   ["vomiting", "cannot_keep_fluids_down"], ["not_drinking"]],
                         ids=["alone", "vomiting", "diarrhoea", "nothing-kept-down",
                              "not-drinking"])
def test_nhs_ht_syb_dry_nappy_off_treatment_gives_8_and_12_hours_and_no_6_hour_call(
        age: float, extra: list[str]) -> None:
    """South Yorkshire and Bassetlaw Healthier Together (NHS-HT-SYB-DV): no wee or wet nappy
    for 8 hours - a doctor or nurse today; 12 hours - A&E or 999. Off treatment (a sure "no")
    the 6-hour call now of Children's of Alabama, an oncology source, is not given, nor any
    cancer-team wording."""
    result = _run(["dry_nappy", *extra], age=age, **OFF)
    todo = _todo(result)
    assert result["urgency"] == "urgent"
    assert "wet_nappy_watch" not in _steps(result)
    assert "6 hours" not in todo and "cancer" not in todo.lower()
    assert "12 hours" in todo
    assert any("NHS-HT-SYB-DV" in s["citations"] for s in result["next_steps"])


@pytest.mark.parametrize("answers", [ON, {"on_treatment": True, "central_line": False}, {}],
                         ids=["on", "on-no-line", "unanswered"])
def test_alabama_6_hour_call_now_kept_on_treatment_and_unanswered(
        answers: dict[str, Any]) -> None:
    """Children's of Alabama (ALABAMA-ONC-EMERG): under 2, no urine within 6 hours - call the
    nurse immediately. During treatment, or with the questions unanswered, the step stays."""
    result = _run(["dry_nappy", "vomiting"], age=1, **answers)
    step = _steps(result)["wet_nappy_watch"]
    assert "no wet nappy for 6 hours needs a call now" in step["plain"]
    assert "ALABAMA-ONC-EMERG" in step["citations"]
    assert result["urgency"] == "emergency"


# ------------------------------------------------------------------ 2. much less pee alone
@pytest.mark.parametrize("age", [0.5, 4, 12, 40])
def test_nhs_ht_syb_much_less_pee_alone_off_treatment_gives_12_hours_and_small_drinks(
        age: float) -> None:
    """NHS-HT-SYB-DV: no wee or wet nappy for 12 hours - A&E or 999; Health for Under 5s
    (NOTTS-DV-DRINKS): drinks little and often, keep a record of wees. It was "See a doctor
    today" with no step at all."""
    result = _run(["low_urine"], age=age, **OFF)
    step = _steps(result)["low_urine_off_treatment"]
    assert result["urgency"] == "urgent" and result["advice"] == "same_day"
    assert "12 hours" in step["plain"] and "small drinks often" in step["plain"].lower()
    assert "emergency help now if" in step["plain"].lower()
    assert {"NHS-HT-SYB-DV", "NOTTS-DV-DRINKS"} <= set(step["citations"])
    assert "cancer" not in _todo(result).lower() and "6 hours" not in _todo(result)
    assert ("napp" in step["plain"]) == (age < 3)


@pytest.mark.parametrize("extra", [["vomiting"], ["not_drinking"]])
def test_nhs_ht_syb_much_less_pee_step_not_beside_a_fluids_step(extra: list[str]) -> None:
    """The fluids steps already give the hours; the 12-hour line is said once."""
    result = _run(["low_urine", *extra], age=4, **OFF)
    assert "low_urine_off_treatment" not in _steps(result)
    assert _todo(result).count("12 hours") == 1


def test_nhs_ht_syb_drinks_kept_down_step_gives_both_hours() -> None:
    """NHS-HT-SYB-DV: 8 hours today, 12 hours red - the drinks-kept-down step now says both."""
    plain = _steps(_run(["vomiting"], age=4, **OFF))["drinks_little_and_often"]["plain"]
    assert "8 hours" in plain and "12 hours" in plain


# ------------------------------------------------------------------ 3. green or bloody vomit
@pytest.mark.parametrize("extra", [["cannot_keep_fluids_down"], ["not_drinking"]])
def test_nhs_ht_dv_green_or_bloody_vomit_when_nothing_is_kept_down(extra: list[str]) -> None:
    """NHS Healthier Together (NHS-HT-DV, red; North East and North Cumbria the same): dark
    green or blood-stained vomit - 999 or the emergency department. The drinks-kept-down step
    said it; the nothing-kept-down step did not."""
    result = _run(["vomiting", *extra], age=2, **OFF)
    step = _steps(result)["fluids_watch_off_treatment"]
    assert "green" in step["plain"] and "blood" in step["plain"]
    assert "NHS-HT-DV" in step["citations"]
    kept_down = _steps(_run(["vomiting"], age=2, **OFF))["drinks_little_and_often"]["plain"]
    assert "green" in kept_down and "blood" in kept_down


# ------------------------------------------------------------------ 4. the signs entered
@pytest.mark.parametrize(("signs", "words", "not_words"), [
    (["petechiae"], "about the tiny red or purple spots.", "bruises"),
    (["easy_bruising"], "about the bruises.", "spots"),
    (["nosebleeds"], "about the bleeding.", "bruises"),
    (["petechiae", "easy_bruising"], "about the tiny red or purple spots and the bruises.",
     "bleeding."),
])
@pytest.mark.parametrize("answers", [ON, {}], ids=["on", "unanswered"])
def test_osf_call_bleeding_step_names_the_signs_entered(
        signs: list[str], words: str, not_words: str, answers: dict[str, Any]) -> None:
    """OSF HealthCare (OSF-CALL): call the clinic for easy bruising or tiny red spots
    (petechiae); the step said "about the bruises or bleeding" for spots alone."""
    result = _run(signs, age=8, **answers)
    first = _steps(result)["bleeding_signs_today"]["plain"].split(". ")[0] + "."
    assert first.endswith(words) and not_words not in first


# ------------------------------------------------------------------ 5. 911 during treatment
@pytest.mark.parametrize(("answers", "said", "not_said"), [
    (ON, "is on cancer treatment and has a central line", None),
    ({"on_treatment": True, "central_line": False}, "is on cancer treatment", "central line"),
    ({"on_treatment": False, "central_line": True}, "has a central line", "cancer treatment"),
])
def test_schn_call_emergency_number_on_treatment_says_to_tell_them_about_it(
        answers: dict[str, Any], said: str, not_said: str | None) -> None:
    """SCHN "When to call for help" (SCHN-CALL): tell the triage nurse the child is an oncology
    patient, and phone the clinic or ward if you can; the call-now step says so (COG-FEVER,
    BLANK-FEVER, NICE-CG151). Under "Call 911" no step said it; a "no" is never named."""
    result = _run(["petechiae"], age=28, temperature=FEVER, **answers)
    assert result["advice"] == "emergency_services"
    step = _steps(result)["tell_emergency_team_treatment"]
    assert said in step["plain"] and "cancer care team" in step["plain"]
    assert not_said is None or not_said not in step["plain"]
    assert {"SCHN-CALL", "COG-FEVER"} <= set(step["citations"])
    assert result["plain_language"]["what_to_do"].index(step["plain"]) == 1


def test_schn_call_unanswered_emergency_number_keeps_the_tell_the_doctor_step() -> None:
    """With both questions unanswered the ask_treatment step says to tell the doctor about any
    treatment or line; the new step (which names only a "yes") is not given."""
    result = _run(["petechiae"], age=28, temperature=FEVER)
    steps = _steps(result)
    assert "tell_emergency_team_treatment" not in steps
    assert "Tell the doctor if the person gets cancer treatment" in steps["ask_treatment"]["plain"]


def test_schn_call_tell_step_not_off_treatment_nor_under_the_call_now_headline() -> None:
    off = _run(["petechiae"], age=28, temperature=FEVER, **OFF)
    assert "tell_emergency_team_treatment" not in _steps(off)
    assert "cancer" not in _todo(off).lower()
    now = _run(["chills"], age=8, **ON)
    assert now["advice"] == "oncology_team_now"
    assert "tell_emergency_team_treatment" not in _steps(now)


def test_schn_call_guide_emergency_section_says_to_tell_911_about_the_treatment() -> None:
    """The family guide's "call 911" section says what the symptom check's step says (SCHN:
    tell the triage nurse the child is an oncology patient)."""
    section = next(s for s in load_guide()[0].sections if s.id == "emergency")
    assert "SCHN-CALL" in section.cite
    assert "Tell the 911 team about the cancer treatment and any central line" in " ".join(
        section.text.split())
