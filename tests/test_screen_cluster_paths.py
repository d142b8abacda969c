"""`allpath screen parts/ --scheduler ...` works when the workers run in another folder:
local paths are made absolute before they are sent, and ``file://`` URLs are accepted
(issue 20, part 2). A real `distributed.LocalCluster` with worker processes on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from allpath.cli.app import app
from allpath.cli.commands import app as _registered  # noqa: F401
from allpath.screen import ScreenError, screen_dask, screen_file
from allpath.screen.run import _screen_part, parquet_parts, resolve_location
from support import synthetic_cbc_rows

# Real Dask clusters with worker processes and restarts: run alone, after the parallel part of
# `make test` (a restart on a machine busy with other tests can outlast Dask's own timeouts).
pytestmark = pytest.mark.serial


def _rows(n: int, seed: int) -> pa.Table:
    table: pa.Table = synthetic_cbc_rows(n, seed)
    return table


def test_resolve_location_makes_paths_absolute_and_keeps_remote_urls(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_location("parts") == str(tmp_path / "parts")
    assert resolve_location((tmp_path / "a b").as_uri()) == str(tmp_path / "a b")
    assert resolve_location("memory://bucket/parts") == "memory://bucket/parts"


def test_parquet_parts_skips_hidden_and_temporary_files(tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    (parts / "year=2025").mkdir(parents=True)
    (parts / "_tmp").mkdir()
    pq.write_table(_rows(5, 1), parts / "year=2025" / "b.parquet")
    pq.write_table(_rows(5, 2), parts / "a.parquet")
    (parts / ".a.3f2a.tmp.parquet").write_bytes(b"half written")  # another run, writing
    pq.write_table(_rows(5, 3), parts / "_tmp" / "c.parquet")
    (parts / "_SUCCESS").write_bytes(b"")
    expected = [str(parts / "a.parquet"), str(parts / "year=2025" / "b.parquet")]
    assert parquet_parts(parts) == expected
    assert parquet_parts(parts.as_uri()) == expected


def test_relative_parts_with_workers_started_in_another_folder_equal_the_local_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("distributed")
    client_dir, worker_dir = tmp_path / "client", tmp_path / "workers"
    parts = client_dir / "parts"
    parts.mkdir(parents=True)
    worker_dir.mkdir()
    tables = [_rows(n, seed) for n, seed in ((1200, 1), (700, 2), (1500, 3))]
    for i, table in enumerate(tables):
        pq.write_table(table, parts / f"part-{i}.parquet")
    whole = client_dir / "whole.parquet"
    pq.write_table(pa.concat_tables(tables), whole)
    local = screen_file(whole, client_dir / "local.parquet", chunk_size=1000, progress=False)
    expected = pq.read_table(client_dir / "local.parquet").to_pylist()

    monkeypatch.chdir(worker_dir)  # the workers start here, where there is no parts/ folder
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  memory_limit="1GiB") as cluster, \
            distributed.Client(cluster) as client:
        assert set(client.run(os.getcwd).values()) == {str(worker_dir)}
        monkeypatch.chdir(client_dir)  # the client runs from the data folder
        assert not (worker_dir / "parts").exists()
        # what the workers got before the fix: a relative path they cannot open
        as_sent = client.submit(_screen_part, "parts/part-0.parquet", 0, {}, 1000, pure=False)
        with pytest.raises(ScreenError, match=r"parts/part-0\.parquet: not found on the "
                                              r"worker .*must see the same storage"):
            as_sent.result()

        summary = screen_dask("parts", Path("rel.parquet"), client=client, chunk_size=1000,
                              progress=False)
        by_url = screen_dask(parts.as_uri(), Path("url.parquet"), client=client,
                             chunk_size=1000, progress=False)
        cli = CliRunner().invoke(app, ["screen", "parts", "--out", "cli.parquet",
                                       "--scheduler", cluster.scheduler_address,
                                       "--chunk-size", "1000", "--no-progress"])
        assert cli.exit_code == 0, cli.output

    assert summary.to_dict() == local.to_dict() == by_url.to_dict()
    for name in ("rel.parquet", "url.parquet", "cli.parquet"):
        assert pq.read_table(client_dir / name).to_pylist() == expected, name
    assert not list(worker_dir.iterdir())  # nothing was written where the workers run


def test_fsspec_url_parts_are_read_through_fsspec(tmp_path: Path) -> None:
    """A non-local file system (fsspec's in-memory one here; s3:// etc. work the same way
    once their driver is installed) is listed and read through fsspec on the workers."""
    distributed = pytest.importorskip("distributed")
    fsspec = pytest.importorskip("fsspec")
    mem = fsspec.filesystem("memory")
    tables = [_rows(n, seed) for n, seed in ((900, 7), (1300, 8))]
    try:
        for i, table in enumerate(tables):
            with mem.open(f"/allpath-test/parts/part-{i}.parquet", "wb") as fh:
                pq.write_table(table, fh)
        whole = tmp_path / "whole.parquet"
        pq.write_table(pa.concat_tables(tables), whole)
        local = screen_file(whole, tmp_path / "local.parquet", chunk_size=1000,
                            progress=False)
        assert parquet_parts("memory://allpath-test/parts") == [
            "memory:///allpath-test/parts/part-0.parquet",
            "memory:///allpath-test/parts/part-1.parquet"]
        # in-process workers: the memory file system is per process
        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                      dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            remote = screen_dask("memory://allpath-test/parts", tmp_path / "remote.parquet",
                                 client=client, chunk_size=1000, progress=False)
    finally:
        mem.rm("/allpath-test", recursive=True)
    assert remote.to_dict() == local.to_dict()
    assert (pq.read_table(tmp_path / "remote.parquet").to_pylist()
            == pq.read_table(tmp_path / "local.parquet").to_pylist())


def test_cohort_yaml_relative_titration_pack_dir_is_made_absolute_for_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from allpath.sim.cohort import load_config

    cfg_file = tmp_path / "cohort.yaml"
    cfg_file.write_text("titration:\n  policy: pack\n  pack_dir: my-packs\n")
    monkeypatch.chdir(tmp_path)
    cfg = load_config("pediatric", "cohort.yaml")
    assert cfg.titration is not None
    assert cfg.titration.pack_dir == str(tmp_path / "my-packs")
