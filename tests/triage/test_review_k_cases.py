"""Review K (2026-12-07): 14 family phone-line situations on the symptom codes added after
review J, written from cited sources before ALLPath was run (``review_k.yaml``), and the rules
and wording changed for them.

Every case runs through the library with the same ``check`` as the other reviewers' tables. A
case that ALLPath answers differently from the reviewer, after reading the sources, stays a
strict xfail with the reason and the source.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_family_situations import check
from test_review_j_cases import _doc, _family_text

from allpath.triage import texts, triage
from support import load_yaml, table_params

HERE = Path(__file__).parent
CASES: list[dict[str, Any]] = list(load_yaml((HERE / "review_k.yaml").read_text(
    encoding="utf-8"))["cases"])
BY_ID = {c["id"]: c for c in CASES}

# case id -> why ALLPath keeps another urgency than the reviewer's
XFAIL: dict[str, str] = {
    "rk-head-bump-normal-platelets-maintenance": (
        "ALLPath says call the team today, the reviewer (low confidence) a day or two; the "
        "reviewer judged 'today' defensible and their own answer probably too lenient. NHS "
        "Healthier Together (NHS-HT-HEAD-INJURY) would give home care to an alert child with no "
        "bleeding disorder, but during treatment counts change between tests and the team asks "
        "to hear about any fall while platelets are low (INTERMOUNTAIN-PLATELETS), which only a "
        "current count can rule out; the rule is marked unconfirmed "
        "(triage.urgency.urgent.head_injury_on_treatment_platelets_given): "
        "test_head_injury_text_fits_a_normal_platelet_count"),
    "rk-dark-urine-day-2-of-induction": (
        "ALLPath says call the team today, the reviewer (low confidence) now. Dark pee is not a "
        "tumour-lysis criterion (S36, Cairo-Bishop) and the Canadian Cancer Society's "
        "tumour-lysis signs are cloudy urine and passing less urine, not dark urine (CCS-TLS); "
        "much less pee in the first 7 days is already a call now "
        "(triage.urgency.emergency.low_urine_tumour_lysis_window), and with dark pee in that "
        "week the family is now told so and not to wait and see how much comes: "
        "test_cairo_bishop_window_dark_urine_says_much_less_pee_is_a_call_now"),
}


def _run(case_id: str, **change: Any) -> dict[str, Any]:
    return triage(_doc(BY_ID[case_id], **change)).to_dict()


def _steps(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["code"]: s for s in result["next_steps"]}


@pytest.mark.parametrize("case", table_params(CASES, XFAIL))
def test_review_k_case(case: dict[str, Any]) -> None:
    check(case, triage(_doc(case)).to_dict())


def test_review_k_table_is_whole_and_every_xfail_names_a_case() -> None:
    assert len(CASES) == 14
    assert set(XFAIL) <= set(BY_ID)
    for case in CASES:
        assert case["source"] and case["expect"]["urgency"] in (
            "routine", "soon", "urgent", "emergency")


# ------------------------------------------------------------------ 1. vomiting, not drinking
def test_schn_vomiting_and_not_drinking_on_treatment_is_a_call_now() -> None:
    result = _run("rk-toddler-vomiting-and-not-drinking")
    assert result["urgency"] == "emergency" and result["advice"] == "oncology_team_now"
    reason = result["reasons"][0]
    assert reason["rule_id"] == \
        "triage.urgency.emergency.vomiting_and_not_drinking_on_treatment"
    assert "SCHN-CALL" in reason["citations"]
    watch = _steps(result)["drinks_watch"]["plain"]
    assert "sips" in watch and "pee" in watch
    assert "37.4" not in result["plain_language"]["what_it_can_mean"]
    for alone in (["vomiting"], ["not_drinking"]):  # either sign alone stays today
        assert _run("rk-toddler-vomiting-and-not-drinking", symptoms=alone)["urgency"] == \
            "urgent", alone


def test_vomiting_and_not_drinking_off_treatment_is_not_the_cancer_team_rule() -> None:
    result = _run("rk-toddler-vomiting-and-not-drinking", on_treatment=False,
                  central_line=False)
    assert result["reasons"][0]["rule_id"] != \
        "triage.urgency.emergency.vomiting_and_not_drinking_on_treatment"
    assert "drinks_watch" not in _steps(result)


# ------------------------------------------------------------------ 2. and 8. dark urine
def test_cairo_bishop_window_dark_urine_says_much_less_pee_is_a_call_now() -> None:
    early = _run("rk-dark-urine-day-2-of-induction")
    step = _steps(early)["dark_urine_tumour_lysis_window"]
    assert {"S36", "CCS-TLS"} <= set(step["citations"])
    assert "much less pee" in step["plain"] and "now, day or night" in step["plain"]
    assert "wait to see" in step["plain"]
    late = _run("rk-dark-urine-day-8-of-induction")
    assert "dark_urine_tumour_lysis_window" not in _steps(late)
    assert early["urgency"] == late["urgency"] == "urgent"
    no_start = _run("rk-dark-urine-day-8-of-induction", treatment_start=None)
    assert "triage.days_since_treatment_start" in [m["fact"] for m in no_start["missing"]]


def test_micromedex_dark_urine_on_treatment_lists_its_call_now_and_tell_signs() -> None:
    plain = _steps(_run("rk-dark-urine-day-8-of-induction"))["dark_urine_watch"]["plain"]
    for sign in ("now, day or night", "drinks do not stay down", "yellow", "much less pee"):
        assert sign in plain, sign


def test_bwc_mouth_sores_on_treatment_say_call_today_if_not_drinking_or_swallowing() -> None:
    result = _run("rk-mouth-sores-alone-maintenance")
    assert result["urgency"] == "soon"
    step = _steps(result)["mouth_sores_watch"]
    assert "BWC-UNWELL" in step["citations"]
    for sign in ("today", "drinking", "swallowing"):
        assert sign in step["plain"], sign


# ------------------------------------------------------------------ 3. other concern
def test_just_one_norfolk_worry_years_off_treatment_is_a_talk_today_not_the_cancer_team_now(
) -> None:
    result = _run("rk-other-concern-five-years-off-treatment")
    assert result["urgency"] == "urgent" and result["advice"] == "same_day"
    assert result["reasons"][0]["evidence"] == "unconfirmed"
    headline = result["plain_language"]["headline"]
    assert headline.startswith("This tool cannot judge") and "today" in headline
    assert "family doctor" in headline and "day or two" not in headline
    text = _family_text(result).lower()
    assert "nothing needs" not in text and "call your emergency number" in text


# ------------------------------------------------------------------ 4. head injury
def test_head_injury_text_fits_a_normal_platelet_count() -> None:
    result = _run("rk-head-bump-normal-platelets-maintenance")
    plain = result["plain_language"]
    assert "With few platelets" not in plain["what_it_can_mean"]
    assert "not low" in plain["what_it_can_mean"]
    assert any("platelet" in t for t in plain["what_the_blood_test_shows"])
    assert result["urgency"] == "urgent"
    assert result["reasons"][0]["rule_id"] == \
        "triage.urgency.urgent.head_injury_on_treatment_platelets_given"


def test_head_injury_text_fits_a_low_or_missing_platelet_count() -> None:
    low = _run("rk-head-bump-normal-platelets-maintenance",
               cbc={"platelets": {"value": 18, "unit": "10*9/L"}})
    assert low["urgency"] == "emergency"
    assert "With few platelets" in low["plain_language"]["what_it_can_mean"]
    unknown = _run("rk-head-bump-no-count-induction-week-3")
    meaning = unknown["plain_language"]["what_it_can_mean"]
    assert "no platelet count was given" in meaning and unknown["urgency"] == "emergency"


def test_nhs_healthier_together_worsening_headache_after_head_injury_is_in_the_watch_list(
) -> None:
    step = _steps(_run("rk-head-bump-normal-platelets-maintenance"))["head_injury_watch"]
    assert "NHS-HT-HEAD-INJURY-STW" in step["citations"]
    assert "headache gets worse" in step["plain"] and "today" in step["plain"]
    for sign in ("very sleepy", "3 times", "seizure", "confused"):
        assert sign in step["plain"], sign


def test_head_injury_emergency_line_says_what_its_headline_says() -> None:
    result = _run("rk-head-bump-no-count-induction-week-3")
    lines = result["plain_language"]["when_to_get_help_at_once"]
    items = [line for line in lines if line.startswith("- ")]
    assert not any("head" in line for line in items)  # not under "call your emergency number"
    head = [line for line in lines if "hit to the head" in line]
    assert head == [texts.EMERGENCY_HEAD_INJURY]
    assert "care team now" in head[0] and "emergency department" in head[0]
    assert result["advice"] == "oncology_team_now"


# ------------------------------------------------------------------ 5. and 7. blood-test advice
@pytest.mark.parametrize("case_id", ["rk-suicidal-thoughts-years-off-treatment",
                                     "rk-chest-pain-three-years-off-treatment",
                                     "rk-other-concern-five-years-off-treatment",
                                     "rk-nothing-ticked-nothing-answered",
                                     "rk-jaundice-two-years-off-treatment"])
def test_no_blood_count_advice_for_signs_a_blood_count_does_not_explain(case_id: str) -> None:
    result = _run(case_id)
    assert "cbc_with_smear" not in _steps(result)
    assert "complete blood count" not in _family_text(result)


def test_blood_count_advice_stays_for_low_count_signs_but_not_beside_another_emergency(
) -> None:
    base = {"format": "allpath.triage/1", "age_years": 4, "sex": "male",
            "on_treatment": False, "central_line": False}
    bruises = triage({**base, "symptoms": ["easy_bruising", "fatigue"]}).to_dict()
    assert "cbc_with_smear" in _steps(bruises)
    seizure = triage({**base, "symptoms": ["pallor", "seizure"]}).to_dict()
    assert seizure["urgency"] == "emergency" and "cbc_with_smear" not in _steps(seizure)
    fever = triage({"format": "allpath.triage/1", "age_years": 4, "sex": "male",
                    "symptoms": ["fever"]}).to_dict()
    # review N: a fever with the treatment question unanswered is an emergency headline, so
    # no blood-count advice beside it (a family unsure whether CAR-T counts acts as if yes)
    assert fever["advice"] == "fever_ask_treatment" and "cbc_with_smear" not in _steps(fever)


def test_jaundice_off_treatment_names_a_liver_blood_test_only() -> None:
    result = _run("rk-jaundice-two-years-off-treatment")
    assert "check the liver with a blood test" in result["plain_language"]["what_it_can_mean"]
    assert "complete blood count" not in _family_text(result)


# ------------------------------------------------------------------ 6. nothing entered
def test_nothing_ticked_nothing_answered_asks_the_two_questions_and_suggests_no_test() -> None:
    result = _run("rk-nothing-ticked-nothing-answered")
    assert result["urgency"] == "routine" and result["advice"] == "routine_ask_treatment"
    headline = result["plain_language"]["headline"]
    assert "cancer treatment" in headline and "central line" in headline
    assert "now for a fever" in headline
    text = _family_text(result).lower()
    for phrase in ("looks urgent", "routine visit", "nothing needs", "blood test",
                   "better as expected"):
        assert phrase not in text, phrase
    assert {"triage.on_treatment", "triage.central_line"} <= {m["fact"] for m in
                                                              result["missing"]}
    assert "ask_treatment" in _steps(result)


def test_answered_off_treatment_with_nothing_ticked_keeps_the_quiet_headline() -> None:
    result = _run("rk-nothing-ticked-nothing-answered", on_treatment=False,
                  central_line=False)
    assert result["advice"] == "routine"
    assert "blood test" not in _family_text(result).lower()


# ------------------------------------------------------------------ 9. wording
def test_mood_change_text_says_the_team_needs_to_know_once() -> None:
    meaning = _run("rk-teen-mood-change-on-dexamethasone")["plain_language"][
        "what_it_can_mean"]
    assert meaning.count("team") == 1, meaning


def test_mayo_mood_change_says_talk_of_suicide_means_911_or_988_at_once() -> None:
    result = _run("rk-teen-mood-change-on-dexamethasone")
    assert result["urgency"] == "urgent"
    step = _steps(result)["mood_watch"]
    assert "MAYO-TEEN-SUICIDE" in step["citations"]
    assert "988" in step["plain"] and "at once" in step["plain"]
