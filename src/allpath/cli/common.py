"""Shared CLI helpers: printing problems as clear errors, never tracebacks."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import StrEnum

import typer

from allpath.errors import AllPathError, KnowledgeError, RecordError, TrialDataError

__all__ = ["MAX_PROBLEMS_SHOWN", "OutputFormat", "fail", "problem_lines"]


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


#: the most problems printed one by one; the rest are counted ("and 12 more")
MAX_PROBLEMS_SHOWN = 20


def problem_lines(problems: Sequence[object], limit: int = MAX_PROBLEMS_SHOWN) -> list[str]:
    """One ``  - problem`` line each, at most ``limit``, then ``  ... and N more``."""
    lines = [f"  - {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more")
    return lines


def fail(err: AllPathError) -> None:
    """Print an ALLPath error on stderr and exit with status 2."""
    if isinstance(err, RecordError | KnowledgeError | TrialDataError):
        where = f" in {err.source}" if err.source else ""
        print(f"error: {len(err.problems)} problem(s){where}:", file=sys.stderr)
        for line in problem_lines(err.problems):
            print(line, file=sys.stderr)
    else:
        print(f"error: {err}", file=sys.stderr)
    raise typer.Exit(code=2)
