"""The dated plan follows the phase starts the record gives (review H, rh10: consolidation
begun 14 days late was still counted from its planned day, so the day-29 block and the next
phase were shown two weeks early). Day 1 is the first day of the phase as given [S33]."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

from allpath import assess, parse_record
from allpath.roadmap import build_roadmap
from support import load_yaml

_RH10 = next((Path(__file__).parent / "review_h").glob("rh10*.yaml"))


def _record(treatment: list[dict[str, str]] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(load_yaml(_RH10.read_text(encoding="utf-8"))["record"])
    if treatment is not None:
        doc["treatment"] = treatment
    return doc


def _phases(doc: dict[str, Any]) -> dict[str, tuple[str, str]]:
    rm = assess(parse_record(doc)).to_dict()["roadmap"]
    return {p["id"]: (p["start"], p["end"]) for p in rm["phases"]}


def test_a_phase_begun_late_is_counted_from_its_recorded_start_and_moves_the_rest() -> None:
    out = assess(parse_record(_record())).to_dict()
    phases = {p["id"]: (p["start"], p["end"]) for p in out["roadmap"]["phases"]}
    assert phases["induction"] == ("2025-09-02", "2025-09-30")
    assert phases["consolidation"][0] == "2025-10-15"
    assert phases["interim_maintenance"][0] == "2025-12-10"  # 56 days after 2025-10-15
    where = out["where_now"]
    assert (where["phase"]["id"], where["phase_day"]) == ("consolidation", 15)
    assert where["shifted"] == [{"phase": "consolidation", "planned": "2025-10-01",
                                 "recorded": "2025-10-15", "days": 14, "replanned": True}]
    assert where["overdue"] == []


def test_without_recorded_starts_the_plan_follows_the_template() -> None:
    phases = _phases(_record([{"phase": "induction", "start": "2025-09-02"}]))
    assert phases["consolidation"][0] == "2025-10-01"


def test_a_phase_begun_early_cuts_the_one_before_short() -> None:
    phases = _phases(_record([{"phase": "induction", "start": "2025-09-02"},
                              {"phase": "consolidation", "start": "2025-09-28"}]))
    assert phases["induction"] == ("2025-09-02", "2025-09-27")
    assert phases["consolidation"][0] == "2025-09-28"


def test_a_start_date_given_lays_out_the_template_as_asked() -> None:
    a = assess(parse_record(_record()))
    rm = build_roadmap(a, dt.date(2025, 9, 2)).to_dict()
    phases = {p["id"]: p["start"] for p in rm["phases"]}
    assert phases["consolidation"] == "2025-10-01"


def test_events_are_matched_to_phases_in_order() -> None:
    """Two interim maintenance events: the first stands for interim maintenance 1, the
    second for interim maintenance 2, never the other way round."""
    phases = _phases(_record([
        {"phase": "induction", "start": "2025-09-02"},
        {"phase": "consolidation", "start": "2025-10-01"},
        {"phase": "interim_maintenance", "start": "2025-12-01"},
        {"phase": "delayed_intensification", "start": "2026-02-01"},
        {"phase": "interim_maintenance", "start": "2026-04-06"}]))
    assert phases["interim_maintenance"][0] == "2025-12-01"
    assert phases["delayed_intensification"][0] == "2026-02-01"
    assert phases["interim_maintenance_2"][0] == "2026-04-06"


def test_an_induction_prolonged_until_its_recorded_end_moves_the_next_phase() -> None:
    """An induction event that ends later than the template's 29 days (the marrow taken when
    the counts recovered) ends the phase then; the next phase begins the day after."""
    phases = _phases(_record([{"phase": "induction", "start": "2025-09-02",
                               "end": "2025-10-10"}]))
    assert phases["induction"] == ("2025-09-02", "2025-10-10")
    assert phases["consolidation"][0] == "2025-10-11"
