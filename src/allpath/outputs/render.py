"""Human-readable renderings of an assessment: a rich terminal report and Markdown."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from allpath.outputs.assessment import DISCLAIMER
from allpath.outputs.readable import age_in_words, console, words

__all__ = ["render_markdown", "render_text"]


# groups whose code alone does not say what they are, in plain words
PLAIN_GROUPS = {
    "ds_high": "DS-High (Down syndrome high-risk arm)",
    "ds_standard": "DS-Standard (Down syndrome standard-risk arm)",
    "induction_failure": "induction failure (not in remission at the end of induction)",
}


def _plain_group(group: Any) -> str:
    if not isinstance(group, str) or group in ("not_applicable", "not_eligible", "unknown"):
        return words(group)
    return PLAIN_GROUPS.get(group, group)


def _group_text(r: dict[str, Any]) -> str:
    """The group; a provisional one leads with the groups still possible (issue 11 item 15)."""
    possible = ", ".join(_plain_group(p) for p in r.get("possible_groups") or [])
    if r.get("provisional_group") is not None:
        text = f"one of {possible}" if possible else "unknown"
        return text + (" (pending; if the missing results are normal: "
                       f"{_plain_group(r['provisional_group'])})")
    text = _plain_group(r["group"])
    if r["provisional"]:
        text += " (provisional)"
    if r["group"] == "unknown" and possible:
        text += " - could be " + possible
    if r.get("note") and r["group"] in ("not_applicable", "not_eligible"):
        text += f" - {r['note']}"
    return text


def _age(doc: dict[str, Any]) -> str:
    if doc.get("age_text"):
        return str(doc["age_text"])
    return age_in_words(doc["age_years"]) if doc["age_years"] is not None else "unknown"


def _summary_rows(doc: dict[str, Any]) -> list[tuple[str, str]]:
    d = doc["diagnosis"]
    st = d["subtype"]
    rows = [
        ("Age at diagnosis", _age(doc)),
        ("Diagnosis", words(d["status"]) + (f" ({words(d['presentation'])})"
                                             if d["presentation"] else "")),
        ("Lineage", words(d["lineage"]) + (" - ETP phenotype" if d["etp"] else "")),
        ("Genetic subtype", f"{st['key']} - prognosis {words(st['prognosis'])}"),
        ("CNS status", words(doc["cns_status"])),
    ]
    f = doc["findings"]
    cyto = words(f["cytopenias"]) if isinstance(f["cytopenias"], list) else "unknown"
    rows.append(("Cytopenias", cyto))
    if f["hyperleukocytosis"] is True:
        rows.append(("Hyperleukocytosis", "yes"))
    rows.append(("Marrow status", words(f["marrow_status"])))
    where = doc.get("where_now") or {}
    if where.get("status"):
        rows.append((f"On {where['date']}", str(where["status"])))
    for item in (where.get("due_next") or [])[:2]:
        rows.append(("Next", f"{item['date']}: {item['title']}"))
    for item in where.get("overdue") or []:
        rows.append(("Overdue", f"{item['date']}: {item['title']} ({item['reason']})"))
    return rows


def _risk_notes(doc: dict[str, Any]) -> list[str]:
    """What a Down syndrome arm means (treatment changes, treatment-related mortality)."""
    return [f"Down syndrome arm {_plain_group(r['group'])}: {r['note']}"
            for r in doc["risk"]
            if r["scheme"] == "aall1731_ds" and r["group"] in PLAIN_GROUPS and r.get("note")]


def _folded(r: dict[str, Any]) -> bool:
    """A scheme that does not apply to this patient (shown only with ``--all``)."""
    return bool(r["group"] == "not_applicable")


def _risk_rows(doc: dict[str, Any], show_all: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """The schemes to show, and the names of those folded away."""
    shown = [r for r in doc["risk"] if show_all or not _folded(r)]
    folded = [r["scheme"] for r in doc["risk"] if not show_all and _folded(r)]
    return shown, folded


def _monitoring_lines(doc: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for r in doc.get("response", []):
        when = f" ({r['date']})" if r.get("date") else ""
        status = words(r["status"])
        if r["status"] == "not_assessable" and not r.get("date"):
            status += " yet: no marrow blast count for this time point"
        if r["status"] == "unknown" and r.get("possible"):
            status = "not settled: " + " or ".join(words(x) for x in r["possible"])
        source = (f" [{r['rule_id']}; {', '.join(r['citations']) or 'no source'}]"
                  if r.get("rule_id") else "")
        lines.append(f"Response at {words(r['checkpoint'])}{when}: {status}{source}")
        if r.get("note"):
            lines.append(f"  {r['note']}")
    for m in doc.get("mrd", {}).get("series", []):
        detail = ", ".join(words(x) for x in (m.get("specimen"), m.get("method")) if x)
        lines.append(f"MRD on {m['date']} (day {words(m.get('day'))}, {detail}): "
                     f"{words(m.get('value'))} {m.get('unit') or ''} - "
                     f"{words(m.get('level'))} [{m['rule_id'] or 'no rule'}; "
                     f"{', '.join(m['citations']) or 'no source'}]")
    for m in doc.get("mrd", {}).get("restratification", []):
        before, after = m["before"]["group"], m["after"]["group"]
        if before == after:  # MRD confirmed the group: nothing changed, nothing to say
            continue
        lines.append(f"MRD changed the {m['scheme']} group from {words(before)} to "
                     f"{words(after)} [{m['reason']['rule_id']}]")
    rel = doc.get("relapse")
    if rel and rel["detected"]:
        t = rel["timing"]
        lines.append(f"Relapse on {rel['date']}: {words(rel['site'])}; timing COG "
                     f"{words(t['cog'])}, BFM {words(t['bfm'])}, NCCN {words(t['nccn'])}")
        risk = rel.get("risk") or {}
        lines.append(f"Relapse risk group: COG {words(risk.get('cog'))}, BFM "
                     f"{words(risk.get('bfm'))}, IntReALL 2010 {words(risk.get('intreall'))}, "
                     f"UK (ALL R3) {words(risk.get('uk'))}")
    elif rel and rel.get("suspected"):
        confirm = f"; to confirm: {rel['confirm_with']}" if rel.get("confirm_with") else ""
        lines.append(f"Relapse suspected on {rel['date']}, not confirmed{confirm}")
    for a in doc.get("alerts", []):
        lines.append(f"ALERT ({a['severity']}) {a['id']}: {a['message']} "
                     f"[{a['trace']['rule_id']}; {', '.join(a['trace']['citations'])}]")
    return lines


def _bullets(con: Console, items: list[str], bullet: str = "-") -> None:
    """A list whose wrapped lines stay indented under their bullet."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for item in items:
        grid.add_row(f" {bullet}", Text(item))
    con.print(grid)


