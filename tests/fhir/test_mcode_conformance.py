"""mCODE 4.0.0 conformance of the FHIR export, and import of the official mCODE examples.

Every resource ALLPath exports for the bundled examples and the shared vignettes is checked
against the snapshot of the profile it declares (``meta.profile``), with the published
``hl7.fhir.us.mcode`` 4.0.0 package (scripts/fetch_fhir_packages.py); the goal, and the
assertion, is 0 violations. Every official example of that package, and the mCODE JSON
bundles in ../shared/data/fhir/mcode-json, is read by the FHIR reader.
Under CI a missing package or shared folder fails these tests (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from allpath import assess, parse_record
from allpath.examples import example_paths
from allpath.interop.fhir import assessment_to_bundle, load_any, read_bundle
from allpath.interop.fhir.codes import CS, EXT, MCODE
from allpath.interop.fhir.profiles import PackageSet, check_bundle
from allpath.record.models import PatientRecord
from support import load_yaml, shared_dir

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
_SHARED = shared_dir()
_VIGNETTES = sorted((_SHARED / "vignettes").glob("*/*.yaml")) if _SHARED else []
_CASES = [*example_paths(), *_VIGNETTES]


def _record(path: Path) -> PatientRecord:
    if path in _VIGNETTES:
        doc = load_yaml(path.read_text(encoding="utf-8"))
        return parse_record(doc["record"], source=str(path))
    return load_any(path)[0]


def _resources(bundle: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def _risks(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in _resources(bundle, "Observation")
            if MCODE.ALL_RISK in (r.get("meta") or {}).get("profile", [])]


def test_cases_include_the_shared_vignettes() -> None:
    assert _VIGNETTES, "../shared/vignettes is not present"
    assert len(_CASES) >= len(list(example_paths())) + 20


@pytest.mark.parametrize("path", _CASES, ids=lambda p: p.stem)
def test_every_exported_resource_conforms_to_its_declared_mcode_profile(
        packages: PackageSet, path: Path) -> None:
    bundle = assessment_to_bundle(assess(_record(path)), now=NOW)
    checks = check_bundle(bundle, packages)
    assert any(c.profile == MCODE.CANCER_PATIENT for c in checks)
    # Every declared profile is one the packages define (nothing declared but unchecked).
    declared = {p for e in bundle["entry"]
                for p in (e["resource"].get("meta") or {}).get("profile", [])}
    assert all(packages.structure_definition(p) is not None for p in declared), declared
    violations = [f"{c.full_url} ({c.resource_type}, {c.profile}): {f}"
                  for c in checks for f in c.violations]
    assert violations == [], "\n".join(violations)


def test_exported_patient_without_a_source_name_says_the_name_is_unknown() -> None:
    rec = load_any(example_paths()[0])[0]
    bundle = assessment_to_bundle(assess(rec), now=NOW)
    [patient] = _resources(bundle, "Patient")
    assert patient["name"] == [{"extension": [{"url": EXT.DATA_ABSENT_REASON,
                                               "valueCode": "unknown"}]}]
    assert [(i["system"].rsplit("/", 1)[1], i["value"]) for i in patient["identifier"]] == [
        ("record-id", rec.id)]


def test_patient_without_all_gets_no_all_risk_assessment(packages: PackageSet) -> None:
    cases = {p.stem: p for p in _VIGNETTES}
    # p09: a lymphoblastic lymphoma; p11: a mixed-phenotype leukaemia; t03: a common cold.
    for stem in ("p09-lymphoma-not-leukemia", "p11-mpal-b-myeloid", "t03-common-cold"):
        a = assess(_record(cases[stem]))
        assert a.to_dict()["diagnosis"]["status"] != "ALL"
        bundle = assessment_to_bundle(a, now=NOW)
        assert not [c for c in _resources(bundle, "Condition")
                    if MCODE.PRIMARY_CANCER_CONDITION in (c.get("meta") or {}).get("profile",
                                                                                  [])], stem
        assert _risks(bundle) == [], stem
    all_case = assessment_to_bundle(assess(_record(cases["p01-sr-etv6-low-risk"])), now=NOW)
    assert _risks(all_case)


def _brian_bundle(packages: PackageSet) -> dict[str, Any]:
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in packages.examples()
            if p.stem.endswith("brian-l")]
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"http://example.org/fhir/{d['resourceType']}/{d['id']}",
                       "resource": d} for d in docs]}


def test_official_pediatric_all_example_round_trips_with_mrn_name_and_source_codes(
        packages: PackageSet) -> None:
    source = _brian_bundle(packages)
    imported = read_bundle(source, source="mCODE 4.0.0 examples, Brian L")
    bundle = assessment_to_bundle(assess(imported.patient), now=NOW, source=source)
    [patient] = _resources(bundle, "Patient")
    assert {"system": "http://hospital.example.org", "value": "MRN5678"}.items() <= \
        patient["identifier"][0].items()
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    assert patient["name"] == [{"family": "L", "given": ["Brian"]}]
    [cond] = [c for c in _resources(bundle, "Condition")
              if MCODE.PRIMARY_CANCER_CONDITION in (c.get("meta") or {}).get("profile", [])]
    codes = [(c["system"], c["code"]) for c in cond["code"]["coding"]]
    # The source's B-ALL SNOMED code stays first; the canonical code is added beside it.
    assert codes[0] == (CS.SNOMED, "277571004")
    assert (CS.SNOMED, "91857003") in codes
    [hist] = [e for e in cond["extension"] if e["url"] == EXT.HISTOLOGY]
    assert hist["valueCodeableConcept"]["coding"][0]["system"] == CS.ICDO3
    assert cond["bodySite"] == [{"text": "Bone marrow"}]
    [variant] = [o for o in _resources(bundle, "Observation")
                 if MCODE.GENOMIC_VARIANT in (o.get("meta") or {}).get("profile", [])]
    genes = [c["valueCodeableConcept"]["coding"][0] for c in variant["component"]
             if c["code"]["coding"][0]["code"] == "48018-6"]
    # HGNC ids as the official ETV6::RUNX1 example codes them.
    assert [(g["system"], g["code"], g["display"]) for g in genes] == [
        (CS.HGNC, "HGNC:3495", "ETV6"), (CS.HGNC, "HGNC:10471", "RUNX1")]
    checks = check_bundle(bundle, packages)
    assert [str(f) for c in checks for f in c.violations] == []


def test_derived_findings_are_not_filed_as_final_laboratory_results() -> None:
    bundle = assessment_to_bundle(assess(load_any(example_paths()[0])[0]), now=NOW)
    derived = [o for o in _resources(bundle, "Observation")
               if o["code"]["coding"][0]["system"] in (CS.FINDING, CS.NCIT)
               and any(c["coding"][0]["system"] == CS.OBS_ORIGIN for c in o["category"])]
    assert derived, "no derived finding exported"
    for o in _resources(bundle, "Observation"):
        cats = {c["coding"][0]["code"] for c in o["category"]}
        if "derived" in cats:
            assert o["status"] == "preliminary" and "laboratory" not in cats
    for r in _risks(bundle):
        assert r["status"] == "preliminary"
        assert {c["coding"][0]["code"] for c in r["category"]} == {"derived"}


def test_planned_drugs_are_draft_medication_requests_with_rxnorm_where_known(
        packages: PackageSet) -> None:
    bundle = assessment_to_bundle(assess(load_any(example_paths()[0])[0]), now=NOW)
    requests = _resources(bundle, "MedicationRequest")
    assert requests
    assert {(r["status"], r["intent"]) for r in requests} == {("draft", "proposal")}
    vcr = [r for r in requests if r["medicationCodeableConcept"]["text"] == "vincristine"]
    assert vcr and all(r["medicationCodeableConcept"]["coding"][0]
                       == {"system": CS.RXNORM, "code": "11202", "display": "vincristine"}
                       for r in vcr)
    # RxNorm from knowledge/drugs.yaml (cited there) for methotrexate; none is guessed for
    # a drug no source codes (dexamethasone).
    mtx = [r for r in requests if r["medicationCodeableConcept"]["text"] == "methotrexate"]
    assert mtx and mtx[0]["medicationCodeableConcept"]["coding"][0]["code"] == "6851"
    dex = [r for r in requests if r["medicationCodeableConcept"]["text"] == "dexamethasone"]
    assert dex and all("coding" not in r["medicationCodeableConcept"] for r in dex)
    [plan] = _resources(bundle, "CarePlan")
    refs = {a["reference"]["reference"] for a in plan["activity"] if "reference" in a}
    urls = {e["fullUrl"] for e in bundle["entry"]
            if e["resource"]["resourceType"] == "MedicationRequest"}
    assert refs == urls
    # A draft request is a plan, not therapy given: reading the export back adds no phase.
    again = read_bundle(bundle).patient
    assert again.treatment == load_any(example_paths()[0])[0].treatment


def test_every_official_mcode_example_conforms_to_its_profile(packages: PackageSet) -> None:
    """The checker raises no false alarm on the IG's own examples."""
    n = 0
    for path in packages.examples():
        doc = json.loads(path.read_text(encoding="utf-8"))
        bundle = doc if doc["resourceType"] == "Bundle" else {
            "resourceType": "Bundle", "type": "collection", "entry": [{"resource": doc}]}
        for c in check_bundle(bundle, packages):
            n += 1
            assert c.violations == (), f"{path.name}: {[str(f) for f in c.violations]}"
    assert n >= 200


