"""Immunotherapy in the simulator: blinatumomab and CAR-T exposure and kill, r/r cohorts.

Two CD19-directed agents are added to the leukaemia model (models.md §6, §9.2 ``k_imm``), with
parameters as data in ``knowledge/sim/immunotherapy.yaml``:

**Blinatumomab** (CD19 x CD3 bispecific). One-compartment PK with a half-life of ~2 h
(CL 2.22 L/h, V 5.98 L, Clements 2020), so during a continuous infusion the concentration is
at steady state within hours and is taken as C_i = rate / CL_i, with
CL_i = CL_pop (BSA_i / BSA_ref)^e_CL exp(eta_i) (CL falls with body size). Kill of CD19+ cells::

    k_blin,i(t) = kappa_blin * E(C_i) * 1 / (1 + L_i(t) / L_ref),     E(C) = C^n / (EC50^n + C^n)

with EC50 = EC90 / 9^(1/n) from the in-vitro EC90 470 pg/mL (n = 1). The second factor is the
effector-to-target term T_eff/(T_eff + L/L_ref) with T_eff = 1 (T cells are not modelled):
killing saturates when the leukaemic burden L is large compared with L_ref, which is what makes
blinatumomab work better on MRD than on overt relapse (BLAST 78 % MRD response versus TOWER
44 % remission).

**CAR-T** (tisagenlecleucel; Stein et al. 2019 final model). Transgene level after one infusion
at t = 0::

    C(t) = (Cmax/foldx) e^{rho t},                                   t < Tmax, rho = ln(foldx)/Tmax
    C(t) = Cmax [(1 - FB) e^{-alpha (t - Tmax)} + FB e^{-beta (t - Tmax)}],   t >= Tmax

with log-normal IIV on all six parameters. The kill is proportional to the level (models.md
§6) and, like blinatumomab's, saturates with the effector-to-target ratio::

    k_CAR,i(t) = kappa_CAR (C_i(t) / C_ref) / (1 + L_i(t) / L_ref)

The second factor is an assumption of this module, not in models.md: both agents kill through
T cells redirected to CD19, so the same L_ref is used (no new parameter). Without it the
calibrated kill (ELIANA remission 81 %) leaves too little CD19+ disease extinct: relapse-free
survival of responders at 12 months stays at 52 % with no CD19-negative clone at all (target
59 %, Maude 2018). The integral of C over any interval is exact (:meth:`CarKinetics.exposure`).

**CD19-negative subclone.** Each patient's minor (resistant) clone is CD19-negative with
probability p_CD19neg; neither agent kills it (models.md §9.2: ``k_imm (1 - cd19neg)``).

Relapsed/refractory cohorts (:func:`simulate_relapsed`) use the same two log-scale clones as the
frontline model (:mod:`allpath.sim.model`): the CD19+ bulk ``lnL_S`` and the minor clone
``lnL_R`` (fraction f_R of parameters.yaml, chemo-sensitivity rho_i, CD19-negative or not), with
the patient's growth rate r_i, marrow size K_N and extinction threshold (models.md §3.5) drawn
by :func:`allpath.sim.population.make_batch`::

    x = (e^{lnL_S} + e^{lnL_R}) / K_N,   B = x / (1 + x)  (marrow blast fraction)
    d lnL_S/dt = r_i (1 - x K_N/K_L) - s_i k_chemo(t) - k_blin,i(t) - k_CAR,i(t)
    d lnL_R/dt = r_i (1 - x K_N/K_L) - rho_i s_i k_chemo(t) - (k_blin,i + k_CAR,i)(1 - cd19neg_i)

(:class:`RelapseModel`). Relapsed disease grows at the untreated rate r_i throughout (the
frontline model's slower r_post after therapy was fitted to childhood late relapses; with it,
remissions after salvage chemotherapy last 14 months instead of TOWER's 4.4). Salvage
chemotherapy is a phase-level exposure kappa_salv over one course (models.md §7 level A).
Remission is B < 5 % (or MRD below 1e-4 for an MRD study) at one of the protocol's assessment
days; relapse is B >= 5 % afterwards; death has the hazard h_dis B(t) while the disease is
active: from the first assessment for patients not in remission, and after relapse (deaths
during the first weeks of treatment, a few per cent in the trials, are not modelled). Days are
integrated by Strang splitting, with the logistic growth solved exactly and the CAR-T kill by
its exact integral (:meth:`RelapseModel.step_day`); ``tests/sim/test_immunotherapy.py`` holds
it against LSODA.

Frontline protocols get blinatumomab cycles through :func:`frontline_protocol` (phases with no
chemotherapy kill) and :class:`ImmuneDrive` (per-day kill of both clones, the resistant one
only when CD19+), which the cohort kernel and the reference engine subtract from the ln-burden
derivatives.

Random numbers: everything here draws from a second per-patient stream
(:func:`allpath.sim.base.patient_randoms` with ``stream=IMMUNO_STREAM``), so the main draws of
a patient never change and a seed gives the same result for any chunk size.

References
----------
models.md §§3.5, 5.4, 6, 9.2, 10 (targets 11-12); Clements 2020; Stein 2019 CPT:PSP 8:285;
Kantarjian 2017 NEJM 376:836; Gokbuget 2018 Blood 131:1522; von Stackelberg 2016 JCO 34:4381;
Maude 2018 NEJM 378:439; Laetsch 2023 JCO 41:1664; Litzow 2024 NEJM 391:320.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from scipy.stats import beta as beta_dist

from allpath.errors import KnowledgeError, Problem
from allpath.sim.base import AnyArray, Array, OdeModel, patient_randoms
from allpath.sim.model import PARAMS as MODEL_PARAMS
from allpath.sim.outcomes import DAYS_PER_MONTH, EXTINCT, assay
from allpath.sim.params import (
    Evidence,
    Parameter,
    ParameterSet,
    Phase,
    Population,
    Protocol,
    _citations,
    _evidence,
    _iiv,
    _knowledge_path,
    _num,
    _read_yaml,
    load_protocols,
)
from allpath.sim.population import N_NORMAL, N_UNIFORM, SUBTYPES, Batch, make_batch

__all__ = [
    "AGENTS",
    "IMMUNO_STREAM",
    "CarKinetics",
    "Course",
    "FrontlineSpec",
    "ImmuneDrive",
    "ImmunoDrive",
    "ImmunoParameters",
    "ImmunoPatients",
    "ImmunoSetup",
    "RelapseModel",
    "RelapsedCohort",
    "blin_concentration",
    "blin_effect",
    "draw_patients",
    "e1910_summary",
    "frontline_protocol",
    "immune_log_kill",
    "immuno_preset",
    "load_immunotherapy",
    "preset_names",
    "randomisation_day",
    "relapsed_chunk",
    "simulate_relapsed",
    "summarise_relapsed",
]

#: spawn-key suffix of the immunotherapy random stream (any fixed non-zero constant)
IMMUNO_STREAM = 0x1A11
N_IMMUNO_NORMAL = 8
N_IMMUNO_UNIFORM = 8
# columns of the immunotherapy stream; fixed forever so seeds stay reproducible
_IN = {name: i for i, name in enumerate(
    ("cl_blin", "foldx", "tmax", "cmax", "alpha", "fb", "beta"))}  # fmt: skip
_IU = {name: i for i, name in enumerate(("cd19neg", "death", "entry", "assay", "hsct",
                                          "hsct_trm"))}
AGENTS: tuple[str, ...] = ("chemotherapy", "blinatumomab", "car_t")
_MPI = {name: i for i, name in enumerate(MODEL_PARAMS)}
X_RELAPSE = 0.05 / 0.95  # x = L/K_N at 5 % marrow blasts


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
        male_fraction=_num(entry.get("male_fraction", 0.55), f"{path}.male_fraction",
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
        evidence = _evidence(entry.get("evidence"), f"{path}.evidence", problems, source)
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
            value=_num(entry.get("value"), f"{path}.value", problems, source),
            unit=unit,
            citations=_citations(entry.get("citations"), f"{path}.citations", cits, problems,
                                 source),
            evidence=evidence,
            iiv=_iiv(entry.get("iiv"), f"{path}.iiv", problems, source),
            note=str(entry.get("note", "")),
        )
    missing = sorted(set(REQUIRED) - set(params))
    if missing:
        problems.append(Problem("parameters", "missing parameters", expected=", ".join(missing),
                                source=source))
    regimens: dict[str, tuple[Course, ...]] = {}
    for name, entry in (data.get("regimens") or {}).items():
        path = f"regimens.{name}"
        _citations(entry.get("citations"), f"{path}.citations", cits, problems, source)
        _evidence(entry.get("evidence"), f"{path}.evidence", problems, source)
        regimens[str(name)] = _courses(entry.get("courses"), f"{path}.courses", problems, source)
    cohorts: dict[str, RelapsedCohort] = {}
    for name, entry in (data.get("cohorts") or {}).items():
        path = f"cohorts.{name}"
        cites = _citations(entry.get("citations"), f"{path}.citations", cits, problems, source)
        ev = _evidence(entry.get("evidence"), f"{path}.evidence", problems, source)
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
        share = _num(tx.get("share", 0.0), f"{path}.transplant.share", problems, source)
        if not 0.0 <= share <= 1.0:
            problems.append(Problem(f"{path}.transplant.share", "a fraction in [0, 1]",
                                    got=repr(share), source=source))
        tx_day = tx.get("day", 0)
        if not isinstance(tx_day, int) or tx_day < 0 or (share > 0 and tx_day >= horizon):
            problems.append(Problem(f"{path}.transplant.day", "a day within the horizon",
                                    got=repr(tx_day), source=source))
            tx_day = 0
        if tx:
            _citations(tx.get("citations"), f"{path}.transplant.citations", cits, problems,
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
        cites = _citations(entry.get("citations"), f"{path}.citations", cits, problems, source)
        ev = _evidence(entry.get("evidence"), f"{path}.evidence", problems, source)
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
    p = _knowledge_path("immunotherapy.yaml") if path is None else Path(path)
    return parse_immunotherapy(_read_yaml(p), parameters.citations, source=str(p))


# --------------------------------------------------------------------------------------------
# exposure and kill
# --------------------------------------------------------------------------------------------


def blin_concentration(rate_ug_d: Array | float, cl_l_h: Array | float) -> Array:
    """Steady-state blinatumomab concentration (pg/mL) of an infusion of ``rate_ug_d`` µg/d at
    clearance ``cl_l_h`` L/h: C = rate/CL (1 µg/d = 1e6 pg / 24 h; 1 L = 1000 mL)."""
    out: Array = np.asarray(rate_ug_d, dtype=np.float64) * (1e3 / 24.0) / np.asarray(cl_l_h)
    return out


def blin_effect(conc: Array, ec50: float, hill: float = 1.0) -> Array:
    """Fraction of the maximal kill, E = C^n/(EC50^n + C^n)."""
    c = np.power(np.maximum(conc, 0.0), hill)
    out: Array = c / (ec50**hill + c)
    return out


def ec50_from_ec90(ec90: float, hill: float) -> float:
    """EC50 of an Emax curve with Hill coefficient ``hill`` whose EC90 is ``ec90``."""
    return float(ec90 / 9.0 ** (1.0 / hill))


@dataclass(frozen=True, slots=True)
class KillConstants:
    """Population constants of the kill terms (from :class:`ImmunoParameters`)."""

    kappa_blin: float
    ec50: float
    hill: float
    x_ref: float
    kappa_car: float
    c_ref: float

    @classmethod
    def from_parameters(cls, ip: ImmunoParameters) -> KillConstants:
        """Constants of ``ip``."""
        hill = ip.value("blin_hill")
        return cls(
            kappa_blin=ip.value("blin_kill_max"),
            ec50=ec50_from_ec90(ip.value("blin_ec90"), hill),
            hill=hill,
            x_ref=ip.value("blin_et_reference"),
            kappa_car=ip.value("car_kill"),
            c_ref=ip.value("car_reference_level"),
        )

    def blin_rate(self, conc: Array) -> Array:
        """kappa_blin E(C): the blinatumomab kill rate at a high effector-to-target ratio."""
        out: Array = self.kappa_blin * blin_effect(conc, self.ec50, self.hill)
        return out

    def car_rate(self, level: Array) -> Array:
        """kappa_CAR C/C_ref: the CAR-T kill rate at a high effector-to-target ratio."""
        out: Array = self.kappa_car / self.c_ref * level
        return out

    def car_kill(self, level: Array, x: Array) -> Array:
        """k_CAR = kappa_CAR (C/C_ref) / (1 + x/x_ref) (``level`` C, or its integral over an
        interval for the kill integral at a fixed effector-to-target term)."""
        out: Array = self.kappa_car / self.c_ref * level / (1.0 + x / self.x_ref)
        return out

    def blin_kill(self, conc: Array, x: Array) -> Array:
        """k_blin = kappa E(C) / (1 + x/x_ref), ``x`` = L/K_N (1/d, per patient)."""
        out: Array = self.kappa_blin * blin_effect(conc, self.ec50, self.hill) / (
            1.0 + x / self.x_ref
        )
        return out


@dataclass(frozen=True, slots=True)
class CarKinetics:
    """Per-patient Stein 2019 CAR-T kinetics (arrays shaped ``(n_patients,)``)."""

    foldx: Array
    tmax: Array
    cmax: Array
    alpha: Array
    fb: Array
    beta: Array

    @property
    def rho(self) -> Array:
        """Expansion rate ln(foldx)/Tmax (1/d)."""
        out: Array = np.log(self.foldx) / self.tmax
        return out

    def level(self, t: Array | float) -> Array:
        """Transgene level C(t) (copies/µg) at ``t`` days after infusion (0 before it)."""
        t = np.asarray(t, dtype=np.float64)
        up = self.cmax / self.foldx * np.exp(self.rho * np.minimum(t, self.tmax))
        dt = np.maximum(t - self.tmax, 0.0)
        down = self.cmax * ((1.0 - self.fb) * np.exp(-self.alpha * dt)
                            + self.fb * np.exp(-self.beta * dt))
        out: Array = np.where(t < 0, 0.0, np.where(t < self.tmax, up, down))
        return out

    def exposure(self, t0: float, t1: float) -> Array:
        """Exact integral of C over [t0, t1] (days after infusion; copies/µg x d)."""
        t0, t1 = max(t0, 0.0), max(t1, 0.0)
        rho = self.rho
        a, b = np.minimum(t0, self.tmax), np.minimum(t1, self.tmax)
        grow = self.cmax / self.foldx / rho * (np.exp(rho * b) - np.exp(rho * a))
        a, b = np.maximum(t0, self.tmax) - self.tmax, np.maximum(t1, self.tmax) - self.tmax
        shrink = self.cmax * (
            (1.0 - self.fb) / self.alpha * (np.exp(-self.alpha * a) - np.exp(-self.alpha * b))
            + self.fb / self.beta * (np.exp(-self.beta * a) - np.exp(-self.beta * b))
        )
        out: Array = grow + shrink
        return out


@dataclass(frozen=True, slots=True)
class ImmunoPatients:
    """Per-patient immunotherapy draws (arrays shaped ``(n_patients,)``).

    ``cl_blin`` blinatumomab clearance (L/h, BSA-scaled, with IIV); ``cd19neg`` whether the
    minor (resistant) clone is CD19-negative; ``car`` CAR-T kinetics; ``uniforms`` the
    immunotherapy stream's uniforms ``(n, N_IMMUNO_UNIFORM)`` (entry burden, death, assay).
    """

    bsa: Array
    cl_blin: Array
    cd19neg: AnyArray
    car: CarKinetics
    uniforms: Array


def immuno_randoms(seed: int, start: int, stop: int) -> tuple[Array, Array]:
    """Patients ``start .. stop-1``'s immunotherapy draws (independent of the main stream)."""
    return patient_randoms(seed, start, stop, N_IMMUNO_NORMAL, N_IMMUNO_UNIFORM,
                           stream=IMMUNO_STREAM)


