"""Relapse treated, not looked up: the salvage roadmap as the relapsed patient's protocol.

At a detected first relapse in a frontline cohort (:func:`allpath.sim.fast.run_cohort_batch`
and the JAX kernel, parameter ``relapse_therapy`` = 1), :func:`treat_relapses` simulates the
relapsed patients' further course on the same two-clone marrow model as the frontline
(:mod:`allpath.sim.model`) and the r/r cohorts (:class:`allpath.sim.immuno.RelapseModel`),
vectorised over the relapsed patients, with the treatment read from
``knowledge/sim/relapse_therapy.yaml`` and decided by the packs:

1. **Entry.** The marrow blast fraction at detection: the one the relapse pack's surveillance
   visit counted (checkpoints policy) or a draw from ``relapse_blast_fraction``
   (immunotherapy.yaml; the kernel's built-in call fires at the 5 % crossing, before a relapse
   is seen). The two clones keep the patient's composition at the end of the frontline run
   (``ln_f_r``, log share of the minor clone), so a relapse grown out of a chemo-resistant
   subclone (rho_i < 1) stays resistant: that is what makes early relapses harder to salvage.
2. **Block 1 re-induction**, ``reinduction.days`` at the variant's kill (the frontline
   induction kill times ``reinduction_kill_ratio``) x s_i (rho_i s_i for the minor clone),
   stepped daily by :meth:`RelapseModel.step_day` (exact logistic growth).
3. **End of block 1**: CR2 is B < 5 %; flow MRD by the Poisson assay of the frontline
   (:func:`allpath.sim.outcomes.assay`). The **relapse pack** then gives ``relapse.risk.cog``
   (low / intermediate / high; it needs that MRD) and the **roadmap pack** the salvage
   template (``rr-blinatumomab`` for B lineage; ``rr-t-nelarabine`` for T lineage, a course
   to a second remission and then HSCT, which block 1 and step 5 stand for).
4. **Consolidation** of the template for patients in CR2 (blinatumomab cycles, the immune kill
   of immunotherapy.yaml with the effector-to-target saturation; a CD19-negative minor clone is
   spared), stepped daily; a burden back at B >= 5 % is a second relapse.
5. **HSCT in CR2** for the risk groups ``hsct.risk_groups`` when a donor is found
   (``donor_probability_<group>``, the batch's ``donor_u`` draw): on max(end of consolidation,
   donor search) + conditioning, a log kill ``hsct_log10_kill`` of both clones and a
   transplant-related death with probability ``hsct_trm_probability`` within the follow-up
   window. The others get **continuation chemotherapy** (``continuation_days`` at the
   frontline maintenance kill x s_post). Both are closed form on the log scale (the burden is
   far below the marrow size, so growth is exponential).
6. **After therapy** the residual regrows at r_post (the frontline's post-therapy rate) unless
   a clone fell below its extinction size (models.md §3.5); a second relapse is the first
   clone's crossing of B = 5 %.
7. **Death** of active disease has the hazard h_dis B(t) (``disease_death_rate``) from the end
   of block 1 for patients not in CR2 and from a second relapse (no further line is modelled),
   with B(t) growing at r_i: the cumulative hazard (h/r) ln((1 + x0 e^{rt})/(1 + x0)) is
   inverted in closed form.

Random numbers: the patient's main-stream uniforms ``post_relapse`` (death clock),
``salvage_a`` and ``salvage_b`` (:data:`SALVAGE_U`, the spare columns of
:data:`allpath.sim.population.U`), each of the last two split
into three 17-bit uniforms (:func:`split_uniform`): entry burden, MRD assay, blinatumomab
clearance; CD19-negative minor clone, transplant death, its day. A patient's course therefore
does not depend on the chunk, and both kernels give the same result.

Not modelled: deaths during re-induction, extramedullary-only relapse (every relapse is
treated as a marrow relapse), third-line therapy after a second relapse or refractoriness
(CAR-T, inotuzumab), graft-versus-host disease beyond the transplant-death probability.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from scipy import special
from scipy.stats import beta as beta_dist

from allpath.errors import KnowledgeError, Problem
from allpath.sim.base import AnyArray, Array
from allpath.sim.model import PARAMS
from allpath.sim.outcomes import EXTINCT, assay
from allpath.sim.params import (
    Evidence,
    ParameterSet,
    Protocol,
    knowledge_path,
    parse_citations,
    parse_evidence,
    parse_number,
    read_yaml,
)
from allpath.sim.population import N_UNIFORM, Batch, U

if TYPE_CHECKING:
    from allpath.sim.immuno_params import ImmunoParameters

__all__ = [
    "RISK",
    "RelapseTherapy",
    "SalvageResult",
    "apply_to_cohort",
    "enabled",
    "load_relapse_therapy",
    "split_uniform",
    "treat_relapses",
]

_PI = {name: i for i, name in enumerate(PARAMS)}
#: relapse.risk.cog values of the relapse pack, in code order.
RISK = ("low", "intermediate", "high")
X_RELAPSE = 0.05 / 0.95  # B = 5 %
#: Main-stream uniform columns of the salvage draws: the two spare columns of
#: :data:`allpath.sim.population.U` (N_UNIFORM 24, 22 named), fixed from now on.
SALVAGE_U = {"salvage_a": 22, "salvage_b": 23}
assert len(U) == 22 and N_UNIFORM == 24, "population.U grew: move the salvage columns"
LN10 = math.log(10.0)


@dataclass(frozen=True)
class Consolidation:
    """A salvage template's consolidation for patients in CR2."""

    agent: str
    cycles: int
    cycle_days: int
    infusion_days: int
    dose_ug_m2_d: float
    max_ug_d: float

    @property
    def days(self) -> int:
        """Length of the consolidation."""
        return self.cycles * self.cycle_days


