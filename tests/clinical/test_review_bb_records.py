"""Review BB (2026-12-08): eight record cases probing relapse pack 2.7.0, roadmap pack 1.6.0
and the CAR-T age check (AALL1331 ages 30 vs 31, a relapse after a transplant, morphology
under 1% with flow 1.0% vs 0.9%, a late isolated testicular relapse, a very early isolated CNS
relapse, a patient 25 at leukapheresis and 26 at infusion), written from the sources by a
reviewer who had not read the code (tests/clinical/review_bb/), run as committed. First run: 8
of 8."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import case_failures, case_params

_CASES = sorted((Path(__file__).parent / "review_bb").glob("rbb*.yaml"))
KNOWN: dict[str, str] = {}


@pytest.mark.parametrize("case", case_params(_CASES, KNOWN))
def test_review_bb_record_case(case: Path) -> None:
    assert case_failures(case) == []


def test_the_eight_review_bb_record_cases_are_present() -> None:
    assert len(_CASES) == 8


def test_tecartus_epar_limit_met_only_at_the_infusion_is_said_so() -> None:
    """rbb08: 25 at leukapheresis and 26 at infusion. Review BB: the flag said the limit was
    "crossed" for the EU products that in fact become eligible at the infusion; it now says
    which way the answer changes."""
    from support import assessed_case

    case = next(c for c in _CASES if c.stem.startswith("rbb08"))
    rows = {e["label"]: e for e in assessed_case(case).to_dict()["roadmap"]["eligibility"]}
    assert rows["tisagenlecleucel"]["age_limit_crossed"]["text"].startswith(
        "the age limit is no longer met")
    ema = rows["brexucabtagene autoleucel (EMA)"]["age_limit_crossed"]
    assert ema["text"].startswith("the age limit is met only from") and ema["met_from_then"]
