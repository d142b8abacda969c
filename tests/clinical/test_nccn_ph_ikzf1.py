"""REVIEW-2026-12-07 finding D (ic114): NCCN adult genetic risk of a Ph+ (BCR::ABL1) adult with
an IKZF1 deletion but no IKZF1plus.

Fact sheet 2.3.6 [S2]: BCR::ABL1 is NCCN standard risk without IKZF1plus or antecedent CML.
Fact sheet 2.3.18 [S2, S56b]: IKZF1 deletion is an NCCN adult poor-risk alteration. The two
entries conflict for this patient and the NCCN table itself was not read: ALLPath keeps the
poor-risk reading, by a rule of its own that names the conflict (evidence unconfirmed).
"""

from __future__ import annotations

from typing import Any

from clinical_records import assess_doc, b_all_record


def _ph_adult(alterations: list[str]) -> dict[str, Any]:
    doc = assess_doc(b_all_record(birth="1984-03-01", genetics={
        "time": "2024-03-05", "chromosome_count": 46, "fusions": ["BCR::ABL1"],
        "alterations": alterations}))
    return next(r for r in doc["risk"] if r["scheme"] == "nccn_adult_genetics")


def test_nccn_2_3_18_ph_adult_with_ikzf1_pax5_erg_deletion_is_poor_naming_the_conflict() -> None:
    risk = _ph_adult(["IKZF1_deletion", "PAX5_deletion", "ERG_deletion"])
    assert risk["group"] == "poor"
    assert risk["rule_id"] == "adult_nccn_genetics.poor.ikzf1_deletion"
    assert risk["evidence"] == "unconfirmed"
    assert "IKZF1plus" in risk["note"] and "conflict" in risk["note"]


def test_nccn_2_3_6_ph_adult_without_any_ikzf1_lesion_is_standard() -> None:
    assert _ph_adult([])["group"] == "standard"


def test_nccn_2_3_19_ph_adult_with_derived_ikzf1plus_is_poor_by_the_ph_rule() -> None:
    risk = _ph_adult(["IKZF1_deletion", "PAX5_deletion"])
    assert risk["group"] == "poor"
    assert risk["rule_id"] == "adult_nccn_genetics.poor.ph_ikzf1plus_or_cml"
