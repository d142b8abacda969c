"""The family guide for an MRD test that was done but cannot settle the risk group
(allpath.findings.mrd): review I ri09 (end-of-induction MRD 0% by an assay with sensitivity
1e-3, too coarse for the 0.01% threshold [S4]; ASH 2021 MRD reporting table,
MRD-REPORT-ASH2021) and ri12 (flow 0.06% and PCR 0.15% on one end-of-consolidation marrow,
on both sides of the T-ALL 0.1% threshold [S1]). The guide says the test was done and why it
cannot settle the group, in plain words at or under grade 8, never that it is still to
come."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from allpath import parse_record
from allpath.guide import personal_guide, render
from allpath.guide.core import MRD_TEST_WORDS, UNSETTLED_WORDS
from allpath.guide.readability import cmu_syllables, score
from support import load_yaml

_REVIEW_I = Path(__file__).parents[1] / "clinical" / "review_i"
GRADE_LIMIT = 8.0  # project brief: about 8th grade


def _record(prefix: str) -> dict[str, Any]:
    [path] = sorted(_REVIEW_I.glob(f"{prefix}-*.yaml"))
    doc: dict[str, Any] = load_yaml(path.read_text(encoding="utf-8"))
    return copy.deepcopy(doc["record"])


def _about_now(record: dict[str, Any]) -> str:
    text = render(personal_guide(parse_record(record)))
    start = text.index("About your child now")
    return text[start:text.index("\n\n", text.index("Research studies", start))]


def test_ri09_guide_says_the_eoi_marrow_test_was_done_but_could_not_measure_low_enough() -> None:
    about = _about_now(_record("ri09"))
    assert "The marrow test at the end of induction was done." in about
    assert "could not measure low enough" in about
    assert "more sensitive test" in about
    assert "end of induction is still to come" not in about
    assert ("Still to come: a repeat of the marrow test at the end of induction with a more "
            "sensitive lab test.") in about


def test_ri12_guide_says_two_lab_methods_disagree_and_the_team_decides() -> None:
    about = _about_now(_record("ri12"))
    assert "The marrow test at the end of consolidation was done." in about
    assert "Two lab methods checked the same sample and gave different answers." in about
    assert "The team will decide" in about
    assert "still to come" not in about.lower()


def test_an_eoi_mrd_not_recorded_is_still_to_come_during_induction() -> None:
    record = _record("ri09")
    record["observations"] = [o for o in record["observations"]
                              if o.get("timepoint") != "end_of_induction"]
    record["treatment"] = [e for e in record["treatment"] if e["phase"] == "induction"]
    about = _about_now(record)
    assert "The marrow test at the end of induction is still to come." in about
    assert "was done" not in about


def test_an_eoi_mrd_not_recorded_once_consolidation_started_is_not_in_the_record() -> None:
    record = _record("ri09")  # consolidation started 6 May 2025 (review N finding 6)
    record["observations"] = [o for o in record["observations"]
                              if o.get("timepoint") != "end_of_induction"]
    about = _about_now(record)
    assert ("The result of the marrow test at the end of induction is not in the record. Ask "
            "the team for it.") in about
    assert "end of induction is still to come" not in about
    assert "was done" not in about


def test_the_mrd_not_settled_sentences_are_at_or_under_grade_8() -> None:
    cmu = cmu_syllables()
    for words in UNSETTLED_WORDS.values():
        for test in MRD_TEST_WORDS.values():
            assert score(words.format(test=test), cmu).grade <= GRADE_LIMIT
    for prefix in ("ri09", "ri12"):
        assert score(_about_now(_record(prefix)), cmu).grade <= GRADE_LIMIT
