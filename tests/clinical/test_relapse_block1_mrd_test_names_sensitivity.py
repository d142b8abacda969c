"""An end-of-block-1 relapse MRD too coarse for the relapse pack's 0.1% threshold is asked for
again with the sensitivity that settles it, as the front-line MRD tests are (review M probe;
commit 0a08e90 did it for front-line). Source of the threshold: the relapse pack (COG relapse
risk, end-of-block-1 MRD 0.1%); a result can settle it only with a sensitivity of 1e-3 or better
(ASH 2021 MRD reporting, MRD-REPORT-ASH2021)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from allpath import assess, parse_record
from allpath.record.load import read_document

_CASE = next((Path(__file__).parent / "independent_cases").glob("ic147-*.yaml"))
IC147: dict[str, Any] = read_document(_CASE)["record"]


def _block1(sensitivity: float) -> dict[str, Any]:
    rec = copy.deepcopy(IC147)
    [row] = [o for o in rec["observations"] if o.get("timepoint") == "end_of_block1"]
    row.update(value=0, sensitivity=sensitivity)
    return rec


def test_a_1e_2_block1_mrd_is_reordered_with_the_sensitivity_that_settles_it() -> None:
    doc = assess(parse_record(_block1(1e-2))).to_dict()
    [entry] = [m for m in doc["missing"] if m["fact"] == "rel.mrd_end_block1"]
    assert entry["test"] == ("marrow MRD at the end of the first relapse block by an assay "
                             "with a sensitivity of 0.001 (0.1%) or better")
    assert entry["order"] is True
    assert entry["test"] in doc["tests_to_order"]
    assert "marrow MRD at the end of the first relapse block" not in doc["tests_to_order"]


def test_a_1e_4_block1_mrd_is_not_missing() -> None:
    doc = assess(parse_record(_block1(1e-4))).to_dict()
    assert all(m["fact"] != "rel.mrd_end_block1" for m in doc["missing"])
