"""Load, validate and compile the rule packs and the bibliography they cite.

Validation lists *every* problem with its file and path at once: schema errors, citations
that do not resolve (with "did you mean"), facts no earlier stage provides, units that do not
fit the fact, outputs outside the declared values, and worked examples that fail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from allpath.errors import (
    KnowledgeError,
    Problem,
    UnknownRuleError,
    did_you_mean,
    validation_problems,
)
from allpath.knowledge import knowledge_dir, load_yaml, parse_yaml
from allpath.rules.engine import (
    CompiledPack,
    decision_conditions,
    evaluate_pack,
)
from allpath.rules.facts import Fact, FactSpec, FactType, Registry, load_registry
from allpath.rules.schema import (
    AllOf,
    AnyOf,
    AtLeast,
    Compare,
    Decision,
    Known,
    Match,
    Not,
    Otherwise,
    Pack,
    Rule,
)
from allpath.units import UnitError, convert

__all__ = [
    "Citation",
    "Knowledge",
    "check_examples",
    "load_knowledge",
    "load_packs",
]


@dataclass(frozen=True, slots=True)
class Citation:
    id: str
    reference: str
    urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Knowledge:
    """Everything the pathway needs: compiled packs in order, registry and bibliography."""

    packs: tuple[CompiledPack, ...]
    registry: Registry
    citations: Mapping[str, Citation]

    @property
    def version(self) -> str:
        """Ruleset version: each pack's id and version, and a digest over them."""
        ids = ",".join(f"{p.id}@{p.version}" for p in self.packs)
        return "ruleset-" + hashlib.sha256(ids.encode()).hexdigest()[:12]

    def stage(self, *stages: str) -> tuple[CompiledPack, ...]:
        """The packs of the given stages, in pack order."""
        return tuple(p for p in self.packs if p.pack.stage in stages)

    def pack(self, pack_id: str) -> CompiledPack:
        """One pack by id."""
        for p in self.packs:
            if p.id == pack_id:
                return p
        raise KeyError(f"no pack {pack_id!r}; have {[p.id for p in self.packs]}")

    def pack_versions(self) -> dict[str, str]:
        return {p.id: p.version for p in self.packs}

    def rules(self) -> dict[str, tuple[CompiledPack, Decision, Rule | Otherwise]]:
        out: dict[str, tuple[CompiledPack, Decision, Rule | Otherwise]] = {}
        for cp in self.packs:
            for d in cp.pack.decisions:
                for r in d.rules:
                    out[r.id] = (cp, d, r)
                out[d.otherwise.id] = (cp, d, d.otherwise)
                if d.not_applicable is not None:
                    out[d.not_applicable.id] = (cp, d, d.not_applicable)
        return out

    def rule(self, rule_id: str) -> tuple[CompiledPack, Decision, Rule | Otherwise]:
        table = self.rules()
        if rule_id not in table:
            decisions = {d.id: d for cp in self.packs for d in cp.pack.decisions}
            if rule_id in decisions:
                d = decisions[rule_id]
                cp = next(p for p in self.packs if d in p.pack.decisions)
                return cp, d, d.rules[0]
            raise UnknownRuleError(rule_id, list(table) + list(decisions))
        return table[rule_id]


def load_citations() -> dict[str, Citation]:
    doc = load_yaml("citations.yaml")
    return {
        c["id"]: Citation(c["id"], c["reference"], tuple(c.get("urls", ())))
        for c in doc["citations"]
    }


def _resolve_unit_threshold(
    cond: Compare, reg: Registry, path: str, source: str, problems: list[Problem]
) -> float | None:
    spec = reg.get(cond.fact)
    if spec is None:
        return None
    if spec.type != "number":
        problems.append(Problem(path, f"fact {cond.fact!r} is not a number", source=source))
        return None
    if cond.value is None:
        return None
    if cond.unit is None:
        problems.append(
            Problem(path, "a threshold needs an explicit unit", expected=spec.unit, source=source)
        )
        return None
    try:
        return convert(cond.value, cond.unit, spec.unit or "1")
    except UnitError:
        problems.append(
            Problem(path, "threshold unit does not fit the fact", expected=spec.unit,
                    got=cond.unit, source=source)
        )
        return None


