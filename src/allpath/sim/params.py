"""Simulator knowledge: the versioned parameter set and treatment protocols, loaded and validated.

The parameter file (``knowledge/sim/parameters.yaml``) lists every model parameter with its
value, UCUM unit, inter-individual variability (IIV), citation keys and an evidence grade
(``verified``, ``computed``, ``unconfirmed``, ``toy``). Loading checks all of it at once and
raises :class:`allpath.errors.KnowledgeError` listing every problem with its path; a parameter
without a citation, with an unknown citation key, an unparseable unit or an unknown IIV
distribution fails.

References
----------
ALLPath models note, /work/shared/models/models.md §9.3 (parameter table).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from allpath.errors import KnowledgeError, Problem, did_you_mean
from allpath.units import UnitError, check_unit

__all__ = [
    "IIV",
    "Evidence",
    "Parameter",
    "ParameterSet",
    "Phase",
    "Population",
    "Protocol",
    "ProtocolMix",
    "knowledge_path",
    "load_parameters",
    "load_protocols",
    "parse_citations",
    "parse_evidence",
    "parse_iiv",
    "parse_number",
    "read_yaml",
]


class Evidence(StrEnum):
    """How a number was checked (models.md conventions [V], [C], [M], toy)."""

    VERIFIED = "verified"
    COMPUTED = "computed"
    UNCONFIRMED = "unconfirmed"
    TOY = "toy"


_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "lognormal": (),  # needs cv or omega
    "beta": ("a", "b"),
    "loguniform": ("low", "high"),
    "mixture_uniform": ("p", "low", "high"),
    "lognormal_truncated": ("median", "omega", "low", "high"),
    "uniform": ("low", "high"),
}


@dataclass(frozen=True, slots=True)
class IIV:
    """Inter-individual variability of one parameter.

    For ``lognormal``: theta_i = value * exp(eta_i), eta_i ~ N(0, omega^2), with
    omega^2 = ln(1 + cv^2) when a CV is given. ``correlation_with``/``correlation`` couple eta to
    another lognormal parameter's eta (models.md §9.3: corr(ln s, ln s_post) = 0.5);
    ``correlations`` maps every parameter eta is correlated with to its correlation (it includes
    ``correlation_with``). The partners must be mutually independent, and eta is built as
    sum_k c_k eta_k + sqrt(1 - sum_k c_k^2) eta_own.
    """

    distribution: str
    omega: float = 0.0
    args: Mapping[str, float] = field(default_factory=dict)
    correlation_with: str | None = None
    correlation: float = 0.0
    truncate_at_hopf: float | None = None
    correlations: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Parameter:
    """One model parameter: typical value, unit, IIV, citations and evidence grade."""

    name: str
    symbol: str
    value: float
    unit: str
    citations: tuple[str, ...]
    evidence: Evidence
    iiv: IIV | None = None
    populations: Mapping[str, float] = field(default_factory=dict)
    note: str = ""
    #: Values by patient age that override every preset's value: ``((from_age, value), ...)``
    #: in increasing age; a patient takes the last band whose ``from_age`` <= their age.
    by_age: tuple[tuple[float, float], ...] = ()

    def value_for(self, population: str) -> float:
        """The typical value for a population (``pediatric``, ``adult``)."""
        return float(self.populations.get(population, self.value))


@dataclass(frozen=True, slots=True)
class ProtocolMix:
    """Frontline protocol mix within a preset's age bands.

    A share of the patients in each age band (``by_age``: ``((below_age, share), ...)`` in
    increasing age; beyond the last band none) take the kill parameters ``parameters`` of the
    preset ``source`` (e.g. adolescents treated in a pediatric setting take the pediatric
    induction and post-induction sensitivities); every other value (toxicity, counts, relapse
    therapy) stays the preset's own.
    """

    source: str
    parameters: tuple[str, ...]
    by_age: tuple[tuple[float, float], ...]
    citations: tuple[str, ...]
    evidence: Evidence

    def share(self, age: Any) -> Any:
        """Share of patients on ``source``'s parameters at each ``age`` (numpy array)."""
        import numpy as np

        edges = np.array([below for below, _ in self.by_age])
        shares = np.array([s for _, s in self.by_age] + [0.0])
        return shares[np.searchsorted(edges, age, side="right")]


