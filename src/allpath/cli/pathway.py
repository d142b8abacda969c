"""``allpath assess``, ``allpath demo`` and ``allpath explain``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from allpath.cli.app import app
from allpath.cli.common import OutputFormat, fail
from allpath.errors import AllPathError

__all__: list[str] = []


def _emit(doc: dict[str, object], fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif fmt is OutputFormat.markdown:
        from allpath.outputs.render import render_markdown  # imported when used: quick --help

        typer.echo(render_markdown(doc))
    else:
        from allpath.outputs.render import render_text

        typer.echo(render_text(doc))


@app.command()
def assess(
    record: Annotated[Path, typer.Argument(help="Patient record (YAML or JSON).")],
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
) -> None:
    """Assess one patient record (allpath.record/1 YAML/JSON, or a FHIR R4 Bundle)."""
    from allpath.interop.fhir import load_import
    from allpath.pipeline import assess as assess_record

    try:
        loaded = load_import(record)
        if loaded.no_leukaemia is not None:  # no ALL in the record: say so, list no tests
            doc_na = loaded.no_leukaemia_document()
            for w in doc_na["warnings"]:
                typer.echo(f"warning: {w['path']}: {w['message']}", err=True)
            typer.echo(json.dumps(doc_na, indent=2, ensure_ascii=False)
                       if format is OutputFormat.json else f"{loaded.record.id}: "
                       f"{loaded.no_leukaemia}")
            return
        rec, warnings = loaded.record, loaded.warnings
        doc = assess_record(rec).to_dict()
    except AllPathError as err:
        fail(err)
        return
    for w in warnings:
        typer.echo(f"warning: {w}", err=True)
    _emit(doc, format)


@app.command()
def demo(
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
) -> None:
    """Assess the bundled example patients (fictional) and print the results."""
    from allpath.examples import example_paths
    from allpath.pipeline import assess_file

    for path in example_paths():
        try:
            doc = assess_file(path).to_dict()
        except AllPathError as err:
            fail(err)
            return
        _emit(doc, format)


@app.command()
def explain(rule_id: Annotated[str, typer.Argument(help="Rule or decision id.")]) -> None:
    """Print a rule with its condition, outcome and sources."""
    from allpath.rules.loader import load_knowledge

    try:
        kb = load_knowledge()
        cp, decision, rule = kb.rule(rule_id)
    except AllPathError as err:
        fail(err)
        return
    typer.echo(f"{rule.id}  ({cp.id}@{cp.version}, decision {decision.id}: {decision.title})")
    if decision.scheme:
        typer.echo(f"scheme: {decision.scheme}")
    when = getattr(rule, "when", None)
    if when is not None:
        typer.echo("when:")
        typer.echo("  " + json.dumps(when.model_dump(by_alias=True, exclude_none=True)))
    else:
        typer.echo("when: no earlier rule of the decision matched")
    then = rule.then if rule.then is not None else "unknown"
    typer.echo(f"then: {json.dumps(then)}")
    typer.echo(f"evidence: {rule.evidence}")
    if rule.note:
        typer.echo(f"note: {rule.note}")
    typer.echo("sources:")
    for c in rule.cite:
        typer.echo(f"  [{c}] {kb.citations[c].reference}")
