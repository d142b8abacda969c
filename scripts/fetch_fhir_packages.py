"""Fetch the FHIR packages the mCODE conformance check needs, pinned by sha256.

Downloads each tarball from the npm registry with the standard library (CI has Python, pip,
gcc and apt, not npm), checks its sha256 against the pin below, and unpacks it into
``.cache/fhir-packages/<name>#<version>/`` (ignored by git; ``$ALLPATH_FHIR_PACKAGES``
chooses another folder). A package already unpacked from a tarball with the pinned hash is
left alone, so the script is cheap to run before every test run.

The packages:

- ``hl7.fhir.us.mcode`` 4.0.0: the mCODE StructureDefinitions (with snapshots), ValueSets,
  CodeSystems and official examples.
- ``hl7.terminology.r4`` 7.0.1: the terminology.hl7.org CodeSystems and ValueSets
  (condition-clinical, observation-category, ...). mCODE 4.0.0 names 6.2.0; the npm
  registry serves only 7.0.1, whose codes for the systems used here are unchanged.
- ``fhir`` 4.12.0 (FHIR.js): its ``profiles/valuesets.json`` holds the FHIR R4 core value
  sets as code lists (administrative-gender, observation-status, ...), because
  ``hl7.fhir.r4.core`` is not on the npm registry. The US Core 6.1.0 package is not there
  either: the mCODE snapshots already carry what US Core adds to each element, and a value
  set only US Core defines is reported "not checked" by the checker.

Usage: ``python scripts/fetch_fhir_packages.py [--dest DIR]``; exit 0 when every package is
in place, 1 (with the reason) otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REGISTRY = "https://registry.npmjs.org"
# (name, version, sha256 of the tarball)
PACKAGES: tuple[tuple[str, str, str], ...] = (
    ("hl7.fhir.us.mcode", "4.0.0",
     "6bdb93934e2c0a859198e8c1c21eccb28915c73535d18c75c515c03bba9c45de"),
    ("hl7.terminology.r4", "7.0.1",
     "170c546f761fb51b3355788ca500206f6b772b21c57348c29205de85a6612baa"),
    ("fhir", "4.12.0",
     "24050342e144204baa2abb34e6c7fb1c5e9c879944583edb5fc146973beeccfe"),
)
STAMP = ".sha256"


def default_dest() -> Path:
    env = os.environ.get("ALLPATH_FHIR_PACKAGES")
    return Path(env) if env else REPO / ".cache" / "fhir-packages"


def tarball_url(name: str, version: str) -> str:
    return f"{REGISTRY}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


def fetch(name: str, version: str, sha256: str, dest: Path, *, timeout: float = 120) -> Path:
    """Unpack one pinned package into ``dest/<name>#<version>``; returns that folder."""
    target = dest / f"{name}#{version}"
    stamp = target / STAMP
    if stamp.is_file() and stamp.read_text().strip() == sha256 and (target / "package").is_dir():
        return target
    url = tarball_url(name, version)
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        data = resp.read()
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise RuntimeError(f"{name}@{version}: sha256 of {url} is {got}, expected {sha256}")
    tmp = dest / f".{name}#{version}.partial"
    if tmp.exists():
        _rmtree(tmp)
    tmp.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if member.name.startswith("/") or ".." in parts or not (member.isfile()
                                                                      or member.isdir()):
                raise RuntimeError(f"{url}: unsafe tar member {member.name!r}")
        if hasattr(tarfile, "data_filter"):
            tar.extractall(tmp, filter="data")
        else:  # Python before 3.11.4: the members were checked above
            tar.extractall(tmp)
    manifest = json.loads((tmp / "package" / "package.json").read_text(encoding="utf-8"))
    if manifest.get("name") != name or manifest.get("version") != version:
        raise RuntimeError(f"{url} holds {manifest.get('name')}@{manifest.get('version')}")
    (tmp / STAMP).write_text(sha256 + "\n")
    if target.exists():
        _rmtree(target)
    tmp.rename(target)
    return target


def _rmtree(path: Path) -> None:
    for child in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if child.is_dir() and not child.is_symlink():
            child.rmdir()
        else:
            child.unlink()
    path.rmdir()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=default_dest())
    args = parser.parse_args(argv)
    dest: Path = args.dest
    dest.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name, version, sha256 in PACKAGES:
        try:
            where = fetch(name, version, sha256, dest)
        except (OSError, RuntimeError, tarfile.TarError, ValueError) as exc:
            print(f"fetch_fhir_packages: {name}@{version} not fetched: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"fetch_fhir_packages: {name}@{version} in {where}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
