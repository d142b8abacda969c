"""``allpath assess``, ``allpath demo`` and ``allpath explain``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from allpath.cli.app import app
from allpath.cli.common import OutputFormat, fail
from allpath.errors import AllPathError

__all__: list[str] = []


AsOfOpt = Annotated[dt.datetime | None, typer.Option(
    "--as-of", formats=["%Y-%m-%d"],
    help="Date the assessment speaks for, YYYY-MM-DD (default: the latest date in the "
         "record).")]
AllOpt = Annotated[bool, typer.Option(
    "--all", help="Also list the risk schemes that do not apply to this patient.")]
PlotOpt = Annotated[Path | None, typer.Option(
    "--plot", help="Also draw the patient's counts, blasts and MRD over time with the "
                   "treatment phases (PNG, SVG or PDF, by the file's extension).")]


def _emit(doc: dict[str, object], fmt: OutputFormat, show_all: bool = False) -> None:
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif fmt is OutputFormat.markdown:
        from allpath.outputs.render import render_markdown  # imported when used: quick --help

        typer.echo(render_markdown(doc, show_all=show_all))
    else:
        from allpath.outputs.render import render_text

        typer.echo(render_text(doc, show_all=show_all), nl=False)


@app.command()
def assess(
    record: Annotated[Path, typer.Argument(help="Patient record (YAML or JSON).")],
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
    as_of: AsOfOpt = None,
    show_all: AllOpt = False,
    plot: PlotOpt = None,
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
        result = assess_record(rec, as_of=as_of.date() if as_of else None)
        doc = result.to_dict()
        if plot is not None:
            from allpath.outputs.plot import plot_assessment

            plot_assessment(result, plot)
    except AllPathError as err:
        fail(err)
        return
    for w in warnings:
        typer.echo(f"warning: {w}", err=True)
    _emit(doc, format, show_all)
    if plot is not None:
        typer.echo(f"plot written to {plot}", err=True)


@app.command()
def demo(
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
    show_all: AllOpt = False,
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
        _emit(doc, format, show_all)


@app.command()
def explain(
    rule_id: Annotated[str, typer.Argument(help="Rule or decision id.")],
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
) -> None:
    """Print a rule with its condition, outcome and sources."""
    from allpath.rules.loader import load_knowledge

    try:
        kb = load_knowledge()
        cp, decision, rule = kb.rule(rule_id)
    except AllPathError as err:
        fail(err)
        return
    when = getattr(rule, "when", None)
    doc: dict[str, object] = {
        "rule": rule.id, "pack": cp.id, "pack_version": cp.version,
        "decision": decision.id, "decision_title": decision.title, "scheme": decision.scheme,
        "when": when.model_dump(by_alias=True, exclude_none=True) if when is not None
        else None,
        "then": rule.then if rule.then is not None else "unknown",
        "evidence": rule.evidence, "note": rule.note,
        "sources": [{"id": c, "reference": kb.citations[c].reference} for c in rule.cite],
    }
    if format is OutputFormat.json:
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    md = format is OutputFormat.markdown
    head = f"{rule.id}  ({cp.id}@{cp.version}, decision {decision.id}: {decision.title})"
    typer.echo(f"# {head}\n" if md else head)
    if decision.scheme:
        typer.echo(f"scheme: {decision.scheme}")
    if when is not None:
        typer.echo("when:")
        typer.echo("  " + json.dumps(doc["when"], ensure_ascii=False))
    else:
        typer.echo("when: no earlier rule of the decision matched")
    typer.echo(f"then: {json.dumps(doc['then'], ensure_ascii=False)}")
    typer.echo(f"evidence: {rule.evidence}")
    if rule.note:
        typer.echo(f"note: {rule.note}")
    typer.echo("sources:")
    for c in rule.cite:
        typer.echo(f"  {'- ' if md else ''}[{c}] {kb.citations[c].reference}")
