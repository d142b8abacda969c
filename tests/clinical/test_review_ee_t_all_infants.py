"""Review EE (2026-12-08): ten children with T-ALL and infants, classification to roadmap,
written from the sources by a reviewer who had not read the code (tests/clinical/review_ee/),
run as committed. First run: 3 of 10 (after the reviewer's own path slip). Fixed after it:
AALL0434's low-risk group is decided (risk.aall0434_low; risk pack 2.10.0), so nelarabine and
12 Gy cranial radiation are given or not given instead of "if intermediate or high risk"
(ree02, ree04), and a CNS3 T-ALL gets AALL0434's high-dose methotrexate interim maintenance
(cog-t-all 3.2.0; ree05). The roadmap's modifications now include those of a template the
plan continues on (the Down syndrome note of the standard-risk backbone after Interfant;
ree10)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from allpath import assess, parse_record
from support import case_failures, case_params, load_yaml

_DIR = Path(__file__).parent / "review_ee"
_CASES = sorted(_DIR.glob("ree*.yaml"))

KNOWN: dict[str, str] = {
    "ree01-boy-5-t-all-nccn-standard-aall0434-low-risk-no-nelarabine-no-crt": (
        "The record has no day-15 marrow, which AALL0434's low-risk definition needs (a rapid "
        "early response with an M1 marrow on day 15, S12-T1): low risk stays open, with the "
        "day-15 marrow named, so nelarabine and 12 Gy stay 'if'. With an M1 day-15 marrow "
        "added the case's answer holds: "
        "test_aall0434_low_risk_with_a_day_15_marrow_gets_no_nelarabine_and_no_12_gy."),
    "ree03-boy-16-t-all-eoc-mrd-exactly-0-1-pct-nccn-high-aall1231-vhr-nelarabine-650": (
        "Boundary side, sources differ (asked of the user): end-of-consolidation MRD exactly "
        "0.1% is very high risk by AALL1231 (>= 0.1%), the side ALLPath takes, and high by NCCN "
        "as the fact sheet reads it (> 0.1%); the transplant indication follows the group."),
    "ree07-boy-10-t-lymphoblastic-lymphoma-mediastinal-mass-marrow-8-pct-t-all-backbone-no-crt": (
        "Documented choice: a lymphoblastic lymphoma gets no ALL roadmap (roadmap.template is "
        "not applicable without a diagnosis of ALL; the team decides). The reviewer (medium "
        "confidence) reads AALL0434/AALL1231 and NCCN as treating T-lymphoblastic lymphoma on "
        "the T-ALL backbone; the lymphoma presentation, lineage, M2 marrow and airway alert "
        "are met."),
}


@pytest.mark.parametrize("case", case_params(_CASES, KNOWN))
def test_review_ee_case(case: Path) -> None:
    assert case_failures(case) == []


def test_the_ten_review_ee_cases_are_present() -> None:
    assert len(_CASES) == 10
    assert set(KNOWN) <= {c.stem for c in _CASES}


def _record(prefix: str) -> dict[str, Any]:
    case = next(c for c in _CASES if c.stem.startswith(prefix))
    doc: dict[str, Any] = copy.deepcopy(load_yaml(case.read_text(encoding="utf-8"))["record"])
    return doc


def _phase(out: dict[str, Any], phase: str) -> dict[str, Any]:
    [p] = [p for p in out["roadmap"]["phases"] if p["id"] == phase]
    return p


def test_aall0434_low_risk_with_a_day_15_marrow_gets_no_nelarabine_and_no_12_gy() -> None:
    doc = _record("ree01")
    day29 = next(o for o in doc["observations"] if o["code"] == "marrow_blasts"
                 and o.get("timepoint") == "end_of_induction")
    start = next(t["start"] for t in doc["treatment"] if t["phase"] == "induction")
    import datetime as dt
    day15 = (dt.date.fromisoformat(str(start)) + dt.timedelta(days=14)).isoformat()
    doc["observations"].append({**day29, "time": day15, "value": 1, "timepoint": "day15"})
    out = assess(parse_record(doc)).to_dict()
    cons = _phase(out, "consolidation")
    assert "nelarabine" in [c["drug"] for c in cons["not_given"]]
    titles = [p["title"] for p in cons["procedures"]]
    assert not any(t.startswith("Cranial radiotherapy 12 Gy") for t in titles)


@pytest.mark.parametrize("prefix", ["ree02", "ree04"])
def test_dunsmore_2020_aall0434_not_low_risk_gets_nelarabine(prefix: str) -> None:
    cons = _phase(assess(parse_record(_record(prefix))).to_dict(), "consolidation")
    [nel] = [c for c in cons["components"] if c["drug"] == "nelarabine"]
    assert nel["applies"]["decided"] is True


def test_aall0434_cns3_t_all_gets_high_dose_methotrexate_interim_maintenance() -> None:
    im = _phase(assess(parse_record(_record("ree05"))).to_dict(), "interim_maintenance")
    drugs = [c["drug"] for c in im["components"]]
    assert "leucovorin" in drugs and "pegaspargase" not in drugs


def test_a_continued_templates_down_syndrome_note_is_shown_from_its_first_phase() -> None:
    out = assess(parse_record(_record("ree10"))).to_dict()
    rows = [m for m in out["roadmap"]["modifications"]["applies"]
            if "Down syndrome" in m["label"]]
    assert rows and rows[0]["template"] == "cog-b-sr"
    assert rows[0]["from"] is not None


def test_a_day_15_marrow_is_not_ordered_once_its_window_has_closed() -> None:
    """ree01 is assessed after the end of consolidation: the day-15 marrow that AALL0434's
    low risk needs is named as missing, but not ordered (a marrow now cannot show the day-15
    response)."""
    out = assess(parse_record(_record("ree01"))).to_dict()
    [miss] = [m for m in out["missing"] if m["fact"] == "marrow_blasts.d15"]
    assert miss["order"] is False and "has passed" in miss["note"]
    assert not any("day 15" in t for t in out["tests_to_order"])
