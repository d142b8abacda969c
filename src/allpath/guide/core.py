"""The family guide: cited plain-language topics, and a guide personalised to one record.

Topics live in ``knowledge/guide/topics.yaml`` (written in ALLPath's own words). "When to
call" comes first, with a space for the care team's 24-hour phone number. The personalised
guide uses the assessment (:func:`allpath.pipeline.assess`) for the diagnosis, the risk
groups (in plain words) and the tests still missing; it finds where treatment stands from
the record's treatment dates and recorded checkpoints (day-8 and end-of-phase tests), never
from the diagnosis date; it shows outlook figures only for the patient's age group.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from allpath.errors import Problem, RecordError, UnknownRuleError
from allpath.knowledge import load_yaml
from allpath.outputs.assessment import DISCLAIMER
from allpath.rules.loader import load_knowledge

__all__ = ["GUIDE_DISCLAIMER", "NO_PHONE", "Guide", "PhaseNow", "Section", "Topic",
           "all_text", "check_team_phone", "general_guide", "load_guide", "personal_guide",
           "phase_now", "render", "risk_lines", "section_text", "topic"]

GUIDE_DISCLAIMER = (
    "This guide explains things in general. It does not replace your care team, who know "
    "your child or you best. Always follow the plan they give you."
)
NO_PHONE = ("Your team's 24-hour phone number: ______________. Ask your team for their "
            "24-hour number and write it here.")
PHASE_ORDER = ("prophase", "induction", "consolidation", "intensification",
               "interim_maintenance", "delayed_intensification", "maintenance")
# recorded checkpoints: (the phase they belong to, whether they mark its end)
CHECKPOINTS: dict[str, tuple[str, bool]] = {
    "day8": ("induction", False),
    "end_of_induction": ("induction", True),
    "end_of_consolidation": ("consolidation", True),
}
PHASE_WORDS = {
    "prophase": "the short first steroid phase (prophase)",
    "induction": "induction, the first phase",
    "consolidation": "consolidation",
    "intensification": "intensification",
    "interim_maintenance": "interim maintenance",
    "delayed_intensification": "delayed intensification",
    "maintenance": "maintenance, the long last phase",
    "transplant": "a stem cell transplant",
}
CHECKPOINT_WORDS = {
    "day8": "the day-8 blood test",
    "end_of_induction": "the marrow test at the end of induction",
    "end_of_consolidation": "the marrow test at the end of consolidation",
}
SCHEME_WORDS = {
    "nci_rome": "the first grouping by age and white cell count",
    "nci_treatment": "the grouping by age and white cell count used for treatment",
    "nccn_adult_genetics": "the adult risk group from the gene changes",
    "ukallxii_e2993": "the adult risk group from the first white cell count",
    "cog_pdq": "the Children's Oncology Group risk group",
    "aall1731": "the group used in a recent study of standard-risk B-cell ALL",
    "t_all_nccn_pediatric": "the risk group for T-cell ALL in children",
    "adult_risk_factors": "the risk group for adults",
    "infant_nccn": "the risk group for babies under 1 year",
    "infant_interfant06": "the risk group of the Interfant study for babies",
}
GROUP_WORDS = {
    "low": "low risk", "standard": "standard risk", "average": "average risk",
    "intermediate": "medium risk", "medium": "medium risk", "high": "high risk",
    "very_high": "very high risk", "poor": "higher risk", "good": "lower risk",
    "favorable": "lower risk", "sr_favorable": "standard risk, favorable",
    "sr_average": "standard risk, average", "sr_high": "standard risk, higher",
}
_NOT_A_GROUP = (None, "unknown", "not_applicable", "not_eligible")
_PHONE = re.compile(r"[0-9+()\-. /]+(?:\s*(?:ext\.?|x)\s*[0-9]+)?", re.IGNORECASE)


@dataclass(frozen=True)
class Section:
    id: str
    text: str
    cite: tuple[str, ...]
    phases: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    ages: tuple[float | None, float | None] | None = None  # figures for this age group
    as_of: str | None = None  # date of the figures


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    sections: tuple[Section, ...]
    phases: tuple[str, ...] = ()


def section_text(section: Section, team_phone: str | None = None) -> str:
    """The section's text as a family reads it, with the team's number filled in."""
    if "{team_phone}" not in section.text:
        return section.text
    line = (f"Your team's 24-hour phone number is {team_phone}." if team_phone
            else NO_PHONE)
    return section.text.replace("{team_phone}", line)


def _sources(ids: tuple[str, ...]) -> list[dict[str, Any]]:
    citations = load_knowledge().citations
    out: list[dict[str, Any]] = []
    for c in ids:
        ref = citations.get(c)
        out.append({"id": c, "reference": ref.reference if ref else None,
                    "url": ref.urls[0] if ref and ref.urls else None})
    return out


@dataclass(frozen=True)
class Guide:
    title: str
    intro: tuple[str, ...]
    topics: tuple[Topic, ...]
    team_phone: str | None = None
    intro_cite: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        def section(s: Section) -> dict[str, Any]:
            out: dict[str, Any] = {"id": s.id, "text": section_text(s, self.team_phone),
                                   "citations": list(s.cite), "sources": _sources(s.cite)}
            if s.ages is not None:
                out["ages"] = list(s.ages)
            if s.as_of is not None:
                out["as_of"] = s.as_of
            return out

        return {
            "format": "allpath.guide/1",
            "title": self.title,
            "team_phone": self.team_phone,
            "intro": list(self.intro),
            "intro_sources": _sources(self.intro_cite),
            "topics": [{"id": t.id, "title": t.title,
                        "sections": [section(s) for s in t.sections]} for t in self.topics],
            "disclaimer": GUIDE_DISCLAIMER,
            "clinical_disclaimer": DISCLAIMER,
        }


def _ages(value: Any) -> tuple[float | None, float | None] | None:
    if value is None:
        return None
    lo, hi = value
    return (None if lo is None else float(lo), None if hi is None else float(hi))


@lru_cache(maxsize=1)
def load_guide() -> tuple[Topic, ...]:
    """Every topic of the bundled guide, in order ("when to call" first)."""
    doc = load_yaml("guide/topics.yaml")
    topics = []
    for t in doc["topics"]:
        sections = tuple(
            Section(id=str(s.get("id", f"{t['id']}-{i}")), text=" ".join(s["text"].split()),
                    cite=tuple(s["cite"]), phases=tuple(s.get("phases", ())),
                    alerts=tuple(s.get("alerts", ())), ages=_ages(s.get("ages")),
                    as_of=str(s["as_of"]) if s.get("as_of") is not None else None)
            for i, s in enumerate(t["sections"]))
        topics.append(Topic(t["id"], t["title"], sections, tuple(t.get("phases", ()))))
    return tuple(topics)


def topic(topic_id: str) -> Topic:
    for t in load_guide():
        if t.id == topic_id:
            return t
    raise UnknownRuleError(topic_id, [t.id for t in load_guide()])


def check_team_phone(value: str | None) -> str | None:
    """The team's 24-hour number, tidied; a clear error naming ``team_phone`` if it is not one.

    Accepts digits with spaces, ``+ - ( ) . /`` and an extension (``ext 12``); at least 3
    digits, at most 40 characters. Empty means "not given".
    """
    if value is None or not value.strip():
        return None
    text = " ".join(value.split())
    digits = sum(ch.isdigit() for ch in text)
    if len(text) > 40 or not _PHONE.fullmatch(text) or digits < 3:
        raise RecordError([Problem(
            "team_phone", "not a phone number",
            expected="digits with spaces, + - ( ) . / and an optional extension "
                     "(3 to 40 characters, at least 3 digits)",
            got=repr(value[:60]))])
    return text


def general_guide(topic_id: str | None = None, team_phone: str | None = None) -> Guide:
    """The whole guide (or one topic), with the team's number when given."""
    topics = (topic(topic_id),) if topic_id else load_guide()
    return Guide("A family guide to ALL", (), topics, check_team_phone(team_phone))


