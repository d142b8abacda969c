"""Shared CLI helpers: printing problems as clear errors, never tracebacks."""

from __future__ import annotations

import sys
from enum import StrEnum

import typer

from allpath.errors import AllPathError, KnowledgeError, RecordError, TrialDataError

__all__ = ["OutputFormat", "fail"]


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def fail(err: AllPathError) -> None:
    """Print an ALLPath error on stderr and exit with status 2."""
    if isinstance(err, RecordError | KnowledgeError | TrialDataError):
        where = f" in {err.source}" if err.source else ""
        print(f"error: {len(err.problems)} problem(s){where}:", file=sys.stderr)
        for p in err.problems:
            print(f"  - {p}", file=sys.stderr)
    else:
        print(f"error: {err}", file=sys.stderr)
    raise typer.Exit(code=2)
