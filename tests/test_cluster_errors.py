"""Cluster problems give a short message a person can act on, a non-zero exit and no output
file (issue 20, parts 4 and 5): a closed port fails within the connect timeout, an address
that is not a scheduler is named as such, a scheduler lost mid-run ends the run cleanly, and a
bad part names its file. The run prints the scheduler, its workers and the dashboard link, and
progress moves as tasks finish.

The lost-scheduler tests start a real scheduler and two worker processes with Dask's own
commands (`python -m distributed.cli.dask_scheduler` / `dask_worker`), the workers in another
folder, on 127.0.0.1; the scheduler is killed from the run's own hook once the first task has
finished, while the others are queued or running.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import allpath.screen.run as screen_run
from allpath.cli.app import app
from allpath.cli.commands import app as _registered  # noqa: F401
from allpath.cluster import (
    CONNECT_TIMEOUT_ENV,
    DEFAULT_CONNECT_TIMEOUT,
    ClusterError,
    Task,
    connect,
    connect_timeout,
    describe_cluster,
    run_ordered,
)
from support import synthetic_cbc_rows

# Real Dask clusters with worker processes and restarts: run alone, after the parallel part of
# `make test` (a restart on a machine busy with other tests can outlast Dask's own timeouts).
pytestmark = pytest.mark.serial

distributed = pytest.importorskip("distributed")


def _rows(n: int, seed: int) -> pa.Table:
    table: pa.Table = synthetic_cbc_rows(n, seed)
    return table


def _parts(folder: Path, n: int = 4) -> Path:
    parts = folder / "parts"
    parts.mkdir()
    for i in range(n):
        pq.write_table(_rows(1200, seed=40 + i), parts / f"part-{i}.parquet")
    return parts


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------- connecting


def test_connect_timeout_option_env_and_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONNECT_TIMEOUT_ENV, raising=False)
    assert connect_timeout() == DEFAULT_CONNECT_TIMEOUT <= 10
    monkeypatch.setenv(CONNECT_TIMEOUT_ENV, "1.5")
    assert connect_timeout() == 1.5
    assert connect_timeout(0.25) == 0.25  # the option wins over the environment
    monkeypatch.setenv(CONNECT_TIMEOUT_ENV, "soon")
    with pytest.raises(ClusterError, match=f"{CONNECT_TIMEOUT_ENV}: expected a number"):
        connect_timeout()
    with pytest.raises(ClusterError, match="positive number"):
        connect_timeout(0.0)


def test_closed_port_fails_within_the_connect_timeout(tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{_closed_port()}"
    t0 = time.perf_counter()
    with pytest.raises(ClusterError) as err:
        connect(address, 1.0)
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0 + 2.0  # Dask's own default waits 30 s
    message = str(err.value)
    assert address in message and "within 1 s" in message and "--connect-timeout" in message
    assert "\n" not in message  # one paragraph


def test_cli_closed_port_exits_non_zero_with_one_paragraph_and_no_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = _parts(tmp_path, n=2)
    address = f"tcp://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv(CONNECT_TIMEOUT_ENV, "0.5")
    runner = CliRunner()
    t0 = time.perf_counter()
    res = runner.invoke(app, ["screen", str(parts), "--out", str(tmp_path / "out.parquet"),
                              "--scheduler", address, "--no-progress"])
    assert time.perf_counter() - t0 < 0.5 + 3.0
    assert res.exit_code == 2
    assert res.stderr.startswith(f"error: could not connect to the Dask scheduler at {address} "
                                 "within 0.5 s.")
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.output
    cohort = runner.invoke(app, ["simulate", "cohort", "--n", "100", "--out",
                                 str(tmp_path / "cohort.parquet"), "--scheduler", address,
                                 "--connect-timeout", "0.5"])
    assert cohort.exit_code == 2
    assert "could not connect to the Dask scheduler" in cohort.stderr
    assert "Traceback" not in cohort.output
    assert _files(tmp_path) == ["parts"]


@pytest.mark.parametrize("address", ["foo://10.0.0.5:8786", "tcp://10.0.0.5", "host:port"])
def test_malformed_address_is_named_at_once(address: str) -> None:
    t0 = time.perf_counter()
    with pytest.raises(ClusterError, match="is not a Dask scheduler address") as err:
        connect(address, 5.0)
    assert time.perf_counter() - t0 < 1.0
    assert repr(address) in str(err.value)


@pytest.fixture
def http_server() -> Iterator[int]:
    """A server that answers like a web page (the dashboard port given by mistake)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(srv.getsockname()[1])
    srv.shutdown(socket.SHUT_RDWR)  # wakes the accept() above
    srv.close()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_a_server_that_is_not_a_scheduler_is_named(http_server: int) -> None:
    with pytest.raises(ClusterError, match=r"answered at .* but it is not a Dask scheduler"):
        connect(f"tcp://127.0.0.1:{http_server}", 2.0)


