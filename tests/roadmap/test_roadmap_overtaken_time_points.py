"""An MRD time point that a later one has overtaken is no longer offered as a test to order
(review H, rh11: the day-8 blood MRD of a girl on day 44 was still in `tests_to_order`). It
stays in `missing`: the risk group that reads it still lacks it [S10, S5]."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

from allpath import assess, parse_record
from support import load_yaml

_RH11 = next((Path(__file__).parent / "review_h").glob("rh11*.yaml"))


def _doc() -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(load_yaml(_RH11.read_text(encoding="utf-8"))["record"])
    return doc


def test_day8_blood_mrd_is_not_ordered_after_the_end_of_induction_marrow_was_due() -> None:
    out = assess(parse_record(_doc())).to_dict()
    [day8] = [m for m in out["missing"] if m["fact"] == "mrd.day8_blood"]
    assert day8["order"] is False
    assert "roadmap.induction" in day8["needed_for"]
    assert not any("day 8" in t for t in out["tests_to_order"])


def test_day8_blood_mrd_is_still_ordered_before_the_next_time_point() -> None:
    """Read on day 12 of induction (before the day-29 marrow), the missed day-8 sample is
    overdue and still offered."""
    doc = _doc()
    start = next(ev["start"] for ev in doc["treatment"] if ev["phase"] == "induction")
    cut = dt.date.fromisoformat(str(start)) + dt.timedelta(days=11)
    doc["observations"] = [o for o in doc["observations"]
                           if dt.date.fromisoformat(str(o["time"])[:10]) <= cut]
    doc["treatment"] = [ev for ev in doc["treatment"] if ev["phase"] == "induction"]
    for ev in doc["treatment"]:
        ev.pop("end", None)
    out = assess(parse_record(doc), as_of=cut).to_dict()
    [day8] = [m for m in out["missing"] if m["fact"] == "mrd.day8_blood"]
    assert day8["order"] is True
    assert any("day 8" in t for t in out["tests_to_order"])
