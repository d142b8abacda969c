"""Read a study's eligibility criteria text: sections, items, facets, negation, alternatives.

ClinicalTrials.gov keeps the criteria as free text (API v2 ``eligibilityCriteria``, classic
XML ``eligibility/criteria/textblock``). This module turns it into a small tree and compares
it with a patient profile:

* **Sections.** "Inclusion criteria", "Exclusion criteria" and arm-specific blocks ("Additional
  exclusion criteria for blinatumomab:") are found wherever they sit, also in one-line copies.
  A word under "Exclusion" is never a requirement, and an arm-specific block never decides.
* **Items.** Bullets, numbers, letters and ``(1)`` markers are read with their sequence (a
  "1." after "7." opens sub-items; "B." counts only after "A."), so decimals and abbreviations
  are not taken for markers. Lines ending in ":" are headers; "one of the following" makes
  the items or groups under it alternatives.
* **Facets.** Each item is read for the facets of ``criteria.yaml`` (``text_facets``), with
  the negation rules of ``text_reading``: "No Down syndrome" and "non-B cell" flip a term, "...
  are also eligible" makes it a permission. Several values in one item are an "or" list.
  Sub-items that state contradictory disease states (refractory / second relapse / relapse
  after transplant) are alternatives even without "any of".
* **Outcome.** Inclusion conditions must hold; an exclusion item excludes only when every
  condition it states holds ("relapse post transplant" excludes a relapse after a transplant,
  not every relapse). Unknown stays unknown, with the test that settles it.

The negation test is a parameter (:data:`Negator`), so another method (for example medspaCy's
ConText) can be measured in its place (``benchmarks/trials_accuracy.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from allpath.errors import KnowledgeError, Problem, validation_problems
from allpath.knowledge import knowledge_dir
from allpath.trials.criteria import Criteria, FacetValue, TextFacet, TextReading, load_criteria
from allpath.trials.load import parse_age_years
from allpath.trials.records import Trial

#: libyaml's safe loader where PyYAML has it (the same documents, several times faster)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = [
    "AgeLimit",
    "Condition",
    "EligibilityEntry",
    "Node",
    "Reading",
    "bundled_eligibility",
    "read_eligibility",
    "read_eligibility_file",
    "rule_negator",
    "with_eligibility",
]

Section = Literal["inclusion", "exclusion", "arm"]
Polarity = Literal["affirmed", "negated", "allowed", "excluded"]
#: ``negator(item_text, start, end)`` says how the term at ``text[start:end]`` is meant:
#: affirmed, negated ("no ..."), allowed ("... are also eligible") or excluded by the sentence
#: itself ("... are not eligible": an exclusion in any section).
Negator = Callable[[str, int, int], Polarity]
Outcome = Literal["met", "not_met", "unknown"]

_RANK: dict[Outcome, int] = {"not_met": 0, "unknown": 1, "met": 2}


def worst(outcomes: Iterable[Outcome]) -> Outcome:
    """``not_met`` before ``unknown`` before ``met`` (all must hold); ``met`` when empty."""
    return min(outcomes, key=_RANK.__getitem__, default="met")


def best(outcomes: Iterable[Outcome]) -> Outcome:
    """``met`` before ``unknown`` before ``not_met`` (one must hold); ``not_met`` when empty."""
    return max(outcomes, key=_RANK.__getitem__, default="not_met")


# ------------------------------------------------------------------------- registry entries


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Entry(_Strict):
    nct_id: str = Field(pattern=r"^NCT\d{8}$")
    title: str | None = None
    source: str
    text_complete: bool
    ages_known: bool
    minimum_age: str | None = None
    maximum_age: str | None = None
    criteria: str = Field(min_length=1)


class _EntryFile(_Strict):
    format: Literal["allpath.trial_eligibility/1"]
    note: str
    studies: tuple[_Entry, ...]


@dataclass(frozen=True, slots=True)
class EligibilityEntry:
    """The eligibility module of one study, from a public copy of its registry record."""

    nct_id: str
    title: str | None
    source: str
    text_complete: bool
    ages_known: bool
    min_age_years: float | None
    max_age_years: float | None
    criteria: str

    def apply(self, trial: Trial) -> Trial:
        """``trial`` with this criteria text (and the registry's exact ages when known)."""
        from dataclasses import replace

        if self.ages_known:
            return replace(trial, eligibility_text=self.criteria,
                           eligibility_complete=self.text_complete,
                           min_age_years=self.min_age_years, max_age_years=self.max_age_years,
                           has_exact_ages=True)
        return replace(trial, eligibility_text=self.criteria,
                       eligibility_complete=self.text_complete)

    def as_trial(self, status: str = "UNKNOWN") -> Trial:
        """A bare study record built from this entry alone (title, text, ages)."""
        return self.apply(Trial(nct_id=self.nct_id, title=self.title or "", status=status,
                                source="eligibility"))


def read_eligibility_file(path: str | Path) -> dict[str, EligibilityEntry]:
    """Read an ``allpath.trial_eligibility/1`` file; raise ``KnowledgeError`` naming the field."""
    source = str(path)
    try:
        raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError([Problem("", f"cannot read: {exc}", source=source)],
                             source) from exc
    try:
        doc = _EntryFile.model_validate(raw)
    except ValidationError as err:
        raise KnowledgeError(validation_problems(err, source), source) from err
    out: dict[str, EligibilityEntry] = {}
    problems: list[Problem] = []
    for i, e in enumerate(doc.studies):
        ages: list[float | None] = []
        for key in ("minimum_age", "maximum_age"):
            text = getattr(e, key)
            try:
                ages.append(None if text is None else parse_age_years(text))
            except ValueError:
                problems.append(Problem(f"studies[{i}].{key}", "not an age",
                                        expected="a number and a unit, e.g. '18 Years'",
                                        got=text, source=source))
                ages.append(None)
        if e.nct_id in out:
            problems.append(Problem(f"studies[{i}].nct_id", "study listed twice", got=e.nct_id,
                                    source=source))
        out[e.nct_id] = EligibilityEntry(e.nct_id, e.title, e.source, e.text_complete,
                                         e.ages_known, ages[0], ages[1], e.criteria)
    if problems:
        raise KnowledgeError(problems, source)
    return out


@lru_cache(maxsize=1)
def bundled_eligibility() -> dict[str, EligibilityEntry]:
    """Criteria text for studies of the bundled snapshot (``knowledge/trials/eligibility.yaml``)."""
    return read_eligibility_file(knowledge_dir() / "trials" / "eligibility.yaml")


def with_eligibility(trials: Iterable[Trial],
                     entries: Mapping[str, EligibilityEntry]) -> tuple[Trial, ...]:
    """Add criteria text to studies whose record lacks it (a record's own text is kept)."""
    out = []
    for t in trials:
        e = entries.get(t.nct_id)
        out.append(e.apply(t) if e is not None and not t.eligibility_text else t)
    return tuple(out)


# ------------------------------------------------------------------------------ splitting

_ESCAPE = re.compile(r"\\([<>\[\]~*_^.()#+-])")
_MARKER = re.compile(
    r"(?:(?<=^)|(?<=\s))(?:(?P<bullet>[*•‣⁃∙·▪◦])(?=\s)|(?P<dash>-)(?=\s)"
    r"|(?P<num>\d{1,2})(?P<punct>[.)])(?=\s)|\((?P<pnum>\d{1,2})\)(?=\s)"
    r"|(?P<let>[A-Za-z])[.)](?=\s))",
    re.MULTILINE,
)


@dataclass(slots=True)
class _Item:
    text: str
    section: Section
    header: bool = False
    kind: str | None = None
    line_start: bool = True
    children: list[_Item] = field(default_factory=list)


class _Sequences:
    """Which marker candidates are real: numbers and letters must follow their sequence."""

    def __init__(self) -> None:
        self.numbers: list[int] = []
        self.pnumbers: list[int] = []
        self.letters: dict[bool, int] = {}

    def accept(self, m: re.Match[str]) -> str | None:
        if m.group("bullet"):
            return "bullet:" + m.group("bullet")
        if m.group("dash"):
            return "dash"
        if m.group("num") or m.group("pnum"):
            levels = self.numbers if m.group("num") else self.pnumbers
            n = int(m.group("num") or m.group("pnum"))
            tag = ("num" + (m.group("punct") or "")) if m.group("num") else "pnum"
            for j in range(len(levels) - 1, -1, -1):
                if n == levels[j] + 1:
                    del levels[j + 1:]
                    levels[j] = n
                    return f"{tag}{j}"
            if n == 1:
                levels.append(1)
                return f"{tag}{len(levels) - 1}"
            return None
        letter = m.group("let")
        if letter:
            upper = letter.isupper()
            last = self.letters.get(upper)
            code = ord(letter.lower()) - ord("a")
            if code == 0 or (last is not None and code == last + 1):
                self.letters[upper] = code
                return "upper" if upper else "lower"
            return None
        return None


def _normalise(text: str) -> str:
    text = _ESCAPE.sub(r"\1", text.replace("\r\n", "\n"))
    return re.sub(r"\s--(?=[A-Z])", "\n", text)  # flat copies keep "--" where a line began


def _sections(text: str, tr: TextReading) -> list[tuple[Section, str]]:
    hits: list[tuple[int, int, Section]] = []
    for name, pattern in tr.sections:
        for m in pattern.finditer(text):
            hits.append((m.start(), m.end(), name))  # type: ignore[arg-type]
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
    chosen: list[tuple[int, int, Section]] = []
    for h in hits:
        if not chosen or h[0] >= chosen[-1][1]:
            chosen.append(h)
    out: list[tuple[Section, str]] = []
    if not chosen or chosen[0][0] > 0:
        head = text[: chosen[0][0] if chosen else len(text)]
        if head.strip():
            out.append(("inclusion", head))
    for i, (_start, end, name) in enumerate(chosen):
        stop = chosen[i + 1][0] if i + 1 < len(chosen) else len(text)
        out.append((name, text[end:stop]))
    return out


def _pieces(segment: str, section: Section) -> list[_Item]:
    seq = _Sequences()
    lines = segment.split("\n")
    line_markers: list[list[tuple[int, int, str]]] = []
    for line in lines:
        found = []
        for m in _MARKER.finditer(line):
            if m.group("dash") and line[: m.start()].strip():
                continue
            kind = seq.accept(m)
            if kind is not None:
                found.append((m.start(), m.end(), kind))
        line_markers.append(found)
    any_line_marker = any(f and not line[: f[0][0]].strip()
                          for line, f in zip(lines, line_markers, strict=True))
    items: list[_Item] = []
    for line, found in zip(lines, line_markers, strict=True):
        if not line.strip():
            continue
        cuts = [(s, e, k) for s, e, k in found]
        lead = line[: cuts[0][0]] if cuts else line
        if lead.strip():
            text = lead.strip()
            if text.endswith(":"):
                items.append(_Item(text, section, header=True))
            elif any_line_marker and items and not items[-1].header:
                items[-1].text += " " + text
            else:
                items.append(_Item(text, section, kind="line"))
        for i, (_s, e, kind) in enumerate(cuts):
            stop = cuts[i + 1][0] if i + 1 < len(cuts) else len(line)
            text = line[e:stop].strip()
            if text:
                items.append(_Item(text, section, kind=kind, line_start=i == 0 and
                                   not lead.strip()))
    # in flat copies ("* AML in one of the following: * ... * ALL in one of the following:")
    # a marked item ending in ":" followed by an item of the same kind heads a group
    for i, it in enumerate(items[:-1]):
        if it.header or items[i + 1].kind != it.kind:
            continue
        if (it.kind != "line" and it.text.endswith(":")) or _FOLLOWING.search(it.text):
            it.header = True
    return items


_FOLLOWING = re.compile(r"\bof the following(?: \w+){0,2}\s*:?\s*$", re.IGNORECASE)


def _tree(items: list[_Item], tr: TextReading) -> list[_Item]:
    """Nest items under headers and by marker kind (first kind seen is the outermost)."""
    roots: list[_Item] = []
    headers: list[_Item] = []  # open header groups, outermost first
    kinds: list[tuple[str, _Item]] = []
    last_was_header = False
    for it in items:
        if it.header:
            is_any = bool(tr.any_of.search(it.text))
            if last_was_header and headers:
                parent: _Item | None = headers[-1]
            elif headers and is_any and not tr.group_words.search(it.text) and \
                    headers[-1].children and not tr.any_of.search(headers[-1].text):
                parent = headers[-1]
            else:
                while headers and not (tr.any_of.search(headers[-1].text) and
                                       any(c.header for c in headers[-1].children)):
                    headers.pop()
                parent = headers[-1] if headers else None
            (parent.children if parent else roots).append(it)
            if parent is None:
                headers = []
            headers.append(it)
            kinds = []
            last_was_header = True
            continue
        last_was_header = False
        kind = it.kind or "line"
        depth = next((i for i, (k, _) in enumerate(kinds) if k == kind), None)
        if depth is None:
            owner = kinds[-1][1] if kinds else None
            kinds.append((kind, it))
        else:
            del kinds[depth:]
            owner = kinds[-1][1] if kinds else None
            kinds.append((kind, it))
        if owner is not None:
            owner.children.append(it)
        elif headers:
            headers[-1].children.append(it)
        else:
            roots.append(it)
    return roots


# -------------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class Condition:
    """What one item states about one facet: any of ``values`` (an "or" list)."""

    facet: TextFacet
    values: tuple[FacetValue, ...]
    sentence: str


@dataclass(frozen=True, slots=True)
class AgeLimit:
    """An age range stated in an inclusion item (years; ``None`` = open)."""

    lo: float | None
    lo_inclusive: bool
    hi: float | None
    hi_inclusive: bool
    sentence: str

    def admits(self, age: float) -> bool:
        if self.lo is not None and (age < self.lo or (age == self.lo and not self.lo_inclusive)):
            return False
        if self.hi is None:
            return True
        if self.hi_inclusive and self.hi >= 1 and self.hi == int(self.hi):
            return age < self.hi + 1  # "21 years" admits the whole 21st year
        return age <= self.hi if self.hi_inclusive else age < self.hi

    def describe(self) -> str:
        lo = "" if self.lo is None else f"{'≥' if self.lo_inclusive else '>'}{self.lo:g}"
        hi = "" if self.hi is None else f"{'≤' if self.hi_inclusive else '<'}{self.hi:g}"
        return " and ".join(p for p in (lo, hi) if p) + " years"


@dataclass(frozen=True, slots=True)
class Node:
    """One item: what it requires, what it excludes, and its sub-items."""

    text: str
    section: Section
    any_of: bool
    requires: tuple[Condition, ...]
    excludes: tuple[tuple[Condition, ...], ...]  # each: excluded when all conditions hold
    general: tuple[Condition, ...]
    ages: tuple[AgeLimit, ...]
    children: tuple[Node, ...]

    @property
    def states_population(self) -> bool:
        return bool(self.requires or self.excludes or self.ages) or any(
            c.states_population for c in self.children)

    @property
    def facets(self) -> frozenset[str]:
        """The facets this item and its sub-items require ("age" for an age range)."""
        own = {c.facet.id for c in self.requires} | ({"age"} if self.ages else set())
        return frozenset(own.union(*(c.facets for c in self.children)))

    @property
    def requires_something(self) -> bool:
        """States a requirement or an age (not only exclusions), itself or below."""
        return bool(self.requires or self.ages) or any(
            c.requires_something for c in self.children)


@dataclass(frozen=True, slots=True)
class Reading:
    """The criteria text as a tree, per section."""

    nodes: tuple[Node, ...]
    sections: frozenset[Section]

    @property
    def states_population(self) -> bool:
        return any(n.states_population for n in self.nodes if n.section != "arm")

    def all_nodes(self) -> Iterable[Node]:
        stack = list(self.nodes)
        while stack:
            n = stack.pop(0)
            yield n
            stack[0:0] = n.children


def rule_negator(tr: TextReading) -> Negator:
    """The negation test of ``criteria.yaml`` (cue words before, phrases after, per clause)."""

    def negate(text: str, start: int, end: int) -> Polarity:
        before = re.split(r"[;:]|\.\s", text[:start])[-1]
        words = " ".join(re.findall(r"\S+", before)[-5:])
        clause = re.split(r"[;:]|\.\s", text[end:])[0]
        after = clause[:80]
        if tr.negation_after.search(after):
            return "excluded"
        if tr.allowed_after.search(clause) and not tr.negation_after.search(clause):
            return "allowed"
        if tr.allowed_before is not None and tr.allowed_before.search(before.rstrip()):
            return "allowed"
        if words and tr.negation_before.search(words):
            return "negated"
        return "affirmed"

    return negate


_NUM = r"(\d+(?:\.\d+)?)"
_UNIT = r"\s*(years?|yrs?|months?|days?|y)\b"
_RANGE = re.compile(_NUM + r"\s*(?:years?\s*)?(?:-|–|to|and)\s*(<|less than|≤)?\s*" + _NUM + _UNIT,
                    re.IGNORECASE)
_LOWER = re.compile(r"(≥|>=|>|at least|older than|more than|above|over|aged)\s*" + _NUM + _UNIT,
                    re.IGNORECASE)
_UPPER = re.compile(r"(≤|<=|<|less than|younger than|under|below|up to)\s*" + _NUM + _UNIT,
                    re.IGNORECASE)


def _years(value: str, unit: str) -> float:
    n = float(value)
    u = unit.lower()
    if u.startswith("month"):
        return n / 12
    if u.startswith("day"):
        return n / 365.25
    return n


def _ages(text: str, tr: TextReading) -> tuple[AgeLimit, ...]:
    if not tr.age_items.search(text) or tr.age_skip.search(text):
        return ()
    if re.match(r"\W*age\s*:", text, re.IGNORECASE):  # "Age: Under 22": years implied
        text = re.sub(r"(\d+(?:\.\d+)?)(?!\s*(?:years?|yrs?|months?|days?|y\b|%|[\d.]))",
                      r"\1 years", text)
    if re.search(r"\bor\s*(?:≥|>=|>|<|≤)", text):
        return ()  # "aged < 1 or ≥ 6 years": two ranges, read as no single limit
    m = _RANGE.search(text)
    if m:
        strict = m.group(2) is not None and m.group(2) != "≤"
        older = re.search(r"(older|more) than\s*$", text[: m.start()], re.IGNORECASE)
        return (AgeLimit(_years(m.group(1), m.group(4)), older is None,
                         _years(m.group(3), m.group(4)), not strict, text),)
    lo_m = _LOWER.search(text)
    hi_m = _UPPER.search(text)
    if not (lo_m or hi_m):
        return ()
    lo: float | None = None
    hi: float | None = None
    lo_inc = hi_inc = True
    if lo_m:
        lo = _years(lo_m.group(2), lo_m.group(3))
        lo_inc = lo_m.group(1).lower() in ("≥", ">=", "at least", "aged")
    if hi_m:
        hi = _years(hi_m.group(2), hi_m.group(3))
        hi_inc = hi_m.group(1).lower() in ("≤", "<=", "up to")
    return (AgeLimit(lo, lo_inc, hi, hi_inc, text),)


def _mentions(text: str, facet: TextFacet, negate: Negator, section: Section,
              heading: bool = False) -> tuple[list[FacetValue], list[FacetValue]]:
    """Values the item wants and values it rules out (permissions dropped), as if read in an
    inclusion section: an exclusion section swaps them."""
    affirmed: list[FacetValue] = []
    negated: list[FacetValue] = []
    if facet.cue is not None and not facet.cue.search(text):
        return affirmed, negated
    for value in facet.values:
        for pattern in value.patterns:
            for m in pattern.finditer(text):
                if facet.cue is not None and not facet.cue.search(
                        text[max(0, m.start() - 40): m.end()]):
                    continue  # the word that puts it in the past is not next to the term
                polarity = negate(text, m.start(), m.end())
                if polarity == "excluded":  # "... are not eligible" excludes in any section
                    polarity = "negated" if section != "exclusion" else "affirmed"
                target = affirmed if polarity == "affirmed" else \
                    negated if polarity == "negated" else None
                if target is not None and value not in target:
                    target.append(value)
    if facet.only_if is not None and not heading and not any(v.name == facet.only_if
                                                             for v in (*affirmed, *negated)):
        return [], []
    return affirmed, negated


def _node(item: _Item, crit: Criteria, negate: Negator) -> Node:
    tr = crit.text_reading
    text = item.text
    requires: list[Condition] = []
    excludes: list[tuple[Condition, ...]] = []
    general: list[Condition] = []
    ages: tuple[AgeLimit, ...] = ()
    if not tr.skip_items.search(text):
        exclusion_parts: list[Condition] = []
        for facet in crit.text_facets:
            affirmed, negated = _mentions(text, facet, negate, item.section,
                                          heading=item.header or bool(item.children))
            if facet.kind == "general":
                if affirmed or negated:
                    general.append(Condition(facet, tuple(affirmed or negated), text))
                continue
            if item.section == "exclusion":
                if affirmed:
                    exclusion_parts.append(Condition(facet, tuple(affirmed), text))
                if negated:
                    requires.append(Condition(facet, tuple(negated), text))
            else:
                if affirmed:
                    requires.append(Condition(facet, tuple(affirmed), text))
                for v in negated:
                    excludes.append((Condition(facet, (v,), text),))
        if exclusion_parts:
            excludes.append(tuple(exclusion_parts))
        if item.section == "inclusion":
            ages = _ages(text, tr)
    children = _lift(tuple(_node(c, crit, negate) for c in item.children))
    any_of = bool(tr.any_of.search(text)) or _contradictory(children)
    return Node(text, item.section, any_of, tuple(requires), tuple(excludes), tuple(general),
                ages, children)


def _disjoint(a: Node, b: Node) -> bool:
    """Whether ``b`` requires values of a facet that ``a`` rules out by its own requirement."""
    mine = {c.facet.id: {v.name for v in c.values} for c in a.requires}
    return any(c.facet.id in mine and not mine[c.facet.id] & {v.name for v in c.values}
               for c in b.requires)


def _lift(children: tuple[Node, ...]) -> tuple[Node, ...]:
    """A sub-item that contradicts its parent item is the parent's sibling (copies of the
    registry text often change bullet glyphs between alternatives)."""
    from dataclasses import replace

    out: list[Node] = []
    for c in children:
        lifted = tuple(g for g in c.children if _disjoint(c, g))
        if lifted:
            out.append(replace(c, children=tuple(g for g in c.children if g not in lifted)))
            out.extend(lifted)
        else:
            out.append(c)
    return tuple(out)


def _contradictory(children: tuple[Node, ...]) -> bool:
    """Sub-items stating disjoint values of one facet are alternatives, not all required."""
    seen: dict[str, list[set[str]]] = {}
    for c in children:
        for cond in c.requires:
            names = {v.name for v in cond.values}
            earlier = seen.setdefault(cond.facet.id, [])
            if any(not prior & names for prior in earlier):
                return True
            earlier.append(names)
    return False


def read_eligibility(text: str, criteria: Criteria | None = None,
                     negator: Negator | None = None) -> Reading:
    """Split and read a criteria text (cached for the bundled rules and negation test)."""
    crit = criteria or load_criteria()
    if negator is None:
        return _read_cached(text, crit)
    return _read(text, crit, negator)


@lru_cache(maxsize=4096)
def _read_cached(text: str, crit: Criteria) -> Reading:
    return _read(text, crit, rule_negator(crit.text_reading))


def _read(text: str, crit: Criteria, negate: Negator) -> Reading:
    tr = crit.text_reading
    nodes: list[Node] = []
    sections: set[Section] = set()
    for section, segment in _sections(_normalise(text), tr):
        sections.add(section)
        items = _pieces(segment, section)
        roots = [_node(it, crit, negate) for it in _tree(items, tr)]
        nodes.extend(_alternatives(roots) if section == "inclusion" else roots)
    return Reading(tuple(nodes), frozenset(sections))


def _alternatives(roots: list[Node]) -> list[Node]:
    """Top-level items that require disjoint values of one facet cannot all hold: they are
    alternatives ("AML in one of the following: ..." and "ALL in one of the following: ...")."""
    group = list(range(len(roots)))

    def find(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    for i, a in enumerate(roots):
        for j in range(i):
            if _disjoint(roots[j], a) or _disjoint(a, roots[j]):
                group[find(i)] = find(j)
    members: dict[int, list[Node]] = {}
    for i, n in enumerate(roots):
        members.setdefault(find(i), []).append(n)
    out: list[Node] = []
    for i, n in enumerate(roots):
        same = members[find(i)]
        if len(same) == 1:
            out.append(n)
        elif same[0] is n:
            out.append(Node("(one of the items below)", n.section, True, (), (), (), (),
                            tuple(same)))
    return out
