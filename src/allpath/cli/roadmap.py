"""``allpath roadmap RECORD``: the treatment roadmap of one patient (text, JSON, .ics)."""

from __future__ import annotations

import datetime as dt
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

if TYPE_CHECKING:  # the roadmap and pipeline modules load on use, so `allpath --help` is quick
    from allpath.roadmap.build import Roadmap

__all__: list[str] = []


class RoadmapFormat(StrEnum):
    text = "text"
    json = "json"


class Setting(StrEnum):
    auto = "auto"
    frontline = "frontline"
    relapsed = "relapsed"
    refractory = "refractory"


#: the rounding a dose without its own rule gets: said once under each table, not per dose
_GENERIC_ROUNDING = "shown to "


def _dose_cell(dose: dict[str, Any]) -> tuple[str, str | None]:
    """The dose text without the caveats every dose shares, and the caveat it dropped."""
    from allpath.roadmap.doses import VERIFY

    text = str(dose["text"])
    rounding = str(dose.get("rounding") or "")
    dropped = None
    if rounding.startswith(_GENERIC_ROUNDING) and f"; {rounding}" in text:
        text = text.replace(f"; {rounding}", "")
        dropped = rounding
    return text.replace(f"; {VERIFY}", ""), dropped


def _tests(facts: list[str]) -> list[str]:
    """The test that settles each missing fact, in words (the fact id when none is named)."""
    from allpath.rules.loader import load_knowledge

    registry = load_knowledge().registry
    out: list[str] = []
    for fact in facts:
        spec = registry.get(fact)
        test = spec.settled_by if spec is not None and spec.settled_by else fact
        if test not in out:
            out.append(test)
    return out


def _next_step(target: str) -> str:
    from allpath.outputs.readable import words

    if target.startswith("template:"):
        return f"the {target.split(':', 1)[1]} template"
    return words(target)


