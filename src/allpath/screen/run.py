"""Run a screen over a file (streamed in chunks) or over partitioned Parquet on Dask."""

from __future__ import annotations

import os
import sys
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from allpath.io import atomic_output
from allpath.screen.core import (
    REQUIRED,
    ChunkResult,
    Screener,
    ScreenError,
    ScreenSummary,
    count_rows,
    iter_chunks,
    iter_parquet_chunks,
)

__all__ = ["bad_path_for", "format_summary", "is_url", "parquet_parts", "resolve_location",
           "screen_dask", "screen_file"]


def bad_path_for(out: Path) -> Path:
    """Default bad-row report beside the output: ``OUT.bad.csv``."""
    return out.with_name(out.stem + ".bad.csv")


class _Writer:
    """The screened rows and the bad-row report, each written to a temporary file beside its
    target and renamed into place only when the whole run succeeded
    (:func:`allpath.io.atomic_output`). Use as a context manager: leaving it with an exception
    removes the temporary files and leaves any previous output untouched."""

    def __init__(self, out: Path, bad: Path) -> None:
        self.out, self.bad = out, bad
        self.parquet = out.suffix.lower() in (".parquet", ".pq")
        if not self.parquet and out.suffix.lower() not in (".csv", ".txt"):
            raise ScreenError(f"output must be .csv or .parquet, got {out.name!r}")
        self._stack = ExitStack()
        self._w: Any = None
        self._b: Any = None

    def __enter__(self) -> _Writer:
        self._tmp_out = self._stack.enter_context(atomic_output(self.out))
        return self

    def write(self, chunk: ChunkResult) -> None:
        table = chunk.table
        if self.parquet:
            if self._w is None:
                self._w = pq.ParquetWriter(self._tmp_out, table.schema,
                                           **parquet_options(table.schema))
            self._w.write_table(table)
        else:
            plain = pa.table({name: (col.cast(col.type.value_type)
                                     if pa.types.is_dictionary(col.type) else col)
                              for name, col in zip(table.column_names, table.columns,
                                                   strict=True)})
            if self._w is None:
                self._w = pacsv.CSVWriter(self._tmp_out, plain.schema)
            self._w.write_table(plain)
        if chunk.bad.num_rows:
            if self._b is None:
                tmp_bad = self._stack.enter_context(atomic_output(self.bad))
                self._b = pacsv.CSVWriter(tmp_bad, chunk.bad.schema)
            self._b.write_table(chunk.bad)

    def _finish(self) -> None:
        if self._w is None:  # no input rows: an empty table with the output columns
            empty = Screener(None).screen(
                pa.table({c: pa.array([], pa.string()) for c in REQUIRED}), 0)
            self.write(empty)
        for w in (self._w, self._b):
            if w is not None:
                w.close()

    def _close_quietly(self) -> None:
        for w in (self._w, self._b):
            if w is not None:
                with suppress(OSError, pa.ArrowException):  # the file is discarded anyway
                    w.close()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        if et is not None:
            self._close_quietly()
            self._stack.__exit__(et, ev, tb)
            return
        try:
            self._finish()
        except BaseException:
            self._close_quietly()
            self._stack.__exit__(*sys.exc_info())
            raise
        self._stack.close()  # renames: the bad-row report first, then the output
        if self._b is None:  # no bad rows: no stale report from an earlier run
            self.bad.unlink(missing_ok=True)


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
        """Wait for the queued chunks to be written; raise the writer's error if any."""
        self.q.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        """Stop after the chunk being written (the output is discarded by the caller)."""
        self.error = self.error or _AbortedError()
        self.q.put(None)
        self.thread.join()


class _AbortedError(Exception):
    """Marks a background writer whose run failed elsewhere (never raised to callers)."""


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
    bar = _progress(count_rows(inp), progress)
    with _Writer(out, bad or bad_path_for(out)) as sink:
        writer = _BackgroundWriter(sink)
        try:
            for chunk in _pipelined(screener, _prefetch(iter_chunks(inp, chunk_size)),
                                    threads):
                writer.write(chunk)
                summary.add(chunk)
                bar.update(chunk.rows)
        except BaseException:
            writer.abort()
            raise
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


