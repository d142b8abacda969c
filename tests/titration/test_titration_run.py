"""The titration run over maintenance logs: allMT files, native CSV/YAML, bad values."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from titration_helpers import maintenance_dir

from allpath.errors import RecordError
from allpath.monitoring.titration import run_titration, titrate_file
from allpath.monitoring.titration_log import read_log

ALLMT = maintenance_dir()
needs_allmt = pytest.mark.skipif(ALLMT is None, reason="shared allMT data not present")


def _allmt_logs() -> list[Path]:
    return sorted(ALLMT.glob("allMT_*.csv")) if ALLMT is not None else []


# --------------------------------------------------------------------------- allMT logs


@needs_allmt
def test_there_are_allmt_logs() -> None:
    assert len(_allmt_logs()) == 9


@needs_allmt
@pytest.mark.parametrize("path", _allmt_logs(), ids=lambda p: p.name)
def test_every_visit_gets_a_suggestion_or_a_stated_reason(path: Path) -> None:
    run = titrate_file(path)
    with path.open(encoding="utf-8") as fh:
        n_rows = sum(1 for _ in csv.reader(fh)) - 1
    assert len(run.visits) == n_rows
    assert run.format == ("allmt_external" if "external" in path.name else "allmt_processed")
    for v in run.visits:
        if v.status == "recommended":
            assert v.action in ("hold", "restart_reduced", "decrease", "increase", "continue",
                                "wait")
            assert v.rules and v.cite and v.mp_recommended != "-"
        elif v.status == "check_counts":
            assert v.action == "check_counts" and v.alerts
            assert v.mp_recommended_value is None and v.mtx_recommended_value is None
        elif v.status == "undetermined":
            assert "no suggestion" in v.reason and v.missing
        else:
            assert v.status == "not_assessable"
            assert v.reason.startswith("not assessable: line ")
    # the logs hold doses from which recorded changes are read
    assert run.summary()["recorded"].get("first") == 1


@needs_allmt
def test_implausible_wbc_rows_are_reported_with_their_lines() -> None:
    assert ALLMT is not None
    path = ALLMT / "allMT_external_UPN_1.csv"
    expected: list[int] = []
    with path.open(encoding="utf-8") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            wbc, anc = float(row["WBC"]), float(row["ANC"])
            if not 0 <= wbc <= 2000 or anc > wbc:
                expected.append(line)
    run = titrate_file(path)
    assert run.summary()["rejected_lines"] == expected
    by_line = {v.line: v for v in run.visits}
    bad = by_line[5]  # WBC 6545132 on 18/03/2021
    assert bad.status == "not_assessable" and bad.action is None
    assert "column WBC" in bad.reason and "6545132" in bad.reason and "0-2000" in bad.reason
    assert any(str(path) in p and "line 5, column WBC" in p for p in bad.problems)
    inconsistent = by_line[12]  # ANC 4 with WBC 3
    assert "ANC exceeds WBC" in inconsistent.reason
    # Height 17.5 cm is rejected everywhere but does not block a visit
    first = by_line[2]
    assert first.status != "not_assessable"
    assert any("column Height" in p for p in first.problems)
    # the run went on after the bad rows
    assert run.visits[-1].line == 48


@needs_allmt
def test_processed_log_summary() -> None:
    assert ALLMT is not None
    run = titrate_file(ALLMT / "allMT_processed_UPN_1.csv", tpmt="normal", nudt15="normal",
                       mp_start=75.0, mtx_start=20.0)
    s = run.summary()
    assert s["visits"] == 47 and s["not_assessable"] == 0
    assert s["recorded"]["hold"] == 3
    assert not run.start.provisional and run.start.mp_range == (75.0, 75.0)
    # 2021-07-08: ANC 0.57 after the hold of 2021-07-01 is above the hold limit (0.5) but
    # below the COG-style restart count (0.75): the hold goes on, as the log's clinicians did;
    # 2021-07-15 (ANC 1.2, platelets 181) restarts
    july8 = next(v for v in run.visits if v.date == "2021-07-08")
    assert july8.action == "hold" and july8.evidence == "unconfirmed"
    assert "action.hold.recovering" in july8.rules and july8.agrees is True
    july15 = next(v for v in run.visits if v.date == "2021-07-15")
    assert july15.action == "restart_reduced" and july15.agrees is True
    # every visit after a recorded change knows its time since the change
    assert all(v.weeks_since_change is not None for v in run.visits[3:])


# --------------------------------------------------------------------------- native logs


def _write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


NATIVE = """\
# patient: demo-1
# tpmt: {tpmt}
# nudt15: normal
# dose_unit: mg/week
date,wbc,anc,platelets,hemoglobin,mp,mtx
2024-01-01,2.5,1.2,200,11,350,15
2024-01-08,2.6,1.3,210,11,400,17.5
2024-01-15,4.5,2.4,220,11,400,17.5
2024-01-22,4.6,2.5,230,11,400,17.5
2024-01-29,4.8,2.6,230,11,400,17.5
2024-02-05,4.9,2.6,230,11,400,17.5
"""


def test_steady_state_wait_in_a_normal_metaboliser(tmp_path: Path) -> None:
    run = titrate_file(_write(tmp_path, NATIVE.format(tpmt="normal")))
    actions = [v.action for v in run.visits]
    # change at 2024-01-08; WBC above target 1 week later -> wait; from 2 weeks -> increase
    assert actions[1:] == ["continue", "wait", "increase", "increase", "increase"]
    assert [v.weeks_since_change for v in run.visits[1:]] == [None, 1.0, 2.0, 3.0, 4.0]
    assert run.patient == "demo-1" and run.dose_unit == "mg/week"
    inc = run.visits[3]
    assert "~25%" in inc.mp_recommended and "about 500" in inc.mp_recommended
    assert inc.agrees is False  # the log kept the dose


def test_steady_state_wait_in_an_intermediate_metaboliser(tmp_path: Path) -> None:
    run = titrate_file(_write(tmp_path, NATIVE.format(tpmt="intermediate")))
    actions = [v.action for v in run.visits]
    # 2-4 weeks: steady state may not be reached yet; from 4 weeks -> increase
    assert actions[2:] == ["wait", "wait", "wait", "increase"]
    assert run.visits[3].steady_state == "may_be_reached"
    assert run.start.mp_percent == (30.0, 80.0) and run.start.mp_range == (22.5, 60.0)


def test_cli_phenotype_overrides_the_header(tmp_path: Path) -> None:
    run = titrate_file(_write(tmp_path, NATIVE.format(tpmt="normal")), tpmt="poor")
    assert run.start.mp_group == "poor" and run.start.steady_state_weeks == (4, 6)


def test_last_change_header_gives_the_first_wait(tmp_path: Path) -> None:
    text = ("# last_change: 2023-12-01\n# tpmt: normal\n# nudt15: normal\n"
            "date,wbc,anc,platelets,mp,mtx\n2024-01-01,4.0,2.0,200,350,15\n")
    run = titrate_file(_write(tmp_path, text))
    assert run.visits[0].action == "increase"
    assert run.visits[0].weeks_since_change == pytest.approx(31 / 7, abs=0.01)


def test_hold_then_restart(tmp_path: Path) -> None:
    text = ("# tpmt: normal\n# nudt15: normal\n"
            "date,anc,platelets,mp,mtx\n"
            "2024-01-01,1.0,200,400,20\n2024-01-15,0.4,200,0,0\n"
            "2024-01-22,0.45,60,0,0\n2024-01-29,1.1,150,300,15\n")
    run = titrate_file(_write(tmp_path, text))
    v = run.visits
    assert [x.action for x in v] == ["continue", "hold", "hold", "restart_reduced"]
    assert v[1].mp_recommended == "hold (0)" and v[1].agrees is True
    assert "below 400" in v[3].mp_recommended and v[3].agrees is True
    assert "ANC 0.4" in v[1].reason and "ANC below 0.5 x10^9/L" in v[1].reason


def test_bad_values_are_rejected_and_the_run_goes_on(tmp_path: Path) -> None:
    text = ("date,wbc,anc,platelets,mp,mtx\n"
            "2024-01-01,2.5,1.2,200,350,15\n"
            "2024-01-08,-1,1.2,200,350,15\n"
            "2024-01-15,2.5,abc,200,350,15\n"
            "2024-01-22,2.5,1.2,200,-5,15\n"
            "2024-01-29,2.5,1.2,200,350,15\n")
    path = _write(tmp_path, text)
    run = titrate_file(path)
    s = run.summary()
    assert s["rejected_lines"] == [3, 4, 5] and s["visits"] == 5
    assert "column wbc" in run.visits[1].reason and "0-2000" in run.visits[1].reason
    assert "not a number" in run.visits[2].reason
    assert "dose" in run.visits[3].reason
    assert run.visits[4].status == "recommended"


def test_native_yaml_with_units(tmp_path: Path) -> None:
    text = """\
