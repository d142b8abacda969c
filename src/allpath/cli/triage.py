"""``allpath triage FILE``: urgency, leukemia suspicion, reasons and next steps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from allpath.cli.app import app
from allpath.cli.common import OutputFormat, fail
from allpath.errors import AllPathError
from allpath.outputs.readable import words, wrap_text

__all__ = ["render_triage_markdown", "render_triage_text"]


def _lines(value: str | list[str]) -> list[str]:
    """The emergency list is a list of short lines (a single text in results before 2.4)."""
    return [value] if isinstance(value, str) else list(value)


def render_triage_text(doc: dict[str, Any]) -> str:
    """Plain text: the family-facing part first, then the clinician's reasons."""
    plain = doc["plain_language"]
    lines = [plain["headline"], ""]
    if plain.get("temperature"):
        lines.append(f"Temperature: {plain['temperature']}.")
    if plain["what_was_noticed"]:
        lines.append("What was noticed: " + ", ".join(plain["what_was_noticed"]) + ".")
    if plain["what_the_blood_test_shows"]:
        lines.append("The blood test shows:")
        lines += [f"  - {t}" for t in plain["what_the_blood_test_shows"]]
    lines += ["", plain["what_it_can_mean"], "", "What to do:"]
    lines += [f"  - {t}" for t in plain["what_to_do"]]
    lines += ["", *_lines(plain["when_to_get_help_at_once"]), "", plain["disclaimer"], "",
              "--- for the clinician ---",
              f"urgency: {doc['urgency']}   leukemia suspicion: {doc['leukemia_suspicion']}"
              f"   CBC suspicion: {doc['cbc_suspicion']}", "reasons:"]
    for r in doc["reasons"]:
        lines.append(f"  - [{r['rule_id']}] {r['text']} ({', '.join(r['citations'])}"
                     + (", unconfirmed" if r["evidence"] == "unconfirmed" else "") + ")")
    lines.append("next steps:")
    lines += [f"  - {s['text']} [{s['rule_id']}]" for s in doc["next_steps"]]
    if doc["missing"]:
        lines.append("not known: " + "; ".join(str(m.get("test") or words(m.get("fact")))
                                               for m in doc["missing"]))
    lines += ["", doc["disclaimer"]]
    return "\n".join(lines)


def render_triage_markdown(doc: dict[str, Any]) -> str:
    plain = doc["plain_language"]
    out = [f"## {plain['headline']}", ""]
    if plain.get("temperature"):
        out.append(f"**Temperature:** {plain['temperature']}.")
    if plain["what_was_noticed"]:
        out.append("**What was noticed:** " + ", ".join(plain["what_was_noticed"]) + ".")
    for t in plain["what_the_blood_test_shows"]:
        out.append(f"- {t}")
    out += ["", plain["what_it_can_mean"], "", "**What to do**", ""]
    out += [f"- {t}" for t in plain["what_to_do"]]
    out += ["", *(f"> {line}  " for line in _lines(plain["when_to_get_help_at_once"])), "",
            f"*{plain['disclaimer']}*", "",
            "### For the clinician", "",
            f"Urgency **{doc['urgency']}**, leukemia suspicion **{doc['leukemia_suspicion']}**.",
            "", "| rule | reason | sources |", "|---|---|---|"]
    out += [f"| `{r['rule_id']}` | {r['text']} | {', '.join(r['citations'])} |"
            for r in doc["reasons"]]
    out += ["", f"*{doc['disclaimer']}*"]
    return "\n".join(out)


@app.command("triage")
def triage_command(
    file: Annotated[Path, typer.Argument(help="Record (allpath.record/1) or triage file "
                                              "(allpath.triage/1), YAML or JSON.")],
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
) -> None:
    """Triage one person: how urgently to see a doctor, and why (never a diagnosis)."""
    from allpath.triage import triage

    try:
        doc = triage(file).to_dict()
    except AllPathError as err:
        fail(err)
        return
    if format is OutputFormat.json:
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif format is OutputFormat.markdown:
        typer.echo(render_triage_markdown(doc))
    else:
        typer.echo(wrap_text(render_triage_text(doc)))
