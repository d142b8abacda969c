"""An adult's MRD at the end of consolidation is an adverse risk factor (review M, rm05).

Source: fact sheet 3.8.4 (Adult/AYA response factors, [S24][S14b]): "MRD >=0.1% / >=0.01% after
induction, any MRD during/after consolidation = key unifying factor". MRD-positive after
consolidation is read at the level the risk pack already declares for it (0.01%, the standard
negativity threshold of 4.2.1; the infant NCCN rule reads "MRD+ after consolidation" so too).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from allpath import assess, parse_record
from allpath.guide import personal_guide, render
from allpath.record.load import read_document

_CASE = next((Path(__file__).parent / "review_m").glob("rm05-*.yaml"))
RM05: dict[str, Any] = read_document(_CASE)["record"]


def _with_eoc(value: float) -> dict[str, Any]:
    rec = copy.deepcopy(RM05)
    for o in rec["observations"]:
        if o.get("timepoint") == "end_of_consolidation":
            o["value"] = value
    return rec


def _adult(rec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    out = assess(parse_record(rec)).to_dict()
    group = next(r for r in out["risk"] if r["scheme"] == "adult_risk_factors")
    return out["adult_risk_factors"], group


def test_ph_positive_adult_with_bcr_abl1_0_08_percent_after_consolidation_is_not_standard() -> None:
    factors, group = _adult(_with_eoc(0.08))
    assert "mrd_positive_after_consolidation" in factors["factors"]
    assert "mrd_positive_after_induction" not in factors["factors"]  # 0.005% at EOI
    assert group["group"] == "high"
    assert group["rule_id"] == "adult.high.mrd_after_consolidation"
    assert {"S24", "S14b"} <= set(group["citations"])


def test_mrd_below_0_01_percent_after_consolidation_adds_no_factor() -> None:
    factors, group = _adult(_with_eoc(0.0))
    assert "mrd_positive_after_consolidation" not in factors["factors"]
    assert group["group"] == "standard"


def test_exactly_0_01_percent_after_consolidation_is_positive() -> None:
    factors, group = _adult(_with_eoc(0.01))
    assert "mrd_positive_after_consolidation" in factors["factors"]
    assert group["group"] == "high"


def test_the_family_guide_does_not_call_this_adult_standard_risk() -> None:
    text = render(personal_guide(parse_record(_with_eoc(0.08))))
    assert "Risk group: standard risk" not in text
