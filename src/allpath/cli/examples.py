"""``allpath examples --to DIR``: write the example input of every README command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from allpath.cli.app import app

__all__: list[str] = []


@app.command("examples")
def examples_command(
    to: Annotated[Path, typer.Option("--to", help="Folder to write the files into (made if "
                                                  "missing).")],
    force: Annotated[bool, typer.Option("--force", help="Replace files that are already "
                                                        "there.")] = False,
) -> None:
    """Write example inputs: patient records, a maintenance log, a CBC table, a triage person
    and a FHIR Bundle, so that every command of the README can be tried at once."""
    from allpath.examples import EXAMPLE_INPUTS, example_files
    from allpath.io import write_bytes_atomic

    files = example_files()
    if to.exists() and not to.is_dir():
        typer.echo(f"error: --to {to}: not a folder", err=True)
        raise typer.Exit(code=2)
    there = [f.name for f in files if (to / f.name).exists()]
    if there and not force:
        typer.echo(f"error: {len(there)} file(s) already in {to}: {', '.join(there)}; "
                   "nothing was written (--force replaces them)", err=True)
        raise typer.Exit(code=2)
    try:
        to.mkdir(parents=True, exist_ok=True)
        for f in files:
            write_bytes_atomic(to / f.name, f.read_bytes())
    except OSError as exc:
        typer.echo(f"error: cannot write into {to}: {exc.strerror or exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"wrote {len(files)} files to {to}:")
    for f in files:
        what = EXAMPLE_INPUTS.get(f.name, "a patient record (assess, roadmap, guide --for, "
                                          "trials match, export)")
        typer.echo(f"  {f.name:22} {what}")
    typer.echo("These are examples for trying ALLPath, not real patients' data.")
