"""Pre-screen registered trials for one patient: which could fit, which cannot, what is open.

For every study the matcher reads the requirements its registration states (see
``knowledge/trials/criteria.yaml``), compares each with the patient's profile and gives one
outcome per criterion: ``met``, ``not_met`` or ``unknown`` (with the test or record entry that
would settle it). A study is

* ``possible``: every stated requirement is met;
* ``check``: nothing fails, but something is unknown;
* ``excluded``: at least one requirement fails.

Open studies only, unless asked otherwise. The order puts possible before check, fewer unknowns
first, then studies whose population requirements the patient meets most specifically (a
relapsed CD19 study for a relapsed CD19-positive patient before a study that states nothing),
interventional before observational studies, recruiting before not yet recruiting, later
phases first. This is a pre-screen: the study's full
eligibility criteria and its team decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from allpath.outputs.assessment import Assessment
from allpath.trials.criteria import CompiledFacet, Criteria, FacetValue, load_criteria
from allpath.trials.eligibility import (
    AgeLimit,
    Condition,
    Negator,
    Node,
    Reading,
    best,
    read_eligibility,
    worst,
)
from allpath.trials.profile import TrialProfile, profile_from_assessment
from allpath.trials.records import Trial

__all__ = [
    "TRIALS_DISCLAIMER",
    "CriterionResult",
    "MatchReport",
    "TrialMatch",
    "match_trials",
    "study_requirements",
]

Outcome = Literal["met", "not_met", "unknown"]
Verdict = Literal["possible", "check", "excluded"]

TRIALS_DISCLAIMER = (
    "This list is a first look, not a decision. Only a trial's own team can say if someone "
    "can join, after checking all of the trial's rules. Talk with your care team about any "
    "trial on it. ALLPath supports decisions; it does not replace your doctors."
)

_VERDICT_RANK = {"possible": 0, "check": 1, "excluded": 2}
_STATUS_RANK = {"RECRUITING": 0, "ENROLLING_BY_INVITATION": 1, "NOT_YET_RECRUITING": 2,
                "AVAILABLE": 3}


@dataclass(frozen=True, slots=True)
class Requirement:
    """A requirement read from a registration: the facet value and the words that showed it."""

    facet: CompiledFacet
    value: FacetValue
    evidence: str
    where: str  # "title", "conditions" or "text"


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """One criterion of one study, compared with the patient."""

    criterion: str
    label: str
    requires: str
    evidence: str | None
    patient: str | float | None
    outcome: Outcome
    settle: str | None
    cite: tuple[str, ...]
    patient_rule: str | None = None
    patient_cite: tuple[str, ...] = ()
    #: "population" criteria decide the verdict; "general" ones (organ function, performance
    #: status, CNS, a criteria copy that ended early) are listed for the team to settle
    kind: Literal["population", "general"] = "population"

    def to_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion, "label": self.label, "requires": self.requires,
            "evidence": self.evidence, "patient": self.patient, "outcome": self.outcome,
            "settle": self.settle, "citations": list(self.cite),
            "patient_rule_id": self.patient_rule, "patient_citations": list(self.patient_cite),
            "kind": self.kind,
        }


@dataclass(frozen=True, slots=True)
class TrialMatch:
    """A study and how the patient compares with what it states."""

    trial: Trial
    verdict: Verdict
    criteria: tuple[CriterionResult, ...]
    #: (unknown population criteria, population fit, drug targets) for the ranking
    rank: tuple[int, int, int] | None = field(default=None, compare=False, repr=False)

    @property
    def unknown(self) -> tuple[CriterionResult, ...]:
        """Unknown criteria that keep the verdict at "check" (population criteria)."""
        return tuple(c for c in self.criteria
                     if c.outcome == "unknown" and c.kind == "population")

    @property
    def to_confirm(self) -> tuple[CriterionResult, ...]:
        """General criteria the study team checks (organ function, performance status...)."""
        return tuple(c for c in self.criteria if c.outcome == "unknown" and c.kind == "general")

    @property
    def failed(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if c.outcome == "not_met")

    def to_dict(self) -> dict[str, Any]:
        t = self.trial
        return {
            "nct_id": t.nct_id, "title": t.title, "url": t.url, "status": t.status,
            "phases": list(t.phases), "study_type": t.study_type, "sponsor": t.sponsor,
            "verdict": self.verdict,
            "criteria": [c.to_dict() for c in self.criteria],
            "to_settle": [c.settle for c in self.unknown if c.settle],
            "to_confirm": [c.settle for c in self.to_confirm if c.settle],
            "sites": len(t.sites),
        }


@dataclass(frozen=True, slots=True)
class MatchReport:
    """The pre-screen of a set of studies for one patient."""

    patient_id: str | None
    profile: TrialProfile
    criteria_version: str
    screened: int
    counts: dict[str, int]
    matches: tuple[TrialMatch, ...]
    notes: tuple[str, ...] = ()

    def count(self, verdict: Verdict) -> int:
        """How many screened studies got ``verdict`` (listed in ``matches`` or not)."""
        return self.counts.get(verdict, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "allpath.trial_matches/1",
            "patient_id": self.patient_id,
            "criteria_version": self.criteria_version,
            "disclaimer": TRIALS_DISCLAIMER,
            "profile": self.profile.to_dict(),
            "screened": self.screened,
            "counts": dict(self.counts),
            "notes": list(self.notes),
            "matches": [m.to_dict() for m in self.matches],
        }


def _population_requirement(trial: Trial, facet: CompiledFacet,
                            relevant: list[str]) -> Requirement | None:
    title_hits = [(v, h) for v in facet.values if (h := v.first_hit(trial.title))]
    if len(title_hits) == 1:
        return Requirement(facet, title_hits[0][0], title_hits[0][1], "title")
    if title_hits:
        return None  # the title names both: no requirement
    if not relevant:
        return None
    chosen: FacetValue | None = None
    evidence = ""
    for cond in relevant:
        hits = [(v, h) for v in facet.values if (h := v.first_hit(cond))]
        if len(hits) != 1 or (chosen is not None and hits[0][0].name != chosen.name):
            return None
        chosen, evidence = hits[0][0], hits[0][1]
    return None if chosen is None else Requirement(facet, chosen, evidence, "conditions")


def _any_requirement(trial: Trial, facet: CompiledFacet) -> Requirement | None:
    units = (trial.title, *trial.conditions, *trial.keywords, *trial.interventions)
    for v in facet.values:
        for unit in units:
            hit = v.first_hit(unit)
            if hit:
                return Requirement(facet, v, hit, "text")
    return None


def study_requirements(trial: Trial, criteria: Criteria | None = None) -> list[Requirement]:
    """The population requirements a registration states, facet by facet."""
    return list(_requirements(trial.title, trial.conditions, trial.keywords,
                              trial.interventions, criteria or load_criteria()))


@lru_cache(maxsize=65536)
def _requirements(title: str, conditions: tuple[str, ...], keywords: tuple[str, ...],
                  interventions: tuple[str, ...], crit: Criteria) -> tuple[Requirement, ...]:
    # patient-independent: cached by the study's text, so a registry is read once
    text = Trial(nct_id="", title=title, status="", conditions=conditions, keywords=keywords,
                 interventions=interventions)
    relevant = [c for c in conditions if crit.is_relevant_condition(c)]
    out = []
    for facet in crit.facets:
        req = (_population_requirement(text, facet, relevant) if facet.scope == "population"
               else _any_requirement(text, facet))
        if req is not None:
            out.append(req)
    return tuple(out)


def _facet_result(req: Requirement, profile: TrialProfile) -> CriterionResult:
    item = profile.items.get(req.facet.profile)
    value = None if item is None else item.value
    if value is None:
        outcome: Outcome = "unknown"
    elif value in req.value.met:
        outcome = "met"
    elif value in req.value.not_met:
        outcome = "not_met"
    else:
        outcome = "unknown"
    return CriterionResult(
        criterion=req.facet.id, label=req.facet.label, requires=req.value.name,
        evidence=f"{req.where}: {req.evidence}", patient=value, outcome=outcome,
        settle=req.facet.settle if outcome == "unknown" else None, cite=req.facet.cite,
        patient_rule=None if item is None else item.rule_id,
        patient_cite=() if item is None else item.cite,
    )


def _years(x: float) -> str:
    return f"{x:g}"


def _age_result(trial: Trial, profile: TrialProfile, criteria: Criteria,
                text_ages: bool) -> CriterionResult | None:
    """The registry's age limits. Exact ages decide; age groups alone can only rule out
    (ClinicalTrials.gov derives them from the exact limits, so "Adult" may mean 18 to 21)."""
    age = profile.value("age_years")
    item = profile.items.get("age_years")
    if trial.has_exact_ages:
        lo = trial.min_age_years or 0.0
        hi = trial.max_age_years
        upper = f"{_years(hi)} years" if hi is not None else "no upper limit"
        requires = f"{_years(lo)} to {upper}"
        evidence = "eligibility: minimum and maximum age"
    elif trial.age_groups:
        requires = ", ".join(g for g in ("CHILD", "ADULT", "OLDER_ADULT")
                             if g in trial.age_groups)
        evidence = "registration: age groups"
    elif text_ages:
        return None  # the criteria text states the ages
    else:
        return CriterionResult("age", "Age", "not stated in this record", None, age, "unknown",
                               "the study's exact age limits (on its ClinicalTrials.gov page)",
                               criteria.age_cite)
    if not isinstance(age, float | int):
        return CriterionResult("age", "Age", requires, evidence, None, "unknown",
                               "the date of birth", criteria.age_cite)
    cite = () if item is None else item.cite
    if trial.has_exact_ages:
        lo = trial.min_age_years or 0.0
        hi = trial.max_age_years
        # "17 Years" admits a 17-year-old until the 18th birthday
        upper_ok = hi is None or (age < hi + 1 if hi >= 1 and hi == int(hi) else age <= hi)
        ok = age >= lo and upper_ok
        return CriterionResult("age", "Age", requires, evidence, age,
                               "met" if ok else "not_met", None, criteria.age_cite,
                               patient_cite=cite)
    if criteria.age_group_of(float(age)) not in trial.age_groups:
        return CriterionResult("age", "Age", requires, evidence, age, "not_met", None,
                               criteria.age_cite, patient_cite=cite)
    if text_ages:
        return None  # the group fits; the text's exact ages decide
    return CriterionResult("age", "Age", requires, evidence, age, "unknown",
                           "the study's exact age limits (an age group is wider than them)",
                           criteria.age_cite, patient_cite=cite)


# ------------------------------------------------------------------- the criteria text


def _value_outcome(value: FacetValue, patient: str | float | None) -> Outcome:
    if patient is None:
        return "unknown"
    if patient in value.met:
        return "met"
    if patient in value.not_met:
        return "not_met"
    return "unknown"


def _short(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _condition_result(cond: Condition, profile: TrialProfile) -> CriterionResult:
    item = profile.items.get(cond.facet.profile)
    value = None if item is None else item.value
    outcome = best(_value_outcome(v, value) for v in cond.values)
    return CriterionResult(
        criterion=f"text.{cond.facet.id}", label=cond.facet.label,
        requires=" or ".join(v.name for v in cond.values),
        evidence=f"inclusion: {_short(cond.sentence)}", patient=value, outcome=outcome,
        settle=cond.facet.settle if outcome == "unknown" else None, cite=cond.facet.cite,
        patient_rule=None if item is None else item.rule_id,
        patient_cite=() if item is None else item.cite)


_FLIP: dict[Outcome, Outcome] = {"met": "not_met", "not_met": "met", "unknown": "unknown"}


def _exclusion_result(parts: tuple[Condition, ...], section: str,
                      profile: TrialProfile) -> CriterionResult:
    """An exclusion applies only when every condition it states holds."""
    holds = worst(best(_value_outcome(v, profile.value(c.facet.profile)) for v in c.values)
                  for c in parts)
    outcome = _FLIP[holds]
    unknown = [c for c in parts
               if best(_value_outcome(v, profile.value(c.facet.profile)) for v in c.values)
               == "unknown"]
    patient = "; ".join(f"{c.facet.profile}={profile.value(c.facet.profile)}" for c in parts)
    return CriterionResult(
        criterion="text.exclusion." + "+".join(c.facet.id for c in parts),
        label="Not: " + ", ".join(c.facet.label for c in parts),
        requires="not " + " and ".join(" or ".join(v.name for v in c.values) for c in parts),
        evidence=f"{section}: {_short(parts[0].sentence)}", patient=patient, outcome=outcome,
        settle="; ".join(c.facet.settle for c in unknown) if outcome == "unknown" else None,
        cite=tuple(dict.fromkeys(x for c in parts for x in c.facet.cite)))


def _text_age_result(limit: AgeLimit, profile: TrialProfile,
                     criteria: Criteria) -> CriterionResult:
    age = profile.value("age_years")
    if not isinstance(age, float | int):
        outcome: Outcome = "unknown"
    else:
        outcome = "met" if limit.admits(float(age)) else "not_met"
    return CriterionResult("text.age", "Age", limit.describe(),
                           f"inclusion: {_short(limit.sentence)}", age, outcome,
                           "the date of birth" if outcome == "unknown" else None,
                           criteria.age_cite)


def _node_results(node: Node, profile: TrialProfile, criteria: Criteria,
                  ages: bool) -> list[CriterionResult]:
    out = [_condition_result(c, profile) for c in node.requires]
    out += [_exclusion_result(parts, node.section, profile) for parts in node.excludes]
    if ages:
        out += [_text_age_result(a, profile, criteria) for a in node.ages]
    kids = [k for k in node.children if k.states_population]
    if node.any_of and any(k.requires_something for k in kids):
        # a group that states no population (a risk group defined by response) could still
        # be the one that fits; a single item without one (consent) is not an alternative,
        # and an item that only excludes ("No isolated CNS relapse") holds for all of them
        # alternatives speak about the same thing (the disease setting, say); an item under
        # "any of the following" that states only something else (an age) holds for all
        counts: dict[str, int] = {}
        for k in kids:
            for f in k.facets:
                counts[f] = counts.get(f, 0) + 1
        shared = {f for f, n in counts.items() if n >= 2}
        alternative = [k for k in node.children
                       if (k.requires_something and (not shared or k.facets & shared))
                       or (k.children and not k.states_population)]
        for k in kids:
            if k not in alternative:
                out += _node_results(k, profile, criteria, ages)
        options = [(k, _node_results(k, profile, criteria, ages)) for k in alternative]
        outcomes: list[Outcome] = [worst(r.outcome for r in rs) if k.states_population
                                   else "unknown" for k, rs in options]
        chosen = max(range(len(options)), key=lambda i: {"not_met": 0, "unknown": 1,
                                                         "met": 2}[outcomes[i]])
        k, rs = options[chosen]
        settle = "; ".join(dict.fromkeys(r.settle for r in rs
                                          if r.outcome == "unknown" and r.settle))
        failing = sorted({r.criterion.split(".", 1)[-1] for r in rs if r.outcome != "met"})
        out.append(CriterionResult(
            "text.one_of" + (":" + "+".join(failing) if failing else ""), "One of these",
            " | ".join(_short(o.text, 80) for o, _ in options),
            f"{node.section}: {_short(k.text)}", None, outcomes[chosen], settle or None,
            tuple(dict.fromkeys(c for r in rs for c in r.cite)) or criteria.text_reading.cite))
    else:
        for k in kids:
            out += _node_results(k, profile, criteria, ages)
    return out


def _text_results(reading: Reading, trial: Trial, profile: TrialProfile,
                  criteria: Criteria) -> list[CriterionResult]:
    ages = not trial.has_exact_ages
    out: list[CriterionResult] = []
    for node in reading.nodes:
        if node.section != "arm":
            out += _node_results(node, profile, criteria, ages)
    seen: set[str] = set()
    for node in reading.all_nodes():
        for cond in node.general:
            if cond.facet.id in seen or node.section == "arm":
                continue
            seen.add(cond.facet.id)
            out.append(CriterionResult(
                f"text.{cond.facet.id}", cond.facet.label, "as the criteria state",
                f"{node.section}: {_short(cond.sentence)}", None, "unknown", cond.facet.settle,
                cond.facet.cite, kind="general"))
    if not reading.states_population:
        out.append(CriterionResult(
            "text.population", "Who the study is for", "a population stated in the criteria",
            "eligibility: the criteria text names no disease setting, type or age", None,
            "unknown", "the study's full eligibility criteria, with its team",
            criteria.text_reading.cite))
    if trial.eligibility_complete is False:
        out.append(CriterionResult(
            "text.complete", "Rest of the criteria", "the full criteria list",
            "eligibility: the copy of the criteria text ended early", None, "unknown",
            "the rest of the criteria on the study's ClinicalTrials.gov page",
            criteria.text_reading.cite, kind="general"))
    return out


def _sex_result(trial: Trial, profile: TrialProfile) -> CriterionResult | None:
    if trial.sex in (None, "", "ALL"):
        return None
    sex = profile.value("sex")
    wanted = str(trial.sex).lower()
    if sex not in ("female", "male"):
        return CriterionResult("sex", "Sex", wanted, "registration: sex", sex, "unknown",
                               "the patient's sex in the record", ("CTGOV-API2",))
    return CriterionResult("sex", "Sex", wanted, "registration: sex", sex,
                           "met" if sex == wanted else "not_met", None, ("CTGOV-API2",))


def _status_result(trial: Trial, criteria: Criteria) -> CriterionResult:
    is_open = trial.status in criteria.open_statuses
    return CriterionResult("status", "Taking new participants", "open status",
                           f"registration: {trial.status}", None,
                           "met" if is_open else "not_met", None, criteria.status_cite)


#: which criteria-text facet covers each registration (title) facet
_TITLE_TO_TEXT = {"disease": "disease_type", "infant": "age", "target.CD19": "cd19",
                  "target.CD22": "cd22", "target.CD7": "cd7"}


def _reading_facts(reading: Reading) -> tuple[bool, frozenset[str]]:
    """Whether the text states ages, and the facets it states."""
    return any(n.ages for n in reading.all_nodes()), _text_facets(reading)


def _text_facets(reading: Reading) -> frozenset[str]:
    """The facets the criteria text states anywhere ("age" when it states an age range)."""
    out: set[str] = set()
    for n in reading.all_nodes():
        out.update(c.facet.id for c in n.requires)
        out.update(c.facet.id for parts in n.excludes for c in parts)
        if n.ages:
            out.add("age")
    return frozenset(out)


@lru_cache(maxsize=16)
def _no_text(source: str) -> CriterionResult:
    return CriterionResult(
        "eligibility_text", "Full eligibility criteria", "the study's criteria text",
        f"registration ({source}): no eligibility criteria text in this record", None,
        "unknown", "the study's full eligibility criteria (on its ClinicalTrials.gov page)",
        ("CTGOV-API2",))


def screen_trial(trial: Trial, profile: TrialProfile, criteria: Criteria | None = None, *,
                 check_status: bool = True, negator: Negator | None = None,
                 memo: dict[Any, Any] | None = None) -> TrialMatch:
    """Compare one study with one patient.

    The registration (status, exact ages or age groups, sex, title and conditions) is read
    first, then the eligibility criteria text when the record has it. ``possible`` needs
    every population criterion met; a record without criteria text is at best ``check``.
    """
    crit = criteria or load_criteria()
    reading = (read_eligibility(trial.eligibility_text, crit, negator)
               if trial.eligibility_text else None)
    stated: frozenset[str] = frozenset()
    if reading is None:
        text_ages = False
    elif memo is None:
        text_ages, stated = _reading_facts(reading)
    else:  # patient-independent, once per text within a call
        fkey = ("reading", id(reading))
        if fkey not in memo:
            memo[fkey] = (reading, _reading_facts(reading))  # keeps reading alive for its id
        text_ages, stated = memo[fkey][1]
    results: list[CriterionResult] = []
    if check_status:
        if memo is None:
            results.append(_status_result(trial, crit))
        else:
            skey = ("status", trial.status)
            if skey not in memo:
                memo[skey] = _status_result(trial, crit)
            results.append(memo[skey])
    ages_from_text = text_ages and not trial.has_exact_ages
    if memo is None:
        age = _age_result(trial, profile, crit, ages_from_text)
    else:  # one patient, many studies: the same limits give the same result
        key = ("age", trial.has_exact_ages, trial.min_age_years, trial.max_age_years,
               trial.age_groups, ages_from_text)
        if key not in memo:
            memo[key] = _age_result(trial, profile, crit, ages_from_text)
        age = memo[key]
    if age is not None:
        results.append(age)
    sex = _sex_result(trial, profile)
    if sex is not None:
        results.append(sex)
    reqs = _requirements(trial.title, trial.conditions, trial.keywords, trial.interventions,
                         crit)
    if reading is None:  # the title and conditions speak for the study
        if memo is None:
            results.extend(_facet_result(req, profile) for req in reqs)
        else:  # one patient, many studies: the same words give the same result
            rkey = ("reqs", id(reqs))
            if rkey not in memo:  # keeps reqs alive for its id
                memo[rkey] = (reqs, [_memo_facet_result(req, profile, memo) for req in reqs])
            results.extend(memo[rkey][1])
        results.append(_no_text(trial.source))
    else:
        if stated and trial.has_exact_ages:
            stated = stated | {"age"}
        if not reading.states_population or stated:
            # the title and conditions speak only about what the criteria text does not state
            for req in reqs:
                if reading.states_population and \
                        _TITLE_TO_TEXT.get(req.facet.id, req.facet.id) in stated:
                    continue
                results.append(_facet_result(req, profile) if memo is None
                               else _memo_facet_result(req, profile, memo))
        if memo is None:
            results.extend(_text_results(reading, trial, profile, crit))
        else:  # the same text read for the same patient gives the same results
            tkey = ("text", id(reading), trial.has_exact_ages, trial.eligibility_complete)
            if tkey not in memo:
                memo[tkey] = (reading, _text_results(reading, trial, profile, crit))
            results.extend(memo[tkey][1])
    verdict: Verdict = "possible"
    for r in results:
        if r.kind == "population":
            if r.outcome == "not_met":
                verdict = "excluded"
                break
            if r.outcome == "unknown":
                verdict = "check"
    rank = None if memo is None else _rank(results, memo)
    return TrialMatch(trial, verdict, tuple(results), rank)


def _memo_facet_result(req: Requirement, profile: TrialProfile,
                       memo: dict[Any, Any]) -> CriterionResult:
    """``_facet_result`` shared by every requirement with the same facet value and words
    (most registrations say "Acute Lymphoblastic Leukemia" the same way)."""
    key = ("req", req.facet.id, req.value.name, req.where, req.evidence)
    found: CriterionResult | None = memo.get(key)
    if found is None:
        found = memo[key] = _facet_result(req, profile)
    return found


@lru_cache(maxsize=64)
def _phase_rank(phases: tuple[str, ...]) -> int:
    digits = [int(p[-1]) for p in phases if p[-1:].isdigit()]
    return max(digits, default=0)


_POPULATION = frozenset({"setting", "lineage", "philadelphia", "infant", "kmt2a", "remission",
                         "relapse_number", "mrd", "early_mrd", "disease", "transplant",
                         "down_syndrome", "age"})
_TARGETS = frozenset({"cd19", "cd22", "cd7", "target.CD19", "target.CD22", "target.CD7"})


def _weight(c: CriterionResult) -> tuple[int, int, int]:
    """What one criterion adds to the ranking: (unknown, population fit, drug target)."""
    if c.outcome == "unknown":
        return (int(c.kind == "population"), 0, 0)
    if c.outcome == "met" and c.criterion != "status":
        name = c.criterion.removeprefix("text.")
        if name in _POPULATION and not (name == "age" and
                                        c.evidence == "registration: age groups"):
            return (0, 2 if name == "setting" else 1, 0)  # the setting weighs most
        if name in _TARGETS:
            return (0, 0, 1)
    return (0, 0, 0)


def _rank(results: Iterable[CriterionResult], memo: dict[Any, Any]) -> tuple[int, int, int]:
    """The summed weights of a study's criteria; each criterion's weight is kept in ``memo``
    by identity (criterion results are shared between studies within one pre-screen)."""
    unknown = population = targets = 0
    for c in results:
        hit = memo.get(id(c))
        if hit is None:
            hit = memo[id(c)] = (c, _weight(c))  # keeps c alive for its id
        w = hit[1]
        unknown += w[0]
        population += w[1]
        targets += w[2]
    return unknown, population, targets


def _sort_key(m: TrialMatch) -> tuple[int, int, int, int, int, int, int, str]:
    """Possible before check; then fewer unknowns; population fit (setting, lineage, age,
    infant, Ph) before drug targets; treatment studies before observational ones; recruiting
    first; later phase."""
    unknown, population, targets = m.rank if m.rank is not None else _rank(m.criteria, {})
    observational = int(m.trial.study_type not in (None, "INTERVENTIONAL"))
    return (_VERDICT_RANK[m.verdict], unknown, -population, -targets, observational,
            _STATUS_RANK.get(m.trial.status, 9), -_phase_rank(m.trial.phases), m.trial.nct_id)


def _in_country(trial: Trial, country: str) -> bool:
    want = country.casefold()
    return any((s.country or "").casefold() == want for s in trial.sites)


def match_trials(patient: Assessment | TrialProfile, trials: Iterable[Trial], *,
                 criteria: Criteria | None = None, include_closed: bool = False,
                 include_excluded: bool = False, country: str | None = None,
                 limit: int | None = None) -> MatchReport:
    """Pre-screen ``trials`` for one patient (an assessment or a ready profile).

    Closed studies are skipped unless ``include_closed``; with ``country``, so are studies
    with no site in that country (as registered, e.g. ``"United States"``). Studies with a
    failed requirement are left out of ``matches`` unless ``include_excluded``; ``screened``
    and ``counts`` cover every study compared either way.
    """
    crit = criteria or load_criteria()
    profile = patient if isinstance(patient, TrialProfile) else profile_from_assessment(patient)
    counts = {"possible": 0, "check": 0, "excluded": 0}
    out: list[TrialMatch] = []
    memo: dict[Any, Any] = {}
    for trial in trials:
        if not include_closed and trial.status not in crit.open_statuses:
            continue
        if country is not None and not _in_country(trial, country):
            continue
        m = screen_trial(trial, profile, crit, memo=memo)
        counts[m.verdict] += 1
        if m.verdict != "excluded" or include_excluded:
            out.append(m)
    out.sort(key=_sort_key)
    chosen: Sequence[TrialMatch] = out if limit is None else out[:limit]
    notes = []
    if profile.value("presentation") is None:
        notes.append("This record does not establish ALL or lymphoblastic lymphoma yet, so "
                     "no study can be confirmed: a bone marrow test with flow cytometry "
                     "settles the diagnosis first.")
    if profile.value("age_years") is None:
        notes.append("The age is unknown: the date of birth (and of diagnosis) is needed "
                     "for every study's age limits.")
    return MatchReport(profile.patient_id, profile, crit.version, sum(counts.values()),
                       counts, tuple(chosen), tuple(notes))