def draw_patients(ip: ImmunoParameters, bsa: Array, normals: Array,
                  uniforms: Array) -> ImmunoPatients:
    """Per-patient parameters: theta_i = theta_pop exp(omega eta_i) (models.md §8.3)."""
    z = normals

    def ln(name: str) -> Array:
        out: Array = ip.value(name) * np.exp(ip.omega(name) * z[:, _IN[name.removeprefix(
            "car_")]])
        return out

    cl = (
        ip.value("blin_clearance")
        * (bsa / ip.value("blin_clearance_reference_bsa"))
        ** ip.value("blin_clearance_bsa_exponent")
        * np.exp(ip.omega("blin_clearance") * z[:, _IN["cl_blin"]])
    )
    car = CarKinetics(
        foldx=np.maximum(ln("car_foldx"), 1.0001), tmax=ln("car_tmax"), cmax=ln("car_cmax"),
        alpha=ln("car_alpha"), fb=np.minimum(ln("car_fb"), 0.999), beta=ln("car_beta"),
    )  # fmt: skip
    neg = uniforms[:, _IU["cd19neg"]] < ip.value("cd19neg_probability")
    return ImmunoPatients(bsa=bsa, cl_blin=cl, cd19neg=neg, car=car, uniforms=uniforms)


# --------------------------------------------------------------------------------------------
# relapsed/refractory model
# --------------------------------------------------------------------------------------------

