"""The reviewer's independent order cases (tests/alerts/independent_order_cases.yaml, REVIEW
2026-12-07, cases oc01-oc05), run as the reviewer ran them: the patient is created through
POST /v1/patients and the draft order is sent to the CDS Hooks order-sign service.

Sources: Oncaspar label (hypersensitivity grade 1: reduce the infusion rate by 50%; grade 2:
interrupt, treat, resume at half the rate; grade 3-4: discontinue permanently) [ONCASPAR-HSR,
ONCASPAR-USPI-WARN]; Rylaze label (indicated after hypersensitivity to E. coli-derived
asparaginase) [RYLAZE-ASHP]; CDS Hooks card summary under 140 characters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from allpath.api import Settings, create_app
from allpath.db import Database, create_token
from support import load_yaml

_CASES: list[dict[str, Any]] = load_yaml(
    (Path(__file__).parent / "independent_order_cases.yaml").read_text("utf-8"))["cases"]
URL = "/cds-services/allpath-order-sign"
GENERIC = "asparaginase Erwinia chrysanthemi (recombinant)"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[TestClient, dict[str, str]]]:
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('oc') / 'allpath.db'}")
    app = create_app(settings=Settings(today=lambda: dt.date(2024, 5, 20),
                                       max_body_bytes=2 * 1024 * 1024), database=db)
    with db.transaction() as session:
        token = create_token(session, "tests", scopes=("read", "write", "admin"))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, {"Authorization": f"Bearer {token}"}
    db.dispose()


def _cards(service: tuple[TestClient, dict[str, str]], case: dict[str, Any]
           ) -> list[dict[str, Any]]:
    client, auth = service
    r = client.post("/v1/patients", json=case["patient"], headers=auth)
    assert r.status_code in (201, 409), r.text
    order = case["order"]
    mr = {"resourceType": "MedicationRequest", "status": "draft", "intent": "order",
          "medicationCodeableConcept": {"text": order["text"]},
          "dosageInstruction": [{"route": {"text": order["route"]}, "doseAndRate": [
              {"doseQuantity": {"value": order["dose"]["value"],
                                "unit": order["dose"]["unit"]}}]}]}
    hook = {"hook": "order-sign", "hookInstance": case["id"],
            "context": {"userId": "Practitioner/1", "patientId": case["patient"]["id"],
                        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                                        "entry": [{"resource": mr}]}},
            "extension": {"allpath-reference-date": case["reference_date"]}}
    r = client.post(URL, json=hook, headers=auth)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def _allergy(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in cards
            if c["source"].get("topic", {}).get("code", "").startswith("order.asparaginase")]


@pytest.mark.parametrize("case", _CASES, ids=[c["id"] for c in _CASES])
def test_oncaspar_rylaze_labels_independent_order_case(
        service: tuple[TestClient, dict[str, str]], case: dict[str, Any]) -> None:
    cards = _cards(service, case)
    exp = case["expected"]
    critical = [c for c in _allergy(cards) if c["indicator"] == "critical"]
    if exp["verdict"] == "blocked":
        (card,) = critical
        assert card["summary"].startswith("Do not sign")
        assert exp["named_alternative"] in card["summary"]
        assert "permanently" in card["detail"]
        (suggestion,) = card["suggestions"]
        assert GENERIC in suggestion["label"] and card["selectionBehavior"] == "at-most-one"
    else:
        assert critical == []
    if exp.get("hypersensitivity_card") is False:
        assert _allergy(cards) == []
    if "card_says" in exp:
        (card,) = _allergy(cards)
        assert card["indicator"] in exp["card_indicator"]["one_of"]
        assert "interrupt the infusion" in card["summary"]
        # the whole label step is in the detail, not cut off
        for words in ("interrupt the infusion", "treat the symptoms", "50% lower",
                      "reduce the infusion rate by 50%", "asparaginase activity"):
            assert words in card["detail"], words


@pytest.mark.parametrize("case", _CASES, ids=[c["id"] for c in _CASES])
def test_cds_hooks_order_card_summaries_are_whole_sentences_under_140_characters(
        service: tuple[TestClient, dict[str, str]], case: dict[str, Any]) -> None:
    for card in _allergy(_cards(service, case)):
        summary = card["summary"]
        assert len(summary) < 140, summary
        assert not summary.endswith("...") and summary.endswith("."), summary


def test_every_asparaginase_card_summary_fits_140_characters_at_its_longest() -> None:
    # the pack's summary templates with the longest grade and date words ALLPath fills in
    from allpath.rules.loader import load_knowledge

    decision = next(d for d in load_knowledge().pack("orders").pack.decisions
                    if d.id == "order_asparaginase_allergy")
    for rule in decision.rules:
        assert isinstance(rule.then, dict)
        text = str(rule.then["summary"]).format(grade="grade 4", date="an unrecorded date")
        assert len(text) < 140 and text.endswith("."), (rule.id, len(text))
