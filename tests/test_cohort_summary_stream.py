"""The cohort summary streams over the Parquet file (issue 20, part 6): the same figures as the
whole table in memory, medians and Kaplan-Meier estimates exactly as numpy and lifelines give
them, and memory that does not grow with the cohort."""

from __future__ import annotations

import math
import tracemalloc
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import allpath.sim.cohort_stats as stats
from allpath.sim.checkpoints import parse_checkpoints
from allpath.sim.closed_loop import parse_titration
from allpath.sim.cohort import load_config, simulate_cohort, summarise, summarise_source


def _same(a: Any, b: Any, path: str = "") -> None:
    """Equal, key order included; NaN equals NaN. The patient-years of maintenance are a float
    sum (math.fsum per batch), which may differ in the last bit between batchings."""
    if isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            _same(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), path
    elif path.endswith("holds_per_patient_year"):
        assert a == pytest.approx(b, rel=1e-14), path
    else:
        assert a == b, path


@pytest.fixture(scope="module")
def full_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every summary block: checkpoints, roadmap templates and closed-loop maintenance."""
    cfg = replace(load_config("pediatric"), checkpoints=parse_checkpoints("pack"),
                  roadmap="pack", titration=parse_titration({"policy": "pack"}))
    out = tmp_path_factory.mktemp("cohort") / "cohort.parquet"
    simulate_cohort(cfg, n=400, seed=5, chunk_size=200, out=out)
    return out


def test_streamed_summary_equals_the_whole_table_for_any_batch_size(full_cohort: Path) -> None:
    whole = summarise(pq.read_table(full_cohort))
    assert {"checkpoints", "roadmap", "maintenance"} <= set(whole)
    for rows in (1, 37, 256, 65_536):
        _same(summarise(full_cohort, batch_rows=rows), whole)


def test_streamed_figures_are_those_of_numpy_and_lifelines(full_cohort: Path) -> None:
    """Against the computation the summary used before it streamed: lifelines'
    KaplanMeierFitter and np.median on whole columns."""
    from lifelines import KaplanMeierFitter

    t = pq.read_table(full_cohort)
    col = {k: t.column(k).to_numpy(zero_copy_only=False) for k in t.column_names}
    s = summarise(full_cohort, batch_rows=50)

    def km(time: np.ndarray[Any, Any], event: np.ndarray[Any, Any]) -> float:
        fit = KaplanMeierFitter().fit(time, event_observed=event)
        return float(fit.survival_function_at_times(5 * 365.25).iloc[0])

    assert s["efs_5y"] == km(col["efs_day"], col["efs_event"] == 1)
    assert s["os_5y"] == km(col["os_day"], col["death"] == 1)
    assert s["diagnosis_counts"] == {"wbc": float(np.median(col["wbc_dx"])),
                                     "hemoglobin": float(np.median(col["hemoglobin_dx"])),
                                     "platelets": float(np.median(col["platelets_dx"]))}
    rel = col["relapse"] == 1
    assert s["relapse_rate"] == float(rel.mean())
    assert s["checkpoints"]["relapse_marrow_blasts_median"] == float(
        np.median(col["relapse_marrow_blasts_obs"][rel]))
    seen = col["maint_visits"] > 0
    assert s["maintenance"]["mp_dose_mean_mg_m2"] == float(
        np.median(col["mp_dose_mean_mg_m2"][seen]))
    assert s["maintenance"]["holds_per_patient_year"] == pytest.approx(
        col["maint_holds"].sum() / col["maint_years"].sum(), rel=1e-12)


def _median(x: np.ndarray[Any, Any], batches: int) -> tuple[float, int]:
    m = stats.ExactMedian()
    passes = 0
    while not m.done:
        for part in np.array_split(x, batches):
            m.add(part)
        m.end_pass()
        passes += 1
    return m.value, passes


@pytest.mark.parametrize("collect", [stats.COLLECT, 8])
def test_exact_median_equals_numpy_median(collect: int, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    """Also with tiny bins kept (``collect`` 8), which forces narrowing to all 64 key bits."""
    monkeypatch.setattr(stats, "COLLECT", collect)
    rng = np.random.default_rng(1)
    cases = [rng.lognormal(1, 1, 10_001), rng.normal(0, 1, 10_000),
             np.full(5000, 3.5), np.r_[np.full(3000, 2.0), np.full(3001, -1.0)],
             rng.integers(0, 4, 9000).astype(float), -rng.lognormal(0, 2, 11),
             np.array([0.0, -0.0, 5e-324, -5e-324]), np.array([7.25]),
             np.array([1e308, -1e308, np.inf, -np.inf, 0.5])]
    for x in cases:
        value, passes = _median(x, batches=5)
        assert value == float(np.median(x)), x[:5]
        assert passes <= 5
    assert math.isnan(_median(np.array([1.0, np.nan, 2.0]), 2)[0])
    assert math.isnan(_median(np.array([]), 1)[0])


def test_kaplan_meier_at_equals_lifelines_with_ties_and_censoring() -> None:
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(2)
    for rounded in (True, False):
        time = np.minimum(rng.exponential(900, 20_000), 1827.0)
        if rounded:
            time = time.round()
        event = (time < 1827) & (rng.random(time.size) < 0.6)
        fit = KaplanMeierFitter().fit(time, event_observed=event)
        for t in (0.5, 30.0, 5 * 365.25, 5000.0):
            km = stats.KaplanMeierAt(t)
            for a, b in zip(np.array_split(time, 7), np.array_split(event, 7), strict=True):
                km.add(a, b)
            assert km.value == float(fit.survival_function_at_times(t).iloc[0]), (rounded, t)
    assert math.isnan(stats.KaplanMeierAt(10.0).value)


def _synthetic_cohort(path: Path, n: int) -> None:
    """A frontline-shaped cohort file without simulating it (the summary's columns only)."""
    rng = np.random.default_rng(3)
    rel = rng.random(n) < 0.12
    death = rng.random(n) < 0.08
    efs_day = np.where(rel | death, rng.integers(10, 1800, n), 1827).astype(float)
    table = pa.table({
        "id": np.arange(n), "cr": (rng.random(n) < 0.97).astype(float),
        "induction_death": (rng.random(n) < 0.01).astype(float),
        "mrd_eoi_flow": rng.lognormal(-9, 2, n), "relapse": rel.astype(float),
        "relapse_day": np.where(rel, efs_day, np.nan), "efs_day": efs_day,
        "efs_event": (rel | death).astype(float),
        "os_day": np.where(death, rng.uniform(10, 1827, n), 1827.0),
        "death": death.astype(float), "wbc_dx": rng.lognormal(2, 1, n),
        "hemoglobin_dx": rng.normal(8, 2, n), "platelets_dx": rng.lognormal(4, 1, n),
    })
    pq.write_table(table, path, row_group_size=131_072)


def test_summary_of_a_million_patients_holds_a_few_batches_not_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """1,000,000 patients: the whole columns would take 104 MB as numpy arrays (13 x 8 MB);
    the streamed summary reads 65,536-row batches of the columns it uses, and its numpy
    allocations (traced by tracemalloc) peak at a few batches' worth. (Resident memory, Arrow's
    buffers included, is measured by benchmarks/cohort_memory.py.)"""
    n = 1_000_000
    path = tmp_path / "big.parquet"
    _synthetic_cohort(path, n)
    real = stats.parquet_batches
    read: list[tuple[int, tuple[str, ...]]] = []

    def spying(p: str | Path, batch_rows: int = stats.BATCH_ROWS) -> stats.Source:
        source = real(p, batch_rows)

        def read_batches(columns: Sequence[str]) -> Iterator[stats.Columns]:
            for batch in source(columns):
                read.append((len(next(iter(batch.values()))), tuple(batch)))
                yield batch
        return read_batches

    import allpath.sim.cohort as cohort

    monkeypatch.setattr(cohort, "parquet_batches", spying)
    tracemalloc.start()
    try:
        summary = summarise(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary["n"] == n
    assert max(rows for rows, _ in read) <= stats.BATCH_ROWS
    first = [cols for _, cols in read if "id" in cols]
    assert sum(rows for rows, cols in read if "id" in cols) == n  # one full pass ...
    assert len(first[0]) == 13  # ... of the 13 columns the summary uses ...
    medians = {"wbc_dx", "hemoglobin_dx", "platelets_dx"}
    assert all(set(cols) <= medians for _, cols in read if "id" not in cols)  # then medians'
    assert len(read) <= 3 * math.ceil(n / stats.BATCH_ROWS)
    assert peak < 24 * 2**20, f"numpy peak {peak / 2**20:.1f} MB"
    whole = pq.read_table(path)
    _same(summarise_source(stats.table_batches(
        {k: whole.column(k).to_numpy() for k in whole.column_names}), whole.column_names),
        summary)