@dataclass(frozen=True)
class Variant:
    """Population variant: re-induction kill source (``induction``: the frontline protocol's
    induction kill; ``salvage_kill``: the r/r course of immunotherapy.yaml) and overrides."""

    name: str
    reinduction_kill: str
    values: Mapping[str, float]
    #: False: no transplant in CR2 whatever the risk group.
    transplant: bool = True


@dataclass(frozen=True)
class RelapseTherapy:
    """``relapse_therapy.yaml``, validated."""

    version: str
    reinduction_days: int
    #: By the code of parameters.yaml's ``relapse_therapy`` (1 children, 2 adults).
    variants: Mapping[int, Variant]
    consolidation: Mapping[str, Consolidation]
    hsct_risk_groups: tuple[str, ...]
    donor_search_days: int
    conditioning_days: int
    followup_days: int
    values: Mapping[str, float]
    evidence: Mapping[str, Evidence]

    def value(self, name: str, variant: Variant | None = None) -> float:
        """A parameter's value (the variant's override if it has one)."""
        if variant is not None and name in variant.values:
            return variant.values[name]
        return self.values[name]

    def variant(self, code: float) -> Variant:
        """The variant of parameters.yaml's ``relapse_therapy`` value ``code``."""
        if int(code) not in self.variants:
            raise KeyError(f"relapse_therapy {code!r}: no such variant in relapse_therapy.yaml "
                           f"(known codes {sorted(self.variants)})")
        return self.variants[int(code)]


def _int(raw: Any, path: str, problems: list[Problem], src: str) -> int:
    v = parse_number(raw, path, problems, src)
    if v != int(v) or v < 0:
        problems.append(Problem(path, "not a whole number of days", expected=">= 0",
                                got=repr(raw), source=src))
        return 0
    return int(v)


