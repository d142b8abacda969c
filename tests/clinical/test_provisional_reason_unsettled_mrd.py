"""A provisional risk group never claims an MRD assumption the record contradicts: when the
MRD fact is unknown because its same-day results disagree (review I ri12: EOC flow 0.06% and
PCR 0.15%, both positive, across the NCCN T-ALL 0.1% threshold [S1]) or its assay is too
insensitive (ri09: EOI 0% at 1e-3 against COG's 0.01% [S4]; ASH 2021 MRD reporting table,
MRD-REPORT-ASH2021), the reason says that instead of "Shown as if ... MRD were negative".
A record that simply lacks the MRD keeps the pack's wording."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from allpath import assess, parse_record
from support import load_yaml

_REVIEW_I = Path(__file__).parent / "review_i"


def _record(prefix: str) -> dict[str, Any]:
    [path] = sorted(_REVIEW_I.glob(f"{prefix}-*.yaml"))
    doc: dict[str, Any] = load_yaml(path.read_text(encoding="utf-8"))
    return copy.deepcopy(doc["record"])


def _reason(record: dict[str, Any], scheme: str) -> str:
    doc = assess(parse_record(record)).to_dict()
    [r] = [r for r in doc["risk"] if r["scheme"] == scheme]
    assert r["provisional"] is True
    return str(r["provisional_reason"])


def test_ri12_reason_says_the_same_day_results_disagree_not_that_mrd_were_negative() -> None:
    reason = _reason(_record("ri12"), "t_all_nccn_pediatric")
    assert "were negative" not in reason
    assert reason.startswith("End-of-consolidation marrow MRD of 2023-04-10 is unknown")
    assert "both sides of 0.1%" in reason
    assert "0.06% by flow" in reason and "0.15% by pcr" in reason
    assert "treating team decides" in reason


def test_ri09_reason_says_the_assay_could_not_show_a_level_below_0_01_percent() -> None:
    for scheme in ("cog_pdq", "aall1731"):
        reason = _reason(_record("ri09"), scheme)
        assert "end-of-induction marrow MRD were negative" not in reason
        assert "0% by flow at sensitivity 0.001 cannot show a level below 0.01%" in reason
        assert "sensitivity of 0.0001 or better" in reason


def test_an_mrd_not_done_keeps_the_packs_shown_as_if_wording() -> None:
    record = _record("ri09")
    record["observations"] = [o for o in record["observations"]
                              if o.get("timepoint") != "end_of_induction"]
    assert _reason(record, "cog_pdq") == ("Shown as if end-of-induction marrow MRD were "
                                          "negative; the groups still possible come first.")


def test_other_assumptions_are_still_named_beside_an_unsettled_mrd() -> None:
    """ri09 without its day-8 blood MRD: the day-8 assumption is still stated."""
    record = _record("ri09")
    record["observations"] = [o for o in record["observations"]
                              if o.get("timepoint") != "day8"]
    reason = _reason(record, "cog_pdq")
    assert "shown as if day-8 blood MRD were negative" in reason
    assert "end-of-induction marrow MRD were negative" not in reason
    assert "cannot show a level below 0.01%" in reason
