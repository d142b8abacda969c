"""A roadmap decision that names the marrow response it stands for is settled by the marrow
the monitoring stage read in its phase (roadmap/responses.py): blinatumomab's label gives up
to two induction cycles, then consolidation for CR/CRh [S29e, BLINCYTO-DOSING]; a relapsed
T-ALL in remission after nelarabine goes to allogeneic HCT and without one the plan ends
[S1, S2]."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from allpath import assess, parse_record
from support import load_yaml

_RG02 = next((Path(__file__).parents[1] / "clinical" / "review_g").glob("rg02*.yaml"))


def _record(marrow_after_cycle_2: float | None = 40.0, lineage_t: bool = False
            ) -> dict[str, Any]:
    """rg02: a girl in first marrow relapse (2022-01-10) on recorded relapse treatment from
    2022-01-12; marrows after it 12% (2022-02-14) and ``marrow_after_cycle_2`` (2022-03-21)."""
    doc: dict[str, Any] = copy.deepcopy(load_yaml(_RG02.read_text(encoding="utf-8"))["record"])
    obs = doc["observations"]
    for o in obs:
        if o["code"] == "marrow_blasts" and o["time"] == "2022-03-21":
            if marrow_after_cycle_2 is None:
                obs.remove(o)
            else:
                o["value"] = marrow_after_cycle_2
            break
    if marrow_after_cycle_2 is not None and marrow_after_cycle_2 < 5:
        for o in obs:  # recovered counts and a clear smear beside the remission marrow
            if o["time"] == "2022-03-21":
                o["value"] = {"anc": 1.8, "platelets": 160, "blood_blasts": 0,
                              "wbc": 4500, "hemoglobin": 10.8}.get(o["code"], o["value"])
    if lineage_t:
        doc["immunophenotype"]["markers"] = {"cCD3": "positive", "CD7": "positive",
                                             "CD5": "positive", "CD1a": "positive",
                                             "TdT": "positive", "CD19": "negative",
                                             "MPO": "negative"}
    return doc


def _roadmap(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = assess(parse_record(doc)).to_dict()
    return out


def _decision(rm: dict[str, Any], phase: str) -> dict[str, Any]:
    [p] = [p for p in rm["roadmap"]["phases"] if p["id"] == phase]
    dec: dict[str, Any] = p["decisions"][0]
    return dec


def test_blinatumomab_label_no_remission_after_two_induction_cycles_goes_to_car_t() -> None:
    rm = _roadmap(_record(40.0))
    phases = [(p["template"], p["id"]) for p in rm["roadmap"]["phases"]]
    assert phases[:2] == [("rr-blinatumomab", "blinatumomab-1"),
                          ("rr-blinatumomab", "blinatumomab-2")]
    assert phases[2][0] == "rr-car-t"
    assert ("rr-blinatumomab", "consolidation") not in phases
    dec = _decision(rm, "blinatumomab-2")
    assert dec["response_read"]["date"] == "2022-03-21"
    assert dec["response_read"]["state"] == "not_in_remission"
    assert dec["response_read"]["source"] == "relapse.not_in_remission"
    settled = {o["next"]: o["settled_by_record"] for o in dec["options"]}
    assert settled == {"template:hsct": False, "consolidation": False,
                       "template:rr-car-t": True}


def test_blinatumomab_label_cycle_one_without_remission_still_gives_cycle_two() -> None:
    """Up to two induction cycles [BLINCYTO-DOSING]: the 12% marrow after cycle 1 settles
    nothing, so cycle 2 stays in the plan."""
    rm = _roadmap(_record(40.0))
    dec = _decision(rm, "blinatumomab-1")
    assert dec["response_read"] is None
    assert {o["settled_by_record"] for o in dec["options"]} == {None}


def test_blinatumomab_label_remission_after_cycle_two_goes_on_to_consolidation() -> None:
    rm = _roadmap(_record(1.0))
    phases = [(p["template"], p["id"]) for p in rm["roadmap"]["phases"]]
    assert ("rr-blinatumomab", "consolidation") in phases
    assert all(t == "rr-blinatumomab" for t, _ in phases)
    dec = _decision(rm, "blinatumomab-2")
    assert dec["response_read"]["state"] == "remission"
    settled = {o["next"]: o["settled_by_record"] for o in dec["options"]}
    # the HCT option needs an MRD-negative remission: no MRD on that marrow leaves it open
    assert settled == {"template:hsct": None, "consolidation": True,
                       "template:rr-car-t": False}


def test_a_decision_without_a_marrow_in_its_phase_is_not_settled() -> None:
    rm = _roadmap(_record(None))
    dec = _decision(rm, "blinatumomab-2")
    assert dec["response_read"] is None
    assert {o["settled_by_record"] for o in dec["options"]} == {None}
    assert [p["template"] for p in rm["roadmap"]["phases"]].count("rr-car-t") == 0


def test_a_marrow_not_in_remission_settles_the_mrd_time_point_it_stands_for() -> None:
    """The 12% marrow of 2022-02-14 (cycle 1) and the 40% one of 2022-03-21 (cycle 2) have no
    MRD result: morphology already shows the disease, so neither time point is overdue."""
    rm = _roadmap(_record(40.0))
    assert rm["where_now"]["overdue"] == []


def test_a_remission_marrow_without_mrd_is_named_in_the_overdue_reason() -> None:
    """Cycle 1's marrow (2022-02-14) in remission by morphology but with no MRD result: the
    time point stays overdue and its reason names that marrow."""
    doc = _record(1.0)
    doc["observations"] = [o for o in doc["observations"]
                           if not (o["code"] == "marrow_blasts" and o["time"] == "2022-02-14")]
    doc["observations"].append({"code": "marrow_blasts", "value": 2, "unit": "%",
                                "time": "2022-02-14"})
    rm = _roadmap(doc)
    reasons = {o["phase"]: o["reason"] for o in rm["where_now"]["overdue"]}
    assert reasons["blinatumomab-1"] == ("the marrow of 2022-02-14 has no MRD result in the "
                                         "record")


@pytest.mark.parametrize(("blasts", "after"), [(40.0, None), (1.0, "hsct")])
def test_nelarabine_t_all_second_remission_goes_to_hct_and_no_remission_ends_the_plan(
        blasts: float, after: str | None) -> None:
    """rr-t-nelarabine [S1, S2]: course 2's marrow in remission goes to allogeneic HCT; not in
    remission, the plan ends (another regimen or a trial). Course 1 has no marrow, so its
    decision stays open and course 2 follows."""
    doc = _record(None, lineage_t=True)
    for o in doc["observations"]:  # 2022-02-14 falls in course 2 (2022-02-02 to 2022-02-22)
        if o["code"] == "marrow_blasts" and o["time"] == "2022-02-14":
            o["value"] = blasts
        if o["time"] == "2022-02-14" and blasts < 5:
            o["value"] = {"anc": 1.8, "platelets": 160, "blood_blasts": 0}.get(
                o["code"], o["value"])
    rm = _roadmap(doc)
    assert _decision(rm, "nelarabine-2")["response_read"]["date"] == "2022-02-14"
    phases = [(p["template"], p["id"]) for p in rm["roadmap"]["phases"]]
    assert phases[0] == ("rr-t-nelarabine", "nelarabine-1")
    if after is None:
        assert phases[-1] == ("rr-t-nelarabine", "nelarabine-2")
    else:
        assert after in {t for t, _ in phases}


def test_nccn_mrd_negative_second_remission_with_a_transplant_indication_goes_to_hct() -> None:
    """Review Z, rvz03: an adult's MRD-negative second remission after the blinatumomab
    induction cycles went on to consolidation cycles 3-9 while the transplant section named a
    consolidative HCT (NCCN adult: CR2 without an earlier transplant goes to allogeneic HCT;
    NCCN paediatric: an early first relapse goes to HCT in CR2). The decision after cycle 2
    now follows that indication (rr-blinatumomab 2.6.0)."""
    case = next((Path(__file__).parent / "review_z").glob("rvz03*.yaml"))
    doc = load_yaml(case.read_text(encoding="utf-8"))["record"]
    rm = _roadmap(doc)["roadmap"]
    assert rm["transplant"]["indications"] == ["adult_cr2_consolidative"]
    phases = [(p["template"], p["id"]) for p in rm["phases"]]
    assert phases[:2] == [("rr-blinatumomab", "blinatumomab-1"),
                          ("rr-blinatumomab", "blinatumomab-2")]
    assert phases[2][0] == "hsct"
    assert ("rr-blinatumomab", "consolidation") not in phases
