"""A sign that is a call today during treatment, with the treatment question unanswered, is
read the safe way (as the call-now signs are since review O): a call today whose headline
asks both questions, never "routine" (review O left this open: a rash, diarrhoea, headache or
bruising with the question unanswered came out routine)."""

from __future__ import annotations

import pytest

from allpath.triage import triage


def _run(symptoms: list[str], **answers: object) -> dict[str, object]:
    out: dict[str, object] = triage({"format": "allpath.triage/1", "age_years": 7,
                                     "sex": "female", "symptoms": symptoms, **answers}).to_dict()
    return out


@pytest.mark.parametrize("sign", ["rash", "diarrhoea", "headache", "easy_bruising",
                                  "abdominal_pain", "very_thirsty", "jaw_pain"])
def test_ccs_osf_call_today_sign_with_treatment_unanswered_is_a_call_today(sign: str) -> None:
    out = _run([sign])
    assert out["urgency"] == "urgent"
    assert out["advice"] == "today_ask_treatment"
    headline = str(out["plain_language"]["headline"])  # type: ignore[index]
    assert "cancer care team today" in headline and "not sure" in headline


def test_the_same_sign_off_treatment_keeps_its_own_timing() -> None:
    out = _run(["headache"], on_treatment=False, central_line=False)
    assert out["advice"] != "today_ask_treatment"
    assert out["urgency"] in ("soon", "routine")


def test_the_headline_promises_nothing_the_answered_path_does_not_give() -> None:
    """Review Q: the headline told a family sure the answer is no to see a doctor today, but
    a rash off treatment is not a same-day sign; it now sends them to answer the question."""
    headline = str(_run(["rash"])["plain_language"]["headline"])  # type: ignore[index]
    assert "see a doctor today" not in headline
    off = _run(["rash"], on_treatment=False, central_line=False)
    assert off["urgency"] != "urgent"


def test_unanswered_with_any_other_new_sign_gives_the_on_treatment_time_in_words() -> None:
    """Review Q: a cough with the question unanswered said 'call about any new sign' with no
    time; during treatment any other new sign is a call within a day or two (docs)."""
    headline = str(_run(["cough"])["plain_language"]["headline"])  # type: ignore[index]
    assert "within a day or two" in headline and "now for a fever" in headline
