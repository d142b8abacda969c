"""The pre-screen definition: every part cited, and a bad file fails with its path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from allpath.errors import KnowledgeError
from allpath.knowledge import knowledge_dir
from allpath.rules.loader import load_citations
from allpath.trials.criteria import load_criteria, read_criteria
from support import load_yaml

BUNDLED = knowledge_dir() / "trials" / "criteria.yaml"


def _write(tmp_path: Path, edit: object) -> Path:
    doc = load_yaml(BUNDLED.read_text(encoding="utf-8"))
    edit(doc)  # type: ignore[operator]
    path = tmp_path / "criteria.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_bundled_criteria_cite_only_known_sources() -> None:
    c = load_criteria()
    known = load_citations()
    cites = [*c.age_cite, *c.status_cite, *c.relevant_cite]
    for f in c.facets:
        assert f.cite, f.id
        cites += f.cite
    assert set(cites) <= set(known)
    assert "CTGOV-GLOSSARY" in c.age_cite


def test_clinicaltrials_gov_age_groups_child_adult_older_adult() -> None:
    c = load_criteria()
    assert c.age_group_of(0.0) == "CHILD"
    assert c.age_group_of(17.99) == "CHILD"
    assert c.age_group_of(18.0) == "ADULT"
    assert c.age_group_of(64.99) == "ADULT"
    assert c.age_group_of(65.0) == "OLDER_ADULT"


def test_unknown_citation_fails_naming_the_facet(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:  # type: ignore[type-arg]
        doc["facets"][2]["cite"] = ["S1", "NOPE-1"]

    with pytest.raises(KnowledgeError) as err:
        read_criteria(_write(tmp_path, edit))
    paths = [p.path for p in err.value.problems]
    assert paths == ["facets[2].cite"]
    assert err.value.problems[0].got == "NOPE-1"


def test_missing_citation_fails(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:  # type: ignore[type-arg]
        doc["facets"][0]["cite"] = []

    with pytest.raises(KnowledgeError) as err:
        read_criteria(_write(tmp_path, edit))
    assert any(p.path.startswith("facets[0].cite") for p in err.value.problems)


def test_bad_pattern_and_unknown_profile_value_are_all_reported(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:  # type: ignore[type-arg]
        doc["facets"][1]["values"]["B"]["patterns"][0] = "B[- cell"
        doc["facets"][1]["values"]["T"]["met"] = ["T", "X"]

    with pytest.raises(KnowledgeError) as err:
        read_criteria(_write(tmp_path, edit))
    paths = sorted(p.path for p in err.value.problems)
    assert paths == ["facets[1].values.B.patterns[0]", "facets[1].values.T.met[1]"]


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:  # type: ignore[type-arg]
        doc["facets"][0]["threshold"] = 5

    with pytest.raises(KnowledgeError) as err:
        read_criteria(_write(tmp_path, edit))
    assert any("threshold" in p.path for p in err.value.problems)


def test_every_text_facet_and_the_reading_rules_are_cited() -> None:
    c = load_criteria()
    known = set(load_citations())
    assert c.text_facets and c.text_reading.cite
    assert set(c.text_reading.cite) <= known
    for f in c.text_facets:
        assert f.cite and set(f.cite) <= known, f.id
        assert f.settle, f.id


def test_bad_text_facet_fails_naming_its_path(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:  # type: ignore[type-arg]
        doc["text_facets"][0]["cite"] = ["NOPE-2"]
        relapse = next(f for f in doc["text_facets"] if f["id"] == "relapse_number")
        relapse["values"]["first"]["met"] = ["third"]
        doc["text_reading"]["negation_after"][0] = "(unclosed"

    ids = [f["id"] for f in load_yaml(BUNDLED.read_text(encoding="utf-8"))["text_facets"]]
    with pytest.raises(KnowledgeError) as err:
        read_criteria(_write(tmp_path, edit))
    paths = sorted(p.path for p in err.value.problems)
    n = ids.index("relapse_number")
    assert paths == sorted(["text_facets[0].cite", f"text_facets[{n}].values.first.met[0]",
                            "text_reading.negation_after[0]"])


def test_text_facet_pattern_matching_everything_contradiction_and_empty_settle_fail(
        tmp_path: Path) -> None:
    def edit(doc: dict) -> None:  # type: ignore[type-arg]
        first = doc["text_facets"][0]
        value = next(iter(first["values"]))
        first["values"][value]["patterns"] = ["(?:relapsed)?"]  # matches the empty string
        first["values"][value]["not_met"] = list(first["values"][value]["met"])
        doc["text_facets"][1]["settle"] = " "

    with pytest.raises(KnowledgeError) as err:
        read_criteria(_write(tmp_path, edit))
    value = next(iter(load_yaml(BUNDLED.read_text(encoding="utf-8"))
                      ["text_facets"][0]["values"]))
    paths = {p.path for p in err.value.problems}
    assert f"text_facets[0].values.{value}.patterns[0]" in paths
    assert f"text_facets[0].values.{value}.not_met" in paths
    assert "text_facets[1].settle" in paths


def test_rules_check_reports_and_validates_the_text_facets(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import allpath.trials.criteria as criteria_module
    from allpath.cli.rules import app

    c = load_criteria()
    ok = CliRunner().invoke(app, ["check"])
    assert ok.exit_code == 0, ok.output
    assert (f"criteria {c.version} valid: {len(c.facets)} title facets and "
            f"{len(c.text_facets)} text facets") in ok.output
    assert "Bundled criteria texts valid: 7 studies" in ok.output

    def edit(doc: dict) -> None:  # type: ignore[type-arg]
        doc["text_facets"][2]["cite"] = ["NOT-A-SOURCE"]

    bad = _write(tmp_path, edit)
    monkeypatch.setattr(criteria_module, "load_criteria", lambda: read_criteria(bad))
    failed = CliRunner().invoke(app, ["check"])
    assert failed.exit_code == 1
    assert "text_facets[2].cite" in failed.output
