"""BSA formulas, dose caps (property), calendar without overlaps (property), .ics, where-now."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from typer.testing import CliRunner

from allpath.cli import commands as _commands  # noqa: F401  (registers sub-commands)
from allpath.cli.app import app
from allpath.examples import example_paths
from allpath.pipeline import assess, assess_file
from allpath.record.load import parse_record
from allpath.roadmap import bsa, build_roadmap, load_templates
from allpath.roadmap.calendar import plan_phases
from allpath.roadmap.doses import VERIFY, compute_dose
from support import load_yaml

TEMPLATES = load_templates()
EX1 = next(p for p in example_paths() if p.stem == "example-001")


# ------------------------------------------------------------------ BSA (fact sheet 10.1)
@pytest.mark.parametrize(
    ("formula", "h", "w", "expected"),
    [
        ("mosteller", 180.0, 80.0, math.sqrt(180 * 80 / 3600)),  # = 2.0 m2
        ("dubois", 180.0, 80.0, 0.007184 * 80**0.425 * 180**0.725),
        ("haycock", 104.0, 16.5, 0.024265 * 16.5**0.5378 * 104**0.3964),
        ("gehan-george", 104.0, 16.5, 0.0235 * 16.5**0.51456 * 104**0.42246),
    ],
)
def test_bsa_formulas_match_the_fact_sheet(formula: str, h: float, w: float,
                                           expected: float) -> None:
    assert bsa(h, w, formula) == pytest.approx(expected, rel=1e-12)


def test_bsa_known_values() -> None:
    assert bsa(180, 80) == pytest.approx(2.0, abs=1e-12)
    assert bsa(180, 80, "dubois") == pytest.approx(1.996, abs=0.002)
    with pytest.raises(ValueError):
        bsa(180, 80, "nonsense")


def test_roadmap_names_the_bsa_formula() -> None:
    d = build_roadmap(assess_file(EX1), bsa_formula="haycock").to_dict()
    assert d["body_size"]["formula"] == "haycock"
    assert d["body_size"]["bsa_m2"] == pytest.approx(bsa(104, 16.5, "haycock"), abs=1e-3)
    vcr = d["phases"][0]["components"][0]
    assert vcr["drug"] == "vincristine" and vcr["dose"]["status"] == "computed"
    assert VERIFY in vcr["dose"]["text"]


# ------------------------------------------------------------------ doses
_COMPONENTS = [c for t in TEMPLATES.values() for p in t.phases for c in p.components]


@settings(max_examples=200, deadline=None)
@given(
    idx=st.integers(min_value=0, max_value=len(_COMPONENTS) - 1),
    height=st.floats(min_value=30, max_value=250),
    weight=st.floats(min_value=0.5, max_value=400),
    formula=st.sampled_from(["mosteller", "dubois", "haycock", "gehan-george"]),
)
def test_doses_never_exceed_their_caps(idx: int, height: float, weight: float,
                                       formula: str) -> None:
    c = _COMPONENTS[idx]
    line = compute_dose(c, bsa(height, weight, formula), weight)
    assert VERIFY in line.text
    if c.dose is None:
        assert line.status == "per_protocol" and "dose per protocol in use" in line.text
    else:
        assert line.status == "computed" and line.amount is not None and line.amount >= 0
        if c.cap is not None:
            assert line.amount <= c.cap.amount


def test_vincristine_is_capped_at_2_mg_for_a_large_patient() -> None:
    c = TEMPLATES["cog-b-sr"].phase("induction").components[0]
    line = compute_dose(c, 2.0, 80.0)  # 1.5 mg/m2 x 2.0 m2 = 3 mg
    assert line.amount == 2.0 and line.capped and "capped at 2 mg" in line.text


def _record_without_body_size() -> dict[str, object]:

    doc = load_yaml(EX1.read_text(encoding="utf-8"))
    doc["observations"] = [o for o in doc["observations"] if o["code"] not in ("height",
                                                                             "weight")]
    return doc


def test_missing_height_and_weight_leave_doses_missing_with_what_is_needed() -> None:
    rm = build_roadmap(assess(parse_record(_record_without_body_size())))
    d = rm.to_dict()
    assert d["body_size"]["bsa_m2"] is None
    assert d["body_size"]["missing"] == ["height (cm)", "weight (kg)"]
    vcr = d["phases"][0]["components"][0]["dose"]
    assert vcr["status"] == "missing" and vcr["amount"] is None
    assert "height (cm)" in vcr["needs"] and "missing" in vcr["text"]


# ------------------------------------------------------------------ calendar
@settings(max_examples=100, deadline=None)
@given(
    tid=st.sampled_from(sorted(TEMPLATES)),
    start=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 12, 31)),
)
def test_calendar_phases_never_overlap(tid: str, start: dt.date) -> None:
    phases = plan_phases(TEMPLATES[tid], start)
    assert phases[0].start == start
    for a, b in itertools.pairwise(phases):
        assert a.start <= a.end
        assert b.start == a.end + dt.timedelta(days=1)
    assert phases[-1].start <= phases[-1].end


def test_maintenance_ends_two_years_from_interim_maintenance_start() -> None:
    phases = {p.phase.id: p for p in plan_phases(TEMPLATES["cog-b-sr"], dt.date(2024, 5, 4))}
    im = phases["interim_maintenance"].start
    assert phases["maintenance"].end == im.replace(year=im.year + 2) - dt.timedelta(days=1)


def test_default_start_is_first_treatment_event_else_diagnosis_plus_one() -> None:
    d1 = build_roadmap(assess_file(EX1)).to_dict()
    assert d1["start"] == {"date": "2024-05-04", "source": "first treatment event"}
    ex2 = next(p for p in example_paths() if p.stem == "example-002")
    d2 = build_roadmap(assess_file(ex2)).to_dict()
    assert d2["start"]["date"] == "2024-08-15"


# ------------------------------------------------------------------ ics
def test_ics_parses_back_with_all_day_events_and_stable_uids() -> None:
    rm = build_roadmap(assess_file(EX1))
    stamp = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)  # DTSTAMP is the export time
    raw = rm.ics(stamp)
    cal = Calendar.from_ical(raw)
    events = list(cal.walk("VEVENT"))
    phases = rm.to_dict()["phases"]
    summaries = [str(e["SUMMARY"]) for e in events]
    for p in phases:
        assert p["title"] in summaries
    first = next(e for e in events if str(e["SUMMARY"]) == phases[0]["title"])
    assert isinstance(first.decoded("DTSTART"), dt.date)
    assert not isinstance(first.decoded("DTSTART"), dt.datetime)  # all-day
    assert first.decoded("DTSTART").isoformat() == phases[0]["start"]
    assert first.decoded("DTEND") == dt.date.fromisoformat(phases[0]["end"]) + dt.timedelta(1)
    uids = [str(e["UID"]) for e in events]
    assert len(uids) == len(set(uids))
    assert any("Lumbar puncture" in s for s in summaries)
    assert any(s.startswith("Decision:") for s in summaries)
    assert rm.ics(stamp) == raw  # the same input and export time give the same file
    later = build_roadmap(assess_file(EX1), start=dt.date(2024, 6, 1)).ics()
    assert {str(e["UID"]) for e in Calendar.from_ical(later).walk("VEVENT")} == set(uids)


# ------------------------------------------------------------------ where now
def test_where_now_reports_phase_day_next_and_overdue() -> None:
    rm = build_roadmap(assess_file(EX1))
    w = rm.where_now(dt.date(2024, 5, 20))
    assert w["phase"]["id"] == "induction" and w["phase_day"] == 17  # protocol day
    assert w["due_next"] and w["due_next"][0]["date"] >= "2024-05-20"
    assert w["overdue"] == []  # induction is recorded; day-8 MRD is in the record
    later = rm.where_now(dt.date(2024, 7, 1))
    assert later["phase"]["id"] == "interim_maintenance"
    assert any(o["kind"] == "phase" and "Consolidation" in o["title"]
               for o in later["overdue"])


# ------------------------------------------------------------------ CLI
def test_cli_roadmap_json_text_and_ics(tmp_path: Path) -> None:
    runner = CliRunner()
    ics = tmp_path / "r.ics"
    res = runner.invoke(app, ["roadmap", str(EX1), "--format", "json", "--ics", str(ics),
                              "--bsa-formula", "dubois", "--on", "2024-05-20"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["template"]["id"] == "cog-b-sr"
    assert doc["body_size"]["formula"] == "dubois"
    assert doc["where_now"]["phase"]["id"] == "induction"
    assert Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    text = runner.invoke(app, ["roadmap", str(EX1), "--start", "2024-05-10"])
    assert text.exit_code == 0 and "verify against the protocol in use" in text.output
    bad = runner.invoke(app, ["roadmap", str(EX1), "--bsa-formula", "nope"])
    assert bad.exit_code == 2
