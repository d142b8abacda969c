"""Review D of the roadmaps (2026-12-07): ten calendar cases (phase order and lengths,
lumbar punctures and intrathecal doses by age on each date, maintenance pulses, checkpoint
dates, start dates, BSA at each phase) written from the sources by a reviewer who had not
read ALLPath (tests/roadmap/independent_cases_d/), run as committed."""

from __future__ import annotations

from pathlib import Path

import pytest

from allpath import assess, parse_record
from allpath.outputs.assessment import Assessment
from support import CLINICAL_CASES, assessed_case, case_failures, load_yaml

_DIR = Path(__file__).parent / "independent_cases_d"
_CASES = sorted(_DIR.glob("rs*.yaml"))


@pytest.mark.parametrize("case", _CASES, ids=[c.stem for c in _CASES])
def test_review_d_roadmap_case(case: Path) -> None:
    assert case_failures(case) == []


def test_the_ten_review_d_cases_are_present() -> None:
    assert len(_CASES) == 10


def test_angiolillo_2021_aall0932_twelve_week_pulses_are_named_in_maintenance() -> None:
    """rs08: the standard-risk maintenance keeps the cited every-4-week pulses and names
    AALL0932's every-12-week pulses (5-year DFS 95.1% vs 94.1%) for the protocol in use."""
    path = next(p for p in _CASES if p.stem.startswith("rs08"))
    doc = load_yaml(path.read_text(encoding="utf-8"))
    rm = assess(parse_record(doc["record"])).to_dict()["roadmap"]
    maint = next(p for p in rm["phases"] if p["id"] == "maintenance")
    assert "AALL0932-PULSES" in maint["cite"]
    assert "every 12 weeks" in maint["note"]


def _clinical(prefix: str) -> Assessment:
    a: Assessment = assessed_case(next(CLINICAL_CASES.glob(f"{prefix}*.yaml")))
    return a


def test_a_recorded_end_of_induction_marrow_is_not_due_next() -> None:
    """Review D (rp11): the end-of-induction marrow recorded a day before its planned date is
    done - it is neither due next nor overdue."""
    a = _clinical("rp11")
    assert a.roadmap is not None
    now = a.roadmap.where_now(a.as_of)
    titles = [i["title"] for i in now["due_next"]] + [i["title"] for i in now["overdue"]]
    assert not [t for t in titles if "End-of-induction (day 29) marrow" in t]


def test_after_the_end_of_therapy_nothing_is_overdue() -> None:
    """Review D (rp13): two years after therapy ended, a missing day-8 MRD is history, not an
    overdue item."""
    a = _clinical("rp13")
    assert a.roadmap is not None
    now = a.roadmap.where_now(a.as_of)
    assert now["status"] == "all planned phases completed"
    assert now["overdue"] == []
