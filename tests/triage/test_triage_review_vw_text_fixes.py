"""Three text items left by reviews V and W (triage pack 2.15.0), each named after its source:

1. a sign of graft-versus-host disease within 100 days of a stem cell transplant: the headline
   names the transplant team, as the step does (BTM-GVHD-CALL, NMDP-GVHD-SIGNS) - failed
   before the change (the headline was "Call the cancer care team today");
2. much less pee during treatment: the first-week sentence only inside the pack's
   tumour-lysis window (or with no start day), a plain sentence outside it (S36,
   ALABAMA-ONC-EMERG) - already met on triage 2.14.0, kept here over the whole window;
3. a sure "no" to both treatment questions: no "what it can mean" or step text speaks of
   treatment, a central line or the cancer care team - already met on 2.14.0 for every code.

The signs, the window and the advice are read from the pack, never written here again."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from allpath.rules.loader import load_knowledge
from allpath.triage import texts, triage

DAY = dt.date(2026, 12, 8)
NO_FEVER = {"value": 36.8, "unit": "Cel"}
FEVER = {"value": 38.6, "unit": "Cel"}
GVHD_RULE = "triage.urgency.urgent.gvhd_signs_after_transplant"
FIRST_WEEK_RULE = "triage.urgency.emergency.low_urine_tumour_lysis_window"


def _rule(rule_id: str) -> Any:
    return load_knowledge().rule(rule_id)[2]


def _gvhd_signs() -> list[str]:
    node = next(c for c in _rule(GVHD_RULE).when.all if getattr(c, "contains_any", None))
    return [str(s) for s in node.contains_any]


def _first_week_days() -> tuple[int, int]:
    bounds = {c.op: int(c.value) for c in _rule(FIRST_WEEK_RULE).when.all
              if getattr(c, "fact", None) == "triage.days_since_treatment_start"}
    return bounds[">="], bounds["<="]


def _run(symptoms: list[str], age: float, temperature: dict[str, Any] | None = None,
         **answers: Any) -> dict[str, Any]:
    return triage({"format": "allpath.triage/1", "age_years": age, "sex": "female",
                   "symptoms": symptoms, "temperature": temperature or NO_FEVER,
                   **answers}).to_dict()


# ------------------------------------------------------------------ 1. the transplant team
@pytest.mark.parametrize("on_treatment", [False, True], ids=["chemo-no", "chemo-yes"])
@pytest.mark.parametrize("sign", _gvhd_signs())
def test_btm_gvhd_call_headline_names_the_transplant_team_in_the_first_100_days(
        sign: str, on_treatment: bool) -> None:
    """NMDP / Be The Match (BTM-GVHD-CALL): with any sign of GVHD call your transplant team
    immediately; an oncologist may not know the signs. Within 100 days (recent_transplant,
    which counts as on treatment) the urgency stays a call today (rule
    triage.urgency.urgent.gvhd_signs_after_transplant) and the headline names the transplant
    team first, as the step transplant_signs_today does; never urgent care."""
    result = _run([sign], 10, on_treatment=on_treatment, central_line=False,
                  recent_transplant=True)
    headline = result["plain_language"]["headline"]
    assert result["urgency"] == _rule(GVHD_RULE).then == "urgent"
    assert result["advice"] == "oncology_team_today"
    assert headline.startswith("Call the transplant team today")
    assert "urgent care" not in headline and "now" not in headline.split(". ")[0]
    assert "transplant_signs_today" in [s["code"] for s in result["next_steps"]]


def test_nmdp_gvhd_chronic_sign_on_treatment_names_the_transplant_team_too() -> None:
    """NMDP-GVHD-CHRONIC: chronic GVHD comes more than 100 days after a transplant; a person
    on treatment again with a transplant long ago still calls the transplant team first."""
    result = _run(["rash"], 30, on_treatment=True, central_line=True,
                  recent_transplant=False, transplant=True)
    assert result["advice"] == "oncology_team_today"
    assert result["plain_language"]["headline"].startswith("Call the transplant team today")


@pytest.mark.parametrize("answers", [
    {"on_treatment": True, "central_line": False},
    {"on_treatment": True, "central_line": False, "recent_transplant": False,
     "transplant": False}], ids=["transplant-unanswered", "transplant-no"])
def test_ccs_call_rash_on_treatment_without_a_transplant_keeps_the_cancer_care_team(
        answers: dict[str, Any]) -> None:
    """CCS-CALL: a rash during treatment is reported right away - to the cancer care team;
    no transplant team is named where no transplant was answered."""
    result = _run(["rash"], 6, **answers)
    headline = result["plain_language"]["headline"]
    assert result["advice"] == "oncology_team_today"
    assert headline == texts.HEADLINE["oncology_team_today"]
    assert "transplant" not in headline


def test_gvhd_sign_with_a_fever_stays_a_call_now() -> None:
    """A fever with a GVHD sign within 100 days is a call now (the fever rule; COG-FEVER):
    the transplant headline never lowers it."""
    result = _run(["rash"], 10, FEVER, on_treatment=False, central_line=False,
                  recent_transplant=True)
    assert result["urgency"] == "emergency" and result["advice"] == "oncology_team_now"


# ------------------------------------------------------------------ 2. the first-week sentence
@pytest.mark.parametrize("age", [0.5, 1, 4, 30])
def test_s36_first_week_sentence_only_inside_the_tumour_lysis_window(age: float) -> None:
    """Cairo-Bishop (S36): tumour lysis up to 7 days after the start (the pack's window, rule
    triage.urgency.emergency.low_urine_tumour_lysis_window); outside it much less pee is
    explained plainly, with no first-week sentence; with no start day the sentence stays."""
    low, high = _first_week_days()
    first = texts.MEANING_LOW_URINE_FIRST_WEEK
    for days in range(low - 3, high + 30):
        start = (DAY - dt.timedelta(days=days)).isoformat()
        result = _run(["low_urine"], age, on_treatment=True, central_line=False,
                      date=DAY.isoformat(), treatment_start=start)
        meaning = result["plain_language"]["what_it_can_mean"]
        assert (first in meaning) is (low <= days <= high), (days, meaning)
        assert texts.MEANING_BY_SYMPTOM["low_urine"] in meaning
    unknown = _run(["low_urine"], age, on_treatment=True, central_line=False)
    assert first in unknown["plain_language"]["what_it_can_mean"]


# ------------------------------------------------------------------ 3. a sure "no"
TREATMENT_WORDS = re.compile(r"treatment|chemo|central line|\bport\b|cancer care team|"
                             r"care team|the team", re.IGNORECASE)
LINE_SIGNS = {code for code, words in texts.SYMPTOM_PLAIN.items() if "central line" in words}


@pytest.mark.parametrize("temperature", [NO_FEVER, FEVER], ids=["no-fever", "fever"])
@pytest.mark.parametrize("age", [0.5, 1.5, 4, 30])
def test_sure_no_text_never_speaks_of_treatment_a_line_or_the_team(
        age: float, temperature: dict[str, Any]) -> None:
    """Review V and W: after a sure "no" to both questions, "what it can mean" and the steps
    speak to a person who is not on treatment. A line sign the family ticked itself (a broken
    or red central line) may name the line, never the treatment or the team."""
    for code in texts.SYMPTOM_PLAIN:
        if code in texts.EXPOSURE_SIGNS:
            # a chickenpox or measles contact: a child a few months off chemotherapy is
            # truthfully "no", and the defences stay low for 6 months (PICS-INFOBOOK), so a
            # conditional line names the team (reviews AA, BB)
            continue
        result = _run([code], age, temperature, on_treatment=False, central_line=False)
        plain = result["plain_language"]
        for where, text in [("meaning", plain["what_it_can_mean"]),
                            *((s["code"], s["plain"]) for s in result["next_steps"])]:
            if code in LINE_SIGNS:
                text = text.replace("the line", "").replace("central line", "")
            found = TREATMENT_WORDS.search(text)
            assert found is None, (code, where, found.group(0) if found else "", text)
