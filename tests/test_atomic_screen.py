"""`allpath screen` fails safe: a run that fails part way leaves the previous output and
bad-row report byte for byte as they were, and no temporary file (issue 20, part 1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import allpath.screen.run as screen_run
from allpath.cli.app import app
from allpath.cli.commands import app as _registered  # noqa: F401
from allpath.screen import ScreenError, screen_dask, screen_file


def _rows(n: int, seed: int, bad_every: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    wbc = rng.lognormal(1.8, 0.6, n).round(2).astype(str)
    if bad_every:
        wbc[::bad_every] = "abc"  # not a number: a line in the bad-row report
    return pa.table({
        "patient_id": [f"p{seed}-{i}" for i in range(n)],
        "age_years": rng.uniform(0.5, 80, n).round(1).astype(str),
        "sex": rng.choice(["female", "male"], n),
        "time": ["2026-01-01"] * n,
        "wbc": wbc,
        "hemoglobin": rng.normal(12, 2.5, n).clip(3, 19).round(1).astype(str),
        "platelets": rng.lognormal(5.3, 0.6, n).round(0).astype(str),
        "anc": rng.lognormal(1.0, 0.7, n).round(2).astype(str),
    })


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*"))


def _fail_after(chunks: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the reader raise after ``chunks`` chunks, as a lost disk or a bad block would."""
    real = screen_run.iter_chunks

    def failing(path: Path, chunk_size: int) -> Iterator[pa.Table]:
        for i, table in enumerate(real(path, chunk_size)):
            if i == chunks:
                raise OSError(5, "Input/output error")
            yield table

    monkeypatch.setattr(screen_run, "iter_chunks", failing)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_screen_file_failing_mid_write_keeps_previous_output_and_bad_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    first, second = tmp_path / "first.parquet", tmp_path / "second.parquet"
    pq.write_table(_rows(3000, seed=1, bad_every=7), first)
    pq.write_table(_rows(6000, seed=2, bad_every=5), second)
    out = tmp_path / f"flags{suffix}"
    screen_file(first, out, chunk_size=1000, progress=False)
    bad = tmp_path / "flags.bad.csv"
    before, bad_before = out.read_bytes(), bad.read_bytes()

    _fail_after(3, monkeypatch)  # three of six chunks written, then the input fails
    with pytest.raises(OSError, match="Input/output error"):
        screen_file(second, out, chunk_size=1000, progress=False)
    assert out.read_bytes() == before
    assert bad.read_bytes() == bad_before
    assert _hidden(tmp_path) == []


def test_screen_file_failing_in_the_writer_keeps_previous_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inp = tmp_path / "cbc.parquet"
    pq.write_table(_rows(4000, seed=3), inp)
    out = tmp_path / "flags.parquet"
    screen_file(inp, out, chunk_size=1000, progress=False)
    before = out.read_bytes()
    real_write = screen_run._Writer.write
    calls = {"n": 0}

    def write_then_fail(self: screen_run._Writer, chunk: screen_run.ChunkResult) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        real_write(self, chunk)

    monkeypatch.setattr(screen_run._Writer, "write", write_then_fail)
    with pytest.raises(OSError, match="No space left"):
        screen_file(inp, out, chunk_size=1000, progress=False, threads=2)
    assert out.read_bytes() == before
    assert _hidden(tmp_path) == []


def test_a_clean_rerun_replaces_output_and_removes_the_stale_bad_report(tmp_path: Path) -> None:
    dirty, clean = tmp_path / "dirty.parquet", tmp_path / "clean.parquet"
    pq.write_table(_rows(500, seed=4, bad_every=3), dirty)
    pq.write_table(_rows(500, seed=5), clean)
    out = tmp_path / "flags.parquet"
    screen_file(dirty, out, progress=False)
    assert (tmp_path / "flags.bad.csv").exists()
    summary = screen_file(clean, out, progress=False)
    assert summary.bad_rows == 0
    assert not (tmp_path / "flags.bad.csv").exists()
    assert pq.read_table(out).column("patient_id")[0].as_py() == "p5-0"
    assert _hidden(tmp_path) == []


def test_empty_input_writes_an_empty_output_with_the_output_columns(tmp_path: Path) -> None:
    inp = tmp_path / "empty.csv"
    inp.write_text("patient_id,age_years,sex,time,wbc,hemoglobin,platelets,anc\n")
    out = tmp_path / "flags.parquet"
    screen_file(inp, out, progress=False)
    table = pq.read_table(out)
    assert table.num_rows == 0
    assert table.column_names == ["row", "patient_id", "time", "flag", "suspicion", "reasons",
                                  "rule"]


def test_screen_dask_with_a_bad_part_keeps_previous_output_and_names_the_part(
        tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    parts = tmp_path / "parts"
    parts.mkdir()
    for i in range(3):
        pq.write_table(_rows(1500, seed=10 + i, bad_every=11), parts / f"part-{i}.parquet")
    out = tmp_path / "flags.parquet"
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        screen_dask(parts, out, client=client, chunk_size=500, progress=False)
        before, bad_before = out.read_bytes(), (tmp_path / "flags.bad.csv").read_bytes()
        broken = _rows(1500, seed=20).drop_columns(["anc"])  # screened last: parts 0-1 written
        pq.write_table(broken, parts / "part-2.parquet")
        with pytest.raises(ScreenError, match=r"part-2\.parquet.*anc"):
            screen_dask(parts, out, client=client, chunk_size=500, progress=False)
    finally:
        client.close()
        cluster.close()
    assert out.read_bytes() == before
    assert (tmp_path / "flags.bad.csv").read_bytes() == bad_before
    assert _hidden(tmp_path) == []


def test_cli_screen_failure_exits_non_zero_and_keeps_previous_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inp = tmp_path / "cbc.parquet"
    pq.write_table(_rows(3000, seed=6), inp)
    out = tmp_path / "flags.csv"
    runner = CliRunner()
    ok = runner.invoke(app, ["screen", str(inp), "--out", str(out), "--chunk-size", "1000",
                             "--no-progress"])
    assert ok.exit_code == 0, ok.output
    before = out.read_bytes()
    _fail_after(1, monkeypatch)
    failed = runner.invoke(app, ["screen", str(inp), "--out", str(out), "--chunk-size", "1000",
                                 "--no-progress"])
    assert failed.exit_code != 0
    assert out.read_bytes() == before
    assert _hidden(tmp_path) == []
