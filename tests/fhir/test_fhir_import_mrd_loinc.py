"""FHIR import: LOINC 67128-9 (abnormal leukocytes/leukocytes by flow cytometry) is read as
ALL MRD only in an ALL record's follow-up (knowledge/fhir_import.yaml mrd_context_codes):
a coded ALL condition, a sample after the first ALL treatment, and a specimen named as
marrow or blood. The value is a fraction whose unit is converted, never assumed."""

from __future__ import annotations

from typing import Any

import pytest
from fhir_import_helpers import all_condition, bundle, lab, medication

from allpath.interop.fhir import read_bundle
from allpath.units import convert

CODE = "67128-9"
VINCRISTINE = medication("MedicationAdministration", "11202", "vincristine", "2024-01-09",
                         category="induction")


def _flow(value: float, unit: str, when: str = "2024-02-05",
          specimen: str | None = "Bone marrow aspirate") -> dict[str, Any]:
    obs = lab(CODE, value, unit, when)
    obs["code"]["coding"][0]["display"] = ("Abnormal leukocytes/Leukocytes in Specimen by "
                                           "Flow cytometry (FC)")
    if specimen is not None:
        obs["specimen"] = {"display": specimen}
    return obs


def _mrd(*resources: dict[str, Any]) -> tuple[list[tuple[str, Any, str | None]], list[str]]:
    imp = read_bundle(bundle(*resources))
    obs = [(o.code, o.value, o.unit) for o in imp.patient.observations
           if o.code.startswith("mrd_")]
    return obs, [str(w) for w in imp.warnings if CODE in str(w)]


def test_abnormal_leukocytes_by_flow_after_all_treatment_is_marrow_mrd() -> None:
    obs, warnings = _mrd(all_condition(), VINCRISTINE, _flow(0.03, "%"))
    assert obs == [("mrd_marrow", 0.03, "%")]
    assert any("read as mrd_marrow" in w and "unconfirmed" in w for w in warnings)


def test_blood_specimen_gives_blood_mrd() -> None:
    obs, _ = _mrd(all_condition(), VINCRISTINE,
                  _flow(1.2, "%", when="2024-01-16", specimen="Peripheral blood"))
    assert obs == [("mrd_blood", 1.2, "%")]


@pytest.mark.parametrize(("value", "unit", "percent"), [
    (0.0003, "1", 0.03),      # a plain fraction
    (3, "10*-4", 0.03),       # 3 x 10^-4
    (0.03, "%", 0.03),
])
def test_mrd_fraction_units_are_converted_not_assumed(value: float, unit: str,
                                                      percent: float) -> None:
    [(code, got, got_unit)] = _mrd(all_condition(), VINCRISTINE, _flow(value, unit))[0]
    assert code == "mrd_marrow" and got_unit == unit
    assert convert(float(got), str(got_unit), "%", None) == pytest.approx(percent)


def test_unit_that_is_not_a_fraction_is_refused() -> None:
    obs, _ = _mrd(all_condition(), VINCRISTINE, _flow(3, "10*9/L"))
    imp = read_bundle(bundle(all_condition(), VINCRISTINE, _flow(3, "10*9/L")))
    assert obs == []
    assert any("units are never assumed" in str(w) for w in imp.warnings)


@pytest.mark.parametrize(("resources", "reason"), [
    ((VINCRISTINE, _flow(0.03, "%")), "no coded ALL condition"),
    ((all_condition(), _flow(0.03, "%")), "no ALL treatment"),
    # the diagnostic sample, before treatment, is the leukaemia itself, not residual disease
    ((all_condition(), VINCRISTINE, _flow(85.0, "%", when="2024-01-07")),
     "not dated after the first ALL treatment"),
    ((all_condition(), VINCRISTINE, _flow(0.03, "%", specimen=None)),
     "not named as bone marrow or as blood"),
    ((all_condition(), VINCRISTINE, _flow(0.03, "%", specimen="Blood and bone marrow")),
     "not named as bone marrow or as blood"),
])
def test_generic_flow_code_outside_all_follow_up_is_not_mrd(
        resources: tuple[dict[str, Any], ...], reason: str) -> None:
    obs, warnings = _mrd(*resources)
    assert obs == []
    assert any(reason in w and "not used" in w for w in warnings), warnings


def test_generic_code_whose_text_names_mrd_is_read_by_its_name() -> None:
    obs = _flow(0.5, "%", specimen=None)
    obs["code"]["text"] = "B-ALL MRD, bone marrow"
    # No treatment in the record: the name, not the generic code, makes it MRD.
    assert _mrd(all_condition(), obs)[0] == [("mrd_marrow", 0.5, "%")]
