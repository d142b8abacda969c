"""Bad inputs found in the review of the 2026-12-07 change: each is a clear error, never a crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from allpath.errors import RecordError
from allpath.monitoring.titration_log import read_log
from allpath.triage import triage
from allpath.trials.update import UpdateError, download_studies
from allpath.web import create_web_app
from bad_input_corpus import HUGE_NUMBER_TRIAGE


@pytest.mark.parametrize("doc", HUGE_NUMBER_TRIAGE,
                         ids=["count-with-unit", "bare-count", "temperature"])
def test_a_number_too_large_for_a_float_is_a_clear_triage_error(doc: dict[str, Any]) -> None:
    full = {"format": "allpath.triage/1", "age_years": 5, "sex": "female", **doc}
    with pytest.raises(RecordError) as err:
        triage(full)
    (problem,) = err.value.problems
    assert problem.message == "expected a finite number"
    assert len(problem.got or "") < 60  # the input is never echoed whole
    r = TestClient(create_web_app()).post("/web/triage", json={k: v for k, v in full.items()
                                                               if k != "format"})
    assert r.status_code == 422, r.text


def test_a_maintenance_log_with_a_huge_integer_is_read_as_a_rejected_value(
        tmp_path: Path) -> None:
    log = tmp_path / "log.yaml"
    log.write_text("format: allpath.maintenance-log/1\npatient: p\n"
                   "units: {anc: /uL, platelets: /uL, wbc: /uL}\nvisits:\n"
                   f"  - {{date: 2024-01-01, wbc: {'9' * 400}, anc: 1200, platelets: 200000, "
                   "mp: 50, mtx: 20}\n", encoding="utf-8")
    (visit,) = read_log(log).visits  # no OverflowError
    assert visit.wbc is None and "wbc" in visit.rejected


def test_trials_update_with_something_that_is_not_a_url_is_a_clear_error(
        tmp_path: Path) -> None:
    with pytest.raises(UpdateError):
        download_studies(tmp_path / "snap", base_url="notaurl", retries=0, backoff=0.0)
