"""Bundled clinical knowledge (data only): bibliography, catalogue, vocabularies, rule packs.

Nothing in this folder holds logic; loaders live beside the stage that uses the data.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = ["knowledge_dir", "load_yaml"]


def knowledge_dir() -> Path:
    """Folder of the bundled knowledge files."""
    return Path(str(resources.files("allpath.knowledge")))


@lru_cache(maxsize=64)
def load_yaml(name: str) -> Any:
    """Load a bundled YAML file by its path relative to the knowledge folder (cached)."""
    with (knowledge_dir() / name).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)
