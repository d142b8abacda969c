"""FHIR import speed-ups that must not change what is found: resources of one shape are
checked with fhir.resources once, and every failing resource is still reported."""

from __future__ import annotations

import pytest
from fhir_import_helpers import bundle, lab

from allpath.errors import RecordError
from allpath.interop.fhir import read_bundle
from allpath.interop.fhir.read import _shape_key


def test_results_differing_only_in_id_time_and_value_share_a_shape() -> None:
    a = lab("6690-2", 5.0, "10*9/L", "2024-05-01T08:30:00+02:00") | {"id": "a1"}
    b = lab("6690-2", 7.25, "10*9/L", "2024-06-11T17:05:00+02:00") | {"id": "b-22"}
    assert _shape_key(a) == _shape_key(b)
    c = lab("6690-2", 5.0, "10*9/L", "2024-05-01") | {"id": "c"}  # date, not date-time
    assert _shape_key(c) != _shape_key(a)
    d = lab("6690-2", 5.0, "10*9/L", "2024-05-01T08:30:00+02:00") | {"id": "bad id!"}
    assert _shape_key(d) != _shape_key(a)


def test_each_invalid_resource_is_reported_even_after_a_valid_one_of_its_shape() -> None:
    good = [lab("6690-2", 5.0 + i, "10*9/L", f"2024-05-{i + 1:02d}") for i in range(5)]
    bad1 = lab("6690-2", 6.0, "10*9/L", "2024-05-10") | {"id": "bad id!"}
    bad2 = lab("6690-2", 6.0, "10*9/L", "2024-05-11") | {"unknownElement": 1}
    imp = read_bundle(bundle(*good, bad1, bad2, bad2))
    flagged = [w.path for w in imp.warnings if "does not validate" in w.message]
    assert flagged == ["Bundle.entry[6].resource", "Bundle.entry[7].resource",
                       "Bundle.entry[8].resource"]
    assert len(imp.patient.observations) == 8  # read as far as possible


def test_a_date_is_checked_even_on_a_result_that_is_not_used() -> None:
    unknown = lab("99999-9", 1.0, "mg/dL", "2024-05-01") | {"issued": "2024-02-30T10:00:00Z"}
    with pytest.raises(RecordError) as err:
        read_bundle(bundle(unknown))
    assert err.value.problems[0].path == "Bundle.entry[1].resource.issued"


def test_a_shape_checked_in_one_call_is_not_checked_again_and_a_bad_one_still_is(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The shapes that passed the fhir.resources check are kept across calls (an EHR sends
    the same shapes chart after chart): a later bundle of the same shapes is not validated
    again, while a resource of a new, invalid shape is still validated and reported."""
    from allpath.interop.fhir import read as read_mod

    read_bundle(bundle(lab("6690-2", 5.0, "10*9/L", "2024-05-01")))
    calls: list[str] = []
    real = read_mod.validate_resource

    def counted(resource: dict[str, object]) -> object:
        calls.append(str(resource.get("resourceType")))
        return real(resource)

    monkeypatch.setattr(read_mod, "validate_resource", counted)
    read_bundle(bundle(lab("6690-2", 6.5, "10*9/L", "2024-06-02")))
    assert "Observation" not in calls
    bad = lab("6690-2", 6.0, "10*9/L", "2024-05-11") | {"unknownElement": 1}
    imp = read_bundle(bundle(bad))
    assert "Observation" in calls
    assert any("does not validate" in w.message for w in imp.warnings)
