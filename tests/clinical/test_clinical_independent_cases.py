"""Every independent worked case (tests/clinical/independent_cases/, issue 11 review).

Each case was written from a published source by a reviewer who had not seen ALLPath's code;
its `expected` block uses the shared-vignette path syntax (tests/expectations.py). A case that
ALLPath's maintainers believe is wrong stays here as a strict xfail whose reason cites the
source; the expectation is still run, so a change that makes it pass is noticed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from allpath import assess, parse_record
from expectations import check
from support import load_yaml

_DIR = Path(__file__).parent / "independent_cases"
_CASES = (sorted(_DIR.glob("ic*.yaml")) + sorted(_DIR.glob("rb*.yaml"))  # rb: review B
          + sorted(_DIR.glob("rp*.yaml"))  # rp: review D
          + sorted(_DIR.glob("re*.yaml")))  # re: review E

_STEROIDS = (
    "The record does not state steroid pretreatment, which COG counts for B-ALL as it does for "
    "T-ALL (NCCN Pediatric ALL [S1] standard-risk T-ALL needs 'no steroid pre-treatment'; "
    "steroids before diagnosis place an NCI standard-risk child in the high-risk group "
    "[STEROID-PRETX]; the AALL1731 DS-High abstract cited by the case itself lists steroid "
    "pretreatment as a high-risk feature). ALLPath gives the group as pending with "
    "provisional_group equal to the case's answer and asks for the steroid history; it does "
    "not assume 'none' (issue 11 items 4 and 15)."
)

_SUSPECTED = (
    "Naming only: a suspected relapse is reported as detected: null (a boolean field, "
    "docs/output-format.md) with suspected: true and what would confirm it; it is never "
    "'no relapse' (Ponte di Legno [S31]: 5-<25% blasts need one other test at 1% or more, "
    "else a second marrow)."
)

# case stem -> reason (citing the source) why the case's expectation is believed wrong.
DISPUTED: dict[str, str] = {
    **dict.fromkeys((
        "ic01-girl-etv6-low-no-testis-field", "ic02-girl-neutral-average",
        "ic04-girl-double-trisomy-average", "ic06-girl-cns2-neutral-sr-high",
        "ic30-boy-45-chromosomes-neutral", "ic31-girl-44-chromosomes-neutral",
        "ic32-boy-43-high-hypodiploid", "ic33-girl-36-low-hypodiploid",
        "ic34-boy-27-near-haploid", "ic35-girl-31-haploid-boundary",
        "ic36-boy-40-high-hypodiploid"), _STEROIDS),
    "ic15-girl-11-months-infant": (
        "NCCN infant risk [S1, fact sheet 3.9.2]: a KMT2A-r infant is high risk when MRD is "
        "positive after intensive consolidation; until that MRD is known 'intermediate' is the "
        "best case, so ALLPath shows the range (induction_failure, high, intermediate: the "
        "end-of-induction marrow is not recorded either) with provisional_group "
        "'intermediate' (issue 11 item 15)."),
    "rp13-t-all-8y-eoc-mrd-exactly-0.1-high-then-off-therapy": (
        "Boundary side, sources disagree: issue 11 item 11 and the AALL1231 report read T-ALL "
        "very high risk as end-of-consolidation MRD >= 0.1% [AALL1231]; the NCCN Pediatric "
        "wording quoted by the reviewer is '> 0.1%' [S1]. ALLPath keeps the AALL1231 side "
        "(its rule note says so); the reviewer's own AALL1231 abstract also writes '>= 0.1%'."),
    "rp04-infant-4m-kmt2a-aff1-prognosis": (
        "The reviewer's own verdict after running: NCCN infant high risk also counts KMT2A-r "
        "with MRD positive after intensive consolidation [S1, fact sheet 3.9.2], so without "
        "that MRD the group is pending (provisional intermediate), as ALLPath shows."),
    "ic39-ds-boy-51-with-constitutional-21": (
        "Naming only: with +21c not counted the blasts have 50 acquired chromosomes, low "
        "hyperdiploid (47-50 [S13c]); ALLPath's subtype key names that band "
        "(low_hyperdiploid) and its WHO-HAEM5 name is 'B-lymphoblastic leukaemia/lymphoma, "
        "NOS' - the case's point (not high hyperdiploid) holds."),
    "ic52-boy-isolated-testicular-late": (
        "Isolated testicular relapse needs biopsy-proven infiltration [S31b, fact sheet 3.7]; "
        "the record has only the symptom 'testicular_swelling' (its own confidence note says "
        "the site may come out unknown). The biopsy is recorded as observation code "
        "testicular_biopsy (present/absent); with it the site is isolated_testicular "
        "(tests/clinical/test_relapse.py). The swelling alone is read as a suspected "
        "testicular relapse that names the biopsy (its onset dates the work-up)."),
    **dict.fromkeys((
        "ic63-girl-marrow-12pct-unconfirmed", "ic64-boy-16y-marrow-20pct-unconfirmed",
        "ic65-girl-marrow-8pct-flow-0.5"), _SUSPECTED),
}


# Naming-only disputes, decided: ALLPath keeps its own names (documented in
# docs/output-format.md) and each case's answer is checked again in ALLPath's words, so the
# substance of the case is a passing test while its raw wording stays a strict xfail.
#   ic39: the subtype key names the ploidy band (low_hyperdiploid, 47-50 chromosomes [S13c]);
#         the WHO-HAEM5 name is 'B-lymphoblastic leukaemia/lymphoma, NOS', which is the case's
#         'NOS'.
#   ic63-ic65: relapse.detected is a boolean field; a suspected relapse is detected null with
#         suspected true and the confirming test in tests_to_order, which is the case's
#         'suspected'.
NAMING: dict[str, dict[str, object]] = {
    "ic39-ds-boy-51-with-constitutional-21": {
        "diagnosis.subtype.key": "low_hyperdiploid",
        "diagnosis.subtype.who_haem5": "B-lymphoblastic leukaemia/lymphoma, NOS",
    },
    **{stem: {"relapse.detected": None, "relapse.suspected": True, "relapse.site": None}
       for stem in ("ic63-girl-marrow-12pct-unconfirmed",
                    "ic64-boy-16y-marrow-20pct-unconfirmed", "ic65-girl-marrow-8pct-flow-0.5")},
}
_NAMED_KEYS = {"ic39-ds-boy-51-with-constitutional-21": ("diagnosis.subtype.key",)}


@pytest.mark.parametrize("stem", sorted(NAMING))
def test_naming_only_disputes_hold_in_allpath_words(stem: str) -> None:
    case = _DIR / f"{stem}.yaml"
    doc = load_yaml(case.read_text(encoding="utf-8"))
    result = assess(parse_record(doc["record"], source=str(case))).to_dict()
    replaced = _NAMED_KEYS.get(stem, ("relapse.detected",))
    expected = {k: v for k, v in (doc.get("expected") or {}).items() if k not in replaced}
    expected.update(NAMING[stem])
    assert check(result, expected) == []
    if "relapse.suspected" in NAMING[stem]:
        assert result["relapse"]["confirm_with"]
        assert any("marrow" in t for t in result["tests_to_order"])


def test_every_naming_dispute_is_a_disputed_case() -> None:
    assert set(NAMING) <= set(DISPUTED)


def test_the_independent_cases_are_present() -> None:
    assert len(_CASES) >= 60


def _run(case: Path) -> list[str]:
    doc = load_yaml(case.read_text(encoding="utf-8"))
    result = assess(parse_record(doc["record"], source=str(case))).to_dict()
    failures = check(result, doc.get("expected") or {})
    return [f"{case.name} ({doc['description']}):"] + failures if failures else []


_PARAMS = [
    pytest.param(c, id=c.stem, marks=pytest.mark.xfail(reason=DISPUTED[c.stem], strict=True))
    if c.stem in DISPUTED else pytest.param(c, id=c.stem)
    for c in _CASES
]


@pytest.mark.parametrize("case", _PARAMS)
def test_independent_case_expectations_hold(case: Path) -> None:
    failures = _run(case)
    assert not failures, "\n".join(failures)


def test_every_disputed_case_exists() -> None:
    stems = {c.stem for c in _CASES}
    assert set(DISPUTED) <= stems


_STEROID_CASES = [c for c in _CASES if DISPUTED.get(c.stem) == _STEROIDS]


@pytest.mark.parametrize("case", _STEROID_CASES, ids=[c.stem for c in _STEROID_CASES])
def test_disputed_steroid_cases_give_the_case_answer_once_steroids_are_ruled_out(
        case: Path) -> None:
    """Without the steroid history the group is pending and asks for it; with 'no steroids'
    added, every expectation of the case holds."""
    doc = load_yaml(case.read_text(encoding="utf-8"))
    pending = assess(parse_record(doc["record"], source=str(case))).to_dict()
    assert any(m["fact"] == "steroid_pretreatment" for m in pending["missing"])
    record = dict(doc["record"], steroid_pretreatment=False)
    result = assess(parse_record(record, source=str(case))).to_dict()
    assert check(result, doc.get("expected") or {}) == []
