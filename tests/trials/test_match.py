"""Pre-screening studies for a patient: requirements read from the registration, outcomes per
criterion, verdicts, ordering, and the unknowns with the test that settles them."""

from __future__ import annotations

from pathlib import Path

import pytest
from trial_helpers import assessed, example_doc, trial

from allpath import assess, parse_record
from allpath.trials import TRIALS_DISCLAIMER, bundled_trials, match_trials, profile_from_assessment
from allpath.trials.match import screen_trial, study_requirements
from support import load_yaml


def _reqs(t: object) -> dict[str, str]:
    return {r.facet.id: r.value.name for r in study_requirements(t)}  # type: ignore[arg-type]


def _outcomes(m: object) -> dict[str, str]:
    return {c.criterion: c.outcome for c in m.criteria}  # type: ignore[attr-defined]


def test_title_states_the_population() -> None:
    t = trial("Blinatumomab for Relapsed Ph-negative B-cell Acute Lymphoblastic Leukemia")
    assert _reqs(t) == {"disease": "leukemia", "lineage": "B", "philadelphia": "negative",
                        "setting": "relapsed_refractory", "target.CD19": "positive"}


def test_car_t_cells_do_not_make_a_t_lineage_requirement() -> None:
    t = trial("CD19 CAR T Cells in Children With B-ALL")
    assert _reqs(t)["lineage"] == "B"
    assert _reqs(trial("CD7 CAR-T Cells for T-cell Acute Lymphoblastic Leukemia"))[
        "lineage"] == "T"


def test_ph_like_is_not_read_as_ph_negative() -> None:
    assert "philadelphia" not in _reqs(trial("Ruxolitinib in Ph-like ALL"))


def test_conditions_count_only_when_every_all_condition_agrees() -> None:
    agree = trial("A Study of Drug X", conditions=("Recurrent B Acute Lymphoblastic Leukemia",
                                                    "Refractory B Acute Lymphoblastic Leukemia",
                                                    "Asthma"))
    assert _reqs(agree)["setting"] == "relapsed_refractory"
    mixed = trial("A Study of Drug X", conditions=("Childhood ALL in Remission",
                                                    "Recurrent Childhood ALL"))
    assert "setting" not in _reqs(mixed)
    # a catalogue entry that is not about ALL sets nothing
    other = trial("A Study of Drug X", conditions=("Acute Lymphoblastic Leukemia",
                                                    "Philadelphia Chromosome Positive"))
    assert "philadelphia" not in _reqs(other)


def test_both_values_in_the_title_set_no_requirement() -> None:
    assert "lineage" not in _reqs(trial("Venetoclax in Relapsed B-ALL and T-ALL"))
    assert "disease" not in _reqs(trial("Therapy for T-ALL/T-LBL"))


def test_example_patient_profile_comes_from_pathway_decisions() -> None:
    p = profile_from_assessment(assessed(example_doc("example-001")))
    assert p.value("lineage") == "B"
    assert p.items["lineage"].rule_id == "lineage.b_only"
    assert p.items["lineage"].cite == ("S20",)
    assert p.value("ph") == "negative"
    assert p.value("cd19") == "positive"
    assert p.value("mrd") == "negative"  # end of induction, not the day-8 blood value
    assert p.items["mrd"].rule_id == "mrd.level.below_1e-4"
    assert p.value("setting") is None  # on treatment, response not recorded
    assert "end-of-induction" in (p.items["setting"].note or "")


def test_relapse_and_refractory_vignettes_set_the_treatment_setting(shared: Path) -> None:
    def profile(name: str) -> dict[str, object]:
        doc = load_yaml((shared / "vignettes" / "monitoring" / name).read_text())
        p = profile_from_assessment(assess(parse_record(doc["record"])))
        return {k: v.value for k, v in p.items.items()}

    relapsed = profile("m04-very-early-marrow-relapse.yaml")
    assert relapsed["setting"] == "relapsed"
    assert profile("m03-induction-failure.yaml")["setting"] == "refractory"


def test_missing_genetics_leaves_ph_unknown_with_the_test_to_order() -> None:
    doc = example_doc("example-001")
    del doc["genetics"]
    m = screen_trial(trial("Dasatinib for Philadelphia Chromosome-Positive ALL"),
                     profile_from_assessment(assessed(doc)))
    assert m.verdict == "check"
    (ph,) = [c for c in m.criteria if c.criterion == "philadelphia"]
    assert ph.outcome == "unknown"
    assert "BCR::ABL1" in (ph.settle or "")


