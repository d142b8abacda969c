"""TPMT and NUDT15 genotypes of virtual patients (CPIC 2018; Yang 2015; CPIC allele frequencies).

Frequencies are checked against the parameter file on 20,000 draws (binomial SE of a 0.4 %
frequency ~0.045 pp, of 17 % ~0.27 pp); effects on the 6-TGN input and the starting dose are
checked exactly on patients that differ only in their NUDT15 uniform.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from allpath.sim.base import patient_randoms
from allpath.sim.closed_loop import ACTIONS, MaintenanceLoop, TitrationConfig
from allpath.sim.cohort import CohortConfig, load_config, simulate_cohort
from allpath.sim.model import PARAMS
from allpath.sim.population import (
    N_NORMAL,
    N_UNIFORM,
    Batch,
    U,
    genotype_frequencies,
    make_batch,
)

N = 20_000
TGN_IN = PARAMS.index("tgn_in")


def _batch(preset: str = "pediatric", ancestry: str | None = None, n: int = N,
           seed: int = 3) -> tuple[CohortConfig, Batch]:
    cfg = load_config(preset)
    pop = cfg.population if ancestry is None else replace(cfg.population, ancestry=ancestry)
    z, u = patient_randoms(seed, 0, n, N_NORMAL, N_UNIFORM)
    return cfg, make_batch(cfg.parameters, pop, cfg.protocol, np.arange(n), z, u)


@pytest.mark.parametrize("ancestry", [None, "european", "hispanic", "east_asian"])
def test_cpic_phenotype_frequencies_by_ancestry(ancestry: str | None) -> None:
    """Drawn TPMT/NUDT15 phenotype frequencies match the parameter file (4 binomial SEs)."""
    cfg, b = _batch(ancestry=ancestry)
    pop = cfg.population if ancestry is None else replace(cfg.population, ancestry=ancestry)
    freq = genotype_frequencies(cfg.parameters, pop)
    for gene, drawn in (("tpmt", b.genotype), ("nudt15", b.nudt15)):
        for code, ph in ((1, "im"), (2, "pm")):
            p = freq[f"{gene}_{ph}"]
            se = max(np.sqrt(p * (1 - p) / N), 1.0 / N)
            assert abs(np.mean(drawn == code) - p) <= 4 * se, (gene, ph)


def test_nudt15_is_common_in_east_asian_ancestry() -> None:
    """St Jude PG4KDS: ~78 % of people of Asian descent are NUDT15 normal metabolisers versus
    >= 99 % of European descent; ~2 % of Asian descent are poor metabolisers."""
    _, eu = _batch()
    _, ea = _batch(ancestry="east_asian")
    assert np.mean(eu.nudt15 == 0) >= 0.99
    assert 0.75 <= np.mean(ea.nudt15 == 0) <= 0.85
    assert 0.005 <= np.mean(ea.nudt15 == 2) <= 0.03


def test_nudt15_scales_the_thioguanine_input_and_the_cpic_start_dose() -> None:
    """Yang 2015 tolerated dose intensities (83.5 / 63 / 8.3 %) as exposure multipliers; CPIC
    start at a fraction of the dose for IM/PM, multiplied for IM in both genes (20-50 %)."""
    cfg = load_config("pediatric")
    ps = cfg.parameters
    z, u = patient_randoms(5, 0, 1, N_NORMAL, N_UNIFORM)
    z, u = np.repeat(z, 4, axis=0), np.repeat(u, 4, axis=0)
    u[:, U["genotype"]] = [0.99, 0.99, 0.99, 0.01]  # TPMT NM, NM, NM, IM
    u[:, U["nudt15"]] = [0.99, 1e-3, 1e-7, 1e-3]  # NUDT15 NM, IM, PM, IM
    b = make_batch(ps, cfg.population, cfg.protocol, np.arange(4), z, u)
    assert b.nudt15.tolist() == [0, 1, 2, 1]
    assert b.genotype.tolist() == [0, 0, 0, 1]
    tgn = b.p[:, TGN_IN]
    assert tgn[1] / tgn[0] == pytest.approx(83.5 / 63, rel=1e-3)
    assert tgn[2] / tgn[0] == pytest.approx(83.5 / 8.3, rel=1e-2)
    assert tgn[3] / tgn[0] == pytest.approx(ps.value("tpmt_im_tgn_multiplier") * 83.5 / 63,
                                            rel=1e-3)
    im, pm = ps.value("cpic_im_dose_fraction"), ps.value("cpic_pm_dose_fraction")
    assert b.dose_fraction.tolist() == pytest.approx([1.0, im, pm, im * im])
    assert 0.2 <= im * im <= 0.5


def test_titration_pack_sees_the_simulated_nudt15_phenotype() -> None:
    """Three weeks after a dose change with ANC above the window, the pack increases 6-MP for a
    normal metaboliser but waits for NUDT15 intermediate and poor metabolisers (steady state
    2-4 / 4-6 weeks, CPIC via the fact sheet)."""
    cfg = load_config("pediatric")
    n = 3
    loop = MaintenanceLoop(TitrationConfig(policy="pack", basis="anc"), cfg.protocol,
                           np.zeros(n, dtype=np.int64), np.full(n, 40.0), 1,
                           nudt15=np.array([0, 1, 2]))
    res = loop.observe(21, np.full(n, 2.5), np.full(n, 4.0), np.full(n, 250.0))
    act = res["titration.action"].field_codes("action", ACTIONS)
    assert act[0] == ACTIONS.index("increase")
    assert act[1] != ACTIONS.index("increase")
    assert act[2] != ACTIONS.index("increase")


def test_cohort_has_a_nudt15_column_and_a_config_ancestry(tmp_path: Path) -> None:
    """``nudt15`` beside ``tpmt`` in the per-patient table; a cohort YAML may set ``ancestry``."""
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("preset: pediatric\nancestry: east_asian\nhorizon_days: 40\n",
                        encoding="utf-8")
    cfg = load_config(path=cfg_file)
    assert cfg.population.ancestry == "east_asian"
    t = simulate_cohort(cfg, n=2000, seed=2)
    assert not isinstance(t, Path)
    names = t.column_names
    assert names.index("nudt15") == names.index("tpmt") + 1
    nudt = np.asarray(t.column("nudt15").to_pylist())
    assert set(nudt) <= {"NM", "IM", "PM"}
    assert 0.12 <= np.mean(nudt == "IM") <= 0.23
    bad = tmp_path / "bad.yaml"
    bad.write_text("preset: pediatric\nancestry: martian\n", encoding="utf-8")
    with pytest.raises(KeyError, match="ancestry"):
        load_config(path=bad)
