"""``allpath export RECORD --fhir OUT.json``: an assessment as a FHIR R4 Bundle."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from allpath.cli.app import app
from allpath.cli.common import fail
from allpath.errors import AllPathError

__all__: list[str] = []


@app.command()
def export(
    record: Annotated[Path, typer.Argument(help="Patient record (YAML/JSON) or FHIR Bundle.")],
    fhir: Annotated[Path, typer.Option("--fhir", help="Write the FHIR R4 Bundle here.")],
    roadmap: Annotated[bool, typer.Option(help="Include the roadmap as a CarePlan.")] = True,
) -> None:
    """Assess a record and write the result as a FHIR R4 collection Bundle (mCODE)."""
    from allpath.interop.fhir import assessment_to_bundle, load_import
    from allpath.pipeline import assess
    from allpath.record.load import read_document

    try:
        loaded = load_import(record)
        patient, warnings = loaded.record, loaded.warnings
        # a FHIR Bundle read in is the export's source: its Patient keeps its names and
        # identifiers (MRN system kept) and the Condition its own codes (mCODE CancerPatient)
        source = None
        if loaded.leukaemia is not None and record.suffix.lower() != ".ndjson":
            doc = read_document(record)
            source = doc if isinstance(doc, dict) else None
        bundle = assessment_to_bundle(assess(patient), roadmap=roadmap, source=source)
    except AllPathError as err:
        fail(err)
        return
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    from allpath.io import write_text_atomic

    write_text_atomic(fhir, json.dumps(bundle, indent=2, ensure_ascii=False) + "\n")
    typer.echo(f"wrote {fhir} ({len(bundle['entry'])} resources)")