RR_PARAMS: tuple[str, ...] = (
    "r", "inv_KL", "lnK_N", "rho", "s_chemo", "cl_blin", "bsa", "cd19pos_R",
    "foldx", "tmax", "cmax", "alpha", "fb", "beta",
)  # fmt: skip
_RI = {name: i for i, name in enumerate(RR_PARAMS)}


@dataclass(frozen=True, slots=True)
class ImmunoDrive:
    """Treatment of one day of an r/r regimen (constant within the day but the CAR level).

    ``chemo_kill`` (1/d, times s_i) and blinatumomab rates (flat µg/d, or µg/m²/d times the
    patient's BSA) apply to patients where ``on`` is true (None: everyone); ``car_day`` is the
    CAR-T infusion day (None: no CAR-T).
    """

    constants: KillConstants
    chemo_kill: float = 0.0
    blin_ug_d: float = 0.0
    blin_ug_m2_d: float = 0.0
    on: AnyArray | None = None
    car_day: float | None = None

    @property
    def blin(self) -> bool:
        """Whether blinatumomab runs today."""
        return self.blin_ug_d > 0 or self.blin_ug_m2_d > 0


class RelapseModel(OdeModel[ImmunoDrive]):
    """Two log-scale clones (CD19+ bulk, minor clone) under salvage chemotherapy, blinatumomab
    and CAR-T (equations in the module docstring)."""

    state_names: ClassVar[tuple[str, ...]] = ("lnL_S", "lnL_R")
    param_names: ClassVar[tuple[str, ...]] = RR_PARAMS

    def drive_for_patient(self, u: ImmunoDrive, i: int) -> ImmunoDrive:
        """Patient ``i``'s slice of the treatment mask."""
        return u if u.on is None else replace(u, on=u.on[i : i + 1])

    @staticmethod
    def burden(y: Array, p: Array) -> Array:
        """x = L/K_N."""
        lnk = p[:, _RI["lnK_N"]]
        out: Array = np.exp(y[:, 0] - lnk) + np.exp(y[:, 1] - lnk)
        return out

    @staticmethod
    def state_free_kill(p: Array, u: ImmunoDrive) -> tuple[Array, Array]:
        """Chemotherapy kill rate of each clone (1/d), ``(n,)`` each."""
        on = 1.0 if u.on is None else u.on.astype(np.float64)
        kc = u.chemo_kill * p[:, _RI["s_chemo"]] * on
        out: tuple[Array, Array] = (kc, kc * p[:, _RI["rho"]])
        return out

    @staticmethod
    def blin_conc(p: Array, u: ImmunoDrive) -> Array:
        """Blinatumomab concentration of each patient today (pg/mL)."""
        rate = u.blin_ug_d + u.blin_ug_m2_d * p[:, _RI["bsa"]]
        if u.on is not None:
            rate = rate * u.on
        return blin_concentration(rate, p[:, _RI["cl_blin"]])

    @staticmethod
    def car(p: Array) -> CarKinetics:
        """The patients' CAR-T kinetics."""
        return CarKinetics(*(p[:, _RI[k]] for k in ("foldx", "tmax", "cmax", "alpha", "fb",
                                                      "beta")))

    def rhs(self, t: float, y: Array, p: Array, u: ImmunoDrive) -> Array:
        """d(lnL_S, lnL_R)/dt, ``y`` ``(n, 2)``."""
        x = self.burden(y, p)
        g = p[:, _RI["r"]] * (1.0 - x * p[:, _RI["inv_KL"]])
        kc_s, kc_r = self.state_free_kill(p, u)
        k_imm = np.zeros_like(x)
        if u.blin:
            k_imm += u.constants.blin_kill(self.blin_conc(p, u), x)
        if u.car_day is not None:
            k_imm += u.constants.car_kill(self.car(p).level(t - u.car_day), x)
        dy = np.empty_like(y)
        dy[:, 0] = g - kc_s - k_imm
        dy[:, 1] = g - kc_r - k_imm * p[:, _RI["cd19pos_R"]]
        return dy

    def step_day(self, day: int, y: Array, p: Array, u: ImmunoDrive) -> Array:
        """States at ``day + 1`` from ``y`` at ``day`` (Strang splitting).

        Half a day of kill, one day of logistic growth, half a day of kill, each part solved
        exactly: the logistic step of the total burden, ln x(t+1) - ln x(t) = r - ln(1 + x
        (e^r - 1) K_N/K_L), is stable at any burden (an explicit step is not once x exceeds
        K_L/K_N, as it does at entry for many patients); the chemotherapy kill is state-free;
        the immune kill, whose effector-to-target term changes with the burden it removes, is
        integrated in closed form by :func:`immune_log_kill` from the integral of its rate
        (exact for the CAR-T level, whatever its time course).
        """
        kc_s, kc_r = self.state_free_kill(p, u)
        pos_r = p[:, _RI["cd19pos_R"]]
        lnk = p[:, _RI["lnK_N"]]
        conc = self.blin_conc(p, u) if u.blin else None
        car = self.car(p) if u.car_day is not None else None
        out = y.copy()

        def kill_half(t0: float) -> None:
            out[:, 0] -= 0.5 * kc_s
            out[:, 1] -= 0.5 * kc_r
            integral = np.zeros(out.shape[0])
            if conc is not None:
                integral += 0.5 * u.constants.blin_rate(conc)
            if car is not None and u.car_day is not None:
                integral += u.constants.car_rate(
                    car.exposure(t0 - u.car_day, t0 + 0.5 - u.car_day))
            if conc is not None or car is not None:
                x_s, x_r = np.exp(out[:, 0] - lnk), np.exp(out[:, 1] - lnk)
                d = immune_log_kill(integral, x_s + pos_r * x_r, (1.0 - pos_r) * x_r,
                                    u.constants.x_ref)
                out[:, 0] -= d
                out[:, 1] -= d * pos_r

        kill_half(float(day))
        r = p[:, _RI["r"]]
        growth = r - np.log1p(self.burden(out, p) * np.expm1(r) * p[:, _RI["inv_KL"]])
        out += growth[:, None]
        kill_half(day + 0.5)
        return out