def is_url(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` is an fsspec URL (``file://...``, ``s3://...``) rather than a path."""
    return "://" in os.fspath(location)


def resolve_location(location: str | os.PathLike[str]) -> str:
    """``location`` as a worker running elsewhere can open it.

    A local path (relative or not) becomes an absolute path, and so does a ``file://`` URL;
    any other fsspec URL (``s3://bucket/parts``, with the user's driver installed) is kept as a
    URL. Workers must see the same storage at the same place as the client.
    """
    text = os.fspath(location)
    if not is_url(text):
        return str(Path(text).expanduser().absolute())
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme == "file":  # RFC 8089, as Path.as_uri() writes it (percent-encoded)
        if parsed.netloc not in ("", "localhost"):
            raise ScreenError(f"{text}: a file:// URL on another host ({parsed.netloc}) "
                              "cannot be read; mount it and give the local path")
        return str(Path(urllib.request.url2pathname(parsed.path)).absolute())
    return text


def _hidden(name: str) -> bool:
    """Names Arrow datasets skip too: temporary (``.x``) and metadata (``_x``) files."""
    return name.startswith((".", "_"))


def parquet_parts(inp: str | os.PathLike[str]) -> list[str]:
    """The Parquet files of a partitioned dataset (a folder, searched recursively, sorted),
    as absolute paths or fsspec URLs (:func:`resolve_location`). Hidden files and folders
    (``.x``, ``_x``: temporary files of a run still writing, ``_SUCCESS``, ``_metadata``) are
    skipped, as Arrow datasets do."""
    where = resolve_location(inp)
    if not is_url(where):
        root = Path(where)
        if not root.exists():
            raise ScreenError(f"input not found: {where}")
        if not root.is_dir():
            return [where]
        found = sorted(str(p) for p in root.rglob("*")
                       if p.suffix.lower() in (".parquet", ".pq") and p.is_file()
                       and not any(_hidden(part) for part in p.relative_to(root).parts))
    else:
        import fsspec

        fs, path = fsspec.core.url_to_fs(where)
        if not fs.exists(path):
            raise ScreenError(f"input not found: {where}")
        if not fs.isdir(path):
            return [where]
        base = path.rstrip("/")
        found = sorted(str(fs.unstrip_protocol(f)) for f in fs.find(path)
                       if f.lower().endswith((".parquet", ".pq"))
                       and not any(_hidden(part) for part in f[len(base):].split("/") if part))
    if not found:
        raise ScreenError(f"no Parquet files under {where}")
    return found


@contextmanager
def _parquet_file(location: str) -> Iterator[pq.ParquetFile]:
    """Open a Parquet part by absolute path or fsspec URL."""
    if not is_url(location):
        yield pq.ParquetFile(location)
        return
    import fsspec

    with fsspec.open(location, "rb") as fh:
        yield pq.ParquetFile(fh)


def _part_rows(location: str) -> int:
    try:
        with _parquet_file(location) as pf:
            return int(pf.metadata.num_rows)
    except FileNotFoundError:
        raise ScreenError(f"{location}: not found (it was listed a moment ago: another "
                          "program moved or deleted it?)") from None
    except (pa.ArrowException, OSError) as err:
        raise ScreenError(f"{location}: not a readable Parquet file ({err}); remove or "
                          "replace it and run the command again") from None


def _screen_part(location: str, offset: int, units: Mapping[str, str] | None,
                 chunk_size: int) -> list[ChunkResult]:
    """Screen one part on a worker. Every input travels with the task (the part's location,
    its first row number, the units and the chunk size), so Dask can run it again on any
    worker after a restart. Problems name the part file."""
    screener = Screener(units)
    results = []
    try:
        with _parquet_file(location) as pf:
            for table in iter_parquet_chunks(pf, chunk_size):
                chunk = screener.screen(table, offset)
                offset += chunk.rows
                results.append(chunk)
    except ScreenError as err:
        raise ScreenError(f"{location}: {err}") from err
    except FileNotFoundError as err:
        import socket

        raise ScreenError(
            f"{location}: not found on the worker on {socket.gethostname()}; client and "
            "workers must see the same storage at the same path (a shared file system, or an "
            "fsspec URL such as s3://... with its driver installed on every worker)") from err
    except (pa.ArrowException, OSError) as err:  # a damaged part, or one that cannot be read
        raise ScreenError(f"{location}: could not be read as Parquet ({err}); remove or "
                          "replace this part and run the command again") from err
    return results


def screen_dask(inp: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], out: Path, *,
                scheduler: str | None = None, client: Any = None,
                units: Mapping[str, str] | None = None, chunk_size: int = 1_000_000,
                bad: Path | None = None, progress: bool | None = None,
                n_workers: int = 2, connect_timeout: float | None = None,
                announce: Callable[[str], None] | None = None,
                window: int | None = None) -> ScreenSummary:
    """Screen partitioned Parquet on a Dask cluster; results are written in input order.

    ``inp`` is a folder or file (path or fsspec URL) or a list of parts. Local paths are made
    absolute before they are sent, so workers started in another folder open the same files;
    client and workers must see the same storage. Row numbers run across the parts in sorted
    path order, so the output is identical to a single-process run over the same parts. Give
    ``scheduler`` (an address, reached within ``connect_timeout`` seconds, see
    :func:`allpath.cluster.connect_timeout`), a ``client``, or neither for a local cluster of
    ``n_workers`` processes. ``announce`` receives the line naming the scheduler, its workers
    and dashboard, and notes about resubmitted parts. At most ``window`` parts (default two
    per worker thread) are in flight or waiting to be written; the progress bar moves as parts
    finish, in any order. The output and bad-row report appear only when every part was
    screened (:func:`allpath.io.atomic_output`); on any failure - a bad part (named), a lost
    scheduler (:class:`allpath.cluster.ClusterError`) - the previous ones are left as they
    were. Parts cancelled because the workers restarted are screened again.
    """
    from allpath.cluster import Task, open_client, run_ordered

    parts = (parquet_parts(inp) if isinstance(inp, (str, os.PathLike))
             else [resolve_location(p) for p in inp])
    sizes = [_part_rows(p) for p in parts]
    offsets = [sum(sizes[:i]) for i in range(len(parts))]
    unit_map = dict(units or {})
    tasks = [Task(_screen_part, (p, off, unit_map, chunk_size), size, p)
             for p, off, size in zip(parts, offsets, sizes, strict=True)]
    summary = ScreenSummary()
    with open_client(client if client is not None else scheduler, timeout=connect_timeout,
                     n_workers=n_workers, announce=announce) as live:
        bar = _progress(sum(sizes), progress)
        try:
            with _Writer(out, bad or bad_path_for(out)) as writer:
                for chunks in run_ordered(live, tasks, window=window,
                                          on_finished=lambda t: bar.update(t.size),
                                          notify=announce):
                    for chunk in chunks:
                        writer.write(chunk)
                        summary.add(chunk)
        finally:
            bar.close()
    return summary


def format_summary(summary: ScreenSummary) -> Iterable[str]:
    """Lines of the end-of-run summary."""
    d = summary.to_dict()
    yield (f"rows: {d['rows']:,}   flagged: {d['flagged']:,}   bad rows: {d['bad_rows']:,}")
    yield "by suspicion: " + ", ".join(f"{k} {v:,}" for k, v in d["by_suspicion"].items())
    if d["by_reason"]:
        yield "by reason:    " + ", ".join(f"{k} {v:,}" for k, v in d["by_reason"].items())
