"""Bundled clinical knowledge (data only): bibliography, catalogue, vocabularies, rule packs.

Nothing in this folder holds logic; loaders live beside the stage that uses the data.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = ["YAML_LOADER", "knowledge_dir", "load_yaml", "parse_yaml"]

# libyaml's safe loader when PyYAML was built with it (the wheels are), else the pure-Python
# one: the same documents, about 8x faster on the bundled knowledge (0.13 s vs 1.05 s).
YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """Safe YAML from text, with :data:`YAML_LOADER`."""
    return yaml.load(text, Loader=YAML_LOADER)  # a safe loader (CSafeLoader or SafeLoader)


def knowledge_dir() -> Path:
    """Folder of the bundled knowledge files."""
    return Path(str(resources.files("allpath.knowledge")))


@lru_cache(maxsize=64)
def load_yaml(name: str) -> Any:
    """Load a bundled YAML file by its path relative to the knowledge folder (cached)."""
    with (knowledge_dir() / name).open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=YAML_LOADER)
