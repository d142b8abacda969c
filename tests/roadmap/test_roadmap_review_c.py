"""Review C of the roadmaps (2026-12-07): ten cases written from the sources by a reviewer who
had not read ALLPath (tests/roadmap/independent_cases_c/), run as committed, and the fixes
their findings led to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from allpath import assess, parse_record
from expectations import check

_DIR = Path(__file__).parent / "independent_cases_c"
_CASES = sorted(_DIR.glob("rc*.yaml"))


def _assessed(stem_prefix: str) -> dict[str, Any]:
    path = next(p for p in _CASES if p.stem.startswith(stem_prefix))
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: dict[str, Any] = assess(parse_record(doc["record"], source=str(path))).to_dict()
    return out


@pytest.mark.parametrize("case", _CASES, ids=[c.stem for c in _CASES])
def test_review_c_roadmap_case(case: Path) -> None:
    doc = yaml.safe_load(case.read_text(encoding="utf-8"))
    result = assess(parse_record(doc["record"], source=str(case))).to_dict()
    assert check(result, doc.get("expected") or {}) == []


def test_the_ten_review_c_cases_are_present() -> None:
    assert len(_CASES) == 10


def test_nccn_infant_kmt2a_germline_continues_on_standard_consolidation_after_induction() -> None:
    """rc03: a KMT2A-germline infant (fact sheet 3.9.2, NCCN: standard paediatric B-ALL
    consolidation) - the plan follows the settled end-of-induction decision onto cog-b-sr's
    phases, not the KMT2A-r path (MARMA, OCTADAD)."""
    rm = _assessed("rc03")["roadmap"]
    assert rm["template"]["id"] == "interfant"
    ids = [(p["id"], p["template"]) for p in rm["phases"]]
    assert ids[:2] == [("prophase", "interfant"), ("induction", "interfant")]
    assert ids[2] == ("consolidation", "cog-b-sr")
    assert not any(i in ("marma", "octadad") for i, _ in ids)
    eoi = next(d for p in rm["phases"] for d in p["decisions"] if d["id"] == "eoi")
    assert [o["settled_by_record"] for o in eoi["options"]] == [True, False]


def test_interfant_kmt2a_rearranged_infant_stays_on_the_infant_path() -> None:
    """rc02: KMT2A::AFF1 infant - protocol IB, MARMA and OCTADAD follow induction."""
    ids = [p["id"] for p in _assessed("rc02")["roadmap"]["phases"]]
    assert ids[2:5] == ["consolidation", "marma", "octadad"]


def test_s1_echocardiogram_comes_before_the_first_anthracycline_even_per_protocol() -> None:
    """rc02: the infant template leaves daunorubicin to the protocol; the echocardiogram
    checkpoint is still dated before its first dose (fact sheet: echo before anthracyclines)."""
    rm = _assessed("rc02")["roadmap"]
    echo = rm["anthracyclines"]["echo"]
    assert echo is not None
    first_phase = min(p["start"] for p in rm["phases"]
                      if any(c["class"] == "anthracycline" for c in p["components"]))
    assert echo["date"] <= first_phase
