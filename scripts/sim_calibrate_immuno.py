"""Fit the immunotherapy module's free parameters (``fitted`` in immunotherapy.yaml).

Each free parameter is fitted to ONE calibration target by bisection (every metric is monotone
in its parameter and the random numbers are common to all evaluations, so bisection converges
on a fixed cohort); the targets that the tests then validate against are never used:

==========================  =====================================================  ==========
parameter                   calibration target                                     validates
==========================  =====================================================  ==========
blin_kill_max               BLAST complete MRD response after cycle 1 78 %         TOWER blin
                            (Gokbuget 2018; models.md §10 secondary check)
blin_et_reference           CR within two cycles 39 %, children with r/r B-ALL     TOWER blin
                            (von Stackelberg 2016; models.md §5.4)
salvage_kill                TOWER chemotherapy arm CR/CRh/CRi 25 %                 TOWER blin
disease_death_rate          TOWER chemotherapy arm median OS 4.0 months            TOWER blin
car_kill                    ELIANA overall remission rate 81 % (Maude 2018)        EFS, OS
cd19neg_probability         ELIANA relapse-free survival of responders at 12       EFS, OS
                            months 59 % (Maude 2018)                                E1910
==========================  =====================================================  ==========

The first two are coupled (the BLAST cohort has little burden, so the effector-to-target term
hardly acts there, while the paediatric r/r cohort depends on both), as are the last two, so
the fit cycles over all of them ``--rounds`` times. The published values are read from
``src/allpath/knowledge/sim/validation_targets.yaml`` (``FITS`` names each parameter's
metric), so the fit and the validation report use the same numbers (the table above only
names them). The script prints the fitted values, the simulated targets and their loss; copy
them into immunotherapy.yaml (value and ``fitted.simulated``).

Run: ``.venv/bin/python scripts/sim_calibrate_immuno.py [--n 8000] [--seed 11] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from allpath.sim.immuno import (
    ImmunoParameters,
    immuno_preset,
    load_immunotherapy,
    relapsed_chunk,
    summarise_relapsed,
)
from allpath.sim.params import ParameterSet, load_parameters, load_protocols
from allpath.sim.validation import CalibrationLoss, Target, calibration_loss, targets_by_metric

PS: ParameterSet = load_parameters()
PROTOCOLS = load_protocols()


def run(ip: ImmunoParameters, preset: str, n: int, seed: int) -> dict[str, Any]:
    """Per-patient columns of an r/r preset under parameters ``ip`` (one chunk)."""
    setup = immuno_preset(preset, PS, ip, PROTOCOLS)
    assert setup is not None and setup.relapsed is not None
    return relapsed_chunk(setup, PS, setup.population, setup.protocol, setup.horizon_days, 0, n,
                          seed)


def metric(ip: ImmunoParameters, key: str, n: int, seed: int) -> float:
    """One calibration metric (``key``: its ``metric`` in validation_targets.yaml)."""
    if key == "blast_response":
        return float(np.mean(run(ip, "blast_mrd", n, seed)["response"]))
    if key == "peds_blin_cr":
        return float(np.mean(run(ip, "blinatumomab_pediatric_rr", n, seed)["response"]))
    if key == "tower_cr_chemo":
        return float(np.mean(run(ip, "tower_chemotherapy", n, seed)["response"]))
    if key == "tower_os_chemo":
        s = summarise_relapsed(run(ip, "tower_chemotherapy", n, seed))
        return float(s["median_os_months"])
    if key == "eliana_orr":
        return float(np.mean(run(ip, "eliana_cart", n, seed)["response"]))
    if key == "eliana_rfs12":
        s = summarise_relapsed(run(ip, "eliana_cart", n, seed))
        return float(s["rfs_12m_responders"])
    raise KeyError(key)


#: parameter -> (metric, bracket, metric increases with the parameter, log-scale); the metric's
#: published value is read from validation_targets.yaml by :func:`fit_targets`.
FITS: dict[str, tuple[str, tuple[float, float], bool, bool]] = {
    "blin_kill_max": ("blast_response", (0.05, 2.0), True, True),
    "blin_et_reference": ("peds_blin_cr", (0.01, 100.0), True, True),
    "salvage_kill": ("tower_cr_chemo", (0.05, 1.0), True, True),
    "disease_death_rate": ("tower_os_chemo", (0.001, 0.2), False, True),
    "car_kill": ("eliana_orr", (0.05, 20.0), True, True),
    "cd19neg_probability": ("eliana_rfs12", (0.0, 1.0), False, False),
}


def fit_targets(targets: Sequence[Target] | None = None) -> dict[str, float]:
    """Parameter -> the published value its metric is bisected to, from the rows of
    validation_targets.yaml (``targets``: that list by default)."""
    by_metric = targets_by_metric(targets)
    return {name: by_metric[key].value for name, (key, *_rest) in FITS.items()}


def fit_loss(simulated: dict[str, float],
             targets: Sequence[Target] | None = None) -> CalibrationLoss:
    """The fitted metrics' distance from their rows (values and tolerances of
    validation_targets.yaml): sum of squared tolerance-scaled deviations, number outside."""
    return calibration_loss(simulated, [key for key, *_rest in FITS.values()], targets)


def bisect(f: Callable[[float], float], target: float, lo: float, hi: float, increasing: bool,
           log: bool, iters: int = 18) -> float:
    """Parameter value where the monotone ``f`` crosses ``target``."""
    for _ in range(iters):
        mid = float(np.sqrt(lo * hi)) if log else 0.5 * (lo + hi)
        above = f(mid) > target
        if above == increasing:
            hi = mid
        else:
            lo = mid
    return float(np.sqrt(lo * hi)) if log else 0.5 * (lo + hi)


def main() -> None:
    ap = argparse.ArgumentParser(description="Fit the immunotherapy parameters (see docstring)")
    ap.add_argument("--n", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    ip = load_immunotherapy(parameters=PS)
    target_of = fit_targets()
    for rnd in range(args.rounds):
        for name, (key, (lo, hi), inc, log) in FITS.items():
            def f(v: float, name: str = name, key: str = key,
                  base: ImmunoParameters = ip) -> float:
                return metric(base.with_values({name: v}), key, args.n, args.seed)

            target = target_of[name]
            value = bisect(f, target, lo, hi, inc, log)
            ip = ip.with_values({name: float(f"{value:.4g}")})
            print(f"round {rnd + 1}: {name} = {ip.value(name):.4g} -> {key} "
                  f"{metric(ip, key, args.n, args.seed):.3f} (target {target})", flush=True)
    print("\nfitted values and simulated calibration targets "
          f"(n {args.n}, seed {args.seed}):")
    simulated: dict[str, float] = {}
    for name, (key, *_rest) in FITS.items():
        simulated[key] = metric(ip, key, args.n, args.seed)
        print(f"  {name}: {ip.value(name):.4g}   {key} = {simulated[key]:.3f}"
              f" (target {target_of[name]})")
    got = fit_loss(simulated)
    print(f"loss {got.loss:.2f}, outside tolerance {got.outside} of {len(FITS)}")
    s = summarise_relapsed(run(ip, "tower_blinatumomab", args.n, args.seed))
    print(f"validation preview: TOWER blin CR {s['response_rate']:.3f}, median OS "
          f"{s['median_os_months']:.2f} mo")
    s = summarise_relapsed(run(ip, "eliana_cart", args.n, args.seed))
    print(f"validation preview: ELIANA 3-y EFS {s['efs']['36m']:.3f}, OS {s['os']['36m']:.3f}")


if __name__ == "__main__":
    main()
