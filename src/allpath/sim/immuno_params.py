"""Immunotherapy parameters: the parser of ``knowledge/sim/immunotherapy.yaml``.

Regimens (:class:`Course`), r/r study cohorts (:class:`RelapsedCohort`), frontline variants
with blinatumomab cycles (:class:`FrontlineSpec`) and the parameter values with their
citations and evidence grades (:class:`ImmunoParameters`). The model that uses them is
described in :mod:`allpath.sim.immuno`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from allpath.errors import KnowledgeError, Problem
from allpath.sim.params import (
    Evidence,
    Parameter,
    ParameterSet,
    Population,
    knowledge_path,
    parse_citations,
    parse_evidence,
    parse_iiv,
    parse_number,
    read_yaml,
)
from allpath.sim.population import SUBTYPES

__all__ = [
    "AGENTS",
    "REQUIRED",
    "Course",
    "FrontlineSpec",
    "ImmunoParameters",
    "RelapsedCohort",
    "load_immunotherapy",
    "parse_immunotherapy",
]

AGENTS: tuple[str, ...] = ("chemotherapy", "blinatumomab", "car_t")


# --------------------------------------------------------------------------------------------
# knowledge file
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Course:
    """One course of a regimen: an agent given from day ``start`` for ``days`` days."""

    agent: str
    start: int
    days: int
    dose_ug_d: float = 0.0
    dose_ug_m2_d: float = 0.0
    responders_only: bool = False

    @property
    def stop(self) -> int:
        """First day after the course."""
        return self.start + self.days


@dataclass(frozen=True, slots=True)
class RelapsedCohort:
    """An r/r study preset: regimen, entry burden, response rule, population and horizon."""

    name: str
    title: str
    regimen: str
    courses: tuple[Course, ...]
    entry: str  # "relapse" (overt, B ~ Beta) or "mrd" (haematological CR with MRD)
    response: str  # "morphologic" (B < 5 %) or "mrd" (MRD below the 1e-4 detection limit)
    assess_days: tuple[int, ...]
    horizon_days: int
    population: Population
    citations: tuple[str, ...]
    evidence: Evidence
    note: str = ""
    #: Share of the patients in remission on ``transplant_day`` who go to allogeneic HSCT
    #: (the log kill and transplant mortality of relapse_therapy.yaml); 0: none.
    transplant_share: float = 0.0
    transplant_day: int = 0
    #: A relapse after remission is treated by the salvage roadmap of
    #: :mod:`allpath.sim.salvage` (block 1, CR2, HSCT), not left to the death hazard; with the
    #: relapse_therapy.yaml variant ``salvage_variant`` (None: the population's).
    salvage_after_relapse: bool = False
    salvage_variant: int | None = None


@dataclass(frozen=True, slots=True)
class FrontlineSpec:
    """A frontline protocol variant: blinatumomab cycles inserted after named phases."""

    name: str
    title: str
    base_protocol: str
    population: Population
    insert_after: Mapping[str, tuple[float, ...]]  # phase name -> infusion rate of each cycle
    cycle_days: int
    infusion_days: int
    randomisation_phase: str
    citations: tuple[str, ...]
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class ImmunoParameters:
    """The validated immunotherapy knowledge file (frozen)."""

    version: str
    parameters: Mapping[str, Parameter]
    citations: Mapping[str, Mapping[str, str]]
    cohorts: Mapping[str, RelapsedCohort]
    frontline: Mapping[str, FrontlineSpec]
    fitted: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    source: str = ""

    def value(self, name: str) -> float:
        """Typical value of parameter ``name``."""
        return float(self.parameters[name].value)

    def omega(self, name: str) -> float:
        """Log-normal IIV omega of ``name`` (0 without IIV)."""
        iiv = self.parameters[name].iiv
        return iiv.omega if iiv is not None else 0.0

    def with_values(self, values: Mapping[str, float]) -> ImmunoParameters:
        """A copy with some typical values replaced (calibration)."""
        pars = dict(self.parameters)
        for key, v in values.items():
            pars[key] = replace(pars[key], value=float(v))
        return replace(self, parameters=pars)


def _population(entry: Mapping[str, Any], path: str, problems: list[Problem], src: str,
                cites: tuple[str, ...], evidence: Evidence, protocol: str) -> Population:
    pop = entry.get("parameters")
    if pop not in ("adult", "pediatric"):
        problems.append(Problem(f"{path}.parameters", "must be adult or pediatric",
                                got=repr(pop), source=src))
        pop = "adult"
    age = entry.get("age_years")
    if not isinstance(age, dict) or age.get("distribution") not in (
        "uniform", "lognormal_truncated"
    ):
        problems.append(Problem(f"{path}.age_years", "needs a uniform or lognormal_truncated "
                                "distribution", source=src))
        age = {"distribution": "uniform", "low": 18.0, "high": 60.0}
    subtypes = {str(k): float(v) for k, v in (entry.get("subtypes") or {"B-ALL": 1.0}).items()}
    if abs(sum(subtypes.values()) - 1.0) > 1e-9 or not set(subtypes) <= set(SUBTYPES):
        problems.append(Problem(f"{path}.subtypes", "fractions of known subtypes summing to 1",
                                source=src))
    return Population(
        name=str(pop), protocol=protocol, age=dict(age),
        male_fraction=parse_number(entry.get("male_fraction", 0.55), f"{path}.male_fraction",
                           problems, src),
        subtypes=subtypes, citations=cites, evidence=evidence,
    )  # fmt: skip


def _courses(raw: Any, path: str, problems: list[Problem], src: str) -> tuple[Course, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append(Problem(path, "needs a non-empty list of courses", source=src))
        return ()
    out: list[Course] = []
    for i, c in enumerate(raw):
        cp = f"{path}[{i}]"
        if not isinstance(c, dict) or c.get("agent") not in AGENTS:
            problems.append(Problem(f"{cp}.agent", "unknown agent", expected=", ".join(AGENTS),
                                    got=repr(c.get("agent") if isinstance(c, dict) else c),
                                    source=src))
            continue
        start, days = c.get("start"), c.get("days")
        if not isinstance(start, int) or start < 0 or not isinstance(days, int) or days <= 0:
            problems.append(Problem(cp, "start >= 0 and days > 0 must be integers", source=src))
            continue
        course = Course(
            agent=str(c["agent"]), start=start, days=days,
            dose_ug_d=float(c.get("dose_ug_d", 0.0)),
            dose_ug_m2_d=float(c.get("dose_ug_m2_d", 0.0)),
            responders_only=bool(c.get("responders_only", False)),
        )  # fmt: skip
        if course.agent == "blinatumomab" and (course.dose_ug_d > 0) == (course.dose_ug_m2_d > 0):
            problems.append(Problem(cp, "blinatumomab needs exactly one of dose_ug_d, "
                                    "dose_ug_m2_d", source=src))
        if out and course.start < out[-1].stop:
            problems.append(Problem(cp, "courses must be in order and must not overlap",
                                    source=src))
        out.append(course)
    return tuple(out)


def parse_immunotherapy(
    data: Any, known_citations: Mapping[str, Any] | None = None, source: str = "<memory>"
) -> ImmunoParameters:
    """Validate a parsed immunotherapy document; raises :class:`KnowledgeError` listing every
    problem. ``known_citations`` (parameters.yaml's) may be cited besides the file's own."""
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise KnowledgeError([Problem("", "immunotherapy file must be a mapping")], source)
    version = data.get("version")
    if not isinstance(version, str) or not version:
        problems.append(Problem("version", "missing version string", source=source))
    cits: dict[str, Mapping[str, str]] = {
        str(k): {str(kk): str(vv) for kk, vv in v.items()}
        for k, v in (known_citations or {}).items()
    }
    for key, entry in (data.get("citations") or {}).items():
        if not isinstance(entry, dict) or not entry.get("text"):
            problems.append(Problem(f"citations.{key}", "citation needs a text", source=source))
            continue
        cits[str(key)] = {str(k): str(v) for k, v in entry.items()}
    params: dict[str, Parameter] = {}
    fitted: dict[str, Mapping[str, str]] = {}
    for name, entry in (data.get("parameters") or {}).items():
        path = f"parameters.{name}"
        if not isinstance(entry, dict):
            problems.append(Problem(path, "must be a mapping", source=source))
            continue
        unit = entry.get("unit")
        if not isinstance(unit, str) or not unit:
            problems.append(Problem(f"{path}.unit", "missing unit", source=source))
            unit = ""
        evidence = parse_evidence(entry.get("evidence"), f"{path}.evidence", problems, source)
        fit = entry.get("fitted")
        if fit is not None:
            if not isinstance(fit, dict) or not fit.get("by") or not fit.get("targets"):
                problems.append(Problem(f"{path}.fitted", "needs by and targets", source=source))
            else:
                fitted[str(name)] = {str(k): str(v) for k, v in fit.items()}
            if evidence is not Evidence.TOY:
                problems.append(Problem(f"{path}.evidence", "a fitted value is graded toy",
                                        got=evidence.value, source=source))
        params[str(name)] = Parameter(
            name=str(name),
            symbol=str(entry.get("symbol", name)),
            value=parse_number(entry.get("value"), f"{path}.value", problems, source),
            unit=unit,
            citations=parse_citations(entry.get("citations"), f"{path}.citations", cits, problems,
                                 source),
            evidence=evidence,
            iiv=parse_iiv(entry.get("iiv"), f"{path}.iiv", problems, source),
            note=str(entry.get("note", "")),
        )
    missing = sorted(set(REQUIRED) - set(params))
    if missing:
        problems.append(Problem("parameters", "missing parameters", expected=", ".join(missing),
                                source=source))
    regimens: dict[str, tuple[Course, ...]] = {}
    for name, entry in (data.get("regimens") or {}).items():
        path = f"regimens.{name}"
        parse_citations(entry.get("citations"), f"{path}.citations", cits, problems, source)
        parse_evidence(entry.get("evidence"), f"{path}.evidence", problems, source)
        regimens[str(name)] = _courses(entry.get("courses"), f"{path}.courses", problems, source)
    cohorts: dict[str, RelapsedCohort] = {}
    for name, entry in (data.get("cohorts") or {}).items():
        path = f"cohorts.{name}"
        cites = parse_citations(entry.get("citations"), f"{path}.citations", cits, problems, source)
        ev = parse_evidence(entry.get("evidence"), f"{path}.evidence", problems, source)
        reg = str(entry.get("regimen"))
        if reg not in regimens:
            problems.append(Problem(f"{path}.regimen", "unknown regimen", got=reg, source=source))
        entry_kind, response = entry.get("entry"), entry.get("response")
        if entry_kind not in ("relapse", "mrd"):
            problems.append(Problem(f"{path}.entry", "must be relapse or mrd", source=source))
        if response not in ("morphologic", "mrd"):
            problems.append(Problem(f"{path}.response", "must be morphologic or mrd",
                                    source=source))
        assess = entry.get("assess_days")
        if (not isinstance(assess, list) or not assess
                or any(not isinstance(d, int) or d <= 0 for d in assess)
                or sorted(assess) != assess):
            problems.append(Problem(f"{path}.assess_days", "increasing positive integers",
                                    source=source))
            assess = [28]
        horizon = entry.get("horizon_days")
        if not isinstance(horizon, int) or horizon <= max(assess):
            problems.append(Problem(f"{path}.horizon_days", "integer after the last assessment",
                                    source=source))
            horizon = max(assess) + 1
        tx = entry.get("transplant") or {}
        share = parse_number(tx.get("share", 0.0), f"{path}.transplant.share", problems, source)
        if not 0.0 <= share <= 1.0:
            problems.append(Problem(f"{path}.transplant.share", "a fraction in [0, 1]",
                                    got=repr(share), source=source))
        tx_day = tx.get("day", 0)
        if not isinstance(tx_day, int) or tx_day < 0 or (share > 0 and tx_day >= horizon):
            problems.append(Problem(f"{path}.transplant.day", "a day within the horizon",
                                    got=repr(tx_day), source=source))
            tx_day = 0
        if tx:
            parse_citations(tx.get("citations"), f"{path}.transplant.citations", cits, problems,
                       source)
        salv = entry.get("salvage_after_relapse", False)
        sv = None
        if isinstance(salv, dict):
            sv = salv.get("variant")
            if isinstance(sv, bool) or not isinstance(sv, int):
                problems.append(Problem(f"{path}.salvage_after_relapse.variant",
                                        "a relapse_therapy.yaml variant code", got=repr(sv),
                                        source=source))
                sv = None
            salv = True
        if not isinstance(salv, bool):
            problems.append(Problem(f"{path}.salvage_after_relapse", "not a boolean",
                                    got=repr(salv), source=source))
        cohorts[str(name)] = RelapsedCohort(
            name=str(name), title=str(entry.get("title", name)), regimen=reg,
            courses=regimens.get(reg, ()), entry=str(entry_kind), response=str(response),
            assess_days=tuple(assess), horizon_days=horizon,
            population=_population(entry, path, problems, source, cites, ev, ""),
            citations=cites, evidence=ev, note=str(entry.get("note", "")),
            transplant_share=float(share), transplant_day=int(tx_day),
            salvage_after_relapse=bool(salv), salvage_variant=sv,
        )  # fmt: skip
    front: dict[str, FrontlineSpec] = {}
    for name, entry in (data.get("frontline") or {}).items():
        path = f"frontline.{name}"
        cites = parse_citations(entry.get("citations"), f"{path}.citations", cits, problems, source)
        ev = parse_evidence(entry.get("evidence"), f"{path}.evidence", problems, source)
        cycle, infusion = entry.get("cycle_days"), entry.get("infusion_days")
        if not isinstance(cycle, int) or not isinstance(infusion, int) or not (
            0 < infusion <= cycle
        ):
            problems.append(Problem(path, "0 < infusion_days <= cycle_days (integers)",
                                    source=source))
            cycle, infusion = 42, 28
        inserts = {str(k): tuple(float(x) for x in v)
                   for k, v in (entry.get("insert_after") or {}).items()}
        base = str(entry.get("base_protocol"))
        front[str(name)] = FrontlineSpec(
            name=str(name), title=str(entry.get("title", name)), base_protocol=base,
            population=_population(entry, path, problems, source, cites, ev, base),
            insert_after=inserts, cycle_days=cycle, infusion_days=infusion,
            randomisation_phase=str(entry.get("randomisation_phase", "")),
            citations=cites, evidence=ev,
        )  # fmt: skip
    clash = sorted(set(cohorts) & set(front))
    if clash:
        problems.append(Problem("frontline", "preset names used twice", got=", ".join(clash),
                                source=source))
    if problems:
        raise KnowledgeError(problems, source)
    return ImmunoParameters(
        version=str(version), parameters=params, citations=cits, cohorts=cohorts,
        frontline=front, fitted=fitted, source=source,
    )  # fmt: skip


#: Parameters the simulator reads (the file may document more).
REQUIRED: tuple[str, ...] = (
    "blin_clearance", "blin_clearance_bsa_exponent", "blin_clearance_reference_bsa", "blin_ec90",
    "blin_hill", "blin_kill_max", "blin_et_reference", "car_foldx", "car_tmax", "car_cmax",
    "car_alpha", "car_fb", "car_beta", "car_kill", "car_reference_level", "cd19neg_probability",
    "salvage_kill", "disease_death_rate", "relapse_blast_fraction",
    "blast_mrd_low", "blast_mrd_high",
)  # fmt: skip


def load_immunotherapy(
    path: str | Path | None = None, parameters: ParameterSet | None = None
) -> ImmunoParameters:
    """Load and validate ``immunotherapy.yaml`` (the bundled one by default); citation keys may
    also resolve in ``parameters`` (parameters.yaml's bibliography)."""
    if parameters is None:
        from allpath.sim.params import load_parameters

        parameters = load_parameters()
    p = knowledge_path("immunotherapy.yaml") if path is None else Path(path)
    return parse_immunotherapy(read_yaml(p), parameters.citations, source=str(p))
