"""Population screening: agreement with single-record triage, bad rows, Dask equivalence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from allpath.cli.app import app
from allpath.cli.commands import app as _registered  # noqa: F401
from allpath.screen import Screener, ScreenError, screen_dask, screen_file
from allpath.triage import triage


def _random_rows(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    # ages on and around the reference-table edges, plus uniform ones
    edges = np.array([0.02, 0.08, 0.25, 0.5, 1, 2, 4, 5, 6, 12, 18, 30, 70])
    age = np.where(rng.random(n) < 0.4, rng.choice(edges, n), rng.uniform(0, 90, n)).round(2)
    # counts around the thresholds, with exact boundary values included
    def around(points: list[float], spread: float) -> np.ndarray:
        base = rng.choice(points, n)
        jitter = np.where(rng.random(n) < 0.3, 0.0, rng.normal(0, spread, n))
        return np.abs(base + jitter)

    wbc = around([1, 3, 4, 4.5, 5.5, 6, 9, 30, 100, 150], 1.0).round(2)
    return pa.table({
        "patient_id": [f"p{i}" for i in range(n)],
        "age_years": age,
        "sex": rng.choice(["female", "male", "F", "m"], n),
        "time": ["2024-06-01"] * n,
        "wbc": wbc,
        "hemoglobin": around([6, 7.9, 8, 9, 10, 10.5, 11.5, 12, 13, 14.5], 0.5).round(1),
        "platelets": around([10, 24, 25, 49, 50, 74, 75, 149, 150, 300], 5).round(0),
        # neutrophils are part of the white count: triage refuses an ANC above the WBC
        "anc": np.minimum(around([0.2, 0.5, 0.9, 1.0, 1.5, 1.7, 3, 5], 0.2).round(2), wbc),
        "blasts_pct": np.where(rng.random(n) < 0.1, rng.choice([0.5, 5, 40], n), 0.0),
    })


def _single(row: dict[str, object]) -> dict[str, object]:
    units = {"wbc": "10*9/L", "hemoglobin": "g/dL", "platelets": "10*9/L", "anc": "10*9/L"}
    cbc: dict[str, object] = {"time": "2024-06-01"}
    cbc.update({k: {"value": row[k], "unit": u} for k, u in units.items()})
    cbc["blood_blasts"] = {"value": row["blasts_pct"], "unit": "%"}
    sex = {"f": "female", "m": "male"}.get(str(row["sex"]).lower(), str(row["sex"]))
    return triage({"format": "allpath.triage/1", "age_years": row["age_years"], "sex": sex,
                   "symptoms": [], "cbc": cbc}).to_dict()


def test_vectorised_screen_agrees_with_single_record_triage_row_by_row() -> None:
    table = _random_rows(1500, seed=11)
    out = Screener().screen(table).table.to_pylist()
    rows = table.to_pylist()
    mismatches = []
    for row, got in zip(rows, out, strict=True):
        want = _single(row)
        reasons = sorted(filter(None, str(got["reasons"]).split(";")))
        if (got["suspicion"], got["flag"], reasons) != (
                want["cbc_suspicion"], want["flag"], sorted(want["findings"])):
            mismatches.append((row, got, want["cbc_suspicion"], want["findings"]))
        # with no symptoms the whole-picture suspicion is the blood-count suspicion
        assert want["leukemia_suspicion"] == want["cbc_suspicion"]
    assert not mismatches, mismatches[:3]
    assert {r["suspicion"] for r in out} >= {"none", "low", "moderate", "high"}


def test_bad_rows_are_reported_with_row_numbers_and_never_pass(tmp_path: Path) -> None:
    src = tmp_path / "cbc.csv"
    src.write_text(
        "patient_id,age_years,sex,time,wbc,hemoglobin,platelets,anc,wbc_unit\n"
        "a,5,F,2024-06-01,2.1,6.5,20,0.3,\n"
        "b,40,M,2024-06-01,abc,13,200,3,\n"
        "c,40,X,2024-06-01,7,13,200,3,\n"
        "d,40,M,2024-06-01,7000,13,200,3,/uL\n"
        "e,40,M,2024-06-01,7000,13,200,3,furlongs\n"
        "f,40,M,2024-06-01,7,13,,3,\n"
        "g,40,M,2024-06-01,7,71,200,3,\n"
        "h,200,M,2024-06-01,7,13,200,3,\n",
        encoding="utf-8")
    out = tmp_path / "out.csv"
    summary = screen_file(src, out, chunk_size=1000, progress=False)
    assert summary.rows == 8 and summary.bad_rows == 6 and summary.flagged == 1
    result = pacsv.read_csv(out).to_pylist()
    assert [r["suspicion"] for r in result] == ["high", "invalid", "invalid", "none",
                                                "invalid", "invalid", "invalid", "invalid"]
    assert all(r["flag"] is None for r in result if r["suspicion"] == "invalid")
    bad = pacsv.read_csv(tmp_path / "out.bad.csv").to_pylist()
    assert [(b["row"], b["column"]) for b in bad] == [
        (2, "wbc"), (3, "sex"), (5, "wbc_unit"), (6, "platelets"), (7, "hemoglobin"),
        (8, "age_years")]
    assert bad[0]["problem"] == "not a number"


def test_declared_units_and_missing_columns(tmp_path: Path) -> None:
    table = pa.table({"patient_id": ["a"], "age_years": [5.0], "sex": ["female"],
                      "time": ["2024-06-01"], "wbc": [2100.0], "hemoglobin": [65.0],
                      "platelets": [20000.0], "anc": [300.0]})
    res = Screener({"wbc": "/uL", "hemoglobin": "g/L", "platelets": "/uL", "anc": "/uL"}
                   ).screen(table)
    assert res.table.column("suspicion").to_pylist() == ["high"]
    with pytest.raises(ScreenError):
        Screener({"wbc": "furlongs"})
    with pytest.raises(ScreenError, match="required column"):
        Screener().screen(table.drop_columns(["anc"]))


def test_dask_local_cluster_gives_identical_results(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    table = _random_rows(3000, seed=5)
    parts = tmp_path / "parts"
    parts.mkdir()
    for i in range(3):
        pq.write_table(table.slice(i * 1000, 1000), parts / f"part-{i}.parquet")
    whole = tmp_path / "whole.parquet"
    pq.write_table(table, whole)
    single = tmp_path / "single.parquet"
    screen_file(whole, single, chunk_size=700, progress=False)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        on_dask = tmp_path / "dask.parquet"
        summary = screen_dask(parts, on_dask, client=client, chunk_size=700, progress=False)
    finally:
        client.close()
        cluster.close()
    a = pq.read_table(single).to_pylist()
    b = pq.read_table(on_dask).to_pylist()
    assert a == b
    assert summary.rows == 3000


def test_cli_screen_parquet_with_summary(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(_random_rows(200, seed=3), src)
    out = tmp_path / "out.parquet"
    res = CliRunner().invoke(app, ["screen", str(src), "--out", str(out), "--json",
                                   "--no-progress"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output[: res.output.rindex("}") + 1])
    assert summary["rows"] == 200
    assert pq.read_table(out).num_rows == 200
    res = CliRunner().invoke(app, ["screen", str(tmp_path / "nope.csv"), "--out", str(out)])
    assert res.exit_code == 2