def _render(rm: Roadmap, on: dt.date | None, width: int | None = None) -> None:
    from allpath.outputs.readable import age_in_words, terminal_width, words
    from allpath.roadmap.doses import VERIFY
    from allpath.roadmap.templates import fold_days

    d = rm.to_dict()
    con = Console(highlight=False, width=terminal_width(width))
    t = d["template"]
    sel = d["selection"] or {}
    if t is None:
        con.print("[bold]No roadmap[/bold]: no protocol template was chosen.")
        if sel.get("note") and sel.get("rule_id"):
            # a rule that chose no template says why (e.g. no template fits a late isolated
            # extramedullary relapse): its words, rule and sources
            con.print(f"{sel['note']} (rule {sel['rule_id']} "
                      f"[{', '.join(sel.get('cite', []))}])")
        if d["alternatives"]:
            con.print("Alternatives: " + ", ".join(map(str, d["alternatives"])))
        if sel.get("missing"):
            con.print(f"Missing: {', '.join(sel['missing'])}")
        if sel.get("possible"):
            con.print(f"Possible templates: {', '.join(map(str, sel['possible']))}")
        con.print(d["disclaimer"])
        return
    con.print(f"[bold]{t['title']}[/bold] ({t['id']} v{t['version']})")
    prov = " [yellow](provisional)[/yellow]" if sel.get("provisional") else ""
    con.print(f"Chosen by rule {sel.get('rule_id') or 'none'} "
              f"[{', '.join(sel.get('cite', []))}]{prov}")
    if sel.get("provisional_reason"):
        con.print(f"  {sel['provisional_reason']}")
    if d["alternatives"]:
        con.print(f"Alternatives: {', '.join(d['alternatives'])}")
    b = d["body_size"]
    if b["bsa_m2"] is not None:
        con.print(f"BSA {b['bsa_m2']:.2f} m2 ({b['formula_title']}: {b['expression']}; "
                  f"height {b['height_cm']} cm, weight {b['weight_kg']} kg)")
    else:
        con.print(f"[red]BSA missing[/red]: needs {' and '.join(b['missing'])} "
                  "(per-m2 doses are not computed)")
    con.print(f"Start {d['start']['date']} ({d['start']['source']})")
    for p in d["phases"]:
        flag = " [yellow](unconfirmed)[/yellow]" if p["evidence"] == "unconfirmed" else ""
        caveats: list[str] = []
        tab = Table(title=f"{p['title']}: {p['start']} to {p['end']} "
                          f"({p['length_days']} days){flag}", title_justify="left",
                    caption_justify="left")
        tab.add_column("Drug", overflow="fold")
        tab.add_column("Route", overflow="fold")
        tab.add_column("Days", overflow="fold")
        tab.add_column("Dose", overflow="fold", ratio=1)
        for c in p["components"]:
            days = fold_days(c["days"])
            if c["schedule"]:  # "every 12 hours x6 doses": never read as once a day
                days = f"{days}: {c['schedule']}" if days else c["schedule"]
            mark = " *" if c["evidence"] == "unconfirmed" else ""
            dose, dropped = _dose_cell(c["dose"])
            if c["doses_per_day"] > 1:
                dose = (f"each dose {dose}; {c['doses_per_day']} doses a day, "
                        f"{c['doses']} in all")
            if dropped and dropped not in caveats:
                caveats.append(dropped)
            if c["applies"] and not c["applies"]["decided"]:
                needs = ", ".join(c["applies"]["needs"])
                dose = f"if {c['applies']['label']} (needs {needs}): {dose}"
            elif c["applies"]:
                dose = f"({c['applies']['label']}) {dose}"
            tab.add_row(escape(c["drug"] + mark), c["route"], escape(days), escape(dose))
        if p["components"]:
            tab.caption = escape("Doses: " + "; ".join([VERIFY, *caveats]) + ".")
        con.print(tab)
        if p["length_by_sex"]:
            con.print(f"  Length: {p['length_by_sex']['note']}")
        for ng in p["not_given"]:
            con.print(f"  - not given: {ng['drug']} (only if {ng['because_not']})")
        for r in p["procedures"]:
            when = (", ".join(f"{d} (day {n})" for d, n in zip(r["dates"], r["days"], strict=True))
                    if r["dates"] else "timing per protocol in use")
            if len(r["dates"]) > 4:
                when = f"{r['dates'][0]} ... {r['dates'][-1]} ({len(r['dates'])}x)"
            con.print(escape(f"  - {r['title']}: {when}"))
            for it in r["intrathecal_doses"][:8]:
                doses = "; ".join(f"{x['drug']} {x['dose_mg']:g} mg" if x.get("dose_mg")
                                  else f"{x['drug']} (needs {', '.join(x.get('needs', []))})"
                                  for x in it["doses"])
                age = age_in_words(it["age_years"]) if it.get("age_years") is not None \
                    else "age unknown"
                con.print(escape(f"      {it['date']} (day {it['day']}, age {age}): {doses}"))
        for dp in p["decisions"]:
            con.print(f"  > {dp['date']} {dp['title']}")
            for o in dp["options"]:
                if o.get("settled_by_record") is False:
                    continue  # ruled out by the record (another lineage, say): not offered
                nxt = _next_step(str(o["next"]))
                con.print(escape(f"      - {o['when']} - next: {nxt}"))
    an = d["anthracyclines"]
    if an["by_phase"]:
        con.print(f"Cumulative anthracycline (as planned): {an['cumulative_mg_m2']:g} mg/m2"
                  + (f" ({an['cumulative_mg']:g} mg)" if an["cumulative_mg"] is not None else "")
                  + (f"; not counted (dose per protocol): {', '.join(an['not_counted'])}"
                     if an["not_counted"] else ""))
        if an["echo"]:
            con.print(f"  {an['echo']['text']}: {an['echo']['date']}")
    con.print(d["modifications"]["text"])
    tr = d["transplant"]
    if tr["indicated"]:
        con.print(f"[bold]Transplant (HCT) to consider[/bold]: {', '.join(tr['indications'])}; "
                  f"donor search {tr['donor_search']['date'] if tr['donor_search'] else ''}")
        if tr["decision"] and tr["decision"].get("note"):
            # the rule's own words ("consider allo-HCT ... when feasible"; review CC)
            con.print(escape(f"  {tr['decision']['note']}"))
    elif tr["decision"] and tr["decision"]["status"] == "unknown":
        con.print(escape("Transplant indication pending: needs "
                         + "; ".join(_tests(tr["decision"]["missing"]))))
    elif d["setting"] != "frontline":
        con.print("First-remission transplant indications do not apply after a relapse; the "
                  "plan's decisions above name transplant in a second remission.")
    else:
        con.print("No transplant indication in first remission found.")
    for e in d["eligibility"]:
        fits = {True: "fits", False: "does not fit"}.get(e["age_ok"], "not known")
        # the age the limit was judged on, and its day (review Z: age at treatment)
        when = (f" (age {e['age_years']:g} on {e['on']})"
                if e.get("age_years") is not None and e.get("on") else
                f" ({e['age_basis']})" if e.get("age_basis") else "")
        con.print(escape(f"Eligibility {e['label']}: age {fits}{when}; line of therapy: "
                         f"{words(e['line_of_therapy'])}"))
        if e.get("age_limit_crossed"):
            con.print(escape(f"  {e['age_limit_crossed']['text']}"))
    if d["unconfirmed"]:
        con.print(f"[yellow]{len(d['unconfirmed'])} item(s) marked unconfirmed[/yellow] "
                  "(* above); see --format json")
    if on is not None:
        w = rm.where_now(on)
        con.print(f"[bold]On {w['date']}[/bold]: {escape(words(w['status']))}")
        for i in w["due_next"]:
            con.print(f"  next {i['date']}: {i['title']}"
                      + (f" ({i['detail']})" if i.get("detail") else ""))
        for i in w["overdue"]:
            con.print(f"  [red]overdue[/red] {i['date']}: {i['title']} ({i['reason']})")
    con.print(d["disclaimer"])


