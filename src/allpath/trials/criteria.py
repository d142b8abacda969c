"""The trial pre-screen criteria (``knowledge/trials/criteria.yaml``): load, check, compile.

The file is data: ClinicalTrials.gov's age groups and open statuses, and one *facet* per
requirement a registration can state in its text (leukemia or lymphoma, B or T lineage,
Philadelphia chromosome, newly diagnosed or relapsed, MRD, CD19/CD22/CD7 targets). Each facet
value lists the patterns that show the requirement and which patient-profile values meet it,
fail it or leave it open. Every part must cite the bibliography; a bad file raises
:class:`~allpath.errors.KnowledgeError` listing every problem with its path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from allpath.errors import KnowledgeError, Problem, did_you_mean, validation_problems
from allpath.knowledge import knowledge_dir
from allpath.rules.loader import load_citations

#: libyaml's safe loader where PyYAML has it (the same documents, several times faster)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = ["PROFILE_KEYS", "CompiledFacet", "Criteria", "FacetValue", "TextFacet", "TextReading",
           "load_criteria"]

#: Profile values a facet may compare against (see ``allpath.trials.profile``).
PROFILE_KEYS: dict[str, tuple[str, ...]] = {
    "presentation": ("leukemia", "lymphoma", "myeloid"),
    "lineage": ("B", "T"),
    "ph": ("positive", "negative"),
    "setting": ("newly_diagnosed", "in_remission", "relapsed", "refractory"),
    "mrd": ("positive", "negative"),
    "transplant": ("transplanted", "not_transplanted"),
    "infant": ("infant", "not_infant"),
    "cd19": ("positive", "negative"),
    "cd22": ("positive", "negative"),
    "cd7": ("positive", "negative"),
    "relapse_number": ("first", "second_or_later"),
    "disease_now": ("remission", "active"),
    "early_mrd": ("stated",),
    "kmt2a": ("rearranged", "germline"),
    "down_syndrome": ("yes", "no"),
    "prior_cart": ("yes", "no"),
    "prior_blinatumomab": ("yes", "no"),
    "prior_inotuzumab": ("yes", "no"),
    "cns": ("involved", "not_involved"),
    "performance": ("stated",),
    "organ_function": ("stated",),
    "relapse_site": ("isolated_cns", "isolated_extramedullary", "marrow", "none"),
    "prior_lines": ("none", "one", "at_least_one", "two_or_more"),
    "protocol_risk": ("stated",),
    "donor": ("stated",),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _AgeGroup(_Strict):
    min_years: float = Field(ge=0)
    below_years: float | None = None


class _AgeGroups(_Strict):
    cite: tuple[str, ...] = Field(min_length=1)
    groups: dict[str, _AgeGroup]


class _Statuses(_Strict):
    cite: tuple[str, ...] = Field(min_length=1)
    open: tuple[str, ...] = Field(min_length=1)


class _Value(_Strict):
    patterns: tuple[str, ...] = ()
    case_sensitive_patterns: tuple[str, ...] = ()
    met: tuple[str, ...] = Field(min_length=1)
    not_met: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


class _Facet(_Strict):
    id: str
    label: str
    profile: str
    cite: tuple[str, ...] = Field(min_length=1)
    settle: str
    values: dict[str, _Value] = Field(min_length=1)
    both: Literal["none"] = "none"
    scope: Literal["population", "any"] = "population"


class _TextFacet(_Facet):
    kind: Literal["population", "general"]
    cue: tuple[str, ...] = ()
    only_if: str | None = None  # read only from items that name this value


class _TextReading(_Strict):
    cite: tuple[str, ...] = Field(min_length=1)
    sections: dict[Literal["inclusion", "exclusion", "arm"], tuple[str, ...]]
    any_of: tuple[str, ...]
    group_words: tuple[str, ...]
    skip_items: tuple[str, ...]
    negation_before: tuple[str, ...]
    negation_after: tuple[str, ...]
    allowed_before: tuple[str, ...] = ()
    allowed_after: tuple[str, ...]
    age_items: tuple[str, ...]
    age_skip: tuple[str, ...]


class _Relevant(_Strict):
    cite: tuple[str, ...] = Field(min_length=1)
    patterns: tuple[str, ...] = ()
    case_sensitive_patterns: tuple[str, ...] = ()


class _File(_Strict):
    format: Literal["allpath.trial_criteria/1"]
    version: str
    note: str
    age_groups: _AgeGroups
    statuses: _Statuses
    relevant_condition: _Relevant
    facets: tuple[_Facet, ...]
    text_reading: _TextReading
    text_facets: tuple[_TextFacet, ...]


@dataclass(frozen=True, slots=True)
class FacetValue:
    """One requirement a study can state, with its compiled patterns."""

    name: str
    patterns: tuple[re.Pattern[str], ...]
    met: frozenset[str]
    not_met: frozenset[str]
    unknown: frozenset[str]

    def first_hit(self, text: str) -> str | None:
        """The first stretch of ``text`` that shows this requirement, if any."""
        for p in self.patterns:
            m = p.search(text)
            if m:  # widened to whole words for display ("Lymphoblastic Leuk" -> "...Leukemia")
                start, end = m.start(), m.end()
                while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
                    start -= 1
                while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
                    end += 1
                return text[start:end]
        return None


@dataclass(frozen=True, slots=True)
class CompiledFacet:
    """A facet ready to read study texts."""

    id: str
    label: str
    profile: str
    cite: tuple[str, ...]
    settle: str
    values: tuple[FacetValue, ...]
    scope: Literal["population", "any"]


@dataclass(frozen=True, slots=True)
class TextFacet:
    """A facet read from the eligibility criteria text (population or general)."""

    id: str
    label: str
    profile: str
    kind: Literal["population", "general"]
    cite: tuple[str, ...]
    settle: str
    values: tuple[FacetValue, ...]
    cue: re.Pattern[str] | None
    only_if: str | None = None


@dataclass(frozen=True, slots=True)
class TextReading:
    """How the criteria text is split and how negation is recognised (compiled)."""

    cite: tuple[str, ...]
    sections: tuple[tuple[str, re.Pattern[str]], ...]
    any_of: re.Pattern[str]
    group_words: re.Pattern[str]
    skip_items: re.Pattern[str]
    negation_before: re.Pattern[str]
    negation_after: re.Pattern[str]
    allowed_before: re.Pattern[str] | None
    allowed_after: re.Pattern[str]
    age_items: re.Pattern[str]
    age_skip: re.Pattern[str]


@dataclass(frozen=True, slots=True, eq=False)
class Criteria:
    """The whole pre-screen definition, checked and compiled (hashed by identity, so the
    per-study requirements can be cached for it)."""

    version: str
    age_groups: dict[str, tuple[float, float | None]]
    age_cite: tuple[str, ...]
    open_statuses: frozenset[str]
    status_cite: tuple[str, ...]
    relevant_condition: tuple[re.Pattern[str], ...]
    relevant_cite: tuple[str, ...]
    facets: tuple[CompiledFacet, ...]
    text_reading: TextReading
    text_facets: tuple[TextFacet, ...]

    def summary(self) -> str:
        """One line for ``allpath rules check``: version and what was checked."""
        kinds = [f.kind for f in self.text_facets]
        return (f"Trial pre-screen criteria {self.version} valid: {len(self.facets)} title "
                f"facets and {len(self.text_facets)} text facets ({kinds.count('population')} "
                f"population, {kinds.count('general')} general) and the text-reading rules, "
                "every one cited, every pattern compiled.")

    def is_relevant_condition(self, condition: str) -> bool:
        """Whether a listed condition speaks about ALL or lymphoblastic lymphoma."""
        return any(p.search(condition) for p in self.relevant_condition)

    def age_group_of(self, age_years: float) -> str | None:
        """The ClinicalTrials.gov age group an age falls in."""
        for name, (lo, below) in self.age_groups.items():
            if age_years >= lo and (below is None or age_years < below):
                return name
        return None


def _check(doc: _File, source: str) -> list[Problem]:
    citations = load_citations()
    problems: list[Problem] = []

    def cite_ok(cite: tuple[str, ...], path: str) -> None:
        for c in cite:
            if c not in citations:
                problems.append(Problem(path, f"citation {c!r} is not in the bibliography",
                                        expected="an id of knowledge/citations.yaml", got=c,
                                        hint=did_you_mean(c, citations), source=source))

    cite_ok(doc.age_groups.cite, "age_groups.cite")
    cite_ok(doc.statuses.cite, "statuses.cite")
    cite_ok(doc.relevant_condition.cite, "relevant_condition.cite")
    rel = doc.relevant_condition
    for label, pats in (("patterns", rel.patterns),
                        ("case_sensitive_patterns", rel.case_sensitive_patterns)):
        problems.extend(_bad_patterns(pats, f"relevant_condition.{label}", source))
    cite_ok(doc.text_reading.cite, "text_reading.cite")
    tr = doc.text_reading
    for label in ("any_of", "group_words", "skip_items", "negation_before", "negation_after",
                  "allowed_before", "allowed_after", "age_items", "age_skip"):
        problems.extend(_bad_patterns(getattr(tr, label), f"text_reading.{label}", source))
    for sec, pats in tr.sections.items():
        problems.extend(_bad_patterns(pats, f"text_reading.sections.{sec}", source))
    seen: set[str] = set()
    all_facets: list[tuple[str, _Facet]] = [(f"facets[{i}]", f) for i, f in enumerate(doc.facets)]
    all_facets += [(f"text_facets[{i}]", f) for i, f in enumerate(doc.text_facets)]
    text_ids: set[str] = set()
    for i, tf in enumerate(doc.text_facets):
        if tf.id in text_ids:
            problems.append(Problem(f"text_facets[{i}].id",
                                    f"text facet id {tf.id!r} is used twice", source=source))
        text_ids.add(tf.id)
        problems.extend(_bad_patterns(tf.cue, f"text_facets[{i}].cue", source))
        if tf.only_if is not None and tf.only_if not in tf.values:
            problems.append(Problem(f"text_facets[{i}].only_if", "not a value of this facet",
                                    expected=", ".join(tf.values), got=tf.only_if,
                                    source=source))
    for path, f in all_facets:
        if path.startswith("facets["):
            if f.id in seen:
                problems.append(Problem(f"{path}.id", f"facet id {f.id!r} is used twice",
                                        source=source))
            seen.add(f.id)
        cite_ok(f.cite, f"{path}.cite")
        if not f.settle.strip():
            problems.append(Problem(f"{path}.settle", "says nothing about what settles it",
                                    expected="the test or record that would settle an unknown",
                                    got=f.settle, source=source))
        allowed = PROFILE_KEYS.get(f.profile)
        if allowed is None:
            problems.append(Problem(f"{path}.profile", "unknown profile value",
                                    expected=", ".join(PROFILE_KEYS), got=f.profile,
                                    hint=did_you_mean(f.profile, PROFILE_KEYS), source=source))
            continue
        for name, v in f.values.items():
            vpath = f"{path}.values.{name}"
            if not (v.patterns or v.case_sensitive_patterns):
                problems.append(Problem(vpath, "a facet value needs at least one pattern",
                                        source=source))
            both = sorted(set(v.met) & set(v.not_met))
            if both:
                problems.append(Problem(f"{vpath}.not_met",
                                        "a profile value both meets and fails this requirement",
                                        expected="met and not_met without common values",
                                        got=", ".join(both), source=source))
            for label in ("met", "not_met", "unknown"):
                for j, item in enumerate(getattr(v, label)):
                    if item not in allowed:
                        problems.append(Problem(f"{vpath}.{label}[{j}]",
                                                f"not a value of profile {f.profile!r}",
                                                expected=", ".join(allowed), got=item,
                                                source=source))
            for label in ("patterns", "case_sensitive_patterns"):
                problems.extend(_bad_patterns(getattr(v, label), f"{vpath}.{label}", source))
    return problems


def _bad_patterns(patterns: tuple[str, ...], path: str, source: str) -> list[Problem]:
    """Patterns that do not compile, or that match the empty string (and so every text)."""
    out = []
    for j, pat in enumerate(patterns):
        try:
            compiled = re.compile(pat)
        except re.error as exc:
            out.append(Problem(f"{path}[{j}]", f"invalid regular expression: {exc}",
                               expected="a Python regular expression", got=pat,
                               source=source))
            continue
        if any(m.start() == m.end() for m in compiled.finditer(" Ab-1 ")):
            out.append(Problem(f"{path}[{j}]", "matches the empty string, so it would match "
                               "every text", expected="a pattern that needs at least one "
                               "character", got=pat, source=source))
    return out


def _patterns(folded: tuple[str, ...], exact: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """At most two compiled alternations (case-folded, exact): one search per kind."""
    out = []
    if folded:
        out.append(re.compile("|".join(f"(?:{p})" for p in folded), re.IGNORECASE))
    if exact:
        out.append(re.compile("|".join(f"(?:{p})" for p in exact)))
    return tuple(out)


def _one(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One case-insensitive alternation."""
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def _words(words: tuple[str, ...]) -> re.Pattern[str]:
    """Whole words or phrases (case-insensitive); a trailing hyphen also counts ("non-B")."""
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")(?:\b|-)",
                      re.IGNORECASE)


