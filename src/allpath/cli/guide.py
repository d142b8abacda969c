"""``allpath guide [TOPIC]`` and ``allpath guide --for RECORD``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from allpath.cli.app import app
from allpath.cli.common import OutputFormat, fail
from allpath.errors import AllPathError

__all__: list[str] = []


@app.command("guide")
def guide_command(
    topic: Annotated[str | None, typer.Argument(help="Topic id (omit for the whole guide; "
                                                     "--list shows them).")] = None,
    for_record: Annotated[Path | None, typer.Option(
        "--for", help="Personalise for this patient record.")] = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
    list_topics: Annotated[bool, typer.Option("--list", help="List the topics.")] = False,
) -> None:
    """The family guide to ALL, in plain language, with its sources."""
    from allpath.guide import general_guide, load_guide, personal_guide, render

    if list_topics:
        for t in load_guide():
            typer.echo(f"{t.id:28} {t.title}")
        return
    try:
        guide = personal_guide(str(for_record)) if for_record else general_guide(topic)
    except AllPathError as err:
        fail(err)
        return
    if format is OutputFormat.json:
        typer.echo(json.dumps(guide.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(render(guide, format.value), nl=False)
