"""MRD time-point facts read with their assay sensitivity and with same-day results of other
methods (allpath.findings.mrd; review I findings ri09 and ri12).

Sources: the ASH 2021 MRD reporting table (PMC8824253 Table 1, citation MRD-REPORT-ASH2021):
MRD complete response needs a negative result with a sensitivity of at least 0.01%, and
"MRD-negative with insufficient sensitivity" is an intermediate result; fact sheet 4.2.1
(negativity threshold < 0.01%) and trap 5 (store value, method and sensitivity, not a
boolean); COG [S4] and AALL1731 [S5] EOI thresholds; NCCN paediatric T-ALL EOC 0.1% [S1].
No source read says which method rules when flow and PCR on one marrow disagree."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from allpath import assess, parse_record
from allpath.findings.mrd import compared_thresholds, read_mrd_fact
from allpath.observations.normalise import normalise
from support import load_yaml

_REVIEW_I = Path(__file__).parent / "review_i"


def _case(prefix: str) -> dict[str, Any]:
    [path] = sorted(_REVIEW_I.glob(f"{prefix}-*.yaml"))
    doc: dict[str, Any] = load_yaml(path.read_text(encoding="utf-8"))
    return doc


def _assess(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = assess(parse_record(record)).to_dict()
    return out


def _risk(doc: dict[str, Any], scheme: str) -> dict[str, Any]:
    [r] = [r for r in doc["risk"] if r["scheme"] == scheme]
    return r


def _ri09(**eoi: Any) -> dict[str, Any]:
    """ri09 with its end-of-induction marrow MRD changed (None removes a field)."""
    record = copy.deepcopy(_case("ri09")["record"])
    [row] = [o for o in record["observations"]
             if o["code"] == "mrd_marrow" and o.get("timepoint") == "end_of_induction"]
    for key, value in eoi.items():
        if value is None:
            row.pop(key, None)
        else:
            row[key] = value
    return record


def test_ri09_not_detected_by_a_1e_3_assay_leaves_cog_and_aall1731_open() -> None:
    """ri09: EOI marrow MRD 0% by flow with sensitivity 1e-3 cannot show MRD < 0.01%, so
    COG low / AALL1731 SR-Favourable are not given; the group is open with its possible
    groups, the marrow MRD is missing, and a note says why and which sensitivity settles it."""
    doc = _assess(_case("ri09")["record"])
    cog, sr = _risk(doc, "cog_pdq"), _risk(doc, "aall1731")
    assert cog["group"] == "unknown" and cog["provisional"] is True
    assert {"low", "high"} <= set(cog["possible_groups"])
    assert sr["group"] == "unknown" and "sr_favorable" in sr["possible_groups"]
    assert len(sr["possible_groups"]) > 1
    assert "mrd.eoi_marrow" in cog["missing"] and "mrd.eoi_marrow" in sr["missing"]
    [miss] = [m for m in doc["missing"] if m["fact"] == "mrd.eoi_marrow"]
    assert miss["order"] is True and miss["test"] in doc["tests_to_order"]
    [note] = [n for n in doc["notes"] if "mrd.eoi_marrow" in n]
    assert "0.001 (0.1%)" in note and "0.0001 (0.01%) or better" in note
    assert "observations[16]" in note and "MRD-REPORT-ASH2021" in note
    [eoi] = [m for m in doc["mrd"]["series"] if m["timepoint"] == "end_of_induction"]
    assert eoi["level"] == "insufficient_sensitivity" and eoi["positive"] is None
    assert eoi["fact"] == "mrd.eoi_marrow" and eoi["used"] is False
    assert "MRD-REPORT-ASH2021" in eoi["citations"]


def test_a_1e_4_assay_is_sensitive_enough_for_the_0_01_percent_threshold() -> None:
    """A negative result with a sensitivity of exactly 0.01% (1e-4) meets 'a minimum
    sensitivity of 0.01%': ri09 with that assay is COG low and AALL1731 SR-Favourable."""
    doc = _assess(_ri09(sensitivity=1e-4))
    assert _risk(doc, "cog_pdq")["group"] == "low"
    assert _risk(doc, "aall1731")["group"] == "sr_favorable"
    assert not [n for n in doc["notes"] if "mrd.eoi_marrow" in n]
    [eoi] = [m for m in doc["mrd"]["series"] if m["timepoint"] == "end_of_induction"]
    assert (eoi["level"], eoi["positive"], eoi["used"]) == ("below_1e-4", False, True)


