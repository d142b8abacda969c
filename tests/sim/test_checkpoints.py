"""Pathway checkpoints in the simulator: the packs call remission and relapse."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from allpath.sim.checkpoints import (
    N_UNIFORM,
    RESPONSE,
    SITES,
    TEMPLATES,
    TIMING,
    CheckpointPolicy,
    detection_day,
    eoi_response,
    parse_checkpoints,
    relapse_call,
)
from allpath.sim.cohort import load_config, simulate_cohort, summarise_table
from allpath.sim.outcomes import DAYS_PER_MONTH

SEED = 7
LN_X_5PCT = float(np.log(0.05 / 0.95))


def _cols(table: Any) -> dict[str, np.ndarray[Any, Any]]:
    assert isinstance(table, pa.Table)
    return {k: table.column(k).to_numpy(zero_copy_only=False) for k in table.column_names}


def _run(policy: CheckpointPolicy | None, n: int = 3000, chunk_size: int = 16_384
         ) -> dict[str, np.ndarray[Any, Any]]:
    cfg = replace(load_config("pediatric"), checkpoints=policy)
    return _cols(simulate_cohort(cfg, n=n, seed=SEED, chunk_size=chunk_size))


def test_parse_checkpoints_accepts_pack_none_and_mappings() -> None:
    assert parse_checkpoints(None) is None
    assert parse_checkpoints("none") is None
    assert parse_checkpoints("pack") == CheckpointPolicy()
    pol = parse_checkpoints({"relapse": "none", "weeks_off_therapy": 12})
    assert pol == CheckpointPolicy(response=True, relapse=False, weeks_off_therapy=12.0)


@pytest.mark.parametrize(("raw", "words"), [
    ("always", "expected 'pack', 'none' or a mapping"),
    ({"respons": "pack"}, "unknown key(s) ['respons']"),
    ({"response": "yes"}, "checkpoints.response: expected 'pack' or 'none', got 'yes'"),
    ({"weeks_on_therapy": -4}, "checkpoints.weeks_on_therapy: expected a positive number"),
    ({"weeks_off_therapy": True}, "checkpoints.weeks_off_therapy: expected a positive number"),
])
def test_parse_checkpoints_names_the_field_and_what_came(raw: Any, words: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_checkpoints(raw)
    assert words in str(err.value)


def test_response_pack_calls_cr_cri_and_refractory_from_observed_values() -> None:
    """Same marrow, different counts: CR with recovered counts, CRi without; 30 % blasts is
    refractory. Counting noise at u = 0.5 is the Poisson median."""
    marrow = np.array([0.01, 0.01, 0.30, 0.0])
    half = np.full(4, 0.5)
    code, marrow_pct, blood_pct = eoi_response(
        marrow, np.full(4, 0.9), np.zeros(4), np.array([1.5, 0.6, 1.5, 1.5]),
        np.array([150.0, 150.0, 150.0, 40.0]), half, half, 500.0, 200.0,
        age=np.full(4, 40.0))  # adults: the count-recovery criterion (CRi) applies
    assert [RESPONSE[c] for c in code] == ["CR", "CRi", "refractory", "CRi"]
    assert marrow_pct[0] == pytest.approx(1.0, abs=0.3)
    assert marrow_pct[2] == pytest.approx(30.0, abs=1.0)
    assert (blood_pct == 0).all()


def test_circulating_blasts_on_the_smear_are_not_remission() -> None:
    code, _, blood_pct = eoi_response(
        np.array([0.01]), np.array([0.9]), np.array([0.05]), np.array([1.5]),
        np.array([150.0]), np.array([0.5]), np.array([0.5]), 500.0, 200.0, age=np.array([6.0]))
    assert blood_pct[0] > 0
    assert RESPONSE[int(code[0])] == "refractory"


def test_detection_day_uses_the_visit_schedule_on_and_after_therapy() -> None:
    t = np.array([400.0, 420.0, 950.0, 1000.0])
    got = detection_day(t, therapy_end=900.0, every_on=28.0, every_off=84.0)
    assert got.tolist() == [420.0, 420.0, 984.0, 1068.0]
    at_once = detection_day(t, therapy_end=900.0, every_on=28.0, every_off=None)
    assert at_once.tolist() == [420.0, 420.0, 950.0, 1000.0]


def test_relapse_pack_classifies_site_timing_and_salvage_template() -> None:
    """On therapy at 14 months (visit day 420) and 3 years after therapy: very early and late
    marrow relapses; B lineage gets the blinatumomab roadmap, T lineage nelarabine to a second
    remission (then transplant)."""
    t = np.array([400.0, 2000.0])
    u = np.full((2, N_UNIFORM - 2), 0.5)
    call = relapse_call(
        t, np.full(2, LN_X_5PCT), np.full(2, 0.05), np.full(2, np.log(10.0)), 900.0, 28.0,
        None, u, 500.0, 1e-4, 20.0, np.array([False, True]), np.array([6.0, 15.0]),
        DAYS_PER_MONTH)
    assert call.day.tolist() == [420.0, 2000.0]
    assert [SITES[s] for s in call.site] == ["marrow", "marrow"]
    assert [TIMING[s] for s in call.timing_cog] == ["very_early", "late"]
    assert [TEMPLATES[s] for s in call.template] == ["rr-blinatumomab", "rr-t-nelarabine"]
    # 20 days of growth at 0.05/day from 5 %: about 12 % blasts on the visit-day marrow
    assert 8.0 < call.marrow_pct[0] < 18.0


def test_an_unconfirmed_marrow_is_repeated_at_the_next_visit() -> None:
    """A relapse found the day it crosses 5 % with a count that falls below 5 % is not yet a
    relapse for the pack; the next visit's marrow confirms it."""
    u = np.full((1, N_UNIFORM - 2), 0.5)
    u[0, 0] = 0.01  # a low count on the first marrow
    call = relapse_call(
        np.array([1200.0]), np.array([LN_X_5PCT]), np.array([0.05]), np.array([np.log(10.0)]),
        900.0, 28.0, None, u, 500.0, 1e-4, 20.0, np.array([False]), np.array([6.0]),
        DAYS_PER_MONTH)
    assert int(call.repeats[0]) == 1
    assert call.day[0] == 1228.0
    assert SITES[int(call.site[0])] == "marrow"


