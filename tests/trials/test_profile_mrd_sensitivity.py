"""The trial pre-screen's MRD item reads the MRD pack's call for each result and never turns
an open one into "negative": MRD-negative with insufficient sensitivity is an intermediate
result, not MRD-negative (ASH 2021 MRD reporting table, PMC8824253, citation
MRD-REPORT-ASH2021), and same-day results of one specimen that disagree are unknown (no source
read says which method rules). Review I cases ri09 (EOI 0% by a 1e-3 assay) and ri12 (EOC flow
0.06% and PCR 0.15%, both positive by the standard 0.01% threshold [S4])."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from allpath import assess, parse_record
from allpath.trials import profile_from_assessment
from allpath.trials.profile import TrialProfile
from support import load_yaml

_REVIEW_I = Path(__file__).parents[1] / "clinical" / "review_i"


def _record(prefix: str) -> dict[str, Any]:
    [path] = sorted(_REVIEW_I.glob(f"{prefix}-*.yaml"))
    doc: dict[str, Any] = load_yaml(path.read_text(encoding="utf-8"))
    return copy.deepcopy(doc["record"])


def _profile(record: dict[str, Any]) -> TrialProfile:
    return profile_from_assessment(assess(parse_record(record)))


def _eoi_pcr(record: dict[str, Any], value: float, sensitivity: float) -> dict[str, Any]:
    """ri09 with a PCR result on the same end-of-induction marrow."""
    record["observations"].append({"code": "mrd_marrow", "value": value, "unit": "%",
                                   "time": "2025-05-05", "method": "pcr",
                                   "sensitivity": sensitivity, "timepoint": "end_of_induction"})
    return record


def test_ri09_not_detected_by_a_1e_3_assay_is_unknown_for_trials_not_negative() -> None:
    item = _profile(_record("ri09")).items["mrd"]
    assert item.value is None
    assert item.rule_id == "mrd.negative.insufficient_sensitivity"
    assert "MRD-REPORT-ASH2021" in item.cite
    assert "not negative" in (item.note or "")
    assert "observations[16]" in item.inputs


def test_the_same_result_with_a_1e_4_assay_is_negative_for_trials() -> None:
    record = _record("ri09")
    [row] = [o for o in record["observations"] if o["code"] == "mrd_marrow"
             and o.get("timepoint") == "end_of_induction"]
    row["sensitivity"] = 1e-4
    assert _profile(record).value("mrd") == "negative"


def test_a_sensitive_same_day_negative_settles_an_insufficient_one() -> None:
    profile = _profile(_eoi_pcr(_record("ri09"), 0.005, 1e-5))
    assert profile.value("mrd") == "negative"
    assert profile.items["mrd"].rule_id == "mrd.level.below_1e-4"


def test_same_day_results_on_both_sides_of_0_01_percent_are_unknown_for_trials() -> None:
    """Flow 0% at 1e-4 (negative) and PCR 0.02% (positive) on one marrow: neither is chosen."""
    record = _record("ri09")
    [row] = [o for o in record["observations"] if o["code"] == "mrd_marrow"
             and o.get("timepoint") == "end_of_induction"]
    row["sensitivity"] = 1e-4
    item = _profile(_eoi_pcr(record, 0.02, 1e-5)).items["mrd"]
    assert item.value is None
    assert "disagree" in (item.note or "")


def test_ri12_flow_and_pcr_both_positive_by_0_01_percent_are_positive_for_trials() -> None:
    """ri12's methods disagree across the T-ALL 0.1% risk threshold only; by the standard
    0.01% threshold both are positive [S4], which is what a trial's MRD-positive means."""
    assert _profile(_record("ri12")).value("mrd") == "positive"