def test_a_positive_result_above_the_threshold_still_counts_from_a_coarse_assay() -> None:
    """0.05% detected by a 1e-3 assay is at or above 0.01%: informative, COG high [S4]."""
    doc = _assess(_ri09(value=0.05))
    assert _risk(doc, "cog_pdq")["group"] == "high"
    [eoi] = [m for m in doc["mrd"]["series"] if m["timepoint"] == "end_of_induction"]
    assert (eoi["level"], eoi["positive"], eoi["used"]) == ("1e-4_to_1e-3", True, True)


def test_a_result_without_a_recorded_sensitivity_is_read_as_written() -> None:
    doc = _assess(_ri09(sensitivity=None))
    assert _risk(doc, "cog_pdq")["group"] == "low"


def test_a_sensitive_same_day_result_settles_what_a_coarse_one_cannot() -> None:
    """Flow 0% at 1e-3 and PCR 0.005% at 1e-5 on the same EOI marrow: the PCR result is
    below 0.01% with enough sensitivity, the flow result settles nothing; PCR is used."""
    record = _ri09()
    record["observations"].append({"code": "mrd_marrow", "value": 0.005, "unit": "%",
                                   "time": "2025-05-05", "method": "pcr",
                                   "sensitivity": 1e-5, "timepoint": "end_of_induction"})
    doc = _assess(record)
    assert _risk(doc, "cog_pdq")["group"] == "low"
    used = {m["method"]: m["used"] for m in doc["mrd"]["series"]
            if m["timepoint"] == "end_of_induction"}
    assert used == {"flow": False, "pcr": True}


def test_ri12_flow_and_pcr_disagreeing_across_0_1_percent_are_not_resolved_by_list_order() -> None:
    """ri12: EOC flow 0.06% and PCR 0.15% on the same marrow fall on both sides of the NCCN
    T-ALL 0.1% threshold [S1]: no source says which method rules, so the group is open
    between high and very high, and a note names both values and methods."""
    doc = _assess(_case("ri12")["record"])
    t_all = _risk(doc, "t_all_nccn_pediatric")
    assert t_all["group"] == "unknown"
    assert set(t_all["possible_groups"]) == {"high", "very_high"}
    assert "mrd.eoc_marrow" in t_all["missing"]
    [note] = [n for n in doc["notes"] if "mrd.eoc_marrow" in n]
    for part in ("0.06% by flow", "0.15% by pcr", "0.1% threshold", "does not pick one"):
        assert part in note
    eoc = [m for m in doc["mrd"]["series"] if m["timepoint"] == "end_of_consolidation"]
    assert [m["used"] for m in eoc] == [False, False]


def test_same_day_results_that_agree_at_every_threshold_are_used_with_a_note() -> None:
    """Flow 0.2% and PCR 0.15% on one EOC marrow are both at or above 0.1%: very high."""
    record = copy.deepcopy(_case("ri12")["record"])
    for o in record["observations"]:
        if o["code"] == "mrd_marrow" and o.get("method") == "flow" \
                and o.get("timepoint") == "end_of_consolidation":
            o["value"] = 0.2
    doc = _assess(record)
    assert _risk(doc, "t_all_nccn_pediatric")["group"] == "very_high"
    [note] = [n for n in doc["notes"] if "mrd.eoc_marrow" in n]
    assert "agree at every threshold" in note


def test_the_thresholds_checked_are_the_ones_the_packs_compare_each_fact_with() -> None:
    """No new number: mrd.eoi_marrow is checked against the COG/AALL1731 0.01% and the
    AALL1731 double-trisomy 0.1% thresholds of the risk pack [S4][S5]."""
    thresholds = compared_thresholds()
    assert {t for _, t in thresholds["mrd.eoi_marrow"]} >= {0.01, 0.1}
    assert 0.1 in {t for _, t in thresholds["mrd.eoc_marrow"]}
    assert {t for _, t in thresholds["mrd.day8_blood"]} >= {0.01, 1.0}


