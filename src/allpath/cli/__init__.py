"""The ``allpath`` command line: a thin layer over the library (no clinical logic here)."""

from __future__ import annotations

from allpath.cli.app import app, main

__all__ = ["app", "main"]
