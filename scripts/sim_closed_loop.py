"""Compare maintenance titration policies (and MRD-based intensification) in silico.

Usage: .venv/bin/python scripts/sim_closed_loop.py [N] [SEED] [--basis auto|anc]

Runs the pediatric preset under titration policies ``protocol`` (built-in rule), ``fixed`` (no
titration) and ``pack`` (closed loop through packs/80-titration.yaml), then ``intensification:
pack`` (risk-pack re-stratification at the end of induction), then pathway checkpoints
(response and relapse packs) under three surveillance schedules, the pack policy with and
without visit ANC noise, and roadmap-pack protocol assignment; prints Markdown tables.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from typing import Any

import pyarrow as pa

from allpath.sim.checkpoints import CheckpointPolicy
from allpath.sim.closed_loop import TitrationConfig
from allpath.sim.cohort import load_config, simulate_cohort, summarise_table


def _run(cfg: Any, n: int, seed: int) -> tuple[dict[str, Any], dict[str, Any], float]:
    t0 = time.perf_counter()
    table = simulate_cohort(cfg, n=n, seed=seed, workers=2)
    assert isinstance(table, pa.Table)
    cols = {k: table.column(k).to_numpy(zero_copy_only=False) for k in table.column_names}
    return cols, summarise_table(cols), time.perf_counter() - t0


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 20_000
    seed = int(args[1]) if len(args) > 1 else 1
    bases = ["anc", "auto"] if "--basis" not in sys.argv else [
        sys.argv[sys.argv.index("--basis") + 1]]
    base = load_config("pediatric")
    print(f"pediatric preset, n = {n}, seed = {seed}\n")
    print("| policy | basis | median visit ANC | ANC in pack window | in pack target | "
          "holds / pt-yr | median 6-MP mg/m2/d | relapse | 5-y EFS | 5-y OS | s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for basis in bases:
        for policy in ("protocol", "fixed", "pack"):
            cfg = replace(base, titration=TitrationConfig(policy=policy, basis=basis))  # type: ignore[arg-type]
            _, s, secs = _run(cfg, n, seed)
            m = s["maintenance"]
            print(f"| {policy} | {basis} | {m['anc_median']:.2f} | "
                  f"{m['visits_anc_in_window']:.1%} | {m['visits_in_target']:.1%} | "
                  f"{m['holds_per_patient_year']:.2f} | {m['mp_dose_mean_mg_m2']:.1f} | "
                  f"{s['relapse_rate']:.1%} | {s['efs_5y']:.1%} | {s['os_5y']:.1%} | "
                  f"{secs:.0f} |")
    print("\n| intensification | intensified | relapse | 5-y EFS | 5-y OS |")
    print("|---|---|---|---|---|")
    for inten in (None, "pack"):
        cols, s, _ = _run(replace(base, intensification=inten), n, seed)
        share = float(cols["intensified"].mean()) if "intensified" in cols else 0.0
        print(f"| {inten or 'none'} | {share:.1%} | {s['relapse_rate']:.1%} | "
              f"{s['efs_5y']:.1%} | {s['os_5y']:.1%} |")
    print("\n| checkpoints | weeks on / off therapy | EOI CR + CRi | refractory | relapse "
          "| very early / early / late | marrow blasts at detection | repeat marrow | 5-y EFS "
          "| 5-y OS |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    _, s, _ = _run(base, n, seed)
    t = s["relapse_timing_cog"]
    print(f"| none (true burden) | - | {s['cr_rate']:.1%} | - | {s['relapse_rate']:.1%} | "
          f"{t['very_early']:.0%} / {t['early']:.0%} / {t['late']:.0%} | 5% (crossing) | - | "
          f"{s['efs_5y']:.1%} | {s['os_5y']:.1%} |")
    for on, off in ((None, None), (None, 12.0), (12.0, 26.0)):
        pol = CheckpointPolicy(weeks_on_therapy=on, weeks_off_therapy=off)
        _, s, _ = _run(replace(base, checkpoints=pol), n, seed)
        c, t = s["checkpoints"], s["relapse_timing_cog"]
        print(f"| pack | {on or 'protocol (4)'} / {off or 'at presentation'} | "
              f"{c['eoi_CR'] + c['eoi_CRi']:.1%} | {c['eoi_refractory'] + c['eoi_PD']:.1%} | "
              f"{s['relapse_rate']:.1%} | "
              f"{t['very_early']:.0%} / {t['early']:.0%} / {t['late']:.0%} | "
              f"{c['relapse_marrow_blasts_median']:.1f}% | "
              f"{c['relapse_repeat_marrow_share']:.0%} | {s['efs_5y']:.1%} | {s['os_5y']:.1%} |")
    print("\n| policy | basis | ANC noise | median visit ANC | ANC in pack window | in pack target "
          "| holds / pt-yr | median 6-MP mg/m2/d | relapse | 5-y EFS | 5-y OS |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for basis in bases:
        for noise in (False, True):
            cfg = replace(base, titration=TitrationConfig(policy="pack", basis=basis,  # type: ignore[arg-type]
                                                          anc_noise=noise))
            _, s, _ = _run(cfg, n, seed)
            m = s["maintenance"]
            print(f"| pack | {basis} | {'yes' if noise else 'no'} | {m['anc_median']:.2f} | "
                  f"{m['visits_anc_in_window']:.1%} | {m['visits_in_target']:.1%} | "
                  f"{m['holds_per_patient_year']:.2f} | {m['mp_dose_mean_mg_m2']:.1f} | "
                  f"{s['relapse_rate']:.1%} | {s['efs_5y']:.1%} | {s['os_5y']:.1%} |")
    print("\n| preset | roadmap | templates (share) | simulated | CR | relapse | 5-y EFS "
          "| 5-y OS |")
    print("|---|---|---|---|---|---|---|---|")
    for preset in ("pediatric", "adult"):
        for roadmap in (None, "pack"):
            _, s, _ = _run(replace(load_config(preset), roadmap=roadmap), n, seed)
            r = s.get("roadmap", {})
            shares = ", ".join(f"{k} {v:.1%}" for k, v in sorted(r.items(), key=lambda kv: -kv[1])
                               if k != "simulated_share")
            print(f"| {preset} | {roadmap or 'none'} | {shares or 'base protocol'} | "
                  f"{r.get('simulated_share', 1.0):.1%} | {s['cr_rate']:.1%} | "
                  f"{s['relapse_rate']:.1%} | {s['efs_5y']:.1%} | {s['os_5y']:.1%} |")


if __name__ == "__main__":
    main()