def _compile(pack: Pack, source: str, reg: Registry, citations: Mapping[str, Citation],
             problems: list[Problem]) -> CompiledPack:
    thresholds: dict[int, float] = {}
    table_units: dict[str, str] = {}

    def cite_ok(cite: tuple[str, ...], path: str) -> None:
        for c in cite:
            if c not in citations:
                problems.append(Problem(path, f"citation {c!r} does not resolve",
                                        hint=did_you_mean(c, citations), source=source))

    for tname, table in pack.tables.items():
        for i, row in enumerate(table.rows):
            cite_ok(row.cite, f"tables.{tname}.rows[{i}].cite")
        try:
            convert(1.0, table.unit, table.unit)
        except UnitError:
            problems.append(Problem(f"tables.{tname}.unit", "unit does not parse",
                                    got=table.unit, source=source))

    reported: set[tuple[str, str]] = set()
    for di, decision in enumerate(pack.decisions):
        dpath = f"decisions[{di}] ({decision.id})"
        # Facts read must exist in the registry (base facts or earlier outputs).
        for cond in decision_conditions(decision):
            if isinstance(cond, Compare | Match):
                name = cond.fact
            elif isinstance(cond, Known):
                name = cond.known
            else:
                continue
            if reg.get(name) is None:
                if (dpath, name) in reported:
                    continue
                reported.add((dpath, name))
                problems.append(Problem(
                    f"{dpath}", f"reads fact {name!r} that no earlier stage provides",
                    hint=did_you_mean(name, reg.names()), source=source))
                continue
            if isinstance(cond, Compare):
                if cond.table is not None:
                    if cond.table not in pack.tables:
                        problems.append(Problem(dpath, f"unknown table {cond.table!r}",
                                                hint=did_you_mean(cond.table, pack.tables),
                                                source=source))
                    else:
                        spec = reg.get(cond.fact)
                        unit = spec.unit if spec and spec.unit else "1"
                        try:
                            convert(1.0, pack.tables[cond.table].unit, unit)
                        except UnitError:
                            problems.append(Problem(dpath, f"table {cond.table!r} unit does "
                                                    f"not fit fact {cond.fact!r}", source=source))
                        table_units[cond.table] = unit
                else:
                    t = _resolve_unit_threshold(cond, reg, dpath, source, problems)
                    if t is not None:
                        thresholds[id(cond)] = t
            elif isinstance(cond, Match):
                spec = reg.get(name)
                wanted = cond.is_ if cond.is_ is not None else None
                if spec and spec.type == "term" and spec.values and isinstance(wanted, str) \
                        and wanted not in spec.values:
                    problems.append(Problem(dpath, f"{name!r} never takes the value {wanted!r}",
                                            expected=" | ".join(spec.values),
                                            hint=did_you_mean(wanted, spec.values),
                                            source=source))
        _check_applicable_reads(decision, reg, dpath, source, problems)
        allowed = set(decision.values) if decision.values is not None else None
        for ri, rule in enumerate(decision.rules):
            cite_ok(rule.cite, f"{dpath}.rules[{ri}].cite")
            _check_then(decision, rule.then, f"{dpath}.rules[{ri}].then", allowed, source,
                        problems)
        for label, ow in (("otherwise", decision.otherwise),
                          ("not_applicable", decision.not_applicable)):
            if ow is None:
                continue
            cite_ok(ow.cite, f"{dpath}.{label}.cite")
            if label == "not_applicable":
                continue  # the not-applicable value is outside the scheme's groups by design
            if ow.then is not None and not (decision.mode == "all" and ow.then == "none"):
                _check_then(decision, ow.then, f"{dpath}.{label}.then", allowed, source,
                            problems)
        # Register the outputs so later decisions may read them.
        if decision.fields:
            for fname, fvalues in decision.fields.items():
                reg.add(FactSpec(f"{decision.output}.{fname}", "term",
                                 values=tuple(str(v) for v in fvalues or ()),
                                 description=decision.title))
        else:
            values = decision.values or ()
            kind: FactType = (
                "set" if decision.mode == "all"
                else "bool" if values and all(isinstance(v, bool) for v in values)
                else "term"
            )
            reg.add(FactSpec(decision.output, kind,
                             values=tuple(str(v) for v in values if not isinstance(v, bool)),
                             description=decision.title))
    return CompiledPack(pack=pack, source=source, thresholds=thresholds,
                        tables=dict(pack.tables), table_units=table_units, registry=reg)


def _guards(decision: Decision) -> list[Any]:
    """The conjuncts of a decision's applicability (what is true whenever its rules run)."""
    app = decision.applies_when
    if app is None:
        return []
    return list(app.all) if isinstance(app, AllOf) else [app]


