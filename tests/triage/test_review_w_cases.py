"""Review W (2026-12-08): eight family situations written from cited sources before ALLPath
was run (``review_w.yaml``), on the symptom-check changes of triage pack 2.13.0 (review V):
tiny red spots (petechiae) with a fever in a baby, in a child whose fever was reported but not
measured, and in an adult on treatment; spots without a fever on treatment (a child) and off
it (an adult); new bruises with a fever off treatment; vomiting off treatment with nothing kept
down (the 12-hour pee line) and with drinks kept down (the 8-hour line); a sure "no" to both
treatment questions against unanswered ones. A case ALLPath and its sources disagree with is a
strict xfail with the cited reason. The first probes below were written from the same sources
before the run; the last four (strict xfails) after it, from reading the full family text.
First run (2026-12-08, triage pack 2.13.0): 8 of 8 cases and every pre-run probe pass.
Triage pack 2.14.0 meets three of the four post-run probes (their strict xfails removed:
the dry nappy off treatment, much less pee alone off treatment, 911 during treatment;
tests/triage/test_triage_review_w_fixes.py); the purple-blotch line for bruises with a
fever stays a strict xfail (no cited source says it in words the pack can use)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_family_situations import check
from test_review_j_cases import _doc, _family_text

from allpath.triage import triage
from support import load_yaml, table_params

HERE = Path(__file__).parent
CASES: list[dict[str, Any]] = list(load_yaml((HERE / "review_w.yaml").read_text(
    encoding="utf-8"))["cases"])
BY_ID = {c["id"]: c for c in CASES}
# case id -> why ALLPath and the reviewer's sources disagree (first run, 2026-12-08: none)
KNOWN: dict[str, str] = {
    "rw-s-new-bruises-and-fever-5-year-old-off-treatment": (
        "Over-triage by the reviewer's reading (low confidence: at least a doctor today). Since "
        "triage 2.16.0 new bruises with a fever are the emergency number, as tiny spots with a "
        "fever are: Meningitis Now (MENINGITIS-NOW-RASH) - the septicaemia rash can develop "
        "into purple bruising, a fever with a rash that does not fade under pressure is a "
        "medical emergency; NICE NG143 - a non-blanching rash is a red feature; review AA "
        "(raa-s-fever-purple-bruise-like-rash-2-year-old-off-treatment, medium confidence) "
        "found the doctor-today answer under-triage. The sources differ, so the safer one is "
        "followed; the text the reviewer asked for is there (spots_with_fever)."),
}
RANK = {"routine": 0, "soon": 1, "urgent": 2, "emergency": 3}


def _triage(**answers: Any) -> dict[str, Any]:
    return triage({"format": "allpath.triage/1", **answers}).to_dict()


@pytest.mark.parametrize("case", table_params(CASES, KNOWN))
def test_review_w_case(case: dict[str, Any]) -> None:
    check(case, triage(_doc(case)).to_dict())


def test_review_w_table_is_whole() -> None:
    assert len(CASES) == 8
    assert set(KNOWN) <= set(BY_ID)
    assert sum(c["id"].startswith("rw-s-") for c in CASES) == 5
    assert sum(c["id"].startswith("rw-o-") for c in CASES) == 3
    for case in CASES:
        assert case["source"] and case["confidence"] in ("high", "medium", "low")
    not_emergency = [c for c in CASES if c["expect"]["urgency"] != "emergency"]
    assert len(not_emergency) >= 3  # over-triage is checked too


# ------------------------------------------------ probes written before the run
def test_nice_ng143_reported_fever_counts_with_spots_beside_a_normal_reading() -> None:
    """NICE NG143 1.1.3.1: a parent's report of a fever is valid and taken seriously; Meningitis
    Now: a fever with spots that do not fade is a medical emergency. A reading of 37.2 C taken
    after paracetamol does not cancel the reported fever."""
    result = _triage(age_years=3, sex="male", on_treatment=False, central_line=False,
                     symptoms=["fever", "petechiae"],
                     temperature={"value": 37.2, "unit": "Cel"})
    assert result["urgency"] == "emergency"


def test_meningitis_now_spots_with_a_fever_in_fahrenheit_adult_off_treatment() -> None:
    """101.0 F is 38.3 C: the emergency number for spots with a fever in an adult too
    (Meningitis Now: anyone with a fever and a rash that does not fade)."""
    result = _triage(age_years=35, sex="female", on_treatment=False, central_line=False,
                     symptoms=["petechiae"], temperature={"value": 101.0, "unit": "[degF]"})
    text = _family_text(result).lower()
    assert result["urgency"] == "emergency"
    assert "your child" not in text and "napp" not in text


@pytest.mark.parametrize("age", [0.5, 6], ids=["baby-6-months", "child-6-years"])
def test_nice_ng12_petechiae_without_fever_in_a_child_is_at_least_today(age: float) -> None:
    """NICE NG12: unexplained petechiae in a child or young person - immediate specialist
    assessment (a doctor today at least; NHS Healthier Together red for any non-fading rash
    in a child is stricter, so the sources differ above today, never below it)."""
    result = _triage(age_years=age, sex="female", on_treatment=False, central_line=False,
                     symptoms=["petechiae"], temperature={"value": 36.8, "unit": "Cel"})
    assert RANK[result["urgency"]] >= RANK["urgent"]
    assert "fever" in _family_text(result).lower()


@pytest.mark.parametrize("signs", [["petechiae"], ["vomiting"], ["easy_bruising"]],
                         ids=["spots", "vomiting", "bruising"])
def test_sure_no_shows_no_on_treatment_line_and_unanswered_keeps_it(signs: list[str]) -> None:
    """docs/triage.md (review V): a sure "no" to both questions leaves out the on-treatment
    fever line, the head-knock line and every "with cancer treatment or a central line" end;
    unanswered questions keep them (read the safe way) and never answer less urgently."""
    base = {"age_years": 7, "sex": "male", "symptoms": signs,
            "temperature": {"value": 36.9, "unit": "Cel"}}
    sure_no = _triage(**base, on_treatment=False, central_line=False, transplant=False)
    unanswered = _triage(**base)
    assert "central line" not in _family_text(sure_no).lower()
    assert "central line" in unanswered["plain_language"]["headline"].lower()
    assert RANK[unanswered["urgency"]] >= RANK[sure_no["urgency"]]


# ------------------------------------------------ probes written AFTER the first run
# (reading the full family text of the table and of nearby inputs; each was a strict xfail
# whose reason said what ALLPath said and what the source says; three are met in 2.14.0)
def _steps(result: dict[str, Any]) -> str:
    return " ".join(result["plain_language"]["what_to_do"]).lower()


# A strict xfail until triage 2.16.0: new bruises with a fever of 38.6 C off treatment got "See a
# doctor today" with one step, a blood count, and no line saying that purple bruise-like marks,
# with this fever, mean emergency help. They are now the emergency number with that line
# (step spots_with_fever; MENINGITIS-NOW-RASH).
def test_meningitis_now_new_bruises_with_a_fever_get_the_purple_blotch_line() -> None:
    result = triage(_doc(BY_ID["rw-s-new-bruises-and-fever-5-year-old-off-treatment"])).to_dict()
    steps = _steps(result)
    assert "bruis" in steps and ("fade" in steps or "glass" in steps)
    assert result["urgency"] == "emergency"


def test_nhs_ht_dry_nappy_off_treatment_steps_agree_and_name_no_cancer_team() -> None:
    """Strict xfail on 2.13.0: a 1-year-old off treatment with a dry nappy and vomiting got
    "8 hours today" and "6 hours now ... to the cancer care team" (Children's of Alabama, an
    oncology source). NHS Healthier Together (NENC, South Yorkshire): 8 hours - a doctor or
    nurse today; 12 hours - A&E or 999. Met in 2.14.0."""
    result = _triage(age_years=1, sex="male", on_treatment=False, central_line=False,
                     transplant=False, symptoms=["dry_nappy", "vomiting"],
                     temperature={"value": 37.0, "unit": "Cel"})
    steps = _steps(result)
    assert "cancer" not in steps
    assert not ("6 hours" in steps and "8 hours" in steps)


def test_nhs_syb_much_less_pee_off_treatment_gives_the_12_hours() -> None:
    """Strict xfail on 2.13.0: much less pee alone off treatment was "See a doctor today" with
    no step. NHS South Yorkshire and Bassetlaw Healthier Together: no wee or wet nappy for 12
    hours - A&E or 999. Met in 2.14.0 (step low_urine_off_treatment)."""
    result = _triage(age_years=4, sex="female", on_treatment=False, central_line=False,
                     transplant=False, symptoms=["low_urine"],
                     temperature={"value": 37.0, "unit": "Cel"})
    assert result["urgency"] == "urgent"
    assert "12 hours" in _steps(result)


def test_spots_and_fever_on_treatment_tell_the_emergency_team_about_the_treatment() -> None:
    """Strict xfail on 2.13.0: "Call 911" for an adult on treatment with a PICC, spots and
    38.3 C, and no step said to tell them about the treatment and the line (SCHN: tell the
    triage nurse the child is an oncology patient; COG). Met in 2.14.0 (step
    tell_emergency_team_treatment)."""
    result = triage(_doc(BY_ID["rw-s-petechiae-and-fever-on-treatment-28-year-old-picc"])).to_dict()
    steps = _steps(result)
    assert ("tell" in steps or "say" in steps) and "treatment" in steps
