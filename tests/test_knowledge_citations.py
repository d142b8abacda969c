"""Knowledge files read by code outside the rule packs cite resolvable sources too."""

from __future__ import annotations

from allpath.classification.karyotype import masked_hypodiploidy_limits
from allpath.knowledge import load_yaml
from allpath.rules.loader import load_knowledge


def test_every_karyotype_table_row_and_limit_cites_a_known_source() -> None:
    doc = load_yaml("karyotype.yaml")
    citations = load_knowledge().citations
    blocks = [*doc["translocations"], doc["masked_hypodiploidy"]]
    for block in blocks:
        assert block["cite"] and all(c in citations for c in block["cite"]), block


def test_masked_hypodiploidy_limits_are_the_who_icc_hypodiploid_bands_below_40() -> None:
    # WHO-HAEM5/ICC (S21): near-haploid 24-31, low hypodiploid 32-39; a doubled clone > 46
    assert masked_hypodiploidy_limits() == (24, 39, 46)


def test_every_cross_value_plausibility_limit_cites_a_known_source() -> None:
    doc = load_yaml("plausibility.yaml")
    citations = load_knowledge().citations
    for name, limit in doc["limits"].items():
        assert limit["cite"] and all(c in citations for c in limit["cite"]), name


def test_every_citation_id_is_defined_once() -> None:
    """A second entry with the same id would silently replace the first (CDC-VARIZIG-2013
    was written twice, with different wording); scripts/build_citations.py now refuses it."""
    from collections import Counter

    import yaml

    from allpath.rules.loader import knowledge_dir

    doc = yaml.safe_load((knowledge_dir() / "citations.yaml").read_text(encoding="utf-8"))
    counts = Counter(c["id"] for c in doc["citations"])
    assert [i for i, n in counts.items() if n > 1] == []
