"""The CPIC start check stays on at every visit until the 6-MP dose has been brought to the
CPIC start for the phenotype (review M, rm06), through ``allpath assess`` and ``allpath
titrate`` alike.

Sources: CPIC thiopurine guideline (S32; fact sheet 6.10: a TPMT or NUDT15 poor metaboliser
with a malignancy starts at a 10-fold lower daily dose given 3 times a week; 6.8: an
intermediate metaboliser starts at 30-80 % and the dose is then adjusted to myelosuppression).
The limits are the pack's own (start_check.poor > 10 %, start_check.intermediate > 80 %).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from allpath import parse_record
from allpath.cli import commands  # noqa: F401  (registers the sub-commands)
from allpath.cli.app import app
from allpath.monitoring.titration import TitrationRun, titrate_file
from allpath.monitoring.titration_record import titration_run
from allpath.observations.normalise import normalise

DX = "2024-01-08"
RECORD: dict[str, Any] = {
    "format": "allpath.record/1",
    "id": "cpic-every-visit",
    "sex": "male",
    "birth_date": "2017-09-04",
    "diagnosis_date": DX,
    "observations": [
        {"code": "wbc", "value": 12.0, "unit": "10*9/L", "time": DX},
        {"code": "anc", "value": 2.4, "unit": "10*9/L", "time": DX},
        {"code": "platelets", "value": 66, "unit": "10*9/L", "time": DX},
        {"code": "marrow_blasts", "value": 85, "unit": "%", "time": DX},
    ],
    "immunophenotype": {"markers": {"CD19": "positive", "CD10": "positive",
                                    "cCD79a": "positive", "cCD3": "negative",
                                    "MPO": "negative", "sIg": "negative"}},
    "genetics": {"chromosome_count": 46, "fusions": [], "alterations": []},
    "treatment": [{"phase": "induction", "start": "2024-01-09", "end": "2024-02-05"},
                  {"phase": "maintenance", "start": "2024-06-25"}],
}

Visit = tuple[str, float, float, float, float, float]
# rm06: 15 mg/m2/day (20 % of 75) daily, counts on target, kept 4 and 8 weeks later
KEPT: list[Visit] = [("2024-06-25", 4.0, 2.0, 240, 15, 20), ("2024-07-23", 3.0, 1.3, 180, 15, 20),
                     ("2024-08-20", 3.1, 1.4, 190, 15, 20)]
# the same start, brought to the CPIC start (7.5 = 10 %) at the second visit
BROUGHT_DOWN: list[Visit] = [("2024-06-25", 4.0, 2.0, 240, 15, 20),
                             ("2024-07-23", 3.0, 1.3, 180, 7.5, 20),
                             ("2024-09-03", 3.2, 1.5, 200, 7.5, 20)]


def _record(visits: list[Visit], pg: dict[str, str]) -> dict[str, Any]:
    rec = copy.deepcopy(RECORD)
    for when, wbc, anc, plt, mp, mtx in visits:
        rec["observations"] += [
            {"code": "wbc", "value": wbc, "unit": "10*9/L", "time": when},
            {"code": "anc", "value": anc, "unit": "10*9/L", "time": when},
            {"code": "platelets", "value": plt, "unit": "10*9/L", "time": when},
            {"code": "mercaptopurine_dose", "value": mp, "unit": "mg/m2/d", "time": when},
            {"code": "methotrexate_dose", "value": mtx, "unit": "mg/m2/wk", "time": when}]
    rec["pharmacogenomics"] = pg
    return rec


def _assess(visits: list[Visit], pg: dict[str, str]) -> TitrationRun:
    record = parse_record(_record(visits, pg))
    run = titration_run(record, normalise(record))
    assert run is not None
    return run


def _log(tmp_path: Path, visits: list[Visit], pg: dict[str, str]) -> Path:
    head = "".join(f"# {k}: {v}\n" for k, v in pg.items())
    rows = "\n".join(",".join(str(x) for x in v) for v in visits)
    path = tmp_path / "log.csv"
    path.write_text(head + "# dose_unit: mg/m2/d\n# last_change: 2024-06-25\n"
                    "date,wbc,anc,platelets,mp,mtx\n" + rows + "\n", encoding="utf-8")
    return path


POOR = {"tpmt": "poor", "nudt15": "poor"}


def test_a_poor_metaboliser_kept_on_a_dose_above_the_cpic_start_is_flagged_at_every_visit(
        tmp_path: Path) -> None:
    for run in (_assess(KEPT, POOR), titrate_file(_log(tmp_path, KEPT, POOR))):
        assert [v.action for v in run.visits] == ["decrease"] * 3
        for v in run.visits:
            assert "action.decrease.above_cpic_start" in v.rules
            assert "start_check.poor" in v.rules
            assert "S32" in v.cite
            assert any("20% of the protocol dose" in a for a in v.advisories)
            assert v.mp_recommended == "reduce from 15 (amount per protocol)"
            assert v.mtx_recommended == "20"
        # keeping the dose above the CPIC start does not agree with the suggestion
        assert [v.agrees for v in run.visits] == [None, False, False]


def test_the_flag_stops_once_the_dose_is_at_the_cpic_start(tmp_path: Path) -> None:
    for run in (_assess(BROUGHT_DOWN, POOR),
                titrate_file(_log(tmp_path, BROUGHT_DOWN, POOR))):
        first, second, third = run.visits
        assert first.action == second.action == "decrease"
        assert second.recorded == "decrease" and second.agrees is True
        assert not any(r.startswith("action.decrease.above_cpic_start") for r in third.rules)
        assert not any("protocol dose in a poor" in a for a in third.advisories)
        assert third.action != "increase"


def test_a_titration_increase_after_the_cpic_start_is_not_flagged_again(
        tmp_path: Path) -> None:
    # CPIC (fact sheet 6.8): start an intermediate metaboliser at 30-80 %, then adjust to the
    # counts; a later dose above 80 % reached by titration is no longer the start
    pg = {"tpmt": "intermediate", "nudt15": "normal"}
    visits: list[Visit] = [("2024-06-25", 4.0, 2.0, 240, 50, 20),
                           ("2024-08-06", 4.5, 2.2, 250, 62.5, 25),
                           ("2024-09-17", 4.2, 2.1, 240, 62.5, 25)]
    raised = [*visits[:2], ("2024-09-17", 4.2, 2.1, 240, 70, 25),
              ("2024-10-29", 3.0, 1.4, 220, 70, 25)]
    for run in (_assess(raised, pg), titrate_file(_log(tmp_path, raised, pg))):
        assert all("action.decrease.above_cpic_start" not in v.rules for v in run.visits)


def test_allpath_titrate_json_keeps_the_flag_on_the_later_visits(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["titrate", str(_log(tmp_path, KEPT, POOR)),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    visits = json.loads(result.output)["visits"]
    assert [v["action"] for v in visits] == ["decrease"] * 3
    assert [v["agrees"] for v in visits] == [None, False, False]
