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

import difflib
from collections.abc import Iterable, Sequence
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
    "validation_problems",
]


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
        where = f"{self.source}: " if self.source else ""
        text = f"{where}{self.path or '<root>'}: {self.message}"
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
        msg = f"no rule with id {rule_id!r}"
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
    names = [repr(lowered[c]) for c in close]
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
        got = None if e["type"] == "missing" else repr(e.get("input"))[:80]
        by_path[path] = Problem(path, msg, got=got, source=source)
    return list(by_path.values())