def immune_log_kill(integral: Array, x_killed: Array, x_spared: Array, x_ref: float) -> Array:
    """Log reduction of the CD19+ cells by an immune kill over an interval, exactly.

    With the rate k(t) = K(t) / (1 + x/x_ref), x = x_killed e^{-D} + x_spared, the log reduction
    D of the killed cells obeys dD/dt = K(t) / (1 + b + a e^{-D}), a = x_killed/x_ref,
    b = x_spared/x_ref, so (1 + b) D + a (1 - e^{-D}) = I = integral of K (growth is split off).
    The left side is increasing and concave in D; Newton's method from a lower bound,
    max(I/(1 + a + b), (I - a)/(1 + b)), rises monotonically to the root.
    """
    a = x_killed / x_ref
    b1 = 1.0 + x_spared / x_ref
    d = np.maximum(integral / (a + b1), (integral - a) / b1)
    for _ in range(60):
        e = np.exp(-d)
        f = b1 * d + a * (1.0 - e) - integral
        todo = np.abs(f) >= 1e-12  # per patient, so the result does not depend on the chunk
        if not todo.any():
            break
        d = np.where(todo, d - f / (b1 + a * e), d)
    return d


def relapse_parameters(batch: Batch, imm: ImmunoPatients) -> Array:
    """Parameter matrix ``(n, len(RR_PARAMS))`` of :class:`RelapseModel` from a batch."""
    p = batch.p
    cols = {
        "r": p[:, _MPI["r"]], "inv_KL": 1.0 / p[:, _MPI["K_L_ratio"]],
        "lnK_N": p[:, _MPI["lnK_N"]], "rho": p[:, _MPI["rho"]], "s_chemo": p[:, _MPI["s_ind"]],
        "cl_blin": imm.cl_blin, "bsa": imm.bsa,
        "cd19pos_R": 1.0 - imm.cd19neg.astype(np.float64),
        "foldx": imm.car.foldx, "tmax": imm.car.tmax, "cmax": imm.car.cmax,
        "alpha": imm.car.alpha, "fb": imm.car.fb, "beta": imm.car.beta,
    }  # fmt: skip
    out = np.empty((batch.n, len(RR_PARAMS)), order="F")
    for i, name in enumerate(RR_PARAMS):
        out[:, i] = cols[name]
    return out