format: allpath.maintenance-log/1
patient: demo-yaml
tpmt: IM
nudt15: normal
mp_start: {value: 60, unit: mg/m2/d}
units: {anc: /uL, platelets: /uL, wbc: /uL}
visits:
  - {date: 2024-01-01, wbc: 2500, anc: 1200, platelets: 200000, mp: 300, mtx: 15}
  - {date: 2024-01-08, wbc: 9000000, anc: 1200, platelets: 200000, mp: 300, mtx: 15}
"""
    log = read_log(_write(tmp_path, text, "log.yaml"))
    assert log.tpmt == "intermediate" and log.mp_start == 60
    assert log.visits[0].wbc == 2.5 and log.visits[0].platelets == 200
    run = run_titration(log)
    assert run.start.mp_group == "intermediate" and run.start.mp_percent is None
    assert run.visits[0].action == "continue"
    assert run.visits[1].status == "not_assessable"
    assert "visits[1].wbc" in run.visits[1].reason


def test_basis_anc_ignores_wbc(tmp_path: Path) -> None:
    path = _write(tmp_path, NATIVE.format(tpmt="normal"))
    run = titrate_file(path, basis="anc")
    assert {v.counts_basis for v in run.visits} == {"anc_cog"}


def test_non_adherence_advisory_after_increases_without_response(tmp_path: Path) -> None:
    text = ("# tpmt: normal\n# nudt15: normal\ndate,wbc,anc,platelets,mp,mtx\n"
            "2024-01-01,4.5,2.5,200,300,15\n2024-01-22,4.6,2.5,200,375,19\n"
            "2024-02-12,4.7,2.6,200,470,24\n2024-03-04,4.8,2.6,200,470,24\n")
    run = titrate_file(_write(tmp_path, text))
    assert [bool(v.advisories) for v in run.visits] == [False, False, False, True]
    assert "adherence.suspect" in run.visits[3].rules


@pytest.mark.parametrize(
    ("text", "message"),
    [("date,anc,platelets\n2024-01-01,1,100\n", "no MP dose column"),
     ("date,mp,mtx\n2024-01-01,1,1\n", "no count column"),
     ("", "no header row")],
)
def test_unreadable_logs_raise_record_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RecordError) as err:
        read_log(_write(tmp_path, text))
    assert message in str(err.value)


def test_unknown_phenotype_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="did you mean 'intermediate'"):
        read_log(_write(tmp_path, NATIVE.format(tpmt="intermedate")))
    with pytest.raises(RecordError, match="no such file"):
        read_log(tmp_path / "missing.csv")