def _reads_with_guards(cond: Any, guards: list[Any]) -> Iterator[tuple[str, list[Any]]]:
    """Each fact a condition reads, with the conditions known true whenever it is read.

    The parts of an ``all`` guard one another: when one of them is FALSE the ``all`` is FALSE
    and the others are never missing.
    """
    if isinstance(cond, AllOf):
        inner = guards + list(cond.all)
        for c in cond.all:
            yield from _reads_with_guards(c, inner)
    elif isinstance(cond, AnyOf):
        for c in cond.any:
            yield from _reads_with_guards(c, guards)
    elif isinstance(cond, AtLeast):
        for c in cond.of:
            yield from _reads_with_guards(c, guards)
    elif isinstance(cond, Not):
        yield from _reads_with_guards(cond.not_, guards)
    elif isinstance(cond, Compare | Match):
        yield cond.fact, guards
    elif isinstance(cond, Known):
        yield cond.known, guards


def _check_applicable_reads(decision: Decision, reg: Registry, dpath: str, source: str,
                            problems: list[Problem]) -> None:
    """No rule may ask for a fact that cannot apply to the patient.

    A fact with ``applies_when`` in the registry is safe to read when it declares the value
    it takes where it cannot apply (``if_not_applicable``: the engine fills it in, so it is
    never missing), or when the read is guarded by the fact's applicability: the decision's
    ``applies_when`` includes it, or it is a part of the same ``all`` as the read.
    """
    reads: list[tuple[str, str, list[Any]]] = []
    if decision.applies_when is not None:
        reads += [("applies_when", n, g) for n, g in
                  _reads_with_guards(decision.applies_when, [])]
    for rule in decision.rules:
        reads += [(f"rule {rule.id}", n, g) for n, g in
                  _reads_with_guards(rule.when, _guards(decision))]
    for where, name, guards in reads:
        spec = reg.get(name)
        if spec is None or spec.applies_when is None or spec.if_not_applicable is not None:
            continue
        if any(g == spec.applies_when for g in guards):
            continue
        problems.append(Problem(
            dpath, f"{where} can ask for fact {name!r} where it does not apply",
            expected="the fact's applies_when in the decision's applies_when or in the same "
            "'all' as the read, or an if_not_applicable value on the fact", source=source))


def _check_then(decision: Decision, then: Any, path: str, allowed: set[Any] | None,
                source: str, problems: list[Problem]) -> None:
    if decision.fields:
        if not isinstance(then, dict):
            problems.append(Problem(path, "this decision sets named fields",
                                    expected=", ".join(decision.fields), source=source))
            return
        for k, v in then.items():
            if k not in decision.fields:
                problems.append(Problem(f"{path}.{k}", "unknown output field",
                                        expected=", ".join(decision.fields), source=source))
            elif decision.fields[k] is not None and v is not None and \
                    v not in (decision.fields[k] or ()):
                problems.append(Problem(f"{path}.{k}", "value not among the declared values",
                                        got=repr(v), source=source))
        return
    if allowed is not None and decision.mode == "first" and then not in allowed:
        problems.append(Problem(path, "value not among the decision's declared values",
                                expected=" | ".join(map(str, allowed)), got=repr(then),
                                source=source))


def _given_fact(reg: Registry, name: str, raw: Any) -> Fact:
    spec = reg.get(name)
    if isinstance(raw, dict) and "value" in raw:
        unit = str(raw.get("unit", spec.unit if spec and spec.unit else "1"))
        target = spec.unit if spec and spec.unit else unit
        return Fact(convert(float(raw["value"]), unit, target), target)
    if isinstance(raw, list):
        return Fact(frozenset(str(v) for v in raw))
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return Fact(float(raw), spec.unit if spec else None)
    return Fact(raw)