def entry_state(ip: ImmunoParameters, cohort: RelapsedCohort, batch: Batch,
                imm: ImmunoPatients) -> tuple[Array, Array]:
    """Marrow blast fraction at entry ``(n,)`` and initial states ``(n, 2)``.

    Overt relapse: B ~ Beta (relapse_blast_fraction) truncated to [0.05, 0.999]; MRD study:
    log-uniform between blast_mrd_low and blast_mrd_high. The minor clone keeps the patient's
    resistant fraction f_R (its share of the diagnosis burden).
    """
    u = imm.uniforms[:, _IU["entry"]]
    if cohort.entry == "mrd":
        lo, hi = math.log(ip.value("blast_mrd_low")), math.log(ip.value("blast_mrd_high"))
        b = np.exp(lo + (hi - lo) * u)
    else:
        iiv = ip.parameters["relapse_blast_fraction"].iiv
        assert iiv is not None
        b = np.clip(beta_dist.ppf(u, iiv.args["a"], iiv.args["b"]), 0.05, 0.999)
    lnk = batch.p[:, _MPI["lnK_N"]]
    ln_l = lnk + np.log(b / (1.0 - b))
    ln_f = batch.ln_l_r - np.logaddexp(batch.ln_l_s, batch.ln_l_r)
    y = np.empty((batch.n, 2))
    y[:, 0] = ln_l + np.log1p(-np.exp(ln_f))
    y[:, 1] = ln_l + ln_f
    return b, y


@dataclass(frozen=True, slots=True)
class _Plan:
    """A regimen tabulated per day: which course (index) runs, -1 for none."""

    course_of_day: tuple[int, ...]
    car_day: float | None


def _plan(courses: tuple[Course, ...]) -> _Plan:
    end = max(c.stop for c in courses)
    idx = [-1] * end
    car: float | None = None
    for k, c in enumerate(courses):
        if c.agent == "car_t":
            car = float(c.start) if car is None else car
            continue
        for d in range(c.start, c.stop):
            idx[d] = k
    return _Plan(tuple(idx), car)


