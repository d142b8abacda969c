"""Calibrate the simulator's toy parameters to models.md §10 targets (grid search, fast kernel).

What is fitted, to what (every fitted value is flagged ``fitted`` with its target in the YAML):

Stage A, induction (children, 29-day cohorts):
  * ``protocols.yaml`` induction ``prophase_kill`` (toy) and induction ``kill`` (toy), and the
    IIV omega of ``prophase_sensitivity`` (toy; the day-8 distribution is far wider than the
    shared induction sensitivity alone gives)
  * targets: day-8 blood blasts 0/uL 33 % and >=1000/uL 15 % (TCCSG L99-15, Manabe 2008),
    end-of-induction flow MRD < 1e-4 in 62 % (DFCI, Zhou 2007), CR 97.6 % (Schrappe 2012).
Stage B, relapse machinery (children, 5-year cohorts):
  * ``regrowth_rate_off_therapy`` r_post (toy), ``resistant_relative_sensitivity`` mixture
    probability p (toy) and ``post_induction_sensitivity`` typical value (toy)
  * targets: relapse incidence 12.7 %, about 50 % of B-ALL relapses >= 36 months
    (Rheingold 2024), 5-year OS 90.4 % (Hunger 2012).
Stage D, MRD-to-relapse mapping (children, 5-year cohorts):
  * correlation and IIV omega of ``post_induction_sensitivity`` with the induction sensitivity,
    and its typical value (all toy)
  * targets: 5-year relapse 5 % (MRD undetectable), 12 % (< 1e-3), 72 % (>= 1e-3) at the end of
    induction (DFCI, Zhou 2007), relapse incidence 12.7 % (Rheingold 2024).
Stage E, relapse machinery with growth-coupled post-induction kill (children, 5-year cohorts;
parameter set 0.3.0; replaces B and D, which stayed as the record of the v0.2 fits):
  * ``post_induction_sensitivity`` typical value, IIV omega and its correlations with the
    induction and prophase sensitivities; ``post_induction_growth_exponent`` beta; the T-ALL
    ``post_induction_sensitivity`` multiplier; ``resistant_relative_sensitivity`` mixture
    probability p; the consolidation kill (all toy)
  * targets: relapse 12.7 %, B-ALL late share 50 %, T-ALL early share 65 % (Rheingold 2024);
    relapse 5 / 12 / 72 % by EOI PCR MRD (Zhou 2007); AIEOP-BFM MRD-SR/IR/HR fractions and
    5-year EFS (Conter 2010); 5-year OS 90.4 % (Hunger 2012) and 93 % at 0-14 y (SEER)
  * search: seeded random local search (log-normal steps around the current values); the
    best point by (number of targets outside tolerance, loss) is printed.
Stage C, adults:
  * adult ``post_induction_sensitivity`` and its age slope ``post_induction_age_slope`` (toy)
  * targets: 5-year survival 59 % at 20-39 y and 43 % at 40-59 y (SEER, Sasaki 2021).

Loss: sum over targets of ((simulated - target) / tolerance)^2, with the values and tolerances of
the rows of ``src/allpath/knowledge/sim/validation_targets.yaml`` (``STAGE_METRICS`` names each
stage's metrics; :func:`allpath.sim.validation.calibration_loss` reads the numbers). The grids are
coarse on purpose (every point is a full cohort); the best point of each stage is printed as a
YAML snippet. The script does not rewrite the knowledge files (that would drop their comments):
copy the values, mark them ``evidence: toy`` + ``fitted: {target, loss}`` and bump the version.

Run: ``.venv/bin/python scripts/sim_calibrate.py [--stage A|B|C|D|E|all] [--n N] [--workers W]``
(``all`` runs A, E and C, the stages behind parameter set 0.3.0).
"""

from __future__ import annotations

import argparse
import copy
import itertools
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import yaml

from allpath.sim.cohort import CohortConfig, load_config, simulate_cohort, summarise_table
from allpath.sim.params import knowledge_path, parse_parameters, parse_protocols
from allpath.sim.validation import (
    CalibrationLoss,
    Target,
    aieop_groups,
    calibration_loss,
    os_at,
    relapse_timing_share,
    zhou_relapse,
)


def _raw(name: str) -> dict[str, Any]:
    with knowledge_path(name).open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


