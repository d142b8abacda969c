"""The titration pack (packs/80-titration.yaml): every rule, the CPIC tables, the waits."""

from __future__ import annotations

from typing import Any

import pytest
from titration_helpers import decide, field

from allpath.rules.loader import check_examples, load_knowledge
from allpath.rules.schema import PATHWAY_STAGES

NORMAL = {"tpmt__phenotype": "normal", "nudt15__phenotype": "normal"}
STEADY = {"visit__weeks_since_change": 8, "visit__on_hold": False,
          "visit__increases_without_response": 0}


def test_pack_is_a_titration_stage_outside_the_pathway() -> None:
    cp = load_knowledge().pack("titration")
    assert cp.pack.stage == "titration"
    assert "titration" not in PATHWAY_STAGES
    assert check_examples(cp, load_knowledge().registry.copy()) == []


# --------------------------------------------------------------------------- CPIC start


@pytest.mark.parametrize(
    ("tpmt", "nudt15", "group", "low", "high", "schedule", "rule"),
    [
        ("normal", "normal", "normal", 100, 100, "daily", "mp_start.normal"),
        ("intermediate", "normal", "intermediate", 30, 80, "daily", "mp_start.intermediate"),
        ("normal", "intermediate", "intermediate", 30, 80, "daily", "mp_start.intermediate"),
        ("possible_intermediate", "normal", "intermediate", 30, 80, "daily",
         "mp_start.intermediate"),
        ("normal", "possible_intermediate", "intermediate", 30, 80, "daily",
         "mp_start.intermediate"),
        ("intermediate", "intermediate", "both_intermediate", 20, 50, "daily",
         "mp_start.both_intermediate"),
        ("possible_intermediate", "intermediate", "both_intermediate", 20, 50, "daily",
         "mp_start.both_intermediate.possible"),
        ("poor", "normal", "poor", 10, 10, "three_times_weekly", "mp_start.poor"),
        ("normal", "poor", "poor", 10, 10, "three_times_weekly", "mp_start.poor"),
        ("poor", "intermediate", "poor", 10, 10, "three_times_weekly", "mp_start.poor"),
    ],
)
def test_cpic_starting_dose_table(tpmt: str, nudt15: str, group: str, low: float,
                                  high: float, schedule: str, rule: str) -> None:
    res = decide(tpmt__phenotype=tpmt, nudt15__phenotype=nudt15,
                 titration__mp_protocol_dose=75, titration__mtx_protocol_dose=20)
    mp = res["titration.mp_start"]
    assert mp.rule_id == rule
    assert (field(mp, "group"), field(mp, "percent_low"), field(mp, "percent_high"),
            field(mp, "schedule")) == (group, low, high, schedule)
    assert "S32" in mp.cite
    assert not mp.provisional
    assert mp.evidence == ("unconfirmed" if rule.endswith(".possible") else "confirmed")
    # methotrexate is not adjusted by the thiopurine genotypes
    assert field(res["titration.mtx_start"], "percent") == 100


def test_intermediate_with_a_protocol_dose_below_75_is_left_to_the_protocol() -> None:
    res = decide(tpmt__phenotype="intermediate", nudt15__phenotype="normal",
                 titration__mp_protocol_dose=60)
    mp = res["titration.mp_start"]
    assert mp.rule_id == "mp_start.intermediate.low_protocol_dose"
    assert field(mp, "percent_low") is None and mp.evidence == "unconfirmed"


def test_without_phenotypes_the_start_is_provisional_normal() -> None:
    mp = decide(titration__mp_protocol_dose=75)["titration.mp_start"]
    assert field(mp, "group") == "normal" and mp.provisional
    assert mp.provisional_reason and "not given" in mp.provisional_reason


def test_indeterminate_phenotype_has_no_start_rule() -> None:
    mp = decide(tpmt__phenotype="indeterminate", nudt15__phenotype="normal",
                titration__mp_protocol_dose=75)["titration.mp_start"]
    assert mp.status == "unknown"


# --------------------------------------------------------------------------- steady state


@pytest.mark.parametrize(
    ("phenotypes", "weeks_min", "weeks_max"),
    [(("normal", "normal"), 2, None), (("intermediate", "normal"), 2, 4),
     (("normal", "possible_intermediate"), 2, 4), (("poor", "normal"), 4, 6),
     (("intermediate", "poor"), 4, 6)],
)
def test_steady_state_weeks_by_phenotype(phenotypes: tuple[str, str], weeks_min: float,
                                         weeks_max: float | None) -> None:
    ss = decide(tpmt__phenotype=phenotypes[0],
                nudt15__phenotype=phenotypes[1])["titration.steady_state"]
    assert (field(ss, "weeks_min"), field(ss, "weeks_max")) == (weeks_min, weeks_max)
    assert ss.cite == ("S32",)