def parse_relapse_therapy(data: Any, source: str = "<memory>") -> RelapseTherapy:
    """Validate a parsed ``relapse_therapy.yaml``."""
    problems: list[Problem] = []
    if not isinstance(data, dict) or data.get("schema") != "allpath.sim.relapse_therapy/1":
        raise KnowledgeError([Problem("schema", "not an allpath.sim.relapse_therapy/1 document",
                                      source=source)], source)
    known = data.get("citations") or {}
    blocks: dict[str, dict[str, Any]] = {}
    for k in ("reinduction", "consolidation", "hsct", "parameters"):
        v = data.get(k)
        if not isinstance(v, dict):
            problems.append(Problem(k, "missing mapping", source=source))
        else:
            blocks[k] = v
    if problems:
        raise KnowledgeError(problems, source)
    re = blocks["reinduction"]
    parse_citations(re.get("citations"), "reinduction.citations", known, problems, source)
    parse_evidence(re.get("evidence"), "reinduction.evidence", problems, source)
    days = _int(re.get("days"), "reinduction.days", problems, source)
    variants: dict[int, Variant] = {}
    raw_v = data.get("variants")
    if not isinstance(raw_v, dict) or not raw_v:
        problems.append(Problem("variants", "missing mapping", source=source))
        raw_v = {}
    for vname, entry in raw_v.items():
        path = f"variants.{vname}"
        if not isinstance(entry, dict):
            problems.append(Problem(path, "missing mapping", source=source))
            continue
        parse_citations(entry.get("citations"), f"{path}.citations", known, problems, source)
        parse_evidence(entry.get("evidence"), f"{path}.evidence", problems, source)
        kill_from = entry.get("reinduction_kill")
        if kill_from not in ("induction", "salvage_kill"):
            problems.append(Problem(f"{path}.reinduction_kill", "unknown kill source",
                                    expected="induction or salvage_kill", got=repr(kill_from),
                                    source=source))
        vals = entry.get("values") or {}
        over = {str(k): parse_number(v, f"{path}.values.{k}", problems, source)
                for k, v in vals.items()}
        code = _int(entry.get("code"), f"{path}.code", problems, source)
        tx = entry.get("transplant", True)
        if not isinstance(tx, bool):
            problems.append(Problem(f"{path}.transplant", "not a boolean", got=repr(tx),
                                    source=source))
        variants[code] = Variant(str(vname), str(kill_from), over, bool(tx))
    cons: dict[str, Consolidation] = {}
    for name, entry in blocks["consolidation"].items():
        path = f"consolidation.{name}"
        if not isinstance(entry, dict):
            problems.append(Problem(path, "missing mapping", source=source))
            continue
        parse_citations(entry.get("citations"), f"{path}.citations", known, problems, source)
        parse_evidence(entry.get("evidence"), f"{path}.evidence", problems, source)
        agent = entry.get("agent")
        if agent not in ("blinatumomab", "none"):
            problems.append(Problem(f"{path}.agent", "unknown agent",
                                    expected="blinatumomab or none", got=repr(agent),
                                    source=source))
        cons[str(name)] = Consolidation(
            str(agent), _int(entry.get("cycles"), f"{path}.cycles", problems, source),
            _int(entry.get("cycle_days"), f"{path}.cycle_days", problems, source),
            _int(entry.get("infusion_days"), f"{path}.infusion_days", problems, source),
            parse_number(entry.get("dose_ug_m2_d"), f"{path}.dose_ug_m2_d", problems, source),
            parse_number(entry.get("max_ug_d"), f"{path}.max_ug_d", problems, source))
    hs = blocks["hsct"]
    parse_citations(hs.get("citations"), "hsct.citations", known, problems, source)
    parse_evidence(hs.get("evidence"), "hsct.evidence", problems, source)
    groups = hs.get("risk_groups")
    if not isinstance(groups, list) or any(g not in RISK for g in groups):
        problems.append(Problem("hsct.risk_groups", "unknown relapse.risk.cog value",
                                expected=f"a list of {RISK}", got=repr(groups), source=source))
        groups = []
    values: dict[str, float] = {}
    grades: dict[str, Evidence] = {}
    for name, entry in blocks["parameters"].items():
        path = f"parameters.{name}"
        if not isinstance(entry, dict):
            problems.append(Problem(path, "missing mapping", source=source))
            continue
        values[str(name)] = parse_number(entry.get("value"), f"{path}.value", problems, source)
        parse_citations(entry.get("citations"), f"{path}.citations", known, problems, source)
        grades[str(name)] = parse_evidence(entry.get("evidence"), f"{path}.evidence", problems,
                                      source)
    for need in ("hsct_log10_kill", "hsct_trm_probability", "continuation_days",
                 "continuation_kill_ratio", "disease_death_ratio",
                 "reinduction_kill_ratio", "donor_probability_high",
                 "donor_probability_intermediate"):
        if need not in values:
            problems.append(Problem(f"parameters.{need}", "missing parameter", source=source))
    if problems:
        raise KnowledgeError(problems, source)
    return RelapseTherapy(
        version=str(data.get("version", "")), reinduction_days=days, variants=variants,
        consolidation=cons,
        hsct_risk_groups=tuple(str(g) for g in groups),
        donor_search_days=_int(hs.get("donor_search_days"), "hsct.donor_search_days",
                               problems, source),
        conditioning_days=_int(hs.get("conditioning_days"), "hsct.conditioning_days",
                               problems, source),
        followup_days=_int(hs.get("followup_days"), "hsct.followup_days", problems, source),
        values=values, evidence=grades)