def check_examples(cp: CompiledPack, registry: Registry) -> list[Problem]:
    """Run a pack's worked examples; return a Problem for each expectation not met."""
    problems: list[Problem] = []
    for i, ex in enumerate(cp.pack.examples):
        facts = {k: _given_fact(registry, k, v) for k, v in ex.given.items()}
        results = {r.output: r for r in evaluate_pack(cp, facts)}
        for key, want in ex.expect.items():
            path = f"examples[{i}] ({ex.name}).expect.{key}"
            res = results.get(key)
            field_name = None
            if res is None and "." in key:
                head, field_name = key.rsplit(".", 1)
                res = results.get(head)
            if res is None:
                problems.append(Problem(path, "no decision has this output", source=cp.source))
                continue
            got = res.value
            if field_name is not None and isinstance(got, dict):
                got = got.get(field_name)
            if isinstance(want, dict):
                for attr, w in want.items():
                    if attr == "value":
                        actual: Any = got
                    elif attr == "missing":
                        actual = sorted(res.missing)
                        w = sorted(w)
                    elif attr == "missing_includes":
                        actual = [m for m in res.missing if m in w]
                        w = list(w)
                    else:
                        actual = getattr(res, attr, None)
                    if attr == "possible":
                        actual, w = sorted(map(str, actual)), sorted(map(str, w))
                    if actual != w:
                        problems.append(Problem(f"{path}.{attr}", "example not met",
                                                expected=repr(w), got=repr(actual),
                                                source=cp.source))
            else:
                if res.status == "unknown" and want != "unknown" and got != want:
                    got_text = f"unknown (missing {', '.join(res.missing)})"
                    problems.append(Problem(path, "example not met", expected=repr(want),
                                            got=got_text, source=cp.source))
                elif isinstance(got, list):
                    flat = sorted(str(g if not isinstance(g, dict) else next(iter(g.values())))
                                  for g in got)
                    if sorted(map(str, want if isinstance(want, list) else [want])) != flat:
                        problems.append(Problem(path, "example not met", expected=repr(want),
                                                got=repr(flat), source=cp.source))
                elif res.status != "unknown" and got != want:
                    problems.append(Problem(path, "example not met", expected=repr(want),
                                            got=repr(got), source=cp.source))
    return problems


def load_packs(
    folder: Path | None = None, *, run_examples: bool = True
) -> tuple[Knowledge, list[Problem]]:
    """Load every pack in ``folder`` (default: the bundled packs) and collect all problems."""
    folder = folder if folder is not None else knowledge_dir() / "packs"
    citations = load_citations()
    problems: list[Problem] = []
    parsed: list[tuple[Pack, str]] = []
    for path in sorted(folder.glob("*.yaml")):
        source = f"packs/{path.name}"
        try:
            doc = parse_yaml(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(Problem("", f"malformed YAML: {exc}", source=source))
            continue
        try:
            parsed.append((Pack.model_validate(doc), source))
        except ValidationError as err:
            problems.extend(validation_problems(err, source))
    schema_failed = bool(problems)
    parsed.sort(key=lambda ps: (ps[0].order, ps[0].id))
    ids: dict[str, str] = {}
    for pack, source in parsed:
        if pack.id in ids:
            problems.append(Problem("id", f"pack id {pack.id!r} also used by {ids[pack.id]}",
                                    source=source))
        ids[pack.id] = source
    registry = load_registry()
    compiled: list[CompiledPack] = []
    rule_ids: dict[str, str] = {}
    for pack, source in parsed:
        for d in pack.decisions:
            every: list[Rule | Otherwise] = [*d.rules, d.otherwise]
            if d.not_applicable is not None:
                every.append(d.not_applicable)
            for r in every:
                if r.id in rule_ids:
                    problems.append(Problem(f"rule {r.id}", "rule id is not unique",
                                            got=f"also in {rule_ids[r.id]}", source=source))
                rule_ids[r.id] = source
        before = len(problems)
        pack_problems: list[Problem] = []
        cp = _compile(pack, source, registry, citations, pack_problems)
        if schema_failed:
            # A pack that failed its schema registered no outputs: facts it would provide
            # look missing to later packs. Say so once instead of listing each read.
            cascade = [p for p in pack_problems if "no earlier stage provides" in p.message]
            pack_problems = [p for p in pack_problems if p not in cascade]
            if cascade:
                pack_problems.append(Problem(
                    "", f"{len(cascade)} fact read(s) not checked: a pack before this one "
                    "failed its schema", source=source))
        problems.extend(pack_problems)
        compiled.append(cp)
        if run_examples and len(problems) == before:
            problems.extend(check_examples(cp, registry))
    return Knowledge(tuple(compiled), registry, citations), problems


@lru_cache(maxsize=1)
def load_knowledge() -> Knowledge:
    """The bundled knowledge, validated; raises KnowledgeError listing every problem."""
    knowledge, problems = load_packs(run_examples=False)
    if problems:
        raise KnowledgeError(problems, "bundled rule packs")
    return knowledge
