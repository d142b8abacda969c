"""A sign that is a call today during treatment, with the treatment question unanswered, is
read the safe way (as the call-now signs are since review O): a call today whose headline
asks both questions, never "routine" (review O left this open: a rash, diarrhoea, headache or
bruising with the question unanswered came out routine)."""

from __future__ import annotations

import pytest

from allpath.rules.engine import _iter_conditions
from allpath.rules.loader import load_knowledge
from allpath.rules.schema import Match, Rule
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
    time; during treatment any other new sign is a call within a day or two (docs). A cough is
    itself a call today during treatment since triage 2.16.0 (CCS-CALL), so mouth sores stand
    in for "any other new sign"."""
    headline = str(_run(["mouth_sores"])["plain_language"]["headline"])  # type: ignore[index]
    assert "within a day or two" in headline and "now for a fever" in headline


# ------------------------------------------------------------------ review Q, the text gaps
def _call_now_lines(out: dict[str, object]) -> list[str]:
    """The what-to-do lines that name a call now (the "call now if ..." signs)."""
    todo = out["plain_language"]["what_to_do"]  # type: ignore[index]
    return [str(t) for t in todo if "now, day or night" in str(t)]


def _call_today_signs() -> list[str]:
    """The signs that are a call today during treatment, read from the pack's one list
    (decision triage_call_today_signs), never written again here."""
    decision = next(d for d in load_knowledge().pack("triage").pack.decisions
                    if d.id == "triage_call_today_signs")
    signs: list[str] = []
    for rule in decision.rules:
        for node in _iter_conditions(rule.when):
            if isinstance(node, Match) and node.fact == "symptoms":
                signs += [node.contains] if node.contains else list(node.contains_any or ())
    return signs


@pytest.mark.parametrize("signs", [["diarrhoea"], ["headache", "vomiting"], ["easy_bruising"]])
def test_schn_ccs_unanswered_text_gives_the_call_now_signs_of_the_on_treatment_text(
        signs: list[str]) -> None:
    """Review Q: with the treatment question unanswered (read as yes), diarrhoea, a headache
    with vomiting and bruising lacked the "call now if ..." signs (SCHN-CALL: not able to
    drink, a severe headache, a change in vision, no fluids kept down, bleeding that does not
    stop; CCS-CALL) of the on-treatment text."""
    on = _run(signs, on_treatment=True, central_line=False)
    unanswered = _run(signs)
    assert on["urgency"] == unanswered["urgency"] == "urgent"
    assert _call_now_lines(on), signs
    assert set(_call_now_lines(on)) <= set(_call_now_lines(unanswered)), signs


def test_every_call_today_sign_unanswered_keeps_the_on_treatment_call_now_signs() -> None:
    for sign in _call_today_signs():
        on = _run([sign], on_treatment=True, central_line=False)
        unanswered = _run([sign])
        assert set(_call_now_lines(on)) <= set(_call_now_lines(unanswered)), sign


def test_the_today_ask_treatment_headline_rule_has_no_sign_list_of_its_own() -> None:
    """Review Q: the headline rule repeated the call-today signs in a list of its own, so a
    sign missing there got "today" with the generic same-day headline; it now reads the one
    list (decision triage_call_today_signs) that the urgency rule reads."""
    _, _, rule = load_knowledge().rule("triage.advice.today_ask_treatment")
    assert isinstance(rule, Rule)
    facts = {getattr(n, "fact", None) for n in _iter_conditions(rule.when)}
    assert "symptoms" not in facts and "triage.call_today_on_treatment" in facts
    urgency = next(d for d in load_knowledge().pack("triage").pack.decisions
                   if d.id == "triage_urgency")
    for r in urgency.rules:
        read = {getattr(n, "fact", None) for n in _iter_conditions(r.when)}
        if r.then == "urgent" and "triage.treatment_read_safe" in read:
            # every call-today rule of treatment reads the one list
            assert "symptoms" not in read and "triage.call_today_on_treatment" in read, r.id


@pytest.mark.parametrize("sign", _call_today_signs())
def test_every_call_today_sign_unanswered_gets_the_ask_treatment_headline(sign: str) -> None:
    out = _run([sign])
    assert out["urgency"] == "urgent", sign
    assert out["advice"] == "today_ask_treatment", sign
    headline = str(out["plain_language"]["headline"])  # type: ignore[index]
    assert "cancer treatment" in headline and "central line" in headline


def test_nice_ng12_tiredness_alone_unanswered_asks_both_questions_in_its_headline() -> None:
    """Review Q (rq-prediagnosis-tiredness-only-unanswered): tiredness alone with the question
    unanswered is within a day or two (NICE NG12: a very urgent blood count), and its headline
    asks both questions as the other unanswered-question headlines do."""
    out = _run(["fatigue"])
    assert out["urgency"] == "soon" and out["advice"] == "soon_ask_treatment"
    headline = str(out["plain_language"]["headline"])  # type: ignore[index]
    assert "cancer treatment" in headline and "central line" in headline
    assert "day or two" in headline and "now for a fever" in headline
    off = _run(["fatigue"], on_treatment=False, central_line=False)
    assert off["advice"] == "within_two_days"


@pytest.mark.parametrize("signs", [[], ["fatigue"], ["rash"], ["chills"], ["fever"]])
def test_every_unanswered_question_headline_asks_both_questions(signs: list[str]) -> None:
    out = _run(signs)
    assert str(out["advice"]).endswith("_ask_treatment"), (signs, out["advice"])
    headline = str(out["plain_language"]["headline"])  # type: ignore[index]
    assert "cancer treatment" in headline and "central line" in headline, signs
