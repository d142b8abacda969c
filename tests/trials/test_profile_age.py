"""The patient's age in the trial pre-screen is the age at screening: today, or the screening
date asked for - never the age on the date of the record's latest result, which can be months
old (issue 13: a study's age limits apply when the patient would join)."""

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


def test_trial_age_is_the_age_today_not_on_the_latest_data_date() -> None:
    a = assess(parse_record(_record()))
    assert a.as_of == DAY_29
    today = dt.date.today()
    item = profile_from_assessment(a).items["age_years"]
    assert item.value == pytest.approx(_years(today), abs=0.005)  # not 4.38 on her day 29
    assert item.note == f"age on {today.isoformat()}, today, the screening date"


def test_trial_age_follows_an_explicit_screening_date() -> None:
    a = assess(parse_record(_record()), as_of=dt.date(2024, 2, 10))
    screening = dt.date(2023, 1, 10)  # her fifth birthday
    item = profile_from_assessment(a, on=screening).items["age_years"]
    assert item.value == pytest.approx(5.0)
    assert item.note == "age on 2023-01-10, the screening date"


def test_an_age_limit_is_judged_at_screening_not_on_old_data() -> None:
    """A study for 1 to 5 years admitted her on her day-29 data (4 years 4 months), but she is
    past 5 when the screen runs, so it does not fit her now; on a screening date before her
    sixth birthday it would."""
    study = trial("Frontline B-ALL for young children", min_age_years=1.0, max_age_years=5.0,
                  has_exact_ages=True)

    def age_outcome(on: dt.date | None) -> str:
        a = assess(parse_record(_record()))
        patient = profile_from_assessment(a, on=on) if on is not None else a
        report = match_trials(patient, [study], include_excluded=True)
        (m,) = report.matches
        (age,) = [c for c in m.criteria if c.criterion == "age"]
        return age.outcome

    assert age_outcome(None) == "not_met"
    assert age_outcome(dt.date(2022, 6, 1)) == "met"
