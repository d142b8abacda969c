"""The family guide: cited plain-language topics, and a guide personalised to one record.

Topics live in ``knowledge/guide/topics.yaml`` (written in ALLPath's own words). "When to
call" comes first, with a space for the care team's 24-hour phone number. The personalised
guide uses the assessment (:func:`allpath.pipeline.assess`) for the diagnosis, the risk
groups (in plain words) and the tests still missing; it finds where treatment stands from
the record's treatment dates and recorded checkpoints (the prednisone-prophase response, day-8
and end-of-phase tests), never from the diagnosis date; it shows outlook figures only for the
patient's age group (the narrowest group that fits), speaks to an adult patient as "you", and
shows families only the sources listed as family-openable in the topics file (the full
citation trail stays in ``citations`` for the clinician).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from allpath.errors import Problem, RecordError, UnknownRuleError
from allpath.findings.mrd import unsettled_mrd
from allpath.knowledge import load_yaml
from allpath.outputs.assessment import DISCLAIMER, OVERTAKEN_NOTE
from allpath.rules.loader import load_knowledge

__all__ = ["ADULT_AGE", "GUIDE_DISCLAIMER", "NO_PHONE", "Guide", "PhaseNow", "Section", "Sign",
           "Topic", "all_text", "check_team_phone", "family_sources", "general_guide", "load_guide",
           "passed_time_points", "pending_lines", "personal_guide", "phase_now", "phase_word",
           "render", "risk_lines", "section_text", "topic"]

ADULT_AGE = 18.0  # from this age the personal guide speaks to the patient ("you")
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
    "prednisone_response": ("prophase", True),
    "day8": ("induction", False),
    "end_of_induction": ("induction", True),
    "end_of_consolidation": ("consolidation", True),
}
PHASE_WORDS = {
    "prophase": "the first steroid week (prophase)",
    "induction": "the first phase (induction)",
    "consolidation": "consolidation",
    "intensification": "intensification",
    "interim_maintenance": "interim maintenance",
    "delayed_intensification": "delayed intensification",
    "maintenance": "the long last phase (maintenance)",
    "transplant": "a stem cell transplant",
}
CHECKPOINT_WORDS = {
    "prednisone_response": "the blood test after the first steroid week (prophase)",
    "day8": "the day-8 blood test",
    "end_of_induction": "the marrow test at the end of induction",
    "end_of_consolidation": "the marrow test at the end of consolidation",
}
SCHEME_WORDS = {
    "nci_rome": "the first grouping by age and white cell count",
    "nci_treatment": "the grouping by age and white cell count used for treatment",
    "nccn_adult_genetics": "the adult risk group from the gene changes",
    "nccn_adult_t_genetics": "the adult T-cell risk group from the gene changes",
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
    "induction_failure": "the first treatment did not clear the leukemia well enough (the "
                         "team will talk about the next steps)",
    "ds_high": "the Down syndrome high-risk group", "ds_standard": "the Down syndrome "
                                                                  "standard-risk group",
}
_NOT_A_GROUP = (None, "unknown", "not_applicable", "not_eligible")
_PHONE = re.compile(r"[0-9+()\-. /]+(?:\s*(?:ext\.?|x)\s*[0-9]+)?", re.IGNORECASE)


# the risk grouping a family is told about, in order of preference: the one a treatment
# protocol for that patient uses (infant, T-cell, COG B-cell, adult), then the settled ones
MAIN_SCHEMES = ("infant_interfant06", "infant_nccn", "t_all_nccn_pediatric", "cog_pdq",
                "adult_risk_factors", "nccn_adult_genetics", "nccn_adult_t_genetics",
                "ukallxii_e2993",
                "nci_treatment", "nci_rome")
# what a missing input is, in family words, and what it can change
MISSING_WORDS: tuple[tuple[str, str], ...] = (
    ("steroid_pretreatment", "Did {who} take steroid medicine, such as prednisone, before "
                             "the diagnosis? Tell the team. It can change the group."),
    ("mrd.eoc", "The marrow test at the end of consolidation is still to come. Its result "
                "can change the group."),
    ("mrd.eoi", "The marrow test at the end of induction is still to come. Its result can "
                "change the group."),
    ("mrd.day8", "The blood test on day 8 of treatment is still to come. Its result can "
                 "change the group."),
    ("mrd", "A test for leftover leukemia cells (MRD) is still to come. Its result can "
            "change the group."),
    ("csf", "The spinal fluid test is not back yet. It shows if leukemia is in the fluid "
            "around the brain, and it can change the group."),
    ("genetics", "Gene tests on the leukemia cells are not back yet. They can change the "
                 "group."),
    ("prednisone_response", "The blood test after the first steroid week is not back yet. "
                            "It can change the group."),
)
# an MRD time point that was measured but whose result cannot settle the group, in family
# words: the test by its time point, then why (allpath.findings.mrd: too insensitive, or two
# lab methods on the same sample that disagree)
MRD_TEST_WORDS = {
    "mrd.day8_blood": "The blood test on day 8 of treatment",
    "mrd.eoi_marrow": "The marrow test at the end of induction",
    "mrd.eoc_marrow": "The marrow test at the end of consolidation",
}
UNSETTLED_WORDS = {
    "insufficient_sensitivity": "{test} was done. But the lab test could not measure low "
                                "enough to tell if a very small number of leukemia cells "
                                "was left. The team may repeat it with a more sensitive test. "
                                "That result can change the group.",
    "discordant": "{test} was done. Two lab methods checked the same sample and gave "
                  "different answers. The team will decide which answer to use. This can "
                  "change the group.",
}
# pending tests (the care team's list) in family words, by what they are (first match wins;
# an MRD or marrow test is named by its time point, so the same test is listed once)
PENDING_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("medication history", "steroid"), "the question about medicines taken before the "
                                        "diagnosis"),
    (("second bone-marrow",), "a second bone marrow test"),
    (("on the same marrow",), "more tests on the same marrow sample"),
    (("sensitivity",), "a repeat of the marrow test at the end of induction with a more "
                       "sensitive lab test"),
    (("day 8",), "the blood test on day 8 of treatment"),
    (("end of induction",), "the marrow test at the end of induction"),
    (("end of consolidation",), "the marrow test at the end of consolidation"),
    (("relapse block",), "the marrow test after the first block of relapse treatment"),
    (("csf", "lumbar puncture", "spinal"), "the spinal fluid test (spinal tap)"),
    (("fish", "karyotype", "rt-pcr", "ngs", "dna index", "copy-number", "fusion",
      "cytogenetic"), "gene tests on the leukemia cells"),
    (("prednisone prophase",), "the blood test after the first steroid week"),
    (("cbc", "complete blood count", "blood smear"), "a check of the blood count"),
    (("imaging", "lymphoblastic mass"), "an exam and scans to look for lumps"),
    (("scrotal", "testicular"), "an ultrasound of the testicles and a small sample "
                                "(biopsy)"),
    (("mrd",), "the test for leftover leukemia cells (MRD)"),
    (("marrow",), "a bone marrow test"),
    (("tpmt", "nudt15"), "a gene test that helps set the dose of 6-MP"),
)
PENDING_OTHER = "one more test (ask your team which one)"
# a time-point test that a more exact one of the same time point replaces in the list
PENDING_REPLACED_BY = {
    "the marrow test at the end of induction": "a repeat of the marrow test at the end of "
                                               "induction with a more sensitive lab test",
}
# MRD time points by missing fact (or words of the test), and when the time point has
# passed: its result is then "not in the record", never "still to come". (phase, 1): once
# that phase has ended; (phase, 2): once the phase after it is under way
TIME_POINTS: tuple[tuple[str, tuple[str, ...], tuple[str, int]], ...] = (
    ("day8", ("mrd.day8", "day 8"), ("induction", 1)),
    ("eoi", ("mrd.eoi", "end of induction"), ("induction", 2)),
    ("eoc", ("mrd.eoc", "end of consolidation"), ("consolidation", 2)),
)
TIME_POINT_WORDS = {
    "day8": "the blood test on day 8 of treatment",
    "eoi": "the marrow test at the end of induction",
    "eoc": "the marrow test at the end of consolidation",
}
SETTLED_BASIS = {
    "nci_rome": "age and the first white cell count",
    "nci_treatment": "age and the first white cell count",
    "nccn_adult_genetics": "the gene changes",
    "nccn_adult_t_genetics": "the gene changes",
    "ukallxii_e2993": "the first white cell count",
}
PH_POSITIVE = ("BCR::ABL1", "BCR-ABL1", "Ph+")
# where a confirmed relapse was found (the assessment's relapse.site), in family words
RELAPSE_SITE_WORDS = {
    "marrow": "the bone marrow",
    "combined": "the bone marrow and another part of the body",
    "isolated_cns": "the spinal fluid (the brain and spinal cord)",
    "isolated_testicular": "a testicle",
    "isolated_extramedullary": "outside the bone marrow (the spinal fluid and a testicle)",
}
_ORDINALS = {2: "second", 3: "third", 4: "fourth"}
# guide topics (by their phases) that speak to treatment after a relapse: immunotherapy and
# CAR-T, and stem cell transplant (NCCN [S1, S2]; fact sheet 5.5)
AFTER_RELAPSE_PHASES = ("immunotherapy", "car_t", "transplant")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


@dataclass(frozen=True)
class Sign:
    """One "When to call" sign: its words in the section, the triage symptom code (or the
    temperature in °C) it corresponds to, and the advice the guide gives for it
    (``age_years``: the age the advice is written for, when it is one age group's)."""

    text: str
    advice: str
    symptom: str | None = None
    temperature: float | None = None
    age_years: float | None = None


@dataclass(frozen=True)
class Section:
    id: str
    text: str
    cite: tuple[str, ...]
    phases: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    ages: tuple[float | None, float | None] | None = None  # figures for this age group
    as_of: str | None = None  # date of the figures
    adult: str | None = None  # the same section for an adult patient ("you")
    audience: str | None = None  # "child": not for an adult patient
    advice: str | None = None  # the urgency a "when to call" section gives
    signs: tuple[Sign, ...] = ()
    for_ages: tuple[float | None, float | None] | None = None  # only for this age group


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    sections: tuple[Section, ...]
    phases: tuple[str, ...] = ()


def section_text(section: Section, team_phone: str | None = None,
                 adult: bool = False) -> str:
    """The section's text as a family (or, with ``adult``, an adult patient) reads it, with
    the team's number filled in."""
    text = section.adult if adult and section.adult else section.text
    if "{team_phone}" not in text:
        return text
    line = (f"Your team's 24-hour phone number is {team_phone}." if team_phone
            else NO_PHONE)
    return text.replace("{team_phone}", line)


@lru_cache(maxsize=1)
def family_sources() -> frozenset[str]:
    """Bibliography ids a family can open (listed in the topics file)."""
    return frozenset(str(c) for c in load_yaml("guide/topics.yaml")["family_sources"])


def _sources(ids: tuple[str, ...]) -> list[dict[str, Any]]:
    """The family-openable sources among ``ids``, with their reference and address."""
    citations = load_knowledge().citations
    out: list[dict[str, Any]] = []
    for c in ids:
        ref = citations.get(c)
        if c not in family_sources() or ref is None:
            continue
        out.append({"id": c, "reference": _reference(ref.reference, ref.urls),
                    "url": ref.urls[0] if ref.urls else None})
    return out


def _reference(text: str, urls: tuple[str, ...] | list[str]) -> str:
    """The reference without addresses written into it (the address is given once)."""
    for u in urls:
        text = text.replace(u, "")
    return " ".join(text.replace(" ;", ";").split()).rstrip(" ;,-—")


@dataclass(frozen=True)
class Guide:
    title: str
    intro: tuple[str, ...]
    topics: tuple[Topic, ...]
    team_phone: str | None = None
    intro_cite: tuple[str, ...] = field(default=())
    adult: bool = False  # written to an adult patient ("you")

    def text(self, s: Section) -> str:
        return section_text(s, self.team_phone, self.adult)

    def to_dict(self) -> dict[str, Any]:
        def section(s: Section) -> dict[str, Any]:
            out: dict[str, Any] = {"id": s.id, "text": self.text(s),
                                   "citations": list(s.cite), "sources": _sources(s.cite)}
            if s.ages is not None:
                out["ages"] = list(s.ages)
            if s.as_of is not None:
                out["as_of"] = s.as_of
            if s.advice is not None:
                out["advice"] = s.advice
                out["signs"] = [{"text": g.text, "advice": g.advice, "symptom": g.symptom,
                                 "temperature_c": g.temperature} for g in s.signs]
            return out

        return {
            "format": "allpath.guide/1",
            "title": self.title,
            "audience": "adult patient" if self.adult else "family",
            "team_phone": self.team_phone,
            "intro": list(self.intro),
            "intro_citations": list(self.intro_cite),
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


def _sign(value: Mapping[str, Any], section_advice: str | None) -> Sign:
    temp = value.get("temperature")
    age = value.get("age_years")
    return Sign(text=str(value["text"]), advice=str(value.get("advice") or section_advice),
                symptom=str(value["symptom"]) if value.get("symptom") else None,
                temperature=float(temp) if temp is not None else None,
                age_years=float(age) if age is not None else None)


def _flat(value: Any) -> str | None:
    return " ".join(str(value).split()) if value else None


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
                    as_of=str(s["as_of"]) if s.get("as_of") is not None else None,
                    adult=_flat(s.get("adult")), audience=s.get("audience"),
                    advice=s.get("advice"),
                    signs=tuple(_sign(g, s.get("advice")) for g in s.get("signs") or ()),
                    for_ages=_ages(s.get("for_ages")))
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


def family_date(day: dt.date) -> str:
    """A date as a family writes it: "2 July 2024"."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class PhaseNow:
    """Where treatment stands on ``on``, and why (treatment dates or a recorded checkpoint)."""

    on: dt.date | None
    current: str | None
    finished: str | None
    next: str | None
    basis: str

    def sentence(self, adult: bool = False) -> str:
        when = f"As of {family_date(self.on)}, " if self.on else ""
        who = "you are" if adult else "your child is"
        if self.current:
            out = f"{when}{who} in {phase_word(self.current)}."
        elif self.finished:
            out = f"{when}{phase_word(self.finished)} has ended."
        else:
            out = f"{when}treatment has not started yet."
        if self.next:
            out += f" The next phase is usually {phase_word(self.next)}."
        return out[0].upper() + out[1:] + f" This comes from {self.basis}."


def passed_time_points(where: PhaseNow) -> frozenset[str]:
    """The MRD time points (``TIME_POINTS`` keys) whose time has passed, from where
    treatment stands: the day-8 test once induction has ended, the end-of-induction test
    once consolidation is under way, the end-of-consolidation test once a later phase is."""
    rank = {p: i for i, p in enumerate(PHASE_ORDER)}
    if where.current in rank:
        progress = 2 * rank[str(where.current)]
    elif where.finished in rank:
        progress = 2 * rank[str(where.finished)] + 1
    else:
        return frozenset()
    return frozenset(key for key, _, (phase, step) in TIME_POINTS
                     if progress >= 2 * rank[phase] + step)


def _time_point(text: str) -> str | None:
    low = text.lower()
    return next((key for key, marks, _ in TIME_POINTS if any(m in low for m in marks)), None)


def phase_word(phase: str) -> str:
    return PHASE_WORDS.get(phase, phase.replace("_", " "))


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):  # a result timed to the minute (a datetime is a date
        return value.date()            # too, and cannot be compared with one; review HH)
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
    if phase == "prophase":  # a plan without a prophase step goes on with induction
        return "induction" if "induction" in order else (order[0] if order else None)
    return None


def _checkpoints(record: Any, doc: Mapping[str, Any],
                 on: dt.date | None) -> list[tuple[dt.date, str]]:
    """Checkpoints with a recorded date (the prednisone-prophase response, MRD time points,
    response checkpoints), oldest first."""
    seen: set[tuple[dt.date, str]] = set()
    for m in (doc.get("mrd") or {}).get("series") or []:
        when, name = _date(m.get("date")), m.get("timepoint")
        if when and name in CHECKPOINTS:
            seen.add((when, str(name)))
    for r in doc.get("response") or []:
        when, name = _date(r.get("date")), r.get("checkpoint")
        if when and name in CHECKPOINTS:
            seen.add((when, str(name)))
    for o in getattr(record, "observations", ()) or ():
        when = _date(getattr(o, "time", None))
        if when and getattr(o, "code", None) == "prednisone_response":
            seen.add((when, "prednisone_response"))  # measured after the prophase week
    return sorted(p for p in seen if on is None or p[0] <= on)


def phase_now(record: Any, doc: Mapping[str, Any]) -> PhaseNow:
    """Current (or just-finished) and next phase from treatment dates and checkpoints.

    The reference date is the newest date in the record (``current.as_of`` of the
    assessment), not the diagnosis date. A treatment event that has started and not ended
    gives the current phase; a later recorded end-of-phase checkpoint (the prednisone
    response after the prophase week, the end-of-induction marrow test) shows that phase is
    over; a day-8 test shows induction is under way when no treatment dates are recorded.
    """
    on = _date((doc.get("current") or {}).get("as_of")) or _date(doc.get("as_of"))
    order = _order(doc)
    events = sorted(getattr(record, "treatment", ()) or (), key=lambda e: e.start)
    started = [e for e in events if on is None or e.start <= on]
    current = finished = None
    since: dt.date | None = None
    basis = "the record: no treatment dates or test checkpoints are recorded yet"
    if started:
        last = started[-1]
        since = last.start  # a checkpoint before it belongs to an earlier phase
        if last.end is None or on is None or last.end >= on:
            current = last.phase
            basis = (f"the treatment dates: {phase_word(last.phase)} started "
                     f"{family_date(last.start)}")
        else:
            finished = last.phase
            basis = (f"the treatment dates: {phase_word(last.phase)} ended "
                     f"{family_date(last.end)}")
    rank = {p: i for i, p in enumerate(PHASE_ORDER)}
    for when, name in _checkpoints(record, doc, on):
        phase, ends = CHECKPOINTS[name]
        if since is not None and when < since:
            continue  # a checkpoint of an earlier phase
        if finished is not None and rank.get(phase, 0) < rank.get(finished, 0):
            continue  # a later phase has already ended
        if ends and current in (None, phase):
            current, finished = None, phase
            basis = f"{CHECKPOINT_WORDS[name]}, done on {family_date(when)}"
        elif not ends and current is None and (
                finished is None or rank.get(finished, 0) < rank.get(phase, 0)):
            current, finished = phase, None
            basis = f"{CHECKPOINT_WORDS[name]}, done on {family_date(when)}"
    if current:
        nxt = _after(current, order)
    elif finished:
        nxt = _after(finished, order)
    else:
        nxt = order[0] if order else None
    return PhaseNow(on, current, finished, nxt, basis)


def _group_words(group: str) -> str:
    return GROUP_WORDS.get(group, group.replace("_", " "))


def _missing_words(missing: list[str], adult: bool,
                   unsettled: Mapping[str, str] | None = None,
                   passed: frozenset[str] = frozenset()) -> list[str]:
    """Each missing input in family words, once, with what it can change. An MRD test that
    was done but cannot settle the group (``unsettled``: fact -> why) is said to be done,
    with why it cannot, never "still to come"; a test whose time point has passed
    (``passed``, :func:`passed_time_points`) is said to be missing from the record."""
    out: list[str] = []
    for m in missing:
        why = (unsettled or {}).get(m)
        point = _time_point(m)
        if why in UNSETTLED_WORDS and m in MRD_TEST_WORDS:
            line = UNSETTLED_WORDS[why].format(test=MRD_TEST_WORDS[m])
        elif point in passed:
            line = (f"The result of {TIME_POINT_WORDS[str(point)]} is not in the record. "
                    "Ask the team for it. It can change the group.")
        else:
            who = "you" if adult else "your child"
            line = next((words.format(who=who) for key, words in MISSING_WORDS
                         if m.startswith(key)),
                        "Some test results are not back yet. They can change the group.")
        if line not in out:
            out.append(line)
    return out


def risk_lines(doc: Mapping[str, Any], adult: bool = False,
               relapsed: bool = False, unsettled: Mapping[str, str] | None = None,
               passed: frozenset[str] = frozenset()) -> list[str]:
    """One risk group in plain words: the grouping a treatment protocol for this patient
    uses (``MAIN_SCHEMES``), or, while that one is open, the most settled one for now; what
    is still missing in plain words and what it can change; and what a risk group means.
    After a relapse (``relapsed``) the group is named as the one set at diagnosis, and the
    front-line results still missing are not listed (they no longer change the plan).
    ``unsettled`` maps an MRD fact that was measured but cannot be read to why
    (``insufficient_sensitivity`` or ``discordant``, :attr:`MrdReading.why_unknown`);
    ``passed`` holds the MRD time points whose time has passed (:func:`passed_time_points`)."""
    by_scheme = {str(r.get("scheme")): r for r in doc.get("risk") or []}
    applicable = [by_scheme[s] for s in MAIN_SCHEMES
                  if s in by_scheme and by_scheme[s].get("group") not in
                  ("not_applicable", "not_eligible", None)]
    if not applicable:
        return []
    main = applicable[0]
    lines: list[str] = []
    if relapsed:
        if main.get("group") != "unknown":
            lines.append(f"At diagnosis, the risk group was {_group_words(str(main['group']))}."
                         " After a relapse, the team looks at the risk again.")
    elif main.get("group") != "unknown":
        lines.append(f"Risk group: {_group_words(str(main['group']))}.")
    else:
        settled = next((r for r in applicable[1:] if r.get("group") != "unknown"), None)
        first = "The risk group is not final yet."
        if settled is not None:
            basis = SETTLED_BASIS.get(str(settled.get("scheme")), "the results so far")
            first += f" So far, from {basis}, it is {_group_words(str(settled['group']))}."
        lines.append(first)
        missing = [str(m) for m in main.get("missing") or []]
        lines.extend(_missing_words(missing, adult, unsettled, passed))
        expected = main.get("provisional_group")
        options = [_group_words(str(g)) for g in main.get("possible_groups") or []
                   if g not in _NOT_A_GROUP]
        if expected and missing == ["steroid_pretreatment"]:
            lines.append("If the answer is no, the final group is expected to be "
                         f"{_group_words(str(expected))}.")
        elif settled is None and len(options) > 1:
            lines.append("It may be " + ", ".join(options[:-1]) + " or " + options[-1]
                         + ".")
    who = "you are" if adult else "your child is"
    lines.append("A risk group tells how strong the treatment needs to be. It is not a "
                 f"grade of how sick {who}. Ask the team what it means for the plan.")
    return lines


def _relapse_on(doc: Mapping[str, Any]) -> dt.date | None:
    """The date of the latest confirmed relapse (this one, else the last earlier one)."""
    rel = doc.get("relapse") or {}
    if rel.get("detected") is True:
        return _date(rel.get("date"))
    previous = rel.get("previous") or []
    return _date(previous[-1].get("date")) if previous else None


def relapse_lines(doc: Mapping[str, Any], adult: bool = False) -> list[str]:
    """A relapse in plain words: found (when, where, which time), suspected (more tests
    needed), or over (remission reached again)."""
    rel = doc.get("relapse") or {}
    who = "you" if adult else "your child"
    lines: list[str] = []
    when = _date(rel.get("date"))
    number = rel.get("number")
    # the B-cell immunotherapies (blinatumomab, inotuzumab, CAR-T) do not treat T-cell ALL
    means = ("new medicines or a stem cell transplant"
             if (doc.get("diagnosis") or {}).get("lineage") == "T"
             else "new medicines, immunotherapy or a stem cell transplant")
    plan = (f"Treatment after a relapse is not the same as the first treatment. It may use "
            f"{means}. Your team will talk with you about the plan. Ask what comes next, and "
            "when.")
    outlook = ("After a relapse, the outlook depends on when and where the leukemia came "
               "back, and on how it responds to treatment. The numbers for first treatment "
               f"do not apply. Ask your team what it means for {who}.")
    if rel.get("detected") is True and when is not None:
        where = RELAPSE_SITE_WORDS.get(str(rel.get("site")), "the body")
        text = (f"The leukemia has come back. This is called a relapse. Tests found it on "
                f"{family_date(when)}, in {where}.")
        if isinstance(number, int) and number > 1:
            text += (f" This is the {_ORDINALS.get(number, str(number) + 'th')} time it has "
                     "come back.")
        lines.append(text)
        again = _date(rel.get("remission_after"))
        if again is not None:
            lines.append("Then it was under control again. A marrow test showed this on "
                         f"{family_date(again)}. This is called remission.")
        persisting = rel.get("not_in_remission") or []
        last = _date(persisting[-1].get("date")) if persisting and again is None else None
        if last is not None:
            lines.append(f"A marrow test on {family_date(last)}, after the relapse, still "
                         "found leukemia cells. This means it is not in remission yet.")
        following = rel.get("suspected_next") or {}
        later = _date(following.get("date"))
        if later is not None:
            lines.append(f"A test on {family_date(later)} may show that the leukemia has "
                         "come back again. More tests are needed to be sure. Ask your team "
                         "which test comes next, and when you will know.")
        if again is None or later is not None:
            lines.append(plan)
            selection = (doc.get("roadmap") or {}).get("selection") or {}
            if selection.get("rule_id") == "roadmap.rr.b_cd19_negative":
                # the relapse lost CD19 (labels: blinatumomab and CAR T-cells need it;
                # inotuzumab aims at CD22; review HH)
                lines.append(
                    "The leukemia cells at relapse no longer carry a marker called CD19. "
                    "Some medicines aim at that marker (blinatumomab and CAR T-cells), so "
                    "they may not work now. The plan points to a medicine that aims at "
                    "another marker, CD22 (inotuzumab). Ask your team about it.")
        lines.append(outlook)
    elif when is not None and (rel.get("suspected") or rel.get("detected") is None):
        lines.append(f"A test on {family_date(when)} may show that the leukemia has come "
                     "back (a relapse). More tests are needed to be sure. Ask your team "
                     "which test comes next, and when you will know.")
    elif "mrd_recurrence" in {a.get("id") for a in doc.get("alerts") or []}:
        # MRD back after a negative result, under the relapse level (alert mrd_recurrence,
        # PEMMARAJU-2017-MRD; review HH)
        series = (doc.get("mrd") or {}).get("series") or []
        latest = _date(series[-1].get("date")) if series else None
        on = f" on {family_date(latest)}" if latest else ""
        lines.append(f"A test{on} found a few leukemia cells again, after an earlier test "
                     "found none. This is not called a relapse. Your team will likely do "
                     "more tests soon, and may change the plan. Ask what comes next, and "
                     "when you will know.")
    return lines


def refractory_line(doc: Mapping[str, Any]) -> str | None:
    """Less than remission at the latest front-line checkpoint, in plain words (the first
    treatment did not clear the leukemia: the plan changes, NCCN [S1, S2]; fact sheet
    4.1.7), or None."""
    if (doc.get("relapse") or {}).get("detected"):
        return None
    decided = [r for r in doc.get("response") or [] if r.get("status") not in
               (None, "unknown", "not_assessable")]
    if not decided or decided[-1].get("status") not in ("refractory", "PD"):
        return None
    when = _date(decided[-1].get("date"))
    on = f" on {family_date(when)}" if when else ""
    return (f"The marrow test{on} still found leukemia cells. This means the leukemia is not "
            "in remission yet. The plan will change. Your team will talk with you about the "
            "next treatment.")


def pending_lines(doc: Mapping[str, Any], decided_by_team: frozenset[str] = frozenset(),
                  passed: frozenset[str] = frozenset()) -> list[str]:
    """The tests still missing, grouped in family words, each once (an MRD or marrow test by
    its time point; a more sensitive repeat replaces the plain test of that time point).
    The tests of an MRD time point in ``decided_by_team`` (two lab methods on one sample
    disagree: the team decides which stands) are not "still to come"; nor is a test whose
    time point has passed (``passed``): its result is "not in the record"."""
    decided = {_time_point(f) for f in decided_by_team} - {None}
    groups: list[str] = []
    absent: list[str] = []
    for test in (str(t) for t in doc.get("tests_to_order") or []):
        low = test.lower()
        point = _time_point(test)
        if point in decided and "sensitivity" not in low:
            continue
        if point in passed and "sensitivity" not in low:
            words = TIME_POINT_WORDS[str(point)]
            if words not in absent:
                absent.append(words)
            continue
        words = next((w for keys, w in PENDING_WORDS if any(k in low for k in keys)),
                     PENDING_OTHER)
        if words not in groups:
            groups.append(words)
    # an MRD time point the assessment no longer orders because it has passed (a later one
    # was measured or came due): its result is not in the record either
    for m in doc.get("missing") or []:
        point = (_time_point(str(m.get("test") or ""))
                 if m.get("order") is False and m.get("note") == OVERTAKEN_NOTE else None)
        if point is not None and point not in decided:
            words = TIME_POINT_WORDS[str(point)]
            if words not in absent:
                absent.append(words)
    groups = [w for w in groups if PENDING_REPLACED_BY.get(w) not in groups]
    lines: list[str] = []
    if groups:
        lines.append("Some results are not in yet. Until they are, the plan or the risk "
                     f"group may change. Still to come: {_listed(groups)}.")
    if absent:
        lines.append(f"Not in the record: the result of {_listed(absent)}. Ask your team "
                     "for it.")
    return lines


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _studies_line(assessment: Any) -> str:
    """Research studies in plain words: only the trial matcher's own "possible" count (every
    stated requirement met), and that the rest were not checked."""
    from allpath.trials import bundled_trials, match_trials

    report = match_trials(assessment, bundled_trials(), limit=0)
    fit = report.count("possible")
    ask = ("Ask your team which studies your hospital takes part in. Joining is always "
           "your choice.")
    if fit == 0:
        return ("Research studies (clinical trials) may be open. We could not confirm that "
                "any one fits, because most need checks only the team can do. " + ask)
    return (f"{fit} open research {'study meets' if fit == 1 else 'studies meet'} every "
            "requirement we could check. Many others were not checked. Only the study team "
            "can say for sure. " + ask)


def _fits_age(s: Section, age: float | None) -> bool:
    return _in_ages(s.ages, age)


def _in_ages(ages: tuple[float | None, float | None] | None, age: float | None) -> bool:
    """Whether ``age`` falls in ``[first, last]`` years (the last year included); an open
    end or an unknown age fits."""
    if ages is None or age is None:
        return True
    lo, hi = ages
    return (lo is None or age >= lo) and (hi is None or age < hi + 1)


def _width(s: Section) -> float:
    lo, hi = s.ages or (None, None)
    return (hi if hi is not None else 200.0) - (lo if lo is not None else 0.0)


def _skip(t: Topic, s: Section, status: str, age: float | None, adult: bool) -> bool:
    """A section that does not fit: the pre-diagnosis advice once ALL is known, a child's
    section for an adult, or figures for another age group (where age groups overlap, only
    the narrowest that fits is kept)."""
    if s.id == "before-diagnosis" and status == "ALL":
        return True
    if adult and s.audience == "child":
        return True
    if not _in_ages(s.for_ages, age):
        return True  # advice written for another age group (a baby's temperature, nappies)
    if s.ages is None:
        return False
    if age is None:
        return False
    if not _fits_age(s, age):
        return True
    narrowest = min((o for o in t.sections if o.ages is not None and _fits_age(o, age)),
                    key=_width)
    return narrowest is not s


def _ph_positive(doc: Mapping[str, Any]) -> bool:
    subtype = (doc.get("diagnosis") or {}).get("subtype") or {}
    key = str(subtype.get("key") or "") if isinstance(subtype, Mapping) else str(subtype)
    return any(k in key for k in PH_POSITIVE)


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
    adult = age is not None and age >= ADULT_AGE
    intro: list[str] = []
    status = doc["diagnosis"]["status"]
    lineage = doc["diagnosis"].get("lineage")
    if status == "ALL":
        kind = {"B": "B-cell", "T": "T-cell"}.get(str(lineage), "")
        intro.append(f"The tests show {kind + ' ' if kind else ''}ALL.")
    else:
        intro.append("The tests are not finished yet, so the team cannot be sure of the "
                     "diagnosis.")
    relapse_on = _relapse_on(doc)
    intro.extend(relapse_lines(doc, adult=adult))
    unsettled = {name: str(reading.why_unknown) for name, reading in unsettled_mrd(
        assessment.timeline, assessment.knowledge.registry, assessment.knowledge).items()}
    passed = passed_time_points(where)
    intro.extend(risk_lines(doc, adult=adult, relapsed=relapse_on is not None,
                            unsettled=unsettled, passed=passed))
    intro.extend(pending_lines(doc, frozenset(n for n, why in unsettled.items()
                                              if why == "discordant"), passed))
    # after a relapse, the front-line phases in progress are over unless the record has
    # treatment that started after it
    since_relapse = relapse_on is None or any(
        e.start > relapse_on for e in getattr(assessment.record, "treatment", ()) or ())
    refractory = refractory_line(doc)
    if status == "ALL":
        intro.append(_studies_line(assessment))
        if refractory is not None:
            intro.append(refractory)  # not "the next phase is usually ..."
        elif relapse_on is None or since_relapse:
            intro.append(where.sentence(adult))
        else:
            intro.append("The record shows no treatment since the relapse yet. This is as "
                         f"of {family_date(where.on or relapse_on)}.")
    wanted = {p for p in (where.current, where.next) if p} if since_relapse else set()
    if relapse_on is not None or refractory is not None:
        wanted.update(AFTER_RELAPSE_PHASES if doc["diagnosis"].get("lineage") != "T"
                      else ("transplant",))
    if _ph_positive(doc):
        wanted.add("targeted_therapy")
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
            if t.id in ("treatment-phases", "questions") and s.phases and \
                    not (set(s.phases) & wanted):
                continue
            if _skip(t, s, status, age, adult):
                continue
            if t.id == "outlook" and relapse_on is not None:
                continue  # the figures describe first treatment; said in words instead
            picked.append(s)
        if picked:
            chosen.append(Topic(t.id, t.title, tuple(picked), t.phases))
    title = "Your guide" if adult else "Your family's guide"
    return Guide(f"{title} ({doc['patient_id']})", tuple(intro), tuple(chosen), phone,
                 ("S4", "S1", "S10", "NCI-PDQ-CHILD-ALL"), adult)


# --------------------------------------------------------------------------- rendering


def render(guide: Guide, fmt: str = "text") -> str:
    """Text or Markdown. Sources a family can open sit behind a link (Markdown footnotes)
    or, in plain text, after each topic, never inside the sentences; no internal ids."""
    citations = load_knowledge().citations
    md = fmt == "markdown"
    numbers: dict[str, int] = {}

    def num(c: str) -> int:
        return numbers.setdefault(c, len(numbers) + 1)

    out = [f"# {guide.title}" if md else guide.title.upper(), ""]

    def intro() -> None:
        if guide.intro:
            head = "About you now" if guide.adult else "About your child now"
            out.extend([f"## {head}" if md else head, "" if md else "-" * len(head)])
            for line in guide.intro:  # one paragraph each, in Markdown too
                out.extend([line, ""])

    first_is_call = bool(guide.topics) and guide.topics[0].id == "when-to-call"
    if not first_is_call:
        intro()
    for i, t in enumerate(guide.topics):
        if i == 1 and first_is_call:
            intro()
        out += [f"## {t.title}" if md else t.title, "" if md else "-" * len(t.title)]
        topic_refs: list[int] = []
        for s in t.sections:
            refs = [num(c) for c in s.cite if c in family_sources() and c in citations]
            text = guide.text(s)
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
        ref = citations[c]
        text = _reference(ref.reference, ref.urls)
        url = f" {ref.urls[0]}" if ref.urls else ""
        out.append(f"[^{n}]: {text}{url}" if md else f"  {n}. {text}{url}")
    return "\n".join(out).rstrip() + "\n"


def all_text(team_phone: str | None = None) -> str:
    """Every section's text as a family reads it, and each adult version."""
    return "\n".join(section_text(s, team_phone, adult) for t in load_guide()
                     for s in t.sections for adult in (False, True)
                     if not adult or s.adult)
