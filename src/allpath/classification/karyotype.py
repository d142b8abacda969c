"""Read what can be read from an ISCN karyotype string: modal number, translocations, gains.

Only the parts ALLPath uses are read: the chromosome count (first field; for a range such as
``55~58`` the lower bound), balanced translocations ``t(9;22)(q34;q11)``, and whole
chromosome gains ``+4``. Anything unparseable is left alone and reported, never guessed.
Reference: ISCN 2020 (McGowan-Jordan et al.).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from allpath.knowledge import load_yaml

__all__ = ["KaryotypeReading", "masked_hypodiploidy_limits", "masked_hypodiploidy_test",
           "read_karyotype"]

_COUNT = re.compile(r"^\s*(\d{2,3})(?:\s*[~-]\s*(\d{2,3}))?\s*(?:<\dn>)?\s*$")
_TRANSLOCATION = re.compile(r"t\((\w+);(\w+)\)(?:\(([pq][\d.]+);([pq][\d.]+)\))?")
_GAIN = re.compile(r"^\+(\d{1,2}|X|Y)(c?)$")
# the sex chromosomes of a clone (its second field), and a field's cell count ("[15]")
_SEX = re.compile(r"X{1,4}Y{0,2}|XY+|X+")
_CELLS = re.compile(r"\[\d+\]$")
# ISCN words that are not abnormalities: clone references and the composite mark
_NOT_ABNORMALITIES = frozenset({"idem", "sl", "sdl", "sdl1", "sdl2", "inc", "cp"})


@dataclass(frozen=True, slots=True)
class KaryotypeReading:
    """What a karyotype string says, in the terms the packs read."""

    chromosome_count: int | None
    translocations: tuple[str, ...]
    implied_fusions: tuple[str, ...]
    gains: tuple[str, ...]
    unread: tuple[str, ...]
    constitutional_gains: tuple[str, ...] = ()  # ``+21c``: present in every cell, not acquired
    clone_counts: tuple[int, ...] = ()  # the count of every clone, stemline first
    # acquired abnormalities of the stemline: each gain, loss, translocation and other
    # structural change once (``der(13)t(13;20)`` is one), not the sex chromosomes, a
    # constitutional change (``c``) or a clone reference (``idem``)
    abnormalities: int = 0


@lru_cache(maxsize=1)
def _fusion_table() -> dict[str, str]:
    doc = load_yaml("karyotype.yaml")
    return {row["t"]: row["fusion"] for row in doc["translocations"]}


@lru_cache(maxsize=1)
def masked_hypodiploidy_limits() -> tuple[int, int, int]:
    """(lowest, highest) count of a hypodiploid clone and the count a doubled clone exceeds,
    from knowledge/karyotype.yaml (cited)."""
    block = load_yaml("karyotype.yaml")["masked_hypodiploidy"]
    low, high = block["hypodiploid_clone"]
    return int(low), int(high), int(block["doubled_clone_above"])


@lru_cache(maxsize=1)
def masked_hypodiploidy_test() -> str:
    """The test that settles a possible masked hypodiploidy (knowledge/karyotype.yaml)."""
    return str(load_yaml("karyotype.yaml")["masked_hypodiploidy"]["settled_by"])


def read_karyotype(text: str) -> KaryotypeReading:
    """Parse an ISCN karyotype such as ``"46,XX,t(12;21)(p13;q22)"``.

    >>> read_karyotype("56,XY,+4,+10,+21").gains
    ('4', '10', '21')
    """
    # A composite karyotype lists clones separated by "/"; read the first (stemline) and
    # note the count of every clone (a doubled hypodiploid clone can hide behind another).
    clones = [c.strip() for c in text.split("/") if c.strip()]
    clone_counts: list[int] = []
    for c in clones:
        m0 = _COUNT.match(_CELLS.sub("", c.split(",")[0].strip()))
        if m0:
            clone_counts.append(int(m0.group(1)))
    clone = clones[0] if clones else ""
    fields = _fields(clone)
    count: int | None = None
    translocations: list[str] = []
    gains: list[str] = []
    constitutional: list[str] = []
    unread: list[str] = []
    table = _fusion_table()
    for i, field in enumerate(fields):
        field = _CELLS.sub("", field)
        if i == 0:
            m = _COUNT.match(field)
            if m:
                count = int(m.group(1))
                continue
        m = _TRANSLOCATION.fullmatch(field) or _TRANSLOCATION.match(field)
        if m and field.startswith("t("):
            translocations.append(f"{m.group(1)};{m.group(2)}")
            continue
        g = _GAIN.match(field)
        if g:
            (constitutional if g.group(2) else gains).append(g.group(1))
            continue
        if i == 1 and _SEX.fullmatch(field):
            continue
        unread.append(field)
    fusions = tuple(dict.fromkeys(table[t] for t in translocations if t in table))
    stemline = _abnormalities(fields)
    # a subclone written with idem (or sl) carries the stemline's changes and its own: the
    # karyotype's complexity is that of its most abnormal clone (review II)
    most = stemline
    for c in clones[1:]:
        sub = _fields(c)
        own = _abnormalities(sub)
        inherits = any(_CELLS.sub("", f).lower() in ("idem", "sl") for f in sub)
        most = max(most, own + (stemline if inherits else 0))
    return KaryotypeReading(count, tuple(translocations), fusions, tuple(gains), tuple(unread),
                            tuple(constitutional), tuple(clone_counts), most)


def _fields(clone: str) -> list[str]:
    """A clone's comma-separated fields (commas inside brackets do not split)."""
    return [f.strip() for f in re.split(r",(?![^(]*\))", clone) if f.strip()]


def _abnormalities(fields: list[str]) -> int:
    """Acquired abnormalities among a clone's fields: every field but the count, the sex
    chromosomes, a constitutional change (``c``) and the ISCN words that are not changes."""
    n = 0
    for i, field in enumerate(fields):
        field = _CELLS.sub("", field).strip()
        if not field or (i == 0 and _COUNT.match(field)):
            continue
        if i == 1 and _SEX.fullmatch(field):
            continue
        low = field.lower()
        if low.endswith("c") or low in _NOT_ABNORMALITIES:
            continue
        n += 1
    return n