def test_checkpoints_off_adds_no_columns() -> None:
    cols = _run(None, n=500)
    assert "response_eoi" not in cols and "relapse_site" not in cols


def test_checkpoint_run_is_the_same_for_any_chunking() -> None:
    a = _run(CheckpointPolicy(weeks_off_therapy=12), n=1500, chunk_size=1500)
    b = _run(CheckpointPolicy(weeks_off_therapy=12), n=1500, chunk_size=512)
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key], equal_nan=a[key].dtype.kind == "f"), key


def test_pack_calls_agree_with_the_true_burden_on_most_patients() -> None:
    """The response pack's remission and the true-burden remission differ only where counting
    noise crosses the 5 % line; every relapse gets a site, a COG class and a roadmap, and the
    classes are ordered by the months at detection (no threshold is re-typed here)."""
    base = _run(None)
    cols = _run(CheckpointPolicy())
    remission = np.isin(cols["response_eoi"], ["CR", "CRi"])
    assert abs(remission.mean() - base["cr"].mean()) < 0.01
    assert (cols["cr"] == remission).all()
    rel = cols["relapse"] == 1
    assert rel.sum() > 100
    assert set(cols["relapse_site"][rel]) == {"marrow"}
    assert set(cols["relapse_template"][rel]) <= set(TEMPLATES)
    months = cols["relapse_day"][rel] / DAYS_PER_MONTH
    timing = cols["relapse_timing_cog"][rel]
    groups = [months[timing == name] for name in ("very_early", "early", "late")]
    assert all(g.size for g in groups)
    assert groups[0].max() < groups[1].min() and groups[1].max() < groups[2].min()


def test_less_frequent_surveillance_finds_relapses_later_and_larger() -> None:
    """The in-silico surveillance question: visits every 26 weeks after therapy instead of at
    presentation move detection later and the marrow at detection fuller."""
    now = _run(CheckpointPolicy())
    late = _run(CheckpointPolicy(weeks_off_therapy=26))
    off = (now["relapse"] == 1) & (now["relapse_day"] > 900) & (late["relapse"] == 1)
    assert off.sum() > 20
    delay = late["relapse_day"][off] - now["relapse_day"][off]
    assert np.median(delay) > 30  # half the 182-day interval on average, less repeat marrows
    assert (np.median(late["relapse_marrow_blasts_obs"][off])
            > np.median(now["relapse_marrow_blasts_obs"][off]) + 5)


def test_cohort_yaml_sets_the_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "cohort.yaml"
    path.write_text("preset: pediatric\ncheckpoints: {relapse: pack, weeks_off_therapy: 12}\n")
    cfg = load_config(path=path)
    assert cfg.checkpoints == CheckpointPolicy(weeks_off_therapy=12.0)
    summary = summarise_table(_cols(simulate_cohort(cfg, n=400, seed=SEED)))
    assert summary["n"] == 400


def test_cli_checkpoints_option_adds_the_checkpoint_summary(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from allpath.cli import app
    from allpath.cli.commands import app as _registered  # noqa: F401

    out = tmp_path / "c.parquet"
    args = ["simulate", "cohort", "--n", "300", "--seed", "1", "--out", str(out),
            "--format", "json"]
    result = CliRunner().invoke(app, [*args, "--checkpoints", "pack"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert 0.9 < summary["checkpoints"]["eoi_CR"] + summary["checkpoints"]["eoi_CRi"] <= 1.0
    bad = CliRunner().invoke(app, [*args, "--checkpoints", "maybe"])
    assert bad.exit_code != 0
    assert "checkpoints: expected 'pack'" in bad.output and "'maybe'" in bad.output


def test_cli_unknown_preset_is_a_clear_error(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from allpath.cli import app
    from allpath.cli.commands import app as _registered  # noqa: F401

    result = CliRunner().invoke(app, ["simulate", "cohort", "--preset", "nope", "--n", "10",
                                      "--out", str(tmp_path / "x.parquet")])
    assert result.exit_code == 2
    assert "unknown preset 'nope'" in result.output and "Traceback" not in result.output
