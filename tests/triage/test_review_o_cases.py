"""Review O (2026-12-07): 10 family phone-line situations written from cited sources before
ALLPath was run (``review_o.yaml``), and the rules and wording changed for them: the
unanswered treatment question read the safe way for every sign that is a call now during
treatment (not only a fever), a transplant at any time, a baby's wet-nappy instruction, and
wording fixes.

Every case runs through the library with the same ``check`` as the other reviewers' tables. A
case ALLPath and its sources disagree with is a strict xfail with the cited reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_family_situations import check
from test_review_j_cases import _doc, _family_text

from allpath.triage import triage
from support import load_yaml, table_params

HERE = Path(__file__).parent
CASES: list[dict[str, Any]] = list(load_yaml((HERE / "review_o.yaml").read_text(
    encoding="utf-8"))["cases"])
BY_ID = {c["id"]: c for c in CASES}
BASE: dict[str, Any] = {"format": "allpath.triage/1", "age_years": 8, "sex": "male",
                        "on_treatment": "unknown", "central_line": "unknown"}
XFAIL = {
    "ro-dizzy-on-standing-three-years-off-treatment": (
        "Feeling dizzy off treatment has no rule of its own: the sources the reviewer quotes "
        "(NHS 'Dizziness' - see your GP if you are worried; NICE NG127 - postural dizziness in "
        "older children is often postural hypotension) give no time, and the reviewer called "
        "routine an acceptable difference ('a day or two (or routine) is my reading')."),
    "ro-rash-120-days-after-transplant": (
        "The case answers recent_transplant: false (more than 100 days) and, written before the "
        "answer existed, not the new answer transplant; nothing in it tells the tool about the "
        "transplant. With transplant: true it is a call today (NMDP-GVHD-CHRONIC - chronic GVHD "
        "after 100 days, rashes; test_nmdp_chronic_gvhd_rash_any_time_after_transplant_is_today)."),
}


def _run(case_id: str, **change: Any) -> dict[str, Any]:
    return triage(_doc(BY_ID[case_id], **change)).to_dict()


def _steps(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["code"]: s for s in result["next_steps"]}


@pytest.mark.parametrize("case", table_params(CASES, XFAIL))
def test_review_o_case(case: dict[str, Any]) -> None:
    check(case, triage(_doc(case)).to_dict())


def test_review_o_table_is_whole() -> None:
    assert len(CASES) == 10
    for case in CASES:
        assert case["source"] and case["expect"]["urgency"] in (
            "routine", "soon", "urgent", "emergency")


# ------------------------------------------------------------------ 1. unsure about treatment
@pytest.mark.parametrize("sign", ["chills", "dizzy", "severe_headache", "severe_abdominal_pain",
                                  "cannot_keep_fluids_down", "wheeze"])
def test_schn_call_now_sign_with_treatment_unanswered_is_read_the_safe_way(sign: str) -> None:
    result = triage({**BASE, "symptoms": [sign], "temperature": "37.4 Cel"}).to_dict()
    assert result["urgency"] == "emergency"
    assert result["advice"] in ("now_ask_treatment", "emergency_services")
    urgency_rules = [r["rule_id"] for r in result["reasons"] if r["kind"] == "urgency"]
    assert urgency_rules and all(".emergency." in r for r in urgency_rules)
    missing = {m["fact"] for m in result["missing"]}
    assert {"triage.on_treatment", "triage.central_line"} <= missing


def test_chills_unsure_headline_asks_both_questions_and_says_act_as_if_yes() -> None:
    result = _run("ro-unsure-treatment-chills-no-fever")
    assert result["advice"] == "now_ask_treatment"
    headline = result["plain_language"]["headline"]
    for words in ("cancer treatment", "central line", "now, day or night",
                  "act as if the answer is yes"):
        assert words in headline
    assert "cbc_with_smear" not in _steps(result)
    assert "38.0" in _family_text(result)


def test_chills_with_both_answers_no_stays_routine() -> None:
    result = triage({**BASE, "on_treatment": False, "central_line": False,
                     "symptoms": ["chills"]}).to_dict()
    assert result["urgency"] == "routine" and result["advice"] == "routine"


def test_fever_unsure_keeps_its_own_fever_headline() -> None:
    result = triage({**BASE, "symptoms": ["chills", "fever"]}).to_dict()
    assert result["advice"] == "fever_ask_treatment"


# ------------------------------------------------------------------ 2. transplant at any time
def test_nmdp_chronic_gvhd_rash_any_time_after_transplant_is_today() -> None:
    result = _run("ro-rash-120-days-after-transplant", transplant=True)
    assert result["urgency"] == "urgent"
    rules = [r["rule_id"] for r in result["reasons"] if r["kind"] == "urgency"]
    assert "triage.urgency.urgent.gvhd_signs_any_time_after_transplant" in rules
    assert any("NMDP-GVHD-CHRONIC" in r["citations"] for r in result["reasons"])
    assert "transplant_signs_today" in _steps(result)
    meaning = result["plain_language"]["what_it_can_mean"]
    assert "graft-versus-host" in meaning and "100 days or later" in meaning


@pytest.mark.parametrize("sign", ["diarrhoea", "abdominal_pain", "jaundice"])
def test_other_gvhd_signs_any_time_after_transplant_are_today(sign: str) -> None:
    result = triage({**BASE, "age_years": 9, "on_treatment": False, "central_line": False,
                     "transplant": True, "symptoms": [sign]}).to_dict()
    assert result["urgency"] == "urgent"


def test_recent_transplant_still_works_and_implies_transplant() -> None:
    result = triage({**BASE, "on_treatment": False, "central_line": False,
                     "recent_transplant": True, "symptoms": ["rash"]}).to_dict()
    assert result["urgency"] == "urgent" and result["on_treatment_or_line"] is True
    assert "transplant_signs_today" in _steps(result)


def test_transplant_answer_must_be_yes_no_or_unknown() -> None:
    from allpath.errors import RecordError
    with pytest.raises(RecordError, match="transplant"):
        triage({**BASE, "transplant": "years ago", "symptoms": []})


def test_no_blood_count_never_says_nothing_points_to_a_problem_with_the_blood() -> None:
    for case in CASES:
        result = triage(_doc(case)).to_dict()
        if "cbc" not in case["input"]:
            assert "Nothing here points" not in _family_text(result), case["id"]
    result = _run("ro-rash-120-days-after-transplant")
    assert "No blood count was entered" in result["plain_language"]["what_it_can_mean"]


# ------------------------------------------------------------------ 4. wording
def test_baby_fever_text_takes_the_temperature_under_the_arm_only() -> None:
    text = _family_text(_run("ro-baby-2-months-fever-infant-all-induction"))
    assert "under the arm" in text and "by mouth" not in text
    older = _family_text(_run("ro-diarrhoea-fever-neutropenic-consolidation"))
    assert "by mouth or under the arm" in older


def test_teen_answering_for_himself_gets_no_nappy_words() -> None:
    text = _family_text(_run("ro-teen-self-diarrhoea-and-dizzy-maintenance"))
    assert "napp" not in text.lower() and "diaper" not in text.lower()
    teen = triage({**BASE, "age_years": 15, "on_treatment": True, "central_line": False,
                   "symptoms": ["low_urine"]}).to_dict()
    assert "napp" not in _family_text(teen).lower()


def test_toddler_keeps_the_nappy_words() -> None:
    result = triage({**BASE, "age_years": 1.5, "on_treatment": True, "central_line": False,
                     "symptoms": ["diarrhoea"]}).to_dict()
    assert "wet nappies" in _family_text(result)


def test_no_step_says_call_today_under_a_now_headline() -> None:
    for case in CASES:
        result = triage(_doc(case)).to_dict()
        if result["urgency"] == "emergency":
            for step in result["next_steps"]:
                first = step["plain"].partition(". ")[0]
                assert " today" not in first, (case["id"], step["code"])


def test_count_taken_today_is_not_said_to_have_changed() -> None:
    text = _family_text(_run("ro-rash-with-petechiae-platelets-12-maintenance"))
    assert "Counts change" not in text and "new blood count" not in text
    older = _family_text(_run("ro-rash-with-petechiae-platelets-12-maintenance",
                              cbc={"time": "2026-12-01", "platelets": "12 10*9/L"}))
    assert "Counts change during treatment" in older


def test_no_call_now_if_a_fever_comes_when_the_fever_is_there() -> None:
    for case_id in ("ro-fever-day-40-after-transplant-chemo-finished",
                    "ro-diarrhoea-fever-neutropenic-consolidation"):
        text = _family_text(_run(case_id))
        assert "gets a fever" not in text and "With a fever, call now" not in text, case_id


# ------------------------------------------------------------------ 3. wet nappies
@pytest.mark.parametrize("code", ["dry_nappy", "fewer_wet_nappies"])
def test_alabama_wet_nappy_step_for_a_child_under_2(code: str) -> None:
    result = _run("ro-dry-nappy-8-hours-10-month-old-maintenance", symptoms=[code])
    todo = " ".join(result["plain_language"]["what_to_do"])
    assert "no wet nappy for 6 hours needs a call now" in todo
    assert "very sleepy or floppy" in todo
    step = _steps(result)["wet_nappy_watch"]
    assert "ALABAMA-ONC-EMERG" in step["citations"]


def test_wet_nappy_step_off_treatment_toddler_gives_the_nhs_hours() -> None:
    """Off treatment a toddler's dry nappy gets a step with when to get help, from the
    off-treatment sources (review W: NHS-HT-SYB-DV, 12 hours - emergency help; the 6-hour call
    now is Children's of Alabama's, an oncology source, and named the cancer care team)."""
    result = triage({**BASE, "age_years": 1.5, "on_treatment": False, "central_line": False,
                     "symptoms": ["dry_nappy"]}).to_dict()
    todo = " ".join(result["plain_language"]["what_to_do"])
    assert "12 hours" in todo and "emergency help now" in todo.lower()
    assert "cancer" not in todo.lower()


def test_no_wet_nappy_step_for_a_school_child() -> None:
    result = triage({**BASE, "age_years": 9, "on_treatment": True, "central_line": False,
                     "symptoms": ["low_urine"]}).to_dict()
    assert "napp" not in _family_text(result).lower()
