"""Words for people: ages, values and the terminal width, shared by every text surface.

Nothing here decides anything clinical; it only turns values into words, so that no reader
sees ``None``, a Python ``{...}``/``[...]`` or ``0.34 years``.

>>> age_in_words(4.23)
'4 years 2 months'
>>> age_in_words(0.34)
'4 months'
>>> words(None), words(["low", "high"]), words("not_applicable")
('unknown', 'low, high', 'not applicable')
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Mapping
from typing import Any

from rich.console import Console

__all__ = ["age_in_words", "console", "terminal_width", "words", "wrap_text"]

#: width used when the output goes to a file or a pipe and $COLUMNS is not set
PIPE_WIDTH = 100
_DAYS_PER_YEAR = 365.25


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" + ("" if n == 1 else "s")


def age_in_words(years: float | None = None, *, months: float | None = None) -> str:
    """An age as people say it: ``4 years 2 months``, ``5 months``, ``3 weeks``.

    Give the exact age in months where it is known (a calendar age); from years alone the
    months are counted from the fraction of the year. Under a month the age is in weeks or
    days; from 1 year on the months are shown too, unless there are none.
    """
    if months is None:
        if years is None or not math.isfinite(years) or years < 0:
            return "unknown"
        months = years * 12.0
    if not math.isfinite(months) or months < 0:
        return "unknown"
    whole = int(months + 1e-6)
    if whole < 1:
        days = round(months * _DAYS_PER_YEAR / 12.0)
        return _plural(days // 7, "week") if days >= 14 else _plural(days, "day")
    if whole < 12:
        return _plural(whole, "month")
    y, m = divmod(whole, 12)
    return _plural(y, "year") + (f" {_plural(m, 'month')}" if m else "")


def words(value: Any, missing: str = "unknown") -> str:
    """Any value as words: ``None`` is ``missing``, lists are joined, mappings read
    ``key value``, booleans are yes/no and codes lose their underscores."""
    if value is None:
        return missing
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value.replace("_", " ")
    if isinstance(value, Mapping):
        parts = [f"{words(k)} {words(v, missing)}" for k, v in value.items() if v is not None]
        return "; ".join(parts) if parts else missing
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        return ", ".join(words(v, missing) for v in items) if items else "none"
    return str(value)


def terminal_width(width: int | None = None) -> int:
    """``width`` when given, else ``$COLUMNS``, else the terminal's width, else 100 (a file
    or a pipe)."""
    if width is not None:
        return max(int(width), 20)
    if os.environ.get("COLUMNS", "").isdigit():
        return max(int(os.environ["COLUMNS"]), 20)
    return max(shutil.get_terminal_size((PIPE_WIDTH, 24)).columns, 20)


def console(file: Any, width: int | None = None) -> Console:
    """A plain (no colour codes) rich console writing to ``file`` at the terminal width."""
    return Console(file=file, width=terminal_width(width), force_terminal=False,
                   color_system=None, highlight=False, emoji=False)


_BULLET = re.compile(r"^(\s*)((?:[-*]|yes|NO|\?)\s+)?")


def wrap_text(text: str, width: int | None = None) -> str:
    """Plain text wrapped at the terminal width: each line keeps its indentation, and the
    lines it wraps onto are indented under its text (after a ``-``, ``*`` or mark).

    Without ``width``, text going to a file or a pipe (no terminal, no ``$COLUMNS``) is left
    as it is: a reader of a file wraps it to their own window."""
    if width is None and not os.environ.get("COLUMNS", "").isdigit() \
            and not sys.stdout.isatty():
        return text
    cols = terminal_width(width)
    out: list[str] = []
    for line in text.splitlines():
        if len(line) <= cols:
            out.append(line)
            continue
        m = _BULLET.match(line)
        lead = m.group(1) if m else ""
        hang = " " * len(m.group(0)) if m else ""
        if len(hang) > cols // 2:
            hang = lead
        out.extend(textwrap.wrap(line[len(lead):], width=cols, initial_indent=lead,
                                 subsequent_indent=hang, break_long_words=True,
                                 break_on_hyphens=False) or [""])
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")
