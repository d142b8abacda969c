"""Review V fixes (triage pack 2.13.0): each test failed before its change and is named after
its source. Tiny red or purple spots with a fever are the emergency number (Meningitis Now,
NHS Healthier Together, NICE NG143); a "today" headline never sits beside a step whose
"emergency help now" condition the answers already meet; the today_ask_treatment "no" part
reads the "no" result (review_v probe and test_triage_review_u_fixes.py); the text gaps of
the full read (12 hours without pee and the glass test off treatment, small drinks often, the
vision text under a call-now headline, no on-treatment lines for a sure "no", and clinician
reasons that list only the rules that fired)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from test_review_j_cases import _doc, _family_text

from allpath.triage import triage
from support import load_yaml

HERE = Path(__file__).parent
TABLES = sorted(HERE.glob("*.yaml"))
BASE = {"format": "allpath.triage/1", "sex": "male"}
ON = {"on_treatment": True, "central_line": True}
OFF = {"on_treatment": False, "central_line": False}
FEVER = {"value": 38.9, "unit": "Cel"}
NO_FEVER = {"value": 36.8, "unit": "Cel"}


def _run(symptoms: list[str], age: float = 5, **answers: Any) -> dict[str, Any]:
    return triage({**BASE, "age_years": age, "symptoms": symptoms, **answers}).to_dict()


def _table_inputs() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in TABLES:
        for case in load_yaml(path.read_text(encoding="utf-8")).get("cases", []):
            if "input" in case:
                out.append((f"{path.stem}:{case['id']}", _doc(case)))
    return out


INPUTS = _table_inputs()


# ------------------------------------------------------------------ 1. spots with a fever
@pytest.mark.parametrize("answers", [OFF, ON, {}], ids=["off", "on", "unanswered"])
@pytest.mark.parametrize("age", [1, 5, 30])
@pytest.mark.parametrize("extra", [[], ["rash"]], ids=["spots", "spots+rash"])
def test_meningitis_now_and_nhs_fever_spots_with_a_fever_are_the_emergency_number(
        answers: dict[str, Any], age: int, extra: list[str]) -> None:
    """Meningitis Now (MENINGITIS-NOW-GLASS): a fever with spots or a rash that do not fade
    under pressure is a medical emergency; NHS Healthier Together fever sheet (NHS-HT-FEVER,
    red): a rash that does not disappear with pressure - A&E or 999; NICE NG143
    (NICE-NG143-RED): a non-blanching rash is a red feature. Petechiae do not blanch."""
    result = _run(["petechiae", *extra], age=age, temperature=FEVER, **answers)
    headline = result["plain_language"]["headline"]
    text = _family_text(result).lower()
    assert result["urgency"] == "emergency"
    assert result["advice"] == "emergency_services"
    assert headline.startswith("Get emergency help now") and "today" not in headline
    assert "glass" in text and "blood test called" not in text
    assert "cbc_with_smear" not in [s["code"] for s in result["next_steps"]]
    assert result["reasons"][0]["rule_id"] == "triage.urgency.emergency.spots_with_fever"
    assert "everyday illness" not in text


def test_meningitis_now_spots_with_a_reported_fever_are_the_emergency_number_too() -> None:
    """NICE NG143 1.1.6: a parent's report of fever counts (rule triage.fever.reported)."""
    result = _run(["petechiae", "fever"], **OFF)
    assert result["advice"] == "emergency_services"


def test_nhs_fever_emergency_list_names_spots_with_a_fever() -> None:
    """The "get emergency help at once" list names the sign for every family (NHS Healthier
    Together: a rash that does not disappear with pressure is red)."""
    lines = _run([], **OFF, temperature=NO_FEVER)["plain_language"]["when_to_get_help_at_once"]
    assert any("tiny red or purple spots" in line for line in lines)


