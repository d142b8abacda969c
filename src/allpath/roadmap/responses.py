"""Marrow responses that settle a roadmap decision.

A decision option can name the marrow response it stands for (``response: not_in_remission``
on "No response: inotuzumab or CAR-T"). Whether a marrow is in remission is not decided here:
the monitoring stage reads every marrow with the response pack (CR and CRi are remission;
refractory and progressive disease are not), at the front-line checkpoints and after each
relapse. This module only gathers those readings, dated, for the roadmap to match against its
phases:

- a decision in a phase whose MRD procedure names a checkpoint (``timepoint:
  end_of_induction``) reads the monitoring stage's response at that checkpoint;
- any other decision (the relapse templates name no checkpoint) reads the latest marrow
  read within its phase, from the phase's first day to its last: the response at the end of
  a cycle is the last look at the marrow in that cycle, whether it was taken on the
  template's day or a day or two either side.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from allpath.monitoring.relapse import transplant_before

if TYPE_CHECKING:
    from allpath.monitoring.monitor import Monitoring
    from allpath.observations.normalise import Timeline
    from allpath.record.models import PatientRecord

__all__ = ["Course", "MarrowReading", "course_of", "marrow_readings", "reading_for"]

State = Literal["remission", "not_in_remission"]

_STATE: dict[str, State] = {"CR": "remission", "CRi": "remission",
                            "refractory": "not_in_remission", "PD": "not_in_remission"}


@dataclass(frozen=True)
class MarrowReading:
    """One marrow the monitoring stage read: its date, remission or not, and where it came
    from (``response[end_of_induction]``, ``relapse.not_in_remission``,
    ``relapse.remission_after``)."""

    date: dt.date
    state: State
    status: str
    checkpoint: str | None
    source: str
    marrow_blasts: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "state": self.state, "status": self.status,
                "checkpoint": self.checkpoint, "source": self.source,
                "marrow_blasts": self.marrow_blasts}


def marrow_readings(monitoring: Monitoring | None) -> tuple[MarrowReading, ...]:
    """The dated marrow readings of a monitoring result, oldest first: the response at each
    front-line checkpoint (CR, CRi, refractory, PD; not assessable ones are left out), and,
    after the relapse in effect, the marrows not in remission and the remission reached."""
    if monitoring is None:
        return ()
    out: list[MarrowReading] = []
    for r in monitoring.responses:
        state = _STATE.get(str(r.result.value)) if r.result.status == "decided" else None
        if state is not None and r.date is not None:
            out.append(MarrowReading(r.date, state, str(r.result.value), r.checkpoint,
                                     f"response[{r.checkpoint}]"))
    rel = monitoring.relapse
    if rel.confirmed:
        for day, blasts in rel.not_in_remission:
            out.append(MarrowReading(day, "not_in_remission", "refractory", None,
                                     "relapse.not_in_remission", blasts))
        if rel.remission_after is not None:
            # the relapse stage records the day of the remission (CR or CRi), not which
            out.append(MarrowReading(rel.remission_after, "remission", "CR or CRi", None,
                                     "relapse.remission_after"))
    return tuple(sorted(out, key=lambda m: m.date))


def reading_for(readings: tuple[MarrowReading, ...], checkpoint: str | None,
                phase_start: dt.date, phase_end: dt.date) -> MarrowReading | None:
    """The reading a decision reads: the one at its phase's checkpoint when the phase names
    one, else the latest within the phase (``phase_start`` to ``phase_end``)."""
    if checkpoint is not None:
        return next((m for m in readings if m.checkpoint == checkpoint), None)
    inside = [m for m in readings if m.checkpoint is None
              and phase_start <= m.date <= phase_end]
    return inside[-1] if inside else None


@dataclass(frozen=True)
class Course:
    """What the monitoring stage found that a roadmap reads: the dated marrow readings (for
    decision options naming a ``response``) and, after a confirmed relapse, the facts of that
    relapse the roadmap pack's relapse HCT decision and the relapsed templates read
    (``roadmap.relapse_episode``, ``roadmap.relapse_timing_nccn``, ``roadmap.relapse_site``,
    ``roadmap.relapse_cns``, ``roadmap.prior_hct``; facts.d/roadmap.yaml)."""

    readings: tuple[MarrowReading, ...] = ()
    relapse_facts: tuple[tuple[str, str | bool], ...] = ()


# dated flow results of the blasts' target antigens (analytes cd19_blasts, cd22_blasts), read
# from the first day of the relapse work-up: the relapse templates' targets (roadmap pack)
_ANTIGENS = (("cd19_blasts", "roadmap.relapse_cd19"), ("cd22_blasts", "roadmap.relapse_cd22"))


def _antigens(record: PatientRecord, timeline: Timeline | None, since: dt.date,
              ) -> list[tuple[str, str | bool]]:
    if timeline is None:
        from allpath.observations.normalise import normalise

        timeline = normalise(record)
    out: list[tuple[str, str | bool]] = []
    for code, name in _ANTIGENS:
        latest = [o.category for o in timeline.series(code)
                  if o.time >= since and o.category is not None]
        if latest:
            out.append((name, latest[-1]))
    return out


def course_of(monitoring: Monitoring | None, record: PatientRecord,
              timeline: Timeline | None = None) -> Course:
    """The :class:`Course` of a monitoring result and its record (``timeline``: the record's
    normalised results, made here when not given and a relapse needs them)."""
    if monitoring is None:
        return Course()
    facts: list[tuple[str, str | bool]] = []
    rel = monitoring.relapse
    if rel.confirmed and rel.relapse_date is not None:
        when = rel.relapse_date
        facts.append(("roadmap.relapse_episode", "first" if rel.number == 1 else "later"))
        timing = next((r for r in rel.results if r.output == "relapse.timing.nccn"), None)
        if timing is not None and timing.status == "decided" \
                and timing.value in ("early", "late"):
            facts.append(("roadmap.relapse_timing_nccn", timing.value))
        site = next((r.value for r in rel.results if r.output == "relapse.site"
                     and r.status == "decided"), None)
        cog = next((r.value for r in rel.results if r.output == "relapse.risk.cog"
                    and r.status == "decided"), None)
        if cog in ("low", "intermediate", "high"):
            facts.append(("roadmap.relapse_risk_cog", str(cog)))
        if isinstance(site, str):
            facts.append(("roadmap.relapse_site", site))
        facts.append(("roadmap.relapse_cns", site == "isolated_cns"
                      or "cns" in rel.extramedullary))
        since = rel.workup[0] if rel.workup is not None else when
        facts.extend(_antigens(record, timeline, min(since, when)))
        facts.append(("roadmap.prior_hct", transplant_before(record, when)))
    return Course(marrow_readings(monitoring), tuple(facts))

