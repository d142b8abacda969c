"""Issue 11 item 13: the Down syndrome arm is named in plain words in the assessment JSON and in
the text and Markdown reports, with the treatment changes and the higher treatment-related
mortality [AALL1731-DS-HIGH, DS-ALL-HIT]."""

from __future__ import annotations

from typing import Any

from clinical_records import assess_doc, b_all_record, risk

from allpath.outputs.render import render_markdown, render_text

_EM = {"mediastinal_mass": False, "other_mass": False, "cns_clinical_signs": False}


def _ds_record(eoi_mrd: float) -> dict[str, Any]:
    return b_all_record(
        genetics={"fusions": ["ETV6::RUNX1"], "alterations": [], "chromosome_count": 47},
        extramedullary=_EM, steroid_pretreatment=False, conditions=["down_syndrome"],
        extra_obs=[{"code": "mrd_blood", "value": 0.001, "unit": "%", "time": "2024-03-09"},
                   {"code": "mrd_marrow", "value": eoi_mrd, "unit": "%",
                    "time": "2024-03-29"}])


def test_aall1731_ds_high_arm_is_named_in_json_note_and_text_report() -> None:
    result = assess_doc(_ds_record(0.05))  # EOI MRD above 0.01%: DS-High
    ds = risk(result, "aall1731_ds")
    assert ds["group"] == "ds_high"
    assert ds["note"] is not None
    assert "treatment-related mortality" in ds["note"]
    assert "leucovorin" in ds["note"]
    text = render_text(result, width=200)
    assert "DS-High (Down syndrome high-risk arm)" in text
    assert "Down syndrome arm DS-High" in text and "leucovorin" in text
    md = render_markdown(result)
    assert "DS-High (Down syndrome high-risk arm)" in md


def test_aall1731_ds_standard_arm_is_named_with_its_treatment_changes() -> None:
    result = assess_doc(_ds_record(0.001))
    ds = risk(result, "aall1731_ds")
    assert ds["group"] == "ds_standard"
    assert "deaths from treatment" in ds["note"] and "supportive care" in ds["note"]
    assert "DS-Standard (Down syndrome standard-risk arm)" in render_text(result, width=200)


def test_a_provisional_group_carries_no_rule_note() -> None:
    doc = _ds_record(0.001)
    doc.pop("steroid_pretreatment")
    ds = risk(assess_doc(doc), "aall1731_ds")
    assert ds["group"] == "unknown" and ds["note"] is None


def test_no_down_syndrome_line_without_down_syndrome() -> None:
    doc = _ds_record(0.001)
    doc.pop("conditions")
    text = render_text(assess_doc(doc), width=200)
    assert "Down syndrome arm DS-" not in text
