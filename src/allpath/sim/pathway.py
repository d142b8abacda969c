"""Column-wise evaluation of pathway packs for the simulator (an adapter over the rules layer).

:mod:`allpath.rules.vectorised` evaluates a pack over many rows with the engine's
three-valued semantics, but leaves out two things the titration and risk packs use:

* **named output fields** (``then: {action: hold, mp: stop, ...}``): here each distinct field
  dictionary of a decision is replaced by a string code on a shallow copy of the decision (the
  condition objects are shared, so the compiled thresholds, keyed by ``id(condition)``, still
  apply), the copy is evaluated by :func:`allpath.rules.vectorised.evaluate_decision_vectorised`
  and every field is stored as its own column ``output.field``, as
  :func:`allpath.rules.engine.store_result` stores it (a ``null`` field stays unknown);
* **provisional answers**: rows left unknown while one of the ``provisional.assume`` facts is
  missing are evaluated again with the assumed values filled in, exactly as
  :func:`allpath.rules.engine.evaluate_decision` does for one fact store; their answers are
  taken where that decides them and flagged in :attr:`ColumnDecision.provisional`.

Nothing here re-types a threshold: the conditions, thresholds and answers all come from the
compiled pack. ``tests/sim/test_closed_loop.py`` checks this adapter against the engine row by
row on random fact stores.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from allpath.rules.engine import CompiledPack
from allpath.rules.schema import Decision, Otherwise
from allpath.rules.vectorised import (
    STATUS_DECIDED,
    STATUS_UNKNOWN,
    Column,
    VecDecision,
    decisions_needed,
    evaluate_decision_vectorised,
    store_vectorised,
)
from allpath.units import convert

__all__ = [
    "ColumnDecision",
    "evaluate_decision_columns",
    "evaluate_pack_columns",
    "fields_by_value",
    "load_pack",
    "term_column",
]

Bools = npt.NDArray[np.bool_]


@dataclass
class ColumnDecision:
    """One decision over all rows: the vectorised result plus decoded field dictionaries."""

    result: VecDecision
    provisional: Bools
    fields: tuple[dict[str, Any], ...] = ()  # value code -> field dictionary (field decisions)

    @property
    def decided(self) -> Bools:
        out: Bools = self.result.status == STATUS_DECIDED
        return out

    def field_codes(self, name: str, vocab: tuple[Any, ...]) -> npt.NDArray[np.int64]:
        """Per row, the index in ``vocab`` of field ``name`` (a not-applicable answer's
        fields included, as the engine stores them); -1 where unknown or not in it."""
        per_value = fields_by_value(self.result, self.fields)
        lut = np.array([vocab.index(f[name]) if f is not None and f.get(name) in vocab
                        else -1 for f in per_value] + [-1], dtype=np.int64)
        assert self.result.value is not None
        answered = (self.result.status != STATUS_UNKNOWN) & (self.result.value >= 0)
        code = np.where(answered, self.result.value, len(per_value))
        out: npt.NDArray[np.int64] = lut[code]
        return out

    def value_codes(self, vocab: tuple[Any, ...]) -> npt.NDArray[np.int64]:
        """Per row, the index in ``vocab`` of a scalar answer (a not-applicable answer
        included); -1 where unknown."""
        values = self.result.values
        lut = np.array([vocab.index(v) if v in vocab else -1 for v in values] + [-1],
                       dtype=np.int64)
        assert self.result.value is not None
        answered = self.result.status != STATUS_UNKNOWN  # decided or not applicable
        code = np.where(answered & (self.result.value >= 0), self.result.value, len(values))
        out: npt.NDArray[np.int64] = lut[code]
        return out


def term_column(values: npt.ArrayLike, vocab: tuple[Any, ...], known: Bools | None = None
                ) -> Column:
    """A term (or bool) fact column from codes into ``vocab``."""
    codes = np.asarray(values, dtype=np.int64)
    mask = np.ones(codes.shape[0], dtype=bool) if known is None else known
    return Column.term(codes, vocab, mask)


_FIELDS_CODE = "__fields_"


def _code_of(then: Any, codes: dict[str, int], fields: list[dict[str, Any]]) -> str:
    key = repr(sorted(then.items()))
    if key not in codes:
        codes[key] = len(fields)
        fields.append(dict(then))
    return f"{_FIELDS_CODE}{codes[key]}"


def fields_by_value(result: VecDecision, fields: tuple[dict[str, Any], ...]
                    ) -> list[dict[str, Any] | None]:
    """The field dictionary behind each value code of ``result`` (None for a plain answer).

    Value codes number the answers in the order the vectorised evaluator meets them (the
    not-applicable answer first, then the rules'), field indices in the order
    :func:`_scalarised` coded them, so a value code is never a field index: read the code.
    """
    out: list[dict[str, Any] | None] = []
    for v in result.values:
        if isinstance(v, str) and v.startswith(_FIELDS_CODE):
            out.append(fields[int(v[len(_FIELDS_CODE):])])
        else:
            out.append(None)
    return out


def _scalarised(decision: Decision) -> tuple[Decision, tuple[dict[str, Any], ...]]:
    """A shallow copy of ``decision`` whose field answers are string codes (conditions shared)."""
    codes: dict[str, int] = {}
    fields: list[dict[str, Any]] = []
    rules = tuple(
        r.model_copy(update={"then": _code_of(r.then, codes, fields)})
        if isinstance(r.then, dict) else r for r in decision.rules)
    ow: Otherwise = decision.otherwise
    if isinstance(ow.then, dict):
        ow = ow.model_copy(update={"then": _code_of(ow.then, codes, fields)})
    na = decision.not_applicable
    if na is not None and isinstance(na.then, dict):
        na = na.model_copy(update={"then": _code_of(na.then, codes, fields)})
    copy = decision.model_copy(update={"rules": rules, "otherwise": ow, "not_applicable": na,
                                       "provisional": None})
    return copy, tuple(fields)


_SCALARISED: dict[int, tuple[Decision, Decision, tuple[dict[str, Any], ...]]] = {}


def _scalarised_cached(decision: Decision) -> tuple[Decision, tuple[dict[str, Any], ...]]:
    hit = _SCALARISED.get(id(decision))
    if hit is None or hit[0] is not decision:
        copy, fields = _scalarised(decision)
        hit = (decision, copy, fields)
        _SCALARISED[id(decision)] = hit
    return hit[1], hit[2]


def _assumed_column(cp: CompiledPack, name: str, spec: Any, n: int,
                    have: Column | None) -> Column:
    """``have`` with its unknown rows filled by the pack's assumed value."""
    if isinstance(spec, dict):
        reg = cp.registry.get(name)
        unit = reg.unit if reg and reg.unit else str(spec["unit"])
        value = convert(float(spec["value"]), str(spec["unit"]), unit)
        vals = np.full(n, value)
        if have is not None and have.values is not None:
            vals = np.where(have.known, have.values.astype(np.float64), value)
        return Column.number(vals, np.ones(n, dtype=bool))
    if have is None or have.kind != "term" or have.values is None:
        return Column.term(np.zeros(n, dtype=np.int64), (spec,), np.ones(n, dtype=bool))
    vocab = have.vocab if spec in have.vocab else (*have.vocab, spec)
    codes = np.where(have.known, have.values, vocab.index(spec))
    return Column.term(codes, vocab, np.ones(n, dtype=bool))


def evaluate_decision_columns(decision: Decision, facts: Mapping[str, Column],
                              cp: CompiledPack, n: int) -> ColumnDecision:
    """Evaluate one decision over all rows, with field answers and provisional answers."""
    plain, fields = _scalarised_cached(decision)
    res = evaluate_decision_vectorised(plain, facts, cp, n)
    prov = np.zeros(n, dtype=bool)
    if decision.provisional is not None:
        lacking = np.zeros(n, dtype=bool)
        trial = dict(facts)
        for name, spec in decision.provisional.assume.items():
            have = facts.get(name)
            lacking |= np.ones(n, dtype=bool) if have is None else ~have.known
            trial[name] = _assumed_column(cp, name, spec, n, have)
        redo = lacking & (res.status == STATUS_UNKNOWN)
        if redo.any():
            again = evaluate_decision_vectorised(plain, trial, cp, n)
            take = redo & (again.status != STATUS_UNKNOWN)
            prov = redo.copy()
            if take.any():
                res = _merge(res, again, take)
    return ColumnDecision(res, prov, fields)


def _merge(a: VecDecision, b: VecDecision, take: Bools) -> VecDecision:
    """Rows ``take`` from ``b``, the rest from ``a`` (value codes re-indexed)."""
    if a.value is None or b.value is None:
        members = {m: np.where(take, b.members.get(m, np.zeros_like(take)),
                               a.members.get(m, np.zeros_like(take)))
                   for m in set(a.members) | set(b.members)}
        return VecDecision(a.decision, a.output, np.where(take, b.status, a.status),
                           np.where(take, b.rule_index, a.rule_index), a.rule_ids,
                           members=members)
    values = list(a.values)
    remap = []
    for v in b.values:
        if v not in values:
            values.append(v)
        remap.append(values.index(v))
    lut = np.array([*remap, -1], dtype=np.int64)
    b_codes = lut[np.where(b.value >= 0, b.value, len(remap))]
    return VecDecision(a.decision, a.output, np.where(take, b.status, a.status),
                       np.where(take, b.rule_index, a.rule_index), a.rule_ids, tuple(values),
                       np.where(take, b_codes, a.value))


def _store(res: ColumnDecision, facts: MutableMapping[str, Column]) -> None:
    r = res.result
    if not res.fields:
        store_vectorised(r, facts)
        return
    assert r.value is not None
    decided = (r.status != STATUS_UNKNOWN) & (r.value >= 0)
    per_value = fields_by_value(r, res.fields)
    names = dict.fromkeys(k for f in res.fields for k in f)
    for name in names:
        raw = [None if f is None else f.get(name) for f in per_value]
        vocab = tuple(dict.fromkeys(
            float(v) if isinstance(v, int) and not isinstance(v, bool) else v
            for v in raw if v is not None))
        lut = np.array([-1 if v is None else vocab.index(
            float(v) if isinstance(v, int) and not isinstance(v, bool) else v) for v in raw]
            + [-1], dtype=np.int64)
        codes = lut[np.where(decided, r.value, len(raw))]
        known = codes >= 0
        if vocab and all(isinstance(v, float) for v in vocab):
            vals = np.where(known, np.array(vocab + (0.0,))[codes], np.nan)
            facts[f"{r.output}.{name}"] = Column.number(vals, known)
        else:
            facts[f"{r.output}.{name}"] = Column.term(np.maximum(codes, 0), vocab, known)


def _needed(cp: CompiledPack, outputs: tuple[str, ...]) -> set[str]:
    """Decision ids needed for ``outputs``; a field fact ``out.field`` needs decision ``out``
    (:func:`allpath.rules.vectorised.decisions_needed` knows scalar outputs only)."""
    fields = {f"{d.output}.{k}": d.output for d in cp.pack.decisions for k in (d.fields or {})}
    wanted = tuple(fields.get(o, o) for o in outputs)
    while True:
        needed = decisions_needed([cp], wanted)
        reads = {fields[c] for d in cp.pack.decisions if d.id in needed
                 for c in _reads(d) if c in fields}
        if reads <= set(wanted):
            return needed
        wanted = tuple(dict.fromkeys((*wanted, *reads)))


def _reads(decision: Decision) -> set[str]:
    from allpath.rules.engine import decision_conditions
    from allpath.rules.schema import Compare, Known, Match

    names: set[str] = set()
    for c in decision_conditions(decision):
        if isinstance(c, Compare | Match):
            names.add(c.fact)
        elif isinstance(c, Known):
            names.add(c.known)
    return names


def evaluate_pack_columns(cp: CompiledPack, facts: MutableMapping[str, Column], n: int,
                          outputs: tuple[str, ...] | None = None) -> dict[str, ColumnDecision]:
    """Evaluate a pack's decisions in order (only those ``outputs`` need), storing outputs.

    Returns the results by output name.
    """
    only = _needed(cp, outputs) if outputs is not None else None
    out: dict[str, ColumnDecision] = {}
    for decision in cp.pack.decisions:
        if only is not None and decision.id not in only:
            continue
        res = evaluate_decision_columns(decision, facts, cp, n)
        _store(res, facts)
        out[decision.output] = res
    return out


@lru_cache(maxsize=8)
def load_pack(pack_id: str, folder: str | None = None) -> CompiledPack:
    """A compiled pack: the bundled one, or from a folder of pack YAML files (cached).

    A folder (e.g. a temporary copy with a changed threshold) is validated like the bundled
    packs; any problem raises :class:`allpath.errors.KnowledgeError`.
    """
    from allpath.rules.loader import load_knowledge, load_packs

    if folder is None:
        return load_knowledge().pack(pack_id)
    from allpath.errors import KnowledgeError

    knowledge, problems = load_packs(Path(folder), run_examples=False)
    if problems:
        raise KnowledgeError(problems, f"packs in {folder}")
    return knowledge.pack(pack_id)
