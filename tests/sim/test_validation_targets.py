"""Validation targets of models.md §10 on simulated cohorts (16,000 children, 6,000 adults).

Targets the model cannot meet yet are marked xfail with the value measured at seed 2025.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

Cols = dict[str, np.ndarray[Any, Any]]


def test_schrappe2012_childhood_cr_rate(pediatric_summary: dict[str, Any]) -> None:
    """Schrappe, NEJM 2012: childhood CR 97.6 % (induction failure 2.4 %), tolerance ±1 pp."""
    assert abs(pediatric_summary["cr_rate"] - 0.976) <= 0.01


def test_rowe2005_adult_cr_rate(adult: Cols) -> None:
    """Rowe, Blood 2005: adult (≤60 y) CR 91 %, tolerance ±3 pp."""
    assert abs(adult["cr"].mean() - 0.91) <= 0.03


@pytest.mark.xfail(
    strict=False,
    reason="measured 0/µL ~18 %, ≥1000/µL ~7 % (seed 2025); target 33 % and 15 %",
)
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


@pytest.mark.xfail(
    strict=False,
    reason="measured 5-yr OS 0.897 at seed 2025, target 0.904 ± 0.02 (borderline)",
)
def test_hunger2012_childhood_5y_os(pediatric_summary: dict[str, Any]) -> None:
    """Hunger, JCO 2012 (COG 2000-05): 5-yr OS 90.4 %, tolerance ±2 pp."""
    assert abs(pediatric_summary["os_5y"] - 0.904) <= 0.02


def test_rheingold2024_relapse_incidence(pediatric_summary: dict[str, Any]) -> None:
    """Rheingold, Leukemia 2024 (COG 1996-2014): 12.7 % relapsed; tolerance ±2 pp."""
    assert abs(pediatric_summary["relapse_rate"] - 0.127) <= 0.02


@pytest.mark.xfail(
    strict=False,
    reason="measured late (≥36 mo) share ~0.22, target 0.50 ± 0.10 (seed 2025)",
)
def test_rheingold2024_b_all_late_relapse_share(pediatric: Cols) -> None:
    """Rheingold 2024: about 50 % of B-ALL relapses are late (≥36 months); tolerance ±10 pp."""
    rel = (pediatric["relapse"] == 1) & (pediatric["subtype"] == "B-ALL")
    months = pediatric["relapse_day"][rel] / (365.25 / 12)
    assert abs(np.mean(months >= 36) - 0.50) <= 0.10


@pytest.mark.slow
@pytest.mark.xfail(
    strict=False,
    reason="measured 5-yr OS 0.742 at 20-39 y, target 0.59 ± 0.06 (toy adults)",
)
def test_sasaki2021_adult_5y_survival_20_to_39(adult: Cols) -> None:
    """SEER (Sasaki, Am J Hematol 2021): 5-yr survival 59 % at 20-39 y; tolerance ±6 pp."""
    sel = (adult["age"] >= 20) & (adult["age"] < 40)
    died5 = (adult["death"][sel] == 1) & (adult["death_day"][sel] <= 5 * 365.25)
    assert abs(1 - died5.mean() - 0.59) <= 0.06
