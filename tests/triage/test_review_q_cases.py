"""Review Q (2026-12-07): six family situations written from cited sources before ALLPath
was run (``review_q.yaml``), on the last change of the session: a sign that is a call today
during treatment, with the treatment question unanswered, is read the safe way
(``today_ask_treatment``). A case ALLPath and its sources disagree with is a strict xfail
with the cited reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_family_situations import check
from test_review_j_cases import _doc

from allpath.triage import triage
from support import load_yaml, table_params

HERE = Path(__file__).parent
CASES: list[dict[str, Any]] = list(load_yaml((HERE / "review_q.yaml").read_text(
    encoding="utf-8"))["cases"])
XFAIL: dict[str, str] = {
    "rq-cough-unanswered-not-on-today-list": (
        "The reviewer (low confidence) reads CCS-CALL's 'cough' (a sign of infection, report "
        "right away) as a call today during treatment and expects urgent with the questions "
        "unanswered. Since triage 2.16.0 a cough, cold, flu or sore throat during treatment is "
        "a call today (rule triage.urgency.urgent.infection_sign_on_treatment), and with the "
        "questions unanswered the headline says to call the team today if yes or not sure "
        "(advice infection_ask_treatment). The urgency is not read the safe way here: the "
        "shared vignette t03-common-cold (a cold with a normal count, nothing said about "
        "treatment) is routine. test_triage_cough_and_bruises.py checks both answers."),
}


@pytest.mark.parametrize("case", table_params(CASES, XFAIL))
def test_review_q_case(case: dict[str, Any]) -> None:
    check(case, triage(_doc(case)).to_dict())


def test_review_q_table_is_whole() -> None:
    assert len(CASES) == 6
    assert set(XFAIL) <= {c["id"] for c in CASES}
