"""``allpath screen INPUT --out OUTPUT``: population CBC screening."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from allpath.cli.app import app
from allpath.cli.common import fail
from allpath.errors import AllPathError

__all__: list[str] = []


class ScreenFormat(StrEnum):
    text = "text"
    json = "json"


def _note(line: str) -> None:
    """Run information (cluster, resubmitted parts) on stderr, so stdout stays the summary."""
    print(line, file=sys.stderr, flush=True)


@app.command("screen")
def screen_command(
    input: Annotated[str, typer.Argument(
        help="CBC results: .csv, .parquet, or a folder of Parquet parts (with --scheduler/"
             "--dask); with --scheduler/--dask also an fsspec URL (file://..., s3://... with "
             "its driver installed) that the workers can read.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output .csv or .parquet.")],
    unit: Annotated[list[str] | None, typer.Option(
        "--unit", help="Unit of a value column, COLUMN=UNIT (e.g. wbc=/uL); repeatable.")] = None,
    bad: Annotated[Path | None, typer.Option(
        "--bad", help="Bad-row report (default: OUT.bad.csv).")] = None,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1000)] = 1_000_000,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (partitioned "
                            "Parquet).")] = None,
    dask: Annotated[bool, typer.Option(
        "--dask", help="Run on a local Dask cluster (partitioned Parquet).")] = False,
    workers: Annotated[int, typer.Option("--workers", min=1,
                                         help="Worker processes of the local cluster.")] = 2,
    connect_timeout: Annotated[float | None, typer.Option(
        "--connect-timeout", envvar="ALLPATH_CONNECT_TIMEOUT", min=0.001,
        help="Seconds to wait for the scheduler to answer (default 5).")] = None,
    progress: Annotated[bool | None, typer.Option(
        "--progress/--no-progress", help="Progress bar (default: on a terminal).")] = None,
    fmt: Annotated[ScreenFormat, typer.Option(
        "--format", "-f", help="Summary as text or JSON.")] = ScreenFormat.text,
    summary_json: Annotated[bool, typer.Option(
        "--json", hidden=True, help="Deprecated: use --format json.")] = False,
) -> None:
    """Screen CBC rows in bulk with the triage pack's cited thresholds."""
    from allpath.screen import ScreenError, format_summary, screen_dask, screen_file
    from allpath.screen.run import is_url, resolve_location

    if summary_json:
        fmt = ScreenFormat.json
    units: dict[str, str] = {}
    for item in unit or []:
        if "=" not in item:
            fail(ScreenError(f"--unit takes COLUMN=UNIT, got {item!r}"))
        col, u = item.split("=", 1)
        units[col.strip()] = u.strip()
    try:
        if scheduler is not None or dask:
            summary = screen_dask(input, out, scheduler=scheduler, units=units,
                                  chunk_size=chunk_size, bad=bad, progress=progress,
                                  n_workers=workers, connect_timeout=connect_timeout,
                                  announce=_note)
        else:
            where = resolve_location(input)
            if is_url(where):
                raise ScreenError(f"input {input}: a remote URL needs --dask or --scheduler")
            local = Path(where)
            if local.is_dir():
                raise ScreenError("a folder of Parquet parts needs --dask or --scheduler")
            if not local.exists():
                raise ScreenError(f"input not found: {input}")
            summary = screen_file(local, out, units=units, chunk_size=chunk_size, bad=bad,
                                  progress=progress)
    except AllPathError as err:
        fail(err)
        return
    if fmt is ScreenFormat.json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        for line in format_summary(summary):
            typer.echo(line)
    typer.echo(f"wrote {out}", err=fmt is ScreenFormat.json)
    if summary_json:  # after the summary: a reader of both streams still finds JSON first
        _note("warning: --json is deprecated and will be removed; use --format json")
