"""Relapse therapy (:mod:`allpath.sim.salvage`): the packs' salvage roadmap on the marrow model.

Unit checks of the closed forms and the pack hook, chunk invariance, the switch back to the
timing-class draw, and validation against post-relapse outcomes that were not fitted
(AALL0433, Lew 2021; GMALL, Gokbuget 2012). Cohorts: the session fixtures of ``conftest.py``
(seed 2025).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import integrate

from allpath.sim import simulate_cohort
from allpath.sim.cohort import load_config
from allpath.sim.params import load_parameters
from allpath.sim.salvage import (
    RISK,
    _death_time,
    _pack_risk,
    load_relapse_therapy,
    split_uniform,
)
from allpath.sim.validation import aall0433_relapse, gmall_relapse

Cols = dict[str, np.ndarray[Any, Any]]
YEAR = 365.25
MONTH = YEAR / 12


def _table(cfg: Any, n: int, seed: int, chunk: int) -> Cols:
    t = simulate_cohort(cfg, n=n, seed=seed, chunk_size=chunk)
    assert not isinstance(t, Path)
    return {k: t.column(k).to_numpy(zero_copy_only=False) for k in t.column_names}


def test_split_uniform_gives_independent_uniform_parts() -> None:
    u = np.random.default_rng(7).random(200_000)
    parts = split_uniform(u)
    assert len(parts) == 3
    for v in parts:
        assert v.min() > 0.0 and v.max() < 1.0
        assert abs(v.mean() - 0.5) < 0.005
        assert abs(v.var() - 1 / 12) < 0.002
    c = np.corrcoef(np.stack(parts))
    assert np.all(np.abs(c[np.triu_indices(3, 1)]) < 0.01)


def test_death_time_inverts_the_cumulative_hazard_of_a_growing_burden() -> None:
    """Hazard h x/(1 + x), x = x0 e^{rt}: the closed form's time has cumulative hazard e."""
    x0 = np.array([0.05, 0.5, 4.0])
    r, h = np.array([0.05, 0.02, 0.08]), 0.0015
    e = np.array([0.1, 1.0, 3.0])
    t = _death_time(x0, r, h, e)
    for x, rate, ti, ei in zip(x0, r, t, e, strict=True):
        def hazard(s: float, x: float = x, rate: float = rate) -> float:
            return float(h * x * np.exp(rate * s) / (1 + x * np.exp(rate * s)))

        val, _ = integrate.quad(hazard, 0.0, ti)
        assert val == pytest.approx(ei, rel=1e-6)


def test_relapse_pack_risk_groups_the_transplant_decision_reads() -> None:
    """relapse.risk.cog from the relapse pack: early marrow relapse and T lineage high, late
    with end-of-block-1 MRD >= 0.1 % intermediate, < 0.1 % low."""
    months = np.array([12.0, 48.0, 48.0, 48.0])
    risk = _pack_risk(b0=np.full(4, 0.8), mrd=np.array([1e-4, 1e-4, 5e-3, 1e-4]),
                      t0=months * MONTH, therapy_end=850.0,
                      lineage_t=np.array([False, False, False, True]), days_per_month=MONTH)
    assert [RISK[k] for k in risk] == ["high", "low", "intermediate", "high"]
    assert load_relapse_therapy().hsct_risk_groups == ("high", "intermediate")


def test_salvage_course_does_not_depend_on_the_chunk() -> None:
    cfg = replace(load_config("pediatric"), horizon_days=3654)
    a = _table(cfg, 3000, 5, 3000)
    b = _table(cfg, 3000, 5, 700)
    for key in ("death_day", "cr2", "mrd_block1", "hsct_cr2", "relapse2_day"):
        np.testing.assert_array_equal(a[key], b[key])
    assert np.nansum(a["cr2"]) > 50  # relapses were treated


def test_relapse_therapy_zero_draws_death_from_the_timing_class() -> None:
    """relapse_therapy 0 is the v0.3 behaviour: no salvage columns, death after relapse at the
    constant hazard of the timing class's 5-yr OS."""
    ps = load_parameters()
    par = ps["relapse_therapy"]
    off = replace(ps, parameters={**ps.parameters, "relapse_therapy": replace(
        par, value=0.0, populations={})})
    c = _table(load_config("pediatric", parameters=off), 3000, 5, 3000)
    assert "cr2" not in c
    on = _table(load_config("pediatric"), 3000, 5, 3000)
    assert np.nansum(on["cr2"]) > 0
    # the frontline course up to the relapse is the same
    np.testing.assert_array_equal(c["relapse_day"], on["relapse_day"])