def test_a_worker_address_is_not_taken_for_the_scheduler() -> None:
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1", dashboard_address=None) as lc:
        worker = next(iter(lc.scheduler.workers))
        with pytest.raises(ClusterError, match="is a Dask worker, not the scheduler"):
            connect(worker, 2.0)
        client = connect(lc.scheduler_address, 2.0)
        try:
            assert client.status == "running"
            line = describe_cluster(client)
        finally:
            client.close()

        async def in_a_notebook_cell() -> str:  # an event loop is running in this thread
            inner = connect(lc.scheduler_address, 2.0)
            try:
                return str(inner.status)
            finally:
                inner.close()

        assert asyncio.run(in_a_notebook_cell()) == "running"
    assert line == (f"Dask scheduler {lc.scheduler_address}: 1 worker, 1 thread; "
                    "no dashboard served")


# ---------------------------------------------------------------- progress


def _wait_then(name: str, value: int) -> int:
    distributed.Event(name).wait(timeout=30)
    return value


def _at_once(value: int) -> int:
    return value


def test_progress_moves_as_tasks_finish_and_results_come_in_order() -> None:
    """Task 0 waits until the progress hook has seen task 2 finish: if progress only moved in
    part order, task 0 would wait out its 30 s and the run would end in the wrong order."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1", dashboard_address=None) as lc, \
            distributed.Client(lc, set_as_default=False) as client:
        go = distributed.Event("allpath-test-go", client=client)
        tasks = [Task(_wait_then, ("allpath-test-go", 0), 10, "slow"),
                 Task(_at_once, (1,), 20, "quick-1"),
                 Task(_at_once, (2,), 30, "quick-2")]
        seen: list[str] = []

        def finished(task: Task) -> None:
            seen.append(task.label)
            if task.label == "quick-2":
                go.set()

        t0 = time.perf_counter()
        results = list(run_ordered(client, tasks, window=3, on_finished=finished))
        assert time.perf_counter() - t0 < 20
    assert results == [0, 1, 2]
    assert seen[-1] == "slow" and set(seen) == {"slow", "quick-1", "quick-2"}


# ---------------------------------------------------------------- bad parts


def test_a_damaged_part_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    parts = _parts(tmp_path, n=3)
    (parts / "part-1.parquet").write_bytes(b"PAR1 this is not a Parquet file at all")
    res = CliRunner().invoke(app, ["screen", str(parts), "--out", str(tmp_path / "o.parquet"),
                                   "--dask", "--workers", "1", "--no-progress"])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"error: {parts / 'part-1.parquet'}: not a readable Parquet")
    assert "Traceback" not in res.output
    assert _files(tmp_path) == ["parts"]


# ---------------------------------------------------------------- a lost scheduler


class _Cluster:
    """A scheduler and two single-threaded workers as separate processes (Dask's commands),
    the workers started in their own folder."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / "scheduler.json"
        workdir = folder / "workers"
        workdir.mkdir()
        self.scheduler = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", "0", "--dashboard-address", "127.0.0.1:0", "--scheduler-file",
             str(self.file)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.workers = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
             str(self.file), "--nworkers", "2", "--nthreads", "1", "--no-dashboard",
             "--memory-limit", "1GiB", "--death-timeout", "10"],
            cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with distributed.Client(scheduler_file=str(self.file), timeout=60,
                                set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
            self.address = str(client.scheduler.address)

    def kill_scheduler(self) -> None:
        if self.scheduler.poll() is None:
            self.scheduler.kill()
            self.scheduler.wait(timeout=30)

    def close(self) -> None:
        for proc in (self.workers, self.scheduler):
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


@pytest.fixture
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Cluster]:
    cluster = _Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield cluster
    finally:
        cluster.close()


