"""Template selection by the roadmap pack for the bundled examples and the shared vignettes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from allpath import assess, parse_record
from allpath.examples import example_paths
from allpath.pipeline import assess_file
from allpath.roadmap import build_roadmap, load_templates
from support import load_yaml, shared_dir

EXAMPLES = {
    "example-001": "cog-b-sr",
    "example-002": "cog-t-all",
    "example-003": "interfant",
    "example-004": "ph-pos-tki-chemo-adult",
    "example-005": "cog-b-sr",
}

VIGNETTES = {
    "p01-sr-etv6-low-risk": "cog-b-sr",
    "p02-nci-high-by-age": "cog-b-hr",
    "p03-wbc-exactly-50": "cog-b-hr",
    "p04-infant-kmt2a": "interfant",
    "p05-t-all-etp": "cog-t-all",
    "p06-adult-ph-positive": "ph-pos-tki-chemo-adult",
    "p07-cns3a": "cog-b-hr",  # CNS3 in NCI SR: high-risk template (AALL1731 excludes CNS3)
    "p08-traumatic-tap-cns2c": "cog-b-hr",
    "p09-lymphoma-not-leukemia": None,
    "p10-genetics-pending": "cog-b-sr",
    "p11-mpal-b-myeloid": None,
    "p12-iamp21": "cog-b-sr-high",
}

_SHARED = shared_dir()
_CASES = sorted((_SHARED / "vignettes" / "pathway").glob("*.yaml")) if _SHARED else []


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_bundled_example_gets_its_template(path: Path) -> None:
    rm = build_roadmap(assess_file(path))
    d = rm.to_dict()
    assert d["template"]["id"] == EXAMPLES[path.stem]
    assert d["selection"]["cite"], "the selection rule must cite its sources"
    assert d["phases"], "a chosen template is laid out on dates"


@pytest.mark.skipif(not _CASES, reason="../shared/vignettes/pathway is not present")
@pytest.mark.parametrize("case", _CASES, ids=[c.stem for c in _CASES])
def test_vignette_gets_its_template(case: Path) -> None:
    doc = load_yaml(case.read_text(encoding="utf-8"))
    rm = build_roadmap(assess(parse_record(doc["record"], source=str(case))))
    want = VIGNETTES.get(case.stem, "unlisted")
    if want == "unlisted":
        pytest.skip(f"no expected template listed for {case.stem}")
    got = rm.template.id if rm.template else None
    assert got == want


def test_genetics_pending_is_provisional() -> None:
    if not _CASES:
        pytest.skip("vignettes absent")
    case = next(c for c in _CASES if c.stem.startswith("p10"))
    doc = load_yaml(case.read_text(encoding="utf-8"))
    d = build_roadmap(assess(parse_record(doc["record"]))).to_dict()
    assert d["selection"]["provisional"] is True
    assert "genetics.fusions" in d["selection"]["missing"]


def test_ph_positive_adult_has_transplant_indication_donor_search_and_dalba_alternative() -> None:
    path = next(p for p in example_paths() if p.stem == "example-004")
    d = build_roadmap(assess_file(path)).to_dict()
    assert d["transplant"]["indicated"] is True
    assert "ph_positive" in d["transplant"]["indications"]
    assert d["transplant"]["donor_search"] is not None
    assert "ph-pos-dalba" in d["alternatives"]


def test_relapsed_setting_offers_immunotherapy_with_car_t_age_limits() -> None:
    path = next(p for p in example_paths() if p.stem == "example-001")
    a = assess_file(path)
    rm = build_roadmap(a, setting="relapsed")
    assert rm.template is not None and rm.template.id == "rr-blinatumomab"
    assert {"rr-inotuzumab", "rr-car-t", "hsct"} <= set(rm.alternatives)
    car_t = build_roadmap(a, setting="relapsed", template="rr-car-t").to_dict()
    by_label = {e["label"]: e["age_ok"] for e in car_t["eligibility"]}
    assert by_label["tisagenlecleucel"] is True  # a 4-year-old: up to 25 years
    assert by_label["brexucabtagene autoleucel"] is False  # adults only


def test_to_dict_carries_versions_disclaimer_and_flags() -> None:
    from allpath.outputs.assessment import DISCLAIMER

    path = next(p for p in example_paths() if p.stem == "example-002")
    d = build_roadmap(assess_file(path), start=dt.date(2024, 8, 20)).to_dict()
    assert d["template"]["version"] == load_templates()[d["template"]["id"]].version
    assert d["selection"]["pack"] == "roadmap"
    assert d["disclaimer"] == DISCLAIMER
    assert d["unconfirmed"], "T-ALL borrows unconfirmed phase content and must say so"
    assert d["start"] == {"date": "2024-08-20", "source": "given"}
