"""``allpath rules check`` and ``allpath rules list``."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Validate and list the rule packs.", no_args_is_help=True)


@app.command("check")
def check(
    folder: Annotated[
        Path | None, typer.Argument(help="Folder of packs (default: the bundled packs).")
    ] = None,
) -> None:
    """Validate every pack: schema, citations, facts, units, values, worked examples."""
    from allpath.rules.loader import load_packs

    kb, problems = load_packs(folder)
    trials_line = ""
    if folder is None:  # the bundled trial pre-screen criteria are checked with the packs
        from allpath.errors import KnowledgeError
        from allpath.trials.criteria import load_criteria
        from allpath.trials.eligibility import bundled_eligibility

        try:  # title facets, text facets and text-reading rules: citations, patterns, values
            trials_line = " " + load_criteria().summary()
        except KnowledgeError as err:
            problems = [*problems, *err.problems]
        try:  # the criteria texts bundled for snapshot studies
            n_texts = len(bundled_eligibility())
            trials_line += f" Bundled criteria texts valid: {n_texts} studies."
        except KnowledgeError as err:
            problems = [*problems, *err.problems]
    if problems:
        print(f"{len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        raise typer.Exit(code=1)
    n_rules = sum(
        len(d.rules) + 1 + (d.not_applicable is not None)
        for cp in kb.packs
        for d in cp.pack.decisions
    )
    n_examples = sum(len(cp.pack.examples) for cp in kb.packs)
    cited = {c for cp in kb.packs for d in cp.pack.decisions for r in d.rules for c in r.cite}
    typer.echo(
        f"{len(kb.packs)} packs valid: {n_rules} rules, every rule cited "
        f"({len(cited)} sources), {n_examples} worked examples pass. Ruleset {kb.version}."
        + trials_line
    )


class ListFormat(StrEnum):
    text = "text"
    json = "json"


@app.command("list")
def list_packs(
    format: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.text,
) -> None:
    """List the packs with their versions and decisions."""
    from allpath.rules.loader import load_packs

    kb, _ = load_packs(run_examples=False)
    if format is ListFormat.json:
        typer.echo(json.dumps([
            {"pack": cp.id, "version": cp.version, "title": cp.pack.title,
             "decisions": [{"id": d.id, "title": d.title, "output": d.output,
                            "scheme": d.scheme} for d in cp.pack.decisions]}
            for cp in kb.packs], indent=2, ensure_ascii=False))
        return
    for cp in kb.packs:
        typer.echo(f"{cp.id}@{cp.version}  {cp.pack.title}")
        for d in cp.pack.decisions:
            scheme = f" [scheme {d.scheme}]" if d.scheme else ""
            typer.echo(f"    {d.id}: {d.title} -> {d.output}{scheme}")
