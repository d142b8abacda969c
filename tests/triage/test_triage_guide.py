"""The family guide: citations, personalisation and the CLI (readability: tests/guide)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from allpath.cli.app import app
from allpath.cli.commands import app as _registered  # noqa: F401
from allpath.examples import example_paths
from allpath.guide import general_guide, load_guide, personal_guide, render
from allpath.guide.core import Sign
from allpath.rules.loader import load_knowledge
from allpath.triage import triage


def test_topics_cover_the_issue_and_every_citation_resolves() -> None:
    ids = {t.id for t in load_guide()}
    assert {"what-is-all", "types", "who-gets-it", "symptoms", "diagnosis",
            "treatment-phases", "transplant", "targeted-and-immunotherapy", "outlook",
            "living-with-treatment", "questions", "when-to-call"} <= ids
    citations = load_knowledge().citations
    for t in load_guide():
        for s in t.sections:
            assert s.cite and all(c in citations for c in s.cite), (t.id, s.id)


def test_outlook_figures_carry_their_year_and_source_list() -> None:
    text = render(general_guide("outlook"))
    assert "published in 2022" in text and "Cancer.Net" in text.split("\nSources\n")[1]


def test_personal_guide_picks_sections_for_the_patient() -> None:
    guide = personal_guide(str(example_paths()[0]))
    titles = [t.title for t in guide.topics]
    assert "When to call" in titles and "Questions to ask the care team" in titles
    phases = next(t for t in guide.topics if t.id == "treatment-phases")
    assert len(phases.sections) < len(next(t for t in load_guide()
                                           if t.id == "treatment-phases").sections)
    assert any("ALL" in line or "tests" in line for line in guide.intro)


def test_cli_guide_topic_list_and_for_record() -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["guide", "--list"])
    assert res.exit_code == 0 and "outlook" in res.output
    assert res.output.splitlines()[0].startswith("when-to-call")
    res = runner.invoke(app, ["guide", "fever-rules-nope"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["guide", "when-to-call", "--format", "markdown"])
    assert res.exit_code == 0 and res.output.startswith("# ")
    res = runner.invoke(app, ["guide", "--for", str(example_paths()[0])])
    assert res.exit_code == 0 and "Sources" in res.output


# --------------------------------------------------------------------------- finding 5
# Every "When to call" sign carries the triage symptom code (or temperature) it stands for;
# the guide's urgency for it must be the symptom check's advice for a child on treatment.

URGENCY_WORDS = {  # how the guide says each triage advice
    "emergency_services": ("911",),
    "oncology_team_now": ("now",),
    "oncology_team_today": ("today", "same day"),
    "oncology_team_soon": ("a day or two",),
}


def _signs() -> list[tuple[str, Sign]]:
    return [(s.id, g) for s in load_guide()[0].sections for g in s.signs]


def _age(section_id: str, sign: Sign) -> float:
    """The age the sign is written for: its own, else the first year of its section's age
    group (a baby's section is checked for a baby), else 5."""
    if sign.age_years is not None:
        return sign.age_years
    section = next(s for s in load_guide()[0].sections if s.id == section_id)
    if section.for_ages is not None and section.for_ages[0] is not None:
        return section.for_ages[0] + 0.5
    return 5.0


# Signs where the guide is knowingly stricter than the committed symptom check, each with the
# source; strict, so the test fails once the symptom check gives the same advice. Empty since
# review Q: a baby's dry nappy (pee-baby, "No wet diaper for 6 hours") is a call now in both,
# as Children's of Alabama says (ALABAMA-ONC-EMERG: under 2 years, no urine within 6 hours -
# call the nurse immediately; rule triage.urgency.emergency.low_urine_under_2_on_treatment).
STRICTER_THAN_TRIAGE: dict[tuple[str, str], str] = {}


def _triage_advice(sign: Sign, age: float = 5.0) -> str:
    doc: dict[str, object] = {"format": "allpath.triage/1", "age_years": age, "sex": "female",
                              "on_treatment": True, "central_line": False, "symptoms": []}
    if sign.symptom:
        doc["symptoms"] = [sign.symptom]
    if sign.temperature is not None:
        doc["temperature"] = {"value": sign.temperature, "unit": "Cel"}
    return str(triage(doc).advice)


def test_every_when_to_call_sign_names_a_symptom_code_or_a_temperature() -> None:
    signs = _signs()
    assert len(signs) >= 30
    for section_id, sign in signs:
        assert (sign.symptom is None) != (sign.temperature is None), (section_id, sign)
        assert sign.advice in URGENCY_WORDS, (section_id, sign)
    codes = {g.symptom for _, g in signs}
    for code in ("chills", "one_sided_weakness", "slurred_speech", "wheeze",
                 "severe_abdominal_pain", "cannot_keep_fluids_down", "line_damage",
                 "line_redness", "limb_swelling", "chickenpox_exposure", "measles_exposure",
                 "low_urine", "constipation", "nosebleeds", "active_bleeding",
                 # review N: signs the symptom check gained (review J) that the guide lacked
                 "chest_pain", "hard_to_wake", "suicidal_thoughts", "drowsy", "head_injury",
                 "jaundice", "dark_urine", "not_drinking", "jaw_pain", "behaviour_change",
                 "mouth_sores", "limp"):
        assert code in codes, code


def test_every_sign_is_worded_with_its_sections_urgency() -> None:
    for section in load_guide()[0].sections:
        if not section.signs:
            continue
        assert section.advice is not None, section.id
        for text in (section.text, section.adult or section.text):
            assert any(w in text for w in URGENCY_WORDS[section.advice]), section.id
            for sign in section.signs:  # a sign with its own urgency says it too
                assert any(w in text for w in URGENCY_WORDS[sign.advice]), (section.id, sign)
        for sign in section.signs:
            assert sign.advice == section.advice or sign.age_years is not None, \
                (section.id, sign)
            assert sign.text in section.text, (section.id, sign.text)


def _cases() -> list[object]:
    out: list[object] = []
    for section_id, sign in _signs():
        reason = STRICTER_THAN_TRIAGE.get((section_id, sign.text))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(section_id, sign, marks=marks,
                                id=f"{section_id}:{sign.symptom or sign.temperature}:"
                                   f"{sign.text[:24]}"))
    return out


@pytest.mark.parametrize("section_id,sign", _cases())
def test_guide_urgency_of_each_sign_equals_the_symptom_checks_advice(section_id: str,
                                                                     sign: Sign) -> None:
    assert _triage_advice(sign, _age(section_id, sign)) == sign.advice, \
        (section_id, sign.text)
