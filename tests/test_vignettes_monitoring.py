"""The worked cases in ../shared/vignettes/monitoring/: every expectation must hold."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from allpath import assess, parse_record
from expectations import check
from support import shared_dir

_SHARED = shared_dir()
_CASES = sorted((_SHARED / "vignettes" / "monitoring").glob("*.yaml")) if _SHARED else []


@pytest.mark.skipif(not _CASES, reason="../shared/vignettes/monitoring is not present")
@pytest.mark.parametrize("case", _CASES, ids=[c.stem for c in _CASES])
def test_monitoring_vignette_expectations_hold(case: Path) -> None:
    doc = yaml.safe_load(case.read_text(encoding="utf-8"))
    result = assess(parse_record(doc["record"], source=str(case))).to_dict()
    failures = check(result, doc["expected"])
    assert not failures, f"{case.name} ({doc['description']}):\n" + "\n".join(failures)
