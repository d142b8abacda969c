"""Virtual patients: covariates and per-patient parameters drawn from the parameter set.

All randomness of a patient comes from a fixed-width row of standard normals and uniforms
(:func:`allpath.sim.base.patient_randoms`), so patient k is the same whatever the chunk size.
Log-normal IIV: theta_i = theta_pop exp(omega eta_i) (models.md §8.3); the Jost feedback gamma
is capped at a fraction of the Hopf threshold gamma*(k_ma/k_tr) (models.md §2.1.4).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

from allpath.sim.base import AnyArray, Array
from allpath.sim.model import PARAMS
from allpath.sim.params import ParameterSet, Population, Protocol

__all__ = [
    "GENOTYPES",
    "N_NORMAL",
    "N_UNIFORM",
    "SUBTYPES",
    "Batch",
    "gamma_star",
    "genotype_frequencies",
    "make_batch",
    "tgn_ref",
]

N_NORMAL = 24
N_UNIFORM = 24
SUBTYPES: tuple[str, ...] = ("B-ALL", "T-ALL", "Ph+ B-ALL")
GENOTYPES: tuple[str, ...] = ("NM", "IM", "PM")

# Column of each random draw; fixed forever so seeds stay reproducible across versions.
_N = {name: i for i, name in enumerate((
    "r", "K_N", "s", "s_post", "q", "alc", "C0_N", "mtt_N", "gam_N", "base", "ktr_M", "gam_M",
    "slope", "F", "C0_P", "mtt_P", "gam_P", "Hb0", "age", "s_pro", "protocol_mix",
    "donor",
))}  # fmt: skip
U = {name: i for i, name in enumerate((
    "sex", "subtype", "B0", "f_R", "rho_mix", "rho_val", "genotype", "ext_S", "ext_R",
    "ind_death", "trm", "post_relapse", "fail", "d8_smear", "d8_flow", "eoi_flow", "eoi_pcr",
    "d78_pcr", "age", "genetics", "csf", "nudt15",
))}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch of virtual patients ready to simulate.

    Attributes (all arrays have leading axis ``n_patients``)
    ----------
    p: ODE parameters, ``(n, n_params)`` Fortran-ordered (names in ``model.PARAMS``).
    ln_l_s, ln_l_r: initial log leukaemic cell numbers, ``(n,)``.
    ln_n_crit: log critical clone size for extinction, ``(n, 2)`` (models.md §3.5).
    uniforms: the patient's uniform draws, ``(n, N_UNIFORM)`` (assay and event noise).
    """

    ids: AnyArray
    age: Array
    male: AnyArray
    subtype: AnyArray  # index into SUBTYPES
    genotype: AnyArray  # TPMT, index into GENOTYPES
    nudt15: AnyArray  # NUDT15, index into GENOTYPES
    bsa: Array
    p: Array
    ln_l_s: Array
    ln_l_r: Array
    ln_n_crit: Array
    q_pb: Array
    pb_exponent: float
    alc: Array
    hb0: Array
    dose_fraction: Array
    uniforms: Array
    population: str
    #: Patients on the preset's ``protocol_mix`` source values (all False without a mix).
    mixed: AnyArray
    #: Uniform draw deciding whether a stem-cell donor of the kind the relapse therapy needs
    #: is available (:mod:`allpath.sim.salvage`; normal column ``donor``).
    donor_u: Array

    @property
    def n(self) -> int:
        """Number of patients."""
        return int(self.ids.shape[0])


def gamma_star(x: Array) -> Array:
    """Hopf threshold of the Jost/Friberg chain, x = k_ma/k_tr (models.md §2.1.4, [V] formula)."""
    poly = (
        576 + 2192 * x + 3753 * x**2 + 3588 * x**3 + 1998 * x**4 + 612 * x**5 + 81 * x**6
    ) / x**2
    out: Array = 0.5 * (-24 - 45 * x - 34 * x**2 - 9 * x**3) / x + 0.5 * np.sqrt(poly)
    return out


def tgn_ref(ps: ParameterSet, protocol: Protocol, population: str = "pediatric") -> float:
    """6-TGN steady state of the typical patient (BSA 0.82 m²) on the nominal 6-MP dose.

    TGN_ss = F FM3 k_me D / (k_20 CL), CL = 0.219 BSA^1.16 (models.md §2.1.2).
    """
    bsa = 0.82
    a = (
        ps.value("mp_bioavailability", population)
        * ps.value("tgn_fraction", population)
        * ps.value("tgn_formation_rate", population)
        / ps.value("mp_elimination", population)
    )
    cl = ps.value("tgn_clearance_coefficient", population) * bsa ** ps.value(
        "tgn_clearance_bsa_exponent", population
    )
    return float(a * protocol.mp_dose_mg_m2_d * bsa / cl)


