"""Reading the eligibility criteria text: sections, items, negation, "or" lists, alternatives,
exact ages, and what a study without criteria text may say."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from allpath.errors import KnowledgeError
from allpath.trials import Trial, bundled_eligibility, bundled_trials, read_eligibility
from allpath.trials.eligibility import read_eligibility_file, with_eligibility
from allpath.trials.match import screen_trial
from allpath.trials.profile import ProfileItem, TrialProfile


def _profile(**facts: object) -> TrialProfile:
    return TrialProfile("x", {k: ProfileItem(v) for k, v in facts.items()})  # type: ignore[arg-type]


NEWLY_DIAGNOSED_CHILD: dict[str, object] = {
    "age_years": 4.0, "presentation": "leukemia", "lineage": "B", "ph": "negative",
    "setting": "newly_diagnosed", "disease_now": "active", "cd19": "positive",
    "transplant": "not_transplanted", "down_syndrome": "no", "prior_cart": "no",
    "prior_blinatumomab": "no", "prior_inotuzumab": "no"}


def _study(text: str, **kw: object) -> Trial:
    return Trial(nct_id="NCT00000009", title=str(kw.pop("title", "")), status="RECRUITING",
                 eligibility_text=text, source="json", **kw)  # type: ignore[arg-type]


def _reqs(text: str) -> list[tuple[str, str, str]]:
    out = []
    for n in read_eligibility(text).all_nodes():
        out += [(n.section, c.facet.id, "/".join(v.name for v in c.values)) for c in n.requires]
        out += [(n.section, "not:" + "&".join(c.facet.id for c in parts),
                 "&".join("/".join(v.name for v in c.values) for c in parts))
                for parts in n.excludes]
    return out


def test_a_word_under_exclusion_is_never_a_requirement() -> None:
    text = "Inclusion Criteria:\n- B-ALL\nExclusion Criteria:\n- Relapsed ALL\n- T-ALL"
    assert _reqs(text) == [("inclusion", "lineage", "B"),
                           ("exclusion", "not:setting", "relapsed"),
                           ("exclusion", "not:lineage", "T")]


def test_one_line_copies_are_split_into_numbered_items() -> None:
    text = ("Inclusion Criteria: 1. Age 3-70 years old; 2. Primary resistant or relapsed B-cell "
            "line acute lymphoblastic leukemia; 3. KPS score >50 points. Exclusion Criteria: "
            "1. Patients with non-B cell acute leukemia; 2. Active infection;")
    r = read_eligibility(text)
    assert [n.section for n in r.nodes] == ["inclusion"] * 3 + ["exclusion"] * 2
    assert r.nodes[0].ages[0].describe() == "≥3 and ≤70 years"
    assert ("inclusion", "setting", "relapsed/refractory") in _reqs(text)  # an "or" list
    # "non-B" under exclusion: B-lineage is required, not excluded
    assert ("exclusion", "lineage", "B") in _reqs(text)


def test_negation_before_and_permission_after_the_term() -> None:
    assert _reqs("Inclusion Criteria:\n- No Down syndrome") == [
        ("inclusion", "not:down_syndrome", "yes")]
    assert _reqs("Inclusion Criteria:\n- Patients with Down syndrome are also eligible") == []
    # "... are not eligible" excludes in either section, never turns into a requirement
    for section in ("Inclusion", "Exclusion"):
        assert _reqs(f"{section} Criteria:\n- Patients with relapsed ALL are not eligible") == [
            (section.lower(), "not:setting", "relapsed")]


def test_an_exclusion_applies_only_when_all_its_conditions_hold() -> None:
    t = _study("Inclusion Criteria:\n- Morphologically confirmed 1st relapsed B-cell ALL\n"
               "- Children less than 18 years of age\n"
               "Exclusion Criteria:\n- Relapse post allogeneic stem-cell transplantation")
    child = dict(NEWLY_DIAGNOSED_CHILD, age_years=9.0, setting="relapsed",
                 relapse_number="first")
    assert screen_trial(t, _profile(**child), check_status=False).verdict == "possible"
    after_hsct = dict(child, transplant="transplanted")
    assert screen_trial(t, _profile(**after_hsct), check_status=False).verdict == "excluded"


def test_sub_items_listing_disease_states_are_alternatives() -> None:
    text = ("Inclusion Criteria: CD19+ ALL patients with any of the following: 1. Relapsed or "
            "Refractory CD19 positive B-cell ALL A. Primary refractory disease B. 2nd or greater "
            "relapse C. Any relapse after allogeneic hematopoietic stem cell transplantation "
            "2. Informed consent explained to and signed by patient")
    t = _study(text, min_age_years=1.0, has_exact_ages=True)
    base = dict(NEWLY_DIAGNOSED_CHILD, age_years=12.0, setting="relapsed", disease_now="active")
    second = _profile(**dict(base, relapse_number="second_or_later"))
    first = _profile(**dict(base, relapse_number="first"))
    assert screen_trial(t, second, check_status=False).verdict == "possible"
    # a first relapse fits none of A-C unless it proves refractory: open, not possible
    m = screen_trial(t, first, check_status=False)
    assert m.verdict == "check"
    newly = _profile(**dict(NEWLY_DIAGNOSED_CHILD, age_years=12.0))
    assert screen_trial(t, newly, check_status=False).verdict == "excluded"


def test_refractory_only_car_t_study_is_never_possible_for_a_newly_diagnosed_child() -> None:
    """The review's failure: CAR-T for resistant disease offered to a newly diagnosed child."""
    entries = bundled_eligibility()
    t = with_eligibility([t for t in bundled_trials() if t.nct_id == "NCT05626400"], entries)[0]
    t_cell_child = dict(NEWLY_DIAGNOSED_CHILD, lineage="T", cd7="positive", age_years=8.0)
    m = screen_trial(t, _profile(**t_cell_child))
    assert m.verdict == "excluded"
    failed = {c.criterion for c in m.failed}
    assert "text.setting" in failed
    (setting,) = [c for c in m.criteria if c.criterion == "text.setting"]
    assert "relapsed/refractory T-cell" in (setting.evidence or "")


