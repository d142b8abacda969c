"""Runs on a Dask cluster survive workers restarting (issue 20, part 3).

A real `distributed.LocalCluster` with two single-threaded worker processes (each behind a
nanny that restarts it) on 127.0.0.1. "Mid-run" is the moment the first task has finished and
been reported: the test's own progress hook then kills worker processes or restarts the
cluster, while the rest of the tasks are queued or running. Every task carries its own inputs
(nothing is scattered), so what the restart cancels or loses is computed again; the output
must be byte for byte the file of a local run.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import allpath.screen.run as screen_run
from allpath.screen import ChunkResult, screen_dask, screen_file
from allpath.sim.cohort import simulate_cohort, simulate_cohort_dask
from support import synthetic_cbc_rows

# Real Dask clusters with worker processes and restarts: run alone, after the parallel part of
# `make test` (a restart on a machine busy with other tests can outlast Dask's own timeouts).
pytestmark = pytest.mark.serial

distributed = pytest.importorskip("distributed")

if sys.platform == "win32":  # pragma: no cover - the CI runs Linux
    pytest.skip("needs SIGKILL", allow_module_level=True)

N, CHUNK, SEED = 800, 200, 7  # four chunks of patients


def _warm_up() -> None:
    import allpath.screen.run
    import allpath.sim.cohort  # noqa: F401


@pytest.fixture(scope="module")
def _shared_cluster() -> Iterator[tuple[Any, Any]]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  memory_limit="1GiB") as lc, \
            distributed.Client(lc, set_as_default=False) as client:
        yield lc, client


@pytest.fixture
def cluster(_shared_cluster: tuple[Any, Any]) -> tuple[Any, Any]:
    """The module's cluster with both workers up (a test before may have restarted them)."""
    client = _shared_cluster[1]
    client.wait_for_workers(2, timeout=60)
    client.run(_warm_up)
    return _shared_cluster


def _worker_pids(client: Any) -> list[int]:
    return sorted(client.run(os.getpid).values())


def _kill(pids: list[int]) -> None:
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*"))


@pytest.fixture(scope="module")
def local_cohort(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("local") / "cohort.parquet"
    simulate_cohort("pediatric", n=N, seed=SEED, chunk_size=CHUNK, out=out)
    return out.read_bytes()


def test_cohort_survives_all_worker_processes_killed_mid_run(
        cluster: tuple[Any, Any], local_cohort: bytes, tmp_path: Path) -> None:
    """The failure of the issue: the config was scattered once, so killing every worker lost
    it and the run died with 'cancelled for reason: unknown'."""
    _, client = cluster
    before = _worker_pids(client)
    notes: list[str] = []
    finished: list[int] = []

    def progress(k: int) -> None:
        finished.append(k)
        if len(finished) == 1:
            _kill(before)  # both workers at once, as an out-of-memory kill of a node would

    out = simulate_cohort_dask("pediatric", n=N, seed=SEED, chunk_size=CHUNK,
                               out=tmp_path / "cohort.parquet", scheduler=client,
                               progress=progress, announce=notes.append)
    assert out == tmp_path / "cohort.parquet"
    assert set(_worker_pids(client)).isdisjoint(before)  # the nannies started new ones
    assert sum(finished) == N
    assert out.read_bytes() == local_cohort
    assert _hidden(tmp_path) == []


def _rows(n: int, seed: int) -> pa.Table:
    table: pa.Table = synthetic_cbc_rows(n, seed)
    return table


def _screen_parts(tmp_path: Path) -> tuple[Path, list[dict[str, Any]], dict[str, Any]]:
    parts = tmp_path / "parts"
    parts.mkdir()
    tables = [_rows(1500 + 100 * i, seed=30 + i) for i in range(6)]
    for i, table in enumerate(tables):
        pq.write_table(table, parts / f"part-{i}.parquet")
    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.concat_tables(tables), whole)
    local = screen_file(whole, tmp_path / "local.parquet", chunk_size=1000, progress=False)
    return parts, pq.read_table(tmp_path / "local.parquet").to_pylist(), local.to_dict()


def test_screen_survives_one_worker_process_killed_mid_run(
        cluster: tuple[Any, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, client = cluster
    parts, expected, local = _screen_parts(tmp_path)
    victim = _worker_pids(client)[0]
    real_write = screen_run._Writer.write
    killed: list[int] = []

    def write_then_kill(self: screen_run._Writer, chunk: ChunkResult) -> None:
        real_write(self, chunk)
        if not killed:  # the first part is written; the others are queued or running
            _kill([victim])
            killed.append(victim)

    monkeypatch.setattr(screen_run._Writer, "write", write_then_kill)
    summary = screen_dask(parts, tmp_path / "dask.parquet", client=client, chunk_size=1000,
                          progress=False)
    assert killed == [victim]
    assert victim not in _worker_pids(client)
    assert summary.to_dict() == local
    assert pq.read_table(tmp_path / "dask.parquet").to_pylist() == expected
    assert _hidden(tmp_path) == []


def test_screen_survives_client_restart_mid_run(
        cluster: tuple[Any, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``client.restart()`` (a rolling restart of all workers) cancels every task the run has
    not collected yet; each is submitted again and the output is unchanged. The restart comes
    from the progress bar, as the first part is reported finished. (Screen parts are short
    tasks: a worker busy with a long one may take longer to stop than Dask's restart allows on
    a loaded machine, which is Dask's matter, not the run's.)"""
    _, client = cluster
    parts, expected, local = _screen_parts(tmp_path)
    notes: list[str] = []

    class RestartingBar:
        finished = 0

        def update(self, rows: int) -> None:
            self.finished += 1
            if self.finished == 1:
                # do not wait here for every worker to come back: on a loaded machine a
                # nanny can take minutes to start one; the run waits for workers itself
                client.restart(timeout=120, wait_for_workers=False)

        def close(self) -> None:
            pass

    bar = RestartingBar()
    monkeypatch.setattr(screen_run, "_progress", lambda total, enabled: bar)
    summary = screen_dask(parts, tmp_path / "dask.parquet", client=client, chunk_size=1000,
                          announce=notes.append)
    assert bar.finished == 6  # each part reported once, resubmitted or not
    resubmitted = [line for line in notes if "submitted again" in line]
    assert resubmitted, notes
    assert all("scheduler-restart" in line for line in resubmitted)
    assert summary.to_dict() == local
    assert pq.read_table(tmp_path / "dask.parquet").to_pylist() == expected
    assert _hidden(tmp_path) == []


def _die() -> None:
    os._exit(1)  # as an out-of-memory kill would end the worker process


def test_a_task_that_keeps_killing_its_workers_ends_the_run_naming_it() -> None:
    import dask

    from allpath.cluster import ClusterError, Task, run_ordered

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                     host="127.0.0.1", dashboard_address=None,
                                     memory_limit="1GiB") as lc, \
            distributed.Client(lc, set_as_default=False) as client:
        tasks = [Task(_die, (), 1, "part-7.parquet")]
        with pytest.raises(ClusterError, match=r"^part-7\.parquet: the workers running it died "
                                               r"repeatedly .*memory limits"):
            list(run_ordered(client, tasks))