@app.command()
def roadmap(
    record: Annotated[Path, typer.Argument(help="Patient record (YAML or JSON).")],
    start: Annotated[str | None, typer.Option("--start", help="Start date YYYY-MM-DD.")] = None,
    ics: Annotated[Path | None, typer.Option("--ics", help="Write an .ics calendar here.")
                   ] = None,
    format: Annotated[RoadmapFormat, typer.Option("--format", "-f")] = RoadmapFormat.text,
    bsa_formula: Annotated[str, typer.Option(
        "--bsa-formula", help="Body-surface-area formula (mosteller by default; a wrong "
                              "name lists the choices).")] = "mosteller",
    setting: Annotated[Setting, typer.Option(
        "--setting", help="auto: relapsed after a confirmed relapse (dated from it), else "
                          "frontline.")] = Setting.auto,
    template: Annotated[str | None, typer.Option(
        "--template", help="Use this template instead of the chosen one.")] = None,
    on: Annotated[str | None, typer.Option(
        "--as-of", "--on", help="Show where the patient is on this date, YYYY-MM-DD "
                                "(default: the latest date in the record).")] = None,
) -> None:
    """Treatment roadmap: protocol template, dated phases, doses, checkpoints, .ics."""
    from allpath.pipeline import assess_file, roadmap_setting
    from allpath.roadmap import FORMULAS, build_roadmap, course_of

    if bsa_formula not in FORMULAS:
        typer.echo(f"error: unknown BSA formula {bsa_formula!r}; choose one of "
                   f"{', '.join(FORMULAS)}", err=True)
        raise typer.Exit(code=2)
    try:
        start_date = dt.date.fromisoformat(start) if start else None
        on_date = dt.date.fromisoformat(on) if on else None
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    try:
        assessment = assess_file(record, as_of=on_date)
        on_date = assessment.as_of
        chosen, relapse_date = roadmap_setting(assessment.monitoring, setting.value)
        rm = build_roadmap(assessment, start_date, bsa_formula, setting=chosen,
                           template=template, relapse_date=relapse_date,
                           course=course_of(assessment.monitoring, assessment.record))
        if ics is not None:
            from allpath.io import write_bytes_atomic

            write_bytes_atomic(ics, rm.ics())
    except AllPathError as err:
        fail(err)
        return
    if format is RoadmapFormat.json:
        doc = rm.to_dict()
        if on_date is not None:
            doc["where_now"] = rm.where_now(on_date)
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        _render(rm, on_date)