def _ln(ps: ParameterSet, name: str, pop: str, eta: Array) -> Array:
    par = ps[name]
    omega = par.iiv.omega if par.iiv is not None else 0.0
    out: Array = par.value_for(pop) * np.exp(omega * eta)
    return out


def _age(spec: Any, z: Array, u: Array) -> Array:
    if spec.get("distribution") == "uniform":
        out: Array = spec["low"] + (spec["high"] - spec["low"]) * u
        return out
    # log-normal truncated to [low, high) by inverse CDF on the truncated range
    med, om, lo, hi = (float(spec[k]) for k in ("median", "omega", "low", "high"))
    a = ndtr((math.log(lo) - math.log(med)) / om)
    b = ndtr((math.log(hi) - math.log(med)) / om)
    zz = ndtri(a + (b - a) * u)
    res: Array = np.minimum(med * np.exp(om * zz), hi - 1e-6)
    return res


def genotype_frequencies(ps: ParameterSet, pop: Population) -> dict[str, float]:
    """Phenotype frequencies of TPMT and NUDT15 (``tpmt_im``, ``tpmt_pm``, ``nudt15_im``,
    ``nudt15_pm``) for a cohort preset.

    A preset with an ``ancestry`` takes them from ``pharmacogenetics_by_ancestry`` in the
    parameter file (CPIC allele frequencies, Hardy-Weinberg); otherwise from the parameters
    ``tpmt_*_frequency`` / ``nudt15_*_frequency`` (European-ancestry values).
    """
    if pop.ancestry is not None:
        return dict(ps.ancestries[pop.ancestry])
    return {f"{gene}_{ph}": ps.value(f"{gene}_{ph}_frequency", pop.name)
            for gene in ("tpmt", "nudt15") for ph in ("im", "pm")}


def _phenotype(u: Array, p_im: float, p_pm: float) -> AnyArray:
    """Metaboliser phenotype index (0 normal, 1 intermediate, 2 poor) from one uniform."""
    out: AnyArray = np.where(u < p_pm, 2, np.where(u < p_pm + p_im, 1, 0))
    return out


def _subtypes(pop: Population, age: Array, u: Array) -> AnyArray:
    """Subtype index per patient from one uniform, with the preset's mix for the patient's age
    band (``subtypes_by_age``) or its single ``subtypes`` mix."""
    mixes = [mix for _, mix in pop.subtypes_by_age] + [pop.subtypes]
    cum = np.cumsum([[mix.get(s, 0.0) for s in SUBTYPES] for mix in mixes], axis=1)
    edges = np.array([below for below, _ in pop.subtypes_by_age])
    band = np.searchsorted(edges, age, side="right")
    out: AnyArray = np.minimum((u[:, None] >= cum[band]).sum(axis=1), len(SUBTYPES) - 1)
    return out


#: Normal column of the parameters ``post_induction_sensitivity`` may be correlated with.
_ETA_OF = {"induction_sensitivity": "s", "prophase_sensitivity": "s_pro"}


#: Parameters a preset's ``protocol_mix`` may take from its source preset (the kill
#: sensitivities of the protocol; toxicity and relapse therapy are batch-level values).
MIXABLE = ("induction_sensitivity", "post_induction_sensitivity", "post_induction_age_slope",
           "post_induction_age_reference", "post_induction_growth_exponent")
Value = Callable[[str], "Array | float"]


def _values(ps: ParameterSet, pop: Population, age: Array, z: Array) -> tuple[Value, AnyArray]:
    """Per-patient typical values under the preset's protocol mix, and who is on the mix.

    Without a mix, ``value(name)`` is the preset's scalar; with one, the patients drawn into the
    mix (normal column ``protocol_mix``, as a uniform, below the band's share) take the source
    preset's value of the mixed parameters.
    """
    name = pop.name
    mix = pop.protocol_mix
    if mix is None:
        return (lambda pname: ps.value(pname, name)), np.zeros(age.shape[0], dtype=bool)
    bad = sorted(set(mix.parameters) - set(MIXABLE))
    if bad:
        raise ValueError(f"populations.{name}.protocol_mix.parameters: {bad} cannot be mixed; "
                         f"expected some of {list(MIXABLE)}")
    on = ndtr(z[:, _N["protocol_mix"]]) < mix.share(age)

    def value(pname: str) -> Array | float:
        own = ps.value(pname, name)
        if pname not in mix.parameters:
            return own
        out: Array = np.where(on, ps.value(pname, mix.source), own)
        return out

    return value, on