def _values(values: dict[str, _Value]) -> tuple[FacetValue, ...]:
    return tuple(
        FacetValue(name=name, patterns=_patterns(v.patterns, v.case_sensitive_patterns),
                   met=frozenset(v.met), not_met=frozenset(v.not_met),
                   unknown=frozenset(v.unknown))
        for name, v in values.items())


def _compile_text(doc: _File) -> tuple[TextReading, tuple[TextFacet, ...]]:
    tr = doc.text_reading
    reading = TextReading(
        cite=tr.cite,
        sections=tuple((name, _one(pats)) for name, pats in tr.sections.items()),
        any_of=_one(tr.any_of), group_words=_one(tr.group_words),
        skip_items=_one(tr.skip_items), negation_before=_words(tr.negation_before),
        negation_after=_one(tr.negation_after),
        allowed_before=_one(tr.allowed_before) if tr.allowed_before else None,
        allowed_after=_one(tr.allowed_after),
        age_items=_one(tr.age_items), age_skip=_one(tr.age_skip),
    )
    facets = tuple(
        TextFacet(id=f.id, label=f.label, profile=f.profile, kind=f.kind, cite=f.cite,
                  settle=f.settle, values=_values(f.values),
                  cue=_one(f.cue) if f.cue else None, only_if=f.only_if)
        for f in doc.text_facets)
    return reading, facets