@pytest.mark.parametrize("answers", [OFF, ON, {}], ids=["off", "on", "unanswered"])
def test_nice_ng12_spots_without_fever_keep_their_urgency_and_name_the_fever(
        answers: dict[str, Any]) -> None:
    """Without a fever the urgency stays NICE NG12's (off treatment) or the team today (OSF);
    the spots step says a fever or getting more unwell means emergency help (Meningitis Now),
    and no glass-test line says "if the spots do not fade" of spots that never fade."""
    result = _run(["petechiae", "rash"], temperature=NO_FEVER, **answers)
    text = _family_text(result).lower()
    assert result["urgency"] == "urgent"
    assert "spots do not fade under the glass" not in text
    assert "if the child gets a fever or seems more unwell, get emergency help now" in text


def _met_emergency_steps(result: dict[str, Any]) -> list[str]:
    """Family steps that tell the family to get emergency help now for a condition their own
    answers already meet: an unconditional sentence, or the glass test's "spots that do not
    fade" beside tiny spots (which never fade)."""
    bad = []
    for step in result["plain_language"]["what_to_do"]:
        for sentence in re.split(r"(?<=\.)\s+", step):
            low = sentence.lower()
            if "emergency" not in low or not ("help now" in low or "at once" in low
                                               or "call 911" in low):
                continue
            conditional = " if " in f" {low}" or low.startswith(("with a fever", "the same if"))
            met = (("petechiae" in result["symptoms"] and "do not fade under the glass" in low)
                   or (low.startswith("with a fever") and result["fever"]))
            if not conditional or met:
                bad.append(sentence)
    return bad


def _variants() -> list[Any]:
    out = []
    for name, doc in INPUTS:
        codes = [s if isinstance(s, str) else s["code"] for s in doc.get("symptoms", [])]
        out.append(pytest.param(doc, id=name))
        for extra, temp in ((["petechiae", "rash"], FEVER), (["petechiae", "rash"], NO_FEVER)):
            if not set(extra) <= set(codes):
                out.append(pytest.param({**doc, "symptoms": [*doc.get("symptoms", []), *extra],
                                         "temperature": temp},
                                        id=f"{name}+spots+rash@{temp['value']}"))
    return out


@pytest.mark.parametrize("doc", _variants())
def test_nhs_healthier_together_no_today_headline_beside_a_met_emergency_step(
        doc: dict[str, Any]) -> None:
    """Review V: with a fever, tiny spots and a rash, the glass-test line said "get emergency
    help now" under a "See a doctor today" headline. Over every review table and family
    situation (and each with tiny spots and a rash added, with and without a fever): a
    headline that is not an emergency never sits beside a step whose emergency condition the
    answers already meet (NHS Healthier Together, Meningitis Now)."""
    result = triage(doc).to_dict()
    if result["urgency"] == "emergency":
        return
    assert not _met_emergency_steps(result), (result["plain_language"]["headline"],
                                              _met_emergency_steps(result))


def test_the_contradiction_check_finds_the_review_v_contradiction() -> None:
    """The check above can fail: the text of the first run (a today headline with the glass
    line beside tiny spots) is caught."""
    first_run = {"urgency": "urgent", "symptoms": ["petechiae", "rash"], "fever": True,
                 "plain_language": {"what_to_do": [
                     "Press the side of a clear glass firmly on the rash. If the spots do not "
                     "fade under the glass, get emergency help now: call 911 or go to the "
                     "emergency department."]}}
    assert _met_emergency_steps(first_run)
    assert _met_emergency_steps({**first_run, "symptoms": ["rash"], "plain_language": {
        "what_to_do": ["Get emergency help now."]}})