def simulate_relapsed(
    ps: ParameterSet,
    ip: ImmunoParameters,
    cohort: RelapsedCohort,
    batch: Batch,
    imm: ImmunoPatients,
    *,
    extinction: bool = True,
    protocol: Protocol | None = None,
) -> dict[str, Array]:
    """Simulate an r/r cohort from entry to ``cohort.horizon_days``; per-patient columns.

    ``cohort.transplant_share``: that share of the patients in remission (and not relapsed) on
    ``cohort.transplant_day`` gets an allogeneic HSCT (log kill and transplant mortality of
    ``relapse_therapy.yaml``, variant of the population; no further study courses).
    ``cohort.salvage_after_relapse``: a relapse after remission is treated by the salvage
    roadmap (:func:`allpath.sim.salvage.treat_relapses`, frontline ``protocol`` for the
    continuation kill; timing from study entry), which then decides death.

    Columns: ``blasts_entry``, ``cd19neg_clone``, ``response`` (remission at an assessment
    day), ``response_day``, ``best_blasts`` (lowest B at the assessments), ``relapse`` /
    ``relapse_day`` (B >= 5 % after remission), ``cd19neg_relapse`` (the CD19-negative clone
    dominates at relapse), ``death`` / ``death_day`` (hazard h_dis B(t)), ``efs_event`` /
    ``efs_day`` (no remission counts at day 0), ``os_day``, ``blin_css_28`` (pg/mL at
    28 µg/d), ``car_cmax``.
    """
    model = RelapseModel()
    const = KillConstants.from_parameters(ip)
    p = relapse_parameters(batch, imm)
    b0, y = entry_state(ip, cohort, batch, imm)
    n = batch.n
    u = imm.uniforms
    ncrit = batch.ln_n_crit
    plan = _plan(cohort.courses)
    h_dis = ip.value("disease_death_rate")
    kappa_salv = ip.value("salvage_kill")
    k_lod = ps.value("assay_events_at_lod", batch.population)
    lod = ps.value("flow_detection_limit", batch.population)
    e_death = -np.log(u[:, _IU["death"]])
    h_cum = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    responded = np.zeros(n, dtype=bool)
    relapsed = np.zeros(n, dtype=bool)
    response_day = np.full(n, np.inf)
    relapse_day = np.full(n, np.inf)
    death_day = np.full(n, np.inf)
    neg_relapse = np.zeros(n, dtype=bool)
    best = b0.copy()
    transplanted = np.zeros(n, dtype=bool)
    tx_death = np.full(n, np.inf)
    y_at_relapse = np.zeros((n, 2))
    tx_p = cohort.transplant_share
    tx_kill = tx_trm = tx_follow = 0.0
    if tx_p > 0 or cohort.salvage_after_relapse:
        from allpath.sim.salvage import load_relapse_therapy, split_uniform

        rt = load_relapse_therapy()
        var = rt.variant(max(ps.value("relapse_therapy", batch.population), 1.0))
        tx_kill = rt.value("hsct_log10_kill", var) * math.log(10.0)
        tx_trm = rt.value("hsct_trm_probability", var)
        tx_follow = float(rt.followup_days)
    assess = set(cohort.assess_days)
    first = min(cohort.assess_days)
    for day in range(cohort.horizon_days):
        if extinction:
            np.putmask(y, y < ncrit, EXTINCT)
        x = model.burden(y, p)
        b = x / (1.0 + x)
        if day in assess:
            best = np.where(alive, np.minimum(best, b), best)
            ok = b < 0.05
            if cohort.response == "mrd":
                ok = assay(b, u[:, _IU["assay"]], lod, k_lod) == 0.0
            new = alive & ~responded & ok
            responded |= new
            response_day[new] = day
        if day > first:
            rel = responded & ~relapsed & alive & (b >= 0.05) & (day > response_day)
            if rel.any():
                relapsed |= rel
                relapse_day[rel] = day
                y_at_relapse[rel] = y[rel]
                neg_relapse |= rel & (y[:, 1] > y[:, 0]) & imm.cd19neg
        # death over [day, day + 1) at the hazard of the burden at the start of the day, while
        # the disease is active (not in remission at the last assessment, or relapsed)
        h = np.where((day >= first) & ~responded | relapsed, h_dis * b, 0.0)
        died = alive & (h_cum + h >= e_death)
        death_day[died] = day + (e_death[died] - h_cum[died]) / h[died]  # linear in the day
        h_cum += h
        alive &= ~died
        if tx_p > 0 and day == cohort.transplant_day:
            # allogeneic HSCT of the patients in remission: log kill of both clones now,
            # transplant death within the follow-up window
            go = alive & responded & ~relapsed & (u[:, _IU["hsct"]] < tx_p)
            transplanted |= go
            y[go] -= tx_kill
            trm = go & (split_uniform(u[:, _IU["hsct_trm"]], 2)[0] < tx_trm)
            t_trm = day + split_uniform(u[:, _IU["hsct_trm"]], 2)[1] * tx_follow
            tx_death = np.where(trm, t_trm, tx_death)
        k = plan.course_of_day[day] if day < len(plan.course_of_day) else -1
        on = None
        chemo = blin = blin_m2 = 0.0
        if k >= 0:
            c = cohort.courses[k]
            on = responded & alive & ~transplanted if c.responders_only else None
            if c.agent == "chemotherapy":
                chemo = kappa_salv
            else:
                blin, blin_m2 = c.dose_ug_d, c.dose_ug_m2_d
        drive = ImmunoDrive(const, chemo, blin, blin_m2, on, plan.car_day)
        y = model.step_day(day, y, p, drive)

    # transplant deaths (before any relapse they would have had)
    died_tx = transplanted & (tx_death < np.minimum(relapse_day, death_day))
    death_day = np.where(died_tx, tx_death, death_day)
    relapse_day = np.where(died_tx, np.inf, relapse_day)
    relapsed &= ~died_tx
    extra: dict[str, Array] = {"hsct": transplanted.astype(np.float64)}
    if cohort.salvage_after_relapse:
        from allpath.sim import salvage

        if protocol is None:
            raise ValueError(f"{cohort.name}: salvage_after_relapse needs the frontline protocol")
        lnl_rel = np.where(relapsed[:, None], y_at_relapse, y)
        # composition of the relapse: the clones at the relapse day (rows of relapsed patients)
        fake = np.where(relapsed, relapse_day, np.inf)
        cols = salvage.apply_to_cohort(ps, protocol, batch, relapsed, fake, death_day,
                                       (lnl_rel[:, 0], lnl_rel[:, 1]),
                                       variant=cohort.salvage_variant)
        extra.update(cols)
    horizon = float(cohort.horizon_days)
    death = death_day <= horizon
    rel = relapse_day <= horizon
    efs_time = np.where(responded, np.minimum(relapse_day, death_day), 0.0)
    return {
        **extra,
        "blasts_entry": b0,
        "cd19neg_clone": imm.cd19neg.astype(np.float64),
        "response": responded.astype(np.float64),
        "response_day": np.where(responded, response_day, np.nan),
        "best_blasts": best,
        "relapse": rel.astype(np.float64),
        "relapse_day": np.where(rel, relapse_day, np.nan),
        "cd19neg_relapse": (neg_relapse & rel).astype(np.float64),
        "death": death.astype(np.float64),
        "death_day": np.where(death, death_day, np.nan),
        "efs_event": (efs_time <= horizon).astype(np.float64),
        "efs_day": np.minimum(efs_time, horizon),
        "os_day": np.minimum(death_day, horizon),
        "blin_css_28": blin_concentration(28.0, imm.cl_blin),
        "car_cmax": imm.car.cmax,
    }


