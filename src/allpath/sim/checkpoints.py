"""Pathway checkpoints in the cohort simulator: the response and relapse packs decide.

By default the cohort kernel (:func:`allpath.sim.fast.run_cohort_batch`) calls remission and
relapse from the *true* leukaemic burden (marrow blasts below / at least 5 %) and times a
relapse from the day the burden crosses 5 %. With a :class:`CheckpointPolicy` (cohort YAML key
``checkpoints``) the pathway's own rule packs make those calls from what a clinic would see:

* **End of induction (phase change).** Each patient gets a marrow aspirate and a blood smear on
  the last day of induction: marrow blasts are counted among ``marrow_cells_counted`` nucleated
  cells (Poisson counting noise), blood blasts among ``smear_cells_counted`` leukocytes, with
  the simulated ANC and platelets. The **response pack** (``72-response``: BMT CTN 2010 counts
  for adults, the marrow alone for children as in the Ponte di Legno consensus) returns CR /
  CRi / refractory / PD for every patient at once; CR and CRi continue to
  consolidation, the others leave front-line therapy as induction failures (the kernel's
  induction-failure survival). A patient called CR whose true burden is still 5 % or more is
  caught as a relapse at the first check after induction, as in a clinic.
* **Relapse (detection, site and timing).** A relapse is found at the first surveillance visit
  on or after the day the burden crosses 5 %: on therapy every ``weeks_on_therapy`` weeks (the
  protocol's count-check interval by default), after therapy every ``weeks_off_therapy`` weeks
  (by default none: the relapse presents, e.g. with symptoms, when it happens). The burden
  keeps growing at the patient's regrowth rate ``r_post`` until then. The marrow at the visit
  (morphology count and a flow-cytometry MRD as the confirming test) goes through the **relapse
  pack** (``74-relapse``: site by the Ponte di Legno criteria, timing by the COG, BFM and NCCN
  schemes); a marrow the pack cannot call yet is repeated at the next visit. Survival after
  relapse then follows the pack's **COG timing class** (very early / early / late, parameters
  ``post_relapse_os5_*``), and the **roadmap pack** names the salvage template (relapsed
  setting: ``rr-blinatumomab`` for B lineage, ``rr-t-nelarabine`` for T lineage), kept as a
  column.

Every threshold (5 % blasts, 18 and 36 months, ANC and platelet recovery) is read from the
packs; nothing here re-types one. The checkpoint draws come from their own random stream
(:func:`allpath.sim.base.patient_randoms` with ``stream=`` :data:`STREAM`), so turning the
policy on does not shift any other draw, and results stay independent of chunking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from allpath.rules.vectorised import Column, evaluate_pack_columns, term_column
from allpath.sim.base import AnyArray, Array
from allpath.sim.outcomes import assay, count
from allpath.sim.pathway import load_pack

__all__ = [
    "CU",
    "N_UNIFORM",
    "RESPONSE",
    "SITES",
    "STREAM",
    "TEMPLATES",
    "TIMING",
    "CheckpointPolicy",
    "RelapseCall",
    "detection_day",
    "eoi_response",
    "parse_checkpoints",
    "relapse_call",
    "salvage_template",
]

#: Random stream of the checkpoint draws (0: main draws; 1: immunotherapy).
STREAM = 2
#: Uniforms per patient on that stream: the end-of-induction marrow and smear, then a marrow
#: count and a flow MRD for each relapse visit (the first and up to :data:`MAX_REPEATS` repeats).
CU = {"eoi_marrow": 0, "eoi_smear": 1, "relapse": 2}

RESPONSE = ("CR", "CRi", "PD", "refractory", "not_assessable")
REMISSION = ("CR", "CRi")
SITES = ("combined", "marrow", "isolated_cns", "isolated_testicular", "suspected", "none")
TIMING = ("very_early", "early", "late", "not_applicable")
TEMPLATES = ("rr-blinatumomab", "hsct", "rr-t-nelarabine")
#: Repeat marrows at most this many visits when the pack cannot yet call a relapse.
MAX_REPEATS = 6
#: Checkpoint uniforms per patient.
N_UNIFORM = CU["relapse"] + 2 * (MAX_REPEATS + 1)


@dataclass(frozen=True)
class CheckpointPolicy:
    """Which checkpoints the packs decide, and the surveillance visit intervals."""

    response: bool = True
    relapse: bool = True
    #: Weeks between visits on therapy; None: the protocol's count-check interval.
    weeks_on_therapy: float | None = None
    #: Weeks between visits after therapy; None: a relapse presents when it happens.
    weeks_off_therapy: float | None = None


def parse_checkpoints(raw: Any) -> CheckpointPolicy | None:
    """``checkpoints`` of a cohort YAML: ``pack`` (both checkpoints, default intervals),
    ``none``, or a mapping with ``response`` and ``relapse`` (``pack`` / ``none``) and
    ``weeks_on_therapy`` / ``weeks_off_therapy`` (positive numbers)."""
    if raw in (None, "none", False):
        return None
    if raw == "pack":
        return CheckpointPolicy()
    if not isinstance(raw, dict):
        raise ValueError(f"checkpoints: expected 'pack', 'none' or a mapping, got {raw!r}")
    known = {"response", "relapse", "weeks_on_therapy", "weeks_off_therapy"}
    extra = sorted(set(raw) - known)
    if extra:
        raise ValueError(f"checkpoints: unknown key(s) {extra}; expected some of {sorted(known)}")
    flags: dict[str, bool] = {}
    for key in ("response", "relapse"):
        value = raw.get(key, "pack")
        if value not in ("pack", "none"):
            raise ValueError(f"checkpoints.{key}: expected 'pack' or 'none', got {value!r}")
        flags[key] = value == "pack"
    weeks: dict[str, float | None] = {}
    for key in ("weeks_on_therapy", "weeks_off_therapy"):
        value = raw.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"checkpoints.{key}: expected a positive number of weeks, "
                                 f"got {value!r}")
            value = float(value)
        weeks[key] = value
    return CheckpointPolicy(flags["response"], flags["relapse"], weeks["weeks_on_therapy"],
                            weeks["weeks_off_therapy"])


def eoi_response(marrow_frac: Array, marrow_frac_dx: Array, blood_frac: Array, anc: Array,
                 platelets: Array, u_marrow: Array, u_smear: Array, n_marrow: float,
                 n_smear: float, *, age: Array) -> tuple[npt.NDArray[np.int64], Array, Array]:
    """Response at the end of induction by the response pack, for every patient at once.

    ``marrow_frac``/``marrow_frac_dx``: true blast fraction of marrow cells now and at
    diagnosis; ``blood_frac``: true blast fraction of blood leukocytes; ``anc``, ``platelets``
    in 10^9/L; ``age`` in years at diagnosis (the pack applies the count-recovery criterion,
    CRi, only to adults; a child's remission is decided by the marrow). Returns (codes into
    :data:`RESPONSE`, -1 where undecided; observed marrow blasts %; observed blood blasts %).
    """
    n = marrow_frac.shape[0]
    marrow_pct = 100.0 * count(u_marrow, marrow_frac, n_marrow) / n_marrow
    blood_pct = 100.0 * count(u_smear, blood_frac, n_smear) / n_smear
    facts: dict[str, Column] = {
        "cp.marrow_blasts": Column.number(marrow_pct),
        "cp.marrow_blast_ratio": Column.number(
            marrow_pct / np.maximum(100.0 * marrow_frac_dx, 1e-12)),
        "cp.blood_blasts": Column.number(blood_pct),
        "cp.anc": Column.number(anc),
        "cp.platelets": Column.number(platelets),
        "cp.emd": term_column(np.zeros(n), (False, True)),
        "age.years": Column.number(age),
    }
    res = evaluate_pack_columns(load_pack("response"), facts, n, ("response.status",))
    return res["response.status"].value_codes(RESPONSE), marrow_pct, blood_pct


def detection_day(t_event: Array, therapy_end: float, every_on: float,
                  every_off: float | None) -> Array:
    """First surveillance visit on or after ``t_event`` (days from diagnosis): visits every
    ``every_on`` days from diagnosis while on therapy, then every ``every_off`` days from the
    end of therapy (``None``: on the day itself)."""
    on = np.ceil(t_event / every_on - 1e-9) * every_on
    on_ok = (t_event < therapy_end) & (on < therapy_end)
    if every_off is None:
        off = np.maximum(t_event, therapy_end)
    else:
        off = therapy_end + np.ceil(np.maximum(t_event - therapy_end, 0.0) / every_off
                                    - 1e-9) * every_off
    out: Array = np.where(on_ok, on, off)
    return out


@dataclass(frozen=True)
class RelapseCall:
    """The relapse pack's call for each relapsing patient (rows as given)."""

    day: Array  # detection day (days from diagnosis)
    site: npt.NDArray[np.int64]  # codes into SITES
    timing_cog: npt.NDArray[np.int64]  # codes into TIMING
    template: npt.NDArray[np.int64]  # codes into TEMPLATES (-1 undecided)
    marrow_pct: Array  # observed marrow blasts on the detection day
    repeats: npt.NDArray[np.int64]  # repeat marrows needed before the pack could call it


