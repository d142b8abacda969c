"""CDS Hooks order-sign: maintenance 6-MP / oral methotrexate against the titration pack."""

from __future__ import annotations

import copy
from typing import Any

from api_helpers import example_doc
from fastapi.testclient import TestClient

URL = "/cds-services/allpath-order-sign"


def _patient(client: TestClient, auth: dict[str, str], pid: str, anc: float) -> None:
    doc = copy.deepcopy(example_doc("example-001"))
    doc["id"] = pid
    doc["treatment"].append({"phase": "maintenance", "start": "2024-12-01"})
    doc["observations"] += [
        {"code": "anc", "value": 1.6, "unit": "10*9/L", "time": "2024-12-20"},
        {"code": "platelets", "value": 160, "unit": "10*9/L", "time": "2024-12-20"},
        {"code": "wbc", "value": 3.1, "unit": "10*9/L", "time": "2024-12-20"},
        {"code": "mercaptopurine_dose", "value": 75, "unit": "mg/m2/d", "time": "2024-12-20"},
        {"code": "methotrexate_dose", "value": 20, "unit": "mg/m2/wk", "time": "2024-12-20"},
        {"code": "anc", "value": anc, "unit": "10*9/L", "time": "2025-01-10"},
        {"code": "platelets", "value": 150, "unit": "10*9/L", "time": "2025-01-10"},
        {"code": "wbc", "value": 3.0, "unit": "10*9/L", "time": "2025-01-10"},
        {"code": "mercaptopurine_dose", "value": 75, "unit": "mg/m2/d", "time": "2025-01-10"},
        {"code": "methotrexate_dose", "value": 20, "unit": "mg/m2/wk", "time": "2025-01-10"}]
    r = client.post("/v1/patients", json=doc, headers=auth)
    assert r.status_code == 201, r.text


def _order(drug: str, mg: float, route: str = "oral") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "status": "draft", "intent": "order",
        "medicationCodeableConcept": {"text": drug},
        "dosageInstruction": [{"route": {"text": route}, "doseAndRate": [
            {"doseQuantity": {"value": mg, "unit": "mg"}}]}]}}]}


def _sign(client: TestClient, auth: dict[str, str], pid: str, orders: dict[str, Any],
          on: str = "2025-01-12") -> list[dict[str, Any]]:
    hook = {"hook": "order-sign", "hookInstance": "t-1",
            "context": {"userId": "Practitioner/1", "patientId": pid, "draftOrders": orders},
            "extension": {"allpath-reference-date": on}}
    r = client.post(URL, json=hook, headers=auth)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def _titration(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in cards if "titration" in c["source"]["label"]]


def test_hold_at_low_anc_is_flagged_with_its_rule(client: TestClient,
                                                 auth: dict[str, str]) -> None:
    _patient(client, auth, "mt-low", anc=0.4)
    (card,) = _titration(_sign(client, auth, "mt-low", _order("mercaptopurine", 50)))
    assert "hold" in card["summary"] and card["indicator"] in ("warning", "critical")
    assert card["source"]["topic"]["code"] == "action.hold"
    assert "ANC 0.4" in card["detail"]


def test_dose_above_the_titration_suggestion_is_a_warning(client: TestClient,
                                                         auth: dict[str, str]) -> None:
    _patient(client, auth, "mt-ok", anc=1.5)
    # BSA 0.69 m2 (Mosteller): 400 mg is 580 mg/m2 against 75 mg/m2 continued
    (card,) = _titration(_sign(client, auth, "mt-ok", _order("Mercaptopurine tablets", 400)))
    assert card["indicator"] == "warning" and "above the titration suggestion" in card["summary"]
    # 50 mg is 72 mg/m2: within the continued dose
    (card,) = _titration(_sign(client, auth, "mt-ok", _order("Mercaptopurine tablets", 50)))
    assert card["indicator"] == "info" and "continue" in card["summary"]


def test_intrathecal_methotrexate_is_not_a_maintenance_order(client: TestClient,
                                                            auth: dict[str, str]) -> None:
    _patient(client, auth, "mt-it", anc=0.4)
    cards = _sign(client, auth, "mt-it", _order("methotrexate", 12, route="intrathecal"))
    assert _titration(cards) == []


def test_old_counts_ask_for_a_recheck(client: TestClient, auth: dict[str, str]) -> None:
    _patient(client, auth, "mt-old", anc=1.5)
    (card,) = _titration(_sign(client, auth, "mt-old", _order("methotrexate", 10),
                               on="2025-02-20"))
    assert card["indicator"] == "warning" and "days old" in card["summary"]
