"""Two family-safety items of triage pack 2.16.0, each named after its source.

1. During cancer treatment a cough, a cold, flu or a sore throat are signs of infection that
   the Canadian Cancer Society asks families to report right away (CCS-CALL). They were "in
   the next day or two" because no rule named them (review Q); they are now on the same-day
   list, read the safe way when nobody said whether there is treatment, and a fever with them
   is still a call now.
2. New bruises do not fade under a pressed glass, so the glass test cannot help with them.
   Meningitis Now (MENINGITIS-NOW-RASH): the septicaemia rash starts as pin pricks and can
   develop into purple bruising, and a fever with a rash that does not fade is an emergency.
   Every answer with bruises now says that new purple marks or spots that appear or spread
   mean emergency help now (review W), without telling the family to press a glass on them.

The infection signs are read from the pack rule, never written here again."""

from __future__ import annotations

from typing import Any

import pytest

from allpath.rules.loader import load_knowledge
from allpath.triage import triage

NO_FEVER = {"value": 36.8, "unit": "Cel"}
FEVER = {"value": 38.6, "unit": "Cel"}
RULE = "triage.urgency.urgent.infection_sign_on_treatment"


def _signs() -> list[str]:
    when = load_knowledge().rule(RULE)[2].when
    node = next(c for c in when.all if getattr(c, "contains_any", None))
    return [str(s) for s in node.contains_any]


def _triage(**answers: Any) -> dict[str, Any]:
    return triage({"format": "allpath.triage/1", **answers}).to_dict()


def _steps(result: dict[str, Any]) -> str:
    return " ".join(result["plain_language"]["what_to_do"]).lower()


def test_ccs_infection_signs_rule_names_cough_cold_flu_and_sore_throat() -> None:
    assert set(_signs()) == {"cough", "sore_throat", "runny_nose", "flu_like_symptoms"}


@pytest.mark.parametrize("sign", _signs())
def test_ccs_cough_or_cold_on_treatment_is_a_call_today(sign: str) -> None:
    result = _triage(age_years=7, sex="male", on_treatment=True, central_line=False,
                     symptoms=[sign], temperature=NO_FEVER)
    assert result["urgency"] == "urgent"
    assert result["advice"] == "oncology_team_today"
    assert RULE in [r["rule_id"] for r in result["reasons"]]
    headline = result["plain_language"]["headline"].lower()
    assert "today" in headline and "day or two" not in headline


@pytest.mark.parametrize("sign", _signs())
def test_ccs_infection_sign_with_treatment_unanswered_asks_and_says_today_if_yes(
        sign: str) -> None:
    """The urgency stays that of the answers given (the shared vignette t03-common-cold, a
    cold with nothing said about treatment, is routine); the headline asks both questions,
    says today if yes or not sure, and ends with what answering "no" gives."""
    result = _triage(age_years=7, sex="female", symptoms=[sign], temperature=NO_FEVER)
    no = _triage(age_years=7, sex="female", on_treatment=False, central_line=False,
                 symptoms=[sign], temperature=NO_FEVER)
    assert result["urgency"] == no["urgency"]
    assert result["advice"] == "infection_ask_treatment"
    headline = result["plain_language"]["headline"]
    assert "call the cancer care team today" in headline
    assert "act as if the answer is yes" in headline
    assert "{" not in headline and "Only if you are sure it is no: " in headline


@pytest.mark.parametrize("sign", _signs())
def test_ccs_infection_sign_with_fever_on_treatment_stays_a_call_now(sign: str) -> None:
    result = _triage(age_years=7, sex="male", on_treatment=True, central_line=True,
                     symptoms=[sign], temperature=FEVER)
    assert result["urgency"] == "emergency"


@pytest.mark.parametrize("sign", _signs())
def test_infection_sign_off_treatment_is_not_a_cancer_team_call(sign: str) -> None:
    result = _triage(age_years=30, sex="female", on_treatment=False, central_line=False,
                     transplant=False, symptoms=[sign], temperature=NO_FEVER)
    assert result["urgency"] == "routine"
    assert "cancer" not in (result["plain_language"]["headline"] + _steps(result)).lower()


@pytest.mark.parametrize("on_treatment", [True, False])
def test_meningitis_now_bruises_get_the_spreading_purple_marks_line(on_treatment: bool) -> None:
    result = _triage(age_years=5, sex="female", on_treatment=on_treatment,
                     central_line=False, transplant=False, symptoms=["bruising"],
                     temperature=NO_FEVER)
    steps = _steps(result)
    assert "bruises do not fade" in steps
    assert "new purple marks" in steps and "emergency help now" in steps
    assert "911" in steps
    # the glass-test line (spots that do not fade mean emergency) would contradict a headline
    # short of an emergency, as bruises do not fade by nature
    assert "press the side of a clear glass firmly on the rash" not in steps


@pytest.mark.parametrize("answers", [
    {"on_treatment": False, "central_line": False, "transplant": False},
    {"on_treatment": True, "central_line": True},
    {},
])
@pytest.mark.parametrize("symptoms", [["bruising"], ["rash", "easy_bruising"]])
def test_meningitis_now_new_bruises_with_a_fever_are_the_emergency_number(
        answers: dict[str, Any], symptoms: list[str]) -> None:
    """Review AA (a 2-year-old, 38.9 C, a spreading purple rash that looks like bruises):
    "See a doctor today" was under-triage. Meningitis Now: the rash can develop into purple
    bruising, and a fever with a rash that does not fade is a medical emergency; NICE NG143: a
    non-blanching rash is a red feature. Bruises never fade, so a fever with them is treated
    as tiny spots with a fever are."""
    result = _triage(age_years=2, sex="male", symptoms=symptoms, temperature=FEVER, **answers)
    assert result["urgency"] == "emergency"
    assert result["advice"] == "emergency_services"
    steps = _steps(result)
    assert "new purple marks like bruises" in steps
    assert "bruises do not fade" not in steps


def test_bruises_with_spots_keep_the_spot_steps_only() -> None:
    result = _triage(age_years=5, sex="female", on_treatment=False, central_line=False,
                     transplant=False, symptoms=["bruising", "petechiae"],
                     temperature=NO_FEVER)
    steps = _steps(result)
    assert "bruises do not fade" not in steps
    assert "tiny red or purple spots do not fade" in steps
