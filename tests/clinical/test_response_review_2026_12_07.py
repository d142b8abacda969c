"""The end-of-induction response after the independent review of 2026-12-07.

independent_cases/REVIEW-2026-12-07-response.md (cases ic119-ic132, 14/14 labels agree) found
five problems; each test is named after the source that fixes the answer:

- Schrappe et al., NEJM 2012;366:1371 [INDUCTION-FAILURE-2012]: induction failure is leukaemic
  blasts persisting in blood, marrow or any extramedullary site after 4 to 6 weeks.
- Buchmann et al. (Ponte di Legno), Blood 2022;139:1785 [PDL-CR-2022, TF-CONSENSUS-2022]:
  paediatric remission needs every site in remission and has no blood-count threshold.
- BMT CTN / BBMT 2010 Table 4a [S30, S30b] and the adult review [S14c] (fact sheet 4.1.1 and
  4.1.2): adult CR needs ANC >= 1.0 and platelets >= 100 x10^9/L, else CRi.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from allpath import assess, parse_record
from allpath.rules.engine import evaluate_pack
from allpath.rules.facts import Fact
from allpath.rules.loader import load_knowledge
from support import REPO, load_yaml

_CASES = REPO / "tests/clinical/independent_cases"
_SCHEMA = json.loads((REPO / "docs/schema/assessment.schema.json").read_text(encoding="utf-8"))
_CHILD_SOURCES = {"INDUCTION-FAILURE-2012", "TF-CONSENSUS-2022", "PDL-CR-2022"}


def _doc(case: str) -> dict[str, Any]:
    [path] = list(_CASES.glob(f"{case}-*.yaml"))
    record = load_yaml(path.read_text(encoding="utf-8"))["record"]
    out: dict[str, Any] = assess(parse_record(record)).to_dict()
    jsonschema.Draft202012Validator(_SCHEMA).validate(out)
    return out


def _eoi(doc: dict[str, Any]) -> dict[str, Any]:
    [r] = [r for r in doc["response"] if r["checkpoint"] == "end_of_induction"]
    return r


# ----------------------------------------------------------------- finding 2 (ic131, ic132)


def test_bmt_ctn_2010_adult_without_a_platelet_count_is_open_between_cr_and_cri() -> None:
    """ic131: a 35-year-old, M1 marrow, ANC 1.4, no platelet count within 3 days. The adult CR
    needs platelets >= 100, CRi below: the response is unknown, CR or CRi, the platelet count
    is named missing in the entry and at the top level, and the CBC that settles it is in
    tests_to_order."""
    doc = _doc("ic131")
    r = _eoi(doc)
    assert r["status"] == "unknown"
    assert r["possible"] == ["CR", "CRi"]
    assert r["missing"] == ["cp.platelets"]
    assert "cp.platelets" in r["note"] and "CR or CRi" in r["note"]
    [entry] = [m for m in doc["missing"] if m["fact"] == "cp.platelets"]
    assert entry["needed_for"] == ["response.status"]
    spec = load_knowledge().registry.get("cp.platelets")
    test = spec.settled_by if spec is not None else None
    assert test is not None and "CBC" in test
    assert entry["test"] == test and test in doc["tests_to_order"]


def test_buchmann2022_child_without_a_platelet_count_is_cr_and_no_count_is_asked() -> None:
    """ic132: a 9-year-old with an M1 marrow and no platelet count: paediatric remission has no
    count criterion, so CR, and no blood count is listed as missing."""
    doc = _doc("ic132")
    r = _eoi(doc)
    assert r["status"] == "CR" and r["rule_id"] == "response.cr.pediatric_marrow"
    assert r["possible"] == [] and r["note"] is None
    assert all(not m["fact"].startswith("cp.") for m in doc["missing"])


def test_a_missing_checkpoint_marrow_is_still_not_assessable() -> None:
    pack = load_knowledge().pack("response")
    result = evaluate_pack(pack, {"age.years": Fact(35.0, "a"), "cp.anc": Fact(1.5, "10*9/L")})[0]
    assert result.status == "decided" and result.value == "not_assessable"


# ----------------------------------------------------------------- finding 3 (ic127-ic130)


@pytest.mark.parametrize(("case", "site", "fact", "value"), [
    ("ic127", "marrow", "cp.marrow_blasts", 12.0),        # M2 at day 29
    ("ic128", "marrow", "cp.marrow_blasts", 40.0),        # M3 at day 29
    ("ic129", "blood", "cp.blood_blasts", 3.0),           # M1 marrow, blasts in the blood
    ("ic130", "extramedullary", "cp.emd", True),          # M1 marrow, CNS3 persisting
])
def test_schrappe2012_child_induction_failure_cites_the_paediatric_sources_and_names_the_site(
    case: str, site: str, fact: str, value: object
) -> None:
    doc = _doc(case)
    r = _eoi(doc)
    assert r["status"] == "refractory" and r["rule_id"] == "response.refractory"
    assert set(r["citations"]) >= _CHILD_SOURCES
    assert r["evidence"] == "confirmed"
    assert "response.refractory" not in doc["unconfirmed_evidence"]
    [failed] = r["failed_sites"]
    assert failed["site"] == site and failed["inputs"] == {fact: value}
    assert "INDUCTION-FAILURE-2012" in failed["citations"]
    assert r["note"].startswith("Not in remission: ") and site in r["note"]


def test_schrappe2012_every_site_that_failed_is_named() -> None:
    """M3 marrow, blasts in the blood and CNS disease: the three sites, in the pack's order."""
    pack = load_knowledge().pack("response")
    facts = {"age.years": Fact(16.0, "a"), "cp.marrow_blasts": Fact(40.0, "%"),
             "cp.marrow_blast_ratio": Fact(0.47, "1"), "cp.blood_blasts": Fact(5.0, "%"),
             "cp.anc": Fact(0.4, "10*9/L"), "cp.platelets": Fact(30.0, "10*9/L"),
             "cp.emd": Fact(True)}
    status, sites = evaluate_pack(pack, facts)
    assert status.value == "refractory"
    assert sites.value == ["marrow", "blood", "extramedullary"]


