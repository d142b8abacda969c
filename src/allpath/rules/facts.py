"""Facts: the typed values rule packs read, and the registry that declares them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from allpath.knowledge import knowledge_dir, load_yaml

__all__ = ["Among", "Fact", "FactSpec", "FactType", "FactValue", "Registry", "load_registry"]

FactType = Literal["number", "term", "bool", "set"]


@dataclass(frozen=True, slots=True)
class Among:
    """The values a measured number can still take when its results do not settle it.

    Two same-day MRD results on both sides of a threshold, or a negative result from an
    assay too coarse for a threshold (``allpath.findings.mrd``), leave the level unknown but
    not unbounded: it is one of ``values`` (points standing for every class of values the
    results allow). A test of the fact is TRUE or FALSE when every value agrees, else
    unknown; ``known`` is FALSE for it; the search for the answers still possible tries only
    these values.
    """

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("Among needs at least one value")


FactValue = float | str | bool | frozenset[str] | Among


@dataclass(frozen=True, slots=True)
class Fact:
    """A known value. Unknown facts are simply absent from the fact store.

    ``inputs`` names the record fields it came from (``observations[3]``); ``provisional``
    marks a value that rests on an assumption made while data were missing.
    """

    value: FactValue
    unit: str | None = None
    inputs: tuple[str, ...] = ()
    provisional: bool = False


@dataclass(frozen=True, slots=True)
class FactSpec:
    """Declaration of one fact (from ``knowledge/facts.yaml`` or a decision output)."""

    name: str
    type: FactType
    unit: str | None = None
    values: tuple[str, ...] = ()
    settled_by: str | None = None
    description: str | None = None
    source: Mapping[str, Any] = field(default_factory=dict)
    # Applicability: a condition over other facts (no numeric thresholds) under which the fact
    # can apply at all, the value it takes when it cannot (``if_not_applicable``) and why.
    applies_when: Any = None
    if_not_applicable: FactValue | None = None
    not_applicable_note: str | None = None


@dataclass
class Registry:
    """Every fact a pack may read: base facts plus the outputs of earlier decisions."""

    specs: dict[str, FactSpec]
    version: str

    def get(self, name: str) -> FactSpec | None:
        if name in self.specs:
            return self.specs[name]
        head = name.split(".", 1)[0]
        return self.specs.get(f"{head}.*") if "." in name else None

    def names(self) -> Iterable[str]:
        return self.specs.keys()

    def add(self, spec: FactSpec) -> None:
        self.specs[spec.name] = spec

    def copy(self) -> Registry:
        return Registry(specs=dict(self.specs), version=self.version)


def _registry_documents() -> list[Any]:
    """``facts.yaml`` plus every ``facts.d/*.yaml`` (one file per feature area)."""
    docs = [load_yaml("facts.yaml")]
    folder = knowledge_dir() / "facts.d"
    if folder.is_dir():
        docs.extend(load_yaml(f"facts.d/{p.name}") for p in sorted(folder.glob("*.yaml")))
    return docs


@lru_cache(maxsize=1)
def _base_registry() -> Registry:
    docs = _registry_documents()
    doc = docs[0]
    specs: dict[str, FactSpec] = {}
    merged: dict[str, Any] = {}
    for extra in docs:
        for name, raw in extra["facts"].items():
            if name in merged:
                raise ValueError(f"fact {name!r} is declared twice in the fact registry")
            merged[name] = raw
    for name, raw in merged.items():
        applies_when = None
        if raw.get("applies_when") is not None:
            applies_when = _condition_adapter().validate_python(raw["applies_when"])
            _check_applicability(name, applies_when)
        specs[name] = FactSpec(
            name=name,
            type=raw["type"],
            unit=raw.get("unit"),
            values=tuple(raw.get("values", ())),
            settled_by=raw.get("settled_by"),
            description=raw.get("computed"),
            source={k: v for k, v in raw.items() if k in ("from", "window", "pick", "timepoint",
                                                          "window_closes", "cite",
                                                          "evidence")},
            applies_when=applies_when,
            if_not_applicable=raw.get("if_not_applicable"),
            not_applicable_note=raw.get("not_applicable_note"),
        )
    return Registry(specs=specs, version=str(doc.get("version", "")))


@lru_cache(maxsize=1)
def _condition_adapter() -> Any:
    from pydantic import TypeAdapter

    from allpath.rules.schema import Condition

    return TypeAdapter(Condition)


def _check_applicability(name: str, cond: Any) -> None:
    """An applicability condition reads other facts by term only (no numeric threshold)."""
    from allpath.rules.schema import AllOf, AnyOf, AtLeast, Compare, Not

    stack = [cond]
    while stack:
        c = stack.pop()
        if isinstance(c, Compare):
            raise ValueError(f"fact {name!r}: applies_when may not use a numeric threshold "
                             f"(got {c.fact} {c.op}); use is/in/known")
        if isinstance(c, AllOf):
            stack.extend(c.all)
        elif isinstance(c, AnyOf):
            stack.extend(c.any)
        elif isinstance(c, AtLeast):
            stack.extend(c.of)
        elif isinstance(c, Not):
            stack.append(c.not_)


def load_registry() -> Registry:
    """A fresh copy of the base fact registry (packs add their outputs to it)."""
    return _base_registry().copy()
