"""Closed loop with the pathway: maintenance titration of virtual patients by the titration pack.

At maintenance visits (every ``every_weeks`` weeks from the start of maintenance) the cohort
kernel hands the patients' observed counts to :class:`MaintenanceLoop`, which builds, for all
patients at once, the facts :func:`allpath.monitoring.titration.run_titration` builds for one
visit (``_visit_facts``: counts, TPMT/NUDT15 phenotypes, protocol doses, weeks since the last
dose change, whether the dose in effect is a hold, increases without response), evaluates the
titration pack (``packs/80-titration.yaml``) column-wise through :mod:`allpath.sim.pathway` and
applies the decided action to each patient's 6-MP and MTX dose. The policy is the pack: no
threshold is re-typed here. What the pack leaves to the protocol is taken from the simulator's
protocol file (``protocols.yaml`` ``maintenance``): the size of a reduction and of a reduced
restart (``dose_step``; the pack says "amount per protocol") and the dose ceiling
(``max_dose_factor``). The size of an increase is the pack's own ``change`` field (``~25%``).

Policies (``titration.policy`` in a cohort YAML):

* ``protocol`` - the simulator's built-in rule (``protocols.yaml``: ANC window, +-25 %, hold
  below the window), the behaviour of :func:`allpath.sim.fast.run_cohort_batch` without a loop;
* ``fixed`` - no titration: the starting dose throughout maintenance;
* ``pack`` - the closed loop through the titration pack.

Under every policy the pack also *observes* each visit (its ``counts``, ``anc_window`` and
``hold`` decisions), so the figures of the policies are measured with the same yardstick.

Observations: ANC is the kernel's neutrophil state; WBC = ANC + other leukocytes + peripheral
blasts (as at diagnosis); platelets are the platelet chain's quasi-steady state at the visit's
marrow burden, ``C0_P (1 + x)^(-crowd_P/gamma_P)`` (the model has no maintenance platelet
effect, theta_P = 0, so the chain sits at that state; the kernel does not integrate it in
maintenance). Observed counts are the model's counts, except that with ``anc_noise`` the
visit ANC (and the WBC built on it) carries the maintenance ANC model's residual error. TPMT
and NUDT15 phenotypes come from the simulated genotypes
(:func:`allpath.sim.population.make_batch`). MTX has no pharmacodynamic term in the model: its
dose is tracked (the pack acts on it) but does not change the counts.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from allpath.rules.vectorised import (
    Column,
    ColumnDecision,
    evaluate_pack_columns,
    term_column,
)
from allpath.sim.base import AnyArray, Array
from allpath.sim.params import Protocol
from allpath.sim.pathway import load_pack

__all__ = ["POLICIES", "MaintenanceLoop", "TitrationConfig", "parse_titration"]

Policy = Literal["protocol", "fixed", "pack"]
POLICIES: tuple[Policy, ...] = ("protocol", "fixed", "pack")

#: TPMT / NUDT15 genotype index of the simulator (NM, IM, PM) -> CPIC phenotype term.
PHENOTYPES = ("normal", "intermediate", "poor")
ACTIONS = ("hold", "restart_reduced", "decrease", "increase", "continue", "wait",
           "check_counts", "check_adherence")
# restart_previous (MTX back at its dose before the hold) and no_suggestion (implausible
# counts: nothing changes until they are checked) leave the dose factor as it is
VERBS = ("stop", "restart_reduced", "reduce", "increase", "unchanged", "restart_previous",
         "no_suggestion")
STATUS = ("below", "within", "above")
OUTPUTS = ("titration.action", "titration.adherence_advisory", "titration.anc_window",
           "titration.hold")
#: The protocol MTX dose used as the fact ``titration.mtx_protocol_dose`` (the simulator's
#: protocols have no MTX); the same default as allpath.monitoring.titration (COG, S33).
MTX_PROTOCOL_DOSE = 20.0


@dataclass(frozen=True)
class TitrationConfig:
    """Maintenance titration policy of a cohort.

    ``every_weeks``: visit interval (None: the protocol's ``check_every_days`` for
    ``protocol``, 4 weeks otherwise). ``basis``: ``auto`` judges counts on WBC (NOPHO window)
    since virtual patients always have a WBC, ``anc`` leaves WBC out (COG-style ANC window), as
    ``run_titration(basis=...)``. ``pack_dir``: a folder of pack YAML files to take the
    titration pack from (default: the bundled packs). ``anc_noise``: the ANC seen at a visit
    (and the WBC built on it) carries the maintenance ANC model's residual error
    (``anc_residual_cv``), drawn from its own random stream (:data:`NOISE_STREAM`).
    """

    policy: Policy = "protocol"
    every_weeks: float | None = None
    basis: Literal["auto", "anc"] = "auto"
    pack_dir: str | None = None
    anc_noise: bool = False

    def interval_days(self, protocol: Protocol) -> int:
        if self.every_weeks is None:
            return protocol.check_every_days if self.policy == "protocol" else 28
        return max(1, round(self.every_weeks * 7))


def parse_titration(raw: Any) -> TitrationConfig | None:
    """``titration:`` of a cohort YAML: a policy name or a mapping (policy, every_weeks,
    basis, pack_dir, anc_noise)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = {"policy": raw}
    if not isinstance(raw, dict):
        raise ValueError(f"titration: expected a policy name or a mapping, got {raw!r}")
    policy = str(raw.get("policy", "protocol"))
    if policy not in POLICIES:
        raise ValueError(f"titration.policy: {policy!r} is not one of {POLICIES}")
    basis = str(raw.get("basis", "auto"))
    if basis not in ("auto", "anc"):
        raise ValueError(f"titration.basis: {basis!r} is not auto or anc")
    every = raw.get("every_weeks")
    return TitrationConfig(
        policy=policy,
        every_weeks=None if every is None else float(every),
        basis=basis,  # type: ignore[arg-type]
        pack_dir=None if raw.get("pack_dir") is None else str(raw["pack_dir"]),
        anc_noise=_flag(raw.get("anc_noise", False), "titration.anc_noise"),
    )


