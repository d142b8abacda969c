"""The family guide: citations, personalisation and the CLI (readability: tests/guide)."""

from __future__ import annotations

from typer.testing import CliRunner

from allpath.cli.app import app
from allpath.cli.commands import app as _registered  # noqa: F401
from allpath.examples import example_paths
from allpath.guide import general_guide, load_guide, personal_guide, render
from allpath.rules.loader import load_knowledge


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
    assert "published in 2022" in text and "CANCERNET-CHILD-STATS" in text


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
