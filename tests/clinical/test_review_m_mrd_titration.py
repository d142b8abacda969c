"""Review M (2026-12-07): ten cases on the day's MRD changes (assay sensitivity, same-day
methods, specimens, BCR::ABL1 PCR) and maintenance titration through `assess` (CPIC start,
ANC above WBC, visits after maintenance ended), written from the sources by a reviewer who
had not read ALLPath (tests/clinical/review_m/), run as committed."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import case_failures, case_params

_DIR = Path(__file__).parent / "review_m"
_CASES = sorted(_DIR.glob("rm*.yaml"))

DISPUTED: dict[str, str] = {}


@pytest.mark.parametrize("case", case_params(_CASES, DISPUTED))
def test_review_m_case(case: Path) -> None:
    assert case_failures(case) == []


def test_the_ten_review_m_cases_are_present() -> None:
    assert len(_CASES) == 10