# --------------------------------------------------------------------------- personalised


@dataclass(frozen=True)
class PhaseNow:
    """Where treatment stands on ``on``, and why (treatment dates or a recorded checkpoint)."""

    on: dt.date | None
    current: str | None
    finished: str | None
    next: str | None
    basis: str

    def sentence(self) -> str:
        when = f"As of {self.on.isoformat()}, " if self.on else ""
        if self.current:
            out = f"{when}your child is in {_phase_word(self.current)}."
        elif self.finished:
            out = f"{when}{self.finished.replace('_', ' ').capitalize()} has ended."
        else:
            out = f"{when}treatment has not started yet."
        if self.next:
            out += f" The next phase is usually {_phase_word(self.next)}."
        return out + f" ({self.basis})"


def _phase_word(phase: str) -> str:
    return PHASE_WORDS.get(phase, phase.replace("_", " "))


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _order(doc: Mapping[str, Any]) -> tuple[str, ...]:
    """Phase kinds in the order of the roadmap's plan, else the usual order."""
    roadmap = doc.get("roadmap") or {}
    kinds = [str(p.get("kind") or p.get("id")) for p in roadmap.get("phases") or []
             if isinstance(p, dict)]
    return tuple(kinds) if kinds else PHASE_ORDER


def _after(phase: str, order: tuple[str, ...]) -> str | None:
    if phase in order:
        i = order.index(phase)
        return order[i + 1] if i + 1 < len(order) else None
    return None