def test_t_cell_patient_fails_a_b_cell_study() -> None:
    profile = profile_from_assessment(assessed(example_doc("example-002")))
    assert profile.value("lineage") == "T"
    m = screen_trial(trial("Inotuzumab in B-cell ALL"), profile)
    assert m.verdict == "excluded"
    assert _outcomes(m)["lineage"] == "not_met"


@pytest.mark.parametrize(("age", "groups", "outcome"), [
    (17.99, ("CHILD",), "unknown"), (18.0, ("CHILD",), "not_met"),
    (18.0, ("ADULT",), "unknown"), (70.0, ("CHILD", "ADULT"), "not_met")])
def test_age_groups_can_rule_out_but_never_confirm(age: float, groups: tuple[str, ...],
                                                   outcome: str) -> None:
    """ClinicalTrials.gov derives the groups from the exact limits: "Adult" may mean 18 to
    21, so a fitting group leaves the age unknown until the exact limits are read."""
    from allpath.trials.profile import ProfileItem, TrialProfile

    p = TrialProfile("x", {"age_years": ProfileItem(age)})
    m = screen_trial(trial("ALL study", groups=groups), p)
    assert _outcomes(m)["age"] == outcome


@pytest.mark.parametrize(("age", "outcome"), [(1.0, "met"), (17.9, "met"), (18.0, "not_met"),
                                              (0.9, "not_met")])
def test_exact_maximum_age_admits_the_whole_stated_year(age: float, outcome: str) -> None:
    from allpath.trials.profile import ProfileItem, TrialProfile

    t = trial("ALL study", groups=("CHILD",), min_age_years=1.0, max_age_years=17.0,
              has_exact_ages=True)
    m = screen_trial(t, TrialProfile("x", {"age_years": ProfileItem(age)}))
    assert _outcomes(m)["age"] == outcome


def test_sex_restricted_study() -> None:
    from allpath.trials.profile import ProfileItem, TrialProfile

    t = trial("ALL study", sex="FEMALE")
    assert _outcomes(screen_trial(t, TrialProfile("x", {"sex": ProfileItem("male")})))[
        "sex"] == "not_met"
    assert _outcomes(screen_trial(t, TrialProfile("x", {})))["sex"] == "unknown"


def test_closed_studies_skipped_unless_asked_and_counts_cover_excluded() -> None:
    a = assessed(example_doc("example-002"))  # T-ALL
    trials = [trial("T-ALL study", nct_id="NCT00000001"),
              trial("B-ALL study", nct_id="NCT00000002"),
              trial("T-ALL study", nct_id="NCT00000003", status="COMPLETED")]
    r = match_trials(a, trials)
    assert r.screened == 2
    # a registration without criteria text is "check" at best
    assert r.counts == {"possible": 0, "check": 1, "excluded": 1}
    assert [m.trial.nct_id for m in r.matches] == ["NCT00000001"]
    r = match_trials(a, trials, include_closed=True, include_excluded=True)
    assert r.screened == 3
    assert {m.trial.nct_id: m.verdict for m in r.matches}["NCT00000003"] == "excluded"


def test_country_filter_keeps_studies_with_a_site_there() -> None:
    from allpath.trials import Site

    a = assessed(example_doc("example-001"))
    trials = [trial("B-ALL study", nct_id="NCT00000001", sites=(Site("A", "Lyon", None,
                                                                       "France"),)),
              trial("B-ALL study", nct_id="NCT00000002", sites=(Site("B", "Ulm", None,
                                                                       "Germany"),))]
    r = match_trials(a, trials, country="germany")
    assert [m.trial.nct_id for m in r.matches] == ["NCT00000002"]


def test_specific_matches_come_first() -> None:
    a = assessed(example_doc("example-001"))
    trials = [trial("Acute lymphoblastic leukemia registry", nct_id="NCT00000001"),
              trial("CD19 CAR-T for B-ALL", nct_id="NCT00000002", phases=("PHASE2",)),
              trial("Ph-positive B-ALL", nct_id="NCT00000003")]
    r = match_trials(a, trials)
    assert [m.trial.nct_id for m in r.matches] == ["NCT00000002", "NCT00000001"]
    assert {m.verdict for m in r.matches} == {"check"}  # no criteria text in these records


def test_bundled_snapshot_for_a_relapsed_b_all_child(shared: Path) -> None:
    doc = load_yaml((shared / "vignettes" / "monitoring" /
                          "m04-very-early-marrow-relapse.yaml").read_text())
    r = match_trials(assess(parse_record(doc["record"])), bundled_trials(),
                     include_excluded=True)
    assert r.screened == 308
    assert sum(r.counts.values()) == 308
    verdicts = {m.trial.nct_id: m.verdict for m in r.matches}
    # newly-diagnosed-only protocols whose criteria text says so are excluded
    assert verdicts["NCT05327894"] == "excluded"  # Interfant-21: "Relapsed ALL" excluded
    for m in r.matches:
        if m.verdict == "possible":
            assert "newly" not in m.trial.title.lower()
            assert m.trial.eligibility_text


