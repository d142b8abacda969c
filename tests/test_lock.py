"""requirements/lock.txt pins, with hashes, every dependency pyproject.toml declares (#14).

CI installs from the lock with ``pip --require-hashes`` (Makefile), so a dependency added to
pyproject.toml without ``make lock`` would be missing there; this test says which one.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s\\;]+)")


def _locked() -> dict[str, tuple[Version, int]]:
    """name -> (pinned version, number of sha256 hashes) of each entry."""
    out: dict[str, tuple[Version, int]] = {}
    current: str | None = None
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            out[current] = (Version(match.group(2)), 0)
        elif current is not None and line.strip().startswith("--hash=sha256:"):
            version, hashes = out[current]
            out[current] = (version, hashes + 1)
    return out


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    texts = list(project["project"]["dependencies"])
    for extra in ("dev", "jax"):
        texts += project["project"]["optional-dependencies"][extra]
    texts += project["build-system"]["requires"]
    return [Requirement(t) for t in texts]


def test_every_declared_dependency_is_pinned_in_the_lock_within_its_range() -> None:
    locked = _locked()
    problems = []
    for req in _declared():
        name = canonicalize_name(req.name)
        if name not in locked:
            problems.append(f"{req}: not in requirements/lock.txt (run `make lock`)")
        elif not req.specifier.contains(locked[name][0], prereleases=True):
            problems.append(f"{req}: the lock pins {locked[name][0]} (run `make lock`)")
    assert problems == []


def test_every_locked_package_carries_a_sha256_hash() -> None:
    locked = _locked()
    assert len(locked) > 50
    assert [name for name, (_, hashes) in locked.items() if hashes == 0] == []


def test_known_unsafe_releases_are_excluded_by_the_declared_lower_bounds() -> None:
    by_name = {canonicalize_name(r.name): r for r in _declared()}
    assert not by_name["starlette"].specifier.contains("0.49.0")  # CVE-2025-62727
    assert not by_name["h11"].specifier.contains("0.15.0")  # CVE-2025-43859
    assert not by_name["pyjwt"].specifier.contains("2.12.1")  # CVE-2026-48526 (< 2.13.0)