def _post_induction_sensitivity(ps: ParameterSet, name: str, z: Array, r_rel: Array,
                                age: Array, coupling: Array,
                                value: Value | None = None) -> Array:
    """s_post_i before subtype multipliers (models.md §9.3-9.4, with fitted extensions).

    s_post_i = s_post exp(omega eta_i) (r_i/r_med)^(beta c_subtype) exp(-k max(age - a_ref, 0)):

    * eta_i = sum_k c_k eta_k + sqrt(1 - sum c_k^2) eta_own, correlated with the induction
      and prophase sensitivities (``iiv.correlations``): patients whose disease responds
      slowly to induction tend to respond slowly afterwards, which is what makes end-of-
      induction MRD and the day-8 blood response prognostic (§9.4: partially independent);
    * (r_i/r_med)^beta: the post-induction kill (antimetabolite-based consolidation and
      6-MP/MTX maintenance) scales with the clone's growth rate, since cycle-specific drugs
      spare the non-cycling fraction (models.md §4.1) and the labelling index tracks the
      birth rate; the exponent is fitted (``post_induction_growth_exponent``) and scaled by the
      subtype's ``post_induction_growth_coupling``;
    * exp(-k (age - a_ref)+): age as a continuous adverse factor from about 30 years
      (``post_induction_age_slope``, ``post_induction_age_reference``).

    ``value``: per-patient typical values (a preset's protocol mix); default the preset's.
    """
    v: Value = value if value is not None else (lambda pname: ps.value(pname, name))
    par = ps["post_induction_sensitivity"]
    iiv = par.iiv
    eta = z[:, _N["s_post"]].copy()
    omega = 0.0
    if iiv is not None:
        omega = iiv.omega
        corr = iiv.correlations
        eta *= math.sqrt(1.0 - sum(c * c for c in corr.values()))
        for other, c in corr.items():
            if other not in _ETA_OF:
                raise KeyError(f"post_induction_sensitivity cannot be correlated with {other!r}; "
                               f"supported: {sorted(_ETA_OF)}")
            eta += c * z[:, _N[_ETA_OF[other]]]
    beta = v("post_induction_growth_exponent") * coupling
    slope = v("post_induction_age_slope")
    a_ref = v("post_induction_age_reference")
    out: Array = (v("post_induction_sensitivity") * np.exp(omega * eta) * r_rel**beta
                  * np.exp(-slope * np.maximum(age - a_ref, 0.0)))
    return out


def _induction_death_uniform(ps: ParameterSet, name: str, age: Array,
                             u: Array) -> Array | None:
    """The ``ind_death`` uniform, transformed so that each patient's induction-death
    probability is the one of their age (``induction_death_probability.by_age``).

    The kernels draw induction death as a cumulative hazard h0 H(t) crossing E = -ln u, with
    h0 set from the preset's probability p; a patient with probability p_i has the hazard
    c h0, c = ln(1 - p_i) / ln(1 - p), which crosses E exactly when h0 H(t) crosses E / c:
    u' = u^(1/c) gives every kernel the patient's own probability. None: no patient's
    probability differs from the preset's.
    """
    par = ps["induction_death_probability"]
    col = u[:, U["ind_death"]]
    if not par.by_age:
        return None
    p_pop = par.value_for(name)
    edges = np.array([lo for lo, _ in par.by_age])
    values = np.array([p_pop] + [v for _, v in par.by_age])
    p_i = values[np.searchsorted(edges, age, side="right")]
    if np.all(p_i == p_pop):
        return None
    c = np.log1p(-p_i) / math.log1p(-p_pop)
    out: Array = col ** (1.0 / c)
    return out