def test_report_document_carries_disclaimer_rules_and_sources() -> None:
    r = match_trials(assessed(example_doc("example-001")), bundled_trials(), limit=3)
    doc = r.to_dict()
    assert doc["format"] == "allpath.trial_matches/1"
    assert doc["disclaimer"] == TRIALS_DISCLAIMER
    assert doc["profile"]["lineage"]["rule_id"] == "lineage.b_only"
    for m in doc["matches"]:
        assert m["url"] == f"https://clinicaltrials.gov/study/{m['nct_id']}"
        for c in m["criteria"]:
            assert c["citations"], c


def test_personal_guide_counts_only_what_the_matcher_calls_possible() -> None:
    """The family guide never counts studies the pre-screen could not confirm (issue 13)."""
    import re

    from allpath.examples import example_paths
    from allpath.guide import personal_guide

    path = str(example_paths()[0])
    line = next(x for x in personal_guide(path).intro if "esearch stud" in x)
    r = match_trials(assessed(example_doc("example-001")), bundled_trials())
    counted = [int(n) for n in re.findall(r"\b(\d+) open research", line)]
    assert counted == ([r.count("possible")] if r.count("possible") else [])
    assert str(r.count("possible") + r.count("check")) not in line.split()


def test_relapse_prevention_is_not_a_relapsed_population() -> None:
    t = trial("Donor NK-cell Infusions for Leukemia Relapse Prophylaxis After Transplant")
    assert "setting" not in _reqs(t)
    assert _reqs(trial("Blinatumomab in First Relapse of B-ALL"))["setting"] == \
        "relapsed_refractory"


def test_interventional_studies_come_before_observational_ones() -> None:
    a = assessed(example_doc("example-001"))
    trials = [trial("B-ALL registry", nct_id="NCT00000001", study_type="OBSERVATIONAL"),
              trial("B-ALL treatment", nct_id="NCT00000002", study_type="INTERVENTIONAL")]
    assert [m.trial.nct_id for m in match_trials(a, trials).matches] == [
        "NCT00000002", "NCT00000001"]


def test_post_transplant_cyclophosphamide_is_not_an_after_transplant_population() -> None:
    t = trial("Busulfan and Post-Transplant Cyclophosphamide in Patients Undergoing Transplant")
    assert "transplant" not in _reqs(t)
    assert _reqs(trial("Inotuzumab Ozogamicin Post-Transplant for ALL"))["transplant"] == \
        "after_transplant"


def test_infant_studies_need_an_infant() -> None:
    t = trial("Interfant-21 Treatment Protocol for Infants Under 1 Year With KMT2A-r ALL",
              groups=("CHILD",))
    assert _reqs(t)["infant"] == "infant"
    child = screen_trial(t, profile_from_assessment(assessed(example_doc("example-001"))))
    assert _outcomes(child)["infant"] == "not_met"
    infant = profile_from_assessment(assessed(example_doc("example-003")))
    assert infant.value("infant") == "infant"
    assert infant.items["infant"].rule_id.startswith("infant_nccn")  # type: ignore[union-attr]
    assert _outcomes(screen_trial(t, infant))["infant"] == "met"
    # a survivors' study that mentions an infant lung disease sets nothing
    assert "infant" not in _reqs(trial("Fitness Among Survivors of Leukemia and Infant BPD"))


