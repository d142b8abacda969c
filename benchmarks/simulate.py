"""Benchmark: cohort simulator throughput versus a per-patient scipy solve_ivp loop.

Prints, in one run:

* patient-days per second of :func:`allpath.sim.simulate_cohort` (fast kernel) on 1 process and
  on ``--workers`` processes, counting the ODE-stepped days of therapy (the post-therapy tail is
  analytic and not counted), and of the float64 reference engine (``kernel="reference"``, the
  v0.1 code path) on a smaller cohort;
* the per-patient LSODA baseline on a small sample (extrapolated) and the ratio;
* the projected time for 1 million patients x 3 years at the measured rate as if all 1096 days
  were stepped (conservative), and the measured wall time of a real 3-year-horizon cohort run
  (``horizon_days`` 1096, fast-forward after therapy, streamed to Parquet) scaled to 1 million;
  with ``--million`` that run is 1,000,000 patients, not extrapolated.

Issue targets: 1e6 patients x 3 years in < 60 s on 2 cores (~18 M patient-days/s), >= 1000x the
per-patient baseline. Run: ``.venv/bin/python benchmarks/simulate.py [N] [--workers 2]
[--million]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from allpath.sim import load_config, load_parameters, load_protocols, simulate_cohort
from allpath.sim.base import patient_randoms, reference_solve
from allpath.sim.engine import drive_for_day
from allpath.sim.model import AllModel, steady_state
from allpath.sim.population import N_NORMAL, N_UNIFORM, make_batch, tgn_ref

THREE_YEARS = 1096  # days (3 x 365.25, rounded up)


def cohort_rate(n: int, workers: int, kernel: str = "fast") -> tuple[float, float]:
    """Patient-days per second of the cohort simulator (stepped therapy days only): per wall
    second, and per CPU second of this process and its finished workers (robust to other jobs
    sharing the cores)."""
    cfg = replace(load_config("pediatric"), kernel=kernel)
    days = cfg.protocol.therapy_days
    c0 = _cpu()
    t0 = time.perf_counter()
    simulate_cohort(cfg, n=n, seed=1, workers=workers)
    wall = time.perf_counter() - t0
    return n * days / wall, n * days / (_cpu() - c0)


def _cpu() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def three_year_run(n: int, workers: int) -> float:
    """Wall seconds of an ``n``-patient, 3-year-horizon cohort streamed to Parquet."""
    cfg = replace(load_config("pediatric"), horizon_days=THREE_YEARS)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        simulate_cohort(cfg, n=n, seed=1, workers=workers, out=Path(tmp) / "c.parquet")
        return time.perf_counter() - t0


def baseline_rate(n: int = 2, n_days: int = 60) -> float:
    """Patient-days per second of a per-patient solve_ivp(LSODA) loop, day by day."""
    ps = load_parameters()
    prot = load_protocols()["cog_style_pediatric"]
    z, u = patient_randoms(3, 0, n, N_NORMAL, N_UNIFORM)
    b = make_batch(ps, ps.populations["pediatric"], prot, np.arange(n), z, u)
    y0 = steady_state(b.p, b.ln_l_s, b.ln_l_r)
    ref = tgn_ref(ps, prot)
    t0 = time.perf_counter()
    reference_solve(AllModel(), y0, b.p, n_days, lambda d: drive_for_day(prot, d, ref, None))
    return n * n_days / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", nargs="?", type=int, default=131_072)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--million", action="store_true", help="run 1e6 x 3 years for real")
    args = ap.parse_args()
    n, w = args.n, args.workers
    ref_rate, ref_cpu = cohort_rate(min(n, 16_384), 1, kernel="reference")
    one, one_cpu = cohort_rate(n, 1)
    many, many_cpu = cohort_rate(n, w)
    slow = baseline_rate()
    load = os.getloadavg()[0]
    print(f"load average     : {load:.2f} (other jobs may share the {os.cpu_count()} cores)")
    print(f"reference engine : {ref_rate:>12,.0f} patient-days/s wall, {ref_cpu:,.0f} per CPU-s "
          "(v0.1 code path: float64, 20 states, 1 process)")
    print(f"cohort, 1 process: {one:>12,.0f} patient-days/s wall, {one_cpu:,.0f} per CPU-s "
          f"({n} patients)")
    print(f"cohort, {w} workers: {many:>12,.0f} patient-days/s wall, {many_cpu:,.0f} per CPU-s "
          f"(x{w} = {w * many_cpu:,.0f} on {w} idle cores)")
    print(f"solve_ivp LSODA  : {slow:>12,.0f} patient-days/s (per patient, extrapolated)")
    print(f"ratio to LSODA   : {many / slow:>12,.0f}x ({w} workers), {one / slow:,.0f}x (1)")
    print(f"speed-up vs v0.1 : {many / ref_rate:>12.1f}x")
    proj = 1e6 * 3 * 365.25 / many
    print(f"1e6 x 3 y, every day stepped at this rate : {proj:,.0f} s (target < 60 s)")
    m = 1_000_000 if args.million else n
    wall = three_year_run(m, w)
    label = "measured" if args.million else f"measured on {m}, scaled"
    print(f"1e6 x 3 y, real run (horizon 1096 d)      : {wall * 1e6 / m:,.0f} s ({label})")
    print("GPU: not available on this machine (no JAX/CuPy run)")


if __name__ == "__main__":
    main()
