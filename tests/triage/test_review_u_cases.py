"""Review U (2026-12-07): twelve family situations written from cited sources before ALLPath
was run (``review_u.yaml``), on the day's symptom-check changes: the treatment question left
unanswered with the signs that are a call today during treatment (the "call now if" steps must
be those given during treatment), wet nappies under 2, much less pee from 2 years on and in the
first week, a transplant recent or long ago, "something else worries me", and two situations
that should not be urgent. A case ALLPath and its sources disagree with would be a strict xfail
with the cited reason; the one case, the three ``expected_text`` items the full output did not
meet and the two probes made after the run were strict xfails until triage 2.12.0 and now pass
(the tests of the other fixes of that day are in ``test_triage_review_u_fixes.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_family_situations import check
from test_review_j_cases import _doc, _family_text

from allpath.triage import triage
from support import load_yaml, table_params

HERE = Path(__file__).parent
CASES: list[dict[str, Any]] = list(load_yaml((HERE / "review_u.yaml").read_text(
    encoding="utf-8"))["cases"])
BY_ID = {c["id"]: c for c in CASES}
# Emptied by the fixes of review U (triage 2.12.0): ru-other-concern-on-treatment-not-himself
# passes since "something else worries me" during treatment is a call now (BWC-UNWELL).
KNOWN: dict[str, str] = {}
UNANSWERED = [c["id"] for c in CASES if "on_treatment" not in c["input"]
              or c["input"]["on_treatment"] == "unknown"]


def _run(case_id: str, **change: Any) -> dict[str, Any]:
    return triage(_doc(BY_ID[case_id], **change)).to_dict()


def _steps(result: dict[str, Any]) -> set[str]:
    return {s["code"] for s in result["next_steps"]}


@pytest.mark.parametrize("case", table_params(CASES, KNOWN))
def test_review_u_case(case: dict[str, Any]) -> None:
    check(case, triage(_doc(case)).to_dict())


def test_review_u_table_is_whole() -> None:
    assert len(CASES) == 12
    assert set(KNOWN) <= set(BY_ID)
    for case in CASES:
        assert case["source"] and case["confidence"] in ("high", "medium", "low")
    not_urgent = [c for c in CASES if c["expect"]["urgency"] in ("routine", "soon")]
    assert len(not_urgent) >= 2  # over-triage is checked too


# ------------------------------------------------ expected_text met on the first run
@pytest.mark.parametrize("case_id", UNANSWERED)
def test_unanswered_question_gives_the_on_treatment_call_now_steps(case_id: str) -> None:
    """Every step given during treatment is given with the question unanswered (review U)."""
    unsure = _steps(_run(case_id))
    treated = _steps(_run(case_id, on_treatment=True, central_line=True))
    assert treated - unsure <= {"oncology_team_now", "watch_and_call_team"}
    assert "ask_treatment" in unsure


def test_alabama_baby_under_2_wet_nappy_text() -> None:
    text = _family_text(_run("ru-14-month-old-fewer-wet-nappies-none-6-hours"))
    assert "6 hours" in text and "floppy" in text


def test_chop_no_medicine_to_stop_diarrhoea_after_transplant() -> None:
    result = _run("ru-recent-transplant-day-45-diarrhoea")
    text = _family_text(result)
    assert "graft-versus-host" in text and "Do not give medicine to stop diarrhea" in text
    assert "transplant_signs_today" in _steps(result)


def test_cairo_bishop_day_7_is_inside_the_first_week_and_day_8_is_not() -> None:
    assert _run("ru-day-7-induction-peeing-much-less")["urgency"] == "emergency"
    assert _run("ru-day-7-induction-peeing-much-less", date="2026-12-09")["urgency"] == "urgent"


def test_off_treatment_tummy_bug_has_no_cancer_team_words() -> None:
    result = _run("ru-off-treatment-4-years-diarrhoea-tummy-bug")
    assert "cancer care team" not in result["plain_language"]["headline"]
    assert "cbc_with_smear" not in _steps(result)


# ------------------------------------------------ expected_text not met on the first run
# (strict xfails until triage 2.12.0; the sources are in review_u.yaml and the pack notes)
def test_nmdp_chronic_gvhd_rash_headline_names_the_transplant_team() -> None:
    """NMDP (BTM-GVHD-CALL): call your transplant team immediately; your primary care
    physician or oncologist may not know the signs of GVHD. The headline said "See a doctor
    today ... go to urgent care"."""
    headline = _run("ru-transplant-3-years-ago-rash")["plain_language"]["headline"]
    assert "transplant" in headline and "urgent care" not in headline


def test_ccs_hours_without_a_wet_nappy_for_a_child_of_2_to_3() -> None:
    """CCS-CALL: much less pee or none for 6 to 8 hours - right away; Children's of Alabama:
    under 2, 6 hours; 3 and older, 10-12 hours. The step gave hours for under 2 only."""
    todo = _run("ru-2-and-a-half-year-old-peeing-less-maintenance")["plain_language"]["what_to_do"]
    sentences = [s for step in todo for s in step.split(". ")]
    assert any("hours" in s and "under 2" not in s for s in sentences)


def test_nhs_glass_test_named_for_a_rash() -> None:
    """NHS Healthier Together (NHS-HT-DV): a rash that does not disappear with pressure (the
    Glass Test) - 999 or the emergency department; Meningitis Now: with a fever, a medical
    emergency."""
    assert "glass" in _family_text(_run("ru-unanswered-rash-6-year-old")).lower()


# ------------------------------------------------ probes made after the run (strict xfails
# until triage 2.12.0)
def test_just_one_norfolk_now_ask_headline_does_not_promise_less_than_the_answer_no() -> None:
    """The now_ask_treatment headline told a family sure the answer is no to "see a doctor if
    it does not get better", while the answer "no" gives today (Just One Norfolk: more than one
    headache warning sign - GP or 111 straight away)."""
    unsure = _run("ru-unanswered-headache-vomiting-not-drinking-5-year-old")
    answered = _run("ru-unanswered-headache-vomiting-not-drinking-5-year-old",
                    on_treatment=False, central_line=False)
    assert answered["urgency"] == "urgent"
    assert "if it does not get better" not in unsure["plain_language"]["headline"]


def test_nhs_healthier_together_vomiting_and_not_drinking_off_treatment_is_a_doctor_today(
        ) -> None:
    """NHS Healthier Together (NHS-HT-DV): vomiting and unable to keep down any fluids, or
    drinking much less than normal - contact a doctor or nurse today (NICE CG84 information for
    the public, the reviewer's source, gives no time)."""
    result = _run("ru-unanswered-headache-vomiting-not-drinking-5-year-old",
                  on_treatment=False, central_line=False, symptoms=["vomiting", "not_drinking"])
    assert result["urgency"] == "urgent" and result["advice"] == "same_day"
    assert "Nothing you entered looks urgent" not in result["plain_language"]["headline"]
    assert "NHS-HT-DV" in result["reasons"][0]["citations"]