def test_early_relapses_reach_cr2_less_often_than_late_ones(pediatric_long: Cols) -> None:
    """Emergent, not put in: early relapses grow out of chemo-resistant subclones (rho < 1),
    so block 1 brings fewer of them into CR2; in CR2 the relapse pack sends every early one to
    transplant (high risk) and only the MRD-positive late ones (intermediate)."""
    c = pediatric_long
    rel = (c["relapse"] == 1) & (c["subtype"] == "B-ALL")
    months = c["relapse_day"] / MONTH
    early, late = rel & (months < 18), rel & (months >= 36)
    assert np.mean(c["cr2"][early]) + 0.1 < np.mean(c["cr2"][late])
    cr2 = c["cr2"] == 1
    assert np.mean(c["hsct_cr2"][early & cr2]) > np.mean(c["hsct_cr2"][late & cr2])


def _aall0433(c: Cols) -> dict[str, float]:
    """Late (>= 36 mo) B-ALL marrow relapses followed 3 years: OS overall and by end-of-block-1
    MRD (< 0.1 % in CR2 / the rest), as the validation report measures it."""
    return aall0433_relapse(c)


def test_lew2021_aall0433_3y_os_with_block1_mrd_below_0_1_percent(pediatric_long: Cols) -> None:
    """AALL0433 (Lew 2021): 3-yr OS 93.8 % after late marrow B-ALL relapse with MRD < 0.1 % at
    the end of induction-1; tolerance ±8 pp (as for the Rheingold rows). Validation: only the
    MRD split (about 32 %, computed from the trial's EFS by MRD) was fitted."""
    v = _aall0433(pediatric_long)
    assert v["n"] >= 500
    assert abs(v["lo"] - 0.938) <= 0.08
    assert abs(v["lo_share"] - 0.32) <= 0.08


@pytest.mark.xfail(
    strict=True,
    reason="measured 3-yr OS 0.821 overall (target 0.723 ± 0.08) and 0.745 with block-1 MRD >= "
    "0.1 % or no CR2 (target 0.606 ± 0.08) (relapse_therapy 0.2.0, seed 2025, 16000 children "
    "followed 10 years; 0.1.0 without the donor rule: 0.806 / 0.718). Transplanting only the "
    "43.7 % with a matched sibling donor (as AALL0433 did) moves both rows away: in the model "
    "the intermediate-risk patients left to continuation chemotherapy survive 3 years more "
    "often than transplanted ones (benchmarks/salvage_identifiability.py donor)",
)
def test_lew2021_aall0433_3y_os_overall_and_mrd_positive(pediatric_long: Cols) -> None:
    """AALL0433 (Lew 2021): 3-yr OS 72.3 % overall, 60.6 % with MRD >= 0.1 %; ±8 pp."""
    v = _aall0433(pediatric_long)
    assert abs(v["all"] - 0.723) <= 0.08
    assert abs(v["hi"] - 0.606) <= 0.08


def test_lew2021_aall0433_intermediate_risk_transplanted_only_with_a_sibling_donor(
        pediatric_long: Cols) -> None:
    """AALL0433 (Lew 2021) transplanted intermediate-risk late relapses (block-1 MRD >= 0.1 %)
    only with a matched sibling donor, available to 304 of 695 patients at HLA typing (EBMT
    registration study 2013): about 44 % of them reach transplant (fewer where a second
    relapse or death comes first); high-risk relapses in CR2 (any donor) far more often."""
    c = pediatric_long
    in_cr2 = (c["relapse"] == 1) & (c["cr2"] == 1)
    inter = in_cr2 & (c["relapse_risk_cog"] == RISK.index("intermediate"))
    high = in_cr2 & (c["relapse_risk_cog"] == RISK.index("high"))
    assert inter.sum() >= 100 and high.sum() >= 100
    share_inter = float(np.mean(c["hsct_cr2"][inter] == 1))
    assert 0.30 <= share_inter <= 304 / 695 + 0.04
    assert float(np.mean(c["hsct_cr2"][high] == 1)) >= share_inter + 0.2


def test_donor_probability_zero_sends_no_intermediate_risk_relapse_to_transplant() -> None:
    """With donor_probability_intermediate 0 the children's intermediate group gets
    continuation chemotherapy only; the high group keeps its transplants."""
    import allpath.sim.salvage as salvage

    base = load_relapse_therapy()
    rt = replace(base, variants={k: replace(v, values={**v.values,
                                                        "donor_probability_intermediate": 0.0})
                                 for k, v in base.variants.items()})
    original = salvage.load_relapse_therapy
    salvage.load_relapse_therapy = lambda: rt  # type: ignore[assignment]
    try:
        c = _table(replace(load_config("pediatric"), horizon_days=3654), 6000, 11, 4096)
    finally:
        salvage.load_relapse_therapy = original
    in_cr2 = (c["relapse"] == 1) & (c["cr2"] == 1)
    inter = in_cr2 & (c["relapse_risk_cog"] == RISK.index("intermediate"))
    high = in_cr2 & (c["relapse_risk_cog"] == RISK.index("high"))
    assert inter.sum() >= 20
    assert not (c["hsct_cr2"][inter] == 1).any()
    assert (c["hsct_cr2"][high] == 1).mean() >= 0.6