def render_text(doc: dict[str, Any], width: int | None = None, show_all: bool = False) -> str:
    """Render an assessment document as a terminal report that fits ``width`` columns
    (default: the terminal's). Schemes that do not apply are named in one line, unless
    ``show_all``."""
    buf = io.StringIO()
    con = console(buf, width)
    con.print(Panel(Text(f"ALLPath assessment - patient {doc['patient_id']}\n"
                         f"as of {doc['as_of'] or 'no date in the record'}"), expand=False))
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for k, v in _summary_rows(doc):
        table.add_row(k, Text(v))
    con.print(table)
    shown, folded = _risk_rows(doc, show_all)
    if shown:
        risk = Table(title="Risk groups", title_justify="left", show_lines=False,
                     expand=False)
        risk.add_column("Scheme", overflow="fold", ratio=2)
        risk.add_column("Group", overflow="fold", ratio=4)
        risk.add_column("Rule; sources", overflow="fold", ratio=3)
        for r in shown:
            risk.add_row(Text(r["scheme"]), Text(_group_text(r)),
                         Text(f"{r['rule_id'] or 'no rule'}; "
                              f"{', '.join(r['citations']) or 'no source'}"))
        con.print(risk)
    if folded:
        con.print(Text(f"Not applicable to this patient: {', '.join(folded)} "
                       "(--all lists them with the reason)."))
    for line in _risk_notes(doc):
        con.print(Text(line))
    monitoring = _monitoring_lines(doc)
    if monitoring:
        con.print(Text("Monitoring", style="bold"))
        _bullets(con, monitoring)
    if doc["prognosis"]:
        con.print(Text("Published outcome figures (groups, not personal predictions)",
                       style="bold"))
        _bullets(con, [f"{p['population']}: {p['measure']} {p['figure']} "
                       f"({p['period']}; {', '.join(p['citations'])})"
                       for p in doc["prognosis"]])
    if doc["missing"] and doc["tests_to_order"]:
        con.print(Text("Missing data - tests that would settle it:", style="bold"))
        _bullets(con, list(doc["tests_to_order"]))
    if doc["unconfirmed_evidence"]:
        con.print(Text("Rests on unconfirmed facts: " + ", ".join(doc["unconfirmed_evidence"])))
    if doc["notes"]:
        _bullets(con, [f"Note: {n}" for n in doc["notes"]], bullet="*")
    con.print(Text(DISCLAIMER, style="italic"))
    return buf.getvalue()


def render_markdown(doc: dict[str, Any], show_all: bool = False) -> str:
    """Render an assessment document as Markdown (schemes that do not apply folded into one
    line unless ``show_all``)."""
    lines = [f"# ALLPath assessment: {doc['patient_id']}", "",
             f"As of {doc['as_of'] or 'no date in the record'}.", ""]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in _summary_rows(doc)]
    shown, folded = _risk_rows(doc, show_all)
    lines += ["", "## Risk groups", ""]
    if shown:
        lines += ["| scheme | group | rule | sources |", "|---|---|---|---|"]
        for r in shown:
            lines.append(f"| {r['scheme']} | {_group_text(r)} | `{r['rule_id'] or 'no rule'}` | "
                         f"{', '.join(r['citations'])} |")
    if folded:
        lines += ["", f"Not applicable to this patient: {', '.join(folded)}."]
    notes = _risk_notes(doc)
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    if doc["prognosis"]:
        lines += ["", "## Published outcome figures", "",
                  "Figures describe groups of patients, not a prediction for one person.", ""]
        for p in doc["prognosis"]:
            lines.append(f"- {p['population']}: {p['measure']} **{p['figure']}** "
                         f"({p['period']}; {', '.join(p['citations'])})")
    monitoring = _monitoring_lines(doc)
    if monitoring:
        lines += ["", "## Monitoring", ""] + [f"- {m}" for m in monitoring]
    if doc["missing"] and doc["tests_to_order"]:
        lines += ["", "## Missing data", ""]
        lines += [f"- {t}" for t in doc["tests_to_order"]]
    if doc["notes"]:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in doc["notes"]]
    lines += ["", "## Sources", ""]
    lines += [f"- **{k}**: {v}" for k, v in doc["citations"].items()]
    lines += ["", f"_{DISCLAIMER}_", ""]
    return "\n".join(lines)
