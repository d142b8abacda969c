"""Read the `expected` blocks of the worked cases (format in ../shared/vignettes/README.md).

A key is a path into the assessment JSON: ``a.b.c``, ``risk[scheme=nci_rome].group`` (the
list element whose ``scheme`` is ``nci_rome``) and ``alerts[].id`` (the list of ``id`` values).
A value is compared for equality, or is ``{contains: x}``, ``{not_contains: x}`` or
``{one_of: [...]}``.
"""

from __future__ import annotations

import re
from typing import Any

_SELECT = re.compile(r"^(?P<name>[^\[]+)\[(?:(?P<key>[^=\]]+)=(?P<value>[^\]]+))?\]$")

_MISSING = object()


def resolve(doc: Any, path: str) -> Any:
    """Follow a vignette path through a JSON document; returns a sentinel when absent."""
    current: Any = doc
    parts = path.split(".")
    i = 0
    while i < len(parts):
        part = parts[i]
        m = _SELECT.match(part)
        if m:
            seq = current.get(m.group("name"), _MISSING) if isinstance(current, dict) else _MISSING
            if not isinstance(seq, list):
                return _MISSING
            if m.group("key") is None:  # name[] -> map the rest over the list
                rest = ".".join(parts[i + 1 :])
                return [resolve(item, rest) if rest else item for item in seq]
            key, value = m.group("key"), m.group("value")
            matches = [item for item in seq if isinstance(item, dict)
                       and str(item.get(key)) == value]
            if not matches:
                return _MISSING
            current = matches[0]
        else:
            if not isinstance(current, dict) or part not in current:
                return _MISSING
            current = current[part]
        i += 1
    return current


def check(doc: Any, expected: dict[str, Any]) -> list[str]:
    """Return one message per expectation that the document does not meet."""
    failures = []
    for path, want in expected.items():
        got = resolve(doc, path)
        if got is _MISSING:
            failures.append(f"{path}: absent from the output (wanted {want!r})")
            continue
        if isinstance(want, dict) and "contains" in want:
            ok = isinstance(got, list) and want["contains"] in got
        elif isinstance(want, dict) and "not_contains" in want:
            ok = isinstance(got, list) and want["not_contains"] not in got
        elif isinstance(want, dict) and "one_of" in want:
            ok = got in want["one_of"]
        else:
            ok = got == want
        if not ok:
            failures.append(f"{path}: wanted {want!r}, got {got!r}")
    return failures
