"""docs/roadmap.md lists, for every template, the source of each dosed component."""

from __future__ import annotations

from pathlib import Path

import pytest

from allpath.roadmap import load_templates

DOC = (Path(__file__).resolve().parents[2] / "docs" / "roadmap.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("tid", sorted(load_templates()))
def test_docs_roadmap_lists_every_dosed_component_with_its_sources(tid: str) -> None:
    t = load_templates()[tid]
    head = f"#### `{t.id}` v{t.version}:"
    assert head in DOC, f"docs/roadmap.md has no section for {tid} v{t.version}"
    section = DOC.split(head, 1)[1].split("#### ", 1)[0]
    for p in t.phases:
        for c in p.components:
            rows = [r for r in section.splitlines()
                    if r.startswith(f"| {p.id} |") and f"| {c.drug} ({c.route}) |" in r]
            assert any(", ".join(c.cite) in r for r in rows), (tid, p.id, c.drug)


def test_docs_roadmap_source_tables_are_current() -> None:
    from allpath.roadmap.sources import BEGIN, END, source_tables

    assert DOC.split(BEGIN, 1)[1].split(END, 1)[0].strip() == source_tables().strip(), \
        "run: python -m allpath.roadmap.sources docs/roadmap.md"
