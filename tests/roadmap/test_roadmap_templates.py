"""Protocol templates: the bundled ones load; broken ones fail with file and path."""

from __future__ import annotations

from pathlib import Path

import pytest

from allpath.errors import KnowledgeError
from allpath.knowledge import knowledge_dir
from allpath.roadmap.templates import check_templates, expand_days, load_templates
from support import load_yaml

GOOD = """\
format: allpath.protocol/1
id: tiny
version: 1.0.0
title: Tiny
family: test
population: test
description: test
cite: [S33]
phases:
  - id: induction
    title: Induction
    kind: induction
    length_days: 28
    cite: [S33]
    components:
      - {drug: vincristine, class: vinca alkaloid, route: IV,
         dose: {amount: 1.5, unit: mg, basis: m2}, cap: {amount: 2, unit: mg},
         days: [0, 7], cite: [S33]}
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "t.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_bundled_templates_load_without_problems() -> None:
    templates, problems = check_templates()
    assert problems == []
    expected = {"cog-b-sr", "cog-b-sr-high", "cog-b-hr", "cog-t-all", "calgb-10403",
                "adult-hyper-cvad", "adult-ph-neg-b-blinatumomab", "ph-pos-tki-chemo-adult",
                "ph-pos-paediatric", "ph-pos-dalba", "rr-blinatumomab", "rr-inotuzumab",
                "rr-car-t", "hsct", "interfant"}
    assert expected <= set(templates)


def test_every_pack_template_value_has_a_template_file() -> None:

    pack = load_yaml((knowledge_dir() / "packs" / "70-roadmap.yaml").read_text())
    values = set(pack["decisions"][0]["values"]) - {"none"}  # "none": no template fits
    alt = {r["then"] for r in pack["decisions"][1]["rules"]}
    assert values | alt <= set(load_templates())


def test_a_small_valid_template_passes(tmp_path: Path) -> None:
    templates, problems = check_templates(_write(tmp_path, GOOD))
    assert problems == [] and "tiny" in templates


def test_a_dose_without_citation_fails_with_file_and_path(tmp_path: Path) -> None:
    text = GOOD.replace("days: [0, 7], cite: [S33]}", "days: [0, 7]}")
    _, problems = check_templates(_write(tmp_path, text))
    assert any("without a citation" in p.message and p.source == "protocols/t.yaml"
               and "components[0]" in p.path for p in problems)
    with pytest.raises(KnowledgeError):
        load_templates(tmp_path)


def test_a_citation_that_does_not_resolve_fails(tmp_path: Path) -> None:
    _, problems = check_templates(_write(tmp_path, GOOD.replace("days: [0, 7], cite: [S33]",
                                                                "days: [0, 7], cite: [S999]")))
    assert any("does not resolve" in p.message for p in problems)


def test_a_phase_length_without_citation_fails(tmp_path: Path) -> None:
    text = GOOD.replace("    length_days: 28\n    cite: [S33]\n", "    length_days: 28\n")
    _, problems = check_templates(_write(tmp_path, text))
    assert any("without a citation" in p.message and "phases[0]" in p.path for p in problems)


def test_days_beyond_the_phase_and_unknown_next_are_reported(tmp_path: Path) -> None:
    text = GOOD.replace("days: [0, 7]", "days: [0, 40]") + (
        "    decisions:\n      - id: d\n        title: D\n        cite: [S33]\n"
        "        options: [{when: x, next: nowhere}]\n")
    _, problems = check_templates(_write(tmp_path, text))
    messages = " | ".join(str(p) for p in problems)
    assert "day beyond the phase" in messages
    assert "'nowhere'" in messages


def test_schema_errors_are_listed_with_their_path(tmp_path: Path) -> None:
    _, problems = check_templates(_write(tmp_path, GOOD.replace("route: IV", "route: XX")))
    assert any("route" in p.path for p in problems)


def test_day_specs_expand() -> None:
    assert expand_days((0, "3-5", "10-24/7")) == (0, 3, 4, 5, 10, 17, 24)


def test_maintenance_no_longer_differs_by_sex() -> None:
    t = load_templates()["cog-b-sr"]
    m = t.phase("maintenance")
    assert m.until is not None and m.until.years == 2
    assert m.until.anchor == "interim_maintenance"
    hr = load_templates()["cog-b-hr"].phase("maintenance")
    assert hr.until is not None and (hr.until.anchor, hr.until.at) == ("consolidation", "end")


def test_unconfirmed_items_are_marked() -> None:
    t = load_templates()["cog-b-hr"]
    steroids = [c for c in t.phase("induction").components if c.drug_class == "corticosteroid"]
    # AALL0232: the 14 vs 28 days and the age split are read; the mg/m2 amounts are not
    assert steroids and all(c.evidence == "unconfirmed" for c in steroids)
    assert load_templates()["interfant"].evidence == "unconfirmed"