@dataclass(frozen=True, slots=True)
class Population:
    """A cohort preset: age distribution, sex ratio, subtype mix and protocol name."""

    name: str
    protocol: str
    age: Mapping[str, Any]
    male_fraction: float
    subtypes: Mapping[str, float]
    citations: tuple[str, ...]
    evidence: Evidence
    #: Row of ``pharmacogenetics_by_ancestry`` giving the TPMT/NUDT15 phenotype frequencies;
    #: None: the ``*_frequency`` parameters (European-ancestry values).
    ancestry: str | None = None
    #: Subtype mix by age band: ``((below_age, {subtype: fraction}), ...)`` in increasing age;
    #: a patient takes the first band whose ``below_age`` exceeds their age (``subtypes`` when
    #: empty or beyond the last band).
    subtypes_by_age: tuple[tuple[float, Mapping[str, float]], ...] = ()
    #: Frontline protocol mix by age (None: every patient on the preset's own values).
    protocol_mix: ProtocolMix | None = None


@dataclass(frozen=True, slots=True)
class ParameterSet:
    """The whole validated parameter file (frozen)."""

    version: str
    parameters: Mapping[str, Parameter]
    citations: Mapping[str, Mapping[str, str]]
    populations: Mapping[str, Population]
    subtypes: Mapping[str, Mapping[str, float]]
    bsa_age: tuple[float, ...]
    bsa_m2: tuple[float, ...]
    source: str = ""
    #: TPMT/NUDT15 phenotype frequencies by ancestry: ``{ancestry: {tpmt_im, tpmt_pm,
    #: nudt15_im, nudt15_pm}}``.
    ancestries: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self.parameters[name]
        except KeyError:
            hint = did_you_mean(name, self.parameters) or ""
            raise KeyError(f"no simulator parameter {name!r} {hint}".strip()) from None

    def value(self, name: str, population: str = "pediatric") -> float:
        """Typical value of ``name`` for ``population``."""
        return self[name].value_for(population)


@dataclass(frozen=True, slots=True)
class Phase:
    """One treatment phase as a phase-level exposure function (models.md §7, level A).

    ``kill`` is the gross leukaemic kill rate kappa_j (1/d, times the patient's sensitivity);
    ``theta`` the Friberg effect E on each normal lineage's proliferating pool.
    """

    name: str
    days: int
    kill: float
    theta_neutrophils: float
    theta_platelets: float
    theta_erythroid: float
    maintenance: bool = False
    prophase_days: int = 0
    prophase_kill: float = 0.0
    theta_days: int | None = None  # myelosuppression acts on the first theta_days only


@dataclass(frozen=True, slots=True)
class Protocol:
    """A sequence of phases with maintenance titration and risk-adaptation settings."""

    name: str
    phases: tuple[Phase, ...]
    mp_dose_mg_m2_d: float
    anc_window: tuple[float, float]
    check_every_days: int
    dose_step: float
    max_dose_factor: float
    nci_high_risk_age: float
    nci_high_risk_wbc: float
    nci_high_risk_multiplier: float
    mrd_positive_threshold: float
    mrd_positive_multiplier: float
    version: str = ""
    #: Augmented variant of one phase for patients the risk pack re-stratifies to high risk
    #: (closed loop, ``intensification: pack``): the phase name and its kill rate (1/d).
    augmented_phase: str | None = None
    augmented_kill: float = math.nan

    @property
    def therapy_days(self) -> int:
        """Total days from diagnosis to the end of maintenance."""
        return sum(p.days for p in self.phases)

    def phase_starts(self) -> tuple[int, ...]:
        """Start day (0-based, from diagnosis) of each phase."""
        starts: list[int] = []
        day = 0
        for phase in self.phases:
            starts.append(day)
            day += phase.days
        return tuple(starts)


def knowledge_path(name: str) -> Path:
    return Path(str(resources.files("allpath").joinpath("knowledge", "sim", name)))