PARAMS_RAW = _raw("parameters.yaml")
PROTOCOLS_RAW = _raw("protocols.yaml")


def make_config(preset: str, values: dict[str, float], horizon: int = 1827) -> CohortConfig:
    """A cohort config with candidate values applied to in-memory copies of the YAML files."""
    par = copy.deepcopy(PARAMS_RAW)
    prot = copy.deepcopy(PROTOCOLS_RAW)
    phases = prot["protocols"]["cog_style_pediatric"]["phases"]
    for key, v in values.items():
        if key == "prophase_kill":
            phases[0]["prophase_kill"] = v
        elif key == "omega_pro":
            par["parameters"]["prophase_sensitivity"]["iiv"]["omega"] = v
        elif key == "induction_kill":
            phases[0]["kill"] = v
        elif key == "r_post":
            par["parameters"]["regrowth_rate_off_therapy"]["value"] = v
        elif key == "p_strong":
            par["parameters"]["resistant_relative_sensitivity"]["iiv"]["p"] = v
        elif key == "s_post":
            par["parameters"]["post_induction_sensitivity"]["value"] = v
        elif key == "corr_post":
            corr = par["parameters"]["post_induction_sensitivity"]["iiv"]["correlations"]
            corr["induction_sensitivity"] = v
        elif key == "corr_pro":
            corr = par["parameters"]["post_induction_sensitivity"]["iiv"]["correlations"]
            corr["prophase_sensitivity"] = v
        elif key == "omega_post":
            par["parameters"]["post_induction_sensitivity"]["iiv"]["omega"] = v
        elif key == "s_post_adult":
            par["parameters"]["post_induction_sensitivity"]["populations"]["adult"] = v
        elif key == "age_slope_adult":
            par["parameters"]["post_induction_age_slope"]["populations"]["adult"] = v
        elif key == "beta":
            par["parameters"]["post_induction_growth_exponent"]["value"] = v
        elif key == "t_all_post":
            par["subtypes"]["T-ALL"]["post_induction_sensitivity"] = v
        elif key == "consolidation_kill":
            phases[1]["kill"] = v
        else:
            raise KeyError(key)
    ps = parse_parameters(par)
    protocols = parse_protocols(prot)
    cfg = load_config(preset, parameters=ps)
    return replace(cfg, protocol=protocols[cfg.protocol.name], horizon_days=horizon)


def cohort(cfg: CohortConfig, n: int, seed: int, workers: int) -> dict[str, Any]:
    """Per-patient columns of a simulated cohort."""
    t = simulate_cohort(cfg, n=n, seed=seed, workers=workers)
    assert not isinstance(t, str)
    return {k: t.column(k).to_numpy(zero_copy_only=False) for k in t.column_names}  # type: ignore[union-attr]


def metrics_a(c: dict[str, Any]) -> dict[str, float]:
    """Induction metrics (keys: the ``metric`` of validation_targets.yaml)."""
    pb = c["pb_blasts_d8_per_uL"]
    return {
        "d8_pb_zero": float(np.mean(pb == 0)),
        "d8_pb_1000": float(np.mean(pb >= 1000)),
        "eoi_below_1e-4": float(np.mean(c["mrd_eoi_flow"] < 1e-4)),
        "cr_children": float(np.mean(c["cr"] == 1)),
    }


def late_share(c: dict[str, Any], subtype: str = "B-ALL") -> float:
    """Share of relapses >= 36 months among relapses of ``subtype``."""
    rel = (c["relapse"] == 1) & (c["subtype"] == subtype)
    return float(np.mean(c["relapse_day"][rel] / (365.25 / 12) >= 36)) if rel.any() else 0.0


def metrics_b(c: dict[str, Any]) -> dict[str, float]:
    """Relapse-machinery metrics."""
    s = summarise_table(c)
    rel = (c["relapse"] == 1) & (c["subtype"] == "T-ALL")
    t_early = float(np.mean(c["relapse_day"][rel] / (365.25 / 12) < 18)) if rel.any() else 0.0
    return {"relapse_rate": s["relapse_rate"], "late_share_b": late_share(c),
            "os5_children": s["os_5y"], "early_share_t": t_early}


