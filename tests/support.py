"""Helpers shared by test modules (kept out of conftest so modules can import them)."""

from __future__ import annotations

import os
from pathlib import Path

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