def _checkpoints(doc: Mapping[str, Any], on: dt.date | None) -> list[tuple[dt.date, str]]:
    """Checkpoints with a recorded date (MRD time points, response checkpoints), oldest first."""
    seen: set[tuple[dt.date, str]] = set()
    for m in (doc.get("mrd") or {}).get("series") or []:
        when, name = _date(m.get("date")), m.get("timepoint")
        if when and name in CHECKPOINTS:
            seen.add((when, str(name)))
    for r in doc.get("response") or []:
        when, name = _date(r.get("date")), r.get("checkpoint")
        if when and name in CHECKPOINTS:
            seen.add((when, str(name)))
    return sorted(p for p in seen if on is None or p[0] <= on)


def phase_now(record: Any, doc: Mapping[str, Any]) -> PhaseNow:
    """Current (or just-finished) and next phase from treatment dates and checkpoints.

    The reference date is the newest date in the record (``current.as_of`` of the
    assessment), not the diagnosis date. A treatment event that has started and not ended
    gives the current phase; a later recorded end-of-phase checkpoint (for example the
    end-of-induction marrow test) shows that phase is over; a day-8 test shows induction is
    under way when no treatment dates are recorded.
    """
    on = _date((doc.get("current") or {}).get("as_of")) or _date(doc.get("as_of"))
    order = _order(doc)
    events = sorted(getattr(record, "treatment", ()) or (), key=lambda e: e.start)
    started = [e for e in events if on is None or e.start <= on]
    current = finished = None
    since: dt.date | None = None
    basis = "no treatment dates or test checkpoints are recorded yet"
    if started:
        last = started[-1]
        if last.end is None or on is None or last.end >= on:
            current, since = last.phase, last.start
            basis = f"from the treatment dates: {last.phase.replace('_', ' ')} started " \
                    f"{last.start.isoformat()}"
        else:
            finished = last.phase
            basis = f"from the treatment dates: {last.phase.replace('_', ' ')} ended " \
                    f"{last.end.isoformat()}"
    for when, name in _checkpoints(doc, on):
        phase, ends = CHECKPOINTS[name]
        if since is not None and when < since:
            continue  # a checkpoint of an earlier phase
        if ends and current in (None, phase):
            current, finished = None, phase
            basis = f"{CHECKPOINT_WORDS[name]} was done on {when.isoformat()}"
        elif not ends and current is None and finished is None:
            current = phase
            basis = f"{CHECKPOINT_WORDS[name]} was done on {when.isoformat()}"
    if current:
        nxt = _after(current, order)
    elif finished:
        nxt = _after(finished, order)
    else:
        nxt = order[0] if order else None
    return PhaseNow(on, current, finished, nxt, basis)


def _group_words(group: str) -> str:
    return GROUP_WORDS.get(group, group.replace("_", " "))


def risk_lines(doc: Mapping[str, Any], adult: bool = False) -> list[str]:
    """The risk groups in plain words: the ones decided, the ones still open (with what
    they may become), and what a risk group means."""
    groups: list[str] = []
    open_: list[str] = []
    for r in doc.get("risk") or []:
        group = r.get("group")
        name = SCHEME_WORDS.get(str(r.get("scheme")), "another risk grouping")
        if group == "unknown":
            possible = [str(g) for g in r.get("possible_groups") or []]
            options = [_group_words(g) for g in possible if g not in _NOT_A_GROUP]
            if options:
                may_not_apply = any(g in _NOT_A_GROUP for g in possible)
                open_.append(f"{name[0].upper()}{name[1:]} is not known yet. It may be "
                             + " or ".join(options)
                             + (", or it may not apply" if may_not_apply else "") + ".")
            continue
        if group in _NOT_A_GROUP:
            continue
        groups.append(f"{_group_words(str(group))} ({name})")
    lines: list[str] = []
    if groups:
        lines.append("Risk group: " + "; ".join(groups) + ".")
    if len(groups) > 1:
        lines.append("Each grouping looks at different things, so the words can differ.")
    if open_:
        lines.extend(open_)
        lines.append("The missing results will settle it.")
    if lines:
        who = "you are" if adult else "your child is"
        lines.append("A risk group tells how strong the treatment needs to be. It is not a "
                     f"grade of how sick {who}. Ask the team what it means for the plan.")
    return lines


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


def _fits_age(s: Section, age: float | None) -> bool:
    if s.ages is None or age is None:
        return True
    lo, hi = s.ages
    return (lo is None or age >= lo) and (hi is None or age < hi + 1)


