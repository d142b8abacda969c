"""``assess`` runs every stage it returns, once; ``Assessment.to_dict()`` only serialises.

The roadmap and the maintenance titration are typed fields of the Assessment, and
``evaluate_pack`` hands back a new fact store instead of writing into its input (issue 16).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

import allpath.monitoring.titration_record as titration_record
import allpath.pipeline as pipeline
import allpath.roadmap.build as roadmap_build
from allpath import assess, load_knowledge, parse_record
from allpath.examples import example_records
from allpath.monitoring.titration import TitrationRun
from allpath.roadmap import Roadmap
from allpath.rules.engine import PackRun, evaluate_pack
from allpath.rules.facts import Fact

_RECORD: dict[str, Any] = {
    "format": "allpath.record/1",
    "id": "stage-1",
    "sex": "female",
    "birth_date": "2018-03-01",
    "diagnosis_date": "2024-03-01",
    "observations": [
        {"code": "wbc", "value": 12, "unit": "10*9/L", "time": "2024-02-29"},
        {"code": "marrow_blasts", "value": 85, "unit": "%", "time": "2024-03-01"},
        {"code": "height", "value": 110, "unit": "cm", "time": "2024-03-01"},
        {"code": "weight", "value": 19, "unit": "kg", "time": "2024-03-01"},
    ],
    "immunophenotype": {"markers": {"CD19": "positive", "CD10": "positive",
                                    "cCD79a": "positive", "CD34": "positive",
                                    "MPO": "negative", "cCD3": "negative"}},
    "treatment": [{"phase": "induction", "start": "2024-03-02"},
                  {"phase": "maintenance", "start": "2024-11-01"}],
    "pharmacogenomics": {"tpmt": "intermediate", "nudt15": "normal"},
}


def _maintenance_record() -> dict[str, Any]:
    rec = copy.deepcopy(_RECORD)
    for when, anc in (("2024-11-01", 2.5), ("2024-12-13", 2.2), ("2025-01-24", 0.3)):
        rec["observations"] += [
            {"code": "anc", "value": anc, "unit": "10*9/L", "time": when},
            {"code": "platelets", "value": 200, "unit": "10*9/L", "time": when},
            {"code": "mercaptopurine_dose", "value": 50, "unit": "mg/m2/d", "time": when},
            {"code": "methotrexate_dose", "value": 20, "unit": "mg/m2/wk", "time": when}]
    return rec


class _Counter:
    def __init__(self) -> None:
        self.roadmaps = 0
        self.titrations = 0


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Counter]:
    """Counts every roadmap build and titration run, wherever it is called from."""
    counter = _Counter()
    build, run = roadmap_build.build_roadmap, titration_record.run_titration

    def build_counted(*args: Any, **kwargs: Any) -> Roadmap:
        counter.roadmaps += 1
        return build(*args, **kwargs)

    def run_counted(*args: Any, **kwargs: Any) -> TitrationRun:
        counter.titrations += 1
        return run(*args, **kwargs)

    monkeypatch.setattr(pipeline, "build_roadmap", build_counted)
    monkeypatch.setattr(roadmap_build, "build_roadmap", build_counted)
    monkeypatch.setattr(titration_record, "run_titration", run_counted)
    yield counter


def test_assess_builds_the_roadmap_and_runs_the_titration_once(counted: _Counter) -> None:
    a = assess(parse_record(_maintenance_record()))
    assert (counted.roadmaps, counted.titrations) == (1, 1)
    a.to_dict()
    a.to_dict()
    assert (counted.roadmaps, counted.titrations) == (1, 1)  # serialising runs no stage


def test_roadmap_stage_is_a_typed_field_and_the_json_serialises_it() -> None:
    a = assess(parse_record(_maintenance_record()))
    assert isinstance(a.roadmap, Roadmap)
    assert a.roadmap.template is not None and a.roadmap.template.id == "cog-b-sr"
    doc = a.to_dict()
    assert doc["roadmap"] == a.roadmap.to_dict()
    assert doc["roadmap"]["template"]["id"] == "cog-b-sr"
    assert a.as_of is not None
    assert doc["where_now"] == a.roadmap.where_now(a.as_of)


def test_the_assessment_roadmap_is_the_default_roadmap_of_the_assessment() -> None:
    for record in example_records():
        a = assess(record)
        assert a.roadmap is not None
        assert a.roadmap.to_dict() == roadmap_build.build_roadmap(a).to_dict(), record.id


def test_titration_stage_is_a_typed_run_over_the_maintenance_visits() -> None:
    a = assess(parse_record(_maintenance_record()))
    assert isinstance(a.titration, TitrationRun)
    assert [v.action for v in a.titration.visits][-1] == "hold"
    assert a.titration.start.mp_group == "intermediate"
    assert a.to_dict()["titration"] == a.titration.as_dict()


def test_no_titration_stage_before_maintenance() -> None:
    rec = copy.deepcopy(_RECORD)
    rec["treatment"] = [{"phase": "induction", "start": "2024-03-02"}]
    a = assess(parse_record(rec))
    assert a.titration is None
    assert a.to_dict()["titration"] is None


def test_evaluate_pack_returns_new_facts_and_leaves_its_input_unchanged() -> None:
    kb = load_knowledge()
    facts = {"wbc.dx": Fact(60.0, "10*9/L"), "age.years": Fact(4.0, "a")}
    why = {"earlier.output": ("some.fact",)}
    before_facts, before_why = dict(facts), dict(why)
    run = evaluate_pack(kb.pack("findings"), facts, why)
    assert isinstance(run, PackRun)
    assert facts == before_facts and why == before_why  # the input is left as it was
    written = {r.output for r in run.results if r.status == "decided"}
    assert "findings.hyperleukocytosis" in written
    assert "findings.hyperleukocytosis" in run.facts
    assert "findings.hyperleukocytosis" not in facts
    assert all(run.facts[k] == v for k, v in facts.items())  # the new store keeps the input
    assert run.why_unknown["earlier.output"] == ("some.fact",)
    assert list(run) == list(run.results) and len(run) == len(run.results)
    assert run[0] is run.results[0]
