"""CD19 CAR-T product limits are checked against the age on the day the CAR-T plan starts, in
every plan that reaches it (review Z, tests/roadmap/review_z/: rvz05, rvz06).

- Kymriah (tisagenlecleucel): US label "patients up to 25 years of age" [S29]; EU SmPC "up to
  and including 25 years of age" [KYMRIAH-SMPC]: eligible until the 26th birthday, judged when
  the product is given, not at diagnosis.
- Tecartus (brexucabtagene autoleucel): FDA adults 18 and over [S29b]; EMA EPAR adults 26 and
  older [TECARTUS-EMA].
- Blincyto: no remission after the two induction cycles goes on to CAR-T [BLINCYTO-DOSING];
  the continued plan names the products' limits as a plan asked for CAR-T directly does.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from allpath import assess, parse_record
from allpath.roadmap import build_roadmap
from support import case_failures, load_yaml

_DIR = Path(__file__).parent / "review_z"


def _case(prefix: str) -> Path:
    return next(_DIR.glob(f"{prefix}-*.yaml"))


def _record(prefix: str, birth_date: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(
        load_yaml(_case(prefix).read_text(encoding="utf-8"))["record"])
    if birth_date is not None:
        doc["birth_date"] = birth_date
    return doc


def _roadmap(doc: dict[str, Any]) -> dict[str, Any]:
    rm: dict[str, Any] = assess(parse_record(doc)).to_dict()["roadmap"]
    return rm


def _by_label(rm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["label"]: e for e in rm["eligibility"]}


def _car_t_start(rm: dict[str, Any]) -> str:
    return next(str(p["start"]) for p in rm["phases"] if p["template"] == "rr-car-t")


@pytest.mark.parametrize("prefix", ["rvz05", "rvz06"])
def test_review_z_car_t_case_as_committed(prefix: str) -> None:
    assert case_failures(_case(prefix)) == []


@pytest.mark.parametrize("prefix", ["rvz05", "rvz06"])
def test_blincyto_label_plan_continued_into_car_t_carries_its_eligibility(prefix: str) -> None:
    """After two blinatumomab cycles without remission the plan goes on to rr-car-t; its
    eligibility is filled from rr-car-t, dated on the first CAR-T phase (leukapheresis)."""
    rm = _roadmap(_record(prefix))
    assert rm["template"]["id"] == "rr-blinatumomab"
    assert rm["eligibility"], "the continued CAR-T plan names no product limits"
    start = _car_t_start(rm)
    for e in rm["eligibility"]:
        assert (e["template"], e["phase"], e["on"]) == ("rr-car-t", "collection", start)
        assert e["age_ok"] is not None


def test_a_plan_that_never_reaches_car_t_names_no_car_t_limits() -> None:
    """rvz03 stays on blinatumomab: no CAR-T phase, so no product limits to check."""
    rm = _roadmap(_record("rvz03"))
    assert all(p["template"] != "rr-car-t" for p in rm["phases"])
    assert rm["eligibility"] == []


def test_kymriah_label_age_on_the_car_t_start_not_at_diagnosis_rvz06() -> None:
    """rvz06: 22.5 at diagnosis, 26.5 when CAR-T starts: tisagenlecleucel does not fit."""
    rm = _roadmap(_record("rvz06"))
    kym = _by_label(rm)["tisagenlecleucel"]
    assert kym["age_ok"] is False
    assert kym["on"] == "2026-08-27"
    assert kym["age_years"] == pytest.approx(26.46, abs=0.01)


def test_kymriah_label_24_7_at_diagnosis_and_28_6_at_car_t_does_not_fit() -> None:
    """The reviewer's variant of rvz06 (birth date only): 24.7 at diagnosis (2022-09-05) is
    within the label, 28.69 on the CAR-T start (2026-08-27) is not."""
    rm = _roadmap(_record("rvz06", birth_date="1997-12-20"))
    kym = _by_label(rm)["tisagenlecleucel"]
    assert kym["age_ok"] is False
    assert kym["age_years"] == pytest.approx(28.69, abs=0.005)


def test_kymriah_smpc_up_to_and_including_25_rvz05() -> None:
    """rvz05: 25.3 when CAR-T starts, within "up to and including 25 years of age"."""
    kym = _by_label(_roadmap(_record("rvz05")))["tisagenlecleucel"]
    assert kym["age_ok"] is True
    assert kym["age_years"] == pytest.approx(25.28, abs=0.01)


@pytest.mark.parametrize(("start", "fits"), [(dt.date(2027, 6, 14), True),
                                             (dt.date(2027, 6, 15), False)])
def test_kymriah_smpc_eligible_until_the_26th_birthday(start: dt.date, fits: bool) -> None:
    """rvz05's man (born 2001-06-15), CAR-T asked for directly: the day before his 26th
    birthday he is 25 (fits); on it he is 26 (does not)."""
    a = assess(parse_record(_record("rvz05")))
    rm = build_roadmap(a, start, setting="relapsed", template="rr-car-t").to_dict()
    kym = _by_label(rm)["tisagenlecleucel"]
    assert (kym["on"], kym["age_ok"]) == (start.isoformat(), fits)


def test_kymriah_limit_crossed_between_apheresis_and_infusion_is_said() -> None:
    """25.96 at leukapheresis (2027-06-01), 26.04 when the infusion phase starts 28 days later:
    the check stays on the first CAR-T day and names the phase by which the limit is passed."""
    a = assess(parse_record(_record("rvz05")))
    rm = build_roadmap(a, dt.date(2027, 6, 1), setting="relapsed",
                       template="rr-car-t").to_dict()
    kym = _by_label(rm)["tisagenlecleucel"]
    assert kym["age_ok"] is True
    assert kym["age_limit_crossed"]["phase"] == "infusion"
    assert kym["age_limit_crossed"]["date"] == "2027-06-29"
    assert "age_limit_crossed" not in _by_label(rm)["brexucabtagene autoleucel"]


@pytest.mark.parametrize(("prefix", "fda", "ema"), [("rvz05", True, False),
                                                    ("rvz06", True, True)])
def test_tecartus_epar_brexucabtagene_eu_label_from_26(prefix: str, fda: bool,
                                                       ema: bool) -> None:
    """Brexucabtagene: FDA adults 18 and over [S29b], EMA 26 and older [TECARTUS-EMA]; the
    labels differ for rvz05's man of 25 and agree for rvz06's woman of 26."""
    by = _by_label(_roadmap(_record(prefix)))
    assert by["brexucabtagene autoleucel"]["age_ok"] is fda
    assert by["brexucabtagene autoleucel (EMA)"]["age_ok"] is ema
    assert by["brexucabtagene autoleucel (EMA)"]["cite"] == ["TECARTUS-EMA"]
    assert by["brexucabtagene autoleucel (EMA)"]["age_min_years"] == 26
