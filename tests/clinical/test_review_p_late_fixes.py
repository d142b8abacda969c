"""Review P (2026-12-07): eight cases on the session's late clinical changes (relapse HCT
indications, CNS relapse, nelarabine MRD-negative remission, CPIC start check at every visit,
adult MRD after consolidation, diagnosis facts not ordered after their window), written from
the sources by a reviewer who had not read ALLPath (tests/clinical/review_p/), run as
committed."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import assessed_case, case_failures, case_params

_DIR = Path(__file__).parent / "review_p"
_CASES = sorted(_DIR.glob("rpx*.yaml"))


@pytest.mark.parametrize("case", case_params(_CASES, {}))
def test_review_p_case(case: Path) -> None:
    assert case_failures(case) == []


def test_the_eight_review_p_cases_are_present() -> None:
    assert len(_CASES) == 8


def test_a_response_marrow_the_day_after_a_course_ended_is_that_courses_response() -> None:
    """rpx04: the marrow of the day after nelarabine course 1 ended (course 2 not begun) is
    course 1's response, not course 2's (whose own marrow falls at its end); MRD-negative,
    it goes straight to HCT (NCCN Pediatric, fact sheet 5.5.6 [S1])."""
    out = assessed_case(next(c for c in _CASES if c.stem.startswith("rpx04"))).to_dict()
    phases = out["roadmap"]["phases"]
    [first] = [p for p in phases if p["id"] == "nelarabine-1"]
    read = first["decisions"][0]["response_read"]
    assert read["state"] == "remission" and read["date"] > first["end"]
    assert [p["template"] for p in phases][1] == "hsct"


def test_testicular_disease_at_diagnosis_is_not_ordered_as_an_exam_after_induction() -> None:
    """rpx06: the record lacks the diagnosis testicular finding; seven months into
    maintenance an examination cannot tell what it was at diagnosis, so it stays missing with
    order false and a note (the guide no longer tells the family an ultrasound and biopsy are
    coming)."""
    out = assessed_case(next(c for c in _CASES if c.stem.startswith("rpx06"))).to_dict()
    [exam] = [m for m in out["missing"] if m["fact"] == "extramedullary.testicular"]
    assert exam["order"] is False and "diagnostic" in exam["note"]
    assert not any("testicular" in t for t in out["tests_to_order"])
