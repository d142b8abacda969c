"""``allpath titrate FILE``: maintenance titration visit by visit."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from allpath.cli.app import app
from allpath.cli.common import fail
from allpath.errors import AllPathError
from allpath.monitoring.titration import TitrationRun, titrate_file


class TitrateFormat(StrEnum):
    text = "text"
    json = "json"


class CountBasis(StrEnum):
    auto = "auto"
    anc = "anc"


def _n(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _render(run: TitrationRun, console: Console) -> None:
    start = run.start
    console.print(f"[bold]Maintenance titration[/bold]  {run.source}  ({run.format})")
    pheno = f"TPMT {start.tpmt or 'not given'}, NUDT15 {start.nudt15 or 'not given'}"
    console.print(f"Phenotypes: {pheno}")
    flag = " [yellow](provisional)[/yellow]" if start.provisional else ""
    console.print(f"Start: {start.text()}{flag}  [dim]{', '.join(start.cite)}[/dim]")
    if start.provisional_reason:
        console.print(f"[yellow]{start.provisional_reason}[/yellow]")
    if start.steady_state_weeks:
        lo, hi = start.steady_state_weeks
        wait = f"{_n(lo)}-{_n(hi)}" if hi is not None else f">= {_n(lo)}"
        console.print(f"Steady state after each change: {wait} weeks (CPIC, S32)")
    unit = f" ({run.dose_unit})" if run.dose_unit else " (as recorded)"
    table = Table(show_lines=False, header_style="bold")
    for col in ("Line", "Date", "ANC", "WBC", "PLT", f"6-MP{unit}", "MTX", "Suggestion",
                "6-MP suggested", "MTX suggested", "Recorded", "Why (rules; sources)"):
        table.add_column(col, overflow="fold")
    for v in run.visits:
        if v.status == "not_assessable":
            suggestion = "[red]not assessable[/red]"
        elif v.status == "check_counts":
            suggestion = "[red]check counts[/red]"
        elif v.status == "undetermined":
            suggestion = "[yellow]undetermined[/yellow]"
        else:
            suggestion = str(v.action)
            if v.evidence == "unconfirmed":
                suggestion += " *"
            if v.provisional:
                suggestion += " (prov.)"
        agree = "" if v.agrees is None else (" [green]=[/green]" if v.agrees else
                                             " [red]differs[/red]")
        why = v.reason
        if v.rules:
            why += f" [dim]({', '.join(v.rules)}; {', '.join(v.cite)})[/dim]"
        for alert in v.alerts:
            why += f"\n[red]alert: {alert}[/red]"
        for adv in v.advisories:
            why += f"\n[magenta]advisory: {adv}[/magenta]"
        table.add_row(str(v.line), v.date or _n(v.week), _n(v.anc), _n(v.wbc), _n(v.platelets),
                      _n(v.mp_given), _n(v.mtx_given), suggestion, v.mp_recommended,
                      v.mtx_recommended, v.recorded + agree, why)
    console.print(table)
    s = run.summary()
    console.print(
        f"{s['visits']} visits: {s['recommended']} with a suggestion, {s['check_counts']} "
        f"stopped for implausible counts, {s['undetermined']} "
        f"undetermined, {s['not_assessable']} not assessable"
        + (f" (lines {', '.join(map(str, s['rejected_lines']))})" if s["rejected_lines"]
           else "")
        + f"; recorded dose agrees at {s['agreement']['agree']} of "
          f"{s['agreement']['compared']}.")
    for p in run.problems:
        console.print(f"[yellow]note:[/yellow] {p}")
    console.print("* rests on an unconfirmed rule (fact sheet 6.5: obtain the protocol table). "
                  "Suggestions support the treating clinician and never replace the protocol.")


@app.command()
def titrate(
    file: Annotated[Path, typer.Argument(help="Maintenance log: allMT CSV, native CSV or YAML.")],
    tpmt: Annotated[str | None, typer.Option(
        help="TPMT phenotype: normal, intermediate, possible_intermediate, poor.")] = None,
    nudt15: Annotated[str | None, typer.Option(
        help="NUDT15 phenotype: normal, intermediate, possible_intermediate, poor.")] = None,
    mp_start: Annotated[str | None, typer.Option(
        help="Protocol 6-MP starting dose per m2, e.g. '75' or '60 mg/m2/d'.")] = None,
    mtx_start: Annotated[str | None, typer.Option(
        help="Protocol MTX starting dose per m2, e.g. '20 mg/m2/wk'.")] = None,
    basis: Annotated[CountBasis, typer.Option(
        help="Counts judged on WBC when recorded (auto) or on ANC only.")] = CountBasis.auto,
    output_format: Annotated[TitrateFormat, typer.Option(
        "--format", help="Output format.")] = TitrateFormat.text,
) -> None:
    """Suggest maintenance 6-MP/MTX adjustments visit by visit, with rules and sources."""
    from allpath.monitoring.titration_log import parse_dose_per_m2

    try:
        header: dict[str, object] = {"tpmt": tpmt, "nudt15": nudt15}
        if mp_start is not None:
            header["mp_start"] = parse_dose_per_m2(mp_start, "mg/m2/d", what="--mp-start")
        if mtx_start is not None:
            header["mtx_start"] = parse_dose_per_m2(mtx_start, "mg/m2/wk", what="--mtx-start")
        run = titrate_file(file, basis="anc" if basis is CountBasis.anc else "auto", **header)
    except AllPathError as err:
        fail(err)
        return
    if output_format is TitrateFormat.json:
        typer.echo(json.dumps(run.as_dict(), indent=2, default=str))
        return
    _render(run, Console(width=200))
