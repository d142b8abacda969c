"""Markdown tables of every template's numbers and their sources (for ``docs/roadmap.md``).

``python -m allpath.roadmap.sources docs/roadmap.md`` rewrites the part of the page between
``<!-- sources:begin -->`` and ``<!-- sources:end -->``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from allpath.roadmap.templates import DaySpec, Template, expand_days, fold_days, load_templates

__all__ = ["source_tables", "write_into"]

BEGIN, END = "<!-- sources:begin -->", "<!-- sources:end -->"


def _days(days: tuple[DaySpec, ...]) -> str:
    return fold_days([d + 1 for d in expand_days(days)])


def _table(t: Template) -> list[str]:
    it = f"; intrathecal doses: `{t.intrathecal_dosing}` scheme" if t.intrathecal_dosing else ""
    lines = [f"#### `{t.id}` v{t.version}: {t.title}", "",
             f"Template sources: {', '.join('[' + c + ']' for c in t.cite)}{it}", "",
             "| phase | length | item | dose | days | when | sources | evidence |",
             "|---|---|---|---|---|---|---|---|"]
    for p in t.phases:
        if p.length_days:
            length = f"{p.length_days} d"
        else:
            assert p.until is not None
            length = f"to {p.until.years} y from {p.until.at} of {p.until.anchor}"
            for sx, u in p.until_by_sex.items():
                length += f"; {sx}: {u.years} y"
        if p.cycle_days:
            length += f" (cycles of {p.cycle_days} d)"
        lines.append(f"| {p.id} | {length} | (phase) | | | | {', '.join(p.cite)} | "
                     f"{p.evidence} |")
        for c in p.components:
            if c.dose:
                basis = {"m2": "/m2", "kg": "/kg", "flat": ""}[c.dose.basis]
                dose = (f"{c.dose.amount:g} {c.dose.unit}{basis}"
                        f"{'/day' if c.dose.per_day else ''}")
                if c.cap:
                    dose += f", max {c.cap.amount:g} {c.cap.unit}"
            else:
                dose = "per protocol"
            days = _days(c.days) if c.days else (c.schedule or "")
            if c.doses_per_day > 1:
                days += f" ({c.doses_per_day} doses a day)"
            when = c.applies_if.label if c.applies_if else ""
            lines.append(f"| {p.id} | | {c.drug} ({c.route}) | {dose} | {days} | {when} | "
                         f"{', '.join(c.cite)} | {c.evidence} |")
        for r in p.procedures:
            if r.kind in ("lumbar_puncture", "radiotherapy") or r.mrd:
                item = r.title + (f" [IT {', '.join(r.intrathecal)}]" if r.intrathecal else "")
                when = r.applies_if.label if r.applies_if else ""
                days = _days(r.days) if r.days else "per protocol"
                lines.append(f"| {p.id} | | {item} | | {days} | {when} | {', '.join(r.cite)} "
                             f"| {r.evidence} |")
    for e in t.eligibility:
        ages = " and ".join(x for x in (
            f"from {e.age_min_years:g} y" if e.age_min_years is not None else "",
            f"up to and including {e.age_max_years:g} y" if e.age_max_years is not None
            else "") if x)
        lines.append(f"| (eligibility) | | {e.label} | | | {ages or 'any age'} (age on the "
                     f"template's first day); {e.line or 'line per label'} | "
                     f"{', '.join(e.cite)} | {e.evidence} |")
    for m in t.modifications:
        lines.append(f"| (modification) | | {m.label} | | | {m.applies_if.label} | "
                     f"{', '.join(m.cite)} | {m.evidence} |")
    return [*lines, ""]


def source_tables() -> str:
    """Every template's table, in id order."""
    out: list[str] = []
    for tid in sorted(load_templates()):
        out += _table(load_templates()[tid])
    return "\n".join(out).rstrip() + "\n"


def write_into(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{source_tables()}{END}{tail}", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - a maintenance entry point
    write_into(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/roadmap.md"))