def test_every_example_report_validates_against_the_published_schema() -> None:
    import json

    jsonschema = pytest.importorskip("jsonschema")
    from support import REPO, example_docs

    schema = json.loads((REPO / "docs" / "schema" / "trial-matches.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for doc in example_docs():
        r = match_trials(assessed(doc), bundled_trials(),
                         include_closed=True, include_excluded=True, limit=40)
        errors = sorted(validator.iter_errors(r.to_dict()), key=str)
        assert not errors, f"{doc['id']}: {errors[0]}"


def test_verdict_follows_the_criteria_for_any_profile_and_study() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from allpath.trials.criteria import PROFILE_KEYS
    from allpath.trials.profile import ProfileItem, TrialProfile

    words = st.sampled_from(["Relapsed", "Newly Diagnosed", "B-ALL", "T-ALL", "Ph+",
                             "Ph-negative", "CD19", "Inotuzumab", "MRD-positive", "Infants With",
                             "Post-Transplant", "Lymphoblastic Lymphoma", "Leukemia", "Study"])
    values = {k: st.sampled_from((None, *v)) for k, v in PROFILE_KEYS.items()}

    @settings(max_examples=150, deadline=None)
    @given(title=st.lists(words, min_size=1, max_size=5).map(" ".join),
           age=st.one_of(st.none(), st.floats(0, 90)),
           groups=st.sets(st.sampled_from(["CHILD", "ADULT", "OLDER_ADULT"])),
           status=st.sampled_from(["RECRUITING", "COMPLETED"]),
           chosen=st.fixed_dictionaries(values))
    def check(title: str, age: float | None, groups: set[str], status: str,
              chosen: dict[str, str | None]) -> None:
        items = {k: ProfileItem(v) for k, v in chosen.items()}
        items["age_years"] = ProfileItem(age)
        m = screen_trial(trial(title, groups=tuple(groups), status=status),
                         TrialProfile("x", items))
        outcomes = [c.outcome for c in m.criteria if c.kind == "population"]
        assert (m.verdict == "excluded") == ("not_met" in outcomes)
        assert (m.verdict == "possible") == all(o == "met" for o in outcomes)
        assert m.verdict != "possible"  # no criteria text: never more than "check"
        assert all(c.settle for c in m.criteria if c.outcome == "unknown")
        assert (status == "COMPLETED") <= (m.verdict == "excluded")

    check()


def test_down_syndrome_comes_from_the_risk_packs_aall1731_ds_decision() -> None:
    doc = example_doc("example-001")  # B-ALL child
    doc["conditions"] = ["down_syndrome"]
    a = assessed(doc)
    (ds,) = [r for r in a.results if r.output == "risk.aall1731_ds"]
    p = profile_from_assessment(a)
    assert p.value("down_syndrome") == "yes"
    assert p.items["down_syndrome"].rule_id == ds.rule_id
    assert p.items["down_syndrome"].rule_id.startswith("aall1731_ds.")  # type: ignore[union-attr]
    assert "AALL1731-DS-HIGH" in p.items["down_syndrome"].cite
    assert p.value("ds_risk") == ds.value and ds.value in ("ds_standard", "ds_high")
    # a study that excludes Down syndrome excludes this child; one for DS-ALL keeps it open
    text = "Inclusion Criteria:\n- B-ALL\nExclusion Criteria:\n- Down syndrome"
    m = screen_trial(trial("", eligibility_text=text), p)
    assert m.verdict == "excluded"
    assert "text.exclusion.down_syndrome" in {c.criterion for c in m.failed}
    ds_only = "Inclusion Criteria:\n- Down syndrome patients with newly diagnosed B-ALL"
    m = screen_trial(trial("", eligibility_text=ds_only), p)
    assert "text.exclusion.down_syndrome" not in {c.criterion for c in m.failed}
    assert "text.down_syndrome" not in {c.criterion for c in m.failed}


def test_down_syndrome_outside_the_aall1731_arms_comes_from_the_record() -> None:
    doc = example_doc("example-002")  # T-ALL: the DS arms are for B-ALL
    doc["conditions"] = ["down_syndrome"]
    p = profile_from_assessment(assessed(doc))
    assert p.value("down_syndrome") == "yes"
    assert p.items["down_syndrome"].inputs == ("conditions",)
    assert p.value("ds_risk") is None
    assert "B-ALL with Down syndrome" in (p.items["ds_risk"].note or "")
    # no conditions listed: unknown, not "no"
    doc.pop("conditions")
    p = profile_from_assessment(assessed(doc))
    assert p.value("down_syndrome") is None and p.value("ds_risk") is None


def test_shared_results_within_a_call_equal_screening_each_study_alone() -> None:
    from dataclasses import replace

    from allpath.trials.match import _sort_key

    snapshot = bundled_trials()
    # every study twice (as distinct ids), so shared texts and words are reused
    studies = [*snapshot, *(replace(t, nct_id=t.nct_id + "X") for t in snapshot)]
    for rid in ("example-001", "example-002"):
        profile = profile_from_assessment(assessed(example_doc(rid)))
        report = match_trials(profile, studies, include_closed=True, include_excluded=True)
        alone = {t.nct_id: screen_trial(t, profile) for t in studies}
        assert len(report.matches) == len(studies)
        for m in report.matches:
            a = alone[m.trial.nct_id]
            assert (m.verdict, m.criteria) == (a.verdict, a.criteria), m.trial.nct_id
        expected = sorted(alone.values(), key=_sort_key)
        assert [m.trial.nct_id for m in report.matches] == [m.trial.nct_id for m in expected]