@pytest.mark.parametrize(
    ("tpmt", "weeks", "expected"),
    [("normal", 1.9, "not_reached"), ("normal", 2, "reached"),
     ("intermediate", 1, "not_reached"), ("intermediate", 2, "may_be_reached"),
     ("intermediate", 3.9, "may_be_reached"), ("intermediate", 4, "reached"),
     ("poor", 3.9, "not_reached"), ("poor", 4, "may_be_reached"),
     ("poor", 5.9, "may_be_reached"), ("poor", 6, "reached")],
)
def test_steady_state_wait(tpmt: str, weeks: float, expected: str) -> None:
    ss = decide(tpmt__phenotype=tpmt, nudt15__phenotype="normal",
                visit__weeks_since_change=weeks)["titration.steady_state_reached"]
    assert ss.value == expected


def test_steady_state_without_phenotype() -> None:
    assert decide(visit__weeks_since_change=1)["titration.steady_state_reached"].value \
        == "not_reached"
    six = decide(visit__weeks_since_change=6)["titration.steady_state_reached"]
    assert six.value == "reached" and not six.provisional
    three = decide(visit__weeks_since_change=3)["titration.steady_state_reached"]
    assert three.value == "reached" and three.provisional  # as if normal metabolisers


# --------------------------------------------------------------------------- windows


@pytest.mark.parametrize(("wbc", "expected"),
                         [(1.49, "below"), (1.5, "within"), (3.5, "within"), (3.51, "above")])
def test_nopho_wbc_window(wbc: float, expected: str) -> None:
    res = decide(visit__wbc=wbc)["titration.wbc_window"]
    assert res.value == expected and res.cite == ("S34",) and res.evidence == "confirmed"


@pytest.mark.parametrize(("anc", "expected"),
                         [(0.49, "below"), (0.5, "within"), (1.5, "within"), (1.51, "above")])
def test_cog_anc_window_is_unconfirmed(anc: float, expected: str) -> None:
    res = decide(visit__anc=anc)["titration.anc_window"]
    assert res.value == expected and res.evidence == "unconfirmed"


def test_counts_use_wbc_when_recorded_else_anc() -> None:
    both = decide(visit__wbc=2.0, visit__anc=1.9)["titration.counts"]
    assert field(both, "basis") == "wbc_nopho" and field(both, "status") == "within"
    assert both.evidence == "confirmed"
    anc = decide(visit__anc=1.9)["titration.counts"]
    assert field(anc, "basis") == "anc_cog" and field(anc, "status") == "above"
    assert anc.evidence == "unconfirmed"


# --------------------------------------------------------------------------- hold


@pytest.mark.parametrize(
    ("anc", "platelets", "hold", "rule"),
    [(0.49, 200, True, "hold.anc"), (0.5, 200, False, "hold.none"),
     (1.0, 49.9, True, "hold.platelets"), (1.0, 50, False, "hold.none")],
)
def test_hold_limits(anc: float, platelets: float, hold: bool, rule: str) -> None:
    res = decide(visit__anc=anc, visit__platelets=platelets)["titration.hold"]
    assert res.value is hold and res.rule_id == rule and res.evidence == "unconfirmed"


def test_hold_is_unknown_without_platelets_unless_anc_decides() -> None:
    assert decide(visit__anc=1.0)["titration.hold"].status == "unknown"
    assert decide(visit__anc=0.3)["titration.hold"].value is True


# --------------------------------------------------------------------------- the action