def make_batch(
    ps: ParameterSet,
    pop: Population,
    protocol: Protocol,
    ids: AnyArray,
    normals: Array,
    uniforms: Array,
) -> Batch:
    """Draw covariates and parameters for patients with the given random rows.

    Parameters
    ----------
    ids:
        Patient indices, shape ``(n,)``.
    normals, uniforms:
        Random rows, shapes ``(n, N_NORMAL)`` and ``(n, N_UNIFORM)``.
    """
    name = pop.name
    n = ids.shape[0]
    z, u = normals, uniforms
    age = _age(pop.age, z[:, _N["age"]], u[:, U["age"]])
    ind_u = _induction_death_uniform(ps, name, age, u)
    if ind_u is not None:
        u = u.copy()
        u[:, U["ind_death"]] = ind_u
    male = u[:, U["sex"]] < pop.male_fraction
    subtype = _subtypes(pop, age, u[:, U["subtype"]])
    strong_mult = np.array([ps.subtypes.get(s, {}).get("strong_resistance_probability", 1.0)
                            for s in SUBTYPES])[subtype]
    sens_mult = np.array([ps.subtypes.get(s, {}).get("sensitivity", 1.0)
                          for s in SUBTYPES])[subtype]
    post_mult = np.array([ps.subtypes.get(s, {}).get("post_induction_sensitivity", 1.0)
                          for s in SUBTYPES])[subtype]
    coupling = np.array([ps.subtypes.get(s, {}).get("post_induction_growth_coupling", 1.0)
                         for s in SUBTYPES])[subtype]
    bsa = np.interp(age, ps.bsa_age, ps.bsa_m2)
    value, mixed = _values(ps, pop, age, z)

    cols: dict[str, Array] = {}
    cols["r"] = _ln(ps, "growth_rate", name, z[:, _N["r"]])
    r_med = ps.value("growth_rate", name)
    cols["r_post"] = ps.value("regrowth_rate_off_therapy", name) * cols["r"] / r_med
    s_par = ps["induction_sensitivity"]
    om_s = s_par.iiv.omega if s_par.iiv else 0.0
    eta_s = z[:, _N["s"]]
    cols["s_ind"] = value("induction_sensitivity") * np.exp(om_s * eta_s) * sens_mult
    cols["s_post"] = (
        _post_induction_sensitivity(ps, name, z, cols["r"] / r_med, age, coupling, value)
        * sens_mult * post_mult
    )
    cols["s_pro"] = _ln(ps, "prophase_sensitivity", name, z[:, _N["s_pro"]])
    rho_par = ps["resistant_relative_sensitivity"]
    args = rho_par.iiv.args if rho_par.iiv else {"p": 0.0, "low": 0.0, "high": 0.0}
    strong = u[:, U["rho_mix"]] < args["p"] * strong_mult
    cols["rho"] = np.where(
        strong,
        args["low"] + (args["high"] - args["low"]) * u[:, U["rho_val"]],
        rho_par.value_for(name),
    )
    k_n = _ln(ps, "normal_marrow_cells", name, z[:, _N["K_N"]])
    cols["lnK_N"] = np.log(k_n)
    cols["K_L_ratio"] = np.full(n, ps.value("carrying_capacity_ratio", name))

    cols["C0_N"] = _ln(ps, "anc_baseline", name, z[:, _N["C0_N"]])
    cols["ktr_N"] = 4.0 / _ln(ps, "mtt_neutrophils", name, z[:, _N["mtt_N"]])
    cols["gam_N"] = _ln(ps, "feedback_neutrophils", name, z[:, _N["gam_N"]])
    cols["kc_N"] = cols["ktr_N"]  # Friberg original: k_circ = k_tr
    cols["crowd_N"] = np.full(n, ps.value("crowding_neutrophils", name))
    cols["C0_M"] = _ln(ps, "anc_base_maintenance", name, z[:, _N["base"]])
    cols["ktr_M"] = _ln(ps, "ktr_maintenance", name, z[:, _N["ktr_M"]])
    cols["kc_M"] = np.full(n, ps.value("neutrophil_death_rate", name))
    gam_m = _ln(ps, "feedback_maintenance", name, z[:, _N["gam_M"]])
    gpar = ps["feedback_maintenance"]
    if gpar.iiv is not None and gpar.iiv.truncate_at_hopf is not None:
        gam_m = np.minimum(gam_m, gpar.iiv.truncate_at_hopf * gamma_star(cols["kc_M"] /
                                                                         cols["ktr_M"]))
    cols["gam_M"] = gam_m
    cols["slope"] = _ln(ps, "tgn_slope", name, z[:, _N["slope"]])

    cols["C0_P"] = _ln(ps, "platelet_baseline", name, z[:, _N["C0_P"]])
    cols["ktr_P"] = 4.0 / _ln(ps, "mtt_platelets", name, z[:, _N["mtt_P"]])
    cols["kc_P"] = cols["ktr_P"]
    cols["gam_P"] = _ln(ps, "feedback_platelets", name, z[:, _N["gam_P"]])
    cols["crowd_P"] = np.full(n, ps.value("crowding_platelets", name))

    cols["ktr_E"] = np.full(n, 3.0 / ps.value("mtt_erythroid_precursors", name))
    cols["gam_E"] = np.full(n, ps.value("feedback_erythroid", name))
    cols["kR"] = np.full(n, 4.0 / ps.value("rbc_lifespan", name))
    cols["crowd_E"] = np.full(n, ps.value("crowding_erythroid", name))

    freq = genotype_frequencies(ps, pop)
    genotype = _phenotype(u[:, U["genotype"]], freq["tpmt_im"], freq["tpmt_pm"])
    nudt15 = _phenotype(u[:, U["nudt15"]], freq["nudt15_im"], freq["nudt15_pm"])
    # TPMT deficiency raises 6-TGN formation; NUDT15 deficiency leaves red-cell 6-TGN unchanged
    # but raises the active (DNA-incorporated) thioguanine per 6-TGN. The model's TGN state is
    # the effect-driving exposure (Jost 2020 model units, shared by myelosuppression and kill),
    # so both act as multipliers on its input. CPIC starting-dose fractions multiply (IM for
    # both genes: 0.5 x 0.5 = 0.25, inside CPIC's 20-50 %).
    dose_frac = np.array([1.0, ps.value("cpic_im_dose_fraction", name),
                          ps.value("cpic_pm_dose_fraction", name)])
    tgn_mult = (
        np.array([1.0, ps.value("tpmt_im_tgn_multiplier", name),
                  ps.value("tpmt_pm_tgn_multiplier", name)])[genotype]
        * np.array([1.0, ps.value("nudt15_im_tgn_multiplier", name),
                    ps.value("nudt15_pm_tgn_multiplier", name)])[nudt15]
    )
    dose_fraction = dose_frac[genotype] * dose_frac[nudt15]
    f_bio = _ln(ps, "mp_bioavailability", name, z[:, _N["F"]])
    cols["tgn_in"] = (
        f_bio * ps.value("tgn_fraction", name) * ps.value("tgn_formation_rate", name)
        / ps.value("mp_elimination", name) * tgn_mult
    )
    cols["cl_tgn"] = ps.value("tgn_clearance_coefficient", name) * bsa ** ps.value(
        "tgn_clearance_bsa_exponent", name
    )

    p = np.empty((n, len(PARAMS)), order="F")
    for i, pname in enumerate(PARAMS):
        p[:, i] = cols[pname]

    from scipy.stats import beta as beta_dist

    b_args = ps["blast_fraction_diagnosis"].iiv
    assert b_args is not None
    b0 = beta_dist.ppf(u[:, U["B0"]], b_args.args["a"], b_args.args["b"])
    b0 = np.clip(b0, 0.05, 0.999)
    fr_args = ps["resistant_fraction"].iiv
    assert fr_args is not None
    lo, hi = math.log(fr_args.args["low"]), math.log(fr_args.args["high"])
    f_r = np.exp(lo + (hi - lo) * u[:, U["f_R"]])
    ln_l = cols["lnK_N"] + np.log(b0 / (1.0 - b0))
    ln_l_s = ln_l + np.log1p(-f_r)
    ln_l_r = ln_l + np.log(f_r)
    log_db = math.log(ps.value("death_rate", name) / ps.value("birth_rate", name))
    # clone extinct once its size falls below N_crit = ln U / ln(d/b), i.e. with probability
    # (d/b)^{N_min} over its running minimum (models.md §3.5)
    ln_n_crit = np.log(np.log(np.stack([u[:, U["ext_S"]], u[:, U["ext_R"]]], axis=1)) / log_db)

    return Batch(
        ids=ids.astype(np.int64),
        age=age,
        male=male,
        subtype=subtype,
        genotype=genotype,
        nudt15=nudt15,
        bsa=bsa,
        p=p,
        ln_l_s=ln_l_s,
        ln_l_r=ln_l_r,
        ln_n_crit=ln_n_crit,
        q_pb=_ln(ps, "pb_egress", name, z[:, _N["q"]]),
        pb_exponent=ps.value("pb_egress_exponent", name),
        alc=_ln(ps, "other_leukocytes", name, z[:, _N["alc"]]),
        hb0=_ln(ps, "hb_baseline", name, z[:, _N["Hb0"]]),
        dose_fraction=dose_fraction,
        uniforms=u,
        population=name,
        mixed=mixed,
        donor_u=ndtr(z[:, _N["donor"]]),
    )