# ------------------------------------------------------------------ 3. text gaps
def test_nhs_ht_syb_and_dv_vomiting_off_treatment_names_12_hours_and_the_glass_test() -> None:
    """South Yorkshire and Bassetlaw Healthier Together (NHS-HT-SYB-DV, red): no wee or wet
    nappy for 12 hours - A&E or 999; NHS Healthier Together (NHS-HT-DV, red): a rash that does
    not disappear with pressure (the Glass Test) - 999."""
    result = _run(["vomiting", "cannot_keep_fluids_down"], age=3, temperature=NO_FEVER, **OFF)
    step = next(s["plain"] for s in result["next_steps"]
                if s["code"] == "fluids_watch_off_treatment")
    assert "12 hours" in step and "glass" in step and "small drinks often" in step.lower()
    assert "NHS-HT-SYB-DV" in next(s["citations"] for s in result["next_steps"]
                                   if s["code"] == "fluids_watch_off_treatment")
    assert result["urgency"] == "urgent"


@pytest.mark.parametrize("symptoms", [["vomiting"], ["diarrhoea"]])
def test_notts_health_for_under_5s_one_vomit_drinking_well_gets_small_drinks_often(
        symptoms: list[str]) -> None:
    """Health for Under 5s (NOTTS-DV-DRINKS): give drinks little and often; NHS Healthier
    Together (NHS-HT-DV): no fluids kept down or no wee for 8 hours - a doctor today; green or
    blood-stained vomit, or difficult to wake - 999. The urgency stays routine."""
    result = _run(symptoms, age=6, temperature=NO_FEVER, **OFF)
    text = _family_text(result).lower()
    assert result["urgency"] == "routine"
    assert "small drinks often" in text and "8 hours" in text and "green" in text


def test_nhs_ht_dv_small_drinks_step_not_during_treatment() -> None:
    """During treatment the team's own steps apply (vomiting_watch), never the off-treatment
    one."""
    codes = [s["code"] for s in _run(["vomiting"], temperature=NO_FEVER, **ON)["next_steps"]]
    assert "drinks_little_and_often" not in codes


@pytest.mark.parametrize("answers", [ON, {}], ids=["on", "unanswered"])
def test_schn_vision_change_on_treatment_text_agrees_with_the_call_now_headline(
        answers: dict[str, Any]) -> None:
    """SCHN-CALL: a change in vision during treatment - call the hospital immediately; the
    text never says the eyes need checking "soon" under a call-now headline."""
    result = _run(["vision_changes"], age=22, temperature=NO_FEVER, **answers)
    meaning = result["plain_language"]["what_it_can_mean"]
    assert result["urgency"] == "emergency"
    assert "right away" in meaning and " soon" not in meaning


def test_sure_no_to_both_questions_drops_the_on_treatment_lines() -> None:
    """Both treatment questions answered "no": the on-treatment fever line, the head-knock
    line about platelets during treatment and the "with cancer treatment, call the team" end
    of the worry headline are left out; unanswered or yes keeps the lines (NICE CG151: the
    question decides what a fever means)."""
    for symptoms in (["other_concern"], ["vomiting"], ["head_injury"]):
        off = _family_text(_run(symptoms, age=45, temperature=NO_FEVER, **OFF))
        assert "cancer treatment" not in off and "cancer care team" not in off, symptoms
    for answers in (ON, {}):
        lines = _run(["vomiting"], temperature=NO_FEVER, **answers)["plain_language"][
            "when_to_get_help_at_once"]
        assert any("With cancer treatment or a central line, a fever" in line
                   for line in lines)


def test_ccs_call_today_list_is_not_a_reason_off_treatment() -> None:
    """The clinician reasons list only the rules that decided this answer set: off treatment
    the same-day list (triage.call_today.*, CCS-CALL, AAMDS-GVHD) is not one of them; on
    treatment, or unanswered, it is."""
    for symptoms in (["rash"], ["vomiting", "cannot_keep_fluids_down"], ["petechiae"]):
        reasons = _run(symptoms, temperature=NO_FEVER, **OFF)["reasons"]
        assert not [r for r in reasons if r["rule_id"].startswith("triage.call_today.")], \
            symptoms
    for answers in (ON, {}):
        reasons = _run(["rash"], temperature=NO_FEVER, **answers)["reasons"]
        assert any(r["rule_id"] == "triage.call_today.rash" for r in reasons)
