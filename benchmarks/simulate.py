"""Benchmark: cohort simulator throughput versus a per-patient scipy solve_ivp loop.

Prints patient-days per second of :func:`allpath.sim.simulate_cohort` (ODE-stepped days over
therapy; the post-therapy tail is analytic), the per-patient LSODA baseline on a small sample
(extrapolated), and the ratio. Issue targets: 1e6 patients x 3 years in < 60 s on 2 cores, and
>= 1000x the per-patient baseline. Run: ``.venv/bin/python benchmarks/simulate.py [N]``.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from allpath.sim import load_config, load_parameters, load_protocols, simulate_cohort
from allpath.sim.base import patient_randoms, reference_solve
from allpath.sim.engine import drive_for_day
from allpath.sim.model import AllModel, steady_state
from allpath.sim.population import N_NORMAL, N_UNIFORM, make_batch, tgn_ref


def cohort_rate(n: int) -> float:
    """Patient-days per second of the vectorised cohort simulator (stepped days only)."""
    cfg = load_config("pediatric")
    days = cfg.protocol.therapy_days
    t0 = time.perf_counter()
    simulate_cohort(cfg, n=n, seed=1, chunk_size=8192)
    dt = time.perf_counter() - t0
    return n * days / dt


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
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    fast = cohort_rate(n)
    slow = baseline_rate()
    print(f"cohort simulator : {fast:,.0f} patient-days/s ({n} patients, 2 cores)")
    print(f"solve_ivp LSODA  : {slow:,.0f} patient-days/s (per patient, extrapolated)")
    print(f"ratio            : {fast / slow:,.0f}x")
    need = 1e6 * 3 * 365.25 / fast
    print(f"1e6 patients x 3 years would take ~{need:,.0f} s at this rate (target < 60 s)")


if __name__ == "__main__":
    main()
