"""The rules engine: closed vocabulary, three-valued logic, citations, worked examples."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from allpath.knowledge import knowledge_dir
from allpath.rules.engine import Tri, evaluate_condition, evaluate_decision
from allpath.rules.facts import Fact
from allpath.rules.loader import load_knowledge, load_packs
from allpath.rules.schema import Pack

PACKS = knowledge_dir() / "packs"


def _minimal_pack(**decision: Any) -> dict[str, Any]:
    base = {
        "id": "d",
        "title": "test decision",
        "output": "test.out",
        "values": ["yes", "no"],
        "rules": [
            {"id": "t.yes", "when": {"fact": "wbc.dx", "op": ">=", "value": 50, "unit": "10*9/L"},
             "then": "yes", "cite": ["S4"]},
        ],
        "otherwise": {"id": "t.no", "then": "no", "cite": ["S4"]},
    }
    base.update(decision)
    return {
        "format": "allpath.rulepack/1", "id": "test", "version": "1.0.0", "title": "t",
        "stage": "risk", "order": 99, "description": "test pack", "decisions": [base],
        "examples": [{"name": "high", "given": {"wbc.dx": 60}, "expect": {"test.out": "yes"}}],
    }


def _load_folder(tmp_path: Path, pack: dict[str, Any]) -> list[str]:
    for f in PACKS.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "99-test.yaml").write_text(yaml.safe_dump(pack), encoding="utf-8")
    _, problems = load_packs(tmp_path)
    return [str(p) for p in problems]


def test_every_bundled_pack_is_valid_cited_and_its_examples_pass() -> None:
    knowledge, problems = load_packs()
    assert problems == []
    assert len(knowledge.packs) >= 6
    for cp in knowledge.packs:
        assert cp.pack.examples, f"{cp.id} has no worked examples"


def test_a_rule_without_a_resolvable_citation_fails(tmp_path: Path) -> None:
    pack = _minimal_pack()
    pack["decisions"][0]["rules"][0]["cite"] = ["S999"]
    problems = _load_folder(tmp_path, pack)
    assert any("citation 'S999' does not resolve" in p for p in problems), problems


def test_a_rule_without_any_citation_fails(tmp_path: Path) -> None:
    pack = _minimal_pack()
    pack["decisions"][0]["rules"][0]["cite"] = []
    problems = _load_folder(tmp_path, pack)
    assert any("rules[0].cite" in p for p in problems), problems


def test_a_threshold_without_a_unit_fails(tmp_path: Path) -> None:
    pack = _minimal_pack()
    del pack["decisions"][0]["rules"][0]["when"]["unit"]
    problems = _load_folder(tmp_path, pack)
    assert any("explicit unit" in p for p in problems), problems


def test_a_threshold_in_a_wrong_unit_fails(tmp_path: Path) -> None:
    pack = _minimal_pack()
    pack["decisions"][0]["rules"][0]["when"]["unit"] = "g/dL"
    problems = _load_folder(tmp_path, pack)
    assert any("does not fit the fact" in p for p in problems), problems


def test_expressions_in_strings_are_not_a_condition(tmp_path: Path) -> None:
    pack = _minimal_pack()
    pack["decisions"][0]["rules"][0]["when"] = {"expr": "wbc.dx >= 50"}
    problems = _load_folder(tmp_path, pack)
    assert any("unknown condition node" in p for p in problems), problems


def test_an_unknown_fact_gets_a_suggestion(tmp_path: Path) -> None:
    pack = _minimal_pack()
    pack["decisions"][0]["rules"][0]["when"]["fact"] = "wbc.dxx"
    problems = _load_folder(tmp_path, pack)
    assert any("did you mean 'wbc.dx'" in p for p in problems), problems


def test_otherwise_is_required(tmp_path: Path) -> None:
    pack = _minimal_pack()
    del pack["decisions"][0]["otherwise"]
    problems = _load_folder(tmp_path, pack)
    assert any("otherwise" in p for p in problems), problems


def test_a_failing_worked_example_is_reported(tmp_path: Path) -> None:
    pack = _minimal_pack()
    pack["examples"][0]["expect"] = {"test.out": "no"}
    problems = _load_folder(tmp_path, pack)
    assert any("example not met" in p for p in problems), problems


def test_all_problems_are_listed_with_file_and_path(tmp_path: Path) -> None:
    pack = _minimal_pack()
    pack["decisions"][0]["rules"][0]["cite"] = ["S999"]
    pack["decisions"][0]["otherwise"]["cite"] = ["S998"]
    problems = _load_folder(tmp_path, pack)
    assert sum("packs/99-test.yaml" in p for p in problems) >= 2


# ---------------------------------------------------------------------- evaluation


def _nci() -> Any:
    kb = load_knowledge()
    cp = next(p for p in kb.packs if p.id == "risk")
    decision = next(d for d in cp.pack.decisions if d.id == "nci_rome")
    return cp, decision


def test_a_threshold_on_a_missing_fact_is_unknown() -> None:
    cp, _ = _nci()
    cond = Pack.model_validate(_minimal_pack()).decisions[0].rules[0].when
    assert evaluate_condition(cond, {}, cp).truth is Tri.UNKNOWN


def test_first_match_waits_for_an_unknown_earlier_rule() -> None:
    cp, decision = _nci()
    facts = {"diagnosis.status": Fact("ALL"), "diagnosis.lineage": Fact("B"),
             "age.years": Fact(5.0, "a")}
    result = evaluate_decision(decision, facts, cp)
    assert result.status == "unknown"
    assert result.missing == ("wbc.dx",)
    assert set(result.possible) == {"standard", "high"}


def test_an_earlier_decisive_rule_does_not_need_the_missing_fact() -> None:
    cp, decision = _nci()
    facts = {"diagnosis.status": Fact("ALL"), "diagnosis.lineage": Fact("B"),
             "age.years": Fact(12.0, "a")}
    result = evaluate_decision(decision, facts, cp)
    assert (result.status, result.value, result.rule_id) == ("decided", "high", "nci_rome.high.age")
    assert result.inputs == {"age.years": 12.0, "diagnosis.lineage": "B",
                             "diagnosis.status": "ALL"}
    assert result.cite == ("S4",)


def test_provisional_reason_names_only_the_assumptions_the_record_needed() -> None:
    """Review F, rf08: with day-8 MRD and the steroid history recorded, the reason must not
    say they were assumed; it names the end-of-induction MRD alone."""
    from allpath.rules.schema import Provisional

    p = Provisional(assume={"a": 0, "b": False, "c": "x"},
                    says={"a": "A were negative", "b": "no B", "c": "C were absent"},
                    reason="the groups still possible come first.")
    assert p.text(["b"]) == "Shown as if no B; the groups still possible come first."
    assert p.text(["c", "a"]) == ("Shown as if A were negative and C were absent; the groups "
                                  "still possible come first.")
    assert p.text(["a", "b", "c"]).startswith("Shown as if A were negative, no B and C were")


def test_provisional_says_must_name_every_assumed_fact() -> None:
    import pydantic

    from allpath.rules.schema import Provisional

    with pytest.raises(pydantic.ValidationError, match="one clause for each assumed fact"):
        Provisional(assume={"a": 0, "b": 1}, says={"a": "A"}, reason="r")


def test_evaluate_pack_fills_not_applicable_facts_as_refilling_before_every_decision() -> None:
    """evaluate_pack fills the facts that cannot apply once, and again only after a decision
    writes a fact some applicability reads; the results and stores equal those of filling
    before every decision, on every pack's worked examples and on the bundled records."""
    from allpath import parse_record
    from allpath.examples import example_paths
    from allpath.findings.base import base_facts
    from allpath.observations.normalise import normalise
    from allpath.rules.engine import evaluate_pack, fill_not_applicable, store_result
    from allpath.rules.loader import _given_fact
    from allpath.rules.schema import PATHWAY_STAGES
    from support import load_yaml

    kb = load_knowledge()

    def reference(cp: Any, facts: dict[str, Fact]) -> tuple[list[Any], dict[str, Fact]]:
        store, why, out = dict(facts), {}, []  # type: ignore[var-annotated]
        for d in cp.pack.decisions:
            fill_not_applicable(cp, store)
            r = evaluate_decision(d, store, cp, why)
            store_result(r, store, why)
            out.append(r)
        return out, store

    def same(cp: Any, facts: dict[str, Fact]) -> None:
        run = evaluate_pack(cp, facts)
        want, store = reference(cp, facts)
        assert [(r.status, r.value, r.missing) for r in run] == \
            [(r.status, r.value, r.missing) for r in want], cp.id
        assert dict(run.facts) == store, cp.id

    for cp in kb.packs:
        for ex in cp.pack.examples:
            same(cp, {k: _given_fact(kb.registry, k, v) for k, v in ex.given.items()})
    for path in example_paths():
        record = parse_record(load_yaml(path.read_text(encoding="utf-8")))
        timeline = normalise(record)
        facts = dict(base_facts(record, timeline, kb.registry).facts)
        for cp in kb.stage(*PATHWAY_STAGES):
            same(cp, facts)
            facts = dict(evaluate_pack(cp, facts).facts)
