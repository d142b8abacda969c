"""Review FF (2026-12-08): twelve cases probing the day's changes to risk groups, relapse
plans, roadmaps and alerts at their edges (a high-hyperdiploid karyotype with six trisomies,
four vs five abnormalities, IGH::CRLF2 and IGH::MYC, an adult T-ALL with NOTCH1 and RAS both
mutated, a T-ALL child with an M2 day-15 marrow, an MRD recurrence after a transplant, a late
testicular relapse with block-1 MRD 0.2%, CD19 and CD22 both lost, an MRD-positive second
remission, a BMI of exactly 30), written from the sources by a reviewer who had not read the
code (tests/clinical/review_ff/), run as committed. First run: 11 of 12 (after the reviewer's
own slip); the BMI of exactly 30 read as 29.999999999999993 was fixed after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import assessed_case, case_failures, case_params

_CASES = sorted((Path(__file__).parent / "review_ff").glob("rff*.yaml"))
KNOWN: dict[str, str] = {}


@pytest.mark.parametrize("case", case_params(_CASES, KNOWN))
def test_review_ff_case(case: Path) -> None:
    assert case_failures(case) == []


def test_the_twelve_review_ff_cases_are_present() -> None:
    assert len(_CASES) == 12


def test_stock_2019_bmi_of_exactly_30_is_obese() -> None:
    """rff12: 76.8 kg at 160 cm is a BMI of 30.0; it was computed as 29.999999999999993 and
    the CALGB 10403 obesity note ('30 kg/m2 or more') did not apply."""
    case = next(c for c in _CASES if c.stem.startswith("rff12"))
    rm = assessed_case(case).to_dict()["roadmap"]
    assert rm["body_size"]["bmi_kg_m2"] == 30.0
    assert "Obesity (adverse in CALGB 10403)" in [m["label"]
                                                  for m in rm["modifications"]["applies"]]