@pytest.mark.parametrize(("thresholds", "settled"), [
    (((">=", 0.1),), True),    # a 1e-3 (0.1%) assay settles a 0.1% threshold
    (((">=", 0.01),), False),  # but not a 0.01% one
    (((">=", 0.01), (">=", 0.1)), False),
])
def test_sensitivity_is_checked_against_each_threshold(
        thresholds: tuple[tuple[str, float], ...], settled: bool) -> None:
    record = parse_record(_case("ri09")["record"])
    source = {"from": "mrd_marrow", "window": [22, 36], "pick": "first",
              "timepoint": "end_of_induction"}
    reading = read_mrd_fact("mrd.eoi_marrow", source, normalise(record), thresholds)
    assert (reading.fact is not None) is settled
    assert (reading.note is None) is settled


def _ri09_with_pcr(flow: float, pcr: float) -> dict[str, Any]:
    """ri09 with its end-of-induction marrow read by flow (``flow`` %, sensitivity 1e-5)
    and by PCR on the same day (``pcr`` %, sensitivity 1e-5)."""
    record = _ri09(value=flow, sensitivity=1e-5)
    record["observations"].append({"code": "mrd_marrow", "value": pcr, "unit": "%",
                                   "time": "2025-05-05", "method": "pcr",
                                   "sensitivity": 1e-5, "timepoint": "end_of_induction"})
    return record


def test_cog_high_when_flow_and_pcr_disagree_only_at_0_1_percent_both_at_or_above_0_01() -> None:
    """Flow 0.06% and PCR 0.15% on one EOI marrow disagree across 0.1% but are both at or
    above 0.01%, the COG threshold for EOI MRD [S4]: COG is high whichever method rules
    (before, 'low' was offered as still possible, which both results rule out). The note
    still names the open 0.1% threshold and neither result is read as the level."""
    doc = _assess(_ri09_with_pcr(0.06, 0.15))
    cog = _risk(doc, "cog_pdq")
    assert (cog["group"], cog["provisional"], cog["missing"]) == ("high", False, [])
    [note] = [n for n in doc["notes"] if "mrd.eoi_marrow" in n]
    assert "across the 0.1% threshold the" in note and "left unknown at 0.1%" in note
    eoi = [m for m in doc["mrd"]["series"] if m["timepoint"] == "end_of_induction"]
    assert [m["used"] for m in eoi] == [False, False]


def test_results_on_both_sides_of_0_01_percent_leave_the_groups_open_with_the_lower_as_best_case(
) -> None:
    """Flow 0.005% and PCR 0.15% fall on both sides of 0.01% [S4][S5]: COG stays open
    between low and high; the provisional group is the best case the results allow (the
    flow result: low) and its reason says so, naming both thresholds."""
    doc = _assess(_ri09_with_pcr(0.005, 0.15))
    cog = _risk(doc, "cog_pdq")
    assert cog["group"] == "unknown" and cog["possible_groups"] == ["low", "high"]
    assert cog["provisional_group"] == "low" and cog["missing"] == ["mrd.eoi_marrow"]
    reason = cog["provisional_reason"]
    assert "both sides of 0.01%, 0.1%" in reason and "best case the results allow" in reason
    [note] = [n for n in doc["notes"] if "mrd.eoi_marrow" in n]
    assert "across the 0.01%, 0.1% thresholds the" in note


def _double_trisomy(record: dict[str, Any]) -> dict[str, Any]:
    """The record with a high-hyperdiploid karyotype carrying trisomies 4 and 10."""
    record["genetics"].update(karyotype="55,XX,+X,+4,+6,+10,+14,+17,+18,+21,+21[20]",
                              chromosome_count=55, fusions=[])
    return record


def test_possible_groups_are_drawn_from_the_values_the_results_allow() -> None:
    """With double trisomy 4 and 10, AALL1731 compares EOI MRD with 0.01% (SR-Favourable)
    and 0.1% (SR-High) [S5]. Same-day results of 0.005% and 0.05% are both below 0.1%, so
    SR-High may not be offered (before, it was): the groups still possible are those of
    the two values read one at a time."""
    both = _risk(_assess(_double_trisomy(_ri09_with_pcr(0.005, 0.05))), "aall1731")
    one_by_one = [_risk(_assess(_double_trisomy(_ri09(value=v, sensitivity=1e-5))), "aall1731")
                  ["group"] for v in (0.005, 0.05)]
    assert one_by_one == ["sr_favorable", "sr_average"]
    assert both["group"] == "unknown"
    assert both["possible_groups"] == ["sr_favorable", "sr_average"]
