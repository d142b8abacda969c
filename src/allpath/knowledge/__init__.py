"""Bundled clinical knowledge (data only): bibliography, catalogue, vocabularies, rule packs.

Nothing in this folder holds logic; loaders live beside the stage that uses the data.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CACHE_ENV", "YAML_LOADER", "cache_dir", "knowledge_dir", "load_yaml", "parse_yaml",
    "write_atomic",
]

# libyaml's safe loader when PyYAML was built with it (the wheels are), else the pure-Python
# one: the same documents, about 8x faster on the bundled knowledge (0.13 s vs 1.05 s).
YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """Safe YAML from text, with :data:`YAML_LOADER`, through a content-addressed JSON cache.

    Building Python objects from YAML costs far more than reading the same data as JSON
    (about 0.3 s for the bundled knowledge, paid by every command at start-up). So the parsed
    document is also written as JSON under :func:`cache_dir`, named by the SHA-256 of the YAML
    text: the same text always gives the same file, a changed text a new one, so a stale entry
    can never be read. Documents that JSON cannot hold exactly (dates, non-string keys) are not
    cached. Knowledge files only: patient records never pass through here.
    """
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    folder = cache_dir()
    entry = folder / "knowledge" / f"{digest}.json" if folder is not None else None
    if entry is not None:
        try:
            return json.loads(entry.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # not cached yet, or an unreadable entry: parse again
            pass
    doc = yaml.load(text, Loader=YAML_LOADER)  # a safe loader (CSafeLoader or SafeLoader)
    if entry is not None and _json_exact(doc):
        write_atomic(entry, json.dumps(doc, ensure_ascii=False))
    return doc


CACHE_ENV = "ALLPATH_CACHE_DIR"


def cache_dir() -> Path | None:
    """ALLPath's cache folder (parsed knowledge, pint's unit definitions): ``$ALLPATH_CACHE_DIR``,
    else ``allpath`` under ``$XDG_CACHE_HOME`` or ``~/.cache``. ``ALLPATH_CACHE_DIR=off``
    turns caching off. Only derived data lives there: deleting it is always safe."""
    env = os.environ.get(CACHE_ENV)
    if env == "off":
        return None
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "allpath"


def _json_exact(doc: Any) -> bool:
    """True when ``json.loads(json.dumps(doc))`` gives ``doc`` back unchanged."""
    if doc is None or isinstance(doc, bool | int | float | str):
        return True
    if isinstance(doc, list):
        return all(_json_exact(v) for v in doc)
    if isinstance(doc, dict):
        return all(isinstance(k, str) and _json_exact(v) for k, v in doc.items())
    return False


def write_atomic(path: Path, text: str) -> None:
    """Write the cache entry whole or not at all (other processes may read it meanwhile); a
    cache that cannot be written (read-only home, full disk) only means no cache."""
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        tmp = Path(name)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        tmp.replace(path)
    except OSError:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def knowledge_dir() -> Path:
    """Folder of the bundled knowledge files."""
    return Path(str(resources.files("allpath.knowledge")))


@lru_cache(maxsize=64)
def load_yaml(name: str) -> Any:
    """Load a bundled YAML file by its path relative to the knowledge folder (cached)."""
    return parse_yaml((knowledge_dir() / name).read_text(encoding="utf-8"))
