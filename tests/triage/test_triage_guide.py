"""The family guide: readability figure, citations, personalisation and the CLI."""

from __future__ import annotations

import textstat
from typer.testing import CliRunner

from allpath.cli.app import app
from allpath.cli.commands import app as _registered  # noqa: F401
from allpath.examples import example_paths
from allpath.guide import all_text, general_guide, load_guide, personal_guide, render
from allpath.rules.loader import load_knowledge

# Measured with textstat 0.7.3 over every section of knowledge/guide/topics.yaml.
MEASURED_FK_GRADE = 2.8
MEASURED_READING_EASE = 94.3
MEASURED_DALE_CHALL = 6.7  # 6.0-6.9: easily understood by grades 7-8


def test_readability_is_about_8th_grade_or_easier() -> None:
    text = all_text()
    grade = textstat.flesch_kincaid_grade(text)
    ease = textstat.flesch_reading_ease(text)
    assert grade <= 8.5, grade
    # keep the figure: a change of more than one grade means the text changed character
    assert abs(grade - MEASURED_FK_GRADE) <= 1.0, grade
    assert abs(ease - MEASURED_READING_EASE) <= 5.0, ease
    dale_chall = textstat.dale_chall_readability_score(text)
    assert dale_chall < 8.0 and abs(dale_chall - MEASURED_DALE_CHALL) <= 0.5, dale_chall


def test_topics_cover_the_issue_and_every_citation_resolves() -> None:
    ids = {t.id for t in load_guide()}
    assert {"what-is-all", "types", "who-gets-it", "symptoms", "diagnosis",
            "treatment-phases", "transplant", "targeted-and-immunotherapy", "outlook",
            "living-with-treatment", "questions", "when-to-call"} <= ids
    citations = load_knowledge().citations
    for t in load_guide():
        for s in t.sections:
            assert s.cite and all(c in citations for c in s.cite), (t.id, s.id)


def test_outlook_figures_carry_source_and_year() -> None:
    text = render(general_guide("outlook"))
    assert "2022" in text and "S45" in text


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
    res = runner.invoke(app, ["guide", "fever-rules-nope"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["guide", "when-to-call", "--format", "markdown"])
    assert res.exit_code == 0 and res.output.startswith("# ")
    res = runner.invoke(app, ["guide", "--for", str(example_paths()[0])])
    assert res.exit_code == 0 and "Sources" in res.output
