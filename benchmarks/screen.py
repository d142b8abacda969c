"""Benchmark of population CBC screening (not a test).

Generates N seeded synthetic CBC rows with realistic distributions (ages 0-90 with a
childhood peak, counts log-normal around the normal values, about 3% with one or more
cytopenias and 0.2% with circulating blasts), writes them as Parquet, then measures in one run:

(a) ``allpath screen`` rows per second (read, validate, evaluate the packs, write Parquet),
    through :func:`allpath.screen.screen_file`, the function behind the CLI;
(b) a bare read-and-sum of the same columns with the same library (pyarrow), the memory and
    decode floor;
(c) the single-record triage path applied row by row to a sample;
(d) the whole process as a user runs it: ``allpath screen IN -o OUT`` (start-up, packs, the
    output file) against a bare ``python`` that imports pyarrow and reads and sums the same
    columns.

Wall-clock figures are the best of ``--repeat`` runs (the median and the process CPU time are
printed too: the development machine is shared, so single runs are noisy).

Usage::

    .venv/bin/python benchmarks/screen.py --rows 20000000 --sample 2000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from allpath.record import parse_record
from allpath.screen import screen_file
from allpath.screen.core import OPTIONAL, REQUIRED, iter_chunks
from allpath.triage import TriageInput, triage


def synthetic(n: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    child = rng.random(n) < 0.4
    age = np.where(child, rng.gamma(2.0, 3.0, n).clip(0.05, 17.9),
                   rng.uniform(18, 90, n)).round(2)
    female = rng.random(n) < 0.5
    sick = rng.random(n) < 0.03
    wbc = np.exp(rng.normal(np.log(7.0), 0.3, n))
    hb = rng.normal(np.where(female, 13.5, 14.8), 1.0, n)
    plt = np.exp(rng.normal(np.log(260), 0.25, n))
    anc = wbc * rng.uniform(0.4, 0.7, n)
    hb = np.where(sick, hb * rng.uniform(0.4, 0.9, n), hb)
    plt = np.where(sick, plt * rng.uniform(0.05, 0.6, n), plt)
    anc = np.where(sick, anc * rng.uniform(0.05, 0.8, n), anc)
    blasts = np.where(rng.random(n) < 0.002, rng.uniform(1, 90, n), 0.0)
    return pa.table({
        "patient_id": pa.array(np.arange(n, dtype=np.int64)),
        "age_years": age,
        "sex": pa.DictionaryArray.from_arrays(pa.array(female.astype(np.int8) ^ 1),
                                              pa.array(["female", "male"])),
        "time": pa.array(np.full(n, 19875, dtype=np.int32), pa.date32()),
        "wbc": wbc.round(2),
        "hemoglobin": hb.clip(2, 24).round(1),
        "platelets": plt.clip(1, 2000).round(0),
        "anc": anc.round(2),
        "lymphocytes": (wbc * 0.3).round(2),
        "blasts_pct": blasts.round(1),
    })


def bare_scan(path: Path, chunk: int) -> float:
    """Read the same columns in the same chunks and sum the numeric ones."""
    total = 0.0
    pf = pq.ParquetFile(path)
    cols = [c for c in pf.schema_arrow.names if c in REQUIRED or c in OPTIONAL]
    for batch in pf.iter_batches(batch_size=chunk, columns=cols):
        for name in batch.schema.names:
            col = batch.column(name)
            if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
                total += float(pc.sum(col).as_py() or 0)
            else:
                total += len(col)
    return total


_BARE_PROCESS = """
import sys
import pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
total = 0.0
pf = pq.ParquetFile(sys.argv[1])
for batch in pf.iter_batches(batch_size=int(sys.argv[2]), columns=sys.argv[3].split(",")):
    for col in batch.columns:
        if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
            total += float(pc.sum(col).as_py() or 0)
        else:
            total += len(col)