def test_screen_cli_scheduler_lost_mid_run_exits_with_a_short_message_and_no_output(
        own_cluster: _Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _parts(tmp_path, n=6)
    real_write = screen_run._Writer.write

    def write_then_lose_scheduler(self: Any, chunk: Any) -> None:
        real_write(self, chunk)
        own_cluster.kill_scheduler()

    monkeypatch.setattr(screen_run._Writer, "write", write_then_lose_scheduler)
    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    res = CliRunner().invoke(app, ["screen", "parts", "--out", "out.parquet", "--scheduler",
                                   own_cluster.address, "--chunk-size", "1000",
                                   "--no-progress", "--connect-timeout", "2"])
    assert time.perf_counter() - t0 < 20
    assert res.exit_code == 2
    first, second = res.stderr.splitlines()[:2]
    # what the run printed first: scheduler, workers and dashboard link
    assert first.startswith(f"Dask scheduler {own_cluster.address}: 2 workers, 2 threads; "
                            "dashboard http://127.0.0.1:")
    assert second.startswith(f"error: lost the connection to the Dask scheduler at "
                             f"{own_cluster.address} after ")
    assert len(res.stderr.splitlines()) == 2 and "Traceback" not in res.output
    assert _files(tmp_path) == ["parts"]  # no output, no bad-row report, no temporary file


def test_cohort_cli_scheduler_lost_mid_run_exits_non_zero_and_leaves_no_file(
        own_cluster: _Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import allpath.sim.cohort as cohort

    real_collect = cohort._collect

    def collect_then_lose(tables: Any, out: Any, progress: Any) -> Any:
        def first_then_kill() -> Iterator[Any]:
            for item in tables:
                yield item
                own_cluster.kill_scheduler()
        return real_collect(first_then_kill(), out, progress)

    monkeypatch.setattr(cohort, "_collect", collect_then_lose)
    out = tmp_path / "cohort.parquet"
    res = CliRunner().invoke(app, ["simulate", "cohort", "--n", "800", "--chunk-size", "200",
                                   "--out", str(out), "--scheduler", own_cluster.address,
                                   "--format", "json"])
    assert res.exit_code == 2, res.output
    assert "error: lost the connection to the Dask scheduler" in res.stderr
    assert "Traceback" not in res.output
    assert not res.stdout.strip().startswith("{")  # no summary of a cohort that is not there
    assert _files(tmp_path) == []


# ---------------------------------------------------------------- --format


def test_screen_format_json_prints_only_json_and_json_flag_is_a_deprecated_alias(
        tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(_rows(300, seed=3), src)
    runner = CliRunner()
    new = runner.invoke(app, ["screen", str(src), "--out", str(tmp_path / "a.parquet"),
                              "--format", "json", "--no-progress"])
    assert new.exit_code == 0, new.output
    summary = json.loads(new.stdout)  # stdout is the JSON document and nothing else
    assert summary["rows"] == 300
    assert "deprecated" not in new.stderr
    old = runner.invoke(app, ["screen", str(src), "--out", str(tmp_path / "b.parquet"),
                              "--json", "--no-progress"])
    assert old.exit_code == 0, old.output
    assert json.loads(old.stdout) == summary
    assert "--json is deprecated" in old.stderr and "--format json" in old.stderr
    text = runner.invoke(app, ["screen", str(src), "--out", str(tmp_path / "c.parquet"),
                               "--no-progress"])
    assert text.stdout.startswith("rows: 300")
    assert "--json" not in runner.invoke(app, ["screen", "--help"]).output  # hidden
    assert (tmp_path / "c.parquet").exists()


def _one() -> int:
    return 1


def test_a_cluster_without_workers_ends_the_run_with_an_error_instead_of_waiting_for_ever(
) -> None:
    # A run once waited for ever after a restart left the cluster with no worker.
    import distributed

    with distributed.LocalCluster(n_workers=0, processes=False,
                                  dashboard_address=None) as lc, \
            distributed.Client(lc, set_as_default=False) as client:
        started = time.monotonic()
        with pytest.raises(ClusterError, match=r"has had no worker for 1 s with 2 task\(s\) "
                                               r"outstanding after 0 of 2; nothing was written"):
            list(run_ordered(client, [Task(_one, (), 1, "a"), Task(_one, (), 1, "b")],
                             workerless_wait_s=1.0))
        assert time.monotonic() - started < 30