def relapse_call(t_cross: Array, ln_x_cross: Array, r_post: Array, ln_x_max: Array,
                 therapy_end: float, every_on: float, every_off: float | None,
                 u_visits: Array, n_marrow: float, lod_flow: float,
                 k_lod: float, lineage_t: npt.NDArray[np.bool_], age: Array,
                 days_per_month: float) -> RelapseCall:
    """Detect and classify relapses with the relapse and roadmap packs (vectorised).

    ``t_cross``: day the burden x = L/K_N crosses its 5 % marrow-blast level ``ln_x_cross``;
    it then grows at ``r_post``/day on the log scale up to ``ln_x_max`` (ln K_L/K_N). At each
    visit the marrow is counted (``n_marrow`` cells) and a flow MRD (detection limit
    ``lod_flow``, ``k_lod`` events) is the confirming test; rows the pack leaves at ``none``
    get another marrow at the next visit (at most :data:`MAX_REPEATS`). ``u_visits``: the
    patients' checkpoint uniforms from column ``CU["relapse"]`` on (two per visit).
    """
    m = t_cross.shape[0]
    day = detection_day(t_cross, therapy_end, every_on, every_off)
    site = np.full(m, SITES.index("none"), dtype=np.int64)
    timing = np.full(m, TIMING.index("not_applicable"), dtype=np.int64)
    marrow_pct = np.zeros(m)
    repeats = np.zeros(m, dtype=np.int64)
    todo = np.arange(m)
    cp = load_pack("relapse")
    for k in range(MAX_REPEATS + 1):
        if not todo.size:
            break
        t = day[todo]
        ln_x = np.minimum(ln_x_cross[todo] + r_post[todo] * (t - t_cross[todo]), ln_x_max[todo])
        x = np.exp(ln_x)
        b = x / (1.0 + x)
        um, uf = u_visits[todo, 2 * k], u_visits[todo, 2 * k + 1]
        pct = 100.0 * count(um, b, n_marrow) / n_marrow
        flow_pct = 100.0 * assay(b, uf, lod_flow, k_lod)
        n = todo.size
        months = t / days_per_month
        facts: dict[str, Column] = {
            "rel.marrow_blasts": Column.number(pct),
            "rel.other_test_highest": Column.number(flow_pct),
            "rel.other_test_second": Column.number(np.zeros(n)),
            "rel.blood_blasts": Column.number(np.full(n, np.nan)),
            "rel.csf_wbc": Column.number(np.full(n, np.nan)),
            "rel.csf_blasts": term_column(np.full(n, 2), ("present", "absent", "not_done")),
            "rel.testicular_blasts": term_column(np.full(n, 2),
                                                 ("present", "absent", "not_done")),
            "rel.months_from_diagnosis": Column.number(months),
            "rel.months_after_end_of_therapy": Column.number((t - therapy_end)
                                                             / days_per_month),
            "rel.on_therapy": term_column((t < therapy_end).astype(np.int64), (False, True)),
            # the simulator follows a patient to the first relapse after remission
            "rel.episode": term_column(np.zeros(n, dtype=np.int64), ("first", "later")),
        }
        res = evaluate_pack_columns(cp, facts, n, ("relapse.site", "relapse.timing.cog"))
        s = res["relapse.site"].value_codes(SITES)
        tm = res["relapse.timing.cog"].value_codes(TIMING)
        if (s < 0).any() or (tm < 0).any():  # -1 would index from the end: fail instead
            raise ValueError("relapse pack: the site or COG timing of a simulated relapse "
                             "work-up is unknown; the pack reads a fact the simulator does "
                             "not give (see decisions site and timing_cog)")
        site[todo] = s
        timing[todo] = tm
        marrow_pct[todo] = pct
        repeats[todo] = k
        # An unconfirmed (suspected) relapse is re-examined at the next marrow, like none.
        again = (s == SITES.index("none")) | (s == SITES.index("suspected"))
        todo = todo[again]
        if todo.size:
            t_next = day[todo] + np.where(day[todo] < therapy_end, every_on,
                                          every_off if every_off is not None else every_on)
            day[todo] = t_next
    template = salvage_template(lineage_t, age)
    return RelapseCall(day, site, timing, template, marrow_pct, repeats)


