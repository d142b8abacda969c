"""FHIR export: the ALL drugs a source records as given become mCODE 4.0.0
CancerRelatedMedicationAdministrations (RxNorm where a source gives it, the source's codings
kept first), linked from the recorded phase's MedicationStatement; the record alone (phases
without drugs) still gives MedicationStatements only."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from fhir_import_helpers import RXNORM, all_condition, bundle, medication

from allpath import assess
from allpath.interop.fhir import assessment_to_bundle, read_bundle
from allpath.interop.fhir.codes import CS, MCODE
from allpath.interop.fhir.profiles import PackageSet, check_bundle

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _of(bundle_: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle_["entry"] if e["resource"]["resourceType"] == rtype]


def _brian_l(packages: PackageSet) -> dict[str, Any]:
    """The official paediatric B-ALL example patient's resources as one collection Bundle."""
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in packages.examples()
            if p.stem.endswith("brian-l")]
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"http://example.org/fhir/{d['resourceType']}/{d['id']}",
                       "resource": d} for d in docs]}


def _export(source: dict[str, Any]) -> dict[str, Any]:
    return assessment_to_bundle(assess(read_bundle(source).patient), now=NOW, source=source)


def test_official_brian_l_administrations_export_as_mcode_with_rxnorm(
        packages: PackageSet) -> None:
    source = _brian_l(packages)
    out = _export(source)
    admins = _of(out, "MedicationAdministration")
    # idarubicin 5650, prednisone 8640, vincristine 11202, as the official example codes them
    assert sorted(a["medicationCodeableConcept"]["coding"][0]["code"] for a in admins) == [
        "11202", "5650", "8640"]
    [cond] = [e["fullUrl"] for e in out["entry"]
              if MCODE.PRIMARY_CANCER_CONDITION
              in (e["resource"].get("meta") or {}).get("profile", [])]
    [pat] = [e["fullUrl"] for e in out["entry"] if e["resource"]["resourceType"] == "Patient"]
    for a in admins:
        assert a["meta"]["profile"] == [MCODE.MEDICATION_ADMINISTRATION]
        assert a["status"] == "completed" and a["effectiveDateTime"] == "2024-01-09"
        assert a["subject"] == {"reference": pat}
        assert a["reasonReference"] == [{"reference": cond}]
        assert a["dosage"]["dose"]["system"] == "http://unitsofmeasure.org"
    checks = check_bundle(out, packages)
    assert sum(c.profile == MCODE.MEDICATION_ADMINISTRATION for c in checks) == 3
    assert [str(f) for c in checks for f in c.violations] == []
    # The checker does look at them: an administration without its status is a violation.
    broken = copy.deepcopy(out)
    del _of(broken, "MedicationAdministration")[0]["status"]
    assert any("status" in str(f) for c in check_bundle(broken, packages)
               for f in c.violations)


def test_given_all_drugs_are_linked_from_their_recorded_phase(packages: PackageSet) -> None:
    vcr = medication("MedicationAdministration", "11202", "vincristine", "2024-01-09",
                     category="induction", rid="vcr1")
    mtx = medication("MedicationAdministration", "6851", "methotrexate", "2024-01-16",
                     category="induction", rid="mtx1")
    omeprazole = medication("MedicationAdministration", "7646", "omeprazole", "2024-01-10",
                            rid="ome1")
    skipped = medication("MedicationAdministration", "3002", "cyclophosphamide", "2024-01-11",
                         category="induction", status="not-done", rid="cpm1")
    source = bundle(all_condition(), vcr, mtx, omeprazole, skipped)
    out = _export(source)
    admins = {a["medicationCodeableConcept"]["text"]: a
              for a in _of(out, "MedicationAdministration")}
    # Not ALL therapy (omeprazole) and not given (not-done) are not exported.
    assert sorted(admins) == ["methotrexate", "vincristine"]
    assert admins["methotrexate"]["medicationCodeableConcept"]["coding"] == [
        {"system": RXNORM, "code": "6851", "display": "methotrexate"}]
    [statement] = _of(out, "MedicationStatement")
    assert statement["category"]["coding"][0] == {
        "system": CS.PHASE, "code": "induction", "display": "induction"}
    urls = {e["resource"]["medicationCodeableConcept"]["text"]: e["fullUrl"]
            for e in out["entry"] if e["resource"]["resourceType"] == "MedicationAdministration"}
    assert statement["derivedFrom"] == [{"reference": urls["vincristine"]},
                                        {"reference": urls["methotrexate"]}]
    assert [str(f) for c in check_bundle(out, packages) for f in c.violations] == []
    # Reading the export back gives the same treatment phase.
    assert read_bundle(out).patient.treatment == read_bundle(source).patient.treatment


