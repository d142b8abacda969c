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


def synthetic_cbc_rows(n: int, seed: int) -> Any:
    """``n`` seeded synthetic CBC rows (a pyarrow Table with the screening columns), for the
    cluster and screening tests."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    return pa.table({
        "patient_id": [f"p{seed}-{i}" for i in range(n)],
        "age_years": rng.uniform(0.5, 80, n).round(1),
        "sex": rng.choice(["female", "male"], n),
        "time": ["2026-01-01"] * n,
        "wbc": rng.lognormal(1.8, 0.8, n).round(2),
        "hemoglobin": rng.normal(11, 3, n).clip(3, 19).round(1),
        "platelets": rng.lognormal(5.0, 0.8, n).round(0),
        "anc": rng.lognormal(0.8, 0.9, n).round(2),
    })
