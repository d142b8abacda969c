"""Bundled example patients (fictional), used by ``allpath demo`` and the docs."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from allpath.record.load import load_record
from allpath.record.models import PatientRecord

__all__ = ["example_paths", "example_records"]


def example_paths() -> list[Path]:
    """Paths of the bundled example records, in id order."""
    folder = Path(str(resources.files("allpath.examples")))
    return sorted(folder.glob("example-*.yaml"))


def example_records() -> list[PatientRecord]:
    """The bundled example records, checked."""
    return [load_record(p) for p in example_paths()]