def read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def parse_number(raw: Any, path: str, problems: list[Problem], src: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        problems.append(Problem(path, "not a number", got=repr(raw), source=src))
        return math.nan
    return float(raw)


def parse_citations(
    raw: Any, path: str, known: Mapping[str, Any], problems: list[Problem], src: str
) -> tuple[str, ...]:
    if not raw or not isinstance(raw, list):
        problems.append(
            Problem(path, "missing citation", expected="a non-empty list of keys", source=src)
        )
        return ()
    for i, key in enumerate(raw):
        if key not in known:
            problems.append(
                Problem(
                    f"{path}[{i}]",
                    "unknown citation key",
                    got=repr(key),
                    hint=did_you_mean(str(key), known),
                    source=src,
                )
            )
    return tuple(str(k) for k in raw)


def _protocol_mix(raw: Any, path: str, params: Mapping[str, Parameter],
                  presets: Mapping[str, Any], citations: Mapping[str, Any],
                  problems: list[Problem], src: str) -> ProtocolMix | None:
    """Parse a preset's ``protocol_mix`` (None when absent)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append(Problem(path, "expected a mapping", got=repr(raw), source=src))
        return None
    source = str(raw.get("from", ""))
    if source not in presets:
        problems.append(Problem(f"{path}.from", "unknown preset", got=repr(source),
                                hint=did_you_mean(source, presets), source=src))
    names = tuple(str(x) for x in raw.get("parameters") or ())
    if not names:
        problems.append(Problem(f"{path}.parameters", "expected a non-empty list of parameters",
                                source=src))
    for pname in names:
        if pname not in params:
            problems.append(Problem(f"{path}.parameters", "unknown parameter", got=pname,
                                    hint=did_you_mean(pname, params), source=src))
    bands: list[tuple[float, float]] = []
    for i, band in enumerate(raw.get("by_age") or []):
        bp = f"{path}.by_age[{i}]"
        below = parse_number(band.get("below_age"), f"{bp}.below_age", problems, src)
        share = parse_number(band.get("share"), f"{bp}.share", problems, src)
        if not 0.0 <= share <= 1.0:
            problems.append(Problem(f"{bp}.share", "must lie in [0, 1]", got=repr(share),
                                    source=src))
        if bands and not below > bands[-1][0]:
            problems.append(Problem(f"{bp}.below_age", "bands must increase", source=src))
        bands.append((below, share))
    if not bands:
        problems.append(Problem(f"{path}.by_age", "expected at least one age band", source=src))
    return ProtocolMix(
        source=source, parameters=names, by_age=tuple(bands),
        citations=parse_citations(raw.get("citations"), f"{path}.citations", citations, problems,
                             src),
        evidence=parse_evidence(raw.get("evidence"), f"{path}.evidence", problems, src),
    )


def parse_evidence(raw: Any, path: str, problems: list[Problem], src: str) -> Evidence:
    try:
        return Evidence(raw)
    except ValueError:
        problems.append(
            Problem(
                path,
                "unknown evidence grade",
                expected=", ".join(e.value for e in Evidence),
                got=repr(raw),
                source=src,
            )
        )
        return Evidence.TOY


def parse_iiv(raw: Any, path: str, problems: list[Problem], src: str) -> IIV | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append(Problem(path, "iiv must be a mapping", source=src))
        return None
    dist = raw.get("distribution")
    if dist not in _DISTRIBUTIONS:
        problems.append(
            Problem(
                f"{path}.distribution",
                "unknown distribution",
                got=repr(dist),
                hint=did_you_mean(str(dist), _DISTRIBUTIONS),
                source=src,
            )
        )
        return None
    omega = 0.0
    if dist == "lognormal":
        if "omega" in raw:
            omega = parse_number(raw["omega"], f"{path}.omega", problems, src)
        elif "cv" in raw:
            cv = parse_number(raw["cv"], f"{path}.cv", problems, src)
            omega = math.sqrt(math.log1p(cv * cv))
        else:
            problems.append(Problem(path, "lognormal IIV needs cv or omega", source=src))
    args = {}
    for key in _DISTRIBUTIONS[str(dist)]:
        if key not in raw:
            problems.append(Problem(f"{path}.{key}", "missing", source=src))
        else:
            args[key] = parse_number(raw[key], f"{path}.{key}", problems, src)
    if dist == "lognormal_truncated":
        omega = args.get("omega", 0.0)
    corr = float(raw.get("correlation", 0.0))
    trunc = raw.get("truncate_at_hopf")
    corrs_raw = raw.get("correlations") or {}
    if not isinstance(corrs_raw, dict):
        problems.append(Problem(f"{path}.correlations", "must be a mapping", source=src))
        corrs_raw = {}
    corrs = {str(k): parse_number(v, f"{path}.correlations.{k}", problems, src)
             for k, v in corrs_raw.items()}
    if raw.get("correlation_with") is not None:
        corrs.setdefault(str(raw["correlation_with"]), corr)
    return IIV(
        distribution=str(dist),
        omega=omega,
        args=args,
        correlation_with=raw.get("correlation_with"),
        correlation=corr,
        truncate_at_hopf=None if trunc is None else float(trunc),
        correlations=corrs,
    )


def parse_parameters(data: Any, source: str = "<memory>") -> ParameterSet:
    """Validate a parsed parameter document and return the frozen :class:`ParameterSet`.

    Raises :class:`KnowledgeError` listing every problem found (not just the first).
    """
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise KnowledgeError([Problem("", "parameter file must be a mapping")], source)
    version = data.get("version")
    if not isinstance(version, str) or not version:
        problems.append(Problem("version", "missing version string", source=source))
    cits_raw = data.get("citations") or {}
    citations: dict[str, Mapping[str, str]] = {}
    for key, entry in cits_raw.items():
        if not isinstance(entry, dict) or not entry.get("text"):
            problems.append(Problem(f"citations.{key}", "citation needs a text", source=source))
            continue
        citations[str(key)] = {str(k): str(v) for k, v in entry.items()}
    params: dict[str, Parameter] = {}
    raw_params = data.get("parameters")
    if not isinstance(raw_params, dict) or not raw_params:
        problems.append(Problem("parameters", "missing parameters mapping", source=source))
        raw_params = {}
    for name, entry in raw_params.items():
        path = f"parameters.{name}"
        if not isinstance(entry, dict):
            problems.append(Problem(path, "must be a mapping", source=source))
            continue
        value = parse_number(entry.get("value"), f"{path}.value", problems, source)
        unit = entry.get("unit")
        if not isinstance(unit, str) or not unit:
            problems.append(Problem(f"{path}.unit", "missing unit", source=source))
            unit = ""
        else:
            try:
                check_unit(unit)
            except UnitError:
                problems.append(
                    Problem(f"{path}.unit", "unit does not parse", got=unit, source=source)
                )
        cites = parse_citations(entry.get("citations"), f"{path}.citations", citations, problems,
                                source)
        evidence = parse_evidence(entry.get("evidence"), f"{path}.evidence", problems, source)
        iiv = parse_iiv(entry.get("iiv"), f"{path}.iiv", problems, source)
        pops_raw = entry.get("populations") or {}
        pops = {
            str(k): parse_number(v, f"{path}.populations.{k}", problems, source)
            for k, v in pops_raw.items()
        }
        by_age: list[tuple[float, float]] = []
        for i, band in enumerate(entry.get("by_age") or []):
            bp = f"{path}.by_age[{i}]"
            if not isinstance(band, dict):
                problems.append(Problem(bp, "expected {from_age, value}", got=repr(band),
                                        source=source))
                continue
            lo = parse_number(band.get("from_age"), f"{bp}.from_age", problems, source)
            if by_age and not lo > by_age[-1][0]:
                problems.append(Problem(f"{bp}.from_age", "bands must increase", source=source))
            by_age.append((lo, parse_number(band.get("value"), f"{bp}.value", problems, source)))
        params[str(name)] = Parameter(
            name=str(name),
            symbol=str(entry.get("symbol", name)),
            value=value,
            unit=unit,
            citations=cites,
            evidence=evidence,
            iiv=iiv,
            populations=pops,
            by_age=tuple(by_age),
            note=str(entry.get("note", "")),
        )
    for name, p in params.items():
        if p.iiv is not None and p.iiv.correlations:
            for other, c in p.iiv.correlations.items():
                if other not in params:
                    problems.append(
                        Problem(f"parameters.{name}.iiv.correlations", "unknown parameter",
                                got=other, hint=did_you_mean(other, params), source=source)
                    )
                if not -1.0 < c < 1.0:
                    problems.append(
                        Problem(f"parameters.{name}.iiv.correlations.{other}",
                                "must lie in (-1, 1)", source=source)
                    )
            if sum(c * c for c in p.iiv.correlations.values()) >= 1.0:
                problems.append(
                    Problem(f"parameters.{name}.iiv.correlations",
                            "sum of squared correlations must be below 1", source=source)
                )
    populations: dict[str, Population] = {}
    for name, entry in (data.get("populations") or {}).items():
        path = f"populations.{name}"
        subtypes = {str(k): float(v) for k, v in (entry.get("subtypes") or {}).items()}
        if abs(sum(subtypes.values()) - 1.0) > 1e-9:
            problems.append(Problem(f"{path}.subtypes", "fractions must sum to 1", source=source))
        bands: list[tuple[float, Mapping[str, float]]] = []
        for i, band in enumerate(entry.get("subtypes_by_age") or []):
            bp = f"{path}.subtypes_by_age[{i}]"
            mix = {str(k): float(v) for k, v in (band.get("subtypes") or {}).items()}
            if abs(sum(mix.values()) - 1.0) > 1e-9:
                problems.append(Problem(f"{bp}.subtypes", "fractions must sum to 1",
                                        source=source))
            below = parse_number(band.get("below_age"), f"{bp}.below_age", problems, source)
            if bands and not below > bands[-1][0]:
                problems.append(Problem(f"{bp}.below_age", "bands must increase", source=source))
            bands.append((below, mix))
        protocol_mix = _protocol_mix(entry.get("protocol_mix"), f"{path}.protocol_mix", params,
                                     data.get("populations") or {}, citations, problems, source)
        populations[str(name)] = Population(
            name=str(name),
            protocol=str(entry.get("protocol", "")),
            age=dict(entry.get("age_years") or {}),
            male_fraction=parse_number(entry.get("male_fraction"), f"{path}.male_fraction",
                                       problems, source),
            subtypes=subtypes,
            citations=parse_citations(entry.get("citations"), f"{path}.citations", citations,
                                 problems, source),
            evidence=parse_evidence(entry.get("evidence"), f"{path}.evidence", problems, source),
            ancestry=None if entry.get("ancestry") is None else str(entry["ancestry"]),
            subtypes_by_age=tuple(bands),
            protocol_mix=protocol_mix,
        )
        base = entry.get("parameters_from")
        if base is not None and base not in (data.get("populations") or {}):
            problems.append(Problem(f"{path}.parameters_from", "unknown preset", got=repr(base),
                                    source=source))
        elif base is not None:
            # the preset takes another preset's population-specific values unless it has its own
            for pname, par in params.items():
                if str(base) in par.populations and str(name) not in par.populations:
                    params[pname] = replace(
                        par, populations={**par.populations, str(name): par.populations[str(base)]})
    ancestries = _ancestries(data.get("pharmacogenetics_by_ancestry"), citations, problems,
                             source)
    for name, pop in populations.items():
        if pop.ancestry is not None and pop.ancestry not in ancestries:
            problems.append(Problem(f"populations.{name}.ancestry", "unknown ancestry",
                                    got=pop.ancestry, hint=did_you_mean(pop.ancestry, ancestries),
                                    source=source))
    subtypes_raw = data.get("subtypes") or {}
    subtypes_mod = {
        str(k): {kk: float(vv) for kk, vv in v.items() if kk != "note"}
        for k, v in subtypes_raw.items()
    }
    if subtypes_raw:
        parse_citations(data.get("subtype_citations"), "subtype_citations", citations, problems,
                        source)
    bsa = data.get("bsa_by_age") or {}
    bsa_age = tuple(float(x) for x in bsa.get("age_years", ()))
    bsa_m2 = tuple(float(x) for x in bsa.get("bsa_m2", ()))
    if len(bsa_age) != len(bsa_m2) or len(bsa_age) < 2:
        problems.append(Problem("bsa_by_age", "needs matching age_years and bsa_m2 lists",
                                source=source))
    elif bsa:
        parse_citations(bsa.get("citations"), "bsa_by_age.citations", citations, problems, source)
    if problems:
        raise KnowledgeError(problems, source)
    return ParameterSet(
        version=str(version),
        parameters=params,
        citations=citations,
        populations=populations,
        subtypes=subtypes_mod,
        bsa_age=bsa_age,
        bsa_m2=bsa_m2,
        source=source,
        ancestries=ancestries,
    )


#: Keys of one ``pharmacogenetics_by_ancestry`` row (phenotype frequencies).
ANCESTRY_KEYS = ("tpmt_im", "tpmt_pm", "nudt15_im", "nudt15_pm")


def _ancestries(
    raw: Any, known: Mapping[str, Any], problems: list[Problem], src: str
) -> dict[str, dict[str, float]]:
    """``pharmacogenetics_by_ancestry``: ``{ancestries: {name: {tpmt_im, ...}}, citations}``."""
    if raw is None:
        return {}
    path = "pharmacogenetics_by_ancestry"
    if not isinstance(raw, dict) or not isinstance(raw.get("ancestries"), dict):
        problems.append(Problem(path, "needs an ancestries mapping", source=src))
        return {}
    parse_citations(raw.get("citations"), f"{path}.citations", known, problems, src)
    out: dict[str, dict[str, float]] = {}
    for name, row in raw["ancestries"].items():
        rp = f"{path}.ancestries.{name}"
        if not isinstance(row, dict):
            problems.append(Problem(rp, "must be a mapping", source=src))
            continue
        vals: dict[str, float] = {}
        for key in ANCESTRY_KEYS:
            if key not in row:
                problems.append(Problem(f"{rp}.{key}", "missing", source=src))
                continue
            v = parse_number(row[key], f"{rp}.{key}", problems, src)
            if not 0.0 <= v <= 1.0:
                problems.append(Problem(f"{rp}.{key}", "must lie in [0, 1]", got=repr(v),
                                        source=src))
            vals[key] = v
        for gene in ("tpmt", "nudt15"):
            if vals.get(f"{gene}_im", 0.0) + vals.get(f"{gene}_pm", 0.0) > 1.0:
                problems.append(Problem(rp, f"{gene} frequencies sum above 1", source=src))
        out[str(name)] = vals
    return out


def load_parameters(path: str | Path | None = None) -> ParameterSet:
    """Load and validate the simulator parameter file (the bundled one by default)."""
    p = knowledge_path("parameters.yaml") if path is None else Path(path)
    return parse_parameters(read_yaml(p), source=str(p))


def parse_protocols(data: Any, source: str = "<memory>") -> dict[str, Protocol]:
    """Validate a parsed protocol document; returns protocols by name."""
    problems: list[Problem] = []
    out: dict[str, Protocol] = {}
    if not isinstance(data, dict) or not isinstance(data.get("protocols"), dict):
        raise KnowledgeError([Problem("protocols", "missing protocols mapping")], source)
    version = str(data.get("version", ""))
    if not version:
        problems.append(Problem("version", "missing version string", source=source))
    for name, entry in data["protocols"].items():
        path = f"protocols.{name}"
        if not entry.get("citations"):
            problems.append(Problem(f"{path}.citations", "missing citation", source=source))
        phases: list[Phase] = []
        for i, ph in enumerate(entry.get("phases") or []):
            pp = f"{path}.phases[{i}]"
            theta = ph.get("theta") or {}
            days = ph.get("days")
            if not isinstance(days, int) or days <= 0:
                problems.append(Problem(f"{pp}.days", "must be a positive integer", source=source))
                days = 1
            phases.append(
                Phase(
                    name=str(ph.get("name")),
                    days=days,
                    kill=parse_number(ph.get("kill"), f"{pp}.kill", problems, source),
                    theta_neutrophils=float(theta.get("neutrophils", 0.0)),
                    theta_platelets=float(theta.get("platelets", 0.0)),
                    theta_erythroid=float(theta.get("erythroid", 0.0)),
                    maintenance=bool(ph.get("maintenance", False)),
                    prophase_days=int(ph.get("prophase_days", 0)),
                    prophase_kill=float(ph.get("prophase_kill", 0.0)),
                    theta_days=None if ph.get("theta_days") is None else int(ph["theta_days"]),
                )
            )
        if not phases or phases[0].name != "induction":
            problems.append(Problem(f"{path}.phases", "first phase must be induction",
                                    source=source))
        m = entry.get("maintenance") or {}
        r = entry.get("risk_adaptation") or {}
        window = m.get("anc_window", [0.5, 2.0])
        out[str(name)] = Protocol(
            name=str(name),
            phases=tuple(phases),
            mp_dose_mg_m2_d=float(m.get("mp_dose_mg_m2_d", 0.0)),
            anc_window=(float(window[0]), float(window[1])),
            check_every_days=int(m.get("check_every_days", 28)),
            dose_step=float(m.get("dose_step", 0.25)),
            max_dose_factor=float(m.get("max_dose_factor", 1.5)),
            nci_high_risk_age=float(r.get("nci_high_risk_age_years", math.inf)),
            nci_high_risk_wbc=float(r.get("nci_high_risk_wbc", math.inf)),
            nci_high_risk_multiplier=float(r.get("nci_high_risk_multiplier", 1.0)),
            mrd_positive_threshold=float(r.get("mrd_positive_threshold", math.inf)),
            mrd_positive_multiplier=float(r.get("mrd_positive_multiplier", 1.0)),
            version=version,
            augmented_phase=None if not entry.get("augmented") else
            str(entry["augmented"]["phase"]),
            augmented_kill=float((entry.get("augmented") or {}).get("kill", math.nan)),
        )
    if problems:
        raise KnowledgeError(problems, source)
    return out


def load_protocols(path: str | Path | None = None) -> dict[str, Protocol]:
    """Load and validate the simulator protocol file (the bundled one by default)."""
    p = knowledge_path("protocols.yaml") if path is None else Path(path)
    return parse_protocols(read_yaml(p), source=str(p))
