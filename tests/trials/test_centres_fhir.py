"""Centre finder (by place and by distance) and the FHIR ResearchStudy export of matches."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from trial_helpers import assessed, example_doc, trial

from allpath.interop.fhir.release import validate_resource
from allpath.trials import Site, bundled_trials, find_centres, match_trials, read_ctgov_json
from allpath.trials.centres import great_circle_km
from allpath.trials.fhir import report_to_bundle, study_resource
from allpath.trials.match import screen_trial
from allpath.trials.profile import TrialProfile


def test_haversine_distance_of_known_points() -> None:
    assert great_circle_km((0.0, 0.0), (0.0, 0.0)) == 0.0
    # a quarter of a great circle on the mean Earth sphere
    assert math.isclose(great_circle_km((0.0, 0.0), (0.0, 90.0)),
                        math.pi / 2 * 6371.0088, rel_tol=1e-12)
    # London - Paris, about 344 km along the great circle
    assert 340 < great_circle_km((51.5074, -0.1278), (48.8566, 2.3522)) < 348


def test_centres_group_sites_of_open_studies_by_facility() -> None:
    s = Site("Hospital A", "Lyon", None, "France")
    trials = [trial("B-ALL one", nct_id="NCT00000001", sites=(s, Site("Hospital B", "Paris",
                                                                       None, "France"))),
              trial("B-ALL two", nct_id="NCT00000002", sites=(s,)),
              trial("B-ALL old", nct_id="NCT00000003", sites=(s,), status="COMPLETED")]
    centres = find_centres(trials, country="france")
    assert [(c.facility, c.trials) for c in centres] == [
        ("Hospital A", ("NCT00000001", "NCT00000002")), ("Hospital B", ("NCT00000001",))]
    assert find_centres(trials, city="Paris")[0].facility == "Hospital B"
    assert find_centres(trials, country="Spain") == []


def test_bundled_centres_in_one_state() -> None:
    centres = find_centres(bundled_trials(), country="United States", state="Tennessee")
    assert centres
    assert all(c.state == "Tennessee" and c.country == "United States" for c in centres)
    counts = [len(c.trials) for c in centres]
    assert counts == sorted(counts, reverse=True)


def test_centres_by_distance_from_geopoints(shared: Path) -> None:
    trials = list(read_ctgov_json(shared / "data" / "ctgov" /
                                         "NCT02513394_api_v2_full_study.json"))
    # the registry says this study is closed; include it to use its 435 coordinates
    near = (30.69436, -88.04305)  # the Mobile, Alabama site
    centres = find_centres(trials, near=near, within_km=300, include_closed=True)
    assert centres[0].city == "Mobile"
    assert centres[0].distance_km is not None and centres[0].distance_km < 1
    dists = [c.distance_km for c in centres]
    assert all(d is not None and d <= 300 for d in dists)
    assert dists == sorted(dists)  # type: ignore[type-var]


def test_within_needs_a_point() -> None:
    with pytest.raises(ValueError, match="near"):
        find_centres([], within_km=10)


def test_fhir_bundle_of_matches_validates_and_keeps_the_verdict() -> None:
    r = match_trials(assessed(example_doc("example-001")), bundled_trials(), limit=4)
    bundle = report_to_bundle(r)
    validate_resource(bundle)
    assert bundle["type"] == "searchset" and bundle["total"] == 4
    for entry, m in zip(bundle["entry"], r.matches, strict=True):
        res = entry["resource"]
        assert res["resourceType"] == "ResearchStudy" and res["id"] == m.trial.nct_id
        assert res["identifier"][0]["value"] == m.trial.nct_id
        assert entry["search"]["score"] == {"possible": 1.0, "check": 0.5}[m.verdict]
        assert res["status"] == {"RECRUITING": "active", "NOT_YET_RECRUITING": "approved",
                                 "ENROLLING_BY_INVITATION": "active"}[m.trial.status]
        assert m.verdict in res["note"][0]["text"]


@pytest.mark.parametrize(("status", "code"), [("NOT_YET_RECRUITING", "approved"),
                                               ("COMPLETED", "completed"),
                                               ("UNKNOWN", "closed-to-accrual")])
def test_registry_statuses_map_to_r4_codes(status: str, code: str) -> None:
    t = trial("B-ALL study", status=status, phases=("PHASE1", "PHASE2"),
              sites=(Site("H", "Lyon", None, "France", lat=45.76, lon=4.84),))
    res = study_resource(screen_trial(t, TrialProfile("x", {})))
    assert res["status"] == code
    assert res["phase"]["coding"][0]["code"] == "phase-1-phase-2"
    assert res["contained"][0]["position"] == {"latitude": 45.76, "longitude": 4.84}
    if status == "UNKNOWN":
        assert any("UNKNOWN" in n["text"] for n in res["note"])


def test_mcode_matching_service_searchset_reads_as_trials(shared: Path) -> None:
    from allpath.trials import read_trials

    path = shared / "data" / "fhir" / "mcode-json" / "ResearchStudy_searchset_resultBundle.json"
    trials = read_trials(path)
    assert [t.nct_id for t in trials][:2] == ["NCT02684032", "NCT03473639"]
    first = trials[0]
    assert first.status == "ACTIVE_NOT_RECRUITING"  # closed-to-accrual
    assert first.phases == ("PHASE1",) and first.sponsor == "University of Michigan Hospitals"
    assert first.sites and first.sites[0].city == "Birmingham"
    assert (first.eligibility_text or "").startswith("Inclusion Criteria")
    assert not first.has_exact_ages and first.source == "fhir"


def test_exported_bundle_reads_back(tmp_path: Path) -> None:
    import json

    from allpath.trials import read_trials

    r = match_trials(assessed(example_doc("example-001")), bundled_trials(), limit=5)
    path = tmp_path / "matches.json"
    path.write_text(json.dumps(report_to_bundle(r)), encoding="utf-8")
    back = read_trials(path)
    assert [t.nct_id for t in back] == [m.trial.nct_id for m in r.matches]
    for t, m in zip(back, r.matches, strict=True):
        assert t.title == m.trial.title and t.phases == m.trial.phases
        assert [s.facility for s in t.sites] == [s.facility for s in m.trial.sites]
        assert t.status in ("RECRUITING", "NOT_YET_RECRUITING")


def test_invalid_research_study_is_located(tmp_path: Path) -> None:
    import json

    from allpath.errors import TrialDataError
    from allpath.trials import read_trials

    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "ResearchStudy", "id": "NCT00000001",
                      "status": "active"}},
        {"resource": {"resourceType": "ResearchStudy", "id": "x", "status": "sleeping"}}]}
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    with pytest.raises(TrialDataError) as err:
        read_trials(path)
    assert all(p.path.startswith("entry[1].resource") for p in err.value.problems)
    assert any("status" in p.path for p in err.value.problems)


def test_centre_names_differing_only_in_spacing_are_one_centre() -> None:
    a = Site("M D Anderson Cancer Center", "Houston", "Texas", "United States")
    b = Site("MD Anderson Cancer Center", "Houston", "Texas", "United States")
    centres = find_centres([trial("B-ALL one", nct_id="NCT00000001", sites=(a,)),
                            trial("B-ALL two", nct_id="NCT00000002", sites=(b,))])
    assert len(centres) == 1 and centres[0].trials == ("NCT00000001", "NCT00000002")


def test_a_patient_bundle_is_not_a_trial_registry(shared: Path) -> None:
    from allpath.errors import TrialDataError
    from allpath.trials import read_trials

    path = shared / "data" / "fhir" / "mcode-json" / "TrialMatching_Patient01_mcode_bundle.json"
    with pytest.raises(TrialDataError) as err:
        read_trials(path)
    (problem,) = err.value.problems
    assert problem.path == "entry" and "Patient" in (problem.got or "")