def _skip(t: Topic, s: Section, status: str, age: float | None) -> bool:
    """A section that does not fit: the pre-diagnosis advice once ALL is known, or figures
    for another age group."""
    if t.id == "when-to-call" and s.id == "before-diagnosis" and status == "ALL":
        return True
    return s.ages is not None and not _fits_age(s, age)


def personal_guide(record: Any, team_phone: str | None = None) -> Guide:
    """The sections that apply now to one patient (a record or a record file path)."""
    from allpath.pipeline import assess, assess_file

    phone = check_team_phone(team_phone)
    assessment = assess(record) if not isinstance(record, str | bytes) and \
        hasattr(record, "format") else assess_file(record)
    doc = assessment.to_dict()
    where = phase_now(assessment.record, doc)
    age = doc.get("age_years")
    age = float(age) if isinstance(age, int | float) else None
    intro: list[str] = []
    status = doc["diagnosis"]["status"]
    lineage = doc["diagnosis"].get("lineage")
    if status == "ALL":
        kind = {"B": "B-cell", "T": "T-cell"}.get(str(lineage), "")
        intro.append(f"The tests show {kind + ' ' if kind else ''}ALL.")
    else:
        intro.append("The tests are not finished yet, so the team cannot be sure of the "
                     "diagnosis.")
    intro.extend(risk_lines(doc, adult=age is not None and age >= 18))
    missing = [str(t) for t in doc.get("tests_to_order") or []]
    if missing:
        intro.append("Some test results are not in the record yet. Until they are, the plan "
                     "or the risk group may change. The care team's list: "
                     + "; ".join(missing) + ".")
    if status == "ALL":
        intro.append(_studies_line(assessment))
        intro.append(where.sentence())
    wanted = {p for p in (where.current, where.next) if p}
    under_way = where.current is not None or where.finished is not None
    chosen: list[Topic] = []
    for t in load_guide():
        if t.phases and not (set(t.phases) & wanted):
            continue
        if t.id in ("what-is-all", "types", "diagnosis", "no-stage") and under_way:
            continue
        if t.id in ("who-gets-it", "symptoms"):
            continue
        picked = []
        for s in t.sections:
            if t.id in ("treatment-phases", "questions"):
                if s.phases and not (set(s.phases) & wanted):
                    continue
            elif _skip(t, s, status, age):
                continue
            picked.append(s)
        if picked:
            chosen.append(Topic(t.id, t.title, tuple(picked), t.phases))
    return Guide(f"Your guide ({doc['patient_id']})", tuple(intro), tuple(chosen), phone,
                 ("S4", "S1", "S10"))


# --------------------------------------------------------------------------- rendering


def render(guide: Guide, fmt: str = "text") -> str:
    """Text or Markdown. Sources sit behind a link (Markdown footnotes) or, in plain text,
    after each topic, never inside the sentences."""
    citations = load_knowledge().citations
    md = fmt == "markdown"
    numbers: dict[str, int] = {}

    def num(c: str) -> int:
        return numbers.setdefault(c, len(numbers) + 1)

    out = [f"# {guide.title}" if md else guide.title.upper(), ""]

    def intro() -> None:
        if guide.intro:
            head = "About your child now"
            out.extend([f"## {head}" if md else head, "" if md else "-" * len(head)])
            out.extend([*guide.intro, ""])

    first_is_call = bool(guide.topics) and guide.topics[0].id == "when-to-call"
    if not first_is_call:
        intro()
    for i, t in enumerate(guide.topics):
        if i == 1 and first_is_call:
            intro()
        out += [f"## {t.title}" if md else t.title, "" if md else "-" * len(t.title)]
        topic_refs: list[int] = []
        for s in t.sections:
            refs = [num(c) for c in s.cite]
            text = section_text(s, guide.team_phone)
            if md:
                out += [text + "".join(f"[^{n}]" for n in refs), ""]
            else:
                out += [text, ""]
                topic_refs += [n for n in refs if n not in topic_refs]
        if not md and topic_refs:
            out += ["  Sources: " + ", ".join(str(n) for n in sorted(topic_refs)), ""]
    out += [f"*{GUIDE_DISCLAIMER}*" if md else GUIDE_DISCLAIMER, ""]
    out += ["## Sources" if md else "Sources", ""]
    for c, n in sorted(numbers.items(), key=lambda kv: kv[1]):
        ref = citations.get(c)
        text = ref.reference if ref else "(not in the bibliography)"
        url = f" {ref.urls[0]}" if ref and ref.urls else ""
        out.append(f"[^{n}]: {text}{url} ({c})" if md else f"  {n}. {text}{url} ({c})")
    return "\n".join(out).rstrip() + "\n"


def all_text(team_phone: str | None = None) -> str:
    """Every section's text as a family reads it."""
    return "\n".join(section_text(s, team_phone) for t in load_guide() for s in t.sections)
