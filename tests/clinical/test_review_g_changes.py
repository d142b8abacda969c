"""Review G (2026-12-07): twelve cases on the session's own clinical changes (later relapses,
the family guide after a relapse, the ABL1 kinase-domain testing prompt, provisional
reasons), written from the sources by a reviewer who had not read ALLPath
(tests/clinical/review_g/), run as committed: the assessment's expected paths and the
phrases the family guide must and must not contain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from allpath import parse_record
from allpath.guide import personal_guide, render
from support import assessed_case, case_failures, load_yaml

_DIR = Path(__file__).parent / "review_g"
_CASES = sorted(_DIR.glob("rg*.yaml"))


def _doc(case: Path) -> dict[str, Any]:
    doc: dict[str, Any] = load_yaml(case.read_text(encoding="utf-8"))
    return doc


def _guide_failures(case: Path) -> list[str]:
    doc = _doc(case)
    if not (doc.get("guide_contains") or doc.get("guide_not_contains")):
        return []
    text = render(personal_guide(parse_record(doc["record"]))).lower()
    return ([f"guide lacks {p!r}" for p in doc.get("guide_contains") or []
             if p.lower() not in text]
            + [f"guide has {p!r}" for p in doc.get("guide_not_contains") or []
               if p.lower() in text])


@pytest.mark.parametrize("case", _CASES, ids=[c.stem for c in _CASES])
def test_review_g_case(case: Path) -> None:
    assert case_failures(case) + _guide_failures(case) == []


def test_the_twelve_review_g_cases_are_present() -> None:
    assert len(_CASES) == 12


def _case(prefix: str) -> Path:
    return next(c for c in _CASES if c.stem.startswith(prefix))


def test_ponte_di_legno_a_suspected_relapse_after_a_confirmed_one_keeps_the_confirmed_one(
) -> None:
    """rg03: confirmed late relapse, a second remission, then 9% marrow blasts with no
    confirming test [S31]: the confirmed relapse stays detected with its groups; the new one
    is suspected_next, with the test that would confirm it to order."""
    doc = assessed_case(_case("rg03")).to_dict()
    rel = doc["relapse"]
    assert (rel["detected"], rel["number"], rel["date"]) == (True, 1, "2022-06-06")
    assert rel["suspected"] is True and rel["risk"]["cog"] == "low"
    nxt = rel["suspected_next"]
    assert (nxt["number"], nxt["date"]) == (2, "2023-10-02")
    assert any("same marrow" in t for t in doc["tests_to_order"])
    assert doc["roadmap"]["start"]["date"] == "2022-06-08"


def test_a_marrow_not_in_remission_after_a_relapse_is_named_not_read_as_a_new_relapse(
) -> None:
    """rg02: 12% then 40% marrow blasts on relapse treatment, no remission between: one
    relapse, with the marrows listed as not in remission (and said so to the family)."""
    case = _case("rg02")
    rel = assessed_case(case).to_dict()["relapse"]
    assert rel["number"] == 1 and rel["previous"] == []
    assert [m["marrow_blasts"] for m in rel["not_in_remission"]] == [12.0, 40.0]
    intro = " ".join(personal_guide(parse_record(_doc(case)["record"])).intro)
    assert "still found leukemia cells" in intro


def test_nccn_refractory_at_end_of_induction_is_told_plainly_not_as_the_next_phase() -> None:
    """rg09: 15% marrow blasts at the end of induction (fact sheet 4.1.7: less than CR goes
    to the refractory pathway): the family guide says the leukemia is not in remission and
    the plan will change, never 'the next phase is usually consolidation'."""
    intro = " ".join(personal_guide(parse_record(_doc(_case("rg09"))["record"])).intro)
    assert "not in remission yet. The plan will change." in intro
    assert "next phase is usually" not in intro


def test_t_all_relapse_guide_does_not_offer_b_cell_immunotherapy() -> None:
    """rg04: blinatumomab, inotuzumab and CAR-T target B cells; after a T-ALL relapse the
    guide speaks of new medicines or a transplant only."""
    guide = personal_guide(parse_record(_doc(_case("rg04"))["record"]))
    intro = " ".join(guide.intro)
    assert "new medicines or a stem cell transplant" in intro
    assert "immunotherapy" not in intro
    assert "targeted-and-immunotherapy" not in {t.id for t in guide.topics}


def test_a_treatment_event_under_a_name_the_plan_does_not_use_stands_for_its_phases() -> None:
    """rg02: relapse treatment recorded as 'relapse_therapy' from 12 Jan 2022 (still under way):
    the blinatumomab cycles planned while it ran are not listed as starts no event records,
    nor as moved; a phase named like a planned one is still matched by its name."""
    where = assessed_case(_case("rg02")).to_dict()["where_now"]
    assert [o for o in where["overdue"] if o["kind"] == "phase"] == []
    assert "shifted" not in where
    doc = _doc(_case("rg02"))
    record = dict(doc["record"], treatment=[
        t for t in doc["record"]["treatment"] if t["phase"] != "relapse_therapy"])
    from allpath import assess

    late = assess(parse_record(record)).to_dict()["where_now"]["overdue"]
    assert any(o["kind"] == "phase" and "Blinatumomab cycle 1" in o["title"] for o in late)
