"""One exception tree for ALLPath, and the typed warnings.

Tree::

    AllPathError                     base of every error this package raises on purpose
    ├── RecordError                  a patient record (or triage/bulk input) is malformed;
    │                                carries every Problem found, each with its field path
    ├── KnowledgeError               a rule pack, catalogue or bibliography is invalid;
    │                                carries every Problem found, each with file and path
    ├── TrialDataError               a clinical-trial registry file cannot be read;
    │                                carries every Problem found, each with its field path
    └── UnknownRuleError             a rule id that no pack defines (with suggestions)

    AllPathWarning (UserWarning)     questionable-but-usable input or result

Missing clinical data is *not* an error: stages return ``unknown`` together with what is
missing and which test would settle it.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "AllPathError",
    "AllPathWarning",
    "KnowledgeError",
    "Problem",
    "RecordError",
    "TrialDataError",
    "UnknownRuleError",
    "did_you_mean",
    "shown",
    "validation_problems",
]

#: the longest value quoted in a message; longer text is cut with an ellipsis
SHOWN_CHARS = 80


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """A value for a person to read in a message, as it came in, never a Python repr.

    Text is quoted with plain single quotes (``'femal'``), numbers are written as numbers
    (``4000``, ``4.5``), ``None`` is "nothing", booleans are "true"/"false", dates are ISO
    dates, and a mapping or a list is named rather than dumped ("a mapping", "a list of 3").
    """
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # a huge integer is never spelled out (nor converted: str() refuses very long ones)
        return str(value) if abs(value) < 10**limit else f"a number of more than {limit} digits"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else str(value)
    if isinstance(value, str):
        text = value[: 4 * limit]  # enough to cut from; a huge value is never copied whole
        text = " ".join(text.split()) if "\n" in text or "\r" in text else text
        text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
        if len(text) > limit - 2:  # the quotes count
            text = text[: limit - 3].rstrip() + "…"
        return f"'{text}'"
    if isinstance(value, dt.date):  # a datetime is a date too
        return value.isoformat()
    if isinstance(value, Mapping):
        return "an empty mapping" if not value else "a mapping"
    if isinstance(value, list | tuple | set | frozenset):
        n = len(value)
        return "an empty list" if n == 0 else f"a list of {n}"
    if isinstance(value, bytes):
        return "binary data"
    return f"a {type(value).__name__} value"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located by a path such as ``observations[3].unit``."""

    path: str
    message: str
    expected: str | None = None
    got: str | None = None
    hint: str | None = None
    source: str | None = None  # file the problem was found in, when there is one

    def __str__(self) -> str:
        """``path: message; expected ..., got ... (hint)``; a problem with the whole input
        (an empty path) is its message alone, after the file name when there is one."""
        where = f"{self.source}: " if self.source else ""
        text = f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"
        if self.expected is not None:
            text += f"; expected {self.expected}"
        if self.got is not None:
            text += f", got {self.got}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def as_dict(self) -> dict[str, str]:
        out = {"path": self.path, "message": self.message}
        for key in ("expected", "got", "hint", "source"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


class AllPathError(Exception):
    """Base class of every error ALLPath raises on purpose."""


class _ProblemsError(AllPathError):
    kind = "input"

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        super().__init__(self._summary())

    def _summary(self) -> str:
        head = f"{len(self.problems)} problem(s) in {self.kind}"
        if self.source:
            head += f" {self.source}"
        return head + ":\n" + "\n".join(f"  - {p}" for p in self.problems)


class RecordError(_ProblemsError):
    """A record could not be read; ``problems`` lists every problem at once."""

    kind = "record"


class KnowledgeError(_ProblemsError):
    """Bundled or user-supplied knowledge (rule packs, catalogue, citations) is invalid."""

    kind = "knowledge"


class TrialDataError(_ProblemsError):
    """A ClinicalTrials.gov file (CSV export, classic XML, API v2 JSON) could not be read."""

    kind = "trial data"


class UnknownRuleError(AllPathError, KeyError):
    """A rule id that no loaded pack defines."""

    def __init__(self, rule_id: str, known: Iterable[str]) -> None:
        self.rule_id = rule_id
        hint = did_you_mean(rule_id, known)
        msg = f"no rule with id {shown(rule_id)}"
        if hint:
            msg += f"; {hint}"
        super().__init__(msg)

    def __str__(self) -> str:
        return str(self.args[0])


class AllPathWarning(UserWarning):
    """Input or a result that is usable but questionable."""


def did_you_mean(word: str, choices: Iterable[str], n: int = 3) -> str | None:
    """Return ``"did you mean 'x' or 'y'?"`` for close matches, or None."""
    pool = list(choices)
    lowered = {c.lower(): c for c in pool}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.6)
    if not close:
        return None
    names = [shown(lowered[c]) for c in close]
    return "did you mean " + " or ".join(names) + "?"


# Parts of a pydantic error location that name a type or a union member, not a field.
_TYPE_NOISE = {"str", "float", "int", "bool", "date", "datetime", "none", "SymptomDetail",
               "constrained-str", "compare", "match"}


def _is_type_part(part: int | str) -> bool:
    return isinstance(part, str) and (
        part in _TYPE_NOISE
        or "[" in part
        or part.startswith("dict")
        or ("-" in part and part[:1].islower() and not part.startswith("HLA"))
    )


def _path(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _is_type_part(part):
            out += f".{part}" if out else part
    return out


def validation_problems(err: ValidationError, source: str | None = None) -> list[Problem]:
    """One :class:`Problem` per field of a pydantic ``ValidationError``, with clean paths.

    Paths read like ``observations[3].unit``: list indices in brackets, type and union-member
    names dropped; when every member of a union fails, one problem is kept per field.
    """
    by_path: dict[str, Problem] = {}
    for e in err.errors():
        path = _path(e["loc"])
        if path in by_path:
            continue
        if e["type"] == "extra_forbidden":
            msg = "unknown field"
        elif e["type"] == "missing":
            msg = "required field is missing"
        else:
            msg = e["msg"]
        got = None if e["type"] == "missing" else shown(e.get("input"))
        by_path[path] = Problem(path, msg, got=got, source=source)
    return list(by_path.values())
