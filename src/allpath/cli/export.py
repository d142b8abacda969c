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
from allpath.interop.fhir import assessment_to_bundle, load_any
from allpath.pipeline import assess

__all__: list[str] = []


@app.command()
def export(
    record: Annotated[Path, typer.Argument(help="Patient record (YAML/JSON) or FHIR Bundle.")],
    fhir: Annotated[Path, typer.Option("--fhir", help="Write the FHIR R4 Bundle here.")],
    roadmap: Annotated[bool, typer.Option(help="Include the roadmap as a CarePlan.")] = True,
) -> None:
    """Assess a record and write the result as a FHIR R4 collection Bundle (mCODE)."""
    try:
        patient, warnings = load_any(record)
        bundle = assessment_to_bundle(assess(patient), roadmap=roadmap)
    except AllPathError as err:
        fail(err)
        return
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    from allpath.io import write_text_atomic

    write_text_atomic(fhir, json.dumps(bundle, indent=2, ensure_ascii=False) + "\n")
    typer.echo(f"wrote {fhir} ({len(bundle['entry'])} resources)")
