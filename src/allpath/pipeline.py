"""The pathway, one call per stage: record -> observations -> facts -> packs -> monitoring
-> roadmap -> titration -> assessment.

Every stage the Assessment reports runs here, once; ``Assessment.to_dict()`` only serialises.

>>> from allpath.pipeline import assess
>>> from allpath.examples import example_records
>>> assess(example_records()[0]).to_dict()["diagnosis"]["status"]
'ALL'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from allpath.findings.base import base_facts
from allpath.findings.mrd import reword_provisional, unsettled_mrd
from allpath.monitoring.checkpoints import due_checkpoints
from allpath.monitoring.monitor import Monitoring, current_phase, monitor
from allpath.monitoring.titration_record import titration_run
from allpath.observations.normalise import Timeline, normalise
from allpath.outputs.assessment import Assessment
from allpath.record.load import load_record
from allpath.record.models import PatientRecord
from allpath.roadmap.build import Setting, build_roadmap
from allpath.roadmap.responses import course_of
from allpath.rules.engine import DecisionResult, evaluate_pack
from allpath.rules.facts import Fact
from allpath.rules.loader import Knowledge, load_knowledge
from allpath.rules.schema import PATHWAY_STAGES

__all__ = ["assess", "assess_file", "roadmap_setting"]


def assess(
    record: PatientRecord, knowledge: Knowledge | None = None, *, as_of: dt.date | None = None
) -> Assessment:
    """Run every pathway stage on a checked record and return the explained assessment.

    The assessment is dated ``as_of`` when given, else on the latest date in the record (its
    newest result, phase start or diagnosis date): a record with day-28 results is read on
    day 28, not on the day of diagnosis. Ages used by the rules stay ages at diagnosis.
    """
    kb = knowledge or load_knowledge()
    timeline = normalise(record)  # 1. observations: canonical units, days from diagnosis
    base = base_facts(record, timeline, kb.registry)  # 2. base facts
    when = as_of or timeline.reference or base.as_of
    facts: dict[str, Fact] = dict(base.facts)
    why_unknown: dict[str, tuple[str, ...]] = {}
    results: list[DecisionResult] = []
    for pack in kb.stage(*PATHWAY_STAGES):  # 3. packs: findings ... prognosis, in pack order
        run = evaluate_pack(pack, facts, why_unknown)
        results.extend(run.results)
        facts, why_unknown = dict(run.facts), dict(run.why_unknown)
    # a provisional answer never claims an MRD result the record has but cannot read
    results = reword_provisional(results, facts, unsettled_mrd(timeline, kb.registry, kb), kb)
    monitoring = monitor(record, timeline, facts, results, kb)  # 4. monitoring
    notes = list(base.notes)
    if as_of is not None and as_of != timeline.reference:
        # the treatment phase in progress is read on the date asked for
        monitoring = dataclasses.replace(monitoring, as_of=as_of,
                                         current=current_phase(record, as_of))
        later = sum(1 for o in timeline.items if o.time > as_of)
        if later:
            notes.append(f"assessed as of {as_of.isoformat()}; {later} result(s) dated after "
                         "that day are still read")
    # 5. roadmap: the template chosen by the roadmap pack, laid out from the default start;
    # after a confirmed relapse the relapse plan, dated from the relapse
    setting, relapse_date = roadmap_setting(monitoring)
    roadmap = build_roadmap(_Basis(record, timeline, facts, kb), setting=setting,
                            relapse_date=relapse_date,
                            course=course_of(monitoring, record, timeline))
    if when is not None and roadmap is not None and roadmap.phases:  # None: tests stub it
        # a checkpoint marrow the plan scheduled that is overdue is reported, not assessable
        overdue = {str(i["timepoint"]) for i in roadmap.where_now(when)["overdue"]
                   if i.get("kind") == "procedure" and i.get("timepoint")}
        due = due_checkpoints(overdue, monitoring.responses, record, timeline, facts, kb)
        if due:
            monitoring = dataclasses.replace(monitoring, responses=monitoring.responses + due)
    # 6. titration: the titration pack over the record's maintenance visits
    titration = titration_run(record, timeline)
    return Assessment(
        record=record,
        monitoring=monitoring,
        timeline=timeline,
        facts=facts,
        results=tuple(results),
        notes=tuple(notes),
        knowledge=kb,
        as_of=when,
        roadmap=roadmap,
        titration=titration,
    )


_SETTINGS: dict[str, Setting] = {"frontline": "frontline", "relapsed": "relapsed",
                                 "refractory": "refractory"}


def roadmap_setting(
    monitoring: Monitoring | None, asked: str = "auto"
) -> tuple[Setting, dt.date | None]:
    """The roadmap setting (``asked``, or for ``auto`` the one the record calls for) and the
    date of a confirmed relapse, which dates a relapsed or refractory plan.

    ``auto``: a relapse confirmed at a site (not suspected, not unsettled) calls for the
    relapsed plan, dated from the latest confirmed one (a second relapse dates it anew);
    anything else for the front-line one. Refractory disease keeps the
    front-line plan under ``auto``; asking for the refractory setting lays that one out.
    """
    relapse = monitoring.relapse if monitoring is not None else None
    # the latest confirmed relapse: a new relapse only suspected after it keeps its plan
    relapse_date = relapse.latest_confirmed_date if relapse is not None else None
    if asked == "auto":
        return ("relapsed" if relapse_date is not None else "frontline"), relapse_date
    return _SETTINGS[asked], relapse_date


@dataclasses.dataclass(frozen=True)
class _Basis:
    """What the roadmap stage reads (:class:`allpath.roadmap.build.Assessed`)."""

    record: PatientRecord
    timeline: Timeline
    facts: Mapping[str, Fact]
    knowledge: Knowledge


def assess_file(
    path: str | Path, knowledge: Knowledge | None = None, *, as_of: dt.date | None = None
) -> Assessment:
    """Read a record file (YAML or JSON) and assess it (dated as :func:`assess` says)."""
    return assess(load_record(path), knowledge, as_of=as_of)