print(total)
"""


def whole_process(src: Path, out: Path, chunk: int, repeat: int) -> tuple[float, float]:
    """Best wall time of ``allpath screen`` as a user runs it (start-up, packs, the output
    file) and of a bare ``python`` that imports pyarrow and reads and sums the same columns."""
    exe = str(Path(sys.executable).with_name("allpath"))
    cols = ",".join(c for c in pq.ParquetFile(src).schema_arrow.names
                    if c in REQUIRED or c in OPTIONAL)
    cli: list[float] = []
    bare: list[float] = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", _BARE_PROCESS, str(src), str(chunk), cols],
                       check=True, capture_output=True)
        bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run([exe, "screen", str(src), "-o", str(out), "--chunk-size", str(chunk)],
                       check=True, capture_output=True)
        cli.append(time.perf_counter() - t)
    return min(cli), min(bare)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--sample", type=int, default=2_000)
    ap.add_argument("--chunk", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5, help="best of this many runs")
    ap.add_argument("--threads", type=int, default=1,
                    help="screening threads (reading and writing have their own)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "cbc.parquet"
        out = Path(tmp) / "screened.parquet"
        t0 = time.perf_counter()
        table = synthetic(args.rows)
        pq.write_table(table, src, row_group_size=args.chunk)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t0:.1f} s "
              f"({src.stat().st_size / 1e6:.0f} MB Parquet); cores: {os.cpu_count()}")
        sample = table.slice(0, args.sample).to_pylist()
        del table

        scans: list[float] = []
        screens: list[float] = []
        cpu_scan = cpu_screen = float("inf")
        for _ in range(args.repeat):
            c, t = time.process_time(), time.perf_counter()
            bare_scan(src, args.chunk)
            scans.append(time.perf_counter() - t)
            cpu_scan = min(cpu_scan, time.process_time() - c)
            c, t = time.process_time(), time.perf_counter()
            summary = screen_file(src, out, chunk_size=args.chunk, progress=False,
                                  threads=args.threads)
            screens.append(time.perf_counter() - t)
            cpu_screen = min(cpu_screen, time.process_time() - c)
        assert summary.rows == args.rows
        best_scan, best_screen = min(scans), min(screens)

        t = time.perf_counter()
        for row in sample:
            obs = [{"code": c, "value": row[k], "unit": u, "time": row["time"]}
                   for k, c, u in (("wbc", "wbc", "10*9/L"), ("hemoglobin", "hemoglobin", "g/dL"),
                                   ("platelets", "platelets", "10*9/L"),
                                   ("anc", "anc", "10*9/L"),
                                   ("blasts_pct", "blood_blasts", "%"))]
            rec = parse_record({"format": "allpath.record/1", "id": str(row["patient_id"]),
                                "sex": row["sex"], "observations": obs})
            triage(TriageInput(rec, age_years=row["age_years"]))
        per_row = time.perf_counter() - t

        scan_rate = args.rows / best_scan
        screen_rate = args.rows / best_screen
        row_rate = len(sample) / per_row
        print(f"(a) screen:            {screen_rate / 1e6:8.2f} M rows/s "
              f"({best_screen:.2f} s best, {statistics.median(screens):.2f} s median of "
              f"{args.repeat}; {cpu_screen:.2f} CPU-s; flagged {summary.flagged:,}, "
              f"bad {summary.bad_rows:,})")
        print(f"(b) bare read-and-sum: {scan_rate / 1e6:8.2f} M rows/s "
              f"({best_scan:.2f} s best, {statistics.median(scans):.2f} s median; "
              f"{cpu_scan:.2f} CPU-s)")
        print(f"(c) row-by-row triage: {row_rate:8.0f} rows/s ({len(sample):,} rows sampled)")
        print(f"screen / bare-scan time ratio: {best_screen / best_scan:.2f}x "
              f"(medians {statistics.median(screens) / statistics.median(scans):.2f}x, "
              f"CPU time {cpu_screen / cpu_scan:.2f}x)")
        print(f"screen / row-by-row speed-up:  {screen_rate / row_rate:,.0f}x")
        cli, bare = whole_process(src, out, args.chunk, args.repeat)
        print(f"whole process (best of {args.repeat}): allpath screen {cli:.2f} s, bare python + "
              f"pyarrow read-and-sum {bare:.2f} s: {cli / bare:.2f}x; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        _ = iter_chunks  # the screen reads through allpath.screen.iter_chunks


if __name__ == "__main__":
    main()
