"""Review X (2026-12-08): ten roadmap cases a haematology/oncology pharmacist checks for
templates and patient groups earlier reviews left out (a Ph-positive child and the MRD rule
for transplant, infants with and without KMT2A rearrangement, T-ALL with nelarabine, an AYA on
CALGB 10403, hyper-CVAD at 65, Down syndrome high risk, CNS3 with testicular disease, the
intrathecal dates of interim maintenance and delayed intensification, and the .ics calendar),
written from the sources by a reviewer who had not read ALLPath (tests/roadmap/review_x/), run
as committed. A case ALLPath does not meet is a strict xfail whose reason says why."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from allpath.cli.app import app
from allpath.cli.commands import app as _registered  # noqa: F401
from support import assessed_case, case_failures, case_params

_DIR = Path(__file__).parent / "review_x"
_CASES = sorted(_DIR.glob("rvx*.yaml"))

KNOWN: dict[str, str] = {
    "rvx05-man-25-calgb-10403-pegaspargase-and-three-years-from-im1": (
        "Sources differ: CALGB 10403 gave doses 'identical to' AALL0232 (Stock, Blood 2019 [S25]), "
        "where pegaspargase is 2,500 IU/m2 (Leuk Res Rep 2018 Table 1), at every age 17-39; "
        "ALLPath gives the label's 2,000 U/m2 over 21 years [ONCASPAR-USPI] (4,000 U at 2.0 m2, "
        "not 5,000 U). A documented choice, but the template is named after a trial that did "
        "not reduce the dose; the 3-year maintenance for a man is as expected."),
}

# AALL0434 (Dunsmore et al., J Clin Oncol 2020, abstract): intermediate- and high-risk patients
# were randomised to "six 5-day courses of nelarabine" within augmented BFM.
_AALL0434_NELARABINE_COURSES = 6
_NELARABINE_DAYS_PER_COURSE = 5


@pytest.mark.parametrize("case", case_params(_CASES, KNOWN))
def test_review_x_roadmap_case(case: Path) -> None:
    assert case_failures(case) == []


def test_the_ten_review_x_cases_are_present() -> None:
    assert len(_CASES) == 10
    assert set(KNOWN) <= {c.stem for c in _CASES}


def _case(prefix: str) -> Path:
    return next(c for c in _CASES if c.stem.startswith(prefix))


def _roadmap(prefix: str) -> dict[str, Any]:
    rm: dict[str, Any] = assessed_case(_case(prefix)).to_dict()["roadmap"]
    return rm


@pytest.mark.xfail(strict=True, reason=(
    "AALL0434 gave six 5-day nelarabine courses to intermediate/high-risk T-ALL (Dunsmore, "
    "J Clin Oncol 2020); the cog-t-all template plans two (consolidation days 1-5 and 43-47), "
    "10 of 30 daily doses. Where the other four fall was not in a source the reviewer read."))
def test_aall0434_intermediate_risk_t_all_gets_six_five_day_nelarabine_courses() -> None:
    """rvx04: a boy of 12 with intermediate-risk T-ALL; every nelarabine dose in the plan,
    counted over all phases, should make six courses of five days."""
    rm = _roadmap("rvx04")
    doses = sum(int(c["doses"]) for p in rm["phases"] for c in p["components"]
                if c["drug"] == "nelarabine")
    assert doses == _AALL0434_NELARABINE_COURSES * _NELARABINE_DAYS_PER_COURSE


def _unfold(raw: bytes) -> list[str]:
    """RFC 5545 3.1: a CRLF followed by one space or tab continues the line."""
    return re.sub(r"\r\n[ \t]", "", raw.decode("utf-8")).split("\r\n")


@pytest.fixture(scope="module")
def rvx10_ics(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    doc = yaml.safe_load(_case("rvx10").read_text(encoding="utf-8"))
    folder = tmp_path_factory.mktemp("rvx10")
    record, ics = folder / "record.yaml", folder / "plan.ics"
    record.write_text(yaml.safe_dump(doc["record"], sort_keys=False), encoding="utf-8")
    res = CliRunner().invoke(app, ["roadmap", str(record), "--ics", str(ics)])
    assert res.exit_code == 0, res.output
    return ics.read_bytes()


def _events(lines: list[str]) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT" and current is not None:
            events.append(current)
            current = None
        elif current is not None and ":" in line:
            name, _, value = line.partition(":")
            current[name.split(";")[0]] = value
    return events


def test_rfc5545_calendar_has_version_prodid_crlf_and_75_octet_lines(rvx10_ics: bytes) -> None:
    """RFC 5545 3.1 (CRLF, lines folded at 75 octets), 3.6/3.7.3/3.7.4 (PRODID, VERSION:2.0)."""
    assert rvx10_ics.startswith(b"BEGIN:VCALENDAR\r\n")
    assert re.search(rb"(?<!\r)\n", rvx10_ics) is None
    assert all(len(line) <= 75 for line in rvx10_ics.split(b"\r\n"))
    lines = _unfold(rvx10_ics)
    assert "VERSION:2.0" in lines
    assert any(line.startswith("PRODID:") for line in lines)


def test_every_event_has_a_utc_dtstamp_and_sequence_in_minutes_since_2024(
        rvx10_ics: bytes) -> None:
    """RFC 5545 3.8.7.2 (DTSTAMP in UTC), 3.8.7.4 (SEQUENCE); docs/roadmap.md: SEQUENCE is the
    minutes from 2024-01-01 to the export time, so a later export supersedes an earlier one."""
    events = _events(_unfold(rvx10_ics))
    assert events
    epoch = datetime(2024, 1, 1, tzinfo=UTC)
    for ev in events:
        assert "UID" in ev
        assert re.fullmatch(r"\d{8}T\d{6}Z", ev["DTSTAMP"]), ev["DTSTAMP"]
        stamp = datetime.strptime(ev["DTSTAMP"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        assert int(ev["SEQUENCE"]) == int((stamp - epoch).total_seconds() // 60)


def test_no_record_id_in_uids_or_calendar_name(rvx10_ics: bytes) -> None:
    """A record id is a patient identifier: it must not reach a synced phone calendar. The
    calendar name is 'ALLPath roadmap: <template title>' (docs/roadmap.md)."""
    lines = _unfold(rvx10_ics)
    record_id = yaml.safe_load(_case("rvx10").read_text(encoding="utf-8"))["record"]["id"]
    uids = [line for line in lines if line.startswith("UID:")]
    names = [line for line in lines if line.startswith("X-WR-CALNAME")]
    assert uids and names
    for line in uids + names:
        assert record_id not in line and "4471902" not in line
    title = _roadmap("rvx10")["template"]["title"]
    assert names == [f"X-WR-CALNAME:ALLPath roadmap: {title}"]


def test_record_id_appears_nowhere_in_the_calendar(rvx10_ics: bytes) -> None:
    """Not in a description or summary either (the hospital-number part of the id)."""
    assert b"4471902" not in rvx10_ics


def test_lumbar_puncture_events_name_the_intrathecal_dose(rvx10_ics: bytes) -> None:
    """A boy of 7: every LP event names its intrathecal dose, and those of induction and
    consolidation (age 7) give IT methotrexate 12 mg (>= 3 years, Bleyer 1983). Later ones
    fall after his 9th birthday, where ALLPath's unconfirmed >= 9 years band gives 15 mg, a
    band no source read here confirms or refutes, so they are not held to 12 mg."""
    events = _events(_unfold(rvx10_ics))
    lps = [ev for ev in events if "lumbar puncture" in ev.get("SUMMARY", "").lower()]
    assert lps
    assert all(re.search(r"IT (methotrexate|cytarabine) \d+ mg", ev.get("DESCRIPTION", ""))
               for ev in lps)
    early = [ev for ev in lps if "methotrexate" in ev.get("DESCRIPTION", "")
             and re.search(r"Phase (induction|consolidation)\\,", ev.get("DESCRIPTION", ""))]
    assert len(early) == 5
    assert all("IT methotrexate 12 mg" in ev["DESCRIPTION"] for ev in early)
