"""Accuracy of the cohort kernel against LSODA (not a test): the errors the issue asks to report.

Same virtual patients, nominal 6-MP dose, no extinction, 260 days (induction to 3 months of
maintenance). The reference is the full 20-state model solved per patient by scipy's LSODA
(``reference_solve``); the fast kernel runs float32 RK4 chains with exact 6-TGN and kill
integrals. Prints the largest and the 99th-percentile relative error on ANC and platelets (to the
start of maintenance) and
the largest absolute error on ln L. ``tests/sim/test_scale.py`` holds the bound (< 2 %).

    .venv/bin/python benchmarks/sim_accuracy.py [--n 40] [--seed 7]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from allpath.sim import load_parameters, load_protocols
from allpath.sim.base import patient_randoms, reference_solve
from allpath.sim.engine import drive_for_day
from allpath.sim.fast import run_cohort_batch
from allpath.sim.model import AllModel, Drive, steady_state
from allpath.sim.population import N_NORMAL, N_UNIFORM, make_batch, tgn_ref

N_DAYS = 260


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="cohort kernel vs LSODA")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    ps = load_parameters()
    prot = load_protocols()["cog_style_pediatric"]
    z, u = patient_randoms(args.seed, 0, args.n, N_NORMAL, N_UNIFORM)
    batch = make_batch(ps, ps.populations["pediatric"], prot, np.arange(args.n), z, u)
    y0 = steady_state(batch.p, batch.ln_l_s, batch.ln_l_r)
    res = run_cohort_batch(ps, prot, batch, N_DAYS, trace_days=N_DAYS, extinction=False,
                           titrate=False)
    assert res.trajectory is not None
    p = batch.p
    dose = prot.mp_dose_mg_m2_d * batch.bsa * batch.dose_fraction
    ref_tgn = tgn_ref(ps, prot)
    maint = prot.phase_starts()[-1]
    kc = p[:, AllModel.param_names.index("kc_M")]
    ktr = p[:, AllModel.param_names.index("ktr_M")]

    def drive(day: int) -> Drive:
        return drive_for_day(prot, day, ref_tgn, dose)

    def hook(day: int, y: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
        if day == maint:
            y = y.copy(order="F")
            y[:, 2:6] = (y[:, 6] * kc / ktr)[:, None]
        return y

    t0 = time.perf_counter()
    ref = reference_solve(AllModel(), y0, p, N_DAYS, drive, hook)
    t_ref = time.perf_counter() - t0
    fast = res.trajectory
    ln_l = np.logaddexp(ref[:, :, 0], ref[:, :, 1])
    err_l = np.abs(fast[:, :, 0] - ln_l)
    rel_anc = np.abs(fast[:, :, 1] - ref[:, :, 6]) / ref[:, :, 6]
    print(f"{args.n} patients x {N_DAYS} days, seed {args.seed} (LSODA took {t_ref:.1f} s)")
    print(f"  ln L      : max |error| {err_l.max():.4f}")
    print(f"  ANC       : max relative error {rel_anc.max():.3%}, "
          f"99th percentile {np.quantile(rel_anc, 0.99):.3%}")
    # the kernel integrates platelets only until maintenance (nothing downstream reads them)
    rel_plt = np.abs(fast[:, :maint, 2] - ref[:, :maint, 11]) / ref[:, :maint, 11]
    print(f"  platelets : max relative error {rel_plt.max():.3%}, "
          f"99th percentile {np.quantile(rel_plt, 0.99):.3%} (days 0-{maint - 1})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
