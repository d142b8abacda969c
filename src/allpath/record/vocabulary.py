"""Closed vocabularies of the record (markers, conditions, symptoms, alterations, phases)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from allpath.errors import did_you_mean
from allpath.knowledge import load_yaml

__all__ = ["Vocabulary", "VocabularyKind", "load_vocabulary"]

VocabularyKind = Literal["markers", "conditions", "symptoms", "alterations", "treatment_phases"]


@dataclass(frozen=True)
class Vocabulary:
    """Terms of every vocabulary, each with its accepted aliases."""

    terms: Mapping[str, Mapping[str, str]]  # kind -> accepted spelling -> term
    version: str

    def resolve(self, kind: VocabularyKind, word: str) -> str | None:
        """Return the term a word (term or alias, any case) names, or None."""
        table = self.terms[kind]
        return table.get(word) or table.get(word.lower())

    def suggest(self, kind: VocabularyKind, word: str) -> str | None:
        return did_you_mean(word, set(self.terms[kind].values()) | set(self.terms[kind]))

    def canonical_terms(self, kind: VocabularyKind) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.terms[kind].values()))


@lru_cache(maxsize=1)
def load_vocabulary() -> Vocabulary:
    """Load the bundled vocabularies (cached)."""
    doc = load_yaml("vocabulary.yaml")
    terms: dict[str, dict[str, str]] = {}
    for kind in ("markers", "conditions", "symptoms", "alterations", "treatment_phases"):
        table: dict[str, str] = {}
        for term, aliases in doc[kind]["terms"].items():
            for spelling in (term, *(aliases or ())):
                table[str(spelling)] = term
                table.setdefault(str(spelling).lower(), term)
        terms[kind] = table
    return Vocabulary(terms=terms, version=str(doc.get("version", "")))
