"""CDS Hooks order-sign (issue 12): drugs recognised by RxNorm code, by name, by contained or
prefetched Medication; an unidentified order gets an info card; interactions and the
platelets before a lumbar puncture come from packs/82-orders.yaml with their sources."""

from __future__ import annotations

import copy
from typing import Any

from api_helpers import example_doc
from fastapi.testclient import TestClient

URL = "/cds-services/allpath-order-sign"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _patient(client: TestClient, auth: dict[str, str], pid: str, platelets: float = 150
             ) -> None:
    doc = copy.deepcopy(example_doc("example-001"))
    doc["id"] = pid
    doc["observations"] += [
        {"code": "anc", "value": 1.2, "unit": "10*9/L", "time": "2025-01-10"},
        {"code": "platelets", "value": platelets, "unit": "10*9/L", "time": "2025-01-10"},
        {"code": "wbc", "value": 3.0, "unit": "10*9/L", "time": "2025-01-10"}]
    r = client.post("/v1/patients", json=doc, headers=auth)
    assert r.status_code == 201, r.text


def _mr(medication: dict[str, Any], mg: float | None = None, route: str = "oral",
        status: str = "draft", **extra: Any) -> dict[str, Any]:
    mr: dict[str, Any] = {"resourceType": "MedicationRequest", "status": status,
                          "intent": "order", **medication, **extra}
    di: dict[str, Any] = {"route": {"text": route}}
    if mg is not None:
        di["doseAndRate"] = [{"doseQuantity": {"value": mg, "unit": "mg"}}]
    mr["dosageInstruction"] = [di]
    return mr


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in resources]}


def _sign(client: TestClient, auth: dict[str, str], pid: str, orders: dict[str, Any],
          prefetch: dict[str, Any] | None = None, on: str = "2025-01-12",
          ) -> list[dict[str, Any]]:
    hook: dict[str, Any] = {"hook": "order-sign", "hookInstance": "o-1",
                            "context": {"userId": "Practitioner/1", "patientId": pid,
                                        "draftOrders": orders},
                            "extension": {"allpath-reference-date": on}}
    if prefetch is not None:
        hook["prefetch"] = prefetch
    r = client.post(URL, json=hook, headers=auth)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def _code(card: dict[str, Any]) -> str | None:
    return card["source"].get("topic", {}).get("code")


def test_an_unidentifiable_order_gets_an_info_card_saying_so(client: TestClient,
                                                            auth: dict[str, str]) -> None:
    _patient(client, auth, "ord-unknown")
    cards = _sign(client, auth, "ord-unknown", _bundle(_mr(
        {"medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "999999"}],
                                       "text": "zzz-unknown-drug"}}, 5)))
    (card,) = cards
    assert card["indicator"] == "info" and "could not identify" in card["summary"]
    assert "999999" in card["detail"] and "not checked" in card["summary"]


def test_a_dangling_medication_reference_is_named(client: TestClient,
                                                  auth: dict[str, str]) -> None:
    _patient(client, auth, "ord-dangling")
    (card,) = _sign(client, auth, "ord-dangling", _bundle(_mr(
        {"medicationReference": {"reference": "Medication/nowhere"}}, 1)))
    assert card["indicator"] == "info" and "Medication/nowhere" in card["detail"]


