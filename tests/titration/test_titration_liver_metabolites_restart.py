"""Issue 12, the last titration parts: bilirubin, 6-TGN / MeMP and the restart after a hold.

Each test is named after the source of the number it checks (see packs/80-titration.yaml):
IJMPO 2024 (UK-ALL 2003 modification level 1.4 mg/dL), the IBD metabolite table PMC8322650
(6-TGN 230-450, MeMP 5,700), Schmiegelow 2014 (no ALL target), the 2008 IBD case series of
hepatotoxicity after escalation in the low-6-TGN/high-MeMP pattern, and the COG-style
course-start counts (ANC 750/uL, platelets 75,000/uL) with the allMT/ICiCLe-ALL-14 examples.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from titration_helpers import decide, field

from allpath.monitoring.titration import titrate_file
from allpath.monitoring.titration_log import read_log

NORMAL = {"tpmt__phenotype": "normal", "nudt15__phenotype": "normal"}
STEADY = {"visit__weeks_since_change": 6, "visit__on_hold": False,
          "visit__increases_without_response": 0}
ABOVE = {**NORMAL, **STEADY, "visit__wbc": 4.6, "visit__anc": 2.8, "visit__platelets": 250}
WITHIN = {**NORMAL, **STEADY, "visit__wbc": 2.6, "visit__anc": 1.3, "visit__platelets": 210}


def _log(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "log.csv"
    path.write_text("# tpmt: normal\n# nudt15: normal\n# mp_start: 75\n# mtx_start: 20\n"
                    "# dose_unit: mg/m2/d\n" + text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- bilirubin


@pytest.mark.parametrize(("bilirubin", "status"), [(1.39, "not_raised"), (1.4, "raised"),
                                                   (2.5, "raised")])
def test_ijmpo_2024_bilirubin_from_1_4_mg_dl_is_raised(bilirubin: float, status: str) -> None:
    res = decide(**ABOVE, visit__bilirubin=bilirubin)
    bili = res["titration.bilirubin"]
    assert field(bili, "status") == status and bili.evidence == "unconfirmed"
    assert "IJMPO-2024-BILI" in bili.cite
    action = res["titration.action"]
    if status == "raised":
        # no suggestion at all (above all no increase), and no invented hold
        assert (field(action, "action"), field(action, "mp"), field(action, "mtx")) == \
            ("check_liver", "no_suggestion", "no_suggestion")
    else:
        assert field(action, "action") == "increase"


def test_ijmpo_2024_a_hold_for_low_counts_still_wins_over_bilirubin() -> None:
    res = decide(**{**ABOVE, "visit__anc": 0.3}, visit__bilirubin=3.0)
    assert field(res["titration.action"], "action") == "hold"


def test_ijmpo_2024_bilirubin_in_umol_per_litre_is_converted_by_the_catalogue(
        tmp_path: Path) -> None:
    # 24 umol/L = 1.40 mg/dL (raised); 23 umol/L = 1.34 mg/dL (not raised)
    path = _log(tmp_path, "date,wbc,anc,platelets,mp,mtx,bilirubin [umol/L]\n"
                          "2024-01-01,2.6,1.3,210,75,20,23\n2024-02-12,4.6,2.8,250,75,20,24\n")
    first, second = titrate_file(path).visits
    assert first.action == "continue"
    assert second.action == "check_liver" and second.status == "recommended"
    assert second.mp_recommended == "no suggestion until checked"
    text = " ".join(second.advisories)
    assert "1.4 mg/dL (24 umol/L)" in text and "no published bilirubin hold level" in text
    assert "bilirubin.raised" in second.rules and second.evidence == "unconfirmed"


def test_ebbesen_2017_raised_alt_with_normal_bilirubin_keeps_the_count_suggestion() -> None:
    res = decide(**WITHIN, visit__alt=250, visit__bilirubin=0.6)
    assert field(res["titration.alt"], "status") == "raised"
    assert field(res["titration.action"], "action") == "continue"


# --------------------------------------------------------------------------- metabolites


@pytest.mark.parametrize(
    ("tgn", "memp", "alt", "status"),
    [
        (0, 0, None, "undetectable"),
        (150, 12000, None, "hypermethylation"),
        (229.9, 5700.1, 200, "hypermethylation"),
        (300, 8000, 120, "high_memp_raised_alt"),
        (300, 8000, 40, "high_memp"),      # ALT 40 is not above the NOPHO limit
        (300, 8000, None, "high_memp"),
        (600, 9000, None, "high_both"),
        (150, 900, None, "low_both"),
        (150, 5700, None, "low_both"),     # 5,700 is not above the IBD cut-off
        (230, 900, None, "within_ibd_bands"),
        (450, 5700, None, "within_ibd_bands"),
        (450.1, 900, None, "high_tgn"),
    ],
)
def test_pmc8322650_ibd_metabolite_bands(tgn: float, memp: float, alt: float | None,
                                        status: str) -> None:
    given = {"visit__tgn": tgn, "visit__memp": memp}
    if alt is not None:
        given["visit__alt"] = alt
    res = decide(**given)["titration.metabolites"]
    assert field(res, "status") == status
    if status != "undetectable":
        assert res.evidence == "unconfirmed" and "THIOPURINE-METAB-IBD" in res.cite


def test_schmiegelow_2014_every_metabolite_reading_says_no_all_target(tmp_path: Path) -> None:
    rows = [(300, 4000), (150, 12000), (300, 8000), (600, 9000), (150, 900), (620, 2000)]
    body = "".join(f"2024-0{i + 1}-01,2.6,1.3,210,75,20,{t},{m}\n"
                   for i, (t, m) in enumerate(rows))
    run = titrate_file(_log(tmp_path, "date,wbc,anc,platelets,mp,mtx,tgn,memp\n" + body))
    for v in run.visits:
        text = " ".join(v.advisories)
        assert "no" in text.lower() and "target is established" in text, text
        assert "inflammatory bowel disease" in text, text


def test_schmiegelow_2014_one_metabolite_alone_is_not_read() -> None:
    res = decide(**WITHIN, visit__memp=9000)
    assert res["titration.metabolites"].status == "unknown"
    assert "visit.tgn" in res["titration.metabolites"].missing
    assert field(res["titration.action"], "action") == "continue"


def test_ejgh_2008_low_tgn_high_memp_gets_no_6mp_increase() -> None:
    res = decide(**ABOVE, visit__tgn=150, visit__memp=12000, visit__alt=180)
    action = res["titration.action"]
    assert action.rule_id == "action.review_metabolites"
    assert (field(action, "action"), field(action, "mp")) == ("review_metabolites",
                                                              "no_suggestion")
    assert "EJGH-2008-MMPN" in action.cite and action.evidence == "unconfirmed"
    # on target the pattern is an advisory only: the dose stays
    within = decide(**WITHIN, visit__tgn=150, visit__memp=12000)
    assert field(within["titration.action"], "action") == "continue"


def test_metabolite_columns_are_converted_with_the_catalogue_unit(tmp_path: Path) -> None:
    path = _log(tmp_path, "date,wbc,anc,platelets,mp,mtx,tgn [nmol/8e8{RBC}],memp\n"
                          "2024-01-01,2.6,1.3,210,75,20,0.3,4000\n")
    visit = read_log(path).visits[0]
    assert visit.tgn == pytest.approx(300) and visit.memp == 4000
    assert titrate_file(path).visits[0].rules.count("metabolites.within_ibd_bands") == 1


def test_a_metabolite_unit_that_does_not_fit_is_rejected_not_assumed(tmp_path: Path) -> None:
    path = _log(tmp_path, "date,wbc,anc,platelets,mp,mtx,tgn [mg/dL],memp\n"
                          "2024-01-01,2.6,1.3,210,75,20,300,4000\n")
    visit = read_log(path).visits[0]
    assert visit.tgn is None and "tgn" in visit.rejected and visit.assessable
    assert any("unit does not fit" in str(p) for p in visit.problems)


# --------------------------------------------------------------------------- restart


@pytest.mark.parametrize(
    ("anc", "platelets", "action"),
    [(0.6, 150, "hold"), (0.74, 150, "hold"), (0.75, 150, "restart_reduced"),
     (1.0, 74, "hold"), (1.0, 75, "restart_reduced"), (0.4, 150, "hold")],
)
def test_cog_course_start_counts_decide_the_restart_after_a_hold(anc: float, platelets: float,
                                                                 action: str) -> None:
    res = decide(**{**NORMAL, **STEADY, "visit__on_hold": True, "visit__anc": anc,
                    "visit__platelets": platelets})
    act = res["titration.action"]
    assert field(act, "action") == action and act.evidence == "unconfirmed"
    if action == "hold" and anc >= 0.5:
        assert act.rule_id == "action.hold.recovering"
        assert {"COG-TDM-VN", "ALLMT-PKG"} <= set(act.cite)


def test_cog_course_start_counts_do_not_touch_visits_that_are_not_on_hold() -> None:
    res = decide(**{**WITHIN, "visit__anc": 0.6, "visit__wbc": 2.0, "visit__platelets": 60})
    assert res["titration.restart_counts"].value == "not_on_hold"
    assert field(res["titration.action"], "action") == "continue"



@pytest.mark.parametrize(
    ("given", "restart", "rule", "named"),
    [({"visit__anc": 1.1, "visit__wbc": 2.6}, "needs_platelets", "action.hold.needs_platelets",
      "platelet count is needed"),
     ({"visit__anc": 0.6}, "needs_platelets", "action.hold.needs_platelets",
      "platelet count is needed"),
     ({"visit__platelets": 120}, "needs_anc", "action.hold.needs_anc", "ANC"),
     ({}, "needs_counts", "action.hold.needs_counts", "blood count with differential")],
)
def test_cog_course_start_counts_a_missing_restart_count_keeps_the_hold_and_names_the_test(
        given: dict[str, float], restart: str, rule: str, named: str) -> None:
    """The restart needs both counts at the restart level: one not measured is never read as
    normal, so the hold goes on (never a restart on the other count alone, never a silent
    'no suggestion') and the rule names the count that would allow the restart."""
    res = decide(**{**NORMAL, **STEADY, "visit__on_hold": True, **given})
    assert res["titration.restart_counts"].value == restart
    act = res["titration.action"]
    assert act.status == "decided" and act.rule_id == rule
    assert (field(act, "action"), field(act, "mp"), field(act, "mtx")) == ("hold", "stop",
                                                                          "stop")
    assert act.evidence == "unconfirmed" and {"COG-TDM-VN", "ALLMT-PKG"} <= set(act.cite)
    assert named in str(act.note)


def test_cog_course_start_counts_no_platelet_count_after_a_hold_in_a_log(tmp_path: Path) -> None:
    """Held at the visit before; now ANC 1.1 and the platelet column empty: hold, and the
    reason the clinician reads asks for the platelet count."""
    path = _log(tmp_path, "date,wbc,anc,platelets,mp,mtx\n"
                          "2024-01-01,2.5,1.0,150,75,20\n"
                          "2024-01-11,1.2,0.3,150,0,0\n"
                          "2024-01-21,2.6,1.1,,0,0\n")
    v = titrate_file(path).visits[-1]
    assert v.platelets is None and v.status == "recommended" and v.action == "hold"
    assert v.mp_recommended == "hold (0)" and v.mtx_recommended == "hold (0)"
    assert "action.hold.needs_platelets" in v.rules and v.evidence == "unconfirmed"
    assert "platelet count is needed before a restart" in v.reason, v.reason
    assert v.agrees is True  # the log kept holding


def test_pmc8322650_low_6tgn_with_a_measurable_memp_reads_as_under_dosing_not_non_adherence(
        ) -> None:
    """IBD table: a low 6-TGN with a MeMP that is not high reads as too low a dose; not taking
    the drug is the reading when both are undetectable. A measurable MeMP (800) shows the drug
    is taken, so the text must not say it is not taken, and the count-based increase stands."""
    for tgn, memp in ((0, 800), (150, 900)):
        res = decide(**ABOVE, visit__tgn=tgn, visit__memp=memp)
        met = res["titration.metabolites"]
        text = str(field(met, "message"))
        assert field(met, "status") == "low_both"
        assert "being taken" in text and "too low" in text
        assert "not being taken" not in text and "not taken" not in text
        assert "only when both are undetectable" in text
        assert field(res["titration.action"], "action") == "increase"
    # both undetectable is still the non-adherence pattern, with no increase
    both = decide(**ABOVE, visit__tgn=0, visit__memp=0)
    assert field(both["titration.metabolites"], "status") == "undetectable"
    assert field(both["titration.action"], "action") == "check_adherence"
