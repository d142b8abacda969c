"""The titration part of ``allpath assess`` reads a record's maintenance visits as
``allpath titrate`` reads a log of the same visits (review I findings ri01, ri03, ri12).

Sources: CPIC thiopurine guideline (S32, Table 3: NUDT15 intermediate metaboliser with a normal
starting dose of 75 mg/m2/day or more starts at 30-80 %); docs/titration.md (an ANC above the
WBC is rejected); docs/record-format.md (titration visits run from the start of maintenance).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from allpath import assess, parse_record
from allpath.monitoring.titration import TitrationRun, titrate_file
from allpath.monitoring.titration_record import titration_run
from allpath.observations.normalise import normalise

DX = "2023-05-08"
RECORD: dict[str, Any] = {
    "format": "allpath.record/1",
    "id": "titr-rec-1",
    "sex": "female",
    "birth_date": "2019-03-15",
    "diagnosis_date": DX,
    "observations": [
        {"code": "wbc", "value": 8.2, "unit": "10*9/L", "time": DX},
        {"code": "anc", "value": 1.1, "unit": "10*9/L", "time": DX},
        {"code": "platelets", "value": 64, "unit": "10*9/L", "time": DX},
        {"code": "hemoglobin", "value": 8.4, "unit": "g/dL", "time": DX},
        {"code": "marrow_blasts", "value": 86, "unit": "%", "time": DX},
    ],
    "immunophenotype": {"markers": {"CD19": "positive", "CD10": "positive",
                                    "cCD79a": "positive", "cCD3": "negative",
                                    "MPO": "negative", "sIg": "negative"}},
    "genetics": {"chromosome_count": 46, "fusions": [], "alterations": []},
    "treatment": [{"phase": "induction", "start": "2023-05-09", "end": "2023-06-05"},
                  {"phase": "maintenance", "start": "2023-12-19"}],
}

# (date, wbc, anc, platelets, 6-MP mg/m2/d, MTX mg/m2/wk): the ri01 visits
RI01 = [("2023-12-19", 4.6, 2.6, 260, 75, 20), ("2024-01-16", 2.1, 0.9, 180, 75, 20),
        ("2024-02-13", 1.2, 0.3, 95, 0, 0)]


def _obs(visits: list[tuple[str, float, float, float, float | None, float | None]]
         ) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for when, wbc, anc, plt, mp, mtx in visits:
        out += [{"code": "wbc", "value": wbc, "unit": "10*9/L", "time": when},
                {"code": "anc", "value": anc, "unit": "10*9/L", "time": when},
                {"code": "platelets", "value": plt, "unit": "10*9/L", "time": when}]
        if mp is not None:
            out.append({"code": "mercaptopurine_dose", "value": mp, "unit": "mg/m2/d",
                        "time": when})
        if mtx is not None:
            out.append({"code": "methotrexate_dose", "value": mtx, "unit": "mg/m2/wk",
                        "time": when})
    return out


def _record(visits: list[tuple[str, float, float, float, float | None, float | None]],
            **changes: Any) -> dict[str, Any]:
    rec = copy.deepcopy(RECORD)
    rec["observations"] += _obs(visits)
    rec.update(changes)
    return rec


def _through_assess(rec: dict[str, Any]) -> TitrationRun:
    record = parse_record(rec)
    run = titration_run(record, normalise(record))
    assert run is not None
    return run


def _through_titrate(tmp_path: Path, visits: list[tuple[str, float, float, float,
                                                        float | None, float | None]],
                     header: str) -> TitrationRun:
    rows = "\n".join(",".join("" if x is None else str(x) for x in v) for v in visits)
    log = tmp_path / "log.csv"
    log.write_text(header + "date,wbc,anc,platelets,mp,mtx\n" + rows + "\n", encoding="utf-8")
    return titrate_file(log)


def _steps(run: TitrationRun) -> list[tuple[str, str | None, str, bool | None]]:
    return [(v.status, v.action, v.recorded, v.agrees) for v in run.visits]


# ------------------------------------------------------------------ ri01: the CPIC start


def test_cpic_nudt15_intermediate_start_dose_is_reduced_through_assess_as_through_titrate(
        tmp_path: Path) -> None:
    pg = {"tpmt": "normal", "nudt15": "intermediate"}
    rec = _through_assess(_record(RI01, pharmacogenomics=pg))
    log = _through_titrate(tmp_path, RI01, "# tpmt: normal\n# nudt15: intermediate\n"
                           "# dose_unit: mg/m2/d\n# last_change: 2023-12-19\n")
    first = rec.visits[0]
    assert first.action == "decrease"
    assert "action.decrease.above_cpic_start" in first.rules
    assert "start_check.intermediate" in first.rules
    # the protocol dose is the pack's assumed COG dose (a record cannot state it): provisional
    assert first.provisional
    assert any("100% of the protocol dose" in a for a in first.advisories)
    # 6-MP is reduced from the start being checked, MTX kept at it
    assert first.mp_recommended.startswith("reduce from 75")
    assert first.mtx_recommended == "20"
    assert _steps(rec) == _steps(log)
    assert [v.rules for v in rec.visits] == [v.rules for v in log.visits]
    assert "increase" not in [v.action for v in rec.visits]


def test_cpic_start_check_uses_the_assumed_protocol_dose_in_a_log_without_mp_start(
        tmp_path: Path) -> None:
    log = _through_titrate(tmp_path, RI01, "# tpmt: normal\n# nudt15: intermediate\n"
                           "# dose_unit: mg/m2\n")
    assert log.visits[0].action == "decrease"
    assert log.visits[0].provisional
    given = _through_titrate(tmp_path, RI01, "# tpmt: normal\n# nudt15: intermediate\n"
                             "# dose_unit: mg/m2\n# mp_start: 75\n")
    assert given.visits[0].action == "decrease"
    assert "action.decrease.above_cpic_start" in given.visits[0].rules


def test_start_reason_names_only_the_assumptions_made() -> None:
    both = _through_assess(_record(RI01, pharmacogenomics={"tpmt": "normal",
                                                           "nudt15": "intermediate"})).start
    assert both.provisional and both.provisional_reason is not None
    assert "TPMT" not in both.provisional_reason
    assert "NUDT15" not in both.provisional_reason
    assert "6-MP dose" in both.provisional_reason
    assert "methotrexate dose" in both.provisional_reason
    one = _through_assess(_record(RI01, pharmacogenomics={"tpmt": "normal"})).start
    assert one.provisional_reason is not None
    assert "NUDT15" in one.provisional_reason
    assert "TPMT" not in one.provisional_reason
    none = _through_assess(_record(RI01)).start
    assert none.provisional_reason is not None
    assert "TPMT" in none.provisional_reason and "NUDT15" in none.provisional_reason



# ------------------------------------------------------------------ ri03: ANC above WBC

RI03 = [("2023-12-19", 4.1, 2.5, 240, 75, 20), ("2024-01-30", 2.8, 1.4, 190, 75, 20),
        ("2024-02-27", 3.1, 4.2, 210, 75, 20), ("2024-03-26", 2.9, 1.6, 230, 75, 20)]


def test_anc_above_wbc_in_maintenance_is_not_assessable_through_assess_as_through_titrate(
        tmp_path: Path) -> None:
    pg = {"tpmt": "normal", "nudt15": "normal"}
    rec = _through_assess(_record(RI03, pharmacogenomics=pg))
    log = _through_titrate(tmp_path, RI03, "# tpmt: normal\n# nudt15: normal\n"
                           "# dose_unit: mg/m2\n# last_change: 2023-12-19\n")
    bad = rec.visits[2]
    assert bad.status == "not_assessable" and bad.action is None
    assert bad.anc is None and bad.wbc is None
    assert any("ANC exceeds WBC" in p and "observations[" in p for p in bad.problems)
    assert "ANC exceeds WBC" in bad.reason
    assert _steps(rec) == _steps(log)
    assert rec.summary()["rejected_lines"] == [bad.line]


def test_anc_above_wbc_in_maintenance_reaches_the_assessment_json() -> None:
    pg = {"tpmt": "normal", "nudt15": "normal"}
    doc = assess(parse_record(_record(RI03, pharmacogenomics=pg))).to_dict()
    visits = doc["titration"]["visits"]
    assert [v["status"] for v in visits].count("not_assessable") == 1
    bad = next(v for v in visits if v["status"] == "not_assessable")
    assert bad["date"] == "2024-02-27"
    assert any("ANC exceeds WBC" in p for p in bad["problems"])


# ------------------------------------------------------------------ ri12: after maintenance

def test_counts_after_the_maintenance_end_date_are_not_titration_visits() -> None:
    visits = [("2025-03-28", 3.2, 1.4, 190, None, None), ("2026-05-20", 5.2, 1.1, 210, None, None)]
    treatment = [{"phase": "induction", "start": "2023-05-09", "end": "2023-06-05"},
                 {"phase": "maintenance", "start": "2023-09-26", "end": "2025-03-31"}]
    run = _through_assess(_record(visits, treatment=treatment))
    assert [v.date for v in run.visits] == ["2025-03-28"]
    after = _record([("2026-05-20", 5.2, 1.1, 210, None, None)], treatment=treatment)
    record = parse_record(after)
    assert titration_run(record, normalise(record)) is None


def test_a_record_is_never_asked_for_a_log_header() -> None:
    # first dose recorded 8 weeks into maintenance: when it was set is not known
    visits = [("2024-02-13", 4.6, 2.6, 260, 75, 20), ("2024-02-27", 4.4, 2.5, 250, 75, 20)]
    run = _through_assess(_record(visits, pharmacogenomics={"tpmt": "normal",
                                                            "nudt15": "normal"}))
    first = run.visits[0]
    assert first.status == "undetermined"
    assert "last_change" not in first.reason and "header" not in first.reason
    assert "2023-12-19" in first.reason and "mercaptopurine_dose" in first.reason
    assert all("last_change" not in v.reason for v in run.visits)


def test_a_dose_recorded_on_the_maintenance_start_day_dates_the_first_wait() -> None:
    pg = {"tpmt": "normal", "nudt15": "normal"}
    run = _through_assess(_record(RI01[:1], pharmacogenomics=pg))
    first = run.visits[0]
    assert first.weeks_since_change == 0
    assert first.action == "wait"  # WBC 4.6 above target the day maintenance starts
    assert run.format == "record"