def _gmall(c: Cols) -> dict[str, float]:
    """Adults in first relapse (Ph-negative), followed 3 years, as the validation report
    measures it (Kaplan-Meier OS and median)."""
    return gmall_relapse(c)


def test_gokbuget2012_gmall_adult_cr_after_first_salvage_and_3y_os(adult: Cols) -> None:
    """GMALL (Gokbuget 2012): CR after the first salvage 42 % (±10 pp, 224 patients) and 3-yr
    OS after relapse 24 % (±8 pp)."""
    v = _gmall(adult)
    assert v["n"] >= 300
    assert abs(v["cr2"] - 0.42) <= 0.10
    assert abs(v["os3"] - 0.24) <= 0.08


@pytest.mark.xfail(
    strict=True,
    reason="measured median OS 3.5 months after an adult relapse (target 8.4 ± 1.5; relapse_"
    "therapy 0.1.0, seed 2025): active disease kills at the TOWER-fitted rate, fitted to a "
    "heavily pretreated cohort (58 % prior salvage, 35 % prior transplant) with no further "
    "line; GMALL's first relapses got second salvage (CR 33 %) and transplant in 75 %",
)
def test_gokbuget2012_gmall_adult_median_os_after_relapse(adult: Cols) -> None:
    """GMALL (Gokbuget 2012): median OS 8.4 months after first relapse; ±1.5 months."""
    assert abs(_gmall(adult)["median_months"] - 8.4) <= 1.5


def test_validation_target_list_is_declarative_with_roles_and_sources() -> None:
    """knowledge/sim/validation_targets.yaml: unique ids, a role, a source and a positive
    tolerance per row, and every metric is one the report script computes (the metrics live in
    allpath.sim.validation, which the tests and the report share)."""
    from allpath.sim.validation import METRIC_COHORT, ROLES, load_targets

    targets = load_targets()
    assert len(targets) >= 60
    assert len({t.id for t in targets}) == len(targets)
    assert {t.role for t in targets} <= set(ROLES)
    assert all(t.source and t.tolerance > 0 for t in targets)
    script = (Path(__file__).resolve().parents[2] / "scripts" / "sim_validation_report.py"
              ).read_text(encoding="utf-8")
    assert "METRIC_COHORT" in script
    assert [t.metric for t in targets if t.metric not in METRIC_COHORT] == []


def test_surveillance_interval_now_changes_survival_after_relapse() -> None:
    """With relapse therapy simulated, a later detection means a bigger relapse at block 1:
    visits every 26 instead of 4 weeks after therapy (relapse pack, same virtual patients)
    find off-therapy relapses at a higher marrow blast share, with fewer CR2 and more deaths
    (v0.3 drew survival from the timing class, so the interval changed detection only)."""
    from allpath.sim.checkpoints import CheckpointPolicy

    base = replace(load_config("pediatric"), horizon_days=3654)
    out = {}
    for weeks in (4.0, 26.0):
        c = _table(replace(base, checkpoints=CheckpointPolicy(weeks_off_therapy=weeks)),
                   8000, 3, 4096)
        rel = (c["relapse"] == 1) & (c["relapse_day"] > base.protocol.therapy_days)
        out[weeks] = (float(np.nanmedian(c["relapse_blasts_entry"][rel])),
                      float(np.nanmean(c["cr2"][rel])), float(np.mean(c["death"][rel] == 1)))
    assert out[26.0][0] > 1.5 * out[4.0][0]
    assert out[26.0][1] < out[4.0][1]
    assert out[26.0][2] > out[4.0][2] + 0.01


def test_relapse_therapy_file_errors_name_the_field() -> None:
    """A wrong risk group or kill source in relapse_therapy.yaml is a KnowledgeError that names
    the field, what was expected and what came."""
    import copy

    from allpath.errors import KnowledgeError
    from allpath.sim.params import knowledge_path, read_yaml
    from allpath.sim.salvage import parse_relapse_therapy

    raw = read_yaml(knowledge_path("relapse_therapy.yaml"))
    assert parse_relapse_therapy(copy.deepcopy(raw)).hsct_risk_groups == ("high",
                                                                          "intermediate")
    bad = copy.deepcopy(raw)
    bad["hsct"]["risk_groups"] = ["high", "very_high"]
    bad["variants"]["children"]["reinduction_kill"] = "blocks"
    with pytest.raises(KnowledgeError) as err:
        parse_relapse_therapy(bad)
    text = str(err.value)
    assert "hsct.risk_groups" in text and "very_high" in text
    assert "variants.children.reinduction_kill" in text and "blocks" in text