def os5_band(c: dict[str, Any], lo: float, hi: float) -> float:
    """Crude 5-year survival in an age band (all patients followed 5 years)."""
    sel = (c["age"] >= lo) & (c["age"] < hi)
    died = (c["death"][sel] == 1) & (c["death_day"][sel] <= 5 * 365.25)
    return 1.0 - float(died.mean())


def metrics_d(c: dict[str, Any]) -> dict[str, float]:
    """Relapse by end-of-induction PCR MRD (Zhou 2007) and overall relapse, patients in CR."""
    cr = c["cr"] == 1
    m, r = c["mrd_eoi_pcr"][cr], c["relapse"][cr] == 1
    return {"zhou_undetectable": float(r[m == 0].mean()),
            "zhou_below_1e-3": float(r[(m > 0) & (m < 1e-3)].mean()),
            "zhou_at_least_1e-3": float(r[m >= 1e-3].mean()),
            "relapse_rate": float(np.mean(c["relapse"] == 1))}


def metrics_c(c: dict[str, Any]) -> dict[str, float]:
    """Adult metrics: 5-year survival by SEER band and (printed only) the CR rate."""
    return {"os5_20_39": os5_band(c, 20, 40), "os5_40_59": os5_band(c, 40, 60),
            "cr_adult": float(np.mean(c["cr"] == 1))}


#: The metrics each stage fits (the ``metric`` of validation_targets.yaml rows; their values
#: and tolerances are read from that list by :func:`stage_loss`, never copied here).
STAGE_METRICS: dict[str, tuple[str, ...]] = {
    "A": ("d8_pb_zero", "d8_pb_1000", "eoi_below_1e-4", "cr_children"),
    "B": ("relapse_rate", "late_share_b", "os5_children"),
    "D": ("zhou_undetectable", "zhou_below_1e-3", "zhou_at_least_1e-3", "relapse_rate"),
    "E": ("relapse_rate", "late_share_b", "early_share_t", "zhou_undetectable",
          "zhou_below_1e-3", "zhou_at_least_1e-3", "aieop_sr", "aieop_ir", "aieop_hr",
          "aieop_efs_sr", "aieop_efs_ir", "aieop_efs_hr", "os5_children", "os5_0_14"),
    "C": ("os5_20_39", "os5_40_59"),
}


def stage_loss(m: dict[str, float], stage: str,
               targets: Sequence[Target] | None = None) -> CalibrationLoss:
    """Loss of stage ``stage``: sum of squared tolerance-scaled deviations from the rows of
    validation_targets.yaml (``targets``: that list by default), and how many are outside."""
    return calibration_loss(m, STAGE_METRICS[stage], targets)


#: Stage E starting point and search (parameter set 0.3.0 values).
START_E = {"beta": 0.85, "s_post": 0.65, "omega_post": 0.33, "corr_post": 0.75,
           "corr_pro": 0.25, "p_strong": 0.02, "t_all_post": 1.3, "consolidation_kill": 0.17}


def metrics_e(c: dict[str, Any]) -> dict[str, float]:
    """Stage-E metrics: relapse timing, MRD mappings, AIEOP-BFM groups, survival."""
    g = aieop_groups(c)
    z = zhou_relapse(c)
    return {
        "relapse_rate": float(np.mean(c["relapse"] == 1)),
        "late_share_b": relapse_timing_share(c, "B-ALL", "late"),
        "early_share_t": relapse_timing_share(c, "T-ALL", "early"),
        **{f"zhou_{k}": z[k] for k in ("undetectable", "below_1e-3", "at_least_1e-3")},
        **{f"aieop_{k}": g[k] for k in ("sr", "ir", "hr", "efs_sr", "efs_ir", "efs_hr")},
        "os5_children": os_at(c, 5.0), "os5_0_14": os_at(c, 5.0, 0, 15),
    }


def local_search(stage: str, start: dict[str, float], run: Any, n_iter: int, seed: int,
                 step: float = 0.15) -> dict[str, float]:
    """Seeded random local search: log-normal steps (SD ``step``) around ``start``; keeps the
    best point by (targets outside tolerance, loss). Correlations are kept with sum of squares
    below 0.95."""
    rng = np.random.default_rng(seed)
    best_key: tuple[int, float] = (10**9, float("inf"))
    best = dict(start)
    for i in range(n_iter):
        while True:
            v = dict(start) if i == 0 else {
                k: x * float(np.exp(rng.normal(0.0, step))) for k, x in best.items()}
            if v.get("corr_post", 0.0) ** 2 + v.get("corr_pro", 0.0) ** 2 < 0.95:
                break
        m, lo, nf = run(v)
        print(f"{stage} {i} {v} -> " + ", ".join(f"{k}={x:.3f}" for k, x in m.items())
              + f" | outside {nf}, loss {lo:.2f}", flush=True)
        if (nf, lo) < best_key:
            best_key, best = (nf, lo), v
    print(f"== stage {stage} best (outside {best_key[0]}, loss {best_key[1]:.2f}): {best}",
          flush=True)
    return best


