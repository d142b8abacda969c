"""Review N (2026-12-07): 12 family phone-line situations written from cited sources before
ALLPath was run (``review_n.yaml``), and the rules and wording changed for them: a rash on
treatment (and the optional answer ``recent_transplant``), the codes diarrhoea, very_thirsty,
dizzy and the nappy words of low_urine, a fever with the treatment question unanswered, the age
of a platelet count, baby wording and small wording fixes.

Every case runs through the library with the same ``check`` as the other reviewers' tables; 9
pass and three are strict xfails with their sources (since review Q a baby under 2 on treatment
with much less pee is a call now; since review U "something else worries me" during treatment
is a call now, and two cases used it for a sign that had no code then).
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
CASES: list[dict[str, Any]] = list(load_yaml((HERE / "review_n.yaml").read_text(
    encoding="utf-8"))["cases"])
BY_ID = {c["id"]: c for c in CASES}
BASE: dict[str, Any] = {"format": "allpath.triage/1", "age_years": 8, "sex": "female",
                        "on_treatment": True, "central_line": False}


def _run(case_id: str, **change: Any) -> dict[str, Any]:
    return triage(_doc(BY_ID[case_id], **change)).to_dict()


def _steps(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["code"]: s for s in result["next_steps"]}


XFAIL = {
    "rn-infant-not-drinking-fewer-wet-nappies-induction": (
        "The reviewer (medium confidence) expects today for a 10-month-old on treatment with 2 "
        "wet nappies in 12 hours, reading BWC-UNWELL and CCS-CALL. ALLPath says now: Children's "
        "of Alabama (ALABAMA-ONC-EMERG) says to call the nurse immediately for dehydration or "
        "decreased urine, which under 2 years is no urine within 6 hours; the sources differ, "
        "so the safer one is followed, and the check has no hours answer, so a child under 2 "
        "with much less pee is read the safe way (review Q; the family guide says the same)."),
    **dict.fromkeys(("rn-teen-self-very-thirsty-peeing-a-lot-on-dexamethasone",
                     "rn-watery-diarrhoea-day-45-after-transplant"), (
        "The reviewer (medium confidence) used other_concern as the closest code for a sign "
        "the check then lacked and expected today. Since review U, 'something else worries "
        "me' during treatment is a call now: Birmingham Women's and Children's (BWC-UNWELL) - "
        "a child who feels or looks unwell even with a normal temperature, 'just not quite "
        "right', telephone straight away; CCS, KidsHealth NZ and NCI give no time, so the "
        "safer source is followed. The sign itself now has its code (very_thirsty, "
        "diarrhoea), which gives today without other_concern.")),
}


@pytest.mark.parametrize("case", table_params(CASES, XFAIL))
def test_review_n_case(case: dict[str, Any]) -> None:
    check(case, triage(_doc(case)).to_dict())


def test_review_n_table_is_whole() -> None:
    assert len(CASES) == 12
    for case in CASES:
        assert case["source"] and case["expect"]["urgency"] in (
            "routine", "soon", "urgent", "emergency")


# ------------------------------------------------------------------ 1. rash, transplant
def test_ccs_rash_on_treatment_is_a_call_today_with_no_blood_count_advice() -> None:
    result = _run("rn-rash-palms-soles-day-30-after-transplant")
    assert result["advice"] == "oncology_team_today"
    assert any("CCS-CALL" in r["citations"] for r in result["reasons"] if r["kind"] == "urgency")
    text = _family_text(result)
    assert "transplant" in text and "complete blood count" not in text
    assert "lower blood counts" not in result["plain_language"]["what_it_can_mean"]


def test_aamds_recent_transplant_makes_a_rash_a_gvhd_call_today_even_off_chemo() -> None:
    result = triage({**BASE, "on_treatment": False, "recent_transplant": True,
                     "symptoms": ["rash"]}).to_dict()
    assert result["urgency"] == "urgent" and result["on_treatment_or_line"] is True
    rules = [r["rule_id"] for r in result["reasons"]]
    assert "triage.urgency.urgent.gvhd_signs_after_transplant" in rules
    assert "graft-versus-host" in result["plain_language"]["what_it_can_mean"]
    assert "transplant_signs_today" in _steps(result)


def test_recent_transplant_with_a_fever_is_a_call_now() -> None:
    result = triage({**BASE, "on_treatment": False, "recent_transplant": True,
                     "symptoms": ["rash"], "temperature": "38.2 Cel"}).to_dict()
    assert result["urgency"] == "emergency" and result["advice"] == "oncology_team_now"


def test_recent_transplant_answer_must_be_yes_no_or_unknown() -> None:
    from allpath.errors import RecordError
    with pytest.raises(RecordError, match="recent_transplant"):
        triage({**BASE, "recent_transplant": "last month", "symptoms": []})


# ------------------------------------------------------------------ 2. new codes
@pytest.mark.parametrize(("code", "advice"), [
    ("diarrhoea", "oncology_team_today"), ("very_thirsty", "oncology_team_today"),
    ("dizzy", "oncology_team_now")])
def test_review_n_codes_have_the_cited_urgency_on_treatment(code: str, advice: str) -> None:
    result = triage({**BASE, "symptoms": [code]}).to_dict()
    assert result["advice"] == advice
    assert result["plain_language"]["what_to_do"]


def test_schn_diarrhoea_and_not_drinking_on_treatment_is_a_call_now() -> None:
    result = triage({**BASE, "symptoms": ["diarrhoea", "not_drinking"]}).to_dict()
    assert result["advice"] == "oncology_team_now"


def test_chop_diarrhoea_step_says_not_drinking_less_pee_or_fever_means_now() -> None:
    step = _steps(triage({**BASE, "symptoms": ["diarrhea"]}).to_dict())["diarrhoea_watch"]
    assert "CHOP-CHEMO-DIARRHEA" in step["citations"]
    assert all(w in step["plain"] for w in ("cannot drink", "pees much less", "fever", "now"))


def test_vocabulary_reads_nappy_words_as_much_less_pee_and_the_new_synonyms() -> None:
    for word, code in (("dry_nappy", "low_urine"), ("fewer_wet_diapers", "low_urine"),
                       ("diarrhea", "diarrhoea"), ("polyuria", "very_thirsty"),
                       ("light_headed", "dizzy")):
        result = triage({**BASE, "symptoms": [word]}).to_dict()
        assert result["symptoms"] == [code], (word, result["symptoms"])


# ------------------------------------------------------------------ 3. unsure about CAR-T
def test_fever_unsure_about_treatment_says_act_as_if_yes_and_no_blood_count_advice() -> None:
    result = _run("rn-fever-five-weeks-after-car-t-unsure-if-on-treatment")
    headline = result["plain_language"]["headline"]
    assert "CAR-T" in headline and "not sure, act as if the answer is yes" in headline
    assert "cbc_with_smear" not in _steps(result)
    assert "complete blood count" not in _family_text(result)


# ------------------------------------------------------------------ 4. age of the count
def test_platelet_count_text_says_how_old_the_count_is_and_counts_change() -> None:
    result = _run("rn-new-bruises-maintenance-count-8-days-old")
    shown = " ".join(result["plain_language"]["what_the_blood_test_shows"])
    assert "from 8 days ago" in shown and "Counts change during treatment" in shown
    assert result["plain_language"]["what_to_do"]
    assert "bleeding_signs_today" in _steps(result)


def test_platelet_count_without_a_date_says_the_count_you_entered() -> None:
    case = BY_ID["rn-new-bruises-maintenance-count-8-days-old"]
    doc = _doc(case)
    doc.pop("date")
    doc["cbc"] = {"platelets": doc["cbc"]["platelets"]}
    shown = " ".join(triage(doc).to_dict()["plain_language"]["what_the_blood_test_shows"])
    assert "the platelet count you entered" in shown and "may be different" in shown


# ------------------------------------------------------------------ 5. baby wording
def test_baby_not_drinking_text_talks_of_nappies_and_a_floppy_baby_now() -> None:
    result = _run("rn-infant-not-drinking-fewer-wet-nappies-induction")
    text = _family_text(result)
    assert "nappies" in text and "floppy" in text and "Call now, day or night" in text
    assert "how much the person pees" not in text
    # day 21: the first-week (tumour-lysis) sentence is not shown
    assert "first week" not in result["plain_language"]["what_it_can_mean"]


def test_low_urine_first_week_sentence_stays_in_the_first_week_or_without_a_start_day() -> None:
    case = BY_ID["rn-infant-not-drinking-fewer-wet-nappies-induction"]
    day3 = triage(_doc(case, treatment_start="2026-12-04")).to_dict()
    assert "first week" in day3["plain_language"]["what_it_can_mean"]
    doc = _doc(case)
    doc.pop("treatment_start")
    assert "first week" in triage(doc).to_dict()["plain_language"]["what_it_can_mean"]


# ------------------------------------------------------------------ 6. small ones
def test_one_name_for_the_emergency_department() -> None:
    for case in CASES:
        assert "emergency room" not in _family_text(triage(_doc(case)).to_dict()), case["id"]


def test_low_platelets_are_reported_once() -> None:
    result = _run("rn-teen-heavy-period-platelets-18-consolidation")
    shown = result["plain_language"]["what_the_blood_test_shows"]
    assert sum("platelets" in s for s in shown) == 1


def test_chills_with_a_line_mention_the_line_flush() -> None:
    result = _run("rn-shaking-chills-after-line-flush-treatment-finished")
    assert "flushed" in result["plain_language"]["what_it_can_mean"]


def test_schn_away_from_home_go_to_the_closest_hospital_and_say_on_treatment() -> None:
    result = _run("rn-fever-on-holiday-abroad-maintenance")
    text = _family_text(result)
    assert "closest hospital" in text and "on cancer treatment" in text
