"""Dated calendar of a template: phases, drug days, procedures and checkpoints; ``.ics`` export.

Phases follow each other without overlap: each starts the day after the previous one ends.
A phase with ``until`` ends the day before the anniversary (``years`` after the start or end of
its anchor phase); if that lies before its own start it lasts one day. Cycle phases repeat
their components and procedures every ``cycle_days``; the last cycle may be cut short.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from icalendar import Calendar, Event

from allpath.roadmap.templates import Phase, Template, expand_days

__all__ = ["CalendarItem", "PhaseDates", "day_by_day", "plan_phases", "to_ics"]


@dataclass(frozen=True, slots=True)
class PhaseDates:
    phase: Phase
    index: int
    start: dt.date
    end: dt.date  # inclusive

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
    phase_day: int
    uid_key: str
    detail: str = ""
    end: dt.date | None = None  # inclusive, phases only
    extra: dict[str, object] = field(default_factory=dict)


def _add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def plan_phases(template: Template, start: dt.date) -> list[PhaseDates]:
    """Start and end dates of every phase, in order, never overlapping."""
    out: list[PhaseDates] = []
    by_id: dict[str, PhaseDates] = {}
    cursor = start
    for i, p in enumerate(template.phases):
        if p.length_days is not None:
            end = cursor + dt.timedelta(days=p.length_days - 1)
        else:
            assert p.until is not None
            if p.until.anchor == p.id:
                anchor_day = cursor
            else:
                a = by_id[p.until.anchor]
                anchor_day = a.start if p.until.at == "start" else a.end + dt.timedelta(days=1)
            end = max(cursor, _add_years(anchor_day, p.until.years) - dt.timedelta(days=1))
        pd = PhaseDates(p, i, cursor, end)
        out.append(pd)
        by_id[p.id] = pd
        cursor = end + dt.timedelta(days=1)
    return out


def _cycle_offsets(pd: PhaseDates) -> list[int]:
    step = pd.phase.cycle_days
    if step is None:
        return [0]
    return list(range(0, pd.length_days, step))


def phase_items(pd: PhaseDates, drugs: bool = True) -> list[CalendarItem]:
    """Dated drug days, procedures and checkpoints of one phase (cycles expanded)."""
    p = pd.phase
    items: list[CalendarItem] = []
    for ci, offset in enumerate(_cycle_offsets(pd)):
        cyc = f" (cycle {ci + 1})" if p.cycle_days else ""
        if drugs:
            for ki, c in enumerate(p.components):
                for d in expand_days(c.days):
                    day = offset + d
                    if day < pd.length_days:
                        items.append(CalendarItem(
                            pd.start + dt.timedelta(days=day), "drug", f"{c.drug} ({c.route})",
                            p.id, day, f"{p.id}/drug{ki}/c{ci}/d{d}"))
        for r in p.procedures:
            for d in expand_days(r.days):
                day = offset + d
                if day < pd.length_days:
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


def day_by_day(phases: Iterable[PhaseDates], extra: Iterable[CalendarItem] = ()
               ) -> list[tuple[dt.date, list[CalendarItem]]]:
    """Every day that has something on it, with its entries (phase starts included)."""
    by_day: dict[dt.date, list[CalendarItem]] = {}
    for pd in phases:
        by_day.setdefault(pd.start, []).append(CalendarItem(
            pd.start, "phase", f"Start: {pd.phase.title}", pd.phase.id, 0, pd.phase.id,
            end=pd.end))
        for it in phase_items(pd):
            by_day.setdefault(it.date, []).append(it)
    for it in extra:
        by_day.setdefault(it.date, []).append(it)
    return sorted(by_day.items())


def to_ics(phases: Iterable[PhaseDates], extra: Iterable[CalendarItem], *, uid_prefix: str,
           title: str, note: str) -> bytes:
    """An iCalendar file: one all-day event per phase and per procedure or checkpoint.

    UIDs are built from ``uid_prefix`` (record and template) and the item's place in the
    template, so re-importing an updated roadmap updates the same events.
    """
    cal = Calendar()
    cal.add("prodid", "-//ALLPath//roadmap//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", title)
    stamp = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

    def add(uid: str, summary: str, start: dt.date, end_incl: dt.date, desc: str) -> None:
        ev = Event()
        ev.add("uid", f"{uid_prefix}/{uid}@allpath")
        ev.add("dtstamp", stamp)
        ev.add("summary", summary)
        ev.add("dtstart", start)
        ev.add("dtend", end_incl + dt.timedelta(days=1))
        ev.add("transp", "TRANSPARENT")
        ev.add("description", desc)
        cal.add_component(ev)

    items: list[CalendarItem] = list(extra)
    for pd in phases:
        add(f"phase/{pd.phase.id}", pd.phase.title, pd.start, pd.end,
            f"Phase {pd.index + 1}, {pd.length_days} days. {note}")
        items.extend(i for i in phase_items(pd, drugs=False))
    for it in items:
        add(it.uid_key, it.title, it.date, it.date,
            f"{it.detail + ' ' if it.detail else ''}Phase {it.phase_id}, day {it.phase_day}. "
            f"{note}")
    return bytes(cal.to_ical())
