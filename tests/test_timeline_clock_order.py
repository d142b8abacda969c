"""Same-day results are ordered by their clock time, never by their place in the file (#15)."""

from __future__ import annotations

from typing import Any

from allpath.observations.normalise import normalise
from allpath.record.load import parse_record


def _record(observations: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": "allpath.record/1", "id": "clock", "sex": "female",
            "birth_date": "2018-03-01", "diagnosis_date": "2024-05-01",
            "observations": observations}


def _wbc(value: float, time: str) -> dict[str, Any]:
    return {"code": "wbc", "value": value, "unit": "10*9/L", "time": time}


def test_an_evening_count_listed_first_still_comes_after_the_morning_count() -> None:
    doc = _record([_wbc(9.0, "2024-05-03T18:00:00"), _wbc(4.0, "2024-05-03T06:30:00")])
    series = normalise(parse_record(doc)).series("wbc")
    assert [o.value for o in series] == [4.0, 9.0]
    assert [o.ref for o in series] == ["observations[1]", "observations[0]"]


def test_results_with_a_date_only_keep_the_record_order_and_precede_timed_ones() -> None:
    doc = _record([_wbc(7.0, "2024-05-03T08:00:00"), _wbc(5.0, "2024-05-03"),
                   _wbc(6.0, "2024-05-03"), _wbc(3.0, "2024-05-02T23:00:00")])
    assert [o.value for o in normalise(parse_record(doc)).series("wbc")] == [3.0, 5.0, 6.0, 7.0]