# --------------------------------------------------------------------------------------------
# frontline hook: blinatumomab cycles inside a protocol
# --------------------------------------------------------------------------------------------


def frontline_protocol(base: Protocol, spec: FrontlineSpec) -> tuple[Protocol, tuple[float, ...]]:
    """The base protocol with blinatumomab cycles inserted, and the infusion rate (µg/d) of
    every therapy day (0 outside infusions).

    A cycle is a phase of ``cycle_days`` with no chemotherapy kill and no myelosuppression; its
    first ``infusion_days`` carry the cycle's rate. Cycles may follow any phase before
    maintenance.
    """
    unknown = set(spec.insert_after) - {ph.name for ph in base.phases}
    if unknown:
        raise KeyError(f"{spec.name}: no phase {sorted(unknown)} in {base.name}")
    phases: list[Phase] = []
    rate: list[float] = []
    k = 0
    for ph in base.phases:
        phases.append(ph)
        rate += [0.0] * ph.days
        doses = spec.insert_after.get(ph.name, ())
        if doses and ph.maintenance:
            raise ValueError(f"{spec.name}: blinatumomab cycles must come before maintenance")
        for dose in doses:
            k += 1
            phases.append(Phase(name=f"blinatumomab_{k}", days=spec.cycle_days, kill=0.0,
                                theta_neutrophils=0.0, theta_platelets=0.0,
                                theta_erythroid=0.0))
            rate += [dose] * spec.infusion_days + [0.0] * (spec.cycle_days - spec.infusion_days)
    protocol = replace(base, name=spec.name if spec.insert_after else base.name,
                       phases=tuple(phases))
    return protocol, tuple(rate)


def randomisation_day(protocol: Protocol, phase: str) -> int:
    """Day at which ``phase`` ends (E1910 randomised after intensification)."""
    for start, ph in zip(protocol.phase_starts(), protocol.phases, strict=True):
        if ph.name == phase:
            return start + ph.days
    raise KeyError(phase)


@dataclass(frozen=True)
class ImmuneDrive:
    """Per-day blinatumomab kill of a frontline run, for the cohort kernel and the engine.

    ``kill(day, x)`` returns the kill rates ``(2, n)`` (1/d) of the chemo-sensitive and the
    chemo-resistant clone on ``day`` (the resistant one only when CD19+), with the
    effector-to-target term at the burden ``x`` = L/K_N of the start of the day, or None on days
    without infusion.
    """

    rate_ug_d: tuple[float, ...]
    cl: Array
    cd19pos_r: Array
    constants: KillConstants

    def kill(self, day: int, x: AnyArray) -> Array | None:
        """Kill rates of both clones on ``day`` (None without blinatumomab)."""
        if day >= len(self.rate_ug_d) or self.rate_ug_d[day] <= 0.0:
            return None
        conc = blin_concentration(self.rate_ug_d[day], self.cl)
        k = self.constants.blin_kill(conc, np.asarray(x, dtype=np.float64))
        return np.stack([k, k * self.cd19pos_r])


# --------------------------------------------------------------------------------------------
# presets and cohort plumbing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImmunoSetup:
    """What a cohort preset of this module carries in ``CohortConfig.immuno``."""

    name: str
    parameters: ImmunoParameters
    population: Population
    protocol: Protocol
    horizon_days: int
    relapsed: RelapsedCohort | None = None
    frontline: FrontlineSpec | None = None
    rate_ug_d: tuple[float, ...] = ()

    def drive(self, batch: Batch, seed: int) -> ImmuneDrive | None:
        """The frontline blinatumomab drive of ``batch`` (None when the protocol has none)."""
        if not any(self.rate_ug_d):
            return None
        start = int(batch.ids[0]) if batch.n else 0
        z, u = immuno_randoms(seed, start, start + batch.n)
        imm = draw_patients(self.parameters, batch.bsa, z, u)
        return ImmuneDrive(self.rate_ug_d, imm.cl_blin, 1.0 - imm.cd19neg.astype(np.float64),
                           KillConstants.from_parameters(self.parameters))


def preset_names(ip: ImmunoParameters | None = None) -> tuple[str, ...]:
    """Names of the immunotherapy cohort presets (r/r studies and frontline variants)."""
    ip = ip or load_immunotherapy()
    return (*ip.cohorts, *ip.frontline)


