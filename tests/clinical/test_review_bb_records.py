"""Review BB (2026-12-08): eight record cases probing relapse pack 2.7.0, roadmap pack 1.6.0
and the CAR-T age check (AALL1331 ages 30 vs 31, a relapse after a transplant, morphology
under 1% with flow 1.0% vs 0.9%, a late isolated testicular relapse, a very early isolated CNS
relapse, a patient 25 at leukapheresis and 26 at infusion), written from the sources by a
reviewer who had not read the code (tests/clinical/review_bb/), run as committed. First run: 8
of 8."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import case_failures, case_params

_CASES = sorted((Path(__file__).parent / "review_bb").glob("rbb*.yaml"))
KNOWN: dict[str, str] = {}


@pytest.mark.parametrize("case", case_params(_CASES, KNOWN))
def test_review_bb_record_case(case: Path) -> None:
    assert case_failures(case) == []


def test_the_eight_review_bb_record_cases_are_present() -> None:
    assert len(_CASES) == 8


def test_tecartus_epar_limit_met_only_at_the_infusion_is_said_so() -> None:
    """rbb08: 25 at leukapheresis and 26 at infusion. Review BB: the flag said the limit was
    "crossed" for the EU products that in fact become eligible at the infusion; it now says
    which way the answer changes."""
    from support import assessed_case

    case = next(c for c in _CASES if c.stem.startswith("rbb08"))
    rows = {e["label"]: e for e in assessed_case(case).to_dict()["roadmap"]["eligibility"]}
    assert rows["tisagenlecleucel"]["age_limit_crossed"]["text"].startswith(
        "the age limit is no longer met")
    ema = rows["brexucabtagene autoleucel (EMA)"]["age_limit_crossed"]
    assert ema["text"].startswith("the age limit is met only from") and ema["met_from_then"]


def _rbb05(previous: float, sensitivity: float | None = None) -> list[dict[str, object]]:
    """rbb05 (flow MRD 0.9% in maintenance, under 1% blasts by morphology) with its
    end-of-induction MRD changed."""
    import copy

    from allpath import assess, parse_record
    from support import load_yaml

    case = next(c for c in _CASES if c.stem.startswith("rbb05"))
    doc = copy.deepcopy(load_yaml(case.read_text(encoding="utf-8"))["record"])
    for o in doc["observations"]:
        if o["code"] == "mrd_marrow" and o["time"] == "2022-05-02":
            o["value"] = previous
            if sensitivity is not None:
                o["sensitivity"] = sensitivity
    alerts: list[dict[str, object]] = assess(parse_record(doc)).to_dict()["alerts"]
    return alerts


def test_pemmaraju_2017_mrd_back_after_a_negative_result_is_an_alert() -> None:
    """Review BB: flow MRD 0.9% in maintenance after an MRD-negative end of induction gave no
    alert (below the Ponte di Legno relapse level). 80% of such recurrences were followed by a
    relapse after a median of 3 months (Pemmaraju 2017)."""
    [alert] = [a for a in _rbb05(0.0) if a["id"] == "mrd_recurrence"]
    trace = alert["trace"]
    assert isinstance(trace, dict) and "PEMMARAJU-2017-MRD" in trace["citations"]
    assert alert["severity"] == "high"


def test_mrd_that_was_never_negative_is_not_a_recurrence() -> None:
    assert "mrd_recurrence" not in [a["id"] for a in _rbb05(0.05)]


def test_a_negative_from_an_assay_coarser_than_0_01_percent_is_not_a_negative() -> None:
    """MRD-REPORT-ASH2021: 'not detected' by a 10^-3 assay says nothing about 0.01%."""
    assert "mrd_recurrence" not in [a["id"] for a in _rbb05(0.0, sensitivity=0.001)]


def test_front_line_therapy_of_a_transplant_in_first_remission_ends_with_the_transplant() -> None:
    """Review BB: after an allogeneic transplant in first remission (no maintenance), the
    relapse asked for the end date of front-line therapy that the record already gives (the
    transplant's end), so the BFM timing stayed unknown."""
    from support import assessed_case

    case = next(c for c in _CASES if c.stem.startswith("rbb03"))
    out = assessed_case(case).to_dict()
    assert out["relapse"]["timing"]["bfm"] == "late"
    assert not any("end of front-line" in t for t in out["tests_to_order"])


def test_a_relapse_is_not_missed_when_the_end_of_induction_response_was_not_assessed() -> None:
    """Review II (r12): a 68% marrow in maintenance after an end-of-induction marrow MRD of
    0.02%, with no morphology or blood counts recorded at the end of induction, gave
    'detected: false' with nothing in notes. The relapse is now read from the marrow remission
    (relapse pack table marrow_remission_below, 5%), and a note names what settles it."""
    from allpath import assess, parse_record
    from support import load_yaml

    doc = load_yaml((Path(__file__).parents[1] / "review_ii"
                     / "r12-relapse-no-eoi-blood-blasts-silent.yaml").read_text("utf-8"))
    rel = assess(parse_record(doc.get("record", doc))).to_dict()["relapse"]
    assert rel["detected"] is True and rel["site"] == "marrow"
    assert rel["notes"] and rel["notes"][0].startswith("Remission at the end of induction is "
                                                       "not settled")
