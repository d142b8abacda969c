"""The worked cases in ../shared/vignettes/pathway/: every expectation must hold."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from allpath import assess, parse_record
from expectations import check
from support import shared_dir

_SHARED = shared_dir()
_CASES = sorted((_SHARED / "vignettes" / "pathway").glob("*.yaml")) if _SHARED else []


@pytest.mark.skipif(not _CASES, reason="../shared/vignettes/pathway is not present")
@pytest.mark.parametrize("case", _CASES, ids=[c.stem for c in _CASES])
def test_pathway_vignette_expectations_hold(case: Path) -> None:
    doc = yaml.safe_load(case.read_text(encoding="utf-8"))
    result = assess(parse_record(doc["record"], source=str(case))).to_dict()
    failures = check(result, doc["expected"])
    assert not failures, f"{case.name} ({doc['description']}):\n" + "\n".join(failures)


def test_expectation_reader_detects_a_wrong_value() -> None:
    doc = {"risk": [{"scheme": "nci_rome", "group": "high"}], "alerts": [{"id": "x"}]}
    assert check(doc, {"risk[scheme=nci_rome].group": "high"}) == []
    assert check(doc, {"risk[scheme=nci_rome].group": "standard"})
    assert check(doc, {"risk[scheme=cog_pdq].group": "low"})
    assert check(doc, {"alerts[].id": {"contains": "x"}}) == []
    assert check(doc, {"alerts[].id": {"not_contains": "x"}})
    assert check(doc, {"risk[scheme=nci_rome].group": {"one_of": ["low", "high"]}}) == []
