"""Issue 11 item 1: an input that cannot apply is never missing (testes in a girl).

Source: NCCN Pediatric ALL [S1] (testicular exam at diagnosis, in boys) and AALL1731 [S5]
(testicular disease excludes SR enrolment): the question only exists for patients with testes.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from clinical_records import assess_doc, b_all_record, risk

from allpath.knowledge import knowledge_dir
from allpath.rules.loader import load_packs
from support import load_yaml

_MRD_NEGATIVE = [
    {"code": "mrd_blood", "value": 0.005, "unit": "%", "time": "2024-03-09"},
    {"code": "mrd_marrow", "value": 0.005, "unit": "%", "time": "2024-03-29"},
]


def test_nccn_aall1731_girl_without_testicular_field_keeps_her_risk_group() -> None:
    doc = b_all_record(sex="female", extramedullary={"mediastinal_mass": False,
                                                     "cns_clinical_signs": False},
                       genetics={"fusions": ["ETV6::RUNX1"], "alterations": [],
                                 "chromosome_count": 46},
                       extra_obs=_MRD_NEGATIVE, steroid_pretreatment=False)
    result = assess_doc(doc)
    assert risk(result, "nci_rome")["group"] == "standard"
    assert risk(result, "aall1731")["group"] == "sr_favorable"
    assert risk(result, "cog_pdq")["group"] == "low"
    assert result["testicular_involvement"] is False
    assert all(m["fact"] != "extramedullary.testicular" for m in result["missing"])
    assert not any("testicular" in t for t in result["tests_to_order"])


def test_nccn_boy_without_testicular_field_is_asked_for_an_examination() -> None:
    doc = b_all_record(sex="male", extramedullary={"mediastinal_mass": False,
                                                   "cns_clinical_signs": False})
    result = assess_doc(doc)
    assert result["testicular_involvement"] is None
    assert any(m["fact"] == "extramedullary.testicular" for m in result["missing"])
    assert risk(result, "aall1731")["group"] == "unknown"


def test_girl_trace_names_why_testes_do_not_apply() -> None:
    result = assess_doc(b_all_record(sex="female"))
    entry = next(t for t in result["trace"] if t["output"] == "testicular_involvement")
    assert entry["value"] is False
    assert any("not applicable" in ref for ref in entry["input_refs"])


def _copy_packs(tmp: Path) -> Path:
    folder = tmp / "packs"
    folder.mkdir()
    for p in sorted((knowledge_dir() / "packs").glob("*.yaml")):
        (folder / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def _bfm_pack(folder: Path) -> dict:  # type: ignore[type-arg]
    doc = load_yaml((folder / "74-relapse.yaml").read_text(encoding="utf-8"))
    return doc  # type: ignore[no-any-return]


def test_rules_check_reports_a_rule_that_can_ask_for_an_inapplicable_fact(tmp_path: Path) -> None:
    folder = _copy_packs(tmp_path)
    doc = _bfm_pack(folder)
    bfm = next(d for d in doc["decisions"] if d["id"] == "timing_bfm")
    # Unguarded: months after the end of therapy do not exist while therapy goes on.
    bfm["rules"][2]["when"] = {"fact": "rel.months_after_end_of_therapy", "op": ">=",
                               "value": 6, "unit": "mo"}
    (folder / "74-relapse.yaml").write_text(yaml.safe_dump(doc, sort_keys=False),
                                            encoding="utf-8")
    _, problems = load_packs(folder, run_examples=False)
    hits = [p for p in problems if "where it does not apply" in p.message]
    assert len(hits) == 1
    assert "rel.months_after_end_of_therapy" in hits[0].message


def test_rules_check_accepts_the_bundled_packs_without_inapplicable_reads() -> None:
    _, problems = load_packs(run_examples=False)
    assert [p for p in problems if "where it does not apply" in p.message] == []
