"""The second part of `make test` runs only the files the Makefile lists in SERIAL_TESTS, so a
`serial` test in any other file would never run under `make test`: this test catches that."""

from __future__ import annotations

import re

from support import REPO


def _makefile_serial_files() -> set[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(ln for ln in text.splitlines() if ln.startswith("SERIAL_TESTS :="))
    return set(line.split(":=", 1)[1].split())


def _files_with_serial_tests() -> set[str]:
    mark = re.compile(r"pytest\.mark\.serial\b")
    return {str(p.relative_to(REPO)) for p in (REPO / "tests").rglob("test_*.py")
            if mark.search(p.read_text(encoding="utf-8"))} - {"tests/test_serial_files.py"}


def test_every_file_with_serial_tests_is_in_the_makefiles_serial_run() -> None:
    listed = _makefile_serial_files()
    found = _files_with_serial_tests()
    assert found, "no serial tests found: the marker search is broken"
    assert found == listed, f"Makefile SERIAL_TESTS {sorted(listed)} != files {sorted(found)}"
    assert all((REPO / f).is_file() for f in listed)
