"""Validation targets of models.md §10 on simulated cohorts (16,000 children, 6,000 adults).

Targets the model cannot meet yet are marked strict xfail with the value measured at seed 2025.
More targets (maintenance dose response, survival after relapse, 15-19 y and >= 60 y) are in
``test_validation_targets_extra.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from allpath.sim import load_config, simulate_cohort
from allpath.sim.cohort import summarise_table
from allpath.sim.immuno import e1910_summary, randomisation_day

Cols = dict[str, np.ndarray[Any, Any]]


def test_schrappe2012_childhood_cr_rate(pediatric_summary: dict[str, Any]) -> None:
    """Schrappe, NEJM 2012: childhood CR 97.6 % (induction failure 2.4 %), tolerance ±1 pp."""
    assert abs(pediatric_summary["cr_rate"] - 0.976) <= 0.01


def test_rowe2005_adult_cr_rate(adult: Cols) -> None:
    """Rowe, Blood 2005: adult (≤60 y) CR 91 %, tolerance ±3 pp."""
    assert abs(adult["cr"].mean() - 0.91) <= 0.03


def test_manabe2008_day8_blood_blast_classes(pediatric: Cols) -> None:
    """TCCSG L99-15 (Manabe, Haematologica 2008): day-8 PB blasts 0/µL 33 %, ≥1000/µL 15 %."""
    pb = pediatric["pb_blasts_d8_per_uL"]
    assert abs(np.mean(pb == 0) - 0.33) <= 0.05
    assert abs(np.mean(pb >= 1000) - 0.15) <= 0.05


def test_zhou2007_dfci_eoi_mrd_below_1e4_fraction(pediatric_summary: dict[str, Any]) -> None:
    """DFCI (Zhou, Blood 2007): 62 % MRD-undetectable at end of induction, tolerance ±5 pp.

    Compared with the flow-measured fraction below 1e-4.
    """
    assert abs(pediatric_summary["eoi_mrd"]["below_1e-4"] - 0.62) <= 0.05


def test_st_jude_diagnosis_count_medians(pediatric_summary: dict[str, Any]) -> None:
    """St Jude, 2209 children: median WBC 12.1, Hb 7.8 g/dL, PLT 53; tolerance ±15 %."""
    c = pediatric_summary["diagnosis_counts"]
    assert abs(c["wbc"] / 12.1 - 1) <= 0.15
    assert abs(c["hemoglobin"] / 7.8 - 1) <= 0.15
    assert abs(c["platelets"] / 53 - 1) <= 0.15


def test_st_jude_diagnosis_count_fractions(pediatric: Cols) -> None:
    """St Jude: Hb < 8 in 52 %, PLT < 50 in 48 %, WBC ≥ 100 in 14 %; tolerance ±7 pp."""
    assert abs(np.mean(pediatric["hemoglobin_dx"] < 8) - 0.52) <= 0.07
    assert abs(np.mean(pediatric["platelets_dx"] < 50) - 0.48) <= 0.07
    assert abs(np.mean(pediatric["wbc_dx"] >= 100) - 0.14) <= 0.07


def test_gebhard2023_median_maintenance_anc(pediatric: Cols) -> None:
    """Gebhard 2023 (NOPHO): median on-therapy ANC ≈ 1.6 G/L; tolerance ±0.3 G/L."""
    ok = pediatric["cr"] == 1
    assert abs(np.median(pediatric["anc_maintenance_mean"][ok]) - 1.6) <= 0.3


def test_hunger2012_childhood_5y_os(pediatric_summary: dict[str, Any]) -> None:
    """Hunger, JCO 2012 (COG 2000-05): 5-yr OS 90.4 %, tolerance ±2 pp."""
    assert abs(pediatric_summary["os_5y"] - 0.904) <= 0.02


def test_rheingold2024_relapse_incidence(pediatric_summary: dict[str, Any]) -> None:
    """Rheingold, Leukemia 2024 (COG 1996-2014): 12.7 % relapsed; tolerance ±2 pp."""
    assert abs(pediatric_summary["relapse_rate"] - 0.127) <= 0.02


def test_rheingold2024_b_all_late_relapse_share(pediatric: Cols) -> None:
    """Rheingold 2024: about 50 % of B-ALL relapses are late (≥36 months); tolerance ±10 pp."""
    rel = (pediatric["relapse"] == 1) & (pediatric["subtype"] == "B-ALL")
    months = pediatric["relapse_day"][rel] / (365.25 / 12)
    assert abs(np.mean(months >= 36) - 0.50) <= 0.10


@pytest.mark.slow
def test_sasaki2021_adult_5y_survival_20_to_39(adult: Cols) -> None:
    """SEER (Sasaki, Am J Hematol 2021): 5-yr survival 59 % at 20-39 y; tolerance ±6 pp.

    A calibration target (scripts/sim_calibrate.py stage C, with 40-59 y)."""
    sel = (adult["age"] >= 20) & (adult["age"] < 40)
    died5 = (adult["death"][sel] == 1) & (adult["death_day"][sel] <= 5 * 365.25)
    assert abs(1 - died5.mean() - 0.59) <= 0.06


def _efs5_ok(c: Cols, sel: np.ndarray[Any, Any]) -> float:
    return float(np.mean(~((c["efs_event"][sel] == 1) & (c["efs_day"][sel] <= 5 * 365.25))))


def _aieop(c: Cols) -> dict[str, Any]:
    sel = (c["subtype"] == "B-ALL") & (c["cr"] == 1)
    eoi, d78 = c["mrd_eoi_pcr"], c["mrd_d78_pcr"]
    sr = sel & (eoi == 0) & (d78 == 0)
    hr = sel & (d78 >= 1e-3)
    ir = sel & ~sr & ~hr
    return {"sel": sel, "sr": sr, "ir": ir, "hr": hr}


def test_conter2010_aieop_bfm_mrd_risk_fractions(pediatric: Cols) -> None:
    """AIEOP-BFM 2000 (Conter, Blood 2010), PCR MRD of B-ALL in CR: SR (negative day 29 and
    day 78) 42 %, IR 52 % (±5 pp), HR (≥1e-3 at day 78) 6 % (±2 pp)."""
    g = _aieop(pediatric)
    n = g["sel"].sum()
    assert abs(g["sr"].sum() / n - 0.42) <= 0.05
    assert abs(g["ir"].sum() / n - 0.52) <= 0.05
    assert abs(g["hr"].sum() / n - 0.06) <= 0.02


@pytest.mark.xfail(
    strict=True,
    reason="measured 5-yr EFS SR 0.960, IR 0.864, HR 0.475 (v0.3, seed 2025; v0.2: 0.936, "
    "0.890, 0.230); target 92.3 / 77.6 / 50.1 % ± 4: IR relapses too rarely. AIEOP-BFM 2000's "
    "groups imply ~17 % events in B-ALL in CR, more than the 12.7 % COG relapse incidence "
    "(target 9) leaves room for. Unchanged by relapse therapy (0.4.0: IR 0.857 over 3 seeds); "
    "over s_post value, IIV and correlation the IR EFS stays >= 0.854 wherever the relapse "
    "incidence is in tolerance (benchmarks/salvage_identifiability.py mrd)",
)
def test_conter2010_aieop_bfm_efs_by_mrd_group(pediatric: Cols) -> None:
    """Conter 2010: 5-yr EFS 92.3 % (SR), 77.6 % (IR), 50.1 % (HR); tolerance ±4 pp."""
    g = _aieop(pediatric)
    assert abs(_efs5_ok(pediatric, g["sr"]) - 0.923) <= 0.04
    assert abs(_efs5_ok(pediatric, g["ir"]) - 0.776) <= 0.04
    assert abs(_efs5_ok(pediatric, g["hr"]) - 0.501) <= 0.04


def test_zhou2007_relapse_by_eoi_mrd_low_groups(pediatric: Cols) -> None:
    """DFCI (Zhou 2007), PCR MRD at end of induction, patients in CR: 5-yr relapse 5 % when
    undetectable and 12 % when < 1e-3; tolerance ±5 pp."""
    cr = pediatric["cr"] == 1
    m, r = pediatric["mrd_eoi_pcr"][cr], pediatric["relapse"][cr] == 1
    assert abs(r[m == 0].mean() - 0.05) <= 0.05
    assert abs(r[(m > 0) & (m < 1e-3)].mean() - 0.12) <= 0.05


@pytest.mark.xfail(
    strict=True,
    reason="measured 5-yr relapse 0.348 with EOI MRD ≥1e-3 (v0.3, seed 2025; v0.2: 0.277); "
    "target 0.72 ± 0.10. With 17 % of children in CR at ≥1e-3, 72 % relapse there alone would "
    "be 12 % of the cohort, leaving almost nothing for the other groups under the 12.7 % COG "
    "incidence (DFCI's own cohort relapsed ~20 %). Unchanged by relapse therapy (0.4.0); over "
    "s_post value, IIV omega 0.2-0.6 and correlation 0.5-0.95 it reaches at most 0.533 with "
    "the incidence in tolerance (benchmarks/salvage_identifiability.py mrd)",
)
def test_zhou2007_relapse_with_eoi_mrd_at_least_1e3(pediatric: Cols) -> None:
    """DFCI (Zhou 2007): 72 % of patients with end-of-induction MRD ≥ 1e-3 relapse; ±10 pp."""
    cr = pediatric["cr"] == 1
    m, r = pediatric["mrd_eoi_pcr"][cr], pediatric["relapse"][cr] == 1
    assert abs(r[m >= 1e-3].mean() - 0.72) <= 0.10


def test_rheingold2024_t_all_early_relapse_share(pediatric: Cols) -> None:
    """Rheingold 2024: 64.8 % of T-ALL relapses are early (< 18 months); tolerance ±10 pp."""
    rel = (pediatric["relapse"] == 1) & (pediatric["subtype"] == "T-ALL")
    months = pediatric["relapse_day"][rel] / (365.25 / 12)
    assert abs(np.mean(months < 18) - 0.65) <= 0.10


def test_sasaki2021_seer_5y_os_0_to_14(pediatric: Cols) -> None:
    """SEER (Sasaki 2021): 5-yr survival 93 % at 0-14 y since 2010; tolerance ±2 pp."""
    sel = pediatric["age"] < 15
    died = (pediatric["death"][sel] == 1) & (pediatric["death_day"][sel] <= 5 * 365.25)
    assert abs(1 - died.mean() - 0.93) <= 0.02


def test_sasaki2021_adult_5y_survival_40_to_59(adult: Cols) -> None:
    """SEER (Sasaki 2021): 5-yr survival 43 % at 40-59 y; tolerance ±6 pp.

    A calibration target: the adult post-induction sensitivity and its age slope are fitted
    to this band and 20-39 y (scripts/sim_calibrate.py stage C)."""
    sel = (adult["age"] >= 40) & (adult["age"] < 60)
    died5 = (adult["death"][sel] == 1) & (adult["death_day"][sel] <= 5 * 365.25)
    assert abs(1 - died5.mean() - 0.43) <= 0.06


def test_stock2019_calgb10403_aya_3y_efs_and_os(adult: Cols) -> None:
    """CALGB 10403 (Stock, Blood 2019), 17-39 y: 3-yr EFS 59 %, OS 73 %; tolerance ±6 pp.

    Adults 18-39 of the adult preset (pediatric-inspired protocol, as in CALGB 10403).
    """
    sel = adult["age"] < 40
    efs = 1 - np.mean((adult["efs_event"][sel] == 1) & (adult["efs_day"][sel] <= 3 * 365.25))
    os_ = 1 - np.mean((adult["death"][sel] == 1) & (adult["death_day"][sel] <= 3 * 365.25))
    assert abs(efs - 0.59) <= 0.06
    assert abs(os_ - 0.73) <= 0.06


# --- immunotherapy (allpath.sim.immuno): targets 11 (E1910) and 12 (TOWER, ELIANA), BLAST ---
# Cohorts of 6,000 per arm (binomial SE of a 44 % rate 0.6 pp), seed 2025. Some targets are
# calibration targets of scripts/sim_calibrate_immuno.py (the docstrings say which); the others
# validate the fitted model.

IMMUNO_N = 6_000


def _preset(preset: str) -> Cols:
    table = simulate_cohort(preset, n=IMMUNO_N, seed=2025, chunk_size=8192)
    assert not isinstance(table, Path)
    return {k: table.column(k).to_numpy(zero_copy_only=False) for k in table.column_names}


@pytest.fixture(scope="module")
def tower() -> dict[str, dict[str, Any]]:
    """Summaries of the TOWER arms (same virtual patients in both)."""
    return {arm: summarise_table(_preset(f"tower_{arm}")) for arm in ("blinatumomab",
                                                                        "chemotherapy")}


@pytest.fixture(scope="module")
def eliana() -> dict[str, Any]:
    """Summary of the ELIANA cohort (one tisagenlecleucel infusion)."""
    return summarise_table(_preset("eliana_cart"))


@pytest.fixture(scope="module")
def e1910() -> dict[str, dict[str, float]]:
    """E1910 figures of the frontline cohort with and without blinatumomab cycles."""
    out = {}
    for arm in ("blinatumomab", "chemotherapy"):
        cfg = load_config(f"e1910_{arm}")
        assert cfg.immuno is not None and cfg.immuno.frontline is not None
        day = randomisation_day(cfg.protocol, cfg.immuno.frontline.randomisation_phase)
        out[arm] = e1910_summary(_preset(f"e1910_{arm}"), day)
    return out


@pytest.mark.xfail(
    strict=True,
    reason="measured 3-yr OS 0.903 with blinatumomab (pass) but 0.834 without (target 0.68; "
    "parameter set 0.4.1 with relapse therapy 0.2.0, immunotherapy 0.2.0, seed 2025, n 6000): "
    "MRD-negative adults of the chemotherapy model relapse too rarely. Over the adult "
    "relapse-therapy values the control arm reaches at best 0.756, and only where SEER 20-59 y "
    "fail (benchmarks/salvage_identifiability.py e1910, README 'Identifiability of the misses')",
)
def test_litzow2024_e1910_blinatumomab_3y_os(e1910: dict[str, dict[str, float]]) -> None:
    """E1910 (Litzow, NEJM 2024), MRD-negative 30-70 y in CR, randomised after intensification:
    3-yr OS 85 % with blinatumomab consolidation vs 68 % without; tolerance ±6 pp.

    Validation target (nothing is fitted to it). MRD-negative: end-of-induction flow MRD < 1e-4,
    alive and relapse-free at randomisation (end of consolidation, day 57)."""
    assert abs(e1910["blinatumomab"]["os"] - 0.85) <= 0.06
    assert abs(e1910["chemotherapy"]["os"] - 0.68) <= 0.06


@pytest.mark.xfail(
    strict=True,
    reason="measured CR/CRi 0.863 at 30-70 y (parameter set 0.4.1, seed 2025, n 6000; 0.889 in "
    "0.4.0): with the induction death of >= 60 y (15 %, hyper-CVAD) now taken by age, CR is "
    "0.89 at 30-59 y and 0.78 at 60-69 y. The rest of the gap needs a CR falling with age "
    "below 60 y without moving Rowe's <= 60 y CR (91 %); no cited age gradient of induction "
    "response was found (benchmarks/salvage_identifiability.py e1910)",
)
def test_litzow2024_e1910_cr_cri_30_to_70(e1910: dict[str, dict[str, float]]) -> None:
    """E1910: CR/CRi 81 % at 30-70 y (models.md §10 target 2); tolerance ±4 pp."""
    assert abs(e1910["chemotherapy"]["cr_rate"] - 0.81) <= 0.04


def test_kantarjian2017_tower_cr_rates(tower: dict[str, dict[str, Any]]) -> None:
    """TOWER (Kantarjian, NEJM 2017), adults with r/r Ph- B-ALL: CR/CRh/CRi within 12 weeks
    44 % with blinatumomab vs 25 % with chemotherapy; tolerance ±7 pp.

    The chemotherapy arm is a calibration target (salvage_kill); the blinatumomab arm validates
    the kill fitted to BLAST and the paediatric r/r study."""
    assert abs(tower["blinatumomab"]["response_rate"] - 0.44) <= 0.07
    assert abs(tower["chemotherapy"]["response_rate"] - 0.25) <= 0.07


@pytest.mark.xfail(
    strict=True,
    reason="measured median OS 4.9 months with blinatumomab (target 7.7) and 3.7 with "
    "chemotherapy (fitted; immunotherapy 0.2.0, seed 2025, n 6000). The transplant (24 % in "
    "TOWER, now modelled) cannot lift it (4.7-5.6 over share and transplant-death timing): the "
    "median is set by non-responders dying at the chemotherapy arm's rate; 0.5-0.7 x that rate "
    "in the blinatumomab arm would reach it (benchmarks/salvage_identifiability.py tower)",
)
def test_kantarjian2017_tower_median_os(tower: dict[str, dict[str, Any]]) -> None:
    """TOWER: median OS 7.7 months with blinatumomab vs 4.0 with chemotherapy; ±1.5 months.

    The chemotherapy arm is a calibration target (disease_death_rate); the blinatumomab arm is
    a validation target."""
    assert abs(tower["blinatumomab"]["median_os_months"] - 7.7) <= 1.5
    assert abs(tower["chemotherapy"]["median_os_months"] - 4.0) <= 1.5


def test_maude2018_eliana_orr_and_12m_rfs(eliana: dict[str, Any]) -> None:
    """ELIANA (Maude, NEJM 2018): ORR 81 % (±8 pp) and relapse-free survival of responders 59 %
    at 12 months. Both are calibration targets (car_kill, cd19neg_probability)."""
    assert abs(eliana["response_rate"] - 0.81) <= 0.08
    assert abs(eliana["rfs_12m_responders"] - 0.59) <= 0.08


def test_laetsch2023_eliana_3y_efs_os(eliana: dict[str, Any]) -> None:
    """ELIANA (Laetsch, JCO 2023), ages 3-24: 3-yr EFS 44 %, OS 63 %; tolerance ±8 pp.

    EFS is a validation target; OS is fitted since relapse therapy 0.1.0: relapses after CAR-T
    get the salvage roadmap with the block-1 kill of variant ``after_car_t`` (OS reachable
    0.39-0.75 over it, benchmarks/salvage_identifiability.py eliana)."""
    assert abs(eliana["efs"]["36m"] - 0.44) <= 0.08
    assert abs(eliana["os"]["36m"] - 0.63) <= 0.08


def test_gokbuget2018_blast_complete_mrd_response() -> None:
    """BLAST (Gokbuget, Blood 2018): complete MRD response after one blinatumomab cycle in 78 %
    of adults in haematological CR with MRD >= 1e-3 (models.md §10 secondary check); ±5 pp.

    A calibration target (blin_kill_max is fitted to it), so this checks the fit holds."""
    blast = _preset("blast_mrd")
    assert abs(float(np.mean(blast["response"])) - 0.78) <= 0.05
