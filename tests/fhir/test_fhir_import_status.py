"""FHIR import: only final results are used (FHIR R4 ObservationStatus), MRD by its name,
and treatment phases from MedicationRequest/Administration of ALL drugs."""

from __future__ import annotations

import datetime as dt

import pytest
from fhir_import_helpers import all_condition, bundle, lab, medication

from allpath.interop.fhir import read_bundle


@pytest.mark.parametrize("status", ["preliminary", "registered", "entered-in-error",
                                    "unknown", "cancelled"])
def test_non_final_result_is_not_used_and_warned_with_its_path(status: str) -> None:
    imp = read_bundle(bundle(lab("6690-2", 5.0, "10*9/L", "2024-05-01", status=status)))
    assert imp.patient.observations == ()
    [w] = [w for w in imp.warnings if w.path == "Bundle.entry[1].resource.status"]
    assert status in w.message and "not a final result" in w.message


@pytest.mark.parametrize("status", ["final", "amended", "corrected"])
def test_final_amended_and_corrected_results_are_used(status: str) -> None:
    imp = read_bundle(bundle(lab("6690-2", 5.0, "10*9/L", "2024-05-01", status=status)))
    assert [o.code for o in imp.patient.observations] == ["wbc"]


def test_result_without_status_is_not_used_as_final() -> None:
    obs = lab("6690-2", 5.0, "10*9/L", "2024-05-01")
    del obs["status"]
    imp = read_bundle(bundle(obs))
    assert imp.patient.observations == ()
    assert any(w.path.endswith(".status") and "no status" in w.message for w in imp.warnings)


def test_preliminary_mrd_is_not_read_as_the_end_of_induction_result() -> None:
    prelim = lab("", 0.005, "%", "2024-01-29", status="preliminary",
                 text="Minimal residual disease in bone marrow by flow cytometry")
    imp = read_bundle(bundle(all_condition(), prelim))
    assert imp.patient.observations == ()


@pytest.mark.parametrize("text,code", [
    ("Measurable residual disease, bone marrow (flow cytometry)", "mrd_marrow"),
    ("B-ALL MRD, peripheral blood", "mrd_blood"),
])
def test_mrd_is_recognised_by_its_name(text: str, code: str) -> None:
    imp = read_bundle(bundle(all_condition(), lab("", 0.02, "%", "2024-01-29", text=text)))
    assert [(o.code, o.value) for o in imp.patient.observations] == [(code, 0.02)]


def test_phase_from_the_category_of_an_all_drug_order() -> None:
    doc = bundle(all_condition(),
                 medication("MedicationRequest", "11202", "vincristine", "2024-01-09",
                            category="Induction", status="active", rid="vcr"),
                 medication("MedicationAdministration", "11202", "vincristine",
                            "2024-01-16", request="MedicationRequest/vcr"))
    imp = read_bundle(doc)
    [ev] = imp.patient.treatment
    assert ev.phase == "induction" and ev.start == dt.date(2024, 1, 9)


def test_administration_takes_the_phase_of_its_request() -> None:
    # The administration comes first in the Bundle; the request names the phase.
    doc = bundle(all_condition(),
                 medication("MedicationAdministration", "6851", "methotrexate",
                            "2024-03-01", request="MedicationRequest/mtx"),
                 medication("MedicationRequest", "6851", "methotrexate", "2024-03-04",
                            category="consolidation", status="active", rid="mtx"))
    [ev] = read_bundle(doc).patient.treatment
    assert ev.phase == "consolidation" and ev.start == dt.date(2024, 3, 1)


def test_a_drug_that_is_not_all_therapy_makes_no_phase() -> None:
    doc = bundle(all_condition(), medication("MedicationRequest", "519", "allopurinol",
                                             "2024-01-05", category="induction",
                                             status="active"))
    imp = read_bundle(doc)
    assert imp.patient.treatment == ()
    assert any("allopurinol is not a drug of ALL treatment" in w.message
               for w in imp.warnings)


def test_entered_in_error_administration_is_not_used() -> None:
    doc = bundle(all_condition(), medication("MedicationAdministration", "11202",
                                             "vincristine", "2024-01-09",
                                             category="induction",
                                             status="entered-in-error"))
    imp = read_bundle(doc)
    assert imp.patient.treatment == ()
    assert any(w.path == "Bundle.entry[2].resource.status" for w in imp.warnings)


def test_all_drug_without_a_phase_is_warned_not_guessed() -> None:
    doc = bundle(all_condition(), medication("MedicationAdministration", "11202",
                                             "vincristine", "2024-01-09"))
    imp = read_bundle(doc)
    assert imp.patient.treatment == ()
    assert any("treatment phase not derivable" in w.message for w in imp.warnings)