@cache
def _immunotherapy() -> ImmunoParameters:
    """The bundled immunotherapy.yaml, parsed once per process (its salvage, blinatumomab and
    death-rate values; parsing it per chunk cost more than the salvage itself)."""
    from allpath.sim.immuno_params import load_immunotherapy

    return load_immunotherapy()


@cache
def load_relapse_therapy() -> RelapseTherapy:
    """The bundled ``relapse_therapy.yaml``."""
    path = knowledge_path("relapse_therapy.yaml")
    return parse_relapse_therapy(read_yaml(path), str(path))


def split_uniform(u: Array, parts: int = 3, bits: int = 17) -> list[Array]:
    """``parts`` independent uniforms from one float64 uniform, ``bits`` bits each.

    A uniform from ``Generator.random`` carries 53 random bits; consecutive ``bits``-bit slices
    of its binary expansion are independent and uniform on their grid, and each is centred in
    its grid cell so that no part is exactly 0 or 1.
    """
    scale = float(2**bits)
    out: list[Array] = []
    rest = np.asarray(u, dtype=np.float64)
    for _ in range(parts):
        rest = rest * scale
        whole = np.floor(rest)
        out.append((whole + 0.5) / scale)
        rest = rest - whole
    return out


@dataclass(frozen=True)
class SalvageResult:
    """Per relapsed patient (arrays ``(m,)``), days counted from diagnosis."""

    death_day: Array
    blasts_entry: Array
    cr2: AnyArray
    mrd_block1: Array
    risk: npt.NDArray[np.int64]
    template: npt.NDArray[np.int64]
    hsct: AnyArray
    hsct_day: Array
    relapse2_day: Array

    def columns(self, idx: AnyArray, n: int) -> dict[str, Array]:
        """Cohort columns (NaN / -1 for patients without a relapse)."""
        out: dict[str, Array] = {}
        for key, vals, fill in (
            ("relapse_blasts_entry", self.blasts_entry, np.nan),
            ("cr2", self.cr2.astype(np.float64), np.nan),
            ("mrd_block1", self.mrd_block1, np.nan),
            ("relapse_risk_cog", self.risk.astype(np.float64), -1.0),
            ("salvage_template", self.template.astype(np.float64), -1.0),
            ("hsct_cr2", self.hsct.astype(np.float64), np.nan),
            ("hsct_day", self.hsct_day, np.nan),
            ("relapse2_day", self.relapse2_day, np.nan),
        ):
            col = np.full(n, fill)
            col[idx] = vals
            out[key] = col
        return out


