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
XFAIL = {
    "rq-cough-unanswered-not-on-today-list": (
        "The reviewer (low confidence) reads CCS-CALL's 'cough' (a sign of infection, report "
        "right away) as a call today during treatment; the pack has no cough rule on "
        "treatment (docs/triage.md: any other new sign during treatment is a call within a day "
        "or two, which the reviewer notes the docs would give). With the question unanswered "
        "the headline now names that time ('within a day or two, and now for a fever'); the "
        "urgency stays routine, as the pack has no cough rule to read the safe way."),
}


@pytest.mark.parametrize("case", table_params(CASES, XFAIL))
def test_review_q_case(case: dict[str, Any]) -> None:
    check(case, triage(_doc(case)).to_dict())


def test_review_q_table_is_whole() -> None:
    assert len(CASES) == 6
    assert set(XFAIL) <= {c["id"] for c in CASES}
