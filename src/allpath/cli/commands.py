"""Registers every sub-command on the shared Typer app."""

from __future__ import annotations
