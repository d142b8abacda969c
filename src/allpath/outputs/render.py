"""Human-readable renderings of an assessment: a rich terminal report and Markdown."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from allpath.outputs.assessment import DISCLAIMER

__all__ = ["render_markdown", "render_text"]


# groups whose code alone does not say what they are, in plain words
PLAIN_GROUPS = {
    "ds_high": "DS-High (Down syndrome high-risk arm)",
    "ds_standard": "DS-Standard (Down syndrome standard-risk arm)",
    "induction_failure": "induction failure (not in remission at the end of induction)",
}


def _plain_group(group: Any) -> str:
    return PLAIN_GROUPS.get(str(group), str(group))


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


def _summary_rows(doc: dict[str, Any]) -> list[tuple[str, str]]:
    d = doc["diagnosis"]
    st = d["subtype"]
    rows = [
        ("Age", f"{doc['age_years']} years" if doc["age_years"] is not None else "unknown"),
        ("Diagnosis", f"{d['status']}" + (f" ({d['presentation']})" if d["presentation"] else "")),
        ("Lineage", str(d["lineage"]) + (" - ETP phenotype" if d["etp"] else "")),
        ("Genetic subtype", f"{st['key']} - prognosis {st['prognosis']}"),
        ("CNS status", str(doc["cns_status"])),
    ]
    f = doc["findings"]
    cyto = ", ".join(f["cytopenias"]) if isinstance(f["cytopenias"], list) else "unknown"
    rows.append(("Cytopenias", cyto or "none"))
    if f["hyperleukocytosis"] is True:
        rows.append(("Hyperleukocytosis", "yes"))
    rows.append(("Marrow status", str(f["marrow_status"])))
    return rows


def _risk_notes(doc: dict[str, Any]) -> list[str]:
    """What a Down syndrome arm means (treatment changes, treatment-related mortality)."""
    return [f"Down syndrome arm {_plain_group(r['group'])}: {r['note']}"
            for r in doc["risk"]
            if r["scheme"] == "aall1731_ds" and r["group"] in PLAIN_GROUPS and r.get("note")]


def _monitoring_lines(doc: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for r in doc.get("response", []):
        lines.append(f"Response at {r['checkpoint'].replace('_', ' ')} ({r['date']}): "
                     f"{r['status']} [{r['rule_id']}; {', '.join(r['citations'])}]")
    for m in doc.get("mrd", {}).get("restratification", []):
        lines.append(f"MRD re-stratified {m['scheme']}: {m['before']['group']} -> "
                     f"{m['after']['group']} [{m['reason']['rule_id']}]")
    rel = doc.get("relapse")
    if rel and rel["detected"]:
        t = rel["timing"]
        lines.append(f"Relapse on {rel['date']}: {rel['site']}; timing COG {t['cog']}, "
                     f"BFM {t['bfm']}, NCCN {t['nccn']}")
        risk = rel.get("risk") or {}
        lines.append(f"Relapse risk group: COG {risk.get('cog')}, BFM {risk.get('bfm')}, "
                     f"IntReALL 2010 {risk.get('intreall')}")
    elif rel and rel.get("suspected"):
        lines.append(f"Relapse suspected on {rel['date']}, not confirmed: "
                     f"{rel.get('confirm_with') or ''}".strip())
    for a in doc.get("alerts", []):
        lines.append(f"ALERT ({a['severity']}) {a['id']}: {a['message']} "
                     f"[{a['trace']['rule_id']}; {', '.join(a['trace']['citations'])}]")
    return lines


def render_text(doc: dict[str, Any], width: int = 100) -> str:
    """Render an assessment document as a terminal report."""
    buf = io.StringIO()
    con = Console(file=buf, width=width, force_terminal=False, color_system=None)
    con.print(Panel(f"ALLPath assessment - patient {doc['patient_id']} (as of {doc['as_of']})",
                    expand=False))
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for k, v in _summary_rows(doc):
        table.add_row(k, v)
    con.print(table)
    risk = Table(title="Risk groups", show_lines=False)
    for col in ("scheme", "group", "rule", "sources"):
        risk.add_column(col)
    for r in doc["risk"]:
        risk.add_row(r["scheme"], _group_text(r), str(r["rule_id"] or "-"),
                     ", ".join(r["citations"]))
    con.print(risk)
    for line in _risk_notes(doc):
        con.print(line, markup=False)
    for line in _monitoring_lines(doc):
        con.print(line, markup=False)
    if doc["prognosis"]:
        con.print("[bold]Published outcome figures[/bold] (groups, not personal predictions)")
        for p in doc["prognosis"]:
            con.print(f"  - {p['population']}: {p['measure']} {p['figure']} "
                      f"({p['period']}; {', '.join(p['citations'])})", markup=False)
    if doc["missing"]:
        con.print("[bold]Missing data[/bold] - tests that would settle it:")
        for t in doc["tests_to_order"]:
            con.print(f"  - {t}", markup=False)
    if doc["unconfirmed_evidence"]:
        con.print("[bold]Rests on unconfirmed facts:[/bold] " +
                  ", ".join(doc["unconfirmed_evidence"]))
    for note in doc["notes"]:
        con.print(f"Note: {note}", markup=False)
    con.print(f"[italic]{DISCLAIMER}[/italic]")
    return buf.getvalue()


def render_markdown(doc: dict[str, Any]) -> str:
    """Render an assessment document as Markdown."""
    lines = [f"# ALLPath assessment: {doc['patient_id']}", "", f"As of {doc['as_of']}.", ""]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in _summary_rows(doc)]
    lines += ["", "## Risk groups", "", "| scheme | group | rule | sources |", "|---|---|---|---|"]
    for r in doc["risk"]:
        lines.append(f"| {r['scheme']} | {_group_text(r)} | `{r['rule_id']}` | "
                     f"{', '.join(r['citations'])} |")
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
    if doc["missing"]:
        lines += ["", "## Missing data", ""]
        lines += [f"- {t}" for t in doc["tests_to_order"]]
    lines += ["", "## Sources", ""]
    lines += [f"- **{k}**: {v}" for k, v in doc["citations"].items()]
    lines += ["", f"_{DISCLAIMER}_", ""]
    return "\n".join(lines)
