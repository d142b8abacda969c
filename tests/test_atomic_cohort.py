"""`simulate cohort` fails safe: a run that fails part way leaves no Parquet file that looks
like a finished cohort, and an earlier one byte for byte as it was (issue 20, part 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import allpath.sim.cohort as cohort
from allpath.cli.app import app
from allpath.cli.commands import app as _registered  # noqa: F401
from allpath.sim.cohort import CohortConfig, simulate_cohort, simulate_cohort_dask


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*"))


def _fail_from(start_at: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks starting at ``start_at`` or later raise, as a killed worker would."""
    real = cohort.chunk_table

    def failing(cfg: CohortConfig, start: int, stop: int, seed: int) -> pa.Table:
        if start >= start_at:
            raise RuntimeError(f"worker lost at patient {start}")
        return real(cfg, start, stop, seed)

    monkeypatch.setattr(cohort, "chunk_table", failing)


def test_cohort_failing_mid_run_keeps_previous_parquet(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "cohort.parquet"
    simulate_cohort("pediatric", n=600, seed=1, chunk_size=200, out=out)
    before = out.read_bytes()
    _fail_from(400, monkeypatch)  # two of three chunks written, then the run dies
    with pytest.raises(RuntimeError, match="worker lost at patient 400"):
        simulate_cohort("pediatric", n=600, seed=2, chunk_size=200, out=out)
    assert out.read_bytes() == before
    assert pq.read_metadata(out).num_rows == 600
    assert _hidden(tmp_path) == []


def test_cohort_interrupted_leaves_no_file_when_there_was_none(tmp_path: Path) -> None:
    out = tmp_path / "cohort.parquet"
    seen: list[int] = []

    def interrupt(k: int) -> None:
        seen.append(k)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate_cohort("pediatric", n=600, seed=3, chunk_size=200, out=out, progress=interrupt)
    assert not out.exists()
    assert _hidden(tmp_path) == []


def test_cohort_on_dask_failing_mid_run_keeps_previous_parquet(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "cohort.parquet"
    simulate_cohort("pediatric", n=600, seed=4, chunk_size=200, out=out)
    before = out.read_bytes()
    _fail_from(400, monkeypatch)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, \
            pytest.raises(RuntimeError, match="worker lost"):
        simulate_cohort_dask("pediatric", n=600, seed=5, chunk_size=200, out=out,
                             scheduler=client, window=1)
    assert out.read_bytes() == before
    assert _hidden(tmp_path) == []


def test_cli_simulate_cohort_failure_exits_non_zero_and_keeps_previous_parquet(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "cohort.parquet"
    runner = CliRunner()
    args = ["simulate", "cohort", "--n", "400", "--chunk-size", "200", "--out", str(out),
            "--format", "json"]
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    before = out.read_bytes()
    _fail_from(200, monkeypatch)
    failed = runner.invoke(app, [*args, "--seed", "9"])
    assert failed.exit_code != 0
    assert out.read_bytes() == before
    assert _hidden(tmp_path) == []


def test_cli_simulate_patient_record_failing_mid_write_keeps_previous_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("id: vp-1\nage: 6\nsex: female\nsubtype: B-ALL\n")
    record, png = tmp_path / "record.json", tmp_path / "patient.png"
    runner = CliRunner()
    ok = runner.invoke(app, ["simulate", "patient", str(profile), "--out-record", str(record),
                             "--out-png", str(png)])
    assert ok.exit_code == 0, ok.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # the temp name kept the format
    before = record.read_bytes()
    assert json.loads(before)

    def half_then_fail(self: Path, data: str, *args: Any, **kwargs: Any) -> int:
        with self.open("w") as fh:
            fh.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_fail)
    failed = runner.invoke(app, ["simulate", "patient", str(profile), "--seed", "3",
                                 "--out-record", str(record)])
    assert failed.exit_code != 0
    assert isinstance(failed.exception, OSError)
    monkeypatch.undo()
    assert record.read_bytes() == before
    assert _hidden(tmp_path) == []
