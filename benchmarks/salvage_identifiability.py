"""Relapse therapy calibration and the identifiability of the validation misses (issue 18).

Each part sweeps the parameters that move a row and prints the range the model reaches, so a
row outside tolerance is either brought in or shown to be out of reach of the model structure
(and the structure that would reach it is named in docs/simulator/README.md):

``fit``       the relapse-therapy values of knowledge/sim/relapse_therapy.yaml: children's block-1
              kill ratio (AALL0433 MRD split), transplant log kill, continuation kill and
              active-disease death ratio (Rheingold 2024 post-relapse OS, 5-yr OS 90.4 / 93 %),
              adults' block-1 kill ratio (SEER 20-39 / 40-59 y).
``donor``     donor availability for transplant in CR2 (children's intermediate risk: matched
              sibling only, AALL0433): the children's continuation kill refitted to Rheingold's
              late-relapse OS (fitted) with and without it, and the AALL0433 rows (validation).
``mrd``       Zhou 2007 relapse with EOI MRD >= 1e-3 (72 %) and AIEOP-BFM MRD-IR 5-yr EFS
              (77.6 %) over the post-induction sensitivity (value, IIV omega, correlation with
              the induction sensitivity), with the relapse incidence they imply (12.7 ± 2 %);
              plus the arithmetic bound the fitted group sizes put on both.
``aya``       15-19 y 5-yr OS (74 %): the pediatric preset's 15-17 y and the aya preset's 15-19 y
              with and without its protocol mix (Muffly 2018 shares).
``e1910``     E1910 CR/CRi (81 %) and control-arm 3-yr OS (68 %) over the adult induction death,
              induction sensitivity and relapse-therapy values, with the SEER / Rowe rows they
              must keep.
``tower``     TOWER blinatumomab median OS (7.7 months) over the transplant share and the timing
              of transplant deaths, and over the death rate of active disease in that arm.
``eliana``    ELIANA 3-yr OS (63 %) with and without therapy after a relapse following CAR-T, and
              over the block-1 kill of that salvage.

Run: ``.venv/bin/python benchmarks/salvage_identifiability.py PART [--n N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from allpath.sim import salvage, simulate_cohort
from allpath.sim.cohort import load_config, summarise_table
from allpath.sim.immuno import e1910_summary, randomisation_day
from allpath.sim.params import ParameterSet, load_parameters
from allpath.sim.validation import (
    aall0433_relapse,
    aieop_groups,
    efs_at,
    os_at,
    post_relapse_os,
    targets_by_metric,
    zhou_relapse,
)

Cols = dict[str, np.ndarray[Any, Any]]
#: The declarative target list (knowledge/sim/validation_targets.yaml) by metric.
TARGETS = targets_by_metric()


def cols(cfg: Any, n: int, seed: int) -> Cols:
    t = simulate_cohort(cfg, n=n, seed=seed, chunk_size=4096)
    assert not isinstance(t, Path)
    return {k: t.column(k).to_numpy(zero_copy_only=False) for k in t.column_names}


@contextmanager
def therapy(values: Mapping[str, float] | None = None,
            variant: Mapping[int, Mapping[str, float]] | None = None,
            **fields: Any) -> Iterator[None]:
    """relapse_therapy.yaml with some values (and variant overrides, fields) replaced."""
    base = salvage.load_relapse_therapy()
    rt = replace(base, values={**base.values, **(values or {})}, **fields)
    if variant:
        rt = replace(rt, variants={k: replace(v, values={**v.values, **variant.get(k, {})})
                                   for k, v in rt.variants.items()})
    original = salvage.load_relapse_therapy
    salvage.load_relapse_therapy = lambda: rt  # type: ignore[assignment]
    try:
        yield
    finally:
        salvage.load_relapse_therapy = original


def with_parameter(ps: ParameterSet, name: str, **changes: Any) -> ParameterSet:
    """``ps`` with parameter ``name`` replaced field-wise (``iiv_omega``, ``iiv_corr`` for the
    lognormal IIV and its correlation with induction_sensitivity)."""
    par = ps[name]
    omega = changes.pop("iiv_omega", None)
    corr = changes.pop("iiv_corr", None)
    if (omega is not None or corr is not None) and par.iiv is not None:
        iiv = par.iiv
        if omega is not None:
            iiv = replace(iiv, omega=omega)
        if corr is not None:
            iiv = replace(iiv, correlations={**iiv.correlations, "induction_sensitivity": corr})
        par = replace(par, iiv=iiv)
    par = replace(par, **changes)
    return replace(ps, parameters={**ps.parameters, name: par})


def aall0433(c: Cols) -> tuple[float, float]:
    """3-yr OS of late B-ALL marrow relapses, and their share with block-1 MRD < 0.1 %."""
    v = aall0433_relapse(c)
    return v["all"], v["lo_share"]


def part_fit(n: int, seed: int) -> None:
    ped = replace(load_config("pediatric"), horizon_days=3654)
    print("children: reinduction_kill_ratio, disease_death_ratio, hsct_log10_kill, "
          "continuation_kill_ratio -> post-relapse 5-yr OS early/int/late (25.8/49.5/66.4), "
          "5-yr OS (90.4) and 0-14 y (93), AALL0433 MRD<0.1% share (~0.32) and 3-yr OS")
    grid: list[tuple[float, float, float, float]] = [
        (q, 0.06, 6.0, 0.97) for q in (0.5, 0.65, 0.8, 1.0)]
    grid += [(0.8, d, hk, cq) for d, hk, cq in itertools.product((0.03, 0.06, 1.0), (6.0, 7.5),
                                                                  (1.0, 1.2))]
    for q, d, hk, cq in grid:
        with therapy({"disease_death_ratio": d, "hsct_log10_kill": hk,
                      "continuation_kill_ratio": cq}, {1: {"reinduction_kill_ratio": q}}):
            c = cols(ped, n, seed)
        o = post_relapse_os(c)
        a, share = aall0433(c)
        print(f"  {q:4.2f} {d:4.2f} {hk:4.1f} {cq:4.2f}  early {o['early']:.3f} int "
              f"{o['intermediate']:.3f} late {o['late']:.3f}  OS5 {os_at(c, 5.0):.3f} 0-14 "
              f"{os_at(c, 5.0, 0, 15):.3f}  AALL0433 share {share:.2f} OS3 {a:.3f}", flush=True)
    print("adults: reinduction_kill_ratio -> 5-yr OS 20-39 (59), 40-59 (43)")
    for q in (0.5, 0.6, 0.7):
        with therapy(variant={2: {"reinduction_kill_ratio": q}}):
            adults = cols(load_config("adult"), max(n // 3, 1000), seed)
        print(f"  {q:4.2f}  20-39 {os_at(adults, 5.0, 20, 40):.3f} "
              f"40-59 {os_at(adults, 5.0, 40, 60):.3f}",
              flush=True)


def part_donor(n: int, seed: int) -> None:
    ped = replace(load_config("pediatric"), horizon_days=3654)
    print("children: donor_probability_intermediate, continuation_kill_ratio -> post-relapse "
          "5-yr OS early/int/late (25.8/49.5/66.4, fitted), 5-yr OS; AALL0433 3-yr OS overall "
          "(72.3), MRD < 0.1 % (93.8), >= 0.1 % (60.6) (validation)")
    for pd, cq in ((1.0, 1.2), (0.437, 1.2), (0.437, 1.1), (0.437, 1.05), (0.437, 1.0),
                   (0.437, 0.9), (0.437, 0.8), (0.0, 1.05)):
        with therapy(variant={1: {"donor_probability_intermediate": pd,
                                  "continuation_kill_ratio": cq}}):
            c = cols(ped, n, seed)
        o = post_relapse_os(c)
        v = aall0433_relapse(c)
        print(f"  {pd:5.3f} {cq:4.2f}  early {o['early']:.3f} int {o['intermediate']:.3f} late "
              f"{o['late']:.3f}  OS5 {os_at(c, 5.0):.3f}  AALL0433 OS3 {v['all']:.3f} "
              f"(<0.1 % {v['lo']:.3f}, >=0.1 % {v['hi']:.3f})", flush=True)


def part_mrd(n: int, seed: int) -> None:
    ps = load_parameters()
    base = ps["post_induction_sensitivity"]
    assert base.iiv is not None
    print("post_induction_sensitivity value, omega, corr(s) -> relapse incidence (12.7 ± 2), "
          "Zhou relapse with EOI MRD >= 1e-3 (72 ± 10), AIEOP MRD-IR 5-yr EFS (77.6 ± 4)")
    best_hi, best_ir = 0.0, 1.0
    for v, om, cr in itertools.product((0.5, 0.65, 0.8), (0.2, 0.33, 0.6),
                                       (0.5, 0.75, 0.95)):
        p2 = with_parameter(ps, "post_induction_sensitivity", value=v, iiv_omega=om, iiv_corr=cr)
        c = cols(load_config("pediatric", parameters=p2), n, seed)
        rel = float(np.mean(c["relapse"] == 1))
        z, g = zhou_relapse(c), aieop_groups(c)
        ok = TARGETS["relapse_rate"].passes(rel)
        if ok:
            best_hi, best_ir = max(best_hi, z["at_least_1e-3"]), min(best_ir, g["efs_ir"])
        print(f"  {v:4.2f} {om:4.2f} {cr:4.2f}  relapse {rel:.3f}{' ok' if ok else '   '}  "
              f"Zhou>=1e-3 {z['at_least_1e-3']:.3f}  IR EFS {g['efs_ir']:.3f}  "
              f"(SR {g['sr']:.2f} IR {g['ir']:.2f} HR {g['hr']:.2f})", flush=True)
    print(f"  reachable with relapse incidence in tolerance: Zhou >=1e-3 at most {best_hi:.3f}, "
          f"MRD-IR EFS at least {best_ir:.3f}")
    c = cols(load_config("pediatric"), n, seed)
    cr = c["cr"] == 1
    m = c["mrd_eoi_pcr"][cr]
    f_hi = float(np.mean(m >= 1e-3))
    f_mid = float(np.mean((m > 0) & (m < 1e-3)))
    p_cr = float(np.mean(cr))
    bound = (0.147 / p_cr - f_mid * 0.07) / f_hi
    print(f"  arithmetic: {f_hi:.3f} of children in CR have EOI MRD >= 1e-3; with relapse "
          f"incidence <= 14.7 % and >= 7 % relapse at 1e-4..1e-3, relapse at >= 1e-3 is at most "
          f"{min(bound, 1):.2f}")
    g = aieop_groups(c)
    implied = sum(g[k] * (1 - TARGETS[f"aieop_efs_{k}"].value) for k in ("sr", "ir", "hr"))
    print(f"  arithmetic: the AIEOP-BFM EFS by group imply {implied:.3f} events among B-ALL in CR "
          f"(with the simulated group sizes); relapse + death in CR of the model "
          f"{1 - efs_b(c):.3f} at the fitted relapse incidence")


def efs_b(c: Cols) -> float:
    """5-year EFS (Kaplan-Meier) of the B-ALL patients in CR."""
    return efs_at(c, 5.0, sel=(c["subtype"] == "B-ALL") & (c["cr"] == 1))


def part_aya(n: int, seed: int) -> None:
    ped = cols(load_config("pediatric"), n, seed)
    cfg = load_config("aya")
    aya = cols(cfg, max(n // 3, 1000), seed)
    plain = cols(replace(cfg, population=replace(cfg.population, protocol_mix=None)),
                 max(n // 3, 1000), seed)
    p_os = os_at(ped, 5.0, 15, 18)
    a_os = os_at(plain, 5.0, 15, 20)
    m_os = os_at(aya, 5.0, 15, 20)
    print(f"5-yr OS: pediatric preset 15-17 y {p_os:.3f}; aya preset 15-19 y without the "
          f"protocol mix {a_os:.3f}, with it (Muffly 2018 shares, not fitted) {m_os:.3f} "
          f"(SEER 74 ± 6 %)")


def _e1910(seed: int, n: int, ps: ParameterSet | None = None) -> tuple[float, float]:
    out = []
    for arm in ("chemotherapy",):
        cfg = load_config(f"e1910_{arm}", parameters=ps)
        assert cfg.immuno is not None and cfg.immuno.frontline is not None
        day = randomisation_day(cfg.protocol, cfg.immuno.frontline.randomisation_phase)
        e = e1910_summary(cols(cfg, n, seed), day)
        out += [e["cr_rate"], e["os"]]
    return out[0], out[1]


def part_e1910(n: int, seed: int) -> None:
    na = max(n // 3, 1000)
    ps = load_parameters()
    print("adult induction death, adult induction sensitivity -> E1910 CR/CRi (81 ± 4), Rowe "
          "adult CR <=60 y (91 ± 3), CR by age decade of the E1910 chemotherapy cohort")
    for d, s in itertools.product((0.06, 0.10), (0.8, 0.6)):
        p2 = with_parameter(ps, "induction_death_probability",
                            populations={**ps["induction_death_probability"].populations,
                                         "adult": d})
        p2 = with_parameter(p2, "induction_sensitivity",
                            populations={**p2["induction_sensitivity"].populations, "adult": s})
        cr_e, os_e = _e1910(seed, na, p2)
        a = cols(load_config("adult", parameters=p2), na, seed)
        cr_a = float(np.mean(a["cr"][a["age"] < 60] == 1))
        print(f"  death {d:.2f} s {s:.2f}: E1910 CR {cr_e:.3f} OS3 {os_e:.3f}; adult CR <=60 "
              f"{cr_a:.3f}; 5-yr OS 20-39 {os_at(a, 5.0, 20, 40):.3f} 40-59 "
              f"{os_at(a, 5.0, 40, 60):.3f}", flush=True)
    print("adult relapse therapy (block-1 kill ratio, death ratio of active disease) -> E1910 "
          "control-arm 3-yr OS (68 ± 6) and SEER 20-39 / 40-59 (59 / 43 ± 6)")
    for q, d in itertools.product((0.4, 0.6, 0.8), (0.3, 1.0, 3.0)):
        with therapy(variant={2: {"reinduction_kill_ratio": q, "disease_death_ratio": d}}):
            _, os_e = _e1910(seed, na)
            a = cols(load_config("adult"), na, seed)
        print(f"  {q:.1f} {d:.1f}: E1910 chemo OS3 {os_e:.3f}; 20-39 {os_at(a, 5.0, 20, 40):.3f}"
              f" 40-59 {os_at(a, 5.0, 40, 60):.3f}", flush=True)
    e = cols(load_config("e1910_chemotherapy"), na, seed)
    for lo in (30, 40, 50, 60):
        sel = (e["age"] >= lo) & (e["age"] < lo + 10)
        print(f"  E1910 cohort CR at {lo}-{lo + 9} y: {np.mean(e['cr'][sel] == 1):.3f}")


def _median_os(preset: str, n: int, seed: int, change: Callable[[Any], Any] | None = None
               ) -> float:
    cfg = load_config(preset)
    if change is not None:
        cfg = change(cfg)
    return float(summarise_table(cols(cfg, n, seed))["median_os_months"])


def part_tower(n: int, seed: int) -> None:
    na = max(n // 3, 1000)
    print("transplant share of responders x transplant-death window -> TOWER blinatumomab "
          "median OS (7.7 ± 1.5 months)")
    for share, window in itertools.product((0.0, 0.545, 1.0), (100, 365, 730)):
        def change(cfg: Any, share: float = share) -> Any:
            assert cfg.immuno is not None and cfg.immuno.relapsed is not None
            rel = replace(cfg.immuno.relapsed, transplant_share=share)
            return replace(cfg, immuno=replace(cfg.immuno, relapsed=rel))
        with therapy(followup_days=window):
            print(f"  share {share:.3f} window {window:4d} d: median OS "
                  f"{_median_os('tower_blinatumomab', na, seed, change):.2f}", flush=True)
    print("death rate of active disease (x the chemotherapy-arm fit) in the blinatumomab arm")
    from allpath.sim.immuno import load_immunotherapy
    for k in (1.0, 0.7, 0.5):
        def change_k(cfg: Any, k: float = k) -> Any:
            assert cfg.immuno is not None
            ip = cfg.immuno.parameters
            ip2 = ip.with_values({"disease_death_rate": ip.value("disease_death_rate") * k})
            return replace(cfg, immuno=replace(cfg.immuno, parameters=ip2))
        print(f"  x{k:.1f}: median OS {_median_os('tower_blinatumomab', na, seed, change_k):.2f}",
              flush=True)
    del load_immunotherapy


def part_eliana(n: int, seed: int) -> None:
    na = max(n // 3, 1000)
    print("therapy after a relapse following CAR-T (block-1 kill ratio of the children's "
          "variant) -> ELIANA 3-yr OS (63 ± 8), EFS (44 ± 8)")

    def change(on: bool) -> Callable[[Any], Any]:
        def f(cfg: Any) -> Any:
            assert cfg.immuno is not None and cfg.immuno.relapsed is not None
            rel = replace(cfg.immuno.relapsed, salvage_after_relapse=on)
            return replace(cfg, immuno=replace(cfg.immuno, relapsed=rel))
        return f

    for on, q in ((False, 0.8), (True, 0.2), (True, 0.4), (True, 0.6), (True, 0.8)):
        with therapy(variant={1: {"reinduction_kill_ratio": q}}):
            c = cols(change(on)(load_config("eliana_cart")), na, seed)
        s = summarise_table(c)
        label = f"salvage, block-1 ratio {q:.1f}" if on else "no therapy after relapse"
        print(f"  {label}: OS3 {s['os']['36m']:.3f} EFS3 {s['efs']['36m']:.3f}", flush=True)


PARTS: dict[str, Callable[[int, int], None]] = {
    "fit": part_fit, "donor": part_donor, "mrd": part_mrd, "aya": part_aya, "e1910": part_e1910,
    "tower": part_tower, "eliana": part_eliana,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("part", choices=[*PARTS, "all"])
    ap.add_argument("--n", type=int, default=16_000)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    for name, fn in PARTS.items():
        if args.part in (name, "all"):
            print(f"== {name}", flush=True)
            fn(args.n, args.seed)


if __name__ == "__main__":
    main()
