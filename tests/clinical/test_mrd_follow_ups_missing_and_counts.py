"""Follow-ups of the MRD sensitivity reading (review I ri09, ri03): the test to order for an
MRD time point measured by a too-insensitive assay names the sensitivity that settles it
(the threshold the packs compare the fact with, 0.01% [S4]; ASH 2021 MRD reporting table,
MRD-REPORT-ASH2021), while an MRD simply not done keeps the generic test text; and a same-day
ANC above the WBC after diagnosis (ri03's maintenance visit) is named in the notes with both
values and the date (docs/record-format.md, values checked against each other)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from allpath import assess, parse_record
from allpath.rules.loader import load_knowledge
from support import load_yaml

_REVIEW_I = Path(__file__).parent / "review_i"


def _record(prefix: str) -> dict[str, Any]:
    [path] = sorted(_REVIEW_I.glob(f"{prefix}-*.yaml"))
    doc: dict[str, Any] = load_yaml(path.read_text(encoding="utf-8"))
    return copy.deepcopy(doc["record"])


def _assess(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = assess(parse_record(record)).to_dict()
    return out


def _generic_eoi_test() -> str:
    spec = load_knowledge().registry.get("mrd.eoi_marrow")
    assert spec is not None and spec.settled_by
    return spec.settled_by


def test_ri09_test_to_order_names_the_sensitivity_that_settles_the_eoi_mrd() -> None:
    doc = _assess(_record("ri09"))
    [miss] = [m for m in doc["missing"] if m["fact"] == "mrd.eoi_marrow"]
    assert miss["test"] == (f"{_generic_eoi_test()} by an assay with a sensitivity of "
                            "0.0001 (0.01%) or better")
    assert miss["test"] in doc["tests_to_order"]
    assert _generic_eoi_test() not in doc["tests_to_order"]


def test_an_eoi_mrd_not_done_keeps_the_generic_test_text() -> None:
    record = _record("ri09")
    record["observations"] = [o for o in record["observations"]
                              if o.get("timepoint") != "end_of_induction"]
    doc = _assess(record)
    [miss] = [m for m in doc["missing"] if m["fact"] == "mrd.eoi_marrow"]
    assert miss["test"] == _generic_eoi_test()


def test_ri12_discordant_eoc_mrd_keeps_the_generic_test_text() -> None:
    """Same-day methods that disagree are not a sensitivity problem: no sensitivity named."""
    doc = _assess(_record("ri12"))
    [miss] = [m for m in doc["missing"] if m["fact"] == "mrd.eoc_marrow"]
    assert "sensitivity" not in miss["test"]


def test_ri03_maintenance_anc_above_wbc_is_named_in_notes_with_both_values_and_date() -> None:
    doc = _assess(_record("ri03"))
    [note] = [n for n in doc["notes"] if "is above WBC" in n]
    assert "ANC 4.2 x10^9/L" in note and "WBC 3.1 x10^9/L" in note
    assert "2024-02-09" in note
    assert "observations[31]" in note and "observations[30]" in note


def test_counts_with_anc_below_wbc_give_no_anc_above_wbc_note() -> None:
    record = _record("ri03")
    for o in record["observations"]:
        if o["code"] == "anc" and o["time"] == "2024-02-09":
            o["value"] = 2.0
    assert not [n for n in _assess(record)["notes"] if "is above WBC" in n]


def test_a_diagnostic_anc_above_wbc_is_named_once() -> None:
    record = _record("ri03")
    for o in record["observations"]:
        if o["code"] == "anc" and o["time"] == "2023-03-06":
            o["value"] = 40.0
    notes = [n for n in _assess(record)["notes"] if "is above WBC" in n and "40" in n]
    assert len(notes) == 1
