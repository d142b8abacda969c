"""Possible masked hypodiploidy: a clone above 46 chromosomes whose every gain is a
tetrasomy and none a trisomy, seen alone, is the doubled form of a near-haploid or
low-hypodiploid clone as often as not (Carroll et al. 2019, COG AALL03B1: 28 of 115
hypodiploid cases showed only the doubled clone, with the hypodiploid outcome; Safavi and
Paulsson 2017 [S15]). Until a DNA index or SNP array settles it, its count is read as
itself or its half: the ploidy band, the subtype and the groups that hang on them stay open,
and its tetrasomies are not read as trisomies (review S, rs2-02, and the probe beside it)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from allpath import assess, parse_record
from support import load_yaml

_CASE = next((Path(__file__).parent / "review_s").glob("rs2-02-*.yaml"))
_RECORD: dict[str, Any] = load_yaml(_CASE.read_text(encoding="utf-8"))["record"]


def _assess(karyotype: str, count: int | None = None) -> dict[str, Any]:
    record = copy.deepcopy(_RECORD)
    record["genetics"]["karyotype"] = karyotype
    if count is not None:
        record["genetics"]["chromosome_count"] = count
    out: dict[str, Any] = assess(parse_record(record)).to_dict()
    return out


def _risk(doc: dict[str, Any], scheme: str) -> dict[str, Any]:
    [r] = [r for r in doc["risk"] if r["scheme"] == scheme]
    return r


def test_a_doubled_near_haploid_clone_is_never_called_favourable_high_hyperdiploid() -> None:
    doc = _assess("52,XX,+14,+14,+18,+18,+21,+21[14]/46,XX[6]")
    subtype = doc["diagnosis"]["subtype"]
    assert (subtype["key"], subtype["prognosis"], subtype["cog_genetics"]) == (
        "unknown", "unknown", "unknown")
    assert {p["band"] for p in subtype["ploidy"]} == {"unknown"}
    assert "DNA index or SNP array (possible masked hypodiploidy)" in doc["tests_to_order"]
    [note] = [n for n in doc["notes"] if "masked hypodiploidy" in n]
    assert "52 or 26" in note
    cog = _risk(doc, "cog_pdq")
    assert cog["group"] == "unknown" and "genetics.chromosome_count" in cog["missing"]


def test_doubled_tetrasomies_4_and_10_are_not_a_double_trisomy() -> None:
    """The probe beside rs2-02: with +4,+4,+10,+10 the doubled clone was read as double
    trisomy 4 and 10 and the girl became COG low and AALL1731 SR-Favourable (the
    chemotherapy-only arm). Neither may be given while hypodiploidy is possible."""
    doc = _assess("54,XX,+4,+4,+10,+10,+14,+14,+18,+18[14]/46,XX[6]")
    trace = {t["output"]: t["value"] for t in doc["trace"]}
    assert trace.get("genetics.double_trisomy_4_10") is not True
    assert _risk(doc, "cog_pdq")["group"] != "low"
    assert _risk(doc, "aall1731")["group"] != "sr_favorable"


def test_a_count_given_beside_the_doubled_karyotype_is_read_the_same_way() -> None:
    doc = _assess("52,XX,+14,+14,+18,+18,+21,+21[14]/46,XX[6]", count=52)
    assert doc["diagnosis"]["subtype"]["key"] == "unknown"
    assert "DNA index or SNP array (possible masked hypodiploidy)" in doc["tests_to_order"]


def test_a_high_hyperdiploid_clone_with_trisomies_is_read_as_written() -> None:
    """Trisomies (one extra copy each) are the usual high-hyperdiploid pattern: no masking."""
    doc = _assess("55,XX,+X,+4,+6,+10,+14,+17,+18,+21,+21[20]")
    assert doc["diagnosis"]["subtype"]["key"] == "high_hyperdiploid"
    assert not [n for n in doc["notes"] if "masked hypodiploidy" in n]
    assert not any("masked" in t for t in doc["tests_to_order"])
