"""A reader bug fails loudly; only input that is not valid FHIR becomes a warning (#16)."""

from __future__ import annotations

from typing import Any

import pytest

from allpath.interop.fhir import read
from allpath.interop.fhir.read import read_bundle

PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female",
           "birthDate": "2019-04-02"}
WBC = {"resourceType": "Observation", "id": "o1", "status": "final",
       "subject": {"reference": "Patient/p1"},
       "code": {"coding": [{"system": "http://loinc.org", "code": "6690-2"}]},
       "effectiveDateTime": "2024-05-01",
       "valueQuantity": {"value": 12.4, "unit": "10*3/uL",
                         "system": "http://unitsofmeasure.org", "code": "10*3/uL"}}


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in resources]}


def test_a_reader_bug_on_a_valid_resource_is_raised_not_turned_into_a_warning(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Any, resource: dict[str, Any], path: str) -> None:
        raise KeyError("a bug in the reader")

    monkeypatch.setattr(read._Patient, "observation", broken)
    with pytest.raises(KeyError, match="a bug in the reader"):
        read_bundle(_bundle(PATIENT, WBC))


def test_a_resource_that_is_not_valid_fhir_is_warned_and_the_import_goes_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    bad = dict(WBC, id="o2", valueQuantity={"value": "twelve"})  # not a decimal
    imported = read_bundle(_bundle(PATIENT, WBC, bad))
    texts = [f"{w.path}: {w.message}" for w in imported.warnings]
    assert any("entry[2]" in t and "does not validate as FHIR R4" in t for t in texts), texts
    wbc = [o for o in imported.record["observations"] if o["code"] == "wbc"]
    assert len(wbc) == 1 and wbc[0]["value"] == pytest.approx(12.4)