# ----------------------------------------------------------------- finding 4 (ic120)


def test_buchmann2022_child_with_recovered_counts_is_cr_by_the_paediatric_rule() -> None:
    """ic120: a 9-year-old, M1 marrow, ANC 1.8 and platelets 180: CR by the Ponte di Legno
    rule (not the adult BMT CTN one), the counts still reported as inputs."""
    r = _eoi(_doc("ic120"))
    assert r["status"] == "CR" and r["rule_id"] == "response.cr.pediatric_marrow"
    assert "PDL-CR-2022" in r["citations"] and "S30" not in r["citations"]
    assert r["inputs"]["cp.anc"] == 1.8 and r["inputs"]["cp.platelets"] == 180.0
    assert r["inputs"]["age.years"] < 18
    assert r["failed_sites"] == []


def test_bmt_ctn_2010_adult_with_counts_at_the_threshold_is_cr_by_the_adult_rule() -> None:
    """ic126: a 70-year-old with ANC 1.0 and platelets 100 exactly: CR (">= 1.0", ">= 100")."""
    r = _eoi(_doc("ic126"))
    assert r["status"] == "CR" and r["rule_id"] == "response.cr"
    assert {"S30", "S30b", "S14c"} <= set(r["citations"])


def test_bmt_ctn_2010_and_buchmann2022_agree_on_recovered_counts_when_the_age_is_unknown() -> None:
    pack = load_knowledge().pack("response")
    facts = {"cp.marrow_blasts": Fact(2.0, "%"), "cp.marrow_blast_ratio": Fact(0.02, "1"),
             "cp.blood_blasts": Fact(0.0, "%"), "cp.anc": Fact(1.5, "10*9/L"),
             "cp.platelets": Fact(160.0, "10*9/L"), "cp.emd": Fact(False)}
    result = evaluate_pack(pack, facts)[0]
    assert result.value == "CR" and result.rule_id == "response.cr.age_unknown"


# ----------------------------------------------------------------- finding 5 (ic123-ic125)


@pytest.mark.parametrize("case", ["ic123", "ic124", "ic125"])
def test_bmt_ctn_2010_adult_cri_cites_s30_and_s14c_and_is_confirmed(case: str) -> None:
    doc = _doc(case)
    r = _eoi(doc)
    assert r["status"] == "CRi" and r["rule_id"] == "response.cri"
    assert {"S30", "S14c"} <= set(r["citations"])
    assert r["evidence"] == "confirmed"
    assert "response.cri" not in doc["unconfirmed_evidence"]


def test_the_18th_birthday_boundary_is_still_named_an_unconfirmed_allpath_choice() -> None:
    """The CRi definition is sourced; where it starts (18) is not, and the pack says so."""
    pack = load_knowledge().pack("response")
    [cri] = [r for d in pack.pack.decisions for r in d.rules if r.id == "response.cri"]
    assert cri.note is not None and "18th birthday" in cri.note and "unconfirmed" in cri.note
    boundaries = load_yaml((REPO / "tests/clinical/boundaries.yaml").read_text())
    [age] = [b for b in boundaries["thresholds"]
             if b["pack"] == "response" and b["fact"] == "age.years"]
    assert "unconfirmed" in age["source"]


def test_the_response_pack_version_was_bumped_for_the_review() -> None:
    assert load_knowledge().pack_versions()["response"] == "1.2.0"


def test_the_reviewed_cases_are_all_present() -> None:
    assert len(list(_CASES.glob("ic1[123]*-*eoi*.yaml"))) == 14
    assert Path(_CASES / "REVIEW-2026-12-07-response.md").is_file()