def test_unknown_stays_unknown_with_the_test_that_settles_it() -> None:
    t = _study("Inclusion Criteria:\n- Newly diagnosed B-ALL\n- Age 1 to 21 years\n"
               "Exclusion Criteria:\n- Down syndrome")
    facts = dict(NEWLY_DIAGNOSED_CHILD)
    del facts["down_syndrome"]
    m = screen_trial(t, _profile(**facts), check_status=False)
    assert m.verdict == "check"
    (ds,) = m.unknown
    assert ds.criterion == "text.exclusion.down_syndrome"
    assert "Down syndrome" in (ds.settle or "")


def test_general_criteria_are_listed_but_do_not_block_a_possible_verdict() -> None:
    t = _study("Inclusion Criteria:\n- Newly diagnosed B-ALL\n- Age 1 to 21 years\n"
               "- ECOG performance status 0-2\n- Total bilirubin ≤1.5 × ULN")
    m = screen_trial(t, _profile(**NEWLY_DIAGNOSED_CHILD), check_status=False)
    assert m.verdict == "possible"
    assert {c.criterion for c in m.to_confirm} == {"text.performance", "text.organ_function"}
    assert m.to_dict()["to_confirm"]


def test_a_study_that_states_no_population_is_check_never_possible() -> None:
    t = _study("Inclusion Criteria:\n- Written informed consent\n- Able to attend visits")
    m = screen_trial(t, _profile(**NEWLY_DIAGNOSED_CHILD), check_status=False)
    assert m.verdict == "check"
    assert "text.population" in {c.criterion for c in m.unknown}


def test_a_record_without_criteria_text_says_so_and_is_at_best_check() -> None:
    t = Trial(nct_id="NCT00000010", title="Newly Diagnosed B-ALL", status="RECRUITING",
              age_groups=frozenset({"CHILD"}), source="csv")
    m = screen_trial(t, _profile(**NEWLY_DIAGNOSED_CHILD))
    assert m.verdict == "check"
    (missing,) = [c for c in m.criteria if c.criterion == "eligibility_text"]
    assert "no eligibility criteria text" in (missing.evidence or "")


