"""Which drug a FHIR medication order is: RxNorm code, else name (``knowledge/drugs.yaml``).

A ``MedicationRequest`` names its drug in ``medicationCodeableConcept`` or points to a
``Medication`` with ``medicationReference`` (R4), or uses ``medication`` as a CodeableReference
(R5). A reference is resolved to a Medication contained in the order (``#id``) or given in the
request's prefetch (``Medication/id``); an order whose drug cannot be found says why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from allpath.knowledge import load_yaml

__all__ = ["Drug", "Identified", "drug_by_id", "identify_name", "identify_order", "load_drugs"]


@dataclass(frozen=True)
class Drug:
    """One drug of the map, with the sources of its codes."""

    id: str
    rxnorm: tuple[str, ...]
    names: tuple[str, ...]
    classes: tuple[str, ...]
    cite: tuple[str, ...]
    code_evidence: str = "confirmed"
    note: str | None = None


@dataclass(frozen=True)
class Identified:
    """The outcome of identifying one order."""

    drug: Drug | None
    label: str  # what the order calls its drug (text, display or code), for messages
    how: str  # "RxNorm 103", "name 'purixan'", or why it failed


@dataclass(frozen=True)
class _DrugMap:
    system: str
    drugs: tuple[Drug, ...]
    by_code: Mapping[str, Drug]
    by_name: tuple[tuple[re.Pattern[str], str, Drug], ...]  # longest name first


@lru_cache(maxsize=1)
def _map() -> _DrugMap:
    doc: Any = load_yaml("drugs.yaml")
    drugs = tuple(
        Drug(id=str(d["id"]), rxnorm=tuple(str(c) for c in d.get("rxnorm") or ()),
             names=tuple(str(n).lower() for n in d["names"]),
             classes=tuple(str(c) for c in d.get("classes") or ()),
             cite=tuple(str(c) for c in d["cite"]),
             code_evidence=str(d.get("code_evidence", "confirmed")), note=d.get("note"))
        for d in doc["drugs"])
    by_code = {code: d for d in drugs for code in d.rxnorm}
    names = sorted(((n, d) for d in drugs for n in d.names), key=lambda x: -len(x[0]))
    by_name = tuple((re.compile(r"(?<![a-z0-9])" + re.escape(n) + r"(?![a-z0-9])"), n, d)
                    for n, d in names)
    return _DrugMap(system=str(doc["rxnorm_system"]), drugs=drugs, by_code=by_code,
                    by_name=by_name)


def load_drugs() -> tuple[Drug, ...]:
    """Every drug of ``knowledge/drugs.yaml``."""
    return _map().drugs


def drug_by_id(drug_id: str) -> Drug:
    for d in _map().drugs:
        if d.id == drug_id:
            return d
    raise KeyError(drug_id)


def identify_name(text: str) -> Drug | None:
    """The drug a free-text name refers to (the longest known name wins, so liposomal
    vincristine is never read as vincristine)."""
    low = " ".join(text.lower().split())
    for pattern, _name, drug in _map().by_name:
        if pattern.search(low):
            return drug
    return None


def _concept(cc: Mapping[str, Any]) -> Identified:
    m = _map()
    texts: list[str] = []
    codes: list[str] = []
    codings = cc.get("coding")
    for c in codings if isinstance(codings, list) else ():
        if not isinstance(c, Mapping):
            continue
        code, system = c.get("code"), c.get("system")
        if isinstance(code, str) and system == m.system and code in m.by_code:
            return Identified(m.by_code[code], str(c.get("display") or cc.get("text") or code),
                              f"RxNorm {code}")
        if isinstance(code, str):
            codes.append(f"{system or '?'}|{code}")
        if isinstance(c.get("display"), str):
            texts.append(str(c["display"]))
    if isinstance(cc.get("text"), str):
        texts.insert(0, str(cc["text"]))
    for t in texts:
        drug = identify_name(t)
        if drug is not None:
            return Identified(drug, t, f"name in {t!r}")
    label = (texts[0] if texts else codes[0] if codes else "no code or name")
    why = ("no code or name" if not texts and not codes else
           f"code(s) {', '.join(codes) or 'none'} and name(s) {texts or 'none'} are not in "
           "ALLPath's drug map")
    return Identified(None, label, why)


def _medication(ref: str, order: Mapping[str, Any],
                resources: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    if ref.startswith("#"):
        contained = order.get("contained")
        for r in contained if isinstance(contained, list) else ():
            if isinstance(r, Mapping) and r.get("resourceType") == "Medication" and \
                    r.get("id") == ref[1:]:
                return r
        return None
    rid = ref.rsplit("/", 1)[-1]
    for r in resources:
        if r.get("resourceType") == "Medication" and r.get("id") == rid:
            return r
    return None


def identify_order(order: Mapping[str, Any],
                   resources: Iterable[Mapping[str, Any]] = ()) -> Identified:
    """Identify the drug of a MedicationRequest (R4 or R5 form)."""
    cc = order.get("medicationCodeableConcept")
    ref: Any = (order.get("medicationReference") or {}).get("reference") \
        if isinstance(order.get("medicationReference"), Mapping) else None
    r5 = order.get("medication")
    if isinstance(r5, Mapping):
        if isinstance(r5.get("concept"), Mapping):
            cc = r5["concept"]
        if isinstance(r5.get("reference"), Mapping):
            ref = r5["reference"].get("reference")
    if isinstance(cc, Mapping):
        return _concept(cc)
    if isinstance(ref, str) and ref:
        med = _medication(ref, order, list(resources))
        if med is None:
            return Identified(None, ref, f"medicationReference {ref!r} points to no Medication "
                                         "contained in the order or prefetched")
        code = med.get("code")
        if isinstance(code, Mapping):
            return _concept(code)
        return Identified(None, ref, f"Medication {ref!r} has no code")
    return Identified(None, "no medication", "the order names no medication "
                      "(no medicationCodeableConcept or medicationReference)")