def test_rxnorm_ingredient_code_103_is_mercaptopurine_cpic_drug_table(
        client: TestClient, auth: dict[str, str]) -> None:
    _patient(client, auth, "ord-rxnorm")
    cards = _sign(client, auth, "ord-rxnorm", _bundle(
        _mr({"medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "103"}]}},
            50),
        _mr({"medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "519"}]}},
            100)))
    inter = [c for c in cards if _code(c) == "interaction.mercaptopurine_allopurinol"]
    assert len(inter) == 2  # seen from each order
    assert "one third to one quarter" in inter[0]["summary"]
    assert "MP-LABEL" in inter[0]["source"]["label"]


def test_contained_medication_is_read(client: TestClient, auth: dict[str, str]) -> None:
    _patient(client, auth, "ord-contained")
    order = _mr({"medicationReference": {"reference": "#m1"}}, 1.0,
                contained=[{"resourceType": "Medication", "id": "m1",
                            "code": {"text": "Vincristine sulfate 1 mg/mL injection"}}])
    prefetch = {"medications": _bundle(_mr(
        {"medicationCodeableConcept": {"text": "posaconazole 300 mg"}}, 300,
        status="active"))}
    cards = _sign(client, auth, "ord-contained", _bundle(order), prefetch)
    (inter,) = [c for c in cards if _code(c) == "interaction.vincristine_azole"]
    assert inter["indicator"] == "warning" and "MORIYAMA-2012" in inter["source"]["label"]


def test_prefetched_medication_is_read(client: TestClient, auth: dict[str, str]) -> None:
    _patient(client, auth, "ord-prefetched")
    order = _mr({"medicationReference": {"reference": "Medication/vor"}}, 200)
    prefetch = {"meds": {"resourceType": "Medication", "id": "vor",
                         "code": {"coding": [{"system": RXNORM, "code": "121243"}]}},
                "medications": _bundle(_mr({"medicationCodeableConcept": {
                    "text": "vincristine"}}, 1.0, status="active"))}
    cards = _sign(client, auth, "ord-prefetched", _bundle(order), prefetch)
    assert any(_code(c) == "interaction.vincristine_azole" for c in cards)


def test_liposomal_vincristine_is_not_checked_against_vincristine_sulfate_doses(
        client: TestClient, auth: dict[str, str]) -> None:
    _patient(client, auth, "ord-lipo")
    induction = "2024-05-20"  # example-001: vincristine is a line of the phase in progress
    cards = _sign(client, auth, "ord-lipo", _bundle(_mr(
        {"medicationCodeableConcept": {"text": "Vincristine sulfate liposome (Marqibo)"}},
        2.5, route="intravenous")), on=induction)
    assert not any("cap" in c["summary"] or "BSA-based" in c["summary"] for c in cards)
    (card,) = [c for c in cards if _code(c) != "order.prompt.pjp_prophylaxis_missing"]
    assert card["indicator"] == "info" and "not checked" in card["summary"]
    assert "different drug from vincristine sulfate" in card["detail"]
    plain = _sign(client, auth, "ord-lipo", _bundle(_mr(
        {"medicationCodeableConcept": {"text": "Vincristine sulfate"}}, 2.5,
        route="intravenous")), on=induction)
    assert any("cap" in c["summary"] for c in plain)


def test_mtx_label_high_dose_methotrexate_with_a_ppi_and_an_nsaid(
        client: TestClient, auth: dict[str, str]) -> None:
    _patient(client, auth, "ord-hdmtx")
    cards = _sign(client, auth, "ord-hdmtx", _bundle(
        _mr({"medicationCodeableConcept": {"text": "methotrexate"}}, 3500, route="iv"),
        _mr({"medicationCodeableConcept": {"text": "pantoprazole"}}, 20),
        _mr({"medicationCodeableConcept": {"text": "ibuprofen"}}, 200)))
    codes = {_code(c): c for c in cards}
    assert "interaction.hdmtx_ppi" in codes and "interaction.hdmtx_nsaid" in codes
    assert codes["interaction.hdmtx_nsaid"]["indicator"] == "critical"


def test_aabb_2015_intrathecal_order_with_platelets_40_warns_before_the_lp(
        client: TestClient, auth: dict[str, str]) -> None:
    _patient(client, auth, "ord-lp", platelets=40)
    cards = _sign(client, auth, "ord-lp", _bundle(_mr(
        {"medicationCodeableConcept": {"text": "methotrexate"}}, 12, route="intrathecal")))
    (lp,) = [c for c in cards if _code(c) == "order.lp_platelets.below_50"]
    assert lp["indicator"] == "warning" and "platelets 40" in lp["summary"]
    assert "S37" in lp["source"]["label"]
    assert not any("titration" in c["source"]["label"] for c in cards)


def test_proudfoot_2017_pjp_prophylaxis_due_unless_co_trimoxazole_is_active(
        client: TestClient, auth: dict[str, str]) -> None:
    _patient(client, auth, "ord-pjp")
    order = _bundle(_mr({"medicationCodeableConcept": {"text": "mercaptopurine"}}, 50),
                    _mr({"medicationCodeableConcept": {"text": "methotrexate"}}, 15))
    cards = _sign(client, auth, "ord-pjp", order)
    pjp = [c for c in cards if _code(c) == "order.prompt.pjp_prophylaxis_missing"]
    assert len(pjp) == 1 and "PROUDFOOT-2017" in pjp[0]["source"]["label"]
    covered = _sign(client, auth, "ord-pjp", order, {"medications": _bundle(_mr(
        {"medicationCodeableConcept": {"text": "co-trimoxazole 480 mg"}}, 480,
        status="active"))})
    assert not any(_code(c) == "order.prompt.pjp_prophylaxis_missing" for c in covered)


def test_draft_orders_bundle_whose_entry_is_not_a_list_is_not_a_500(
        client: TestClient, auth: dict[str, str]) -> None:
    _patient(client, auth, "bad-entry")
    hook = {"hook": "order-sign", "hookInstance": "o-2",
            "context": {"userId": "Practitioner/1", "patientId": "bad-entry",
                        "draftOrders": {"resourceType": "Bundle", "entry": 5}}}
    r = client.post(URL, json=hook, headers=auth)
    assert r.status_code < 500, r.text
