"""The analyte catalogue: codes, LOINC, canonical units, plausible ranges.

Loaded from ``knowledge/analytes.yaml``. A record may name an analyte by its catalogue code,
an alias, or any of its LOINC codes; all resolve to the catalogue code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from allpath.errors import KnowledgeError, Problem, did_you_mean
from allpath.knowledge import load_yaml
from allpath.units import UnitError, check_unit

__all__ = ["Analyte", "Catalogue", "load_catalogue"]


@dataclass(frozen=True, slots=True)
class Analyte:
    """One catalogue entry."""

    code: str
    name: str
    kind: Literal["quantity", "categorical"]
    specimen: str
    settled_by: str
    cite: tuple[str, ...]
    loinc: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    unit: str | None = None
    plausible: tuple[float, float] | None = None
    values: tuple[str, ...] = ()
    molar_mass: float | None = None
    evidence: str = "confirmed"


@dataclass(frozen=True)
class Catalogue:
    """Look-up of analytes by code, alias or LOINC code."""

    analytes: Mapping[str, Analyte]
    version: str
    _index: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, code: str) -> Analyte | None:
        """Return the analyte a code, alias or LOINC code names, or None."""
        key = self._index.get(code) or self._index.get(code.lower())
        return self.analytes[key] if key else None

    def suggest(self, code: str) -> str | None:
        """A "did you mean" hint for an unknown code."""
        return did_you_mean(code, self._index.keys())

    def __getitem__(self, code: str) -> Analyte:
        return self.analytes[code]

    def codes(self) -> tuple[str, ...]:
        return tuple(self.analytes)


def _build(doc: Any, source: str) -> Catalogue:
    problems: list[Problem] = []
    analytes: dict[str, Analyte] = {}
    index: dict[str, str] = {}
    for i, raw in enumerate(doc.get("analytes", [])):
        path = f"analytes[{i}]"
        try:
            plausible = raw.get("plausible")
            analyte = Analyte(
                code=raw["code"],
                name=raw["name"],
                kind=raw["kind"],
                specimen=raw["specimen"],
                settled_by=raw["settled_by"],
                cite=tuple(raw["cite"]),
                loinc=tuple(raw.get("loinc", ())),
                aliases=tuple(raw.get("aliases", ())),
                unit=raw.get("unit"),
                plausible=(float(plausible[0]), float(plausible[1])) if plausible else None,
                values=tuple(raw.get("values", ())),
                molar_mass=raw.get("molar_mass"),
                evidence=raw.get("evidence", "confirmed"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(Problem(path, f"malformed analyte entry: {exc}", source=source))
            continue
        if analyte.kind == "quantity":
            if analyte.unit is None or analyte.plausible is None:
                problems.append(
                    Problem(path, "a quantity needs unit and plausible range", source=source)
                )
            else:
                try:
                    check_unit(analyte.unit)
                except UnitError as exc:
                    problems.append(Problem(f"{path}.unit", str(exc), source=source))
        elif not analyte.values:
            problems.append(Problem(path, "a categorical analyte needs values", source=source))
        for key in (analyte.code, *analyte.aliases, *analyte.loinc):
            if key in index and index[key] != analyte.code:
                problems.append(
                    Problem(path, f"{key!r} already names {index[key]!r}", source=source)
                )
            index[key] = analyte.code
            index.setdefault(key.lower(), analyte.code)
        analytes[analyte.code] = analyte
    if problems:
        raise KnowledgeError(problems, source)
    return Catalogue(analytes=analytes, version=str(doc.get("version", "")), _index=index)


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """Load the bundled analyte catalogue (cached)."""
    return _build(load_yaml("analytes.yaml"), "knowledge/analytes.yaml")
