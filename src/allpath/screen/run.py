"""Run a screen over a file (streamed in chunks) or over partitioned Parquet on Dask."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from allpath.screen.core import (
    ChunkResult,
    Screener,
    ScreenError,
    ScreenSummary,
    count_rows,
    iter_chunks,
)

__all__ = ["bad_path_for", "format_summary", "parquet_parts", "screen_dask", "screen_file"]


def bad_path_for(out: Path) -> Path:
    """Default bad-row report beside the output: ``OUT.bad.csv``."""
    return out.with_name(out.stem + ".bad.csv")


class _Writer:
    def __init__(self, out: Path, bad: Path) -> None:
        self.out, self.bad = out, bad
        self.parquet = out.suffix.lower() in (".parquet", ".pq")
        if not self.parquet and out.suffix.lower() not in (".csv", ".txt"):
            raise ScreenError(f"output must be .csv or .parquet, got {out.name!r}")
        self._w: Any = None
        self._b: Any = None

    def write(self, chunk: ChunkResult) -> None:
        table = chunk.table
        if self.parquet:
            if self._w is None:
                self._w = pq.ParquetWriter(self.out, table.schema, **parquet_options(table.schema))
            self._w.write_table(table)
        else:
            plain = pa.table({name: (col.cast(col.type.value_type)
                                     if pa.types.is_dictionary(col.type) else col)
                              for name, col in zip(table.column_names, table.columns,
                                                   strict=True)})
            if self._w is None:
                self._w = pacsv.CSVWriter(self.out, plain.schema)
            self._w.write_table(plain)
        if chunk.bad.num_rows:
            if self._b is None:
                self._b = pacsv.CSVWriter(self.bad, chunk.bad.schema)
            self._b.write_table(chunk.bad)

    def close(self, empty_schema: pa.Schema | None = None) -> None:
        if self._w is None and empty_schema is not None:
            (pq.write_table if self.parquet else pacsv.write_csv)(
                empty_schema.empty_table(), self.out)
        for w in (self._w, self._b):
            if w is not None:
                w.close()
        if self._b is None and self.bad.exists():
            self.bad.unlink()


def parquet_options(schema: pa.Schema) -> dict[str, Any]:
    """Writer options for the screened rows: dictionaries only for the code columns, delta
    encoding for integer columns (row numbers, integer ids, dates), statistics for the row
    number only, no compression (the encoded columns are already small: about 1.5 MB per
    million rows, and compressing them cost more time than the rest of the writing)."""
    ints = [f.name for f in schema
            if f.name in ("row", "patient_id", "time")
            and (pa.types.is_integer(f.type) or pa.types.is_date32(f.type)
                 or pa.types.is_timestamp(f.type) or pa.types.is_date64(f.type))]
    return {
        "use_dictionary": [f.name for f in schema if pa.types.is_dictionary(f.type)],
        "column_encoding": dict.fromkeys(ints, "DELTA_BINARY_PACKED"),
        "write_statistics": ["row"],
        "compression": "none",
    }


def _prefetch(items: Iterable[Any], depth: int = 2) -> Iterator[Any]:
    """Iterate ``items`` on a background thread (Arrow reads release the GIL)."""
    import queue
    import threading

    q: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def run() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put((True, item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((False, None))
        except BaseException as err:  # handed to the consumer
            q.put((False, err))

    thread = threading.Thread(target=run, name="screen-read", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = q.get()
            if not ok:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        thread.join()


class _BackgroundWriter:
    """Writes chunks on a background thread, in order (Parquet/CSV writing releases the GIL)."""

    def __init__(self, writer: _Writer, depth: int = 2) -> None:
        import queue
        import threading

        self.writer = writer
        self.q: queue.Queue[ChunkResult | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="screen-write", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            chunk = self.q.get()
            if chunk is None:
                return
            if self.error is None:
                try:
                    self.writer.write(chunk)
                except BaseException as err:
                    self.error = err

    def write(self, chunk: ChunkResult) -> None:
        if self.error is not None:
            raise self.error
        self.q.put(chunk)

    def close(self) -> None:
        self.q.put(None)
        self.thread.join()
        self.writer.close()
        if self.error is not None:
            raise self.error


def _progress(total: int | None, enabled: bool | None) -> Any:
    from tqdm import tqdm  # type: ignore[import-untyped]

    disable = None if enabled is None else not enabled
    return tqdm(total=total, unit="rows", unit_scale=True, disable=disable, file=sys.stderr,
                mininterval=0.5, desc="screen")


def screen_file(inp: Path, out: Path, *, units: Mapping[str, str] | None = None,
                chunk_size: int = 1_000_000, bad: Path | None = None,
                progress: bool | None = None, threads: int | None = None) -> ScreenSummary:
    """Screen one CSV or Parquet file, chunk by chunk, writing CSV or Parquet.

    Reading, screening and writing overlap: the next chunks are read on one background
    thread and finished chunks written on another, while chunks are screened on
    ``threads`` threads (default 1); a few chunks are in memory at a time and the output
    order is the input order.
    """
    screener = Screener(units)
    summary = ScreenSummary()
    writer = _BackgroundWriter(_Writer(out, bad or bad_path_for(out)))
    bar = _progress(count_rows(inp), progress)
    try:
        for chunk in _pipelined(screener, _prefetch(iter_chunks(inp, chunk_size)), threads):
            writer.write(chunk)
            summary.add(chunk)
            bar.update(chunk.rows)
    finally:
        bar.close()
        writer.close()
    return summary


def _pipelined(screener: Screener, tables: Iterable[pa.Table],
               threads: int | None) -> Iterator[ChunkResult]:
    """Screen chunks concurrently (numpy and Arrow release the GIL), yielding in order."""
    from concurrent.futures import Future, ThreadPoolExecutor

    workers = threads or 1
    if workers <= 1:
        offset = 0
        for table in tables:
            yield screener.screen(table, offset)
            offset += len(table)
        return
    pending: deque[Future[ChunkResult]] = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        offset = 0
        for table in tables:
            pending.append(pool.submit(screener.screen, table, offset))
            offset += len(table)
            while len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def parquet_parts(inp: Path) -> list[Path]:
    """The Parquet files of a partitioned dataset (a folder, searched recursively, sorted)."""
    if inp.is_dir():
        parts = sorted(p for p in inp.rglob("*") if p.suffix.lower() in (".parquet", ".pq"))
        if not parts:
            raise ScreenError(f"no Parquet files under {inp}")
        return parts
    return [inp]


def _screen_part(path: str, offset: int, units: Mapping[str, str] | None,
                 chunk_size: int) -> list[ChunkResult]:
    screener = Screener(units)
    results = []
    for table in iter_chunks(Path(path), chunk_size):
        chunk = screener.screen(table, offset)
        offset += chunk.rows
        results.append(chunk)
    return results


def screen_dask(inp: Path | Sequence[Path], out: Path, *, scheduler: str | None = None,
                client: Any = None, units: Mapping[str, str] | None = None,
                chunk_size: int = 1_000_000, bad: Path | None = None,
                progress: bool | None = None, n_workers: int = 2) -> ScreenSummary:
    """Screen partitioned Parquet on a Dask cluster; results are written in input order.

    Row numbers run across the parts in sorted path order, so the output is identical to a
    single-process run over the same parts. Give ``scheduler`` (an address), a ``client``,
    or neither for a local cluster of ``n_workers`` processes.
    """
    from distributed import Client, LocalCluster, as_completed

    parts: list[Path] = (parquet_parts(inp) if isinstance(inp, Path)
                         else [Path(p) for p in inp])
    sizes = [int(pq.ParquetFile(p).metadata.num_rows) for p in parts]
    offsets = [sum(sizes[:i]) for i in range(len(parts))]
    own: list[Any] = []
    if client is None:
        if scheduler is not None:
            client = Client(scheduler)  # type: ignore[no-untyped-call]
        else:
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=n_workers, threads_per_worker=1, processes=True,
                dashboard_address=None)
            client = Client(cluster)  # type: ignore[no-untyped-call]
            own.append(cluster)
        own.insert(0, client)
    summary = ScreenSummary()
    writer = _Writer(out, bad or bad_path_for(out))
    bar = _progress(sum(sizes), progress)
    try:
        futures = [client.submit(_screen_part, str(p), off, dict(units or {}), chunk_size,
                                 pure=False)
                   for p, off in zip(parts, offsets, strict=True)]
        order = {f.key: i for i, f in enumerate(futures)}
        done: dict[int, list[ChunkResult]] = {}
        nxt = 0
        for fut in as_completed(futures):  # type: ignore[no-untyped-call]
            done[order[fut.key]] = fut.result()
            fut.release()
            while nxt in done:
                for chunk in done.pop(nxt):
                    writer.write(chunk)
                    summary.add(chunk)
                    bar.update(chunk.rows)
                nxt += 1
    finally:
        bar.close()
        writer.close()
        for thing in own:
            thing.close()
    return summary


def format_summary(summary: ScreenSummary) -> Iterable[str]:
    """Lines of the end-of-run summary."""
    d = summary.to_dict()
    yield (f"rows: {d['rows']:,}   flagged: {d['flagged']:,}   bad rows: {d['bad_rows']:,}")
    yield "by suspicion: " + ", ".join(f"{k} {v:,}" for k, v in d["by_suspicion"].items())
    if d["by_reason"]:
        yield "by reason:    " + ", ".join(f"{k} {v:,}" for k, v in d["by_reason"].items())
