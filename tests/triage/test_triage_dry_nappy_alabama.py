"""A baby's dry nappy (review Q, item 5): the family guide and the symptom check agree on the
urgency the cited sources support.

Children's of Alabama (ALABAMA-ONC-EMERG) says to call the nurse immediately for dehydration
or decreased urine, which under 2 years is no urine within 6 hours; the Canadian Cancer Society
(CCS-CALL) says right away for much less pee or none for 6 to 8 hours; Birmingham Women's and
Children's (BWC-UNWELL) says to contact the unit when no urine has been passed for a long
time. The sources differ, so the safer one is followed: a call now. The check has no hours
answer, so for a child under 2 on treatment (or with the question unanswered) much less pee is
read the safe way (rule triage.urgency.emergency.low_urine_under_2_on_treatment).
"""

from __future__ import annotations

from typing import Any

import pytest

from allpath.guide import load_guide
from allpath.triage import triage

RULE = "triage.urgency.emergency.low_urine_under_2_on_treatment"


def _run(age: float, code: str = "dry_nappy", **answers: Any) -> dict[str, Any]:
    out: dict[str, Any] = triage({"format": "allpath.triage/1", "age_years": age,
                                  "sex": "male", "symptoms": [code], **answers}).to_dict()
    return out


@pytest.mark.parametrize("code", ["dry_nappy", "fewer_wet_nappies", "low_urine"])
def test_alabama_under_2_much_less_pee_on_treatment_is_a_call_now(code: str) -> None:
    out = _run(0.83, code, on_treatment=True, central_line=True)
    assert out["urgency"] == "emergency" and out["advice"] == "oncology_team_now"
    reason = out["reasons"][0]
    assert reason["rule_id"] == RULE and "ALABAMA-ONC-EMERG" in reason["citations"]
    todo = " ".join(out["plain_language"]["what_to_do"])
    assert "no wet nappy for 6 hours" in todo and "very sleepy or floppy" in todo


def test_alabama_under_2_with_the_treatment_question_unanswered_asks_it_and_says_now() -> None:
    out = _run(0.83)
    assert out["urgency"] == "emergency" and out["advice"] == "now_ask_treatment"
    assert out["reasons"][0]["rule_id"] == RULE


def test_from_2_years_much_less_pee_on_treatment_stays_a_call_today() -> None:
    out = _run(2.0, "low_urine", on_treatment=True, central_line=False)
    assert out["urgency"] == "urgent" and out["advice"] == "oncology_team_today"


def test_a_baby_not_on_treatment_keeps_the_same_day_urgency_and_gets_the_nhs_12_hours() -> None:
    """Off treatment (a sure "no") the Alabama oncology step is not given; the NHS Healthier
    Together hours are (NHS-HT-SYB-DV: 12 hours - A&E or 999; review W)."""
    out = _run(0.83, on_treatment=False, central_line=False)
    assert out["urgency"] == "urgent"
    todo = " ".join(out["plain_language"]["what_to_do"])
    assert "12 hours" in todo and "6 hours" not in todo and "cancer" not in todo.lower()


def test_the_guide_baby_section_says_now_for_a_dry_nappy_and_fewer_wet_nappies() -> None:
    section = next(s for s in load_guide()[0].sections if s.id == "pee-baby")
    assert section.advice == "oncology_team_now"
    assert {g.advice for g in section.signs} == {"oncology_team_now"}
    assert "ALABAMA-ONC-EMERG" in section.cite and "same day" not in section.text
