"""The patient's age in the trial pre-screen is taken on the assessment's date (its latest data,
or the ``as_of`` asked for), not on the day the program happens to run (issue 17)."""

from __future__ import annotations

import datetime as dt

import pytest
from trial_helpers import trial

from allpath import assess, parse_record
from allpath.trials import match_trials, profile_from_assessment

BIRTH = dt.date(2018, 1, 10)
DIAGNOSIS = dt.date(2022, 5, 2)
DAY_29 = dt.date(2022, 5, 30)


def _record() -> dict[str, object]:
    """A girl diagnosed at 4 years 3 months, with her day-29 marrow in the record."""
    return {
        "format": "allpath.record/1", "id": "AGE-ON-DATA", "sex": "female",
        "birth_date": BIRTH.isoformat(), "diagnosis_date": DIAGNOSIS.isoformat(),
        "observations": [
            {"code": "wbc", "value": 8.2, "unit": "10*9/L", "time": DIAGNOSIS.isoformat()},
            {"code": "marrow_blasts", "value": 88, "unit": "%", "time": DIAGNOSIS.isoformat()},
            {"code": "marrow_blasts", "value": 2, "unit": "%", "time": DAY_29.isoformat()},
        ],
        "immunophenotype": {"time": DIAGNOSIS.isoformat(), "markers": {
            "CD19": "positive", "CD10": "positive", "CD22": "positive", "CD79a": "positive",
            "cCD3": "negative", "MPO": "negative", "CD7": "negative"}},
    }


def _years(on: dt.date) -> float:
    """Whole years plus the days since the last birthday over that year's length."""
    last = BIRTH.replace(year=on.year if (on.month, on.day) >= (1, 10) else on.year - 1)
    following = last.replace(year=last.year + 1)
    return last.year - BIRTH.year + (on - last).days / (following - last).days


def test_trial_age_is_the_age_on_the_latest_data_date_not_today() -> None:
    a = assess(parse_record(_record()))
    assert a.as_of == DAY_29
    item = profile_from_assessment(a).items["age_years"]
    assert item.value == pytest.approx(_years(DAY_29), abs=0.005)  # 4.38, not 8.9 in 2026
    assert item.note == "age on 2022-05-30, the assessment date"


def test_trial_age_follows_an_as_of_date_and_an_explicit_screening_date() -> None:
    later = dt.date(2024, 2, 10)
    a = assess(parse_record(_record()), as_of=later)
    assert profile_from_assessment(a).value("age_years") == pytest.approx(_years(later),
                                                                            abs=0.005)
    screening = dt.date(2023, 1, 10)  # her fifth birthday
    item = profile_from_assessment(a, on=screening).items["age_years"]
    assert item.value == pytest.approx(5.0)
    assert item.note == "age on 2023-01-10, the screening date"


def test_an_age_limit_is_judged_on_the_assessment_date() -> None:
    """A study for 1 to 5 years admits her on her day-29 data (4 years 4 months), though she
    is older than that on the day the screen runs; on an as-of date past her sixth birthday it
    does not."""
    study = trial("Frontline B-ALL for young children", min_age_years=1.0, max_age_years=5.0,
                  has_exact_ages=True)

    def age_outcome(as_of: dt.date | None) -> str:
        report = match_trials(assess(parse_record(_record()), as_of=as_of), [study],
                              include_excluded=True)
        (m,) = report.matches
        (age,) = [c for c in m.criteria if c.criterion == "age"]
        return age.outcome

    assert age_outcome(None) == "met"
    assert age_outcome(dt.date(2024, 2, 10)) == "not_met"
