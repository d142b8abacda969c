"""Risk-based protocol assignment: the roadmap pack picks each virtual patient's template."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from allpath.roadmap.calendar import plan_phases
from allpath.roadmap.templates import load_templates
from allpath.sim.cohort import load_config, parse_roadmap, simulate_cohort, summarise_table
from allpath.sim.roadmaps import load_phase_kinds, protocol_from_template

SEED = 11


def _cols(table: Any) -> dict[str, np.ndarray[Any, Any]]:
    assert isinstance(table, pa.Table)
    return {k: table.column(k).to_numpy(zero_copy_only=False) for k in table.column_names}


def test_template_phases_become_simulator_phases_with_calendar_lengths() -> None:
    """cog-b-sr: the template's phases in order, lengths from its calendar (maintenance until
    two years from the start of interim maintenance), exposures of the same-kind base phase."""
    base = load_config("pediatric").protocol
    proto = protocol_from_template("cog-b-sr", base)
    assert proto is not None
    dates = plan_phases(load_templates()["cog-b-sr"], load_phase_kinds().reference_start)
    assert [p.name for p in proto.phases] == [d.phase.id for d in dates]
    assert [p.days for p in proto.phases] == [d.length_days for d in dates]
    by_name = {p.name: p for p in base.phases}
    template = load_templates()["cog-b-sr"]
    kinds = load_phase_kinds().kinds
    for ph in proto.phases:  # each template phase takes its kind's base phase exposures
        target = kinds[template.phase(ph.name).kind]
        assert target is not None
        src = by_name[target]
        assert (ph.kill, ph.theta_neutrophils, ph.maintenance) == (
            src.kill, src.theta_neutrophils, src.maintenance)
    im = [p.name for p in proto.phases].index("interim_maintenance")
    assert proto.therapy_days - proto.phase_starts()[im] == 730


def test_template_with_an_unmodelled_phase_kind_is_not_simulated() -> None:
    base = load_config("adult").protocol
    assert protocol_from_template("adult-ph-neg-b-blinatumomab", base) is None


def test_parse_roadmap_names_what_came() -> None:
    assert parse_roadmap("pack") == "pack" and parse_roadmap(None) is None
    with pytest.raises(ValueError, match="roadmap: expected 'pack' or 'none', got 'cog'"):
        parse_roadmap("cog")


@pytest.fixture(scope="module")
def pediatric_by_roadmap() -> dict[str, np.ndarray[Any, Any]]:
    cfg = replace(load_config("pediatric"), roadmap="pack")
    return _cols(simulate_cohort(cfg, n=3000, seed=SEED, chunk_size=1024))


def test_roadmap_pack_assigns_pediatric_templates_by_lineage_ph_age_and_wbc(
        pediatric_by_roadmap: dict[str, np.ndarray[Any, Any]]) -> None:
    """As the pack's worked examples: Ph+ -> ph-pos-paediatric, T -> cog-t-all, B with NCI
    high risk (age >= 10 or WBC >= 50) -> cog-b-hr, other B -> cog-b-sr (provisional SR while
    end-of-induction MRD is pending)."""
    c = pediatric_by_roadmap
    t = c["roadmap_template"]
    assert (t[c["subtype"] == "Ph+ B-ALL"] == "ph-pos-paediatric").all()
    assert (t[c["subtype"] == "T-ALL"] == "cog-t-all").all()
    b = c["subtype"] == "B-ALL"
    high = (c["age"] >= 10) | (c["wbc_dx"] >= 50)
    assert (t[b & high] == "cog-b-hr").all()
    assert (t[b & ~high] == "cog-b-sr").all()
    assert (c["roadmap_simulated"] == 1).all()
    # 29-day induction (day-29 evaluation included) + 28-day consolidation + 2 years from IM1;
    # high-risk and T-ALL: 29 + 56 + 2 years after consolidation; Ph+ children: dasatinib for
    # 2 years from the start of induction (CA180-372)
    sr = t == "cog-b-sr"
    hr_t = (t == "cog-b-hr") | (t == "cog-t-all")
    ph = t == "ph-pos-paediatric"
    assert set(c["therapy_days"][sr]) == {787.0} and set(c["therapy_days"][hr_t]) == {815.0}
    assert set(c["therapy_days"][ph]) == {730.0}


def test_roadmap_cohort_is_the_same_for_any_chunking(
        pediatric_by_roadmap: dict[str, np.ndarray[Any, Any]]) -> None:
    cfg = replace(load_config("pediatric"), roadmap="pack")
    other = _cols(simulate_cohort(cfg, n=3000, seed=SEED, chunk_size=3000))
    for key, col in pediatric_by_roadmap.items():
        assert np.array_equal(col, other[key], equal_nan=col.dtype.kind == "f"), key


def test_adult_templates_with_immunotherapy_stay_on_the_base_protocol_flagged() -> None:
    cfg = replace(load_config("adult"), roadmap="pack")
    c = _cols(simulate_cohort(cfg, n=1500, seed=SEED))
    t = c["roadmap_template"]
    blin = t == "adult-ph-neg-b-blinatumomab"
    assert blin.any() and (c["roadmap_simulated"][blin] == 0).all()
    assert (c["roadmap_simulated"][t == "calgb-10403"] == 1).all()
    summary = summarise_table(c)
    assert summary["roadmap"]["simulated_share"] == pytest.approx(
        float(np.mean(c["roadmap_simulated"] == 1)))


def test_cohort_yaml_roadmap_key(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("preset: pediatric\nroadmap: pack\ncheckpoints: pack\n")
    cfg = load_config(path=path)
    assert cfg.roadmap == "pack"
    c = _cols(simulate_cohort(cfg, n=500, seed=SEED))
    assert "roadmap_template" in c and "response_eoi" in c


def test_documented_closed_loop_config_runs_every_pack() -> None:
    """docs/simulator/closed-loop.yaml turns every pathway decision on."""
    path = Path(__file__).parents[2] / "docs" / "simulator" / "closed-loop.yaml"
    cfg = load_config(path=path)
    assert (cfg.roadmap, cfg.intensification) == ("pack", "pack")
    assert cfg.checkpoints is not None and cfg.titration is not None
    assert cfg.titration.anc_noise
    summary = summarise_table(_cols(simulate_cohort(cfg, n=600, seed=SEED)))
    assert {"roadmap", "checkpoints", "maintenance"} <= set(summary)
