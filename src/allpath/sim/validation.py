"""Validation metrics of models.md §10 on simulated cohorts, shared by the tests and the report.

Each function measures one published quantity the way its source defines it, from the
per-patient columns of :func:`allpath.sim.simulate_cohort` (a mapping of column name to numpy
array) or, for the maintenance dose response, from the model itself:

* survival and event-free survival at a fixed time in an age band (Kaplan-Meier by lifelines,
  :mod:`allpath.sim.survival`; every patient of a cohort is followed to the horizon, so it is
  the fraction without the event);
* the AIEOP-BFM 2000 MRD groups (Conter 2010) and the DFCI relapse mapping (Zhou 2007);
* relapse timing classes (COG convention, Rheingold 2024: early < 18 months, intermediate
  18 to < 36, late >= 36, from diagnosis) and 5-year survival after relapse by class;
* the maintenance dose response of models.md §2.1.4 / §10 target 7: time to 90 % of the new
  neutrophil steady state after a 6-MP dose change (:func:`maintenance_dose_step`) and the
  typical patient's steady-state ANC;
* the day of the neutrophil nadir in induction (§10 secondary check, §4.3).

References
----------
ALLPath models note (/work/shared/models/models.md) §§2.1.4, 4.3, 4.4, 5, 10.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from allpath.sim.base import Array, patient_randoms, simulate_fixed
from allpath.sim.model import PARAMS, STATES, AllModel, Drive, steady_state
from allpath.sim.outcomes import DAYS_PER_MONTH, EXTINCT
from allpath.sim.params import ParameterSet, Population, Protocol
from allpath.sim.population import N_NORMAL, N_UNIFORM, make_batch
from allpath.sim.survival import km_at, km_median

__all__ = [
    "COHORT_N",
    "IMMUNO_PRESETS",
    "METRIC_COHORT",
    "REPORT_SEEDS",
    "ROLES",
    "TIMING_CLASSES",
    "CalibrationLoss",
    "DoseStep",
    "KnownMiss",
    "Target",
    "aall0433_relapse",
    "adult_metrics",
    "aieop_groups",
    "calibration_loss",
    "efs_at",
    "gmall_relapse",
    "immuno_metrics",
    "induction_anc_nadir_day",
    "load_targets",
    "maintenance_dose_step",
    "maintenance_metrics",
    "os_at",
    "pediatric_long_metrics",
    "pediatric_metrics",
    "post_relapse_os",
    "relapse_timing_share",
    "targets_by_metric",
    "zhou_relapse",
]

Cols = Mapping[str, npt.NDArray[Any]]
Mask = npt.NDArray[np.bool_]
YEAR = 365.25
_PI = {name: i for i, name in enumerate(PARAMS)}
_SI = {name: i for i, name in enumerate(STATES)}

#: COG relapse timing classes (months from diagnosis), Rheingold 2024.
TIMING_CLASSES: dict[str, tuple[float, float]] = {
    "early": (0.0, 18.0),
    "intermediate": (18.0, 36.0),
    "late": (36.0, np.inf),
}


def _age_band(c: Cols, lo: float, hi: float) -> Mask:
    age = c["age"]
    out: Mask = (age >= lo) & (age < hi)
    return out


def os_at(c: Cols, years: float, lo: float = 0.0, hi: float = np.inf) -> float:
    """Fraction alive ``years`` after diagnosis among patients aged [lo, hi)."""
    sel = _age_band(c, lo, hi)
    return km_at(c["os_day"][sel], c["death"][sel] == 1, years * YEAR)


def efs_at(c: Cols, years: float, lo: float = 0.0, hi: float = np.inf,
           sel: Mask | None = None) -> float:
    """Fraction event-free (no induction failure, relapse or death) ``years`` after diagnosis."""
    m = _age_band(c, lo, hi) if sel is None else sel
    return km_at(c["efs_day"][m], c["efs_event"][m] == 1, years * YEAR)


def aieop_groups(c: Cols) -> dict[str, float]:
    """AIEOP-BFM 2000 MRD groups (Conter 2010), B-ALL in CR, PCR MRD: SR negative at day 33
    (here 29) and day 78, HR >= 1e-3 at day 78, IR the rest; fractions and 5-year EFS."""
    sel = (c["subtype"] == "B-ALL") & (c["cr"] == 1)
    eoi, d78 = c["mrd_eoi_pcr"], c["mrd_d78_pcr"]
    sr = sel & (eoi == 0) & (d78 == 0)
    hr = sel & (d78 >= 1e-3)
    ir = sel & ~sr & ~hr
    n = max(int(sel.sum()), 1)
    out = {"sr": sr.sum() / n, "ir": ir.sum() / n, "hr": hr.sum() / n}
    for name, m in (("sr", sr), ("ir", ir), ("hr", hr)):
        out[f"efs_{name}"] = efs_at(c, 5.0, sel=m)
    return {k: float(v) for k, v in out.items()}


def zhou_relapse(c: Cols) -> dict[str, float]:
    """DFCI (Zhou 2007): relapse by end-of-induction PCR MRD, patients in CR (undetectable,
    detectable < 1e-3, >= 1e-3), over the cohort horizon (5 years)."""
    cr = c["cr"] == 1
    m, r = c["mrd_eoi_pcr"][cr], c["relapse"][cr] == 1
    groups = {"undetectable": m == 0, "below_1e-3": (m > 0) & (m < 1e-3),
              "at_least_1e-3": m >= 1e-3}
    return {k: float(r[g].mean()) if g.any() else float("nan") for k, g in groups.items()}


def relapse_timing_share(c: Cols, subtype: str, cls: str) -> float:
    """Share of the relapses of ``subtype`` that fall in timing class ``cls``."""
    lo, hi = TIMING_CLASSES[cls]
    rel = (c["relapse"] == 1) & (c["subtype"] == subtype)
    months = c["relapse_day"][rel] / DAYS_PER_MONTH
    return float(np.mean((months >= lo) & (months < hi))) if rel.any() else float("nan")


def post_relapse_os(c: Cols, years: float = 5.0, subtype: str = "B-ALL",
                    within_years: float = 5.0) -> dict[str, float]:
    """Survival ``years`` after first relapse by timing class (Rheingold 2024), for relapses
    of ``subtype`` in the first ``within_years`` after diagnosis.

    Needs a cohort horizon of at least ``within_years + years``; relapses later than
    ``horizon - years`` are left out so that every relapse counted is followed ``years``.
    """
    horizon = float(np.nanmax(c["os_day"]))
    last = min(within_years * YEAR, horizon - years * YEAR)
    if last <= 0:
        raise ValueError(f"cohort horizon {horizon:.0f} d is too short for {years}-y follow-up")
    rel = (c["relapse"] == 1) & (c["subtype"] == subtype) & (c["relapse_day"] <= last)
    months = c["relapse_day"] / DAYS_PER_MONTH
    after, died = c["os_day"] - c["relapse_day"], c["death"] == 1
    out: dict[str, float] = {}
    for name, (lo, hi) in TIMING_CLASSES.items():
        m = rel & (months >= lo) & (months < hi)
        out[name] = km_at(after[m], died[m], years * YEAR)
        out[f"n_{name}"] = float(m.sum())
    return out


@dataclass(frozen=True)
class DoseStep:
    """Neutrophil response of maintenance patients to a 6-MP dose change.

    ``anc_before`` / ``anc_after``: closed-form steady states Base (1 - slope TGN_ss)^(1/gamma)
    at the old and new dose (models.md §2.1.2); ``t90``: days from the change until ANC first
    covers 90 % of the distance between them (NaN if never within the run); ``anc_end``: ANC
    just before the change (simulated, for checking the run reached its steady state).
    """

    anc_before: Array
    anc_after: Array
    anc_end: Array
    t90: Array
    trajectory: Array


def maintenance_dose_step(
    ps: ParameterSet,
    population: Population,
    protocol: Protocol,
    n: int,
    seed: int,
    dose_before: float = 50.0,
    dose_after: float = 75.0,
    days_before: int = 28,
    days_after: int = 200,
    typical: bool = False,
) -> DoseStep:
    """Step the 6-MP dose (mg/m²/d) of ``n`` patients in remission and time the ANC response.

    The patients come from :func:`allpath.sim.population.make_batch` (``typical``: all random
    effects zero, i.e. the population's typical patient, BSA from the median age). They start
    at the steady state of ``dose_before`` on the maintenance (Jost 2020) chain with no
    leukaemia (6-TGN at TGN_ss, chain at (1 - E)(C0/C)^gamma = 1), so the slow, lightly damped
    mode of the chain (models.md §2.1.4) is not excited before the change; they stay there for
    ``days_before`` days (``anc_end`` checks it) and then take ``dose_after``. Integration is
    the reference engine's (RK4, one step per day in maintenance,
    :func:`allpath.sim.base.simulate_fixed`).
    """
    if typical:
        z = np.zeros((n, N_NORMAL))
        u = np.full((n, N_UNIFORM), 0.5)
    else:
        z, u = patient_randoms(seed, 0, n, N_NORMAL, N_UNIFORM)
    batch = make_batch(ps, population, protocol, np.arange(n), z, u)
    p = batch.p
    mg = batch.bsa * batch.dose_fraction
    d1, d2 = dose_before * mg, dose_after * mg

    def anc_ss(dose_mg: Array) -> Array:
        tgn = p[:, _PI["tgn_in"]] * dose_mg / p[:, _PI["cl_tgn"]]
        e = np.clip(1.0 - p[:, _PI["slope"]] * tgn, 0.0, None)
        out: Array = p[:, _PI["C0_M"]] * e ** (1.0 / p[:, _PI["gam_M"]])
        return out

    a0, a1 = anc_ss(d1), anc_ss(d2)
    dead = np.full(n, EXTINCT)
    y0 = steady_state(p, dead, dead)
    # start at the steady state of the first dose: (1 - E)(C0/C)^gamma = 1, P = T = C k_ma/k_tr
    y0[:, 2:6] = (a0 * p[:, _PI["kc_M"]] / p[:, _PI["ktr_M"]])[:, None]
    y0[:, 6] = a0
    y0[:, 19] = p[:, _PI["tgn_in"]] * d1 / p[:, _PI["cl_tgn"]]
    drives = {
        1: Drive(maintenance=True, post_induction=True, dose_mg=d1),
        2: Drive(maintenance=True, post_induction=True, dose_mg=d2),
    }
    total = days_before + days_after
    traj = simulate_fixed(AllModel(), y0, p, total,
                          lambda day: drives[1 if day < days_before else 2], substeps=1)
    anc = traj[:, :, _SI["ANC"]]
    after = anc[:, days_before:]
    frac = (after - a0[:, None]) / (a1 - a0)[:, None]
    reached = frac >= 0.9
    t90 = np.where(reached.any(axis=1), reached.argmax(axis=1).astype(np.float64), np.nan)
    return DoseStep(anc_before=a0, anc_after=a1, anc_end=anc[:, days_before], t90=t90,
                    trajectory=anc)


def induction_anc_nadir_day(trace_anc: Array, days: int = 29) -> Array:
    """Day (0 = diagnosis) of each patient's lowest ANC over induction days 0..``days``.

    ``trace_anc``: daily ANC, ``(n_patients, >= days + 1)`` (the cohort kernel's ``Trace``).
    """
    out: Array = np.argmin(trace_anc[:, : days + 1], axis=1).astype(np.float64)
    return out


def aall0433_relapse(c: Cols) -> dict[str, float]:
    """Late (>= 36 months) B-ALL relapses followed 3 years (AALL0433 population, Lew 2021):
    3-year OS overall and by block-1 MRD (< 0.1 % in CR2 or not), the low-MRD share and the
    number of relapses counted (``n``).
    Needs a cohort horizon of at least 3 years after the relapses counted."""
    horizon = float(np.nanmax(c["os_day"]))
    months = c["relapse_day"] / DAYS_PER_MONTH
    rel = ((c["relapse"] == 1) & (c["subtype"] == "B-ALL") & (months >= 36)
           & (c["relapse_day"] <= horizon - 3 * YEAR))
    after, died = c["os_day"] - c["relapse_day"], c["death"] == 1
    lo = rel & (c["cr2"] == 1) & (c["mrd_block1"] < 1e-3)
    hi = rel & ~lo
    return {"all": km_at(after[rel], died[rel], 3 * YEAR),
            "lo": km_at(after[lo], died[lo], 3 * YEAR),
            "hi": km_at(after[hi], died[hi], 3 * YEAR),
            "lo_share": float(lo.sum() / max(rel.sum(), 1)), "n": float(rel.sum())}


def gmall_relapse(c: Cols) -> dict[str, float]:
    """Adults in first Ph-negative relapse followed 3 years (GMALL, Gokbuget 2012): CR2 rate,
    3-year OS and median OS after relapse (months; Kaplan-Meier median), relapses counted
    (``n``)."""
    horizon = float(np.nanmax(c["os_day"]))
    rel = ((c["relapse"] == 1) & (c["subtype"] != "Ph+ B-ALL")
           & (c["relapse_day"] <= horizon - 3 * YEAR))
    after, died = (c["os_day"] - c["relapse_day"])[rel], (c["death"] == 1)[rel]
    return {"cr2": float(np.mean(c["cr2"][rel] == 1)),
            "os3": km_at(after, died, 3 * YEAR),
            "median_months": km_median(after, died) / DAYS_PER_MONTH, "n": float(rel.sum())}


def pediatric_metrics(c: Cols, summary: Mapping[str, Any]) -> dict[str, float]:
    """The metrics of a 5-year pediatric cohort (``summary``: its ``summarise_table``)."""
    pb = c["pb_blasts_d8_per_uL"]
    out = {
        "cr_children": summary["cr_rate"], "d8_pb_zero": np.mean(pb == 0),
        "d8_pb_1000": np.mean(pb >= 1000),
        "eoi_below_1e-4": summary["eoi_mrd"]["below_1e-4"],
        "wbc_median": summary["diagnosis_counts"]["wbc"],
        "hb_median": summary["diagnosis_counts"]["hemoglobin"],
        "plt_median": summary["diagnosis_counts"]["platelets"],
        "hb_lt8": np.mean(c["hemoglobin_dx"] < 8), "plt_lt50": np.mean(c["platelets_dx"] < 50),
        "wbc_ge100": np.mean(c["wbc_dx"] >= 100),
        "maintenance_anc": np.median(c["anc_maintenance_mean"][c["cr"] == 1]),
        "os5_children": summary["os_5y"], "os5_0_14": os_at(c, 5.0, 0, 15),
        "relapse_rate": summary["relapse_rate"],
        "late_share_b": relapse_timing_share(c, "B-ALL", "late"),
        "early_share_t": relapse_timing_share(c, "T-ALL", "early"),
    }  # fmt: skip
    out.update({f"aieop_{k}": v for k, v in aieop_groups(c).items()})
    out.update({f"zhou_{k}": v for k, v in zhou_relapse(c).items()})
    return {k: float(v) for k, v in out.items()}


def pediatric_long_metrics(c: Cols) -> dict[str, float]:
    """The metrics after relapse, on a pediatric cohort followed 10 years."""
    out = {f"post_relapse_{k}": v for k, v in post_relapse_os(c).items()}
    out.update({f"aall0433_{k}": v for k, v in aall0433_relapse(c).items()})
    return out


def adult_metrics(c: Cols, summary: Mapping[str, Any]) -> dict[str, float]:
    """The metrics of the adult preset (CR, SEER bands, CALGB 10403 18-39 y, GMALL)."""
    out = {"cr_adult": float(summary["cr_rate"]), "os5_20_39": os_at(c, 5.0, 20, 40),
           "os5_40_59": os_at(c, 5.0, 40, 60), "efs3_18_39": efs_at(c, 3.0, 18, 40),
           "os3_18_39": os_at(c, 3.0, 18, 40)}
    out.update({f"gmall_{k}": v for k, v in gmall_relapse(c).items()})
    return out


def immuno_metrics(summaries: Mapping[str, Mapping[str, Any]],
                   hsct_blinatumomab: float) -> dict[str, float]:
    """TOWER, ELIANA, BLAST and paediatric r/r blinatumomab metrics from the presets' summaries
    (keys: preset names); ``hsct_blinatumomab``: transplanted share of the TOWER blin arm."""
    tb, tc = summaries["tower_blinatumomab"], summaries["tower_chemotherapy"]
    el = summaries["eliana_cart"]
    out = {
        "tower_cr_blin": tb["response_rate"], "tower_cr_chemo": tc["response_rate"],
        "tower_os_blin": tb["median_os_months"], "tower_os_chemo": tc["median_os_months"],
        "tower_hsct_blin": hsct_blinatumomab,
        "eliana_orr": el["response_rate"], "eliana_rfs12": el["rfs_12m_responders"],
        "eliana_efs3": el["efs"]["36m"], "eliana_os3": el["os"]["36m"],
        "blast_response": summaries["blast_mrd"]["response_rate"],
        "peds_blin_cr": summaries["blinatumomab_pediatric_rr"]["response_rate"],
    }  # fmt: skip
    return {k: float(v) for k, v in out.items()}


#: Presets whose summaries :func:`immuno_metrics` reads.
IMMUNO_PRESETS = ("tower_blinatumomab", "tower_chemotherapy", "eliana_cart", "blast_mrd",
                  "blinatumomab_pediatric_rr")


def maintenance_metrics(ps: ParameterSet, population: Population, protocol: Protocol,
                        seed: int, nadir_n: int = 4000) -> dict[str, float]:
    """Target 7 and its secondary checks on the Jost chain: t90 of the typical child after
    50 -> 75 and 50 -> 25 mg/m²/d, median t90 of 1000 children, the typical ANC_ss at
    50 mg/m²/d, and the median induction nadir day of ``nadir_n`` children."""
    from allpath.sim.fast import run_cohort_batch

    out = {}
    for label, dose in (("t90_up", 75.0), ("t90_down", 25.0)):
        out[label] = float(maintenance_dose_step(ps, population, protocol, 1, 0,
                                                 dose_after=dose, typical=True).t90[0])
    out["t90_cohort"] = float(np.nanmedian(
        maintenance_dose_step(ps, population, protocol, 1000, seed).t90))
    out["anc_ss_50"] = float(maintenance_dose_step(ps, population, protocol, 1, 0, typical=True,
                                                   days_after=1).anc_before[0])
    z, u = patient_randoms(seed, 0, nadir_n, N_NORMAL, N_UNIFORM)
    batch = make_batch(ps, population, protocol, np.arange(nadir_n), z, u)
    res = run_cohort_batch(ps, protocol, batch, 40, trace_days=35)
    if res.trajectory is None:
        raise RuntimeError("run_cohort_batch(trace_days=35) returned no trajectory")
    out["nadir_day"] = float(np.median(induction_anc_nadir_day(res.trajectory[:, :, 1])))
    return out


#: Which cohort each metric is measured on (the tests and the report simulate these).
METRIC_COHORT: dict[str, str] = {
    **dict.fromkeys(
        ("cr_children", "d8_pb_zero", "d8_pb_1000", "eoi_below_1e-4", "wbc_median", "hb_median",
         "plt_median", "hb_lt8", "plt_lt50", "wbc_ge100", "maintenance_anc", "os5_children",
         "os5_0_14", "relapse_rate", "late_share_b", "early_share_t", "aieop_sr", "aieop_ir",
         "aieop_hr", "aieop_efs_sr", "aieop_efs_ir", "aieop_efs_hr", "zhou_undetectable",
         "zhou_below_1e-3", "zhou_at_least_1e-3"), "pediatric"),
    **dict.fromkeys(
        ("post_relapse_early", "post_relapse_intermediate", "post_relapse_late",
         "aall0433_all", "aall0433_lo", "aall0433_hi", "aall0433_lo_share"), "pediatric_long"),
    **dict.fromkeys(("t90_up", "t90_down", "t90_cohort", "anc_ss_50", "nadir_day"),
                    "maintenance"),
    **dict.fromkeys(("cr_adult", "os5_20_39", "os5_40_59", "efs3_18_39", "os3_18_39",
                     "gmall_cr2", "gmall_os3", "gmall_median_months"), "adult"),
    "os5_15_19": "aya",
    "os5_60": "older_adult",
    **dict.fromkeys(("tower_cr_blin", "tower_cr_chemo", "tower_os_blin", "tower_os_chemo",
                     "tower_hsct_blin", "eliana_orr", "eliana_rfs12", "eliana_efs3",
                     "eliana_os3", "blast_response", "peds_blin_cr"), "immuno"),
    **dict.fromkeys(("e1910_cr", "e1910_os_blin", "e1910_os_chemo"), "e1910"),
}


#: Patients per cohort of the validation tests (seed 2025) and of every seed of the report
#: (scripts/sim_validation_report.py), so the report's seed 2025 is the tests' cohorts:
#: ``pediatric`` (5 and 10 years), ``adult``, ``aya``, ``older_adult``, each immunotherapy
#: preset (``immuno``) and E1910 arm (``e1910``), and the induction nadir (``nadir``).
COHORT_N: dict[str, int] = {"pediatric": 16_000, "adult": 6_000, "aya": 6_000,
                            "older_adult": 4_000, "immuno": 6_000, "e1910": 6_000,
                            "nadir": 4_000}

#: Seeds of the validation report; the first is the tests' seed (``known_miss.measured``).
REPORT_SEEDS = (2025, 11, 7)


#: Roles of a validation target (``validation_targets.yaml``).
ROLES = ("fitted", "input", "validation")


@dataclass(frozen=True)
class KnownMiss:
    """A target the model is known to miss: the value measured at seed 2025 and where the miss
    is analysed."""

    measured: float
    analysis: str


@dataclass(frozen=True)
class Target:
    """One row of ``knowledge/sim/validation_targets.yaml``: passes when
    ``|simulated - value| <= tolerance``."""

    id: str
    label: str
    published: str
    source: str
    role: str
    metric: str
    value: float
    tolerance: float
    shares_data_with: tuple[str, ...] = ()
    note: str | None = None
    known_miss: KnownMiss | None = None

    def passes(self, simulated: float) -> bool:
        """Whether ``simulated`` is within tolerance (False for NaN)."""
        return bool(abs(simulated - self.value) <= self.tolerance)


def _number(where: str, v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError(f"{where}: expected a number, got {v!r}")
    return float(v)


def load_targets(text: str | None = None) -> tuple[Target, ...]:
    """The declarative validation target list, checked: unique ids, known roles and metrics,
    numbers, ``shares_data_with`` naming other rows both ways, ``known_miss`` with a measured
    value outside tolerance and an analysis. ``text``: YAML to read instead of the bundled
    ``knowledge/sim/validation_targets.yaml``."""
    from importlib import resources

    from allpath.knowledge import parse_yaml

    if text is None:
        path = resources.files("allpath").joinpath("knowledge", "sim", "validation_targets.yaml")
        text = path.read_text(encoding="utf-8")
    raw = parse_yaml(text)
    if raw.get("schema") != "allpath.sim.validation_targets/1":
        raise ValueError(f"validation_targets.yaml: schema {raw.get('schema')!r} is not "
                         "'allpath.sim.validation_targets/1'")
    out: list[Target] = []
    seen: set[str] = set()
    for i, row in enumerate(raw.get("targets") or []):
        where = f"validation_targets.yaml targets[{i}]"
        if not isinstance(row, dict):
            raise ValueError(f"{where}: expected a mapping, got {row!r}")
        missing = [k for k in ("id", "label", "published", "source", "role", "metric", "value",
                               "tolerance", "shares_data_with") if k not in row]
        if missing:
            raise ValueError(f"{where}: missing {missing}")
        unknown = sorted(set(row) - {"id", "label", "published", "source", "role", "metric",
                                     "value", "tolerance", "shares_data_with", "note",
                                     "known_miss"})
        if unknown:
            raise ValueError(f"{where}: unknown keys {unknown}")
        if row["role"] not in ROLES:
            raise ValueError(f"{where}.role: expected one of {ROLES}, got {row['role']!r}")
        if row["metric"] not in METRIC_COHORT:
            raise ValueError(f"{where}.metric: {row['metric']!r} is not a known metric "
                             "(allpath.sim.validation.METRIC_COHORT)")
        value = _number(f"{where}.value", row["value"])
        tolerance = _number(f"{where}.tolerance", row["tolerance"])
        shares = row["shares_data_with"]
        if not isinstance(shares, list) or not all(isinstance(x, str) for x in shares):
            raise ValueError(f"{where}.shares_data_with: expected a list of target ids, got "
                             f"{shares!r}")
        miss: KnownMiss | None = None
        km = row.get("known_miss")
        if km is not None:
            if not isinstance(km, dict) or set(km) != {"measured", "analysis"}:
                raise ValueError(f"{where}.known_miss: expected {{measured, analysis}}, got "
                                 f"{km!r}")
            miss = KnownMiss(_number(f"{where}.known_miss.measured", km["measured"]),
                             str(km["analysis"]))
            if abs(miss.measured - value) <= tolerance:
                raise ValueError(f"{where}.known_miss.measured: {miss.measured} is within "
                                 f"{value} ± {tolerance}, so the row is not a miss")
        if row["id"] in seen:
            raise ValueError(f"{where}.id: duplicate {row['id']!r}")
        seen.add(str(row["id"]))
        note = row.get("note")
        out.append(Target(str(row["id"]), str(row["label"]), str(row["published"]),
                          str(row["source"]), str(row["role"]), str(row["metric"]),
                          value, tolerance, tuple(shares),
                          None if note is None else str(note), miss))
    by_id = {t.id: t for t in out}
    for t in out:
        for other in t.shares_data_with:
            if other == t.id or other not in by_id:
                raise ValueError(f"validation_targets.yaml {t.id}.shares_data_with: {other!r} "
                                 "is not another target id")
            if t.id not in by_id[other].shares_data_with:
                raise ValueError(f"validation_targets.yaml {t.id}.shares_data_with names "
                                 f"{other!r}, but {other!r} does not name {t.id!r}")
    return tuple(out)


def targets_by_metric(targets: Sequence[Target] | None = None) -> dict[str, Target]:
    """The target of each metric (``targets``: the bundled list by default). A metric measured
    against two rows would make a loss ambiguous, so it raises."""
    out: dict[str, Target] = {}
    for t in load_targets() if targets is None else targets:
        if t.metric in out:
            raise ValueError(f"metric {t.metric!r} has two targets: {out[t.metric].id!r} and "
                             f"{t.id!r}")
        out[t.metric] = t
    return out


@dataclass(frozen=True)
class CalibrationLoss:
    """A calibration point's distance from its targets: ``loss`` = the sum over the metrics of
    ((simulated - value) / tolerance)^2, ``outside`` = how many are outside tolerance (a NaN
    counts as outside and adds infinity)."""

    loss: float
    outside: int


def calibration_loss(simulated: Mapping[str, float], metrics: Sequence[str],
                     targets: Sequence[Target] | None = None) -> CalibrationLoss:
    """The loss of ``simulated`` (metric -> value) on ``metrics``, with the values and
    tolerances of the declarative target list (``knowledge/sim/validation_targets.yaml``), so a
    calibration and the validation report read the same numbers. Unknown metrics raise."""
    by_metric = targets_by_metric(targets)
    unknown = [m for m in metrics if m not in by_metric]
    if unknown:
        raise KeyError(f"no target for metric(s) {unknown}")
    loss, outside = 0.0, 0
    for m in metrics:
        t, x = by_metric[m], float(simulated[m])
        if np.isnan(x):
            loss, outside = float("inf"), outside + 1
            continue
        loss += ((x - t.value) / t.tolerance) ** 2
        outside += not t.passes(x)
    return CalibrationLoss(loss, outside)

