"""Every citation id in an assessment resolves in its top-level ``citations`` map.

docs/output-format.md promises that the top-level map covers every source behind the
document; the review of 2026-12-07 (independent_cases/REVIEW-2026-12-07-response.md, finding 1)
found the response citations (Ponte di Legno [PDL-CR-2022], Schrappe 2012
[INDUCTION-FAILURE-2012], BMT CTN 2010 [S30]) missing from it. Checked here over every bundled
example, every shared vignette and the reviewed end-of-induction cases ic119-ic132.
"""

from __future__ import annotations

from typing import Any

import pytest

from allpath import assess, parse_record
from allpath.rules.loader import load_knowledge
from support import REPO, example_docs, load_yaml, shared_dir

_SHARED = shared_dir()
_VIGNETTES = sorted((_SHARED / "vignettes").rglob("*.yaml")) if _SHARED else []
_REVIEWED = sorted(
    p for p in (REPO / "tests/clinical/independent_cases").glob("ic1[1-3][0-9]-*.yaml")
    if 119 <= int(p.name[2:5]) <= 132
)


def _ids_in(node: Any, path: str = "") -> dict[str, str]:
    """Each citation id under a ``citations``/``cite`` list, with the first path it sits at."""
    out: dict[str, str] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if key in ("citations", "cite") and isinstance(value, list):
                for c in value:
                    out.setdefault(c, here)
            elif not (path == "" and key == "citations"):
                for c, where in _ids_in(value, here).items():
                    out.setdefault(c, where)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            for c, where in _ids_in(item, f"{path}[{i}]").items():
                out.setdefault(c, where)
    return out


def _subclassed_containers(node: Any, path: str = "") -> list[str]:
    """Paths of dicts and lists that are subclasses, not plain ``dict``/``list`` (the
    document's citation walk, ``outputs.assessment._cited_ids``, tells containers by exact
    type, so a subclass would hide the citations under it)."""
    out: list[str] = []
    if isinstance(node, dict | list) and type(node) not in (dict, list):
        out.append(f"{path or '(root)'}: {type(node).__name__}")
    if isinstance(node, dict):
        for key, value in node.items():
            out += _subclassed_containers(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            out += _subclassed_containers(item, f"{path}[{i}]")
    return out


def _records() -> list[tuple[str, dict[str, Any]]]:
    out = [(f"example:{d['id']}", d) for d in example_docs()]
    for p in _VIGNETTES + _REVIEWED:
        doc = load_yaml(p.read_text(encoding="utf-8"))
        record = doc.get("record") if isinstance(doc, dict) else None
        if isinstance(record, dict) and "format" in record:
            out.append((p.stem, record))
    return out


_RECORDS = _records()


def test_the_citation_check_covers_examples_vignettes_and_reviewed_cases() -> None:
    names = [n for n, _ in _RECORDS]
    assert sum(n.startswith("example:") for n in names) >= 5
    assert len(_REVIEWED) == 14 and all(p.stem in names for p in _REVIEWED)
    if _SHARED is not None:
        assert any(n.startswith("m01") for n in names) and any(n.startswith("p01") for n in names)


@pytest.mark.parametrize("name,record", _RECORDS, ids=[n for n, _ in _RECORDS])
def test_every_cited_id_is_in_the_top_level_citations_and_resolves(
    name: str, record: dict[str, Any]
) -> None:
    doc = assess(parse_record(record)).to_dict()
    bibliography = load_knowledge().citations
    top = doc["citations"]
    assert all(c in bibliography for c in top)
    cited = _ids_in(doc)
    assert cited, f"{name}: no citation anywhere in the document"
    absent = {c: where for c, where in cited.items() if c not in top}
    assert not absent, f"{name}: cited but not in the top-level citations: {absent}"
    unresolved = {c: where for c, where in cited.items() if c not in bibliography}
    assert not unresolved, f"{name}: cited ids missing from citations.yaml: {unresolved}"
    assert _subclassed_containers(doc) == []


def test_buchmann2022_and_schrappe2012_reach_the_citations_of_a_child_in_remission() -> None:
    """ic119 (girl, 3 y, M1 marrow, platelets 60): the response cites the Ponte di Legno
    consensus and Schrappe 2012; both are looked up in the top-level map."""
    [path] = [p for p in _REVIEWED if p.name.startswith("ic119")]
    record = load_yaml(path.read_text(encoding="utf-8"))["record"]
    doc = assess(parse_record(record)).to_dict()
    [eoi] = [r for r in doc["response"] if r["checkpoint"] == "end_of_induction"]
    assert eoi["status"] == "CR"
    assert {"PDL-CR-2022", "INDUCTION-FAILURE-2012"} <= set(eoi["citations"])
    assert "Blood 2022;139:1785" in doc["citations"]["PDL-CR-2022"]
    assert "N Engl J Med 2012;366:1371" in doc["citations"]["INDUCTION-FAILURE-2012"]
