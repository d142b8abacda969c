"""Benchmark: peak client memory of a cohort run on Dask and of its summary (issue 20, part 6).

Prints, for ``--n`` patients (default 1,000,000):

* the run: ``simulate_cohort_dask`` on a local cluster of ``--workers`` single-threaded worker
  processes, streamed to Parquet; wall time and the client process's peak resident memory
  (``ru_maxrss``; the workers are other processes and are not counted);
* the summary, each in a fresh process: the peak resident memory above a process that made
  the streamed summary of the first 10,000 patients (same imports, same library code paged
  in), the peak of numpy allocations (``tracemalloc``) and the wall time of (a) the summary
  read as before: the whole file (``pq.read_table``, every column to numpy) and then the
  figures (computed by today's code on those columns, as one batch), and (b) the streamed
  summary (:func:`allpath.sim.summarise`:
  65,536-row batches of the columns it needs, exact medians and Kaplan-Meier); and whether the
  two give the same figures.

Run: ``.venv/bin/python benchmarks/cohort_memory.py [--n 1000000] [--workers 2]
[--cohort existing.parquet]``.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports kB)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


def _child(mode: str, path: str) -> None:
    """One measurement in this (fresh) process; prints a JSON line."""
    import tracemalloc

    import pyarrow.parquet as pq

    from allpath.sim.cohort import summarise, summarise_table

    tracemalloc.start()
    t0 = time.perf_counter()
    summary: Any = None
    if mode == "whole":
        table = pq.read_table(path)
        cols = {name: table.column(name).to_numpy(zero_copy_only=False)
                for name in table.column_names}
        summary = summarise_table(cols)
    elif mode == "stream":
        summary = summarise(path)
    wall = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({"rss_mb": _rss_mb(), "numpy_peak_mb": peak / 2**20, "wall_s": wall,
                      "summary": summary}))


def _measure(mode: str, path: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", mode, str(path)],
                         capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _simulate(n: int, workers: int, out: Path) -> tuple[float, float]:
    from allpath.sim.cohort import simulate_cohort_dask

    t0 = time.perf_counter()
    simulate_cohort_dask("pediatric", n=n, seed=1, out=out, n_workers=workers,
                         announce=lambda line: print(f"  {line}", flush=True))
    return time.perf_counter() - t0, _rss_mb()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12)
    return bool(a == b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cohort", type=Path, help="summarise this file instead of simulating")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = args.cohort
        if path is None:
            path = Path(tmp) / "cohort.parquet"
            print(f"simulating {args.n:,} patients on a local Dask cluster "
                  f"({args.workers} worker processes)", flush=True)
            wall, rss = _simulate(args.n, args.workers, path)
            print(f"run: {wall:.1f} s wall, client peak RSS {rss:.0f} MB "
                  f"(workers not counted)")
        import pyarrow.parquet as pq

        meta = pq.read_metadata(path)
        print(f"cohort file: {meta.num_rows:,} patients, {meta.num_columns} columns, "
              f"{meta.num_row_groups} row groups, {path.stat().st_size / 2**20:.0f} MB")
        small = Path(tmp) / "small.parquet"
        pq.write_table(pq.ParquetFile(path).read_row_group(0).slice(0, 10_000), small)
        base = _measure("stream", small)
        print(f"baseline process (the streamed summary of 10,000 patients: imports, library "
              f"code, one batch): peak RSS {base['rss_mb']:.0f} MB")
        results = {mode: _measure(mode, path) for mode in ("whole", "stream")}
        for mode, label in (("whole", "(a) whole file, as before"),
                            ("stream", "(b) streamed summary")):
            r = results[mode]
            print(f"{label}: peak RSS +{r['rss_mb'] - base['rss_mb']:.0f} MB over the "
                  f"baseline ({r['rss_mb']:.0f} MB), numpy peak {r['numpy_peak_mb']:.1f} MB, "
                  f"{r['wall_s']:.2f} s")
        same = _same(results["whole"]["summary"], results["stream"]["summary"])
        print(f"same figures: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
