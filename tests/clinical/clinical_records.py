"""Small record builders for the clinical tests (every value is written in the test)."""

from __future__ import annotations

from typing import Any

from allpath import assess, parse_record


def b_all_record(
    *,
    sex: str = "female",
    birth: str = "2019-03-01",
    dx: str = "2024-03-01",
    wbc: float = 12.0,
    marrow_blasts: float = 88.0,
    genetics: dict[str, Any] | None = None,
    extramedullary: dict[str, Any] | None = None,
    extra_obs: list[dict[str, Any]] | None = None,
    markers: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A B-ALL record at diagnosis; override what the case is about."""
    obs = [
        {"code": "wbc", "value": wbc, "unit": "10*9/L", "time": dx},
        {"code": "hemoglobin", "value": 8.0, "unit": "g/dL", "time": dx},
        {"code": "platelets", "value": 60, "unit": "10*9/L", "time": dx},
        {"code": "marrow_blasts", "value": marrow_blasts, "unit": "%", "time": dx},
        {"code": "csf_wbc", "value": 1, "unit": "/uL", "time": dx},
        {"code": "csf_rbc", "value": 0, "unit": "/uL", "time": dx},
        {"code": "csf_blasts", "value": "absent", "time": dx},
    ]
    obs += extra_obs or []
    doc: dict[str, Any] = {
        "format": "allpath.record/1",
        "id": "clinical-test",
        "sex": sex,
        "birth_date": birth,
        "diagnosis_date": dx,
        "observations": obs,
        "immunophenotype": {"time": dx, "markers": markers or {
            "CD19": "positive", "CD10": "positive", "cCD79a": "positive", "CD22": "positive",
            "TdT": "positive", "cCD3": "negative", "MPO": "negative", "sIg": "negative"}},
        "genetics": genetics if genetics is not None else {"fusions": [], "alterations": [],
                                                           "chromosome_count": 46},
    }
    if extramedullary is not None:
        doc["extramedullary"] = extramedullary
    doc.update(fields)
    return doc


def assess_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """The assessment JSON of a record document."""
    return assess(parse_record(doc, source="test")).to_dict()


def risk(result: dict[str, Any], scheme: str) -> dict[str, Any]:
    """The risk entry of one scheme."""
    return next(r for r in result["risk"] if r["scheme"] == scheme)
