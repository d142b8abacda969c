"""Review GG (2026-12-08): twelve family situations probing triage pack 2.16.0 in both
directions (a danger sign missed, and a family sent for care the sources say can wait),
written from cited sources before ALLPath was run (``review_gg.yaml``, notes in
``review_gg.md``). First run: 8 of 12. Fixed after it (triage 2.17.0): a cold with the
treatment question answered "not sure" is a call today in the urgency too, as the headline
says (a record that never asked keeps the urgency of the answers given, shared vignette t03);
a limp during treatment gets its step (fever now, not weight-bearing today); the limp step off
treatment names the 48 hours. Three over-triage cases stay strict xfails: the form cannot say
that a fever, bruise or limp is explained."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_family_situations import check
from test_review_j_cases import _doc

from allpath.triage import triage
from support import load_yaml, table_params

HERE = Path(__file__).parent
CASES: list[dict[str, Any]] = list(load_yaml((HERE / "review_gg.yaml").read_text(
    encoding="utf-8"))["cases"])
BY_ID = {c["id"]: c for c in CASES}
_EXPLAINED = (
    "Over-triage the form cannot avoid (reviewer, medium confidence): the form has no way to "
    "say that the sign has a known cause, so NICE NG12's rule for an unexplained sign "
    "(a very urgent blood count within 48 hours) is applied; ")
KNOWN: dict[str, str] = {
    "rgg-o-cold-with-38-2-survivor-3-years-off": _EXPLAINED + (
        "a fever with a cold in a survivor gets 'a doctor within a day or two' with a blood "
        "count, where NHS Healthier Together (fever) gives care at home without a red or amber "
        "sign. Reading a cold as explaining the fever is a clinical choice left to the user."),
    "rgg-o-old-bruises-known-fall-survivor-11-year-old": _EXPLAINED + (
        "bruises after a known fall get the unexplained-bruising answer (Raising Children "
        "Network, Children's Colorado: everyday bumps need no doctor)."),
    "rgg-o-limp-after-netball-sprain-survivor-14-year-old": _EXPLAINED + (
        "a limp after a sprain gets the NG12 answer (NHS Healthier Together 'Limp': a slowly "
        "improving limp after a sprain is self care)."),
}


@pytest.mark.parametrize("case", table_params(CASES, KNOWN))
def test_review_gg_case(case: dict[str, Any]) -> None:
    check(case, triage(_doc(case)).to_dict())


def test_known_review_gg_cases_exist() -> None:
    assert set(KNOWN) <= set(BY_ID)


def _steps(result: dict[str, Any]) -> dict[str, str]:
    return {s["code"]: s["plain"] for s in result["next_steps"]}


def _run(**answers: Any) -> dict[str, Any]:
    return triage({"format": "allpath.triage/1", "age_years": 6, "sex": "female",
                   **answers}).to_dict()


def test_ccs_cold_with_treatment_not_sure_is_a_call_today_in_the_urgency_too() -> None:
    unsure = _run(on_treatment="unknown", symptoms=["runny_nose"])
    assert unsure["urgency"] == "urgent"
    assert unsure["advice"] == "infection_ask_treatment"
    never_asked = _run(symptoms=["runny_nose"])  # a record that does not say (vignette t03)
    assert never_asked["urgency"] == "routine"


def test_schn_limp_during_treatment_gets_the_fever_now_step() -> None:
    steps = _steps(_run(on_treatment=True, central_line=False,
                        symptoms=[{"code": "limp", "duration_days": 3}]))
    step = steps["limp_watch_on_treatment"]
    assert "now" in step and "38 C" in step and "weight on the leg" in step
