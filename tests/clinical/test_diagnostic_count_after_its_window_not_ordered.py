"""A count at diagnosis that cannot be read (ANC above WBC) is not ordered months later: a new
count cannot stand for the count at diagnosis, so the entry stays missing with ``order: false``
and a note to check the diagnostic lab report (review M, rm08). The window is the registry's
(``wbc.dx``/``anc.dx``: ``timepoint: diagnosis``, ``window: [null, 0]``), the same mechanism as
front-line time points after a relapse and overtaken MRD time points."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from allpath import assess, parse_record
from allpath.guide import personal_guide, render
from allpath.record.load import read_document

_CASE = next((Path(__file__).parent / "review_m").glob("rm08-*.yaml"))
RM08: dict[str, Any] = read_document(_CASE)["record"]


def _missing(rec: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    out = assess(parse_record(rec)).to_dict()
    return {m["fact"]: m for m in out["missing"]}, out["tests_to_order"]


def test_anc_above_wbc_at_diagnosis_is_not_ordered_seven_months_later() -> None:
    missing, order = _missing(RM08)
    for fact in ("wbc.dx", "anc.dx"):
        assert missing[fact]["order"] is False
        assert "diagnostic lab report" in missing[fact]["note"]
    assert "complete blood count at diagnosis" not in order
    assert "CBC with differential at diagnosis" not in order


def test_on_the_day_of_diagnosis_the_count_is_still_ordered() -> None:
    rec = copy.deepcopy(RM08)
    day0 = rec["diagnosis_date"]
    rec["observations"] = [o for o in rec["observations"] if str(o["time"]) == day0]
    rec["treatment"] = []
    for block in ("genetics", "immunophenotype"):
        rec[block]["time"] = day0
    rec.pop("pharmacogenomics", None)
    missing, order = _missing(rec)
    assert missing["wbc.dx"]["order"] is True
    assert missing["wbc.dx"]["note"] is None
    assert "complete blood count at diagnosis" in order


def test_the_family_guide_does_not_say_the_diagnostic_count_is_still_to_come() -> None:
    text = render(personal_guide(parse_record(RM08)))
    assert "another test the team has asked for" not in text
