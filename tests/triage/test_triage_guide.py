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


def _triage_advice(sign: Sign) -> str:
    doc: dict[str, object] = {"format": "allpath.triage/1", "age_years": 5, "sex": "female",
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
                 "low_urine", "constipation", "nosebleeds", "active_bleeding"):
        assert code in codes, code


def test_every_sign_is_worded_with_its_sections_urgency() -> None:
    for section in load_guide()[0].sections:
        if not section.signs:
            continue
        assert section.advice is not None, section.id
        for text in (section.text, section.adult or section.text):
            assert any(w in text for w in URGENCY_WORDS[section.advice]), section.id
        for sign in section.signs:
            assert sign.advice == section.advice, (section.id, sign)
            assert sign.text in section.text, (section.id, sign.text)


@pytest.mark.parametrize("section_id,sign", _signs(),
                         ids=[f"{s}:{g.symptom or g.temperature}" for s, g in _signs()])
def test_guide_urgency_of_each_sign_equals_the_symptom_checks_advice(section_id: str,
                                                                     sign: Sign) -> None:
    assert _triage_advice(sign) == sign.advice, (section_id, sign.text)
