"""Review V (2026-12-08): twelve family situations written from cited sources before ALLPath
was run (``review_v.yaml``), on the symptom-check changes of triage pack 2.11.0-2.12.0: six look
for unsafe under-triage ("something else worries me" with the treatment question unanswered, a
rash with a fever on treatment, tiny red spots with a fever off treatment, a change in vision on
treatment, vomiting with nothing kept down off treatment, a dry nappy at 1 year on treatment)
and six for over-triage ("something else" off treatment in an adult and a child, hives that
fade, a slow blur of vision off treatment, one vomit in a child drinking well, a rash 3 years
after a transplant). A case ALLPath and its sources disagree with is a strict xfail with the
cited reason. The probes below were written from the same sources before the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_family_situations import check
from test_review_j_cases import _doc, _family_text

from allpath.triage import triage
from support import load_yaml, table_params

HERE = Path(__file__).parent
CASES: list[dict[str, Any]] = list(load_yaml((HERE / "review_v.yaml").read_text(
    encoding="utf-8"))["cases"])
BY_ID = {c["id"]: c for c in CASES}
# case id -> why ALLPath and the reviewer's sources disagree (first run, 2026-12-08);
# rv-s-petechiae-and-fever-off-treatment-5-year-old was one (unsafe: "See a doctor today"),
# fixed in triage pack 2.13.0 (rule triage.urgency.emergency.spots_with_fever)
KNOWN: dict[str, str] = {
    "rv-o-blurry-board-for-a-month-off-treatment-19-year-old": (
        "Over-triage: a slow, painless blur of a month (duration_days: 30) off treatment gets "
        "'See a doctor today ... urgent care or the emergency department' (rule "
        "triage.urgency.urgent.neuro_or_vision, citing S58 and OSF-CALL, an on-treatment page) "
        "with no step at all. Boots 'Blurred vision' (NHS-style): ongoing blurring - see your "
        "optician as soon as possible; A&E only for a blur that comes on very suddenly with "
        "pain, headache, vomiting or loss of sight; Sight Advice FAQ: immediate attention for a "
        "sudden change. Reviewer expected a day or two (low confidence; routine with an eye "
        "test as defensible). Left as is in triage pack 2.13.0: Boots gives the time for "
        "'ongoing' blurring and A&E for one that 'comes on very suddenly', but no source read "
        "gives a number of days (or another answer the form has) that tells a slow blur from a "
        "sudden one that goes on, so a duration cut-off would be invented."),
}
RANK = {"routine": 0, "soon": 1, "urgent": 2, "emergency": 3}


def _triage(**answers: Any) -> dict[str, Any]:
    return triage({"format": "allpath.triage/1", **answers}).to_dict()


@pytest.mark.parametrize("case", table_params(CASES, KNOWN))
def test_review_v_case(case: dict[str, Any]) -> None:
    check(case, triage(_doc(case)).to_dict())


def test_review_v_table_is_whole() -> None:
    assert len(CASES) == 12
    assert set(KNOWN) <= set(BY_ID)
    assert sum(c["id"].startswith("rv-s-") for c in CASES) == 6
    assert sum(c["id"].startswith("rv-o-") for c in CASES) == 6
    for case in CASES:
        assert case["source"] and case["confidence"] in ("high", "medium", "low")
    not_urgent = [c for c in CASES if c["expect"]["urgency"] in ("routine", "soon")]
    assert len(not_urgent) >= 3  # over-triage is checked too


# ------------------------------------------------ probes written before the run
@pytest.mark.parametrize(("age", "nappy"), [(2, True), (5, False), (40, False)],
                         ids=["2-years", "5-years", "adult-40"])
def test_ccs_much_less_pee_on_treatment_gives_the_6_hours(age: int, nappy: bool) -> None:
    """CCS-CALL: decreased urine or no urine for 6-8 hours - report right away (read at 6 by
    docs/triage.md, step low_urine_hours, 2 years and older); Children's of Alabama gives 10-12
    hours from 3 years. Outside the first week it is a call today with the hours told; nappy
    words only for a toddler, none for a school child or an adult."""
    result = _triage(age_years=age, sex="female", on_treatment=True, central_line=False,
                     date="2026-12-08", treatment_start="2026-03-02", symptoms=["low_urine"],
                     temperature={"value": 36.9, "unit": "Cel"})
    text = _family_text(result).lower()
    assert result["urgency"] == "urgent"
    assert "6 hours" in text
    assert ("napp" in text or "diaper" in text) is nappy
    if age >= 18:
        assert "your child" not in text


# was a strict xfail on triage 2.14.0 (the headline said "Call the cancer care team today, as
# soon as you can."; only the step named the transplant team); met in triage pack 2.15.0
def test_nmdp_rash_40_days_after_transplant_is_the_transplant_team_today() -> None:
    """NMDP / Be The Match: acute GVHD happens within the first 100 days, skin rash - call
    your transplant team immediately (today without fever: docs/triage.md, unconfirmed); the
    headline names the transplant team, never urgent care (BTM-GVHD-CALL); any rash gets the
    glass test (NHS-HT-DV, MENINGITIS-NOW-GLASS)."""
    result = _triage(age_years=10, sex="female", on_treatment=False, central_line=False,
                     recent_transplant=True, symptoms=["rash"],
                     temperature={"value": 36.8, "unit": "Cel"})
    headline = result["plain_language"]["headline"]
    assert result["urgency"] == "urgent" and result["advice"] == "oncology_team_today"
    assert "transplant" in headline and "urgent care" not in headline
    assert "glass" in _family_text(result).lower()


def test_uhb_acute_oncology_something_else_on_treatment_adult_is_a_call_now() -> None:
    """UHB Acute Oncology Service: on anti-cancer treatment, feel unwell - immediately contact
    the 24-hour line; Royal Devon: no temperature but feeling very unwell - contact us, even
    slight symptoms may need urgent treatment (BWC-UNWELL and SCHN-CALL for children)."""
    result = _triage(age_years=30, sex="male", on_treatment=True, central_line=True,
                     symptoms=["other_concern"], temperature={"value": 36.9, "unit": "Cel"})
    text = _family_text(result).lower()
    assert result["urgency"] == "emergency"
    assert "nothing you entered needs a call" not in text and "napp" not in text


def test_nhs_glass_test_for_a_rash_on_treatment_without_fever() -> None:
    """CCS-CALL: a rash on treatment - report right away (today); NHS Healthier Together: a
    rash that does not disappear with pressure - 999, with or without a fever."""
    result = _triage(age_years=6, sex="male", on_treatment=True, central_line=True,
                     symptoms=["rash"], temperature={"value": 36.9, "unit": "Cel"})
    assert result["urgency"] == "urgent"
    assert "glass" in _family_text(result).lower()


def test_meningitis_now_glass_test_for_a_rash_with_fever_off_treatment() -> None:
    """Meningitis Now: fever with spots that do not fade under pressure is a medical
    emergency - so the glass test must be named; NICE NG143 (traffic light): a fever of 38.6 C
    in a 3-year-old with no red feature is not itself an emergency (over-triage check)."""
    result = _triage(age_years=3, sex="female", on_treatment=False, central_line=False,
                     transplant=False, symptoms=["rash"],
                     temperature={"value": 38.6, "unit": "Cel"})
    assert "glass" in _family_text(result).lower()
    assert result["urgency"] != "emergency"


UNSURE_SIGNS = [["other_concern"], ["vision_changes"], ["headache", "vomiting"], ["rash"],
                ["diarrhoea"], ["fatigue"], ["vomiting", "cannot_keep_fluids_down"]]
# tightened after the first run: the first version looked for "today" anywhere in the
# headline, which its "call the cancer care team today" (the yes part) always satisfied
SURE_NO_KNOWN: dict[str, str] = {
    # headache+vomiting was a strict xfail (the today_ask_treatment "no" part gave no time);
    # fixed in triage pack 2.13.0: the part reads the "no" result, as now_ask_treatment does
}


def _sure_no_params() -> list[Any]:
    out = []
    for signs in UNSURE_SIGNS:
        name = "+".join(signs)
        marks = [pytest.mark.xfail(strict=True, reason=SURE_NO_KNOWN[name])] \
            if name in SURE_NO_KNOWN else []
        out.append(pytest.param(signs, id=name, marks=marks))
    return out


@pytest.mark.parametrize("signs", _sure_no_params())
def test_sure_it_is_no_part_matches_the_answer_no(signs: list[str]) -> None:
    """docs/triage.md (review U): the "only if you are sure it is no" part of the
    ask-the-question headlines says what the same input answered "no" gives, so it never
    promises less: today where "no" gives today (NHS-HT-DV, Just One Norfolk), a day or two
    where "no" gives a day or two, never "today" where "no" gives routine."""
    base = {"age_years": 8, "sex": "female", "symptoms": signs,
            "temperature": {"value": 36.9, "unit": "Cel"}}
    unsure = _triage(**base)
    answered = _triage(**base, on_treatment=False, central_line=False)
    headline = unsure["plain_language"]["headline"].lower()
    assert "central line" in headline
    assert RANK[unsure["urgency"]] >= RANK[answered["urgency"]]
    tail = next((headline.split(m, 1)[1] for m in ("only if you are sure it is no", "if not,")
                 if m in headline), "")
    assert tail, "the headline says nothing to a family sure the answer is no"
    assert "does not get better" not in tail
    if answered["urgency"] == "urgent":
        assert "today" in tail
    elif answered["urgency"] == "soon":
        assert "day or two" in tail
    elif answered["urgency"] == "routine":
        assert "today" not in tail