SCENARIOS: dict[str, dict[str, Any]] = {
    "action.hold": {**NORMAL, **STEADY, "visit__anc": 0.4, "visit__platelets": 120},
    "action.restart_reduced": {**NORMAL, **STEADY, "visit__on_hold": True,
                               "visit__anc": 1.0, "visit__platelets": 120},
    "action.wait": {**NORMAL, **STEADY, "visit__weeks_since_change": 1, "visit__wbc": 4.5,
                    "visit__anc": 2.5, "visit__platelets": 200},
    "action.decrease.low_activity": {"tpmt__phenotype": "intermediate",
                                     "nudt15__phenotype": "normal", **STEADY,
                                     "visit__wbc": 1.2, "visit__anc": 0.8,
                                     "visit__platelets": 150},
    "action.decrease": {**NORMAL, **STEADY, "visit__wbc": 1.2, "visit__anc": 0.8,
                        "visit__platelets": 150},
    "action.increase.wbc": {**NORMAL, **STEADY, "visit__wbc": 4.5, "visit__anc": 2.5,
                            "visit__platelets": 200},
    "action.increase.anc": {**NORMAL, **STEADY, "visit__anc": 2.5, "visit__platelets": 200},
    "action.continue.wbc": {**NORMAL, **STEADY, "visit__wbc": 2.5, "visit__anc": 1.2,
                            "visit__platelets": 200},
    "action.continue.anc": {**NORMAL, **STEADY, "visit__anc": 1.2, "visit__platelets": 200},
}

EXPECTED = {
    "action.hold": ("hold", "stop", "stop"),
    "action.restart_reduced": ("restart_reduced", "restart_reduced", "restart_reduced"),
    "action.wait": ("wait", "unchanged", "unchanged"),
    "action.decrease.low_activity": ("decrease", "reduce", "unchanged"),
    "action.decrease": ("decrease", "reduce", "reduce"),
    "action.increase.wbc": ("increase", "increase", "increase"),
    "action.increase.anc": ("increase", "increase", "increase"),
    "action.continue.wbc": ("continue", "unchanged", "unchanged"),
    "action.continue.anc": ("continue", "unchanged", "unchanged"),
}


@pytest.mark.parametrize("rule", sorted(SCENARIOS))
def test_each_action_rule(rule: str) -> None:
    res = decide(**SCENARIOS[rule])["titration.action"]
    assert res.rule_id == rule
    assert (field(res, "action"), field(res, "mp"), field(res, "mtx")) == EXPECTED[rule]
    if rule.startswith("action.increase"):
        assert field(res, "change") == "~25%" and res.evidence == "unconfirmed"
    if rule in ("action.hold", "action.restart_reduced", "action.increase.anc",
                "action.continue.anc"):
        assert res.evidence == "unconfirmed"
    if rule in ("action.decrease", "action.continue.wbc", "action.wait"):
        assert res.evidence == "confirmed"


def test_off_target_counts_without_time_since_change_give_no_suggestion() -> None:
    facts = dict(SCENARIOS["action.increase.wbc"])
    del facts["visit__weeks_since_change"]
    res = decide(**facts)["titration.action"]
    assert res.status == "unknown" and res.missing == ("visit.weeks_since_change",)


def test_within_target_needs_no_time_since_change() -> None:
    facts = dict(SCENARIOS["action.continue.wbc"])
    del facts["visit__weeks_since_change"]
    assert field(decide(**facts)["titration.action"], "action") == "continue"


@pytest.mark.parametrize(("increases", "expected"), [(0, False), (1, False), (2, True)])
def test_non_adherence_advisory(increases: int, expected: bool) -> None:
    res = decide(**{**SCENARIOS["action.increase.wbc"],
                    "visit__increases_without_response": increases})
    adv = res["titration.adherence_advisory"]
    assert adv.value is expected
    if expected:
        assert adv.rule_id == "adherence.suspect" and adv.evidence == "unconfirmed"


