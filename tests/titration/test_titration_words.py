"""Titration text says what is not known in words: no "?" in a suggestion, a reason or a
message, and no Python repr in a problem (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

from allpath.errors import RecordError
from allpath.monitoring.titration import titrate_file
from allpath.monitoring.titration_log import read_log


def _write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _texts(run: object) -> list[str]:
    out: list[str] = []
    for v in run.visits:  # type: ignore[attr-defined]
        out += [v.mp_recommended, v.mtx_recommended, v.reason, *v.alerts, *v.advisories]
    return out


def test_a_change_from_a_dose_the_log_does_not_give_is_said_in_words(tmp_path: Path) -> None:
    text = ("# last_change: 2023-12-01\n# tpmt: normal\n# nudt15: normal\n"
            "date,wbc,anc,platelets,mp,mtx\n2024-01-01,4.0,2.0,200,,\n")
    run = titrate_file(_write(tmp_path, text))
    (v,) = run.visits
    assert v.action == "increase"
    assert v.mp_recommended.startswith("increase ~25% from the current dose (not known)")
    assert not any("?" in t for t in _texts(run)), _texts(run)


def test_a_reduction_with_allopurinol_and_no_dose_names_the_doses_not_known(
        tmp_path: Path) -> None:
    text = ("# tpmt: normal\n# nudt15: normal\n# allopurinol: yes\n"
            "date,wbc,anc,platelets,mp,mtx\n2024-01-01,3,1.5,200,,\n")
    run = titrate_file(_write(tmp_path, text))
    (v,) = run.visits
    assert v.mp_recommended == "reduce from the current dose (not known) (amount per protocol)"
    (advice,) = v.advisories
    assert advice.endswith("(about a 75% cut): the 6-MP doses are not known.")
    assert "not known-" not in advice and "?" not in advice


def test_the_allopurinol_advice_keeps_the_doses_when_they_are_known(tmp_path: Path) -> None:
    text = ("# tpmt: normal\n# nudt15: normal\n# allopurinol: yes\n"
            "date,wbc,anc,platelets,mp,mtx\n2024-01-01,3,1.5,200,300,15\n")
    (v,) = titrate_file(_write(tmp_path, text)).visits
    (advice,) = v.advisories
    assert advice.endswith(": 75-100 instead of the current 300.")


def test_a_count_alert_without_an_anc_says_it_is_not_known_without_a_unit(
        tmp_path: Path) -> None:
    text = ("# tpmt: normal\n# nudt15: normal\n"
            "date,wbc,platelets,mp,mtx\n2024-01-01,60,200,50,20\n")
    (v,) = titrate_file(_write(tmp_path, text)).visits
    (alert,) = v.alerts
    assert "WBC 60 x10^9/L is above 20 x10^9/L" in alert
    assert alert.endswith(" ANC not known.")


def test_a_bad_cell_is_quoted_as_it_came_not_as_a_repr(tmp_path: Path) -> None:
    text = "date,wbc,anc,platelets,mp,mtx\n2024-01-01,2.5,abc,200,350,15\n"
    (v,) = titrate_file(_write(tmp_path, text)).visits
    assert v.status == "not_assessable"
    assert v.reason == "not assessable: line 2, column anc: not a number"
    assert v.problems[0].endswith("line 2, column anc: not a number, got 'abc'")
    text = ("format: allpath.maintenance-log/1\nvisits:\n"
            "  - {date: 2024-01-01, wbc: 3, anc: {x: 1}, platelets: 200, mp: 50, mtx: 20}\n")
    (v,) = titrate_file(_write(tmp_path, text, "log.yaml")).visits
    assert v.problems[0].endswith("visits[0].anc: not a number, got a mapping")


def test_a_yaml_log_that_is_a_list_says_so(tmp_path: Path) -> None:
    with pytest.raises(RecordError) as err:
        read_log(_write(tmp_path, "- 1\n- 2\n", "log.yaml"))
    (problem,) = err.value.problems
    assert problem.got == "a list of 2"
