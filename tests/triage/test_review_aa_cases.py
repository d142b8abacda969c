"""Review AA (2026-12-08): twelve family situations written from cited sources before ALLPath
was run (``review_aa.yaml``, notes in ``review_aa.md``): cough with and without breathing
trouble, a purple bruise-like rash with and without a fever, fevers at and below the line in
maintenance, a young adult answering for herself, a survivor's limp, a swollen arm on the line
side, chickenpox and measles contact, a head knock at low platelets.

First run (triage pack 2.15.0): 6 of 12 failed, 3 of them the reviewer's own check phrases
(corrected before any change, with reasons in the notes). Triage pack 2.16.0 fixes the three
real ones: a fever with new bruises is the emergency number (MENINGITIS-NOW-RASH); a limp no
better after 48 hours is a doctor today (NHS-HT-LIMP); with the treatment question unanswered
a chickenpox or measles contact gets the immune-globulin window and a line for a treatment
that ended in the last 6 months (PICS-INFOBOOK). Two check phrases stay strict xfails below,
each with the reason the wording differs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_family_situations import check
from test_review_j_cases import _doc

from allpath.triage import triage
from support import load_yaml, table_params

HERE = Path(__file__).parent
CASES: list[dict[str, Any]] = list(load_yaml((HERE / "review_aa.yaml").read_text(
    encoding="utf-8"))["cases"])
BY_ID = {c["id"]: c for c in CASES}
KNOWN: dict[str, str] = {
    "raa-o-survivor-7-years-off-treatment-hip-pain-limp-14-year-old": (
        "Check phrase only: the urgency is met (urgent, a doctor today, rule "
        "triage.urgency.urgent.limp_over_48_hours, NHS-HT-LIMP). The case's "
        "headline_not_contains 'now' (meant against an emergency headline) also matches the "
        "same-day headline every same-day answer has: 'Call your doctor's office now. If they "
        "cannot see you today, ...'."),
    "raa-s-measles-contact-2-months-after-end-of-treatment-6-year-old-not-sure": (
        "Headline wording: the urgency (today, read the safe way), the 6-day immune-globulin "
        "step and the recent-end line are met, and since review BB the headline asks whether "
        "treatment ended in the last 6 months too (PICS-INFOBOOK). Its last part, 'only if "
        "you are sure it is no to all three', gives what answering no gives ('nothing you "
        "entered looks urgent'), as every unanswered headline does; the case's "
        "headline_not_contains 'nothing' matches that part."),
}


@pytest.mark.parametrize("case", table_params(CASES, KNOWN))
def test_review_aa_case(case: dict[str, Any]) -> None:
    check(case, triage(_doc(case)).to_dict())


def test_known_review_aa_cases_exist() -> None:
    assert set(KNOWN) <= set(BY_ID)


def _steps(result: dict[str, Any]) -> dict[str, str]:
    return {s["code"]: s["plain"] for s in result["next_steps"]}


def test_nhs_ht_limp_no_better_after_48_hours_is_a_doctor_today() -> None:
    result = triage(_doc(BY_ID["raa-o-survivor-7-years-off-treatment-hip-pain-limp-14-year-old"]
                         )).to_dict()
    assert result["urgency"] == "urgent"
    assert result["reasons"][0]["rule_id"] == "triage.urgency.urgent.limp_over_48_hours"
    assert "NHS-HT-LIMP" in result["reasons"][0]["citations"]
    def limp(days: float) -> dict[str, Any]:
        return triage({"format": "allpath.triage/1", "age_years": 14, "sex": "female",
                       "on_treatment": False, "central_line": False, "transplant": False,
                       "symptoms": [{"code": "limp", "duration_days": days}]}).to_dict()

    # a limp of 2 days has had its 48 hours (review BB); a day is not yet
    assert limp(2)["urgency"] == "urgent"
    assert limp(1)["urgency"] != "urgent"
    steps = _steps(limp(1))
    assert "weight on the leg" in steps["limp_watch"] and "hard to wake" in steps["limp_watch"]


@pytest.mark.parametrize("code", ["measles_exposure", "chickenpox_exposure"])
def test_pics_exposure_with_treatment_unanswered_gives_the_window_and_the_recent_end_line(
        code: str) -> None:
    result = triage({"format": "allpath.triage/1", "age_years": 6, "sex": "female",
                     "on_treatment": "unknown", "central_line": False,
                     "symptoms": [code]}).to_dict()
    steps = _steps(result)
    window = "measles_prophylaxis" if code == "measles_exposure" else "varicella_prophylaxis"
    assert window in steps
    assert "6 months" in steps["exposure_after_treatment"]
    assert "in the last 6 months" in result["plain_language"]["headline"]
    # a child a few months off chemotherapy is truthfully "not on treatment" (review BB)
    sure_no = triage({"format": "allpath.triage/1", "age_years": 6, "sex": "female",
                      "on_treatment": False, "central_line": False,
                      "symptoms": [code]}).to_dict()
    assert "6 months" in _steps(sure_no)["exposure_after_treatment"]
