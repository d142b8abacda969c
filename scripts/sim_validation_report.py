"""Write docs/simulator/validation.md: models.md §10 targets versus a simulated cohort.

Run: ``.venv/bin/python scripts/sim_validation_report.py [N] [SEED]``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from allpath.sim import load_config, simulate_cohort
from allpath.sim.cohort import summarise_table
from allpath.sim.immuno import e1910_summary, randomisation_day
from allpath.sim.validation import (
    induction_anc_nadir_day,
    maintenance_dose_step,
    os_at,
    post_relapse_os,
)


def _cols(preset: str, n: int, seed: int) -> dict[str, Any]:
    t = simulate_cohort(preset, n=n, seed=seed)
    assert not isinstance(t, Path)
    return {k: t.column(k).to_numpy(zero_copy_only=False) for k in t.column_names}


def os5(c: dict[str, Any], lo: float, hi: float) -> float:
    """Crude 5-year survival at ages [lo, hi) (every patient followed 5 years)."""
    sel = (c["age"] >= lo) & (c["age"] < hi)
    return 1 - float(np.mean((c["death"][sel] == 1) & (c["death_day"][sel] <= 5 * 365.25)))


def km3(c: dict[str, Any], kind: str, lo: float, hi: float) -> float:
    """Crude 3-year EFS or OS at ages [lo, hi)."""
    sel = (c["age"] >= lo) & (c["age"] < hi)
    if kind == "efs":
        ev = (c["efs_event"][sel] == 1) & (c["efs_day"][sel] <= 3 * 365.25)
    else:
        ev = (c["death"][sel] == 1) & (c["death_day"][sel] <= 3 * 365.25)
    return 1 - float(np.mean(ev))


def aieop_groups(c: dict[str, Any]) -> dict[str, float]:
    """AIEOP-BFM 2000 MRD groups (PCR, B-ALL in CR): SR negative at day 29 and day 78, HR
    >= 1e-3 at day 78, IR the rest; fractions and crude 5-year EFS per group."""
    sel = (c["subtype"] == "B-ALL") & (c["cr"] == 1)
    eoi, d78 = c["mrd_eoi_pcr"][sel], c["mrd_d78_pcr"][sel]
    sr = (eoi == 0) & (d78 == 0)
    hr = d78 >= 1e-3
    ir = ~sr & ~hr
    efs_ok = ~((c["efs_event"][sel] == 1) & (c["efs_day"][sel] <= 5 * 365.25))
    out = {"sr": float(sr.mean()), "ir": float(ir.mean()), "hr": float(hr.mean())}
    for name, m in (("sr", sr), ("ir", ir), ("hr", hr)):
        out[f"efs_{name}"] = float(efs_ok[m].mean()) if m.any() else float("nan")
    return out


def zhou_relapse(c: dict[str, Any]) -> dict[str, float]:
    """DFCI (Zhou 2007): crude 5-year relapse by end-of-induction MRD (PCR), patients in CR."""
    sel = c["cr"] == 1
    m = c["mrd_eoi_pcr"][sel]
    r = c["relapse"][sel] == 1
    groups = {"undetectable": m == 0, "below_1e-3": (m > 0) & (m < 1e-3),
              "at_least_1e-3": m >= 1e-3}
    return {k: float(r[g].mean()) if g.any() else float("nan") for k, g in groups.items()}


def immuno_figures(n: int, seed: int) -> dict[str, Any]:
    """Immunotherapy presets (allpath.sim.immuno): TOWER arms, ELIANA, BLAST, the paediatric
    r/r blinatumomab study and the E1910 frontline arms, ``n`` virtual patients each."""
    out: dict[str, Any] = {}
    for preset in ("tower_blinatumomab", "tower_chemotherapy", "eliana_cart", "blast_mrd",
                   "blinatumomab_pediatric_rr"):
        out[preset] = summarise_table(_cols(preset, n, seed))
    for arm in ("blinatumomab", "chemotherapy"):
        cfg = load_config(f"e1910_{arm}")
        assert cfg.immuno is not None and cfg.immuno.frontline is not None
        day = randomisation_day(cfg.protocol, cfg.immuno.frontline.randomisation_phase)
        out[f"e1910_{arm}"] = e1910_summary(_cols(f"e1910_{arm}", n, seed), day)
    return out


def more_figures(n: int, seed: int) -> dict[str, float]:
    """Target 7's dose response and nadir, target 9's survival after relapse (10-year pediatric
    cohort of ``n``), target 10's 15-19 y (``aya``, n/3) and >= 60 y (``older_adult``, n/4)."""
    from dataclasses import replace

    from allpath.sim.base import patient_randoms
    from allpath.sim.cohort import simulate_cohort as sim
    from allpath.sim.fast import run_cohort_batch
    from allpath.sim.population import N_NORMAL, N_UNIFORM, make_batch

    cfg = load_config("pediatric")
    ps, pop, prot = cfg.parameters, cfg.population, cfg.protocol
    out: dict[str, float] = {}
    for label, dose in (("t90_up", 75.0), ("t90_down", 25.0)):
        out[label] = float(maintenance_dose_step(ps, pop, prot, 1, 0, dose_after=dose,
                                                 typical=True).t90[0])
    step = maintenance_dose_step(ps, pop, prot, 1000, seed)
    out["t90_cohort"] = float(np.nanmedian(step.t90))
    out["anc_ss_50"] = float(maintenance_dose_step(ps, pop, prot, 1, 0, typical=True,
                                                   days_after=1).anc_before[0])
    m = min(n, 4000)
    zz, uu = patient_randoms(seed, 0, m, N_NORMAL, N_UNIFORM)
    res = run_cohort_batch(ps, prot, make_batch(ps, pop, prot, np.arange(m), zz, uu), 40,
                           trace_days=35)
    assert res.trajectory is not None
    out["nadir_day"] = float(np.median(induction_anc_nadir_day(res.trajectory[:, :, 1])))
    t = sim(replace(cfg, horizon_days=3654), n=n, seed=seed)
    assert not isinstance(t, Path)
    long = {k: t.column(k).to_numpy(zero_copy_only=False) for k in t.column_names}
    out.update({f"post_relapse_{k}": v for k, v in post_relapse_os(long).items()})
    out["os_15_19"] = os_at(_cols("aya", max(n // 3, 1000), seed), 5.0, 15, 20)
    out["os_60"] = os_at(_cols("older_adult", max(n // 4, 1000), seed), 5.0, 60, 200)
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 2025
    c = _cols("pediatric", n, seed)
    a = _cols("adult", max(n // 3, 1000), seed)
    s = summarise_table(c)
    sa = summarise_table(a)
    rel = (c["relapse"] == 1) & (c["subtype"] == "B-ALL")
    late = float(np.mean(c["relapse_day"][rel] / (365.25 / 12) >= 36))
    rel_t = (c["relapse"] == 1) & (c["subtype"] == "T-ALL")
    early_t = float(np.mean(c["relapse_day"][rel_t] / (365.25 / 12) < 18))
    pb = c["pb_blasts_d8_per_uL"]
    g = aieop_groups(c)
    z = zhou_relapse(c)
    mo = more_figures(n, seed)
    n_imm = max(n // 3, 1000)
    im = immuno_figures(n_imm, seed)
    tb, tc, el = im["tower_blinatumomab"], im["tower_chemotherapy"], im["eliana_cart"]
    eb, ec = im["e1910_blinatumomab"], im["e1910_chemotherapy"]
    rows = [
        ("1 Childhood CR (fitted)", "97.6 % ±1", "Schrappe NEJM 2012", s["cr_rate"], 0.976, 0.01),
        ("2 Adult CR (≤60 y)", "91 % ±3", "Rowe Blood 2005", sa["cr_rate"], 0.91, 0.03),
        ("2 E1910 CR/CRi 30-70 y", "81 % ±4", "Litzow NEJM 2024", ec["cr_rate"], 0.81, 0.04),
        ("3 Day-8 PB 0/µL (fitted)", "33 % ±5", "Manabe 2008", float(np.mean(pb == 0)), 0.33, 0.05),
        ("3 Day-8 PB ≥1000/µL (fitted)", "15 % ±5", "Manabe 2008",
         float(np.mean(pb >= 1000)), 0.15, 0.05),
        ("4 MRD-SR fraction (fitted)", "42 % ±5", "Conter Blood 2010 (AIEOP-BFM 2000)",
         g["sr"], 0.42, 0.05),
        ("4 MRD-IR fraction (fitted)", "52 % ±5", "Conter 2010", g["ir"], 0.52, 0.05),
        ("4 MRD-HR fraction (fitted)", "6 % ±2", "Conter 2010", g["hr"], 0.06, 0.02),
        ("4 5-yr EFS MRD-SR (fitted)", "92.3 % ±4", "Conter 2010", g["efs_sr"], 0.923, 0.04),
        ("4 5-yr EFS MRD-IR (fitted)", "77.6 % ±4", "Conter 2010", g["efs_ir"], 0.776, 0.04),
        ("4 5-yr EFS MRD-HR (fitted)", "50.1 % ±4", "Conter 2010", g["efs_hr"], 0.501, 0.04),
        ("5 EOI MRD <1e-4 (fitted)", "62 % ±5", "Zhou Blood 2007 (DFCI)",
         s["eoi_mrd"]["below_1e-4"],
         0.62, 0.05),
        ("5 Relapse, MRD undetectable (fitted)", "5 % ±5", "Zhou 2007",
         z["undetectable"], 0.05, 0.05),
        ("5 Relapse, MRD <1e-3 (fitted)", "12 % ±5", "Zhou 2007", z["below_1e-3"], 0.12, 0.05),
        ("5 Relapse, MRD ≥1e-3 (fitted)", "72 % ±10", "Zhou 2007", z["at_least_1e-3"], 0.72, 0.10),
        ("6 Median WBC (fitted)", "12.1 ±15 %", "St Jude",
         s["diagnosis_counts"]["wbc"], 12.1, 1.815),
        ("6 Median Hb (fitted)", "7.8 ±15 %", "St Jude",
         s["diagnosis_counts"]["hemoglobin"], 7.8, 1.17),
        ("6 Median PLT (fitted)", "53 ±15 %", "St Jude",
         s["diagnosis_counts"]["platelets"], 53, 7.95),
        ("6 Hb <8", "52 % ±7", "St Jude", float(np.mean(c["hemoglobin_dx"] < 8)), 0.52, 0.07),
        ("6 PLT <50", "48 % ±7", "St Jude", float(np.mean(c["platelets_dx"] < 50)), 0.48, 0.07),
        ("6 WBC ≥100", "14 % ±7", "St Jude", float(np.mean(c["wbc_dx"] >= 100)), 0.14, 0.07),
        ("7 Maintenance ANC", "1.6 ±0.3", "Gebhard 2023",
         float(np.median(c["anc_maintenance_mean"][c["cr"] == 1])), 1.6, 0.3),
        ("7 t90 after 6-MP 50→75 mg/m²/d, typical child (d)", "21-45 d", "CPIC; Jost 2020 "
         "(models.md §2.1.4)", mo["t90_up"], 33.0, 12.0),
        ("7 t90 after 6-MP 50→25 mg/m²/d, typical child (d)", "21-45 d", "CPIC; Jost 2020",
         mo["t90_down"], 33.0, 12.0),
        ("7 t90 after 50→75, median of 1000 children (d)", "21-45 d", "CPIC; Jost 2020",
         mo["t90_cohort"], 33.0, 12.0),
        ("7 Jost typical ANC_ss at 50 mg/m²/d (G/L)", "≈1.8 (±10 %)", "Jost 2020 (models.md "
         "§2.1.4)", mo["anc_ss_50"], 1.8, 0.18),
        ("7 ANC nadir day of induction (median)", "day 14-18", "models.md §4.3",
         mo["nadir_day"], 16.0, 2.0),
        ("8 Childhood 5-yr OS (fitted)", "90.4 % ±2", "Hunger JCO 2012", s["os_5y"], 0.904, 0.02),
        ("8 5-yr OS 0-14 y (fitted)", "93 % ±2", "Sasaki 2021 (SEER)", os5(c, 0, 15), 0.93, 0.02),
        ("9 Relapse incidence (fitted)", "12.7 % ±2", "Rheingold 2024",
         s["relapse_rate"], 0.127, 0.02),
        ("9 B-ALL late relapse share (fitted)", "50 % ±10", "Rheingold 2024", late, 0.50, 0.10),
        ("9 T-ALL early relapse share (fitted)", "65 % ±10", "Rheingold 2024", early_t, 0.65, 0.10),
        ("9 5-yr OS after early B-ALL relapse (input)", "25.8 % ±8", "Rheingold 2024",
         mo["post_relapse_early"], 0.258, 0.08),
        ("9 5-yr OS after intermediate B-ALL relapse (input)", "49.5 % ±8", "Rheingold 2024",
         mo["post_relapse_intermediate"], 0.495, 0.08),
        ("9 5-yr OS after late B-ALL relapse (input)", "66.4 % ±8", "Rheingold 2024",
         mo["post_relapse_late"], 0.664, 0.08),
        ("10 5-yr OS 15-19 y (aya preset)", "74 % ±6", "Sasaki 2021 (SEER)", mo["os_15_19"],
         0.74, 0.06),
        ("10 5-yr OS 20-39 y (fitted)", "59 % ±6", "Sasaki 2021 (SEER)",
         os5(a, 20, 40), 0.59, 0.06),
        ("10 5-yr OS 40-59 y (fitted)", "43 % ±6", "Sasaki 2021 (SEER)",
         os5(a, 40, 60), 0.43, 0.06),
        ("10 5-yr OS ≥60 y (older_adult preset)", "<30 %", "Sasaki 2021 (SEER)", mo["os_60"],
         0.15, 0.15),
        ("11 3-yr EFS 18-39 y", "59 % ±6", "Stock Blood 2019 (CALGB 10403)",
         km3(a, "efs", 18, 40), 0.59, 0.06),
        ("11 3-yr OS 18-39 y", "73 % ±6", "Stock 2019", km3(a, "os", 18, 40), 0.73, 0.06),
        ("11 E1910 3-yr OS, blinatumomab (MRD-negative)", "85 % ±6", "Litzow NEJM 2024",
         eb["os"], 0.85, 0.06),
        ("11 E1910 3-yr OS, chemotherapy (MRD-negative)", "68 % ±6", "Litzow 2024", ec["os"],
         0.68, 0.06),
        ("12 TOWER CR/CRh/CRi, blinatumomab", "44 % ±7", "Kantarjian NEJM 2017",
         tb["response_rate"], 0.44, 0.07),
        ("12 TOWER CR/CRh/CRi, chemotherapy (fitted)", "25 % ±7", "Kantarjian 2017",
         tc["response_rate"], 0.25, 0.07),
        ("12 TOWER median OS, blinatumomab (months)", "7.7 ±1.5", "Kantarjian 2017",
         tb["median_os_months"], 7.7, 1.5),
        ("12 TOWER median OS, chemotherapy (months, fitted)", "4.0 ±1.5", "Kantarjian 2017",
         tc["median_os_months"], 4.0, 1.5),
        ("12 ELIANA ORR (fitted)", "81 % ±8", "Maude NEJM 2018", el["response_rate"], 0.81,
         0.08),
        ("12 ELIANA 12-mo RFS of responders (fitted)", "59 % ±8", "Maude 2018",
         el["rfs_12m_responders"], 0.59, 0.08),
        ("12 ELIANA 3-yr EFS", "44 % ±8", "Laetsch JCO 2023", el["efs"]["36m"], 0.44, 0.08),
        ("12 ELIANA 3-yr OS", "63 % ±8", "Laetsch JCO 2023", el["os"]["36m"], 0.63, 0.08),
        ("BLAST complete MRD response (fitted)", "78 % ±5", "Gökbuget Blood 2018",
         im["blast_mrd"]["response_rate"], 0.78, 0.05),
        ("r/r children, blinatumomab CR (fitted)", "39 % ±7", "von Stackelberg JCO 2016",
         im["blinatumomab_pediatric_rr"]["response_rate"], 0.39, 0.07),
    ]
    lines = [
        "# Simulator validation (models.md §10)",
        "",
        f"Generated by `scripts/sim_validation_report.py` with {n} children and "
        f"{max(n // 3, 1000)} adults, seed {seed}. Parameter set and intensities are toy "
        "values, some fitted by `scripts/sim_calibrate.py` (see parameters.yaml evidence grades "
        "and `fitted` entries); rows marked fitted were calibration targets, rows marked input "
        "are parameters of the model (a check of the machinery), the others validate. Target 9 "
        f"after relapse: {n} children followed 10 years; 15-19 y: `aya` preset (15-39 y, adult "
        f"parameter values, {max(n // 3, 1000)} patients); ≥60 y: `older_adult` preset "
        f"(60-80 y, {max(n // 4, 1000)} patients); target 7: the Jost chain of the typical child "
        "and of 1000 children, induction nadir of 4000 children. Immunotherapy rows "
        "(E1910, TOWER, ELIANA, BLAST; "
        f"{n_imm} virtual patients per preset, docs/simulator/immunotherapy.md): rows marked "
        "fitted are calibration targets of `scripts/sim_calibrate_immuno.py`, the others "
        "validate the fitted model.",
        "",
        "| Target | Published | Source | Simulated | Pass |",
        "|---|---|---|---|---|",
    ]
    for name, pub, src, val, tgt, tol in rows:
        if np.isnan(val):
            lines.append(f"| {name} | {pub} | {src} | not modelled | n/a |")
            continue
        ok = abs(val - tgt) <= tol
        lines.append(f"| {name} | {pub} | {src} | {val:.3f} | {'pass' if ok else 'FAIL'} |")
    out = Path(__file__).resolve().parents[1] / "docs" / "simulator" / "validation.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
