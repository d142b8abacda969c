"""Population CBC screening with the triage pack's cited thresholds (issue 4, part 3)."""

from __future__ import annotations

from allpath.screen.core import (
    OPTIONAL,
    OUTPUT_COLUMNS,
    REQUIRED,
    ChunkResult,
    Screener,
    ScreenError,
    ScreenSummary,
    iter_chunks,
)
from allpath.screen.run import bad_path_for, format_summary, screen_dask, screen_file

__all__ = [
    "OPTIONAL",
    "OUTPUT_COLUMNS",
    "REQUIRED",
    "ChunkResult",
    "ScreenError",
    "ScreenSummary",
    "Screener",
    "bad_path_for",
    "format_summary",
    "iter_chunks",
    "screen_dask",
    "screen_file",
]
