"""Review D of the roadmaps (2026-12-07): ten calendar cases (phase order and lengths,
lumbar punctures and intrathecal doses by age on each date, maintenance pulses, checkpoint
dates, start dates, BSA at each phase) written from the sources by a reviewer who had not
read ALLPath (tests/roadmap/independent_cases_d/), run as committed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from allpath import assess, parse_record
from expectations import check

_DIR = Path(__file__).parent / "independent_cases_d"
_CASES = sorted(_DIR.glob("rs*.yaml"))


@pytest.mark.parametrize("case", _CASES, ids=[c.stem for c in _CASES])
def test_review_d_roadmap_case(case: Path) -> None:
    doc = yaml.safe_load(case.read_text(encoding="utf-8"))
    result = assess(parse_record(doc["record"], source=str(case))).to_dict()
    assert check(result, doc.get("expected") or {}) == []


def test_the_ten_review_d_cases_are_present() -> None:
    assert len(_CASES) == 10


def test_angiolillo_2021_aall0932_twelve_week_pulses_are_named_in_maintenance() -> None:
    """rs08: the standard-risk maintenance keeps the cited every-4-week pulses and names
    AALL0932's every-12-week pulses (5-year DFS 95.1% vs 94.1%) for the protocol in use."""
    path = next(p for p in _CASES if p.stem.startswith("rs08"))
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    rm = assess(parse_record(doc["record"])).to_dict()["roadmap"]
    maint = next(p for p in rm["phases"] if p["id"] == "maintenance")
    assert "AALL0932-PULSES" in maint["cite"]
    assert "every 12 weeks" in maint["note"]