def grid(stage: str, space: dict[str, list[float]], run: Any) -> dict[str, float]:
    """Evaluate every grid point; print a table; return the best values."""
    keys = list(space)
    best: tuple[float, dict[str, float]] = (float("inf"), {})
    for combo in itertools.product(*(space[k] for k in keys)):
        values = dict(zip(keys, combo, strict=True))
        m, lo = run(values)
        print(f"{stage} {values} -> " + ", ".join(f"{k}={v:.3f}" for k, v in m.items())
              + f" | loss {lo:.2f}", flush=True)
        if lo < best[0]:
            best = (lo, values)
    print(f"== stage {stage} best (loss {best[0]:.2f}): {best[1]}", flush=True)
    return best[1]


def main() -> None:
    ap = argparse.ArgumentParser(description="Calibrate toy simulator parameters (§10)")
    ap.add_argument("--stage", default="all", choices=["A", "B", "C", "D", "E", "all"])
    ap.add_argument("--iterations", type=int, default=80, help="stage E search steps")
    ap.add_argument("--n", type=int, default=16_384)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    fixed: dict[str, float] = {}

    if args.stage in ("A", "all"):
        def run_a(v: dict[str, float]) -> tuple[dict[str, float], float]:
            m = metrics_a(cohort(make_config("pediatric", {**fixed, **v}, horizon=30),
                                 args.n, args.seed, args.workers))
            return m, stage_loss(m, "A").loss

        fixed.update(grid("A", {"prophase_kill": [0.30, 0.33, 0.35, 0.40],
                                "omega_pro": [0.4, 0.6, 0.8, 1.0, 1.2],
                                "induction_kill": [0.48, 0.51, 0.54]}, run_a))
    if args.stage in ("B",):
        def run_b(v: dict[str, float]) -> tuple[dict[str, float], float]:
            m = metrics_b(cohort(make_config("pediatric", {**fixed, **v}), args.n, args.seed,
                                 args.workers))
            return m, stage_loss(m, "B").loss

        fixed.update(grid("B", {"r_post": [0.012, 0.018, 0.025],
                                "p_strong": [0.01, 0.02, 0.03],
                                "s_post": [0.95, 1.0, 1.05]}, run_b))
    if args.stage in ("D",):
        def run_d(v: dict[str, float]) -> tuple[dict[str, float], float]:
            m = metrics_d(cohort(make_config("pediatric", {**fixed, **v}), args.n, args.seed,
                                 args.workers))
            return m, stage_loss(m, "D").loss

        fixed.update(grid("D", {"corr_post": [0.5, 0.7, 0.85],
                                "omega_post": [0.2, 0.3],
                                "s_post": [0.9, 1.0]}, run_d))
    if args.stage in ("E", "all"):
        def run_e(v: dict[str, float]) -> tuple[dict[str, float], float, int]:
            m = metrics_e(cohort(make_config("pediatric", {**fixed, **v}), args.n, args.seed,
                                 args.workers))
            got = stage_loss(m, "E")
            return m, got.loss, got.outside

        fixed.update(local_search("E", START_E, run_e, args.iterations, args.seed))
    if args.stage in ("C", "all"):
        def run_c(v: dict[str, float]) -> tuple[dict[str, float], float]:
            c = cohort(make_config("adult", {**fixed, **v}), args.n // 2, args.seed,
                       args.workers)
            m = metrics_c(c)
            return m, stage_loss(m, "C").loss

        fixed.update(grid("C", {"s_post_adult": [0.38, 0.40, 0.42, 0.44],
                                "age_slope_adult": [0.015, 0.02, 0.025]}, run_c))
    print("fitted values:", yaml.safe_dump(fixed, sort_keys=True))


if __name__ == "__main__":
    main()