def test_exact_ages_decide_not_the_adult_age_group() -> None:
    """"Adult" is 18-64 years; a study for 18 to 21 does not admit a 40-year-old."""
    t = _study("Inclusion Criteria:\n- Newly diagnosed B-ALL", min_age_years=18.0,
               max_age_years=21.0, has_exact_ages=True, age_groups=frozenset({"ADULT"}))
    adult = dict(NEWLY_DIAGNOSED_CHILD, age_years=40.0)
    (age,) = [c for c in screen_trial(t, _profile(**adult)).criteria if c.criterion == "age"]
    assert age.outcome == "not_met"
    assert age.evidence == "eligibility: minimum and maximum age"


def test_ages_from_the_text_when_the_registry_fields_are_missing() -> None:
    t = _study("Inclusion Criteria:\n- Newly diagnosed B-ALL\n"
               "- Male or female participants between 1 and <18 years of age.")
    assert screen_trial(t, _profile(**dict(NEWLY_DIAGNOSED_CHILD, age_years=18.0)),
                        check_status=False).verdict == "excluded"
    assert screen_trial(t, _profile(**dict(NEWLY_DIAGNOSED_CHILD, age_years=17.9)),
                        check_status=False).verdict == "possible"


def test_arm_specific_criteria_never_decide() -> None:
    t = _study("Inclusion Criteria:\n1. Newly diagnosed B-precursor ALL\n"
               "Additional exclusion criteria for blinatumomab:\n1. CD19 negative B-precursor ALL",
               min_age_years=0.0, max_age_years=21.0, has_exact_ages=True)
    facts = dict(NEWLY_DIAGNOSED_CHILD, cd19="negative")
    assert screen_trial(t, _profile(**facts), check_status=False).verdict == "possible"


def test_classic_xml_criteria_text_is_read(shared: Path) -> None:
    from allpath.trials import read_trials

    (t,) = read_trials(shared / "data" / "ctgov" / "NCT01207388_classic.xml")
    assert t.eligibility_text and t.has_exact_ages and t.min_age_years == 18.0
    mrd_adult = _profile(age_years=35.0, presentation="leukemia", lineage="B", ph="negative",
                         setting="in_remission", disease_now="remission", mrd="positive",
                         transplant="not_transplanted", prior_blinatumomab="no",
                         cd19="positive")  # the study gives blinatumomab (a CD19 target)
    assert screen_trial(t, mrd_adult, check_status=False).verdict == "possible"
    had_blina = replace(mrd_adult, items={**mrd_adult.items,
                                          "prior_blinatumomab": ProfileItem("yes")})
    m = screen_trial(t, had_blina, check_status=False)
    assert m.verdict == "excluded"
    assert "text.exclusion.prior_blinatumomab" in {c.criterion for c in m.failed}


def test_api_v2_json_criteria_text_is_read(shared: Path) -> None:
    from allpath.trials import read_trials

    (t,) = read_trials(shared / "data" / "ctgov" / "NCT02513394_api_v2_full_study.json")
    assert t.eligibility_text
    r = read_eligibility(t.eligibility_text)
    assert {"inclusion", "exclusion"} <= r.sections


def test_bundled_snapshot_carries_the_criteria_text_it_has() -> None:
    entries = bundled_eligibility()
    with_text = {t.nct_id for t in bundled_trials() if t.eligibility_text}
    assert with_text == set(entries)
    interfant = next(t for t in bundled_trials() if t.nct_id == "NCT05327894")
    assert interfant.has_exact_ages and interfant.max_age_years == pytest.approx(365 / 365.25)


