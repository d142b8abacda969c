"""Helpers shared by test modules (kept out of conftest so modules can import them)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    """The shared folder beside the repository (or $ALLPATH_SHARED), if present."""
    env = os.environ.get("ALLPATH_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared", REPO.parent.parent / "shared"]
    for c in candidates:
        if (c / "vignettes").is_dir():
            return c
    return None


def example_docs() -> list[dict[str, Any]]:
    """The bundled example records as JSON-ready dicts (dates as ISO strings)."""
    from allpath.examples import example_paths

    out = []
    for p in example_paths():
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        out.append(json.loads(json.dumps(doc, default=str)))
    return out


def example_doc(record_id: str) -> dict[str, Any]:
    """One bundled example record by its id, as a JSON-ready dict."""
    return next(d for d in example_docs() if d["id"] == record_id)