def test_record_without_a_source_keeps_phases_as_statements_only() -> None:
    source = bundle(all_condition(), medication(
        "MedicationAdministration", "11202", "vincristine", "2024-01-09", category="induction"))
    record = read_bundle(source).patient
    out = assessment_to_bundle(assess(record), now=NOW)
    assert _of(out, "MedicationAdministration") == []
    [statement] = _of(out, "MedicationStatement")
    assert "derivedFrom" not in statement
    assert statement["medicationCodeableConcept"] == {"text": "ALL therapy, induction"}


def test_official_brian_l_orders_export_as_mcode_requests_linked_from_their_doses(
        packages: PackageSet) -> None:
    # The official example orders cyclophosphamide, idarubicin, prednisone and vincristine and
    # gives three of them, each administration naming its order (MedicationAdministration.request).
    source = _brian_l(packages)
    out = _export(source)
    requests = {e["resource"]["medicationCodeableConcept"]["coding"][0]["code"]: e
                for e in out["entry"] if e["resource"]["resourceType"] == "MedicationRequest"
                and e["resource"]["status"] != "draft"}  # drafts are ALLPath's planned drugs
    assert sorted(requests) == ["11202", "3002", "5650", "8640"]
    for e in requests.values():
        r = e["resource"]
        assert r["meta"]["profile"] == [MCODE.MEDICATION_REQUEST]
        assert (r["status"], r["intent"], r["authoredOn"]) == ("active", "order", "2024-01-09")
    for a in _of(out, "MedicationAdministration"):
        code = a["medicationCodeableConcept"]["coding"][0]["code"]
        assert a["request"] == {"reference": requests[code]["fullUrl"]}
    checks = check_bundle(out, packages)
    assert sum(c.profile == MCODE.MEDICATION_REQUEST for c in checks) >= 4
    assert [str(f) for c in checks for f in c.violations] == []


def test_orders_of_a_phase_are_its_statement_basis_and_drafts_are_not_orders(
        packages: PackageSet) -> None:
    order = medication("MedicationRequest", "11202", "vincristine", "2024-01-08",
                       category="induction", status="active", rid="vcr-order")
    given = medication("MedicationAdministration", "11202", "vincristine", "2024-01-09",
                       category="induction", rid="vcr1", request="MedicationRequest/vcr-order")
    draft = medication("MedicationRequest", "6851", "methotrexate", "2024-01-10",
                       category="induction", status="draft", rid="mtx-draft")
    cancelled = medication("MedicationRequest", "3002", "cyclophosphamide", "2024-01-10",
                           category="induction", status="cancelled", rid="cpm-x")
    source = bundle(all_condition(), order, given, draft, cancelled)
    out = _export(source)
    ordered = [e for e in out["entry"] if e["resource"]["resourceType"] == "MedicationRequest"
               and e["resource"]["intent"] == "order"]
    assert [e["resource"]["medicationCodeableConcept"]["text"] for e in ordered] == [
        "vincristine"]
    [statement] = _of(out, "MedicationStatement")
    assert statement["basedOn"] == [{"reference": ordered[0]["fullUrl"]}]
    [admin] = _of(out, "MedicationAdministration")
    assert admin["request"] == {"reference": ordered[0]["fullUrl"]}
    assert [str(f) for c in check_bundle(out, packages) for f in c.violations] == []