#: Random stream of the visit ANC noise (0: main draws; 1: immunotherapy; 2: checkpoints).
NOISE_STREAM = 3


def _flag(raw: Any, where: str) -> bool:
    if not isinstance(raw, bool):
        raise ValueError(f"{where}: expected true or false, got {raw!r}")
    return raw


def visit_noise_columns(titration: TitrationConfig, protocol: Protocol) -> int:
    """Normal draws per patient for the visit ANC noise: one per possible visit."""
    return protocol.therapy_days // titration.interval_days(protocol) + 1


def _percent(text: Any) -> float | None:
    m = re.search(r"(\d+(?:\.\d+)?)\s*%", str(text)) if text is not None else None
    return None if m is None else float(m.group(1)) / 100.0


class MaintenanceLoop:
    """Per-batch titration state and the visit step (all arrays along the patient axis).

    ``genotype`` / ``nudt15``: TPMT / NUDT15 phenotype indices (NM, IM, PM; ``nudt15`` None:
    all normal). ``dose_nominal``: each patient's starting 6-MP dose (mg/day; CPIC genotype
    fraction of the protocol dose). :meth:`visit` returns the 6-MP dose (mg/day) to apply until
    the next visit.
    """

    def __init__(self, cfg: TitrationConfig, protocol: Protocol, genotype: AnyArray,
                 dose_nominal: Array, n_visits: int, nudt15: AnyArray | None = None) -> None:
        self.cfg = cfg
        self.protocol = protocol
        self.every = cfg.interval_days(protocol)
        self.cp = load_pack("titration", cfg.pack_dir)
        n = dose_nominal.shape[0]
        self.n = n
        self.dose_nominal = dose_nominal
        self.mp = np.ones(n)  # 6-MP factor on the starting dose while not held
        self.mtx = np.ones(n)  # MTX factor on the protocol dose while not held
        self.held = np.zeros(n, dtype=bool)
        self.last_change = np.zeros(n)  # day the dose in effect was set
        self.streak = np.zeros(n)
        self.tpmt = term_column(np.asarray(genotype, dtype=np.int64), PHENOTYPES)
        self.nudt15 = term_column(np.zeros(n, dtype=np.int64) if nudt15 is None else
                                  np.asarray(nudt15, dtype=np.int64), PHENOTYPES)
        self.mp_protocol = Column.number(np.full(n, protocol.mp_dose_mg_m2_d))
        self.mtx_protocol = Column.number(np.full(n, MTX_PROTOCOL_DOSE))
        # per-patient tallies over visits while in CR, alive and not relapsed
        self.visits = np.zeros(n)
        self.in_target = np.zeros(n)
        self.anc_in_window = np.zeros(n)
        self.at_hold_limit = np.zeros(n)
        self.holds = np.zeros(n)
        self.undetermined = np.zeros(n)
        self.mtx_sum = np.zeros(n)
        self.anc_visits = np.full((n, max(n_visits, 1)), np.nan)
        self.k = 0

    # ---------------------------------------------------------------------------- pack
    def observe(self, day: int, anc: Array, wbc: Array, platelets: Array
                ) -> dict[str, ColumnDecision]:
        """Evaluate the titration pack for every patient at this visit."""
        n = self.n
        facts: dict[str, Column] = {
            "tpmt.phenotype": self.tpmt,
            "nudt15.phenotype": self.nudt15,
            "titration.mp_protocol_dose": self.mp_protocol,
            "titration.mtx_protocol_dose": self.mtx_protocol,
            "visit.anc": Column.number(anc),
            "visit.platelets": Column.number(platelets),
            "visit.weeks_since_change": Column.number((day - self.last_change) / 7.0),
            "visit.on_hold": term_column(self.held.astype(np.int64), (False, True)),
            "visit.increases_without_response": Column.number(self.streak),
        }
        if self.cfg.basis == "auto":
            facts["visit.wbc"] = Column.number(wbc)
        return evaluate_pack_columns(self.cp, facts, n, OUTPUTS)

    # ---------------------------------------------------------------------------- visit
    def visit(self, day: int, since: int, anc: Array, wbc: Array, platelets: Array,
              active: npt.NDArray[np.bool_]) -> Array:
        """One visit: observe, decide, apply; returns the 6-MP dose (mg/day)."""
        res = self.observe(day, anc, wbc, platelets)
        counts = res["titration.counts"].field_codes("status", STATUS)
        anc_win = res["titration.anc_window"].value_codes(STATUS)
        hold_limit = res["titration.hold"].value_codes((True, False)) == 0
        act = res["titration.action"].field_codes("action", ACTIONS)
        before_mp = np.where(self.held, 0.0, self.mp)
        before_mtx = np.where(self.held, 0.0, self.mtx)
        if since > 0:
            if self.cfg.policy == "pack":
                self._apply_pack(res["titration.action"], act)
            elif self.cfg.policy == "protocol":
                self._apply_protocol(anc)
        after_mp = np.where(self.held, 0.0, self.mp)
        after_mtx = np.where(self.held, 0.0, self.mtx)
        changed = (after_mp != before_mp) | (after_mtx != before_mtx)
        self.last_change = np.where(changed, float(day), self.last_change)
        increased = after_mp > before_mp
        self.streak = np.where(
            (act == 0) | self.held | (counts == 0) | (counts == 1), 0.0,
            np.where((counts == 2) & increased, self.streak + 1.0, self.streak))
        # tallies
        a = active.astype(np.float64)
        self.visits += a
        self.in_target += a * (counts == 1)
        self.anc_in_window += a * (anc_win == 1)
        self.at_hold_limit += a * hold_limit
        self.holds += a * (self.held & (before_mp > 0))
        self.undetermined += a * (act < 0)
        self.mtx_sum += a * after_mtx
        if self.k < self.anc_visits.shape[1]:
            self.anc_visits[:, self.k] = np.where(active, anc, np.nan)
        self.k += 1
        out: Array = after_mp * self.dose_nominal
        return out

    def _apply_pack(self, action: ColumnDecision, act: npt.NDArray[np.int64]) -> None:
        p = self.protocol
        step = p.dose_step  # the pack: "amount per protocol"
        mp_verb = action.field_codes("mp", VERBS)
        mtx_verb = action.field_codes("mtx", VERBS)
        # the increase step is the pack's own ``change`` field (e.g. "~25%")
        up = np.full(self.n, step)
        for code, fields in enumerate(action.fields):
            pct = _percent(fields.get("change"))
            if pct is not None and action.result.value is not None:
                up = np.where(action.result.value == code, pct, up)
        hold = act == ACTIONS.index("hold")
        restart = act == ACTIONS.index("restart_reduced")
        for factor, verb in ((self.mp, mp_verb), (self.mtx, mtx_verb)):
            down = (verb == VERBS.index("reduce")) | (verb == VERBS.index("restart_reduced"))
            inc = verb == VERBS.index("increase")
            factor[down] *= 1.0 - step
            factor[inc] = np.minimum(factor[inc] * (1.0 + up[inc]), p.max_dose_factor)
        self.held = (self.held & ~restart) | hold

    def _apply_protocol(self, anc: Array) -> None:
        """The simulator's built-in rule (the same as the kernel without a loop)."""
        p = self.protocol
        lo, hi = p.anc_window
        low = anc < lo
        resume = ~low & self.held
        self.mp = np.where(resume, self.mp * (1 - p.dose_step), self.mp)
        up = ~low & ~self.held & (anc > hi)
        self.mp = np.where(up, np.minimum(self.mp * (1 + p.dose_step), p.max_dose_factor),
                           self.mp)
        self.mtx = self.mp.copy()
        self.held = low

    # ---------------------------------------------------------------------------- output
    def columns(self) -> dict[str, Array]:
        """Per-patient maintenance tallies (see docs/simulator/README.md, Closed loop)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows (no visit)
            med = np.nanmedian(self.anc_visits, axis=1)
        visits = np.maximum(self.visits, 1.0)
        return {
            "maint_visits": self.visits.copy(),
            "maint_visits_in_target": self.in_target.copy(),
            "maint_visits_anc_in_window": self.anc_in_window.copy(),
            "maint_visits_at_hold_limit": self.at_hold_limit.copy(),
            "maint_holds": self.holds.copy(),
            "maint_visits_undetermined": self.undetermined.copy(),
            "maint_years": self.visits * self.every / 365.25,
            "maint_anc_visit_median": med,
            "mtx_dose_mean_pct": np.where(self.visits > 0, 100.0 * self.mtx_sum / visits,
                                          math.nan),
        }



# ------------------------------------------------------------------ MRD-based intensification

#: Risk groups of the risk pack that get the protocol's augmented phase.
HIGH_RISK = ("high", "very_high")
COG_GROUPS = ("low", "average", "high", "very_high", "not_applicable")
AALL1731_GROUPS = ("sr_favorable", "sr_average", "sr_high", "not_eligible")


def _genetic_subgroups(population: str, u: Array
                       ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """ETV6::RUNX1 and high-hyperdiploid flags drawn as :func:`allpath.sim.records.
    genetics_block` draws them (``record_genetics.yaml``; same uniform, same order)."""
    from importlib import resources

    import yaml

    path = resources.files("allpath").joinpath("knowledge", "sim", "record_genetics.yaml")
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    fractions = spec["b_all_subgroups"].get(population, spec["b_all_subgroups"]["pediatric"])
    names = list(fractions)
    cum = np.cumsum([float(fractions[k]) for k in names])
    group = np.minimum(np.searchsorted(cum, u, side="right"), len(names) - 1)
    idx = {name: i for i, name in enumerate(names)}
    etv: npt.NDArray[np.bool_] = np.asarray(group == idx.get("ETV6::RUNX1", -1), dtype=bool)
    hyper: npt.NDArray[np.bool_] = np.asarray(group == idx.get("high_hyperdiploid", -1),
                                              dtype=bool)
    return etv, hyper


def diagnosis_facts(population: str, subtype: AnyArray, age: Array, wbc_dx: Array,
                    u_genetics: Array) -> dict[str, Column]:
    """The diagnosis facts a virtual patient's record gives the pathway, for every patient at
    once, with the genetics pack's ``genetics.cog_bucket`` derived (see
    :func:`risk_restratification` for what they are)."""
    n = age.shape[0]
    ones = np.ones(n, dtype=bool)
    t_all = np.asarray(subtype == 1, dtype=bool)
    ph: npt.NDArray[np.bool_] = np.asarray(subtype == 2, dtype=bool)
    etv, hyper = _genetic_subgroups(population, u_genetics)
    etv &= subtype == 0
    hyper &= subtype == 0
    facts: dict[str, Column] = {
        "diagnosis.status": term_column(np.zeros(n), ("ALL",)),
        "diagnosis.lineage": term_column(t_all.astype(np.int64), ("B", "T")),
        "age.years": Column.number(age),
        "wbc.dx": Column.number(wbc_dx),
        "genetics.fusions": Column("set", ones.copy(),
                                   members={"BCR::ABL1": ph, "ETV6::RUNX1": etv}),
        "genetics.fusion_genes": Column("set", ones.copy(), members={
            "BCR": ph, "ABL1": ph, "ETV6": etv, "RUNX1": etv}),
        "genetics.alterations": Column("set", ones.copy()),
        "genetics.chromosome_count": Column.number(np.where(hyper, 55.0, 46.0)),
        "cns.group": term_column(np.zeros(n), ("CNS1",)),
        "testicular_involvement": term_column(np.zeros(n), (False,)),
        # as in the virtual records (allpath.sim.records): no steroids before diagnosis
        "steroid_pretreatment": term_column(np.zeros(n), (False,)),
    }
    evaluate_pack_columns(load_pack("genetics"), facts, n,
                          ("genetics.cog_bucket", "genetics.double_trisomy_4_10"))
    return facts


def risk_restratification(population: str, subtype: AnyArray, age: Array, wbc_dx: Array,
                          mrd_d8_blood: Array, mrd_eoi: Array, u_genetics: Array,
                          ) -> dict[str, npt.NDArray[np.int64]]:
    """COG (PDQ) and AALL1731 risk groups at the end of induction, for every patient at once.

    The facts are those a virtual patient's record gives the pathway (``allpath.sim.records``):
    ALL of lineage B or T, age, WBC at diagnosis, BCR::ABL1 for Ph+ B-ALL, for B-ALL an
    ETV6::RUNX1 / high-hyperdiploid (55 chromosomes) / B-other subgroup, no other alteration,
    CNS1, no testicular disease; plus the simulated day-8 blood MRD and end-of-induction flow
    MRD (fractions, given to the pack in %, 0 below the detection limit). The genetics pack
    derives ``genetics.cog_bucket`` and the risk pack decides ``risk.cog_pdq`` and
    ``risk.aall1731``; returned as codes into :data:`COG_GROUPS` / :data:`AALL1731_GROUPS`
    (-1 where the packs leave the group unknown).
    """
    n = age.shape[0]
    facts = diagnosis_facts(population, subtype, age, wbc_dx, u_genetics)
    facts["mrd.day8_blood"] = Column.number(100.0 * np.nan_to_num(mrd_d8_blood))
    facts["mrd.eoi_marrow"] = Column.number(100.0 * np.nan_to_num(mrd_eoi))
    res = evaluate_pack_columns(load_pack("risk"), facts, n,
                                ("risk.cog_pdq", "risk.aall1731"))
    return {"cog_pdq": res["risk.cog_pdq"].value_codes(COG_GROUPS),
            "aall1731": res["risk.aall1731"].value_codes(AALL1731_GROUPS)}
