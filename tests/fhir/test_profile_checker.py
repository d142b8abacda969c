"""The snapshot-driven profile checker (allpath.interop.fhir.profiles) catches what it must.

Each test breaks one official mCODE 4.0.0 example (from the published package) in one way
and asserts the checker reports it, at its path; the unbroken example has no violation.
Needs the packages of scripts/fetch_fhir_packages.py (a missing package fails under CI).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from allpath.interop.fhir.profiles import Finding, PackageSet, check_resource

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"


def _example(packages: PackageSet, name: str) -> dict[str, Any]:
    [path] = [p for p in packages.examples() if p.stem == name]
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def _violations(packages: PackageSet, res: dict[str, Any], profile: str,
                bundle: dict[str, Any] | None = None) -> list[Finding]:
    return [f for f in check_resource(res, MCODE + profile, packages, bundle=bundle)
            if f.checked]


def _one(findings: list[Finding], kind: str, path: str) -> Finding:
    hits = [f for f in findings if f.kind == kind and f.path == path]
    assert hits, f"no {kind} finding at {path}: {[str(f) for f in findings]}"
    return hits[0]


CONDITION = "Condition-primary-cancer-condition-brian-l"
VARIANT = "Observation-gx-genomic-variant-fusion-ETV6-RUNX1-brian-l"
RISK = "Observation-all-risk-assessment-standard-brian-l"
BSA = "Observation-body-surface-area-brian-l"
PATIENT = "Patient-cancer-patient-brian-l"


@pytest.mark.parametrize(("name", "profile"), [
    (CONDITION, "mcode-primary-cancer-condition"), (VARIANT, "mcode-genomic-variant"),
    (RISK, "mcode-ALL-risk-assessment"), (BSA, "mcode-body-surface-area"),
    (PATIENT, "mcode-cancer-patient"),
])
def test_unbroken_official_example_has_no_violation(packages: PackageSet, name: str,
                                                    profile: str) -> None:
    assert _violations(packages, _example(packages, name), profile) == []


def test_missing_required_element_is_caught_with_its_path(packages: PackageSet) -> None:
    res = _example(packages, CONDITION)
    del res["code"]
    f = _one(_violations(packages, res, "mcode-primary-cancer-condition"), "cardinality",
             "Condition.code")
    assert f.element == "Condition.code" and "at least 1" in f.message


def test_missing_required_element_inside_a_slice_is_caught(packages: PackageSet) -> None:
    res = _example(packages, VARIANT)
    gene = next(c for c in res["component"] if c["code"]["coding"][0]["code"] == "48018-6")
    del gene["valueCodeableConcept"]
    found = _violations(packages, res, "mcode-genomic-variant")
    f = _one(found, "cardinality", "Observation.component[0].value[x]")
    assert f.element == "Observation.component:gene-studied.value[x]"


def test_wrong_fixed_value_is_caught(packages: PackageSet) -> None:
    res = _example(packages, BSA)
    res["category"][0]["coding"].append(
        {"system": "http://terminology.hl7.org/CodeSystem/observation-category",
         "code": "laboratory"})
    f = _one(_violations(packages, res, "mcode-body-surface-area"), "fixed",
             "Observation.category[0].coding[1].code")
    assert f.element == "Observation.category:VSCat.coding.code" and "vital-signs" in f.message


def test_wrong_pattern_value_is_caught(packages: PackageSet) -> None:
    res = _example(packages, RISK)
    res["code"] = {"coding": [{"system": "http://loinc.org", "code": "21908-9"}]}
    f = _one(_violations(packages, res, "mcode-ALL-risk-assessment"), "pattern",
             "Observation.code")
    assert "C167435" in f.message


def test_code_outside_a_required_binding_is_caught(packages: PackageSet) -> None:
    res = _example(packages, CONDITION)
    res["clinicalStatus"]["coding"][0]["code"] = "cured"
    f = _one(_violations(packages, res, "mcode-primary-cancer-condition"), "binding",
             "Condition.clinicalStatus")
    assert "condition-clinical" in f.message and "cured" in f.message


def test_code_outside_a_required_core_binding_is_caught(packages: PackageSet) -> None:
    res = _example(packages, RISK)
    res["status"] = "done"
    f = _one(_violations(packages, res, "mcode-ALL-risk-assessment"), "binding",
             "Observation.status")
    assert "observation-status" in f.message


def test_too_many_repeats_of_a_slice_are_caught(packages: PackageSet) -> None:
    res = _example(packages, PATIENT)
    birthsex = next(e for e in res["extension"] if e["url"].endswith("us-core-birthsex"))
    res["extension"].append(copy.deepcopy(birthsex))
    f = _one(_violations(packages, res, "mcode-cancer-patient"), "cardinality",
             "Patient.extension:birthsex")
    assert "at most 1" in f.message and "2 found" in f.message


def test_too_many_repeats_of_a_component_slice_are_caught(packages: PackageSet) -> None:
    res = _example(packages, VARIANT)
    change = next(c for c in res["component"] if c["code"]["coding"][0]["code"] == "48019-4")
    res["component"].append(copy.deepcopy(change))
    f = _one(_violations(packages, res, "mcode-genomic-variant"), "cardinality",
             "Observation.component:coding-change-type")
    assert f.element == "Observation.component:coding-change-type"


def test_too_many_repeats_of_a_single_element_are_caught(packages: PackageSet) -> None:
    res = _example(packages, CONDITION)
    res["code"] = [res["code"], res["code"]]
    _one(_violations(packages, res, "mcode-primary-cancer-condition"), "cardinality",
         "Condition.code")


def test_wrong_reference_target_is_caught(packages: PackageSet) -> None:
    res = _example(packages, RISK)
    res["subject"] = {"reference": "Practitioner/owen"}
    f = _one(_violations(packages, res, "mcode-ALL-risk-assessment"), "reference",
             "Observation.subject")
    assert "Practitioner" in f.message


def test_wrong_reference_target_in_a_bundle_is_caught(packages: PackageSet) -> None:
    res = _example(packages, VARIANT)
    res["subject"] = {"reference": "urn:uuid:1b7e0d3c-0000-4000-8000-000000000001"}
    bundle = {"urn:uuid:1b7e0d3c-0000-4000-8000-000000000001": {"resourceType": "Group"}}
    f = _one(_violations(packages, res, "mcode-genomic-variant", bundle), "reference",
             "Observation.subject")
    assert "Group" in f.message
    bundle["urn:uuid:1b7e0d3c-0000-4000-8000-000000000001"] = {"resourceType": "Patient"}
    assert _violations(packages, res, "mcode-genomic-variant", bundle) == []


def test_wrong_choice_type_is_caught(packages: PackageSet) -> None:
    res = _example(packages, RISK)
    res["valueString"] = "standard risk"
    del res["valueCodeableConcept"]
    f = _one(_violations(packages, res, "mcode-ALL-risk-assessment"), "type",
             "Observation.valueString")
    assert "CodeableConcept" in f.message


def test_element_the_profile_does_not_define_is_caught(packages: PackageSet) -> None:
    res = _example(packages, CONDITION)
    res["stageSummary"] = "IV"
    _one(_violations(packages, res, "mcode-primary-cancer-condition"), "unknown-element",
         "Condition.stageSummary")


def test_extension_is_checked_against_its_definition(packages: PackageSet) -> None:
    res = _example(packages, CONDITION)
    res["extension"] = [{"url": MCODE + "mcode-histology-morphology-behavior",
                         "valueString": "8140/3"}]
    f = _one(_violations(packages, res, "mcode-primary-cancer-condition"), "type",
             "Condition.extension[0].valueString")
    assert f.element == "Extension.value[x]"


def test_value_set_that_cannot_be_expanded_is_not_checked_rather_than_passed(
        packages: PackageSet) -> None:
    res = _example(packages, VARIANT)
    findings = check_resource(res, MCODE + "mcode-genomic-variant", packages)
    [nc] = [f for f in findings if f.kind == "binding"]
    assert not nc.checked and "LL1971-2" in nc.message
    assert str(nc).startswith("Observation.valueCodeableConcept [")


def test_resource_of_another_type_is_refused(packages: PackageSet) -> None:
    [f] = check_resource(_example(packages, PATIENT), MCODE + "mcode-genomic-variant",
                         packages)
    assert f.kind == "type" and f.checked


def test_value_sets_expand_offline(packages: PackageSet) -> None:
    clinical = packages.expand("http://hl7.org/fhir/ValueSet/condition-clinical")
    assert clinical is not None
    assert ("http://terminology.hl7.org/CodeSystem/condition-clinical", "remission") in clinical
    gender = packages.expand("http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1")
    assert gender is not None and {c for _, c in gender} == {"male", "female", "other",
                                                             "unknown"}
    assert packages.expand("http://hl7.org/fhir/us/core/ValueSet/us-core-problem-or-health-"
                           "concern") is None


def test_profile_type_of_a_base_profile_missing_from_the_packages(
        packages: PackageSet) -> None:
    # US Core is not in the packages; CancerPatient is derived from us-core-patient.
    assert packages.profile_type(
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient") == "Patient"
    assert packages.profile_type(MCODE + "mcode-cancer-patient") == "Patient"
    assert packages.profile_type("http://example.org/StructureDefinition/nothing") is None
