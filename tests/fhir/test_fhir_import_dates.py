"""FHIR import dates: invalid dates are errors with their path, clock time is kept and
orders same-day results, and the diagnostic work-up window (knowledge/fhir_import.yaml)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fhir_import_helpers import all_condition, bundle, lab, medication

from allpath.errors import RecordError
from allpath.interop.fhir import read_bundle
from allpath.interop.fhir.read import import_settings, parse_when
from allpath.knowledge import knowledge_dir
from allpath.observations.normalise import normalise
from allpath.pipeline import assess
from support import load_yaml

PEDIATRIC = Path(__file__).parent / "data" / "mcode_pediatric_all_bundle.json"


@pytest.mark.parametrize("bad", ["2020-13-01", "2021-02-30", "2024-05-01T25:00:00Z",
                                 "2024-05-01T08:61:00Z", "01/05/2024", "2024-5-1",
                                 "2024-05-01T08:30:00+15:00"])
def test_invalid_observation_date_is_an_error_naming_its_path(bad: str) -> None:
    doc = bundle(lab("6690-2", 5.0, "10*9/L", "2024-05-01"), lab("6690-2", 5.0, "10*9/L", bad))
    with pytest.raises(RecordError) as err:
        read_bundle(doc)
    [problem] = err.value.problems
    assert problem.path == "Bundle.entry[2].resource.effectiveDateTime"
    assert "not a valid date" in problem.message and bad in str(problem.got)
    assert problem.expected and "YYYY-MM-DD" in problem.expected


def test_invalid_birth_and_onset_dates_name_their_element() -> None:
    with pytest.raises(RecordError) as err:
        read_bundle(bundle(birth="2018-02-31"))
    assert err.value.problems[0].path == "Bundle.entry[0].resource.birthDate"
    with pytest.raises(RecordError) as err:
        read_bundle(bundle(all_condition(onset="2024-00-10")))
    assert err.value.problems[0].path == "Bundle.entry[1].resource.onsetDateTime"


def test_invalid_medication_date_is_an_error_too() -> None:
    med = medication("MedicationAdministration", "11202", "vincristine", "2024-13-09",
                     category="induction")
    with pytest.raises(RecordError) as err:
        read_bundle(bundle(med))
    assert err.value.problems[0].path == "Bundle.entry[1].resource.effectiveDateTime"


def test_a_partial_date_is_a_warning_not_an_error() -> None:
    imp = read_bundle(bundle(lab("6690-2", 5.0, "10*9/L", "2024-05")))
    assert imp.patient.observations == ()
    assert any(w.path == "Bundle.entry[1].resource.effective[x]" for w in imp.warnings)


def test_parse_when_keeps_the_clock_time_and_gives_the_instant() -> None:
    value, instant = parse_when("2024-05-01T08:30:15.250+02:00", "x")
    assert value == dt.datetime(2024, 5, 1, 8, 30, 15)
    assert instant == dt.datetime(2024, 5, 1, 6, 30, 15, tzinfo=dt.UTC)
    assert parse_when("2024", "x") == (None, None)
    assert parse_when("2024-05-01", "x")[0] == dt.date(2024, 5, 1)


def test_same_day_results_are_ordered_by_clock_time_not_entry_order() -> None:
    # Entered evening first, morning second: the record and the timeline put the
    # morning count first, so "the last count on the diagnosis day" is the evening one.
    doc = bundle(all_condition(onset="2024-05-01"),
                 lab("6690-2", 80.0, "10*9/L", "2024-05-01T18:45:00+02:00"),
                 lab("6690-2", 60.0, "10*9/L", "2024-05-01T07:10:00+02:00"))
    rec = read_bundle(doc).patient
    assert [(o.time, o.value) for o in rec.observations] == [
        (dt.datetime(2024, 5, 1, 7, 10), 60), (dt.datetime(2024, 5, 1, 18, 45), 80)]
    series = normalise(rec).series("wbc")
    assert [o.index for o in series] == [0, 1]
    risk = {r["scheme"]: r for r in assess(rec).to_dict()["risk"]}
    # WBC 80 x10^9/L (the later count) is >= 50: NCI high, not decided on the morning 60.
    assert "wbc.dx" not in risk["nci_rome"]["missing"]


def test_official_mcode_example_cbc_three_days_after_onset_is_the_diagnostic_count() -> None:
    imp = read_bundle(PEDIATRIC)
    rec = imp.patient
    assert rec.diagnosis_date == dt.date(2024, 1, 1)
    labelled = {o.code: o.timepoint for o in rec.observations}
    assert labelled["wbc"] == "diagnosis" and labelled["hemoglobin"] == "diagnosis"
    assert labelled["hematocrit"] is None  # not a work-up analyte
    notes = [w for w in imp.warnings if "used as the diagnostic result" in w.message]
    assert {w.path for w in notes} == {"Bundle.entry[3].resource", "Bundle.entry[5].resource"}
    risk = {r["scheme"]: r for r in assess(rec).to_dict()["risk"]}
    assert "wbc.dx" not in risk["nci_rome"]["missing"]


def test_count_after_the_window_or_after_treatment_started_is_not_diagnostic() -> None:
    window = import_settings().workup_days
    late = (dt.date(2024, 1, 1) + dt.timedelta(days=window + 1)).isoformat()
    rec = read_bundle(bundle(all_condition(), lab("6690-2", 30.0, "10*9/L", late))).patient
    assert rec.observations[0].timepoint is None
    started = bundle(all_condition(), medication("MedicationAdministration", "11202",
                                                 "vincristine", "2024-01-02"),
                     lab("6690-2", 30.0, "10*9/L", "2024-01-04"))
    imp = read_bundle(started)
    assert imp.patient.observations[0].timepoint is None
    assert not any("diagnostic result" in w.message for w in imp.warnings)


def test_a_count_on_or_before_the_diagnosis_date_stays_the_diagnostic_one() -> None:
    doc = bundle(all_condition(), lab("6690-2", 12.0, "10*9/L", "2023-12-30"),
                 lab("6690-2", 30.0, "10*9/L", "2024-01-03"))
    rec = read_bundle(doc).patient
    assert [o.timepoint for o in rec.observations] == [None, None]


def test_workup_window_is_cited_and_marked_unconfirmed() -> None:
    doc = load_yaml((knowledge_dir() / "fhir_import.yaml").read_text(encoding="utf-8"))
    cites = load_yaml((knowledge_dir() / "citations.yaml").read_text(encoding="utf-8"))
    known = {c["id"] for c in (cites["citations"] if isinstance(cites, dict) else cites)}
    for section in ("diagnostic_workup", "observation_status", "medication_status",
                    "leukaemia_evidence"):
        assert set(doc[section]["cite"]) <= known, section
    w = doc["diagnostic_workup"]
    assert w["evidence"] == "unconfirmed" and w["reasoning"]
    assert import_settings().workup_days == w["window_days"]


def test_diagnosis_date_falls_back_to_asserted_then_recorded_date() -> None:
    asserted = all_condition()
    del asserted["onsetDateTime"]
    asserted["recordedDate"] = "2024-01-09"
    asserted["extension"] = [{
        "url": "http://hl7.org/fhir/StructureDefinition/condition-assertedDate",
        "valueDateTime": "2024-01-05"}]
    assert read_bundle(bundle(asserted)).patient.diagnosis_date == dt.date(2024, 1, 5)
    del asserted["extension"]
    assert read_bundle(bundle(asserted)).patient.diagnosis_date == dt.date(2024, 1, 9)


def test_onset_age_is_warned_not_turned_into_a_date() -> None:
    cond = all_condition()
    del cond["onsetDateTime"]
    cond["onsetAge"] = {"value": 5, "unit": "a"}
    imp = read_bundle(bundle(cond))
    assert imp.patient.diagnosis_date is None
    [w] = [w for w in imp.warnings if w.path == "Bundle.entry[1].resource.onset[x]"]
    assert "onsetAge is not a date" in w.message