def test_eligibility_file_errors_name_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "e.yaml"
    bad.write_text("format: allpath.trial_eligibility/1\nnote: x\nstudies:\n"
                   "  - {nct_id: NCT00000001, source: s, text_complete: true, ages_known: true,"
                   " minimum_age: soon, criteria: x}\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        read_eligibility_file(bad)
    assert "studies[0].minimum_age" in str(err.value)


def test_the_frontline_protocol_ranks_before_a_target_only_study_for_a_new_patient() -> None:
    from allpath.trials import match_trials

    car_t = replace(_study("Inclusion Criteria:\n- CD19 positive B-cell acute lymphoblastic "
                           "leukemia", min_age_years=1.0, has_exact_ages=True, phases=("PHASE3",)),
                    nct_id="NCT00000011")
    frontline = replace(_study("Inclusion Criteria:\n- Newly diagnosed B-cell acute "
                               "lymphoblastic leukemia", min_age_years=1.0, max_age_years=21.0,
                               has_exact_ages=True, phases=("PHASE2",)), nct_id="NCT00000012")
    r = match_trials(_profile(**NEWLY_DIAGNOSED_CHILD), [car_t, frontline])
    assert [m.verdict for m in r.matches] == ["possible", "possible"]
    assert [m.trial.nct_id for m in r.matches] == ["NCT00000012", "NCT00000011"]


def test_issue13_newly_diagnosed_four_year_old_gets_no_resistant_disease_study() -> None:
    """The review's patient: a newly diagnosed 4-year-old with standard-risk ETV6::RUNX1."""
    import datetime as dt

    from allpath import assess, parse_record
    from allpath.trials import match_trials, profile_from_assessment

    today = dt.date.today()
    doc = {
        "format": "allpath.record/1", "id": "ND-4Y", "sex": "female",
        "birth_date": dt.date(today.year - 4, today.month, min(today.day, 28)).isoformat(),
        "diagnosis_date": today.isoformat(),
        "observations": [{"code": "wbc", "value": 8.2, "unit": "10*9/L",
                          "time": today.isoformat()},
                         {"code": "marrow_blasts", "value": 88, "unit": "%",
                          "time": today.isoformat()}],
        "immunophenotype": {"time": today.isoformat(), "markers": {
            "CD19": "positive", "CD10": "positive", "CD22": "positive", "CD79a": "positive",
            "cCD3": "negative", "MPO": "negative", "CD7": "negative"}},
        "genetics": {"time": today.isoformat(), "fusions": ["ETV6::RUNX1"]},
    }
    a = assess(parse_record(doc))
    profile = profile_from_assessment(a)
    assert profile.value("setting") == "newly_diagnosed"
    assert profile.value("age_years") == pytest.approx(4.0, abs=0.01)  # at screening
    r = match_trials(a, bundled_trials(), include_excluded=True)
    by_id = {m.trial.nct_id: m for m in r.matches}
    for nct in ("NCT05626400", "NCT07072494", "NCT05748171", "NCT03590171", "NCT05327894"):
        assert by_id[nct].verdict == "excluded", nct  # R/R, CR-only, relapse, infant studies
    for m in r.matches:
        title = m.trial.title.lower()
        if "relapsed" in title or "refractory" in title or "resistant" in title:
            assert m.verdict != "possible", m.trial.nct_id
    top = [m for m in r.matches if m.verdict != "excluded"][:3]
    for m in top:  # frontline studies first: a newly diagnosed setting met, from text or title
        assert any(c.criterion in ("setting", "text.setting") and c.outcome == "met" and
                   "newly_diagnosed" in c.requires for c in m.criteria), m.trial.nct_id


def test_philadelphia_with_the_abbreviation_before_chromosome_is_read() -> None:
    # NCT00004932: "Recurrent Philadelphia (Ph) chromosome-positive leukemia"
    text = "Inclusion Criteria:\n- Recurrent Philadelphia (Ph) chromosome-positive leukemia"
    assert ("inclusion", "philadelphia", "positive") in _reqs(text)
    neg = "Inclusion Criteria:\n- Philadelphia (Ph) chromosome-negative B-ALL"
    assert ("inclusion", "philadelphia", "negative") in _reqs(neg)
