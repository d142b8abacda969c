"""The family guide: cited plain-language topics, and a guide personalised to one record.

Topics live in ``knowledge/guide/topics.yaml`` (written in ALLPath's own words). The
personalised guide uses the assessment (:func:`allpath.pipeline.assess`) for the diagnosis,
risk groups and missing tests, the treatment roadmap (:mod:`allpath.roadmap`, when it is
installed) or the record's treatment events for the current and next phase, and the
presenting counts for the care alerts that matter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from allpath.knowledge import load_yaml
from allpath.outputs.assessment import DISCLAIMER
from allpath.rules.loader import load_knowledge

__all__ = ["GUIDE_DISCLAIMER", "Guide", "Section", "Topic", "load_guide", "personal_guide",
           "render"]

GUIDE_DISCLAIMER = (
    "This guide explains things in general. It does not replace your care team, who know "
    "your child or you best. Always follow the plan they give you."
)
PHASE_ORDER = ("prophase", "induction", "consolidation", "intensification",
               "interim_maintenance", "delayed_intensification", "maintenance")


@dataclass(frozen=True)
class Section:
    id: str
    text: str
    cite: tuple[str, ...]
    phases: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    sections: tuple[Section, ...]
    phases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Guide:
    title: str
    intro: tuple[str, ...]
    topics: tuple[Topic, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "allpath.guide/1",
            "title": self.title,
            "intro": list(self.intro),
            "topics": [{"id": t.id, "title": t.title,
                        "sections": [{"id": s.id, "text": s.text, "citations": list(s.cite)}
                                     for s in t.sections]} for t in self.topics],
            "disclaimer": GUIDE_DISCLAIMER,
            "clinical_disclaimer": DISCLAIMER,
        }


@lru_cache(maxsize=1)
def load_guide() -> tuple[Topic, ...]:
    """Every topic of the bundled guide, in order."""
    doc = load_yaml("guide/topics.yaml")
    topics = []
    for t in doc["topics"]:
        sections = tuple(
            Section(id=str(s.get("id", f"{t['id']}-{i}")), text=" ".join(s["text"].split()),
                    cite=tuple(s["cite"]), phases=tuple(s.get("phases", ())),
                    alerts=tuple(s.get("alerts", ())))
            for i, s in enumerate(t["sections"]))
        topics.append(Topic(t["id"], t["title"], sections, tuple(t.get("phases", ()))))
    return tuple(topics)


def topic(topic_id: str) -> Topic:
    for t in load_guide():
        if t.id == topic_id:
            return t
    from allpath.errors import UnknownRuleError

    raise UnknownRuleError(topic_id, [t.id for t in load_guide()])


def general_guide(topic_id: str | None = None) -> Guide:
    topics = (topic(topic_id),) if topic_id else load_guide()
    return Guide("A family guide to ALL", (), topics)


# --------------------------------------------------------------------------- personalised


def _phases(assessment: Any) -> tuple[str | None, str | None]:
    """(current phase, next phase) from the roadmap when available, else the record."""
    on = assessment.as_of or dt.date.today()
    try:
        from allpath.roadmap import build_roadmap  # built in parallel: guarded

        phases = build_roadmap(assessment).to_dict().get("phases") or []
        current = nxt = None
        for i, p in enumerate(phases):
            start = dt.date.fromisoformat(str(p["start"]))
            end = dt.date.fromisoformat(str(p["end"])) if p.get("end") else None
            if start <= on and (end is None or on <= end):
                current = str(p.get("kind") or p.get("id"))
                if i + 1 < len(phases):
                    nxt = str(phases[i + 1].get("kind") or phases[i + 1].get("id"))
        if current is not None or not assessment.record.treatment:
            return current, nxt
    except Exception:
        pass
    events = sorted(assessment.record.treatment, key=lambda e: e.start)
    started = [e for e in events if e.start <= on and (e.end is None or e.end >= on)]
    if not started:
        return None, "induction" if assessment.value("diagnosis", "status") == "ALL" else None
    current = started[-1].phase
    nxt = None
    if current in PHASE_ORDER:
        i = PHASE_ORDER.index(current)
        nxt = PHASE_ORDER[i + 1] if i + 1 < len(PHASE_ORDER) else None
    return current, nxt


def _alerts(doc: dict[str, Any]) -> set[str]:
    findings = doc.get("findings") or {}
    out = {name for name in ("neutropenia", "thrombocytopenia", "anemia")
           if findings.get(name) is True}
    for a in doc.get("alerts") or []:
        if isinstance(a, dict) and a.get("id"):
            out.add(str(a["id"]))
    return out


def _phase_word(phase: str) -> str:
    return phase.replace("_", " ")


def _studies_line(assessment: Any) -> str:
    """How many open research studies could fit (the trial pre-screen), in plain words."""
    from allpath.trials import bundled_trials, match_trials

    report = match_trials(assessment, bundled_trials(), limit=0)
    fit = report.count("possible") + report.count("check")
    if fit == 0:
        return ("We did not find an open research study (clinical trial) that fits right "
                "now. Ask the care team, because new studies open all the time.")
    return (f"{fit} open research studies (clinical trials) could fit: nothing they list rules "
            "this out. Only the study team can say for sure. Ask the care team if one is "
            "right for you. Joining is always your choice.")


def personal_guide(record: Any) -> Guide:
    """The sections that apply now to one patient (a record or a record file path)."""
    from allpath.pipeline import assess, assess_file

    assessment = assess(record) if not isinstance(record, str | bytes) and \
        hasattr(record, "format") else assess_file(record)
    doc = assessment.to_dict()
    current, nxt = _phases(assessment)
    alerts = _alerts(doc)
    intro: list[str] = []
    status = doc["diagnosis"]["status"]
    lineage = doc["diagnosis"].get("lineage")
    if status == "ALL":
        kind = {"B": "B-cell", "T": "T-cell"}.get(str(lineage), "")
        intro.append(f"The tests show {kind + ' ' if kind else ''}ALL.".replace("  ", " "))
    else:
        intro.append("The tests are not finished yet, so the team cannot be sure of the "
                     "diagnosis.")
    groups = [f"{r['scheme']}: {r['group']}" for r in doc.get("risk", [])
              if r.get("group") not in (None, "unknown", "not_applicable")]
    if groups:
        intro.append("Risk groups used by the team: " + "; ".join(groups) + ". Ask what "
                     "this means for the treatment plan.")
    if doc.get("tests_to_order"):
        intro.append("Some results are still missing: " + "; ".join(doc["tests_to_order"])
                     + ".")
    if status == "ALL":
        intro.append(_studies_line(assessment))
    if current:
        intro.append(f"Current phase: {_phase_word(current)}."
                     + (f" Next: {_phase_word(nxt)}." if nxt else ""))
    elif nxt:
        intro.append(f"Treatment usually starts with {_phase_word(nxt)}.")
    wanted_phases = {p for p in (current, nxt) if p}
    chosen: list[Topic] = []
    for t in load_guide():
        if t.phases and not (set(t.phases) & wanted_phases):
            continue
        picked = []
        for s in t.sections:
            if t.id == "treatment-phases":
                if s.phases and not (set(s.phases) & wanted_phases):
                    continue
            elif t.id == "living-with-treatment":
                if s.alerts and not (set(s.alerts) & alerts) and current is None:
                    continue
            elif t.id == "questions":
                if s.phases and not (set(s.phases) & wanted_phases):
                    continue
            elif t.id in ("what-is-all", "types", "who-gets-it", "symptoms", "diagnosis"):
                if current is not None or t.id in ("who-gets-it", "symptoms"):
                    continue
            elif t.id == "when-to-call" and s.id == "before-diagnosis":
                continue
            picked.append(s)
        if picked:
            chosen.append(Topic(t.id, t.title, tuple(picked), t.phases))
    return Guide(f"Your guide ({doc['patient_id']})", tuple(intro), tuple(chosen))


# --------------------------------------------------------------------------- rendering


def render(guide: Guide, fmt: str = "text") -> str:
    """Text or Markdown, each section followed by its sources."""
    citations = load_knowledge().citations
    md = fmt == "markdown"
    out = [f"# {guide.title}" if md else guide.title.upper(), ""]
    for line in guide.intro:
        out.append(line)
    if guide.intro:
        out.append("")
    used: set[str] = set()
    for t in guide.topics:
        out += [f"## {t.title}" if md else t.title, "" if md else "-" * len(t.title)]
        for s in t.sections:
            refs = ", ".join(s.cite)
            used |= set(s.cite)
            out += [f"{s.text} [{refs}]", ""]
    out += [f"*{GUIDE_DISCLAIMER}*" if md else GUIDE_DISCLAIMER, ""]
    out += ["## Sources" if md else "Sources", ""]
    for c in sorted(used):
        ref = citations[c].reference if c in citations else "(not in the bibliography)"
        out.append(f"- [{c}] {ref}" if md else f"  [{c}] {ref}")
    return "\n".join(out).rstrip() + "\n"


def all_text() -> str:
    """Every section's text, for readability measurement."""
    return "\n".join(s.text for t in load_guide() for s in t.sections)
