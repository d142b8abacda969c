"""``allpath titrate FILE``: maintenance titration visit by visit."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from allpath.cli.app import app
from allpath.cli.common import fail
from allpath.errors import AllPathError

if TYPE_CHECKING:  # the titration module loads on use, so `allpath --help` stays quick
    from allpath.monitoring.titration import TitrationRun


def words(text: str) -> str:
    """:func:`allpath.outputs.readable.words`, imported on first use."""
    from allpath.outputs.readable import words as readable_words

    return readable_words(text)


class TitrateFormat(StrEnum):
    text = "text"
    json = "json"


class CountBasis(StrEnum):
    auto = "auto"
    anc = "anc"


def _n(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _dose(text: str) -> str:
    """A suggested dose; the run writes '?' for not known and '-' for none."""
    return {"?": "not known", "-": "none", "": "none"}.get(text.strip(), text)


#: from this many columns the visits are one table row each; below, one block each
WIDE_TABLE = 150


def _suggestion(v: Any) -> str:
    if v.status == "not_assessable":
        return "[red]not assessable[/red]"
    if v.status == "check_counts":
        return "[red]check counts[/red]"
    if v.status == "undetermined":
        return "[yellow]undetermined[/yellow]"
    text = escape(words(v.action))
    if v.evidence == "unconfirmed":
        text += " *"
    if v.provisional:
        text += " (provisional)"
    return text


def _agree(v: Any) -> str:
    return "" if v.agrees is None else (" [green](agrees)[/green]" if v.agrees else
                                         " [red](differs)[/red]")


def _why(v: Any) -> str:
    why = escape(v.reason)
    if v.rules:
        why += f" [dim]({escape(', '.join(v.rules))}; {escape(', '.join(v.cite))})[/dim]"
    for alert in v.alerts:
        why += f"\n[red]alert: {escape(alert)}[/red]"
    for adv in v.advisories:
        why += f"\n[magenta]advisory: {escape(adv)}[/magenta]"
    return why


def _table(run: TitrationRun, console: Console) -> None:
    unit = f" ({run.dose_unit})" if run.dose_unit else " (as recorded)"
    table = Table(show_lines=False, header_style="bold")
    for col in ("Line", "Date", "ANC", "WBC", "PLT", f"6-MP{unit}", "MTX", "Suggestion",
                "6-MP suggested", "MTX suggested", "Recorded", "Why (rules; sources)"):
        table.add_column(col, overflow="fold")
    for v in run.visits:
        table.add_row(str(v.line), v.date or _n(v.week), _n(v.anc), _n(v.wbc), _n(v.platelets),
                      _n(v.mp_given), _n(v.mtx_given), _suggestion(v),
                      escape(_dose(v.mp_recommended)), escape(_dose(v.mtx_recommended)),
                      escape(words(v.recorded)) + _agree(v), _why(v))
    console.print(table)


def _blocks(run: TitrationRun, console: Console) -> None:
    """One block per visit, for terminals too narrow for a twelve-column table."""
    unit = run.dose_unit or "as recorded"
    for v in run.visits:
        when = v.date or (f"week {_n(v.week)}" if v.week is not None else "no date")
        console.print(f"[bold]Line {v.line}, {escape(when)}[/bold]: {_suggestion(v)}")
        counts = ", ".join(f"{k} {_n(x)}" for k, x in
                           (("ANC", v.anc), ("WBC", v.wbc), ("platelets", v.platelets))
                           if x is not None) or "none read"
        given = ", ".join(f"{k} {_n(x)}" for k, x in (("6-MP", v.mp_given),
                                                     ("MTX", v.mtx_given)) if x is not None)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row("", f"counts (x10^9/L): {escape(counts)}"
                         + (f"; given ({escape(unit)}): {escape(given)}" if given else ""))
        if v.status not in ("not_assessable", "check_counts"):
            grid.add_row("", f"suggested: 6-MP {escape(_dose(v.mp_recommended))}; MTX "
                             f"{escape(_dose(v.mtx_recommended))}")
        grid.add_row("", f"recorded: {escape(words(v.recorded))}{_agree(v)}")
        grid.add_row("", f"why: {_why(v)}")
        console.print(grid)


def _render(run: TitrationRun, console: Console) -> None:
    start = run.start
    console.print(f"[bold]Maintenance titration[/bold]  {escape(str(run.source))}  "
                  f"({escape(str(run.format))})")
    pheno = f"TPMT {start.tpmt or 'not given'}, NUDT15 {start.nudt15 or 'not given'}"
    console.print(f"Phenotypes: {pheno}")
    flag = " [yellow](provisional)[/yellow]" if start.provisional else ""
    # the run writes "6-MP: normal -> 100% of ..."; an arrow is not a word
    text = start.text().replace(" -> ", ", so ")
    console.print(f"Start: {escape(text)}{flag}  [dim]{', '.join(start.cite)}[/dim]")
    if start.provisional_reason:
        console.print(f"[yellow]{escape(start.provisional_reason)}[/yellow]")
    if start.steady_state_weeks:
        lo, hi = start.steady_state_weeks
        wait = f"{_n(lo)}-{_n(hi)}" if hi is not None else f"at least {_n(lo)}"
        console.print(f"Steady state after each change: {wait} weeks (CPIC, S32)")
    if console.width >= WIDE_TABLE:
        _table(run, console)
    else:
        _blocks(run, console)
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
        console.print(f"[yellow]note:[/yellow] {escape(str(p))}")
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
        "--format", "-f", help="Output format.")] = TitrateFormat.text,
) -> None:
    """Suggest maintenance 6-MP/MTX adjustments visit by visit, with rules and sources."""
    from allpath.monitoring.titration import titrate_file
    from allpath.monitoring.titration_log import parse_dose_per_m2
    from allpath.outputs.readable import terminal_width

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
    _render(run, Console(width=terminal_width(), highlight=False))
