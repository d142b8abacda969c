"""The ``allpath`` command line: a thin layer over the library (no clinical logic here)."""

from __future__ import annotations

from allpath.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point (``allpath``)."""
    # Sub-command modules register themselves on the app when imported; they import the app
    # from cli.app, never this package, so the registry is loaded here without a cycle.
    from allpath.cli import commands  # noqa: F401

    app()
