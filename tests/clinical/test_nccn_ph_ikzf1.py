"""REVIEW-2026-12-07 finding D (ic114): NCCN adult genetic risk of a Ph+ (BCR::ABL1) adult with
an IKZF1 deletion but no IKZF1plus.

The NCCN adult B-ALL risk table (as BMJ Best Practice reproduces it, S51; fact sheet 2.3.6
and 2.3.18) has "BCR::ABL1 without IKZF1plus and without antecedent CML" in the standard-risk
group, "BCR::ABL1 with IKZF1plus and/or antecedent CML" in the poor-risk group, and also
"IKZF1 alterations" as poor risk. ALLPath lets the BCR::ABL1 lines decide within Ph+ ALL (the
IKZF1plus qualifier would otherwise change nothing; GIMEMA LAL1509 found IKZF1 deletion alone
no worse than no CNA in Ph+ adults, IKZF1plus worse), and keeps "IKZF1 alterations" poor in
Ph-negative B-ALL. The precedence is ALLPath's reading (no NCCN footnote read), so the rule is
marked unconfirmed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clinical_records import assess_doc, b_all_record

from allpath import assess, parse_record
from expectations import check
from support import load_yaml


def _adult_nccn(alterations: list[str], fusions: tuple[str, ...] = ("BCR::ABL1",)
                ) -> dict[str, Any]:
    doc = assess_doc(b_all_record(birth="1984-03-01", genetics={
        "time": "2024-03-05", "chromosome_count": 46, "fusions": list(fusions),
        "alterations": alterations}))
    return next(r for r in doc["risk"] if r["scheme"] == "nccn_adult_genetics")


def test_nccn_bmj_table_ph_adult_with_ikzf1_pax5_erg_deletion_is_standard() -> None:
    """ic114: the ERG deletion rules IKZF1plus out, so the BCR::ABL1 standard-risk line holds."""
    risk = _adult_nccn(["IKZF1_deletion", "PAX5_deletion", "ERG_deletion"])
    assert risk["group"] == "standard"
    assert risk["rule_id"] == "adult_nccn_genetics.standard.ph_ikzf1_deletion_without_ikzf1plus"
    assert risk["evidence"] == "unconfirmed"
    assert "IKZF1 alterations" in risk["note"] and "LAL1509" in risk["note"]
    assert "CHIARETTI-2021-LAL1509" in risk["citations"]


def test_nccn_bmj_table_ph_adult_with_ikzf1_deletion_alone_is_standard() -> None:
    assert _adult_nccn(["IKZF1_deletion"])["group"] == "standard"


def test_nccn_bmj_table_ph_negative_adult_with_ikzf1_deletion_is_poor() -> None:
    risk = _adult_nccn(["IKZF1_deletion"], fusions=())
    assert risk["group"] == "poor"
    assert risk["rule_id"] == "adult_nccn_genetics.poor.ikzf1_deletion"


def test_nccn_2_3_6_ph_adult_without_any_ikzf1_lesion_is_standard() -> None:
    assert _adult_nccn([])["group"] == "standard"


def test_nccn_2_3_19_ph_adult_with_derived_ikzf1plus_is_poor_by_the_ph_rule() -> None:
    risk = _adult_nccn(["IKZF1_deletion", "PAX5_deletion"])
    assert risk["group"] == "poor"
    assert risk["rule_id"] == "adult_nccn_genetics.poor.ph_ikzf1plus"


def test_ic114_case_expectations_hold() -> None:
    case = (Path(__file__).parent / "independent_cases"
            / "ic114-woman-45-ph-ikzf1-pax5-with-erg.yaml")
    doc = load_yaml(case.read_text(encoding="utf-8"))
    result = assess(parse_record(doc["record"], source=str(case))).to_dict()
    assert check(result, doc["expected"]) == []
    group = next(r for r in result["risk"] if r["scheme"] == "nccn_adult_genetics")["group"]
    assert group == "standard"
