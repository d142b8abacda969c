"""Issue 11 items 14 (not ALL) and 16 (plausibility across values)."""

from __future__ import annotations

from clinical_records import assess_doc, b_all_record, risk


def test_who_2017_marrow_3_percent_blasts_without_mass_is_not_all_and_has_no_risk_table() -> None:
    # WHO [S3]: avoid the diagnosis of ALL below 20% blasts; NCCN [S1] >= 20% marrow blasts.
    doc = b_all_record(marrow_blasts=3, extramedullary={"mediastinal_mass": False,
                                                       "other_mass": False})
    result = assess_doc(doc)
    assert result["diagnosis"]["status"] == "not_ALL"
    assert result["diagnosis"]["presentation"] == "insufficient_blasts"
    assert result["risk"] == []


def test_who_2017_low_marrow_blasts_is_not_all_even_before_the_chest_xray() -> None:
    result = assess_doc(b_all_record(marrow_blasts=3))
    assert result["diagnosis"]["status"] == "not_ALL"
    assert result["diagnosis"]["presentation"] is None
    assert any(m["fact"] == "extramedullary.mediastinal_mass" for m in result["missing"])


def test_who_2017_lymphoblastic_lymphoma_without_mediastinal_mass_is_recognised() -> None:
    # WHO [S3]: "lymphoma" for a mass lesion with no or minimal marrow involvement.
    doc = b_all_record(marrow_blasts=8, extramedullary={"mediastinal_mass": False,
                                                       "other_mass": True})
    result = assess_doc(doc)
    assert result["diagnosis"]["presentation"] == "lymphoblastic_lymphoma"
    assert result["risk"] == []


def test_who_2016_mpal_never_falls_through_to_b_all_nos() -> None:
    markers = {"CD19": "positive", "CD10": "positive", "cCD79a": "positive", "CD22": "positive",
               "MPO": "positive", "cCD3": "negative", "sIg": "negative"}
    result = assess_doc(b_all_record(markers=markers))
    assert result["diagnosis"]["lineage"] == "MPAL"
    assert result["diagnosis"]["mpal_type"] == "MPAL, B/myeloid"
    assert result["diagnosis"]["subtype"]["key"] == "unknown"
    assert result["diagnosis"]["subtype"]["who_haem5"] is None
    assert result["risk"] == []


def test_anc_above_wbc_is_named_and_the_nci_group_is_not_computed_from_it() -> None:
    doc = b_all_record(wbc=4.0, extra_obs=[{"code": "anc", "value": 6.0, "unit": "10*9/L",
                                            "time": "2024-03-01"}],
                       steroid_pretreatment=False)
    result = assess_doc(doc)
    note = next(n for n in result["notes"] if n.startswith("Implausible: ANC"))
    assert "6" in note and "4" in note
    r = risk(result, "nci_rome")
    assert r["group"] == "unknown" and "wbc.dx" in r["missing"]


def test_wbc_60_per_microlitre_reads_like_a_unit_slip() -> None:
    doc = b_all_record()
    doc["observations"][0] = {"code": "wbc", "value": 60, "unit": "/uL", "time": "2024-03-01"}
    result = assess_doc(doc)
    assert any(n.startswith("Possible unit slip: WBC 60 /uL") for n in result["notes"])
    assert risk(result, "nci_rome")["group"] == "unknown"


def test_wbc_several_hundred_in_maintenance_is_flagged() -> None:
    doc = b_all_record(
        extra_obs=[{"code": "wbc", "value": 450, "unit": "10*9/L", "time": "2025-01-10"}],
        treatment=[{"phase": "maintenance", "start": "2024-10-01"}])
    result = assess_doc(doc)
    assert any("WBC 450 x10^9/L on 2025-01-10" in n and "maintenance" in n
               for n in result["notes"])
