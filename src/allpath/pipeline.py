"""The pathway, one call per stage: record -> observations -> facts -> packs -> assessment.

>>> from allpath.pipeline import assess
>>> from allpath.examples import example_records
>>> assess(example_records()[0]).to_dict()["diagnosis"]["status"]
'ALL'
"""

from __future__ import annotations

from pathlib import Path

from allpath.findings.base import base_facts
from allpath.monitoring.monitor import monitor
from allpath.observations.normalise import normalise
from allpath.outputs.assessment import Assessment
from allpath.record.load import load_record
from allpath.record.models import PatientRecord
from allpath.rules.engine import DecisionResult, evaluate_pack
from allpath.rules.loader import Knowledge, load_knowledge
from allpath.rules.schema import PATHWAY_STAGES

__all__ = ["assess", "assess_file"]


def assess(record: PatientRecord, knowledge: Knowledge | None = None) -> Assessment:
    """Run every pathway stage on a checked record and return the explained assessment."""
    kb = knowledge or load_knowledge()
    timeline = normalise(record)
    base = base_facts(record, timeline, kb.registry)
    facts = dict(base.facts)
    why_unknown: dict[str, tuple[str, ...]] = {}
    results: list[DecisionResult] = []
    for pack in kb.stage(*PATHWAY_STAGES):  # findings ... prognosis, in pack order
        results.extend(evaluate_pack(pack, facts, why_unknown))
    monitoring = monitor(record, timeline, facts, results, kb)
    return Assessment(
        record=record,
        monitoring=monitoring,
        timeline=timeline,
        facts=facts,
        results=tuple(results),
        notes=tuple(base.notes),
        knowledge=kb,
        as_of=base.as_of,
    )


def assess_file(path: str | Path, knowledge: Knowledge | None = None) -> Assessment:
    """Read a record file (YAML or JSON) and assess it."""
    return assess(load_record(path), knowledge)