def _death_time(x0: Array, r: Array, h: float, e: Array) -> Array:
    """Days until death at hazard h x/(1 + x) with x = x0 e^{r t}, for the exponential clock
    ``e``: solves (h/r) ln((1 + x0 e^{rt})/(1 + x0)) = e."""
    x0 = np.maximum(x0, 1e-12)
    arg = np.log1p(x0) + e * r / h  # ln((1 + x0) e^{e r/h})
    big = arg > 30.0  # ln(e^a - 1) = a + ln(1 - e^{-a}) = a within 1e-13
    ln_em1 = np.where(big, arg, np.log(np.expm1(np.minimum(arg, 30.0))))
    out: Array = (ln_em1 - np.log(x0)) / r
    return out


def _cross(ln0: Array, slope: Array, dur: Array | float, thr: Array) -> Array:
    """Time in [0, dur] at which ln0 + slope t first reaches thr (inf if it does not)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(ln0 >= thr, 0.0, np.where(slope > 0, (thr - ln0) / slope, np.inf))
    out: Array = np.where(t <= dur, t, np.inf)
    return out


def _pack_risk(b0: Array, mrd: Array, t0: Array, therapy_end: float, lineage_t: AnyArray,
               days_per_month: float) -> npt.NDArray[np.int64]:
    """relapse.risk.cog of the relapse pack (codes into :data:`RISK`, -1 unknown)."""
    from allpath.rules.vectorised import Column, evaluate_pack_columns, term_column
    from allpath.sim.pathway import load_pack

    m = b0.shape[0]
    pct = 100.0 * b0
    facts = {
        "rel.marrow_blasts": Column.number(pct),
        "rel.other_test_highest": Column.number(pct),
        "rel.other_test_second": Column.number(pct),
        "rel.blood_blasts": Column.number(np.full(m, np.nan)),
        "rel.csf_wbc": Column.number(np.full(m, np.nan)),
        "rel.csf_blasts": term_column(np.full(m, 1), ("present", "absent", "not_done")),
        "rel.testicular_blasts": term_column(np.full(m, 2), ("present", "absent", "not_done")),
        "rel.months_from_diagnosis": Column.number(t0 / days_per_month),
        "rel.months_after_end_of_therapy": Column.number((t0 - therapy_end) / days_per_month),
        "rel.on_therapy": term_column((t0 < therapy_end).astype(np.int64), (False, True)),
        "rel.lineage": term_column(np.asarray(lineage_t, dtype=np.int64), ("B", "T")),
        "rel.mrd_end_block1": Column.number(100.0 * mrd),
        # the salvage model treats the first relapse after remission
        "rel.episode": term_column(np.zeros(m, dtype=np.int64), ("first", "later")),
        # The model reads the COG criteria (lineage, site, timing, block-1 MRD) as its risk
        # covariate at every age. Decision risk_cog also limits the clinical group to
        # AALL1331's population (1-30 years at relapse, no prior transplant); the model is
        # not a trial population, so it passes that population check explicitly: age 1 (the
        # population's lower bound) and no transplant (the model's first relapse follows
        # front-line chemotherapy).
        "rel.age_years": Column.number(np.ones(m)),
        "rel.prior_hct": term_column(np.zeros(m, dtype=np.int64), (False, True)),
    }
    res = evaluate_pack_columns(load_pack("relapse"), facts, m, ("relapse.risk.cog",))
    codes = res["relapse.risk.cog"].value_codes(RISK)
    if (codes < 0).any():  # -1 would index RISK from the end: fail, never read it as "high"
        raise ValueError("relapse pack: the COG relapse risk group is unknown for "
                         f"{int((codes < 0).sum())} simulated relapse(s); the pack reads a "
                         "fact the salvage model does not give (see decision risk_cog)")
    return codes


def treat_relapses(
    ps: ParameterSet,
    protocol: Protocol,
    batch: Batch,
    idx: AnyArray,
    t0: Array,
    ln_f_r: Array,
    s_post: Array,
    b_observed: Array | None = None,
    days_per_month: float = 365.25 / 12,
    variant: int | None = None,
) -> SalvageResult:
    """Simulate the salvage course of the relapsed patients ``idx`` of ``batch``.

    ``t0``: relapse detection day (from diagnosis); ``ln_f_r``: ln share of the minor clone in
    the relapse burden; ``s_post``: the patients' (risk-adapted) post-induction sensitivity;
    ``b_observed``: marrow blast fraction seen at detection (None: drawn); ``variant``: the
    relapse_therapy.yaml variant code (None: parameters.yaml's ``relapse_therapy`` of the
    population). Returns :class:`SalvageResult`, days from diagnosis.
    """
    from allpath.sim.checkpoints import salvage_template
    from allpath.sim.immuno_model import (
        IMMUNO_NORMALS,
        IMMUNO_UNIFORMS,
        N_IMMUNO_NORMAL,
        N_IMMUNO_UNIFORM,
        RR_INDEX,
        ImmunoDrive,
        RelapseModel,
        draw_patients,
        relapse_parameters,
    )
    from allpath.sim.immuno_pkpd import KillConstants
    from allpath.sim.roadmaps import take_batch

    rt = load_relapse_therapy()
    ip = _immunotherapy()
    pop = batch.population
    var = rt.variant(ps.value("relapse_therapy", pop) if variant is None else variant)
    idx = np.asarray(idx, dtype=np.int64)
    m = idx.size
    sub = take_batch(batch, idx)
    u = sub.uniforms
    ua = split_uniform(u[:, SALVAGE_U["salvage_a"]])
    ub = split_uniform(u[:, SALVAGE_U["salvage_b"]])
    e_death = -np.log(u[:, U["post_relapse"]])
    t0 = np.asarray(t0, dtype=np.float64)

    # --- entry ---------------------------------------------------------------------------
    if b_observed is None:
        iiv = ip.parameters["relapse_blast_fraction"].iiv
        assert iiv is not None
        b0 = np.clip(beta_dist.ppf(ua[0], iiv.args["a"], iiv.args["b"]), 0.05, 0.999)
    else:
        b0 = np.clip(np.asarray(b_observed, dtype=np.float64), 0.05, 0.999)
    p_main = sub.p
    lnk = p_main[:, _PI["lnK_N"]]
    ln_l = lnk + np.log(b0 / (1.0 - b0))
    f_r = np.clip(np.exp(np.minimum(ln_f_r, 0.0)), 0.0, 1.0)
    y = np.empty((m, 2))
    with np.errstate(divide="ignore"):
        y[:, 0] = np.where(f_r < 1.0, ln_l + np.log1p(-np.minimum(f_r, 1.0 - 1e-300)), EXTINCT)
        y[:, 1] = np.where(f_r > 0.0, ln_l + np.log(np.maximum(f_r, 1e-300)), EXTINCT)
    y = np.maximum(y, EXTINCT)

    normals = np.zeros((m, N_IMMUNO_NORMAL))
    normals[:, IMMUNO_NORMALS["cl_blin"]] = special.ndtri(ua[2])
    uni = np.full((m, N_IMMUNO_UNIFORM), 0.5)
    uni[:, IMMUNO_UNIFORMS["cd19neg"]] = ub[0]
    imm = draw_patients(ip, sub.bsa, normals, uni)
    p = relapse_parameters(sub, imm)
    lineage_t = sub.subtype == 1
    template = salvage_template(lineage_t, sub.age)
    cons_by_code = [rt.consolidation.get(name) for name in ("rr-blinatumomab", "hsct")]
    # blinatumomab rate min(dose BSA, cap): the BSA column only sets the infusion rate
    blin = cons_by_code[0]
    if blin is not None and blin.dose_ug_m2_d > 0:
        p[:, RR_INDEX["bsa"]] = np.minimum(sub.bsa, blin.max_ug_d / blin.dose_ug_m2_d)

    # --- stepped days: block 1 for everyone, then the template's consolidation ---------
    model = RelapseModel()
    const = KillConstants.from_parameters(ip)
    kappa = (protocol.phases[0].kill if var.reinduction_kill == "induction"
             else ip.value("salvage_kill")) * rt.value("reinduction_kill_ratio", var)
    h_dis = ip.value("disease_death_rate") * rt.value("disease_death_ratio", var)
    ncrit = sub.ln_n_crit
    d1 = rt.reinduction_days
    k_lod = ps.value("assay_events_at_lod", pop)
    lod = ps.value("flow_detection_limit", pop)
    chemo = ImmunoDrive(const, chemo_kill=kappa)
    for day in range(d1):
        np.putmask(y, y < ncrit, EXTINCT)
        y = model.step_day(day, y, p, chemo)
    np.putmask(y, y < ncrit, EXTINCT)
    x_d1 = model.burden(y, p)
    b = x_d1 / (1.0 + x_d1)
    cr2 = b < 0.05
    mrd = assay(b, ua[1], lod, k_lod)
    rel2 = np.full(m, np.inf)
    is_blin = template == 0
    n_cons = blin.days if blin is not None and blin.agent == "blinatumomab" else 0
    cons_days = np.where(is_blin, n_cons, 0)
    sel = np.flatnonzero(is_blin & cr2)
    if n_cons and sel.size:
        # blinatumomab consolidation of the rr-blinatumomab patients in CR2 (fixed length per
        # patient, so a patient's course does not depend on who else relapsed in the chunk)
        assert blin is not None
        ys, ps_, nc = y[sel], p[sel], ncrit[sel]
        r2 = np.full(sel.size, np.inf)
        for k in range(n_cons):
            day = d1 + k
            if k > 0:
                xs = model.burden(ys, ps_)
                new = ~np.isfinite(r2) & (xs / (1.0 + xs) >= 0.05)
                r2[new] = day
            on = k % max(blin.cycle_days, 1) < blin.infusion_days
            drive = ImmunoDrive(const, blin_ug_m2_d=blin.dose_ug_m2_d if on else 0.0)
            ys = model.step_day(day, ys, ps_, drive)
            np.putmask(ys, ys < nc, EXTINCT)
        xs = model.burden(ys, ps_)
        r2 = np.where(~np.isfinite(r2) & (xs / (1.0 + xs) >= 0.05), float(d1 + n_cons), r2)
        y[sel] = ys
        rel2[sel] = r2

    therapy_end = float(protocol.therapy_days)
    risk = _pack_risk(b0, np.where(cr2, mrd, b0), t0, therapy_end, lineage_t, days_per_month)
    # a donor of the kind the risk group's transplant needs (matched sibling only for the
    # intermediate group in the children's variant, AALL0433) is found with its probability
    p_donor = np.array([rt.value(f"donor_probability_{g}", var) if g != "low" else 1.0
                        for g in RISK])[risk]
    go_hsct = (cr2 & np.isin(risk, [RISK.index(g) for g in rt.hsct_risk_groups])
               & var.transplant & (sub.donor_u < p_donor))

    # --- closed form after the stepped days ----------------------------------------------
    r = p_main[:, _PI["r"]]
    r_post = p_main[:, _PI["r_post"]]
    rho = p_main[:, _PI["rho"]]
    thr = lnk + math.log(X_RELAPSE)
    end_cons = d1 + cons_days.astype(np.float64)
    t_step = end_cons
    t_h = np.maximum(end_cons, float(rt.donor_search_days)) + rt.conditioning_days
    t_h = np.maximum(t_h, t_step)
    ok = cr2 & ~np.isfinite(rel2)
    lnc = [y[:, 0].copy(), y[:, 1].copy()]
    extinct = [lnc[0] <= EXTINCT / 2, lnc[1] <= EXTINCT / 2]

    # HSCT arm: growth at r until the transplant, then the log kill, then regrowth at r_post
    gap = t_h - t_step
    hs = ok & go_hsct
    t_rel2 = np.full(m, np.inf)
    for c in (0, 1):
        tc = _cross(lnc[c], r, gap, thr)
        t_rel2 = np.where(hs & ~extinct[c], np.minimum(t_rel2, t_step + tc), t_rel2)
    got_hsct = hs & ~np.isfinite(t_rel2)
    kill = rt.value("hsct_log10_kill", var) * LN10
    for c in (0, 1):
        after = lnc[c] + r * gap - kill
        dead_clone = after < ncrit[:, c]
        tc = _cross(after, r_post, np.inf, thr)
        live = got_hsct & ~extinct[c] & ~dead_clone
        t_rel2 = np.where(live, np.minimum(t_rel2, t_h + tc), t_rel2)

    # continuation arm: kill kappa_M s_post (rho for the minor clone) for T_cont, then r_post
    maint = [ph for ph in protocol.phases if ph.maintenance]
    k_m = (maint[0].kill if maint else 0.0) * rt.value("continuation_kill_ratio", var) * s_post
    t_cont = rt.value("continuation_days", var)
    co = ok & ~go_hsct
    for c, k_c in ((0, k_m), (1, rho * k_m)):
        slope = r - k_c
        tc = _cross(lnc[c], slope, t_cont, thr)
        end = lnc[c] + slope * t_cont
        lo = np.minimum(lnc[c], end)
        gone = extinct[c] | (lo < ncrit[:, c])
        t_c = np.where(np.isfinite(tc), t_step + tc,
                       np.where(gone, np.inf, t_step + t_cont + _cross(end, r_post, np.inf,
                                                                       thr)))
        t_rel2 = np.where(co, np.minimum(t_rel2, t_c), t_rel2)
    rel2 = np.where(np.isfinite(rel2), rel2, t_rel2)

    # --- deaths --------------------------------------------------------------------------
    death = np.full(m, np.inf)
    refractory = ~cr2
    death = np.where(refractory, d1 + _death_time(x_d1, r, h_dis, e_death), death)
    relapsed2 = cr2 & np.isfinite(rel2)
    death = np.where(relapsed2, rel2 + _death_time(np.full(m, X_RELAPSE), r, h_dis, e_death),
                     death)
    trm = got_hsct & (ub[1] < rt.value("hsct_trm_probability", var))
    t_trm = t_h + ub[2] * rt.followup_days
    trm &= t_trm < rel2
    death = np.where(trm, np.minimum(death, t_trm), death)
    rel2 = np.where(trm & (rel2 > t_trm), np.inf, rel2)
    return SalvageResult(
        death_day=t0 + death, blasts_entry=b0, cr2=cr2, mrd_block1=np.where(cr2, mrd, np.nan),
        risk=risk, template=template, hsct=got_hsct,
        hsct_day=np.where(got_hsct, t0 + t_h, np.nan),
        relapse2_day=np.where(np.isfinite(rel2), t0 + rel2, np.nan))


def enabled(ps: ParameterSet, population: str) -> bool:
    """Whether relapses are treated (parameter ``relapse_therapy`` of the population)."""
    return ps.value("relapse_therapy", population) > 0


def apply_to_cohort(ps: ParameterSet, protocol: Protocol, batch: Batch, relapsed: AnyArray,
                    relapse_day: Array, death_day: Array, ln_l_end: tuple[Array, Array],
                    b_observed: Array | None = None,
                    variant: int | None = None) -> dict[str, Array]:
    """The kernels' hook: treat every relapse of the cohort (``relapsed`` with a finite
    ``relapse_day``), write the deaths into ``death_day`` (in place) and return the salvage
    columns. ``ln_l_end``: the two clones' log burden at the end of the stepped frontline run
    (their ratio is the relapse's composition); ``b_observed``: the marrow fraction the relapse
    pack's visit counted, per patient of the cohort (NaN where none)."""
    n = batch.n
    ri = np.flatnonzero(relapsed & np.isfinite(relapse_day))
    lns, lnr = (np.asarray(v, dtype=np.float64) for v in ln_l_end)
    ln_f_r = lnr - np.logaddexp(lns, lnr)
    res = treat_relapses(ps, protocol, batch, ri, relapse_day[ri], ln_f_r[ri],
                         batch.p[ri, _PI["s_post"]],
                         None if b_observed is None else b_observed[ri], variant=variant)
    death_day[ri] = res.death_day
    return res.columns(ri, n)
