"""Bundled example inputs, used by ``allpath demo``, ``allpath examples`` and the docs.

The patients are fictional. ``bundle.json`` is the paediatric B-ALL example of the HL7 mCODE
implementation guide (CC0-1.0; see tests/fhir/data/README.md for its translation).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from allpath.record.load import load_record
from allpath.record.models import PatientRecord

__all__ = ["EXAMPLE_INPUTS", "example_files", "example_paths", "example_records"]

#: every input a README command reads, beside the example records: file -> what it is for
EXAMPLE_INPUTS = {
    "maintenance-log.csv": "maintenance log for 'allpath titrate'",
    "cbc.csv": "blood counts for 'allpath screen' (one row bad on purpose)",
    "person.yaml": "a person for 'allpath triage' (allpath.triage/1)",
    "bundle.json": "a FHIR R4 Bundle (mCODE paediatric B-ALL example) for 'allpath assess'",
}


def example_paths() -> list[Path]:
    """Paths of the bundled example records, in id order."""
    folder = Path(str(resources.files("allpath.examples")))
    return sorted(folder.glob("example-*.yaml"))


def example_records() -> list[PatientRecord]:
    """The bundled example records, checked."""
    return [load_record(p) for p in example_paths()]


def example_files() -> list[Path]:
    """Every bundled example input: the records, then the files of :data:`EXAMPLE_INPUTS`."""
    folder = Path(str(resources.files("allpath.examples")))
    return [*example_paths(), *(folder / name for name in EXAMPLE_INPUTS)]
