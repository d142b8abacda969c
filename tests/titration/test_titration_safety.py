"""Safety of the maintenance suggestions (issue 12): implausible counts, CPIC restarts and
starts, no silent protocol dose, allopurinol, and explanation texts taken from the pack."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from titration_helpers import decide, field, maintenance_dir

from allpath.monitoring.titration import run_titration, titrate_file
from allpath.monitoring.titration_log import read_log
from allpath.rules.loader import load_knowledge

ALLMT = maintenance_dir()


def _rule(rule_id: str) -> object:
    for d in load_knowledge().pack("titration").pack.decisions:
        for r in d.rules:
            if r.id == rule_id:
                return r
    raise LookupError(rule_id)


def _write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- implausible counts


def test_allpath_maint_plaus_allmt_logs_make_no_suggestion_at_an_implausible_visit() -> None:
    """Every allMT log runs; no visit with a count above the maintenance bound gets a dose
    suggestion (CI has ../shared; the logs are required, not skipped)."""
    assert ALLMT is not None, "../shared/data/maintenance_therapy is required for this test"
    logs = sorted(ALLMT.glob("allMT_*.csv"))
    assert len(logs) == 9
    stopped: dict[str, int] = {}
    for path in logs:
        for basis in ("auto", "anc"):
            run = titrate_file(path, basis=basis)  # type: ignore[arg-type]
            for v in run.visits:
                high = (v.wbc is not None and v.wbc > 20) or (v.anc is not None and v.anc > 20)
                if v.status == "not_assessable":
                    continue
                if high:
                    assert v.status == "check_counts", (path.name, v.line)
                    assert v.action == "check_counts" and v.mp_recommended_value is None
                    assert "increase" not in v.mp_recommended
                    assert v.alerts and "possible relapse or unit error" in v.alerts[0]
                else:
                    assert v.status != "check_counts", (path.name, v.line)
            if basis == "auto":
                stopped[path.name] = run.summary()["check_counts"]
    # the external logs hold the unit-slip-like WBCs (152, 865, 984, 321, ...): 14 visits each
    assert stopped == {"allMT_external_UPN_1.csv": 14, "allMT_external_UPN_2.csv": 14,
                       **{p.name: 0 for p in logs if "processed" in p.name}}


def test_allpath_maint_plaus_wbc_865_names_both_readings_and_stops_the_increase() -> None:
    assert ALLMT is not None, "../shared/data/maintenance_therapy is required for this test"
    run = titrate_file(ALLMT / "allMT_external_UPN_1.csv")
    v = next(x for x in run.visits if x.wbc == 865)
    assert v.status == "check_counts" and v.mp_recommended.startswith("no suggestion")
    alert = v.alerts[0]
    assert alert.startswith("possible relapse or unit error: check the sample and the units")
    assert "WBC 865 x10^9/L" in alert and "0.865 x10^9/L" in alert
    assert "plausibility.wbc" in v.rules and "ALLPATH-MAINT-PLAUS" in v.cite
    assert v.evidence == "unconfirmed"


@pytest.mark.parametrize(("wbc", "status"), [(20.0, "plausible"), (20.1, "implausible"),
                                              (321.0, "implausible"), (3.0, "plausible")])
def test_allpath_maint_plaus_bound_is_above_20(wbc: float, status: str) -> None:
    res = decide(tpmt__phenotype="normal", nudt15__phenotype="normal", visit__wbc=wbc,
                 visit__anc=1.0, visit__platelets=200, visit__weeks_since_change=6,
                 visit__on_hold=False, visit__increases_without_response=0)
    assert field(res["titration.count_plausibility"], "status") == status
    action = field(res["titration.action"], "action")
    assert (action == "check_counts") is (status == "implausible")


def test_implausible_wbc_stops_the_suggestion_with_the_anc_basis_too(tmp_path: Path) -> None:
    text = ("# tpmt: normal\n# nudt15: normal\n# last_change: 2023-11-01\n"
            "date,wbc,anc,platelets,mp,mtx\n2024-01-01,321,1.1,200,350,15\n")
    v = titrate_file(_write(tmp_path, text), basis="anc").visits[0]
    assert v.status == "check_counts" and "WBC 321" in v.alerts[0]


def test_a_hold_still_wins_over_an_implausible_wbc() -> None:
    res = decide(tpmt__phenotype="normal", nudt15__phenotype="normal", visit__wbc=321,
                 visit__anc=0.3, visit__platelets=200, visit__on_hold=False,
                 visit__weeks_since_change=6, visit__increases_without_response=0)
    assert field(res["titration.action"], "action") == "hold"
    assert field(res["titration.count_plausibility"], "status") == "implausible"


# --------------------------------------------------------------------------- CPIC


def test_cpic_2018_restart_after_hold_cuts_the_thiopurine_first_in_an_intermediate() -> None:
    res = decide(tpmt__phenotype="intermediate", nudt15__phenotype="normal", visit__anc=1.0,
                 visit__platelets=120, visit__on_hold=True, visit__weeks_since_change=2,
                 visit__increases_without_response=0)["titration.action"]
    assert res.rule_id == "action.restart_reduced.low_activity"
    assert (field(res, "mp"), field(res, "mtx")) == ("restart_reduced", "restart_previous")
    assert "S32" in res.cite


def test_cpic_2018_restart_in_a_normal_metaboliser_reduces_both() -> None:
    res = decide(tpmt__phenotype="normal", nudt15__phenotype="normal", visit__anc=1.0,
                 visit__platelets=120, visit__on_hold=True, visit__weeks_since_change=2,
                 visit__increases_without_response=0)["titration.action"]
    assert (field(res, "mp"), field(res, "mtx")) == ("restart_reduced", "restart_reduced")
    assert res.note is not None and "ANC 0.75 and platelets 75" in res.note
    assert "restart table is still needed" in res.note and res.evidence == "unconfirmed"


def test_cpic_2018_restart_run_keeps_mtx_at_the_dose_before_the_hold(tmp_path: Path) -> None:
    text = ("# tpmt: intermediate\n# nudt15: normal\n"
            "date,anc,platelets,mp,mtx\n"
            "2024-01-01,1.0,200,40,20\n2024-01-15,0.4,200,0,0\n2024-01-29,1.1,150,30,20\n")
    v = titrate_file(_write(tmp_path, text)).visits[2]
    assert v.action == "restart_reduced"
    assert v.mtx_recommended.startswith("restart at 20") and v.mtx_recommended_value == 20
    assert "below 40" in v.mp_recommended


FULL_DOSE = ("# tpmt: {tpmt}\n# nudt15: {nudt15}\n# mp_start: 75\n# mtx_start: 20\n"
             "# dose_unit: mg/m2/d\n"
             "date,wbc,anc,platelets,mp,mtx\n2024-01-01,3.0,1.5,200,{mp},20\n")


@pytest.mark.parametrize(("tpmt", "nudt15", "mp", "flag", "text"), [
    ("intermediate", "normal", 75, True, "30-80%"),
    ("intermediate", "normal", 60, False, None),
    ("intermediate", "intermediate", 30, False, None),
    ("intermediate", "intermediate", 45, True, "20-50%"),
    ("normal", "poor", 75, True, "10-fold lower"),
    ("normal", "normal", 75, False, None),
])
def test_cpic_2018_2024_full_dose_start_in_a_low_activity_phenotype_is_flagged(
        tmp_path: Path, tpmt: str, nudt15: str, mp: float, flag: bool, text: str | None,
) -> None:
    run = titrate_file(_write(tmp_path, FULL_DOSE.format(tpmt=tpmt, nudt15=nudt15, mp=mp)))
    advisories = run.visits[0].advisories
    if flag:
        assert text is not None and any(text in a and "CPIC" in a for a in advisories)
        assert any(r.startswith("start_check.") for r in run.visits[0].rules)
    else:
        assert not any("CPIC" in a for a in advisories)


# --------------------------------------------------------------------------- protocol dose


def test_fact_sheet_6_1_missing_protocol_dose_is_named_and_provisional(tmp_path: Path) -> None:
    text = ("# tpmt: normal\n# nudt15: normal\n"
            "date,wbc,anc,platelets,mp,mtx\n2024-01-01,3.0,1.5,200,75,20\n")
    start = titrate_file(_write(tmp_path, text)).start
    assert start.provisional and start.assumed == ("mp_start", "mtx_start")
    assert "assumed COG dose of 75 mg/m2/day" in start.text()
    assert start.provisional_reason is not None and "mp_start" in start.provisional_reason
    assert "mtx_start" in start.provisional_reason
    given = titrate_file(_write(tmp_path, "# mp_start: 60\n# mtx_start: 20\n" + text))
    assert not given.start.provisional and given.start.assumed == ()


def test_the_assumed_protocol_dose_lives_in_the_pack() -> None:
    mp = decide()["titration.mp_start"]
    assert mp.provisional and "titration.mp_protocol_dose" in mp.missing
    assert mp.provisional_reason is not None and "75 mg/m2/day" in mp.provisional_reason


# --------------------------------------------------------------------------- allopurinol


def test_mercaptopurine_label_allopurinol_asks_for_a_third_to_a_quarter(tmp_path: Path) -> None:
    text = ("# tpmt: normal\n# nudt15: normal\n# allopurinol: yes\n# last_change: 2023-11-01\n"
            "date,wbc,anc,platelets,mp,mtx\n2024-01-01,3.0,1.5,200,75,20\n")
    v = titrate_file(_write(tmp_path, text)).visits[0]
    assert any("one third to one quarter" in a for a in v.advisories)
    assert any("19-25 instead of the current 75" in a for a in v.advisories), v.advisories
    assert "allopurinol.with_mp" in v.rules and "MP-LABEL" in v.cite
    with pytest.raises(Exception, match="yes/no"):
        read_log(_write(tmp_path, text.replace("yes", "maybe")))


# --------------------------------------------------------------------------- texts from the pack


def test_the_plausibility_message_states_the_rule_threshold() -> None:
    for rule_id in ("plausibility.wbc", "plausibility.anc"):
        rule = _rule(rule_id)
        threshold = rule.when.all[1].value  # type: ignore[attr-defined]
        assert f"above {threshold:g} x10^9/L" in rule.then["message"]  # type: ignore[attr-defined]


def test_the_increase_step_comes_from_the_pack(tmp_path: Path) -> None:
    rule = _rule("action.increase.wbc")
    pct = rule.then["change_percent"]  # type: ignore[attr-defined]
    assert rule.then["change"] == f"~{pct}%"  # type: ignore[attr-defined]
    text = ("# tpmt: normal\n# nudt15: normal\n# last_change: 2023-11-01\n"
            "date,wbc,anc,platelets,mp,mtx\n2023-12-01,4.0,2.0,200,400,20\n"
            "2024-01-01,4.0,2.0,200,400,20\n")
    v = titrate_file(_write(tmp_path, text)).visits[1]
    assert f"about {400 * (1 + pct / 100):g}" in v.mp_recommended


def test_reasons_quote_the_note_of_the_deciding_rule(tmp_path: Path) -> None:
    log = read_log(_write(tmp_path, "# tpmt: normal\n# nudt15: normal\n"
                          "date,wbc,anc,platelets,mp,mtx\n2024-01-01,2.5,1.2,200,75,20\n"))
    v = run_titration(log).visits[0]
    note = _rule("action.continue.wbc").note  # type: ignore[attr-defined]
    assert note and note in v.reason
    assert re.search(r"WBC 2\.5, ANC 1\.2, platelets 200", v.reason)


def test_schmiegelow_2014_undetectable_metabolites_suspect_non_adherence(tmp_path: Path) -> None:
    text = ("# tpmt: normal\n# nudt15: normal\n# last_change: 2023-11-01\n"
            "date,wbc,anc,platelets,mp,mtx,tgn,memp\n2024-01-01,5.0,3.1,280,117,31,0,0\n"
            "2024-01-15,5.0,3.1,280,117,31,,\n")
    first, second = titrate_file(_write(tmp_path, text)).visits
    assert first.action == "check_adherence" and first.mp_recommended_value is None
    assert any("non-adherence" in a for a in first.advisories)
    assert second.action == "increase"  # no metabolites at that visit: the counts decide
    bad = "date,wbc,anc,platelets,mp,mtx,tgn\n2024-01-01,2.5,1.2,200,75,20,-3\n"
    visit = titrate_file(_write(tmp_path, bad)).visits[0]
    assert visit.status == "recommended" and any("metabolite" in p for p in visit.problems)


def test_pes_hypoglycaemia_below_60_mg_dl_on_6mp_is_an_advisory(tmp_path: Path) -> None:
    text = ("# tpmt: normal\n# nudt15: normal\n# last_change: 2023-11-01\n"
            "date,wbc,anc,platelets,mp,mtx,glucose [mmol/L]\n2024-01-01,2.5,1.2,200,75,20,2.6\n")
    v = titrate_file(_write(tmp_path, text)).visits[0]
    assert v.action == "continue"
    (advisory,) = [a for a in v.advisories if "hypoglycaemia" in a]
    assert "2.6 mmol/L" in advisory and "morning" in advisory and "MeMP" in advisory


def test_ebbesen_2017_alt_above_40_is_an_advisory_not_a_dose_change(tmp_path: Path) -> None:
    text = ("# tpmt: normal\n# nudt15: normal\n# last_change: 2023-11-01\n"
            "date,wbc,anc,platelets,mp,mtx,alt\n2024-01-01,2.9,1.3,190,100,25,250\n")
    v = titrate_file(_write(tmp_path, text)).visits[0]
    assert v.action == "continue"
    (advisory,) = [a for a in v.advisories if a.startswith("ALT")]
    assert "6.25 times 40 U/L" in advisory and "MeMP" in advisory