def _official_examples() -> list[Path]:
    try:
        return PackageSet().examples()
    except FileNotFoundError:
        return []


_OFFICIAL = _official_examples()


def test_official_examples_are_present(packages: PackageSet) -> None:
    assert len(packages.examples()) == 179
    assert len(_OFFICIAL) == 179


@pytest.mark.parametrize("path", _OFFICIAL, ids=lambda p: p.stem)
def test_official_mcode_example_imports(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    bundle = doc if doc["resourceType"] == "Bundle" else {
        "resourceType": "Bundle", "type": "collection",
        "entry": [{"fullUrl": f"{doc['resourceType']}/{doc['id']}", "resource": doc}]}
    imported = read_bundle(bundle, source=path.name)
    assert imported.patient.id
    for w in imported.warnings:
        assert w.path.startswith("Bundle"), w


_MCODE_JSON = sorted((_SHARED / "data" / "fhir" / "mcode-json").glob("*.json")) \
    if _SHARED else []


def test_shared_mcode_json_bundles_are_present() -> None:
    assert len(_MCODE_JSON) == 2, "../shared/data/fhir/mcode-json is not present"


@pytest.mark.parametrize("path", _MCODE_JSON, ids=lambda p: p.stem)
def test_shared_mcode_json_bundle_imports(path: Path) -> None:
    imported = read_bundle(json.loads(path.read_text(encoding="utf-8")), source=path.name)
    assert imported.patient.id
