"""What the family guide says (issue 21): when to call first, the fever rule, the topics of
the first weeks, dated figures for the right age group, plain personalisation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from allpath.cli.app import app
from allpath.cli.commands import app as _registered  # noqa: F401
from allpath.errors import RecordError
from allpath.examples import example_paths
from allpath.guide import NO_PHONE, general_guide, load_guide, personal_guide, render
from allpath.guide.core import section_text
from allpath.knowledge import load_yaml
from allpath.rules.loader import load_knowledge

INTERNAL_KEY = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


def _example(name: str) -> Path:
    return next(p for p in example_paths() if p.name == name)


def _text(guide: Any) -> str:
    doc = guide.to_dict()
    parts = list(doc["intro"])
    for t in doc["topics"]:
        parts.append(t["title"])
        parts += [s["text"] for s in t["sections"]]
    return "\n".join(parts)


def _find_rule(node: Any, rule_id: str) -> dict[str, Any] | None:
    if isinstance(node, dict):
        if node.get("id") == rule_id:
            return node
        children: Any = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find_rule(child, rule_id)
        if found is not None:
            return found
    return None


def test_when_to_call_is_the_first_topic_of_every_guide() -> None:
    assert load_guide()[0].id == "when-to-call"
    assert general_guide().topics[0].id == "when-to-call"
    for path in example_paths():
        guide = personal_guide(str(path))
        assert guide.topics[0].id == "when-to-call", path.name
        text = render(guide)
        # the "about your child" part comes after the first topic, not before it
        assert text.index("When to call") < text.index("About your child now")


def test_fever_rule_is_38_0_once_and_says_follow_your_hospitals_rule() -> None:
    fever = next(s for s in load_guide()[0].sections if s.id == "fever")
    assert "38.0 °C (100.4 °F)" in fever.text and "even once" in fever.text
    assert "Follow your hospital's rule" in fever.text
    assert "emergency room" in fever.text and "Do not wait" in fever.text
    every = "\n".join(s.text for t in load_guide() for s in t.sections)
    assert "38.3" not in every  # the old "38.3 once or 38.0 for an hour" rule is gone
    assert "probably a virus" not in every.lower()


def test_fever_threshold_and_sources_agree_with_the_triage_pack() -> None:
    rule = _find_rule(load_yaml("packs/90-triage.yaml"), "triage.fever.measured")
    assert rule is not None
    threshold = next(c for c in rule["when"]["all"] if c.get("op") == ">=")
    assert threshold["unit"] == "Cel"
    fever = next(s for s in load_guide()[0].sections if s.id == "fever")
    assert f"{float(threshold['value']):.1f} °C" in fever.text
    assert set(rule["cite"]) & set(fever.cite), (rule["cite"], fever.cite)


def test_low_and_borderline_temperatures_agree_with_the_triage_pack() -> None:
    pack = load_yaml("packs/90-triage.yaml")
    low = _find_rule(pack, "triage.urgency.emergency.low_temperature_on_treatment")
    borderline = _find_rule(pack, "triage.urgency.urgent.borderline_temperature_on_treatment")
    assert low is not None and borderline is not None
    low_c = next(c for c in low["when"]["all"] if c.get("op") == "<")["value"]
    border_c = next(c for c in borderline["when"]["all"] if c.get("op") == ">=")["value"]
    other = next(s for s in load_guide()[0].sections if s.id == "other-temperatures")
    assert f"under {float(low_c):.1f} °C" in other.text and "Call now" in other.text
    assert f"{float(border_c):.1f} to 37.9 °C" in other.text and "today" in other.text
    assert set(low["cite"]) <= set(other.cite)


def test_no_rectal_temperature_is_ever_advised() -> None:
    every = "\n".join(s.text for t in load_guide() for s in t.sections).lower()
    assert "rectal" not in every and "rectum" not in every
    how = next(s for s in next(t for t in load_guide() if t.id == "temperature").sections
               if s.id == "how")
    assert "by mouth or under the arm" in how.text and "Never take it in the bottom" in how.text


def test_team_phone_is_shown_back_and_an_empty_one_asks_for_it() -> None:
    phone = section_text(load_guide()[0].sections[0], "+1 555 010 2030")
    assert "Your team's 24-hour phone number is +1 555 010 2030." in phone
    empty = render(general_guide("when-to-call"))
    assert NO_PHONE in empty and "write it here" in empty
    given = general_guide("when-to-call", team_phone=" 0161 555  0100 ext 12 ").to_dict()
    assert given["team_phone"] == "0161 555 0100 ext 12"
    assert "0161 555 0100 ext 12" in given["topics"][0]["sections"][0]["text"]


@pytest.mark.parametrize("bad", ["call mum", "12", "555-0100; rm -rf", "9" * 41])
def test_a_bad_team_phone_is_a_clear_error_naming_the_field(bad: str) -> None:
    with pytest.raises(RecordError) as err:
        general_guide(team_phone=bad)
    assert err.value.problems[0].path == "team_phone"


def test_guide_covers_the_topics_issue_21_asks_for() -> None:
    ids = {t.id for t in load_guide()}
    assert {"when-to-call", "temperature", "central-lines", "infections", "medicines",
            "chemo-at-home", "brain-spine-testicles", "no-stage", "risk-groups",
            "family-life", "fertility", "after-treatment", "glossary", "outlook",
            "treatment-phases"} <= ids
    medicines = {s.id for s in next(t for t in load_guide() if t.id == "medicines").sections}
    assert {"steroids", "vincristine", "asparaginase", "methotrexate", "mercaptopurine",
            "vomited-dose"} <= medicines
    family = {s.id for s in next(t for t in load_guide() if t.id == "family-life").sections}
    assert {"telling-your-child", "siblings", "school", "feelings", "money"} <= family
    call = " ".join(s.text for s in load_guide()[0].sections)
    for words in ("chickenpox", "measles", "throws up", "pees much less", "belly pain",
                  "slurred speech", "swollen and sore", "central line", "cracked or broken"):
        assert words in call, words


def test_every_section_cites_sources_that_resolve_and_new_family_sources_have_a_url() -> None:
    citations = load_knowledge().citations
    for t in load_guide():
        for s in t.sections:
            assert s.cite, (t.id, s.id)
            for c in s.cite:
                assert c in citations, (t.id, s.id, c)
                if not re.fullmatch(r"S\d+[a-z]?|SEED-\d+", c):
                    assert citations[c].urls, c


def test_figures_are_dated_and_for_one_age_group() -> None:
    outlook = next(t for t in load_guide() if t.id == "outlook")
    for s in outlook.sections:
        if re.search(r"\d+ out of 100", s.text):
            assert s.ages is not None and s.as_of, s.id
            assert re.search(r"published in \d{4}", s.text), s.id
    groups = sorted(s.ages for s in outlook.sections if s.ages is not None)
    assert groups == [(0.0, 14.0), (15.0, 19.0), (20.0, None)]


def test_cancernet_2022_five_year_survival_is_92_percent_for_ages_0_to_14() -> None:
    child = next(s for t in load_guide() if t.id == "outlook" for s in t.sections
                 if s.id == "children")
    assert "92 out of 100" in child.text and "aged 0 to 14" in child.text
    assert child.as_of == "2022-11" and child.cite == ("CANCERNET-CHILD-STATS",)


def test_a_young_childs_family_sees_the_0_to_14_figure_not_the_adult_one() -> None:
    text = _text(personal_guide(str(_example("example-001.yaml"))))  # age 4
    assert "92 out of 100" in text
    assert "40 out of 100" not in text and "76 out of 100" not in text


def test_an_adult_sees_the_adult_figure_only() -> None:
    text = _text(personal_guide(str(_example("example-004.yaml"))))  # age 52
    assert "40 out of 100" in text and "92 out of 100" not in text


def test_personal_guides_have_no_internal_keys() -> None:
    for path in example_paths():
        text = _text(personal_guide(str(path)))
        assert not INTERNAL_KEY.findall(text), (path.name, INTERNAL_KEY.findall(text))
        for key in ("cog_pdq", "sr_average", "sr_favorable", "end_of_induction", "nci_rome"):
            assert key not in text


def test_risk_group_is_said_in_plain_words_with_its_meaning() -> None:
    text = _text(personal_guide(str(_example("example-001.yaml"))))  # NCI standard risk
    assert "Risk group: standard risk (the first grouping by age and white cell count)" in text
    assert "how strong the treatment needs to be" in text
    pending = _text(personal_guide(str(_example("example-005.yaml"))))
    assert "Some test results are not in the record yet" in pending
    # a group still open says what it may become, in words
    t_all = _text(personal_guide(str(_example("example-002.yaml"))))
    assert ("The risk group for T-cell ALL in children is not known yet. It may be standard "
            "risk or very high risk.") in t_all
    adult = _text(personal_guide(str(_example("example-004.yaml"))))
    assert "how sick you are" in adult and "how sick your child is" not in adult
    for path in example_paths():  # every scheme the examples reach has plain words
        assert "another risk grouping" not in _text(personal_guide(str(path))), path.name


def test_phase_comes_from_the_end_of_induction_checkpoint_not_the_diagnosis_date() -> None:
    # example-002: diagnosed 2024-08-14, no treatment dates, end-of-induction marrow MRD
    # recorded 2024-09-11: induction is over, consolidation is next
    guide = personal_guide(str(_example("example-002.yaml")))
    line = next(x for x in guide.intro if "phase" in x or "ended" in x)
    assert "Induction has ended" in line and "consolidation" in line
    assert "2024-09-11" in line
    titles = {s.id for t in guide.topics if t.id == "treatment-phases" for s in t.sections}
    assert "consolidation" in titles and "induction" not in titles


def test_phase_comes_from_the_treatment_dates(tmp_path: Path) -> None:
    doc = yaml.safe_load(_example("example-001.yaml").read_text(encoding="utf-8"))
    doc["treatment"] = [
        {"phase": "induction", "start": "2024-05-04", "end": "2024-05-31"},
        {"phase": "consolidation", "start": "2024-06-01"},
    ]
    late = {"code": "anc", "value": 1.2, "unit": "10*9/L", "time": "2024-06-20"}
    doc["observations"] = [*doc["observations"], late]
    path = tmp_path / "record.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    guide = personal_guide(str(path))
    line = next(x for x in guide.intro if "As of" in x)
    assert line.startswith("As of 2024-06-20, your child is in consolidation.")
    assert "interim maintenance" in line and "treatment dates" in line


def test_sources_sit_behind_links_not_inside_the_sentences() -> None:
    guide = general_guide()
    md = render(guide, "markdown")
    assert "[^1]" in md and "\n[^1]: " in md
    assert not re.search(r"\[(S\d+|SEED-|COG-|CCLG-)", md.split("## Sources")[0])
    text = render(guide)
    body = text.split("\nSources\n")[0]
    assert "Sources: " in body and not re.search(r"\[(S\d+|SEED-)", body)
    sources = guide.to_dict()["topics"][0]["sections"][1]["sources"]
    assert all(s["reference"] for s in sources)
    assert all(s["url"] for s in sources if not s["id"].startswith("S"))


def test_cli_guide_team_phone_and_bad_phone() -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["guide", "when-to-call", "--team-phone", "555 0100"])
    assert res.exit_code == 0 and "Your team's 24-hour phone number is 555 0100." in res.output
    res = runner.invoke(app, ["guide", "--team-phone", "ring the ward"])
    assert res.exit_code != 0 and "team_phone" in res.output
    res = runner.invoke(app, ["guide", "--for", str(_example("example-001.yaml")),
                              "--team-phone", "555 0100"])
    assert res.exit_code == 0 and "555 0100" in res.output