def salvage_template(lineage_t: npt.NDArray[np.bool_], age: Array) -> npt.NDArray[np.int64]:
    """The roadmap pack's template in the relapsed setting, codes into :data:`TEMPLATES`."""
    n = age.shape[0]
    facts: dict[str, Column] = {
        "roadmap.setting": term_column(np.zeros(n), ("relapsed",)),
        "diagnosis.status": term_column(np.zeros(n), ("ALL",)),
        "diagnosis.lineage": term_column(lineage_t.astype(np.int64), ("B", "T")),
        "age.years": Column.number(age),
    }
    res = evaluate_pack_columns(load_pack("roadmap"), facts, n, ("roadmap.template",))
    return res["roadmap.template"].value_codes(TEMPLATES)


def post_relapse_os5(timing: npt.NDArray[np.int64], very_early: float, early: float,
                     late: float) -> Array:
    """5-year OS after relapse by COG timing code (:data:`TIMING`); NaN where unknown."""
    lut = np.array([very_early, early, late, np.nan, np.nan])
    out: Array = lut[np.where(timing >= 0, timing, 4)]
    return out


def as_float(codes: AnyArray) -> Array:
    """Codes as float64 for a Parquet column (-1 stays -1)."""
    out: Array = np.asarray(codes, dtype=np.float64)
    return out


#: Code columns the kernel writes under a checkpoints policy, and their vocabularies.
CODED_COLUMNS: dict[str, tuple[str, ...]] = {
    "response_eoi": RESPONSE,
    "relapse_site": SITES,
    "relapse_timing_cog": TIMING,
    "relapse_template": TEMPLATES,
}


def decode(codes: Array, vocab: tuple[str, ...]) -> npt.NDArray[np.object_]:
    """Float codes into ``vocab`` as strings (None where -1 or NaN), for the Parquet table."""
    lut = np.array([*vocab, None], dtype=object)
    c = np.nan_to_num(codes, nan=-1.0).astype(np.int64)
    out: npt.NDArray[np.object_] = lut[np.where(c >= 0, c, len(vocab))]
    return out
