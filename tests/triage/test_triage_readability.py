"""The symptom check's family words read at or under US grade 8; the headlines at or under 6.

Flesch-Kincaid with the family guide's syllable counter, checked against the CMU Pronouncing
Dictionary (allpath.guide.readability). Measured figures are printed by
``pytest -s tests/triage/test_triage_readability.py``.
"""

from __future__ import annotations

import pytest

from allpath.guide.readability import cmu_syllables, score
from allpath.triage import texts

SIGNS = [text for _, text in texts.EMERGENCY_ITEMS] + [texts.EMERGENCY_HEAD_INJURY]
FAMILY_TEXTS = {
    **{f"headline.{k}": v for k, v in texts.HEADLINE.items()},
    **{f"what_to_do.{k}": v.format(fever="38.0 °C (100.4 °F)", who="the child",
                                   signs="the tiny red or purple spots and the bruises",
                                   treatment="is on cancer treatment and has a central line, "
                                             "like a port")
       for k, v in texts.NEXT_STEP_PLAIN.items() if v},
    **{f"meaning.{k}": v for k, v in texts.MEANING.items()},
    "meaning.on_treatment_fever": texts.MEANING_ON_TREATMENT_FEVER.format(who="the child"),
    "meaning.on_treatment_fever_adult": texts.MEANING_ON_TREATMENT_FEVER.format(
        who="the person"),
    **{f"meaning.{k}": v for k, v in texts.MEANING_BY_SYMPTOM.items()},
    **{f"headline.other_concern.{k}": v for k, v in texts.HEADLINE_OTHER_CONCERN.items()},
    **{f"headline.transplant_signs.{k}": v for k, v in texts.HEADLINE_TRANSPLANT_SIGNS.items()},
    "meaning.on_treatment": texts.MEANING_ON_TREATMENT,
    "meaning.fever_status_unknown": texts.MEANING_FEVER_STATUS_UNKNOWN,
    "meaning.emergency": texts.MEANING_EMERGENCY,
    "meaning.after_transplant": texts.MEANING_AFTER_TRANSPLANT,
    "meaning.low_urine_first_week": texts.MEANING_LOW_URINE_FIRST_WEEK,
    "blood_test.platelets_on_treatment": texts.FINDING_NORMAL_PLATELETS_ON_TREATMENT.format(
        when="from 8 days ago") + ".",
    # each line of the list ends a sentence when read aloud
    "when_to_get_help": " ".join(line.removeprefix("- ") + ("" if line.endswith(".") or
                                                             line.endswith(":") else ".")
                                 for line in texts.when_to_get_help(SIGNS,
                                                                    "38.0 °C (100.4 °F)")),
    "disclaimer": texts.PLAIN_DISCLAIMER,
}


@pytest.fixture(scope="module")
def dictionary() -> dict[str, int]:
    return cmu_syllables()


@pytest.mark.parametrize("key", sorted(FAMILY_TEXTS))
def test_symptom_check_family_text_reads_at_or_under_grade_8(key: str,
                                                             dictionary: dict[str, int]) -> None:
    grade = score(FAMILY_TEXTS[key], dictionary).grade
    print(f"{key}: grade {grade}")
    limit = 6.0 if key.startswith("headline.") else 8.0
    assert grade <= limit, (key, grade)
