"""Dated calendar of a template: phases, drug days, procedures and checkpoints; ``.ics`` export.

Phases follow each other without overlap: each starts the day after the previous one ends.
A phase with ``until`` ends the day before the anniversary (``years`` after the start or end of
its anchor phase); if that lies before its own start it lasts one day. A phase with a
sex-specific length (``until_by_sex``) uses the patient's sex when it is known. Cycle phases
repeat their components and procedures every ``cycle_days``; the last cycle may be cut short.

Every item carries its protocol day (day 1 = the phase's first day). Calendar events carry a
real DTSTAMP and a SEQUENCE that grows with each export, so a re-import replaces the earlier
events; UIDs are opaque (a hash, never the record id).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from icalendar import Calendar, Event

from allpath.roadmap.templates import Component, Phase, Procedure, Template, Until, expand_days

__all__ = ["CalendarItem", "PhaseDates", "component_offsets", "day_by_day", "norm_name",
           "opaque_uid", "phase_names", "plan_phases", "procedure_offsets", "to_ics"]


@dataclass(frozen=True, slots=True)
class PhaseDates:
    phase: Phase
    index: int
    start: dt.date
    end: dt.date  # inclusive
    # the template the phase comes from when a settled decision continued on another one
    template_id: str | None = None
    # where the template alone would have started it, when a recorded start moved it
    planned_start: dt.date | None = None

    @property
    def length_days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True, slots=True)
class CalendarItem:
    """One dated entry. ``kind``: phase, drug, procedure or checkpoint."""

    date: dt.date
    kind: str
    title: str
    phase_id: str
    phase_day: int  # offset from the phase start (0-based); protocol day = phase_day + 1
    uid_key: str
    detail: str = ""
    end: dt.date | None = None  # inclusive, phases only
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def protocol_day(self) -> int:
        return self.phase_day + 1


def _add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _until(p: Phase, sex: str | None) -> Until | None:
    if sex in ("male", "female") and sex in p.until_by_sex:
        return p.until_by_sex[sex]
    return p.until


# for a phase laid out on its dates: the template to continue on and the phase to continue
# at, or (None, "end") when a settled decision ends the plan there
Follow = Callable[[PhaseDates], tuple[Template | None, str] | None]


def phase_names(p: Phase) -> frozenset[str]:
    """The names a treatment event may give a phase: its id, the id without a trailing cycle
    number (``blinatumomab`` for ``blinatumomab-1``), its kind or its title, normalised."""
    return frozenset(norm_name(x) for x in (p.id, _NUMBERED.sub("", p.id), p.kind, p.title))


_NUMBERED = re.compile(r"[-_ ]\d+$")


def norm_name(text: str) -> str:
    """A phase name as the record and the templates compare them."""
    return text.strip().lower().replace("-", "_").replace(" ", "_")


def plan_phases(template: Template, start: dt.date, sex: str | None = None,
                follow: Follow | None = None,
                recorded: Sequence[tuple[str, dt.date, dt.date | None]] = ()
                ) -> list[PhaseDates]:
    """Start and end dates of every phase, in order, never overlapping.

    ``sex`` (male/female) picks a phase's sex-specific length; unknown uses the default.
    ``follow`` gives, for a phase whose decision the record already settles towards another
    template, that template and the phase to continue at: the plan then goes on with those
    phases instead of this template's remaining ones.

    ``recorded`` (normalised phase name, start, end or None), oldest first: the treatment
    events of the record. A phase starts on the recorded start of the next event, in order,
    that names it (after the previous phase's start), so a phase begun late or early moves the
    rest of the plan with it and its days count from the day it really began; the template's
    own date is kept as ``planned_start``. An earlier phase that the recorded start cuts short
    ends the day before. A fixed-length phase whose event gives an end ends then (an
    induction prolonged until the marrow recovered), and the next phase follows it.
    """
    out: list[PhaseDates] = []
    by_id: dict[str, PhaseDates] = {}
    cursor = start
    queue: list[tuple[Phase, str | None]] = [(p, None) for p in template.phases]
    events = list(recorded)
    next_event = 0
    i = -1
    while queue:
        p, source = queue.pop(0)
        i += 1
        planned: dt.date | None = None
        names = phase_names(p)
        # the next event naming this phase, after the previous phase began and before this
        # phase's planned span is over (a later one is taken to be a later phase of the same
        # name or kind: cycle 2 of an immunotherapy recorded under its kind never moves cycle 1)
        span_end = (cursor + dt.timedelta(days=p.length_days - 1)
                    if p.length_days is not None else None)
        hit = next((k for k in range(next_event, len(events)) if events[k][0] in names
                    and (not out or events[k][1] > out[-1].start)
                    and (span_end is None or events[k][1] <= span_end)), None)
        if hit is not None:
            next_event = hit + 1
            if events[hit][1] != cursor:
                planned, cursor = cursor, events[hit][1]
                if out and out[-1].end >= cursor:  # begun before the last one ended
                    prev = out[-1]
                    out[-1] = by_id[prev.phase.id] = replace(
                        prev, end=cursor - dt.timedelta(days=1))
        until = _until(p, sex)
        if p.length_days is not None:
            end = cursor + dt.timedelta(days=p.length_days - 1)
        else:
            assert until is not None
            if until.anchor == p.id:
                anchor_day = cursor
            else:
                a = by_id[until.anchor]
                anchor_day = a.start if until.at == "start" else a.end + dt.timedelta(days=1)
            end = max(cursor, _add_years(anchor_day, until.years) - dt.timedelta(days=1))
        if hit is not None and p.length_days is not None:
            ended = events[hit][2]
            if ended is not None and ended >= cursor:
                end = ended
        pd = PhaseDates(p, i, cursor, end, source, planned)
        out.append(pd)
        by_id[p.id] = pd
        cursor = end + dt.timedelta(days=1)
        nxt = follow(pd) if follow is not None else None
        if nxt is not None:
            other, at = nxt
            if other is None:  # a settled decision ends the plan after this phase
                break
            ids = [ph.id for ph in other.phases]
            queue = [(ph, other.id) for ph in other.phases[ids.index(at):]]
    return out


def procedure_offsets(pd: PhaseDates, r: Procedure) -> list[tuple[int, int, int]]:
    """(cycle index, template day, phase offset) of each day a procedure falls on.

    A phase the next one cut short (it began early) keeps its MRD time points: one that would
    fall after the new last day falls on that day instead, since the marrow that closes a
    phase is taken before the next one starts (review L, rl07: an end-of-consolidation
    marrow vanished from the plan, the overdue list and the tests to order)."""
    cut_short = pd.phase.length_days is not None and pd.length_days < pd.phase.length_days
    out: list[tuple[int, int, int]] = []
    seen: set[tuple[int, int]] = set()
    for ci, offset in enumerate(_cycle_offsets(pd)):
        if r.cycles and ci + 1 not in r.cycles:
            continue
        for d in expand_days(r.days):
            day = offset + d
            if day >= pd.length_days:
                if not (r.mrd and cut_short):
                    continue
                day = pd.length_days - 1
            if (ci, day) not in seen:
                seen.add((ci, day))
                out.append((ci, d, day))
    return out


def _cycle_offsets(pd: PhaseDates) -> list[int]:
    step = pd.phase.cycle_days
    if step is None:
        return [0]
    return list(range(0, pd.length_days, step))


# (id(component), id(phase), phase length) -> (component, phase, offsets): a template's
# schedules are the same for every patient whose phase has that length; the objects are kept
# so that a reused id never answers for another
_OFFSETS: dict[tuple[int, int, int], tuple[Component, Phase, tuple[int, ...]]] = {}


def component_offsets(pd: PhaseDates, c: Component) -> list[int]:
    """Phase offsets on which a component is given (its cycles and dose limit applied)."""
    key = (id(c), id(pd.phase), pd.length_days)
    hit = _OFFSETS.get(key)
    if hit is None or hit[0] is not c or hit[1] is not pd.phase:
        if len(_OFFSETS) > 20_000:  # templates built again and again (tests)
            _OFFSETS.clear()
        hit = _OFFSETS[key] = (c, pd.phase, tuple(_component_offsets(pd, c)))
    return list(hit[2])


def _component_offsets(pd: PhaseDates, c: Component) -> list[int]:
    out: list[int] = []
    length = pd.length_days
    days = expand_days(c.days)  # sorted
    for ci, offset in enumerate(_cycle_offsets(pd)):
        if c.cycles and ci + 1 not in c.cycles:
            continue
        out.extend(map(offset.__add__, days[:bisect_left(days, length - offset)]))
    out.sort()
    return out[: c.max_doses] if c.max_doses is not None else out


def phase_items(pd: PhaseDates, drugs: bool = True,
                components: tuple[Component, ...] | None = None,
                procedures: tuple[Procedure, ...] | None = None) -> list[CalendarItem]:
    """Dated drug days, procedures and checkpoints of one phase (cycles expanded).

    ``components`` and ``procedures`` (default: all of the phase's) limit the items to those
    that apply to the patient.
    """
    p = pd.phase
    items: list[CalendarItem] = []
    if drugs:
        comps = p.components if components is None else components
        for ki, c in enumerate(p.components):
            if c not in comps:
                continue
            for day in component_offsets(pd, c):
                items.append(CalendarItem(
                    pd.start + dt.timedelta(days=day), "drug", f"{c.drug} ({c.route})",
                    p.id, day, f"{p.id}/drug{ki}/d{day}", detail=c.schedule or ""))
    for r in p.procedures:
        if procedures is not None and r not in procedures:
            continue
        for ci, d, day in procedure_offsets(pd, r):
            cyc = f" (cycle {ci + 1})" if p.cycle_days else ""
            items.append(CalendarItem(
                pd.start + dt.timedelta(days=day), "procedure", r.title + cyc, p.id,
                day, f"{p.id}/{r.id}/c{ci}/d{d}",
                extra={"procedure": r.id, "mrd": r.mrd, "timepoint": r.timepoint}))
    for dp in p.decisions:
        day = pd.length_days - 1 if dp.day == "end" else min(dp.day, pd.length_days - 1)
        items.append(CalendarItem(pd.start + dt.timedelta(days=day), "checkpoint",
                                  f"Decision: {dp.title}", p.id, day, f"{p.id}/{dp.id}",
                                  extra={"decision": dp.id}))
    items.sort(key=lambda it: (it.date, it.kind, it.title))
    return items


def day_by_day(phases: Iterable[PhaseDates], extra: Iterable[CalendarItem] = (),
               items: dict[int, list[CalendarItem]] | None = None
               ) -> list[tuple[dt.date, list[CalendarItem]]]:
    """Every day that has something on it, with its entries (phase starts included).

    ``items`` (phase index -> items) replaces each phase's own items when given.
    """
    by_day: dict[dt.date, list[CalendarItem]] = {}
    for pd in phases:
        by_day.setdefault(pd.start, []).append(CalendarItem(
            pd.start, "phase", f"Start: {pd.phase.title}", pd.phase.id, 0, pd.phase.id,
            end=pd.end))
        own = items[pd.index] if items is not None and pd.index in items else phase_items(pd)
        for it in own:
            by_day.setdefault(it.date, []).append(it)
    for it in extra:
        by_day.setdefault(it.date, []).append(it)
    return sorted(by_day.items())


def opaque_uid(secret: str, key: str) -> str:
    """A stable UID that does not reveal ``secret`` (the record id): a SHA-256 digest."""
    digest = hashlib.sha256(f"{secret}\x1f{key}".encode()).hexdigest()[:32]
    return f"{digest}@allpath"


_SEQUENCE_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def to_ics(phases: Iterable[PhaseDates], extra: Iterable[CalendarItem], *, uid_prefix: str,
           title: str, note: str, stamp: dt.datetime | None = None,
           details: dict[str, str] | None = None,
           items: dict[int, list[CalendarItem]] | None = None) -> bytes:
    """An iCalendar file: one all-day event per phase and per procedure or checkpoint.

    UIDs are opaque digests of ``uid_prefix`` (record and template) and the item's place in
    the template, so re-importing an updated roadmap updates the same events; DTSTAMP is the
    export time (``stamp``, default now, UTC) and SEQUENCE the minutes since 2024-01-01 at that
    time, so a later export supersedes an earlier one. ``details`` adds text (doses, the vinca
    warning) to the events of given UID keys.
    """
    cal = Calendar()
    cal.add("prodid", "-//ALLPath//roadmap//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", title)
    now = stamp if stamp is not None else dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("stamp must be timezone-aware (UTC)")
    now = now.astimezone(dt.UTC).replace(microsecond=0)
    sequence = max(0, int((now - _SEQUENCE_EPOCH).total_seconds() // 60))
    extra_text = details or {}

    def add(uid: str, summary: str, start: dt.date, end_incl: dt.date, desc: str) -> None:
        ev = Event()
        ev.add("uid", opaque_uid(uid_prefix, uid))
        ev.add("dtstamp", now)
        ev.add("sequence", sequence)
        if uid in extra_text:
            desc = f"{extra_text[uid]} {desc}"
        ev.add("summary", summary)
        ev.add("dtstart", start)
        ev.add("dtend", end_incl + dt.timedelta(days=1))
        ev.add("transp", "TRANSPARENT")
        ev.add("description", desc)
        cal.add_component(ev)

    events: list[CalendarItem] = list(extra)
    for pd in phases:
        add(f"phase/{pd.phase.id}", pd.phase.title, pd.start, pd.end,
            f"Phase {pd.index + 1}, days 1-{pd.length_days}. {note}")
        own = (items[pd.index] if items is not None and pd.index in items
               else phase_items(pd, drugs=False))
        events.extend(i for i in own if i.kind != "drug")
    for it in events:
        add(it.uid_key, it.title, it.date, it.date,
            f"{it.detail + ' ' if it.detail else ''}Phase {it.phase_id}, day "
            f"{it.protocol_day}. {note}")
    return bytes(cal.to_ical())
