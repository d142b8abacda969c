"""The drug map of the order checks (knowledge/drugs.yaml): codes from their sources, names,
liposomal vincristine kept apart, FHIR R4 and R5 medication forms."""

from __future__ import annotations

from typing import Any

import pytest

from allpath.knowledge import load_yaml
from allpath.orders import identify_name, identify_order, load_drugs

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _citations() -> dict[str, str]:
    doc: Any = load_yaml("citations.yaml")
    items = doc["citations"] if isinstance(doc, dict) and "citations" in doc else doc
    if isinstance(items, dict):
        return {k: str(v) for k, v in items.items()}
    return {str(c["id"]): str(c) for c in items}


def test_every_rxnorm_code_is_written_in_the_source_it_cites() -> None:
    cites = _citations()
    for drug in load_drugs():
        assert drug.cite and all(c in cites for c in drug.cite), drug.id
        for code in drug.rxnorm:
            assert any(f" {code}" in cites[c] or f"{code};" in cites[c] for c in drug.cite), \
                (drug.id, code)
        if not drug.rxnorm:
            assert drug.code_evidence == "unconfirmed", drug.id


def test_the_order_drug_fact_lists_exactly_the_mapped_drugs() -> None:
    doc: Any = load_yaml("facts.d/orders.yaml")
    values = set(doc["facts"]["order.drug"]["values"])
    assert values == {d.id for d in load_drugs()}


@pytest.mark.parametrize(("text", "drug"), [
    ("Vincristine sulfate liposome injection", "vincristine_liposomal"),
    ("MARQIBO 5 mg/31 mL", "vincristine_liposomal"),
    ("liposomal vincristine", "vincristine_liposomal"),
    ("vincristine sulfate 1 mg/mL", "vincristine"),
    ("Purixan 20 mg/mL oral suspension", "mercaptopurine"),
    ("6-MP 50 mg tablet", "mercaptopurine"),
    ("co-trimoxazole 480 mg", "trimethoprim_sulfamethoxazole"),
    ("paracetamol", None),
])
def test_names_are_matched_longest_first(text: str, drug: str | None) -> None:
    found = identify_name(text)
    assert (found.id if found else None) == drug


def test_r4_code_r4_reference_and_r5_codeable_reference() -> None:
    code = {"coding": [{"system": RXNORM, "code": "6851", "display": "methotrexate"}]}
    assert identify_order({"medicationCodeableConcept": code}).how == "RxNorm 6851"
    contained = {"medicationReference": {"reference": "#a"},
                 "contained": [{"resourceType": "Medication", "id": "a", "code": code}]}
    assert identify_order(contained).drug is not None
    r5 = {"medication": {"concept": {"text": "Blincyto"}}}
    found = identify_order(r5).drug
    assert found is not None and found.id == "blinatumomab"
    r5_ref = {"medication": {"reference": {"reference": "Medication/x"}}}
    got = identify_order(r5_ref, [{"resourceType": "Medication", "id": "x",
                                   "code": {"text": "allopurinol"}}])
    assert got.drug is not None and got.drug.id == "allopurinol"
    missing = identify_order({})
    assert missing.drug is None and "names no medication" in missing.how


def test_malformed_orders_give_info_cards_never_a_crash() -> None:
    import datetime as dt

    import yaml

    import allpath.roadmap as roadmap
    from allpath.examples import example_paths
    from allpath.orders import check_orders
    from allpath.pipeline import assess
    from allpath.record import parse_record

    path = next(p for p in example_paths() if p.name == "example-001.yaml")
    a = assess(parse_record(yaml.safe_load(path.read_text(encoding="utf-8"))))
    weird: list[dict[str, Any]] = [
        {"resourceType": "MedicationRequest", "medicationCodeableConcept": "x",
         "dosageInstruction": "y"},
        {"resourceType": "MedicationRequest",
         "medicationCodeableConcept": {"coding": "z", "text": 5},
         "dosageInstruction": [1, {"route": "oral"}, {"route": {"coding": [1, {"code": 3}]}}]},
        {"resourceType": "MedicationRequest", "medicationReference": {"reference": "#a"},
         "contained": "bad"},
    ]
    findings = check_orders(a, weird, [], dt.date(2024, 5, 20), roadmap)
    assert [f.kind for f in findings] == ["unidentified"] * 3
    assert all(f.indicator == "info" and "not checked" in f.summary for f in findings)
