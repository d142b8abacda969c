"""Small Bundles built in the FHIR import tests (one Patient first, then the resources)."""

from __future__ import annotations

from typing import Any

SUBJECT = {"reference": "Patient/p1"}
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def bundle(*resources: dict[str, Any], birth: str = "2018-03-04") -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": birth}
    entries = [{"fullUrl": "urn:uuid:p1", "resource": patient}]
    entries += [{"resource": r} for r in resources]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def lab(code: str, value: float, unit: str, when: str, status: str = "final",
        text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": LOINC, "code": code}]} if code else {}
    if text:
        concept["text"] = text
    return {"resourceType": "Observation", "status": status, "code": concept,
            "subject": SUBJECT, "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": unit,
                              "system": "http://unitsofmeasure.org", "code": unit}}


def all_condition(onset: str = "2024-01-01") -> dict[str, Any]:
    return {"resourceType": "Condition", "subject": SUBJECT, "onsetDateTime": onset,
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91857003",
                                 "display": "Acute lymphoid leukemia (disorder)"}]}}


def medication(rt: str, rxnorm: str, name: str, when: str, *, category: str | None = None,
               status: str = "completed", rid: str | None = None,
               request: str | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": rt, "status": status, "subject": SUBJECT,
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxnorm,
                                                  "display": name}]}}
    if rid:
        res["id"] = rid
    if rt == "MedicationRequest":
        res["intent"] = "order"
        res["authoredOn"] = when
        if category:
            res["category"] = [{"text": category}]
    else:
        res["effectiveDateTime"] = when
        if category:
            res["category"] = {"text": category}
        if request:
            res["request"] = {"reference": request}
    return res
