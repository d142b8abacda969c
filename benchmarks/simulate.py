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
  with ``--million`` that run is 1,000,000 patients, not extrapolated;
* the same cohort on the JAX kernel (:mod:`allpath.sim.jax_kernel`): on a GPU when JAX sees one
  (timed after a warm-up compile, checked against the numpy run, speed-up printed), otherwise on
  the CPU, labelled as a reference figure (``--jax-only`` runs just this part).

Issue targets: 1e6 patients x 3 years in < 60 s on 2 cores (~18 M patient-days/s), >= 1000x the
per-patient baseline, >= 10x the 2-core rate on a GPU. Run: ``.venv/bin/python
benchmarks/simulate.py [N] [--workers 2] [--million] [--jax-only]`` (the JAX part needs
``pip install 'allpath[jax]'``, ``jax[cuda12]`` for an NVIDIA GPU).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from allpath.sim import load_config, load_parameters, load_protocols, simulate_cohort, summarise
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
    ap.add_argument("--jax-only", action="store_true", help="only the JAX / GPU comparison")
    args = ap.parse_args()
    n, w = args.n, args.workers
    if args.jax_only:
        jax_comparison(n, w)
        return
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
    jax_comparison(n, w)


EVENT_COLUMNS = ("cr", "induction_death", "induction_failure", "relapse", "death", "efs_event")


def jax_comparison(n: int, workers: int) -> None:
    """The same cohort with ``kernel="jax"`` (:mod:`allpath.sim.jax_kernel`), timed after a
    warm-up run (JIT compile), checked against the numpy kernel on ``workers`` processes.

    On a GPU (any non-CPU JAX device) this is the issue's GPU benchmark (target >= 10x the
    2-core CPU rate); without one the JAX kernel runs on the CPU, for reference only.
    """
    from allpath.sim.jax_kernel import accelerator, jax_available

    if not jax_available():
        print("GPU: JAX not installed (pip install 'allpath[jax]'); no GPU run")
        return
    cfg = load_config("pediatric")
    days = cfg.protocol.therapy_days
    t0 = time.perf_counter()  # before JAX starts its threads (the workers are forked)
    cpu_tab = simulate_cohort(cfg, n=n, seed=1, workers=workers)
    cpu_wall = time.perf_counter() - t0
    dev = accelerator()
    label = (f"JAX on {dev.platform.upper()} ({dev.device_kind})" if dev is not None
             else "JAX on CPU (no GPU available: reference only, not the GPU benchmark)")
    jcfg = replace(cfg, kernel="jax")
    chunk = min(n, 1 << 20) if dev is not None else 65_536
    t0 = time.perf_counter()
    simulate_cohort(jcfg, n=n, seed=1, chunk_size=chunk)  # warm-up: compiles for these shapes
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    jax_tab = simulate_cohort(jcfg, n=n, seed=1, chunk_size=chunk)
    jax_wall = time.perf_counter() - t0
    print(f"{label}:")
    print(f"  numpy kernel, {workers} workers : {n * days / cpu_wall:>12,.0f} patient-days/s "
          f"({cpu_wall:.2f} s)")
    print(f"  jax kernel, chunks of {chunk:,} : {n * days / jax_wall:>12,.0f} patient-days/s "
          f"({jax_wall:.2f} s; first run with compile {first:.2f} s)")
    print(f"  speed-up over the {workers}-worker numpy run: {cpu_wall / jax_wall:.1f}x"
          + (" (target >= 10x on a GPU)" if dev is not None else ""))
    worst = 1.0
    for key in EVENT_COLUMNS:
        a, b = cpu_tab[key].to_numpy(), jax_tab[key].to_numpy()
        same = float(np.mean(a == b))
        worst = min(worst, same)
        print(f"  {key:<18}: {int(np.sum(a != b)):>6} of {n} patients differ")
    a = cpu_tab["anc_eoi"].to_numpy()
    rel = np.abs(jax_tab["anc_eoi"].to_numpy() - a) / a
    print(f"  anc_eoi           : max relative difference {np.nanmax(rel):.1e}")
    s_cpu, s_jax = summarise(cpu_tab), summarise(jax_tab)
    gaps = {k: abs(s_jax[k] - s_cpu[k]) for k in ("cr_rate", "relapse_rate", "efs_5y", "os_5y")}
    print("  summary |jax - numpy| (pp): "
          + ", ".join(f"{k} {100 * v:.2f}" for k, v in gaps.items()))
    ok = worst >= 0.995 and max(gaps.values()) <= 0.005
    print(f"  check against the CPU run: {'PASS' if ok else 'FAIL'} (events >= 99.5 % identical, "
          "summary rates within 0.5 pp)")


if __name__ == "__main__":
    main()
