"""Property tests (hypothesis): monotone risk, and no generated record crashes the pathway."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allpath import RecordError, assess, parse_record

_ORDER = {"standard": 0, "high": 1}
_DX = dt.date(2024, 6, 1)

_B_MARKERS = {"CD19": "positive", "CD10": "positive", "cCD79a": "positive", "cCD3": "negative",
              "MPO": "negative", "sIg": "negative"}


def _record(age_days: int, wbc: float, **extra: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "format": "allpath.record/1",
        "id": "prop",
        "sex": "male",
        "birth_date": (_DX - dt.timedelta(days=age_days)).isoformat(),
        "diagnosis_date": _DX.isoformat(),
        "observations": [
            {"code": "wbc", "value": wbc, "unit": "10*9/L", "time": _DX.isoformat()},
            {"code": "marrow_blasts", "value": 80, "unit": "%", "time": _DX.isoformat()},
        ],
        "immunophenotype": {"markers": _B_MARKERS},
    }
    rec.update(extra)
    return rec


def _nci(rec: dict[str, Any]) -> str:
    doc = assess(parse_record(rec)).to_dict()
    return str(next(r["group"] for r in doc["risk"] if r["scheme"] == "nci_rome"))


_AGE = st.integers(min_value=366, max_value=18 * 365)
_WBC = st.floats(min_value=0.1, max_value=900, allow_nan=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_AGE, _WBC, st.floats(min_value=0, max_value=500))
def test_higher_wbc_never_lowers_the_nci_group(age: int, wbc: float, more: float) -> None:
    low, high = _nci(_record(age, wbc)), _nci(_record(age, min(wbc + more, 1999)))
    assert _ORDER[high] >= _ORDER[low]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_AGE, _WBC, st.integers(min_value=0, max_value=3000))
def test_older_age_never_lowers_the_nci_group(age: int, wbc: float, more: int) -> None:
    older = min(age + more, 18 * 365)
    assert _ORDER[_nci(_record(older, wbc))] >= _ORDER[_nci(_record(age, wbc))]


_MARKER = st.sampled_from(["positive", "negative", "dim", "partial"])
_OBS_CODES = ["wbc", "hemoglobin", "platelets", "anc", "blood_blasts", "marrow_blasts",
              "csf_wbc", "csf_rbc", "mrd_blood", "mrd_marrow", "rbc"]
_UNITS = {"wbc": "10*9/L", "hemoglobin": "g/dL", "platelets": "10*9/L", "anc": "10*9/L",
          "blood_blasts": "%", "marrow_blasts": "%", "csf_wbc": "/uL", "csf_rbc": "/uL",
          "mrd_blood": "%", "mrd_marrow": "%", "rbc": "10*12/L"}
_LIMITS = {"wbc": 2000, "hemoglobin": 25, "platelets": 3000, "anc": 500, "blood_blasts": 100,
           "marrow_blasts": 100, "csf_wbc": 1000, "csf_rbc": 100000, "mrd_blood": 100,
           "mrd_marrow": 100, "rbc": 10}


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    age = draw(st.integers(min_value=0, max_value=90 * 365))
    obs = []
    for code in draw(st.lists(st.sampled_from(_OBS_CODES), max_size=12)):
        lo = 1 if code == "hemoglobin" else 0.3 if code == "rbc" else 0
        value = draw(st.floats(min_value=lo, max_value=_LIMITS[code], allow_nan=False))
        day = draw(st.integers(min_value=-10, max_value=120))
        obs.append({"code": code, "value": value, "unit": _UNITS[code],
                    "time": (_DX + dt.timedelta(days=day)).isoformat()})
    if draw(st.booleans()):
        obs.append({"code": "csf_blasts", "value": draw(st.sampled_from(["present", "absent"])),
                    "time": _DX.isoformat()})
    rec: dict[str, Any] = {
        "format": "allpath.record/1", "id": "gen",
        "sex": draw(st.sampled_from(["female", "male", "other", "unknown"])),
        "birth_date": (_DX - dt.timedelta(days=age)).isoformat(),
        "diagnosis_date": _DX.isoformat() if draw(st.booleans()) else None,
        "observations": obs,
    }
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(["CD19", "CD10", "cCD79a", "CD22", "cCD3", "MPO",
                                               "sIg", "CD1a", "CD8", "CD5", "CD34", "CD117"]),
                              unique=True))
        rec["immunophenotype"] = {"markers": {n: draw(_MARKER) for n in names}}
    if draw(st.booleans()):
        rec["genetics"] = {
            "chromosome_count": draw(st.none() | st.integers(min_value=24, max_value=80)),
            "fusions": draw(st.lists(st.sampled_from(["ETV6::RUNX1", "BCR::ABL1", "KMT2A::AFF1",
                                                      "TCF3::PBX1"]), unique=True)),
            "alterations": draw(st.lists(st.sampled_from(["iAMP21", "IKZF1_deletion",
                                                          "trisomy_4", "trisomy_10"]),
                                         unique=True)),
        }
    if draw(st.booleans()):
        rec["extramedullary"] = {k: draw(st.none() | st.booleans())
                                 for k in ("testicular", "mediastinal_mass",
                                           "cns_clinical_signs")}
    return rec


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_no_generated_record_crashes_the_pathway(rec: dict[str, Any]) -> None:
    try:
        doc = assess(parse_record(rec)).to_dict()
    except RecordError:
        return  # a clear error is an acceptable answer to a bad record
    assert doc["diagnosis"]["status"] in {"ALL", "not_ALL", "indeterminate"}
    for r in doc["risk"]:
        assert r["group"] is not None