def immuno_preset(name: str, ps: ParameterSet, ip: ImmunoParameters | None = None,
                  protocols: Mapping[str, Protocol] | None = None) -> ImmunoSetup | None:
    """The setup of preset ``name`` (None when it is not an immunotherapy preset)."""
    ip = ip or load_immunotherapy(parameters=ps)
    protocols = protocols or load_protocols()
    if name in ip.cohorts:
        c = ip.cohorts[name]
        # the protocol is not used by an r/r study; make_batch takes one
        base = protocols.get("cog_style_pediatric") or next(iter(protocols.values()))
        return ImmunoSetup(name=name, parameters=ip, population=c.population, protocol=base,
                           horizon_days=c.horizon_days, relapsed=c)
    if name in ip.frontline:
        f = ip.frontline[name]
        protocol, rate = frontline_protocol(protocols[f.base_protocol], f)
        return ImmunoSetup(name=name, parameters=ip, population=f.population, protocol=protocol,
                           horizon_days=1827, frontline=f, rate_ug_d=rate)
    return None


def relapsed_chunk(setup: ImmunoSetup, ps: ParameterSet, population: Population,
                   protocol: Protocol, horizon_days: int, start: int, stop: int,
                   seed: int) -> dict[str, Any]:
    """Patients ``start .. stop-1`` of an r/r preset as table columns (a pure function).

    ``population`` and ``horizon_days`` are the preset's, possibly overridden by a cohort YAML.
    """
    assert setup.relapsed is not None
    z, u = patient_randoms(seed, start, stop, N_NORMAL, N_UNIFORM)
    ids = np.arange(start, stop)
    batch = make_batch(ps, population, protocol, ids, z, u)
    zi, ui = immuno_randoms(seed, start, stop)
    imm = draw_patients(setup.parameters, batch.bsa, zi, ui)
    cohort = replace(setup.relapsed, population=population, horizon_days=horizon_days)
    cols = simulate_relapsed(ps, setup.parameters, cohort, batch, imm, protocol=protocol)
    data: dict[str, Any] = {
        "id": ids,
        "arm": np.full(batch.n, setup.name, dtype=object),
        "age": batch.age,
        "sex": np.where(batch.male, "male", "female"),
        "subtype": np.array(SUBTYPES, dtype=object)[batch.subtype],
        "bsa": batch.bsa,
    }
    data.update(cols)
    return data


def _surv(time: Array, event: AnyArray, t: float) -> float:
    """Fraction without an event by ``t`` (every patient is followed to the horizon)."""
    if time.size == 0:
        return math.nan
    return 1.0 - float(np.mean(event & (time <= t)))


def _median(time: Array, event: AnyArray) -> float:
    """Median event time (nan when half the patients have no event)."""
    t = np.sort(np.where(event, time, np.inf))
    if t.size == 0:
        return math.nan
    m = float(np.quantile(t, 0.5, method="inverted_cdf"))
    return m if math.isfinite(m) else math.nan


def summarise_relapsed(cols: Mapping[str, np.ndarray[Any, Any]]) -> dict[str, Any]:
    """Summary of an r/r cohort: ``response_rate``, median OS and remission duration (months),
    OS and EFS at 6/12/36 months (while inside the horizon), relapse-free survival 12 months
    after remission among responders (``rfs_12m_responders``), relapse and CD19-negative
    relapse shares among responders."""
    n = int(cols["id"].shape[0])
    resp = cols["response"] == 1
    death = cols["death"] == 1
    horizon = float(np.max(cols["os_day"])) if n else 0.0
    out: dict[str, Any] = {
        "n": n,
        "response_rate": float(resp.mean()) if n else math.nan,
        "median_os_months": _median(cols["os_day"], death) / DAYS_PER_MONTH,
    }
    os_, efs = {}, {}
    for months in (6, 12, 36):
        t = months * DAYS_PER_MONTH
        if t <= horizon + 1:
            os_[f"{months}m"] = _surv(cols["os_day"], death, t)
            efs[f"{months}m"] = _surv(cols["efs_day"], cols["efs_event"] == 1, t)
    out["os"] = os_
    out["efs"] = efs
    if resp.any():
        r0 = cols["response_day"][resp]
        end = np.fmin(cols["relapse_day"][resp], cols["death_day"][resp]) - r0
        ev = np.isfinite(end)
        out["rfs_12m_responders"] = _surv(np.nan_to_num(end, nan=np.inf), ev, 365.25)
        out["median_remission_months"] = _median(np.nan_to_num(end, nan=np.inf), ev) \
            / DAYS_PER_MONTH
        rel = cols["relapse"][resp] == 1
        out["relapse_rate_responders"] = float(rel.mean())
        out["cd19neg_relapse_share"] = float(cols["cd19neg_relapse"][resp][rel].mean()) \
            if rel.any() else math.nan
    return out


def e1910_summary(cols: Mapping[str, np.ndarray[Any, Any]], day: int,
                  years: float = 3.0) -> dict[str, float]:
    """E1910-style figures of a frontline cohort: CR/CRi rate of everyone, and OS ``years``
    after randomisation (``day``) among patients in CR with end-of-induction flow MRD < 1e-4
    who are alive and relapse-free at randomisation."""
    cr = cols["cr"] == 1
    death_day = np.nan_to_num(cols["death_day"], nan=np.inf)
    relapse_day = np.nan_to_num(cols["relapse_day"], nan=np.inf)
    sel = cr & (cols["mrd_eoi_flow"] < 1e-4) & (death_day > day) & (relapse_day > day)
    t = day + years * 365.25
    return {
        "cr_rate": float(cr.mean()),
        "randomised": float(sel.mean()),
        "os": float(np.mean(death_day[sel] > t)) if sel.any() else math.nan,
        "rfs": float(np.mean(np.minimum(death_day, relapse_day)[sel] > t))
        if sel.any() else math.nan,
    }