def _compile(doc: _File) -> Criteria:
    facets = []
    for f in doc.facets:
        values = tuple(
            FacetValue(
                name=name,
                patterns=_patterns(v.patterns, v.case_sensitive_patterns),
                met=frozenset(v.met),
                not_met=frozenset(v.not_met),
                unknown=frozenset(v.unknown),
            )
            for name, v in f.values.items()
        )
        facets.append(CompiledFacet(f.id, f.label, f.profile, f.cite, f.settle, values,
                                    f.scope))
    reading, text_facets = _compile_text(doc)
    return Criteria(
        version=doc.version,
        age_groups={k: (g.min_years, g.below_years) for k, g in doc.age_groups.groups.items()},
        age_cite=doc.age_groups.cite,
        open_statuses=frozenset(doc.statuses.open),
        status_cite=doc.statuses.cite,
        relevant_condition=_patterns(doc.relevant_condition.patterns,
                                     doc.relevant_condition.case_sensitive_patterns),
        relevant_cite=doc.relevant_condition.cite,
        facets=tuple(facets),
        text_reading=reading,
        text_facets=text_facets,
    )


def read_criteria(path: Path) -> Criteria:
    """Read and check a criteria file; raise ``KnowledgeError`` with every problem."""
    source = str(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError([Problem("", f"cannot read: {exc}", source=source)],
                             source) from exc
    try:
        doc = _File.model_validate(raw)
    except ValidationError as err:
        raise KnowledgeError(validation_problems(err, source), source) from err
    problems = _check(doc, source)
    if problems:
        raise KnowledgeError(problems, source)
    return _compile(doc)


@lru_cache(maxsize=1)
def load_criteria() -> Criteria:
    """The bundled criteria (checked once, cached)."""
    return read_criteria(knowledge_dir() / "trials" / "criteria.yaml")
