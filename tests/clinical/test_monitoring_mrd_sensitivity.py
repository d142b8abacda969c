"""The monitoring MRD facts are read like the time-point facts (allpath.findings.mrd, no
second copy of the rule): the relapse pack's end-of-block-1 marrow MRD (``rel.mrd_end_block1``,
COG late relapse low/intermediate at 0.1% [RELAPSE-RISK-TABLE]) and the alerts' latest MRD
(``now.mrd_latest``, positive by the standard 0.01% [S4, S26] for the Ph+ ABL1 kinase-domain
prompt). A result below a threshold from an assay less sensitive than it cannot settle it
(ASH 2021 MRD reporting table, MRD-REPORT-ASH2021), and same-day results on both sides of it
are not chosen between. Records: independent case ic147 (late combined relapse, block-1 MRD
0.05% by flow) and review G rg06 (Ph+ adult, PCR MRD rising to 0.04%)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from allpath import assess, parse_record
from allpath.findings.base import base_facts
from allpath.findings.mrd import MONITORING_MRD_FACTS, compared_thresholds
from allpath.monitoring.alerts import alert_facts
from allpath.observations.normalise import normalise
from allpath.rules.loader import load_knowledge
from support import load_yaml

_CLINICAL = Path(__file__).parent


def _record(pattern: str) -> dict[str, Any]:
    [path] = sorted(_CLINICAL.glob(pattern))
    doc: dict[str, Any] = load_yaml(path.read_text(encoding="utf-8"))
    return copy.deepcopy(doc["record"])


def _block1(**change: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    record = _record("independent_cases/ic147-*.yaml")
    [row] = [o for o in record["observations"] if o.get("timepoint") == "end_of_block1"]
    row.update(change)
    return record, row


def _relapse(record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    doc: dict[str, Any] = assess(parse_record(record)).to_dict()
    return doc["relapse"], [m["fact"] for m in doc["missing"]]


def _rg06_latest(**change: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    record = _record("review_g/rg06-*.yaml")
    row = [o for o in record["observations"] if o["code"] == "mrd_marrow"][-1]
    row.update(change)
    return record, row


def _alert_ids(record: dict[str, Any]) -> list[str]:
    return [a["id"] for a in assess(parse_record(record)).to_dict()["alerts"]]


def test_the_monitoring_mrd_facts_are_checked_against_their_packs_thresholds() -> None:
    thresholds = compared_thresholds()
    assert set(MONITORING_MRD_FACTS) <= set(thresholds)
    assert {t for _, t in thresholds["rel.mrd_end_block1"]} == {0.1}
    assert {t for _, t in thresholds["now.mrd_latest"]} == {0.01}


def test_block1_mrd_below_0_1_percent_from_a_1e_2_assay_leaves_the_cog_relapse_group_open() -> None:
    relapse, missing = _relapse(_block1(sensitivity=1e-2)[0])
    assert relapse["risk"]["cog"] == "unknown"
    assert "rel.mrd_end_block1" in missing
    [note] = [n for n in relapse["notes"] if "rel.mrd_end_block1" in n]
    assert "0.001 (0.1%) or better" in note and "MRD-REPORT-ASH2021" in note


def test_block1_mrd_from_a_1e_4_assay_still_gives_cog_low() -> None:
    relapse, missing = _relapse(_block1(sensitivity=1e-4)[0])
    assert relapse["risk"]["cog"] == "low"
    assert "rel.mrd_end_block1" not in missing


def test_block1_flow_and_pcr_on_both_sides_of_0_1_percent_are_not_chosen_between() -> None:
    record, row = _block1()
    record["observations"].append({**row, "value": 0.2, "method": "pcr"})
    relapse, missing = _relapse(record)
    assert relapse["risk"]["cog"] == "unknown"
    assert "rel.mrd_end_block1" in missing
    [note] = [n for n in relapse["notes"] if "rel.mrd_end_block1" in n]
    assert "0.05% by flow" in note and "0.2% by pcr" in note and "does not pick one" in note


def test_rg06_rising_pcr_mrd_still_prompts_abl1_kinase_domain_testing() -> None:
    assert "abl1_kinase_domain_testing" in _alert_ids(_rg06_latest()[0])


def test_a_detected_latest_mrd_counts_even_from_a_coarse_assay() -> None:
    """0.04% detected by a 1e-3 assay is at or above 0.01%: the prompt still fires."""
    assert "abl1_kinase_domain_testing" in _alert_ids(_rg06_latest(sensitivity=1e-3)[0])


def test_latest_mrd_not_detected_by_a_1e_3_assay_is_unknown_not_below_0_01_percent() -> None:
    """0% at 1e-3 can hide a level up to 0.1%: the latest MRD is unknown, so neither the rise
    nor its positivity is read from it (the MRD arm of the prompt stays unmet)."""
    kb = load_knowledge()
    for sensitivity, known in ((1e-3, False), (1e-4, True)):
        record = parse_record(_rg06_latest(value=0, sensitivity=sensitivity)[0])
        timeline = normalise(record)
        base = base_facts(record, timeline, kb.registry).facts
        facts = alert_facts(record, timeline, base, kb)
        assert ("now.mrd_latest" in facts) is known
        assert ("now.mrd_rise" in facts) is known


def test_same_day_latest_mrd_results_on_both_sides_of_0_01_percent_do_not_prompt() -> None:
    record, row = _rg06_latest()
    record["observations"].append({**row, "value": 0.005, "sensitivity": 1e-4,
                                   "method": "flow"})
    assert "abl1_kinase_domain_testing" not in _alert_ids(record)
