"""Helpers of the API tests: the bundled demo patients as JSON documents."""

from __future__ import annotations

import json
from typing import Any

import yaml

from allpath.examples import example_paths


def example_docs() -> list[dict[str, Any]]:
    """The bundled example records as JSON-ready dicts (dates as ISO strings)."""
    out = []
    for p in example_paths():
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        out.append(json.loads(json.dumps(doc, default=str)))
    return out


def example_doc(record_id: str) -> dict[str, Any]:
    return next(d for d in example_docs() if d["id"] == record_id)
