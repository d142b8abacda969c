"""The drug map of the order checks (knowledge/drugs.yaml): codes from their sources, names,
liposomal vincristine kept apart, FHIR R4 and R5 medication forms."""

from __future__ import annotations

from typing import Any

import pytest

from allpath.knowledge import load_yaml
from allpath.orders import identify_name, identify_order, load_drugs
from support import load_yaml as safe_yaml

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

    from allpath.examples import example_paths
    from allpath.orders import check_orders
    from allpath.pipeline import assess
    from allpath.record import parse_record

    path = next(p for p in example_paths() if p.name == "example-001.yaml")
    a = assess(parse_record(safe_yaml(path.read_text(encoding="utf-8"))))
    weird: list[dict[str, Any]] = [
        {"resourceType": "MedicationRequest", "medicationCodeableConcept": "x",
         "dosageInstruction": "y"},
        {"resourceType": "MedicationRequest",
         "medicationCodeableConcept": {"coding": "z", "text": 5},
         "dosageInstruction": [1, {"route": "oral"}, {"route": {"coding": [1, {"code": 3}]}}]},
        {"resourceType": "MedicationRequest", "medicationReference": {"reference": "#a"},
         "contained": "bad"},
    ]
    findings = check_orders(a, weird, [], dt.date(2024, 5, 20))
    assert [f.kind for f in findings] == ["unidentified"] * 3
    assert all(f.indicator == "info" and "not checked" in f.summary for f in findings)


# Pegaspargase after a recorded allergic reaction to asparaginase (packs/82-orders.yaml,
# order_asparaginase_allergy): ONCASPAR label/monograph - grade 3-4: discontinue permanently;
# grade 1: infusion rate halved; grade 2: interrupt, then resume at half the rate
# [ONCASPAR-HSR, ONCASPAR-USPI-WARN]; the alternative for hypersensitivity to E. coli-derived
# asparaginase is asparaginase Erwinia chrysanthemi (recombinant), Rylaze [RYLAZE-ASHP].

def _asparaginase_findings(grade: str | None, drug: str = "pegaspargase") -> list[Any]:
    import datetime as dt

    from allpath.examples import example_paths
    from allpath.orders import check_orders
    from allpath.pipeline import assess
    from allpath.record import parse_record

    path = next(p for p in example_paths() if p.stem == "example-001")
    rec: dict[str, Any] = safe_yaml(path.read_text("utf-8"))
    rec["observations"] = [{**o, "time": str(o["time"])} for o in rec["observations"]]
    if grade is not None:
        rec["observations"].append({"code": "asparaginase_reaction", "value": grade,
                                    "time": "2024-05-20"})
    order = {"resourceType": "MedicationRequest", "status": "draft", "intent": "order",
             "medicationCodeableConcept": {"text": drug},
             "dosageInstruction": [{"route": {"text": "intravenous"}}]}
    a = assess(parse_record(rec))
    return [f for f in check_orders(a, [order], [], dt.date(2024, 6, 1))
            if f.kind == "allergy"]


@pytest.mark.parametrize("grade", ["grade_3", "grade_4"])
def test_oncaspar_label_pegaspargase_after_grade_3_4_reaction_is_blocked(grade: str) -> None:
    found = _asparaginase_findings(grade)
    assert len(found) == 1
    card = found[0]
    assert card.indicator == "critical" and card.summary.startswith("Do not sign")
    assert card.rule_id == "order.asparaginase_allergy.grade_3_4_blocked"
    assert "Erwinia chrysanthemi (recombinant)" in card.summary and "2024-05-20" in card.summary
    assert {"ONCASPAR-HSR", "RYLAZE-ASHP"} <= set(card.cite)


@pytest.mark.parametrize(("grade", "words"), [
    ("grade_1", "reduce the infusion rate by 50%"),
    ("grade_2", "interrupt the infusion"),
])
def test_oncaspar_monograph_grade_1_2_reaction_is_a_caution_with_the_label_step(
        grade: str, words: str) -> None:
    found = _asparaginase_findings(grade)
    assert len(found) == 1 and found[0].indicator == "warning"
    assert words in found[0].summary and "Do not sign" not in found[0].summary


def test_pegaspargase_with_no_reaction_recorded_gets_no_allergy_card() -> None:
    assert _asparaginase_findings(None) == []


def test_rylaze_after_a_grade_3_reaction_is_recognised_and_not_blocked() -> None:
    rylaze = identify_name("Rylaze 10 mg/0.5 mL")
    assert rylaze is not None and rylaze.id == "asparaginase_erwinia_recombinant"
    assert _asparaginase_findings("grade_3", drug="Rylaze") == []