def test_every_rule_of_the_pack_is_exercised() -> None:
    """The scenarios above, the start table and the windows reach every rule id."""
    cp = load_knowledge().pack("titration")
    fired: set[str] = set()
    scenarios: list[dict[str, Any]] = list(SCENARIOS.values())
    for tpmt, nudt15 in [("normal", "normal"), ("intermediate", "normal"),
                         ("intermediate", "intermediate"),
                         ("possible_intermediate", "intermediate"), ("poor", "normal")]:
        for weeks in (1, 3, 5, 7):
            scenarios.append({"tpmt__phenotype": tpmt, "nudt15__phenotype": nudt15,
                              "visit__weeks_since_change": weeks,
                              "titration__mp_protocol_dose": 75,
                              "titration__mtx_protocol_dose": 20})
    scenarios += [
        {"tpmt__phenotype": "intermediate", "nudt15__phenotype": "normal",
         "titration__mp_protocol_dose": 60},
        {"tpmt__phenotype": "indeterminate", "nudt15__phenotype": "indeterminate",
         "visit__weeks_since_change": 3},
        {"visit__wbc": 1.0, "visit__anc": 0.3, "visit__platelets": 40},
        {"visit__wbc": 4.0, "visit__anc": 0.3, "visit__platelets": 40},
        {"visit__wbc": 2.0, "visit__anc": 0.3, "visit__platelets": 40},
        {"visit__anc": 1.7, "visit__platelets": 40},
        {"visit__anc": 0.3},
        {**SCENARIOS["action.increase.wbc"], "visit__increases_without_response": 3},
        {**SCENARIOS["action.increase.wbc"], "titration__mtx_protocol_dose": 0},
        {**SCENARIOS["action.increase.wbc"], "visit__wbc": 865},
        {**SCENARIOS["action.increase.anc"], "visit__anc": 25},
        {**SCENARIOS["action.restart_reduced"], "tpmt__phenotype": "intermediate"},
        {**SCENARIOS["action.increase.wbc"], "visit__allopurinol": True},
        {**SCENARIOS["action.increase.wbc"], "visit__allopurinol": False},
        {"tpmt__phenotype": "poor", "nudt15__phenotype": "normal",
         "visit__mp_percent_of_protocol": 100},
        {"tpmt__phenotype": "intermediate", "nudt15__phenotype": "intermediate",
         "visit__mp_percent_of_protocol": 60},
        {"tpmt__phenotype": "intermediate", "nudt15__phenotype": "normal",
         "titration__mp_protocol_dose": 75, "visit__mp_percent_of_protocol": 100},
        {"tpmt__phenotype": "intermediate", "nudt15__phenotype": "normal",
         "titration__mp_protocol_dose": 75, "visit__mp_percent_of_protocol": 50},
        {**SCENARIOS["action.continue.wbc"], "tpmt__phenotype": "intermediate",
         "titration__mp_protocol_dose": 75, "visit__mp_percent_of_protocol": 100},
        {**SCENARIOS["action.increase.wbc"], "visit__tgn": 0, "visit__memp": 0},
        {**SCENARIOS["action.increase.wbc"], "visit__glucose": 47},
        {**SCENARIOS["action.increase.wbc"], "visit__glucose": 90},
        {**SCENARIOS["action.increase.wbc"], "visit__alt": 250},
        {**SCENARIOS["action.increase.wbc"], "visit__alt": 30},
        {**SCENARIOS["action.increase.wbc"], "visit__tgn": 300, "visit__memp": 4000},
        {**SCENARIOS["action.increase.wbc"], "visit__tgn": 300, "visit__memp": 8000,
         "visit__alt": 120},
        {"visit__tgn": 100, "visit__memp": 9000},
        {**SCENARIOS["action.increase.wbc"], "visit__tgn": 150, "visit__memp": 12000},
        {"visit__tgn": 600, "visit__memp": 9000},
        {"visit__tgn": 300, "visit__memp": 9000},
        {"visit__tgn": 100, "visit__memp": 900},
        {"visit__tgn": 600, "visit__memp": 900},
        {**SCENARIOS["action.increase.wbc"], "visit__bilirubin": 2.0},
        {**SCENARIOS["action.increase.wbc"], "visit__bilirubin": 0.5},
        {**SCENARIOS["action.restart_reduced"], "visit__anc": 0.6},
        {**SCENARIOS["action.restart_reduced"], "visit__platelets": 60},
        {**NORMAL, **STEADY, "visit__on_hold": True, "visit__anc": 1.1},
        {**NORMAL, **STEADY, "visit__on_hold": True, "visit__platelets": 120},
        {**NORMAL, **STEADY, "visit__on_hold": True},
    ]
    for given in scenarios:
        for res in decide(**given).values():
            if res.rule_id:
                fired.add(res.rule_id)
            fired.update(h[0] for h in res.hits)
    every = {r.id for d in cp.pack.decisions for r in d.rules}
    every |= {d.otherwise.id for d in cp.pack.decisions if not d.otherwise.unknown}
    assert every - fired == set()


def test_cog_style_rules_are_all_marked_unconfirmed() -> None:
    cp = load_knowledge().pack("titration")
    for d in cp.pack.decisions:
        for r in (*d.rules, d.otherwise):
            if r.id.startswith(("hold.", "anc_window.", "counts.anc.", "action.increase",
                                "action.restart", "action.hold", "adherence.suspect",
                                "plausibility.", "action.check_counts",
                                "steady_state.poor.4", "steady_state.intermediate.2")):
                assert r.evidence == "unconfirmed", r.id
