"""In-process cost of one assessment (not a test): median and worst per case.

Runs ``allpath.assess`` (the pathway stages) and, separately, ``assess(...).to_dict()`` (what
the CLI and the API return) on every bundled example record (src/allpath/examples/*.yaml)
and on the shared pathway vignettes (../shared/vignettes/pathway, or $ALLPATH_SHARED), after
one warm-up call per case (knowledge and catalogues cached). Also reports how much of the
time goes to the possible-groups search (``rules.engine._possible``).

    .venv/bin/python benchmarks/assess.py [--repeat 15] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from pathlib import Path
from typing import Any

import yaml

import allpath
from allpath.examples import example_paths

REPO = Path(__file__).resolve().parent.parent


def _shared() -> Path | None:
    env = os.environ.get("ALLPATH_SHARED")
    for c in ([Path(env)] if env else []) + [REPO.parent / "shared", REPO.parent.parent / "shared"]:
        if (c / "vignettes").is_dir():
            return c
    return None


def cases() -> list[tuple[str, dict[str, Any]]]:
    """(name, record document) for every bundled example and shared pathway vignette."""
    out = [(p.stem, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in example_paths()]
    shared = _shared()
    if shared is None:
        print("note: ../shared not found; vignettes left out")
    else:
        for p in sorted((shared / "vignettes" / "pathway").glob("*.yaml")):
            out.append((p.stem, yaml.safe_load(p.read_text(encoding="utf-8"))["record"]))
    return out


def _time(fn: Any, repeat: int) -> list[float]:
    fn()  # warm-up
    lat = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        lat.append((time.perf_counter() - t0) * 1e3)
    return lat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--profile", action="store_true", help="cProfile one pass over all cases")
    args = ap.parse_args()
    allpath.load_knowledge()
    rows = []
    print(f"{'case':34} {'assess med':>10} {'worst':>8} {'+to_dict med':>12} {'worst':>8}  ms")
    for name, doc in cases():
        record = allpath.parse_record(doc)
        a = _time(lambda r=record: allpath.assess(r), args.repeat)
        d = _time(lambda r=record: allpath.assess(r).to_dict(), args.repeat)
        rows.append((name, a, d))
        print(f"{name:34} {statistics.median(a):10.2f} {max(a):8.2f} "
              f"{statistics.median(d):12.2f} {max(d):8.2f}")
    med_a = [statistics.median(a) for _, a, _ in rows]
    med_d = [statistics.median(d) for _, _, d in rows]
    print(f"{'ALL cases: median of medians':34} {statistics.median(med_a):10.2f} "
          f"{max(med_a):8.2f} {statistics.median(med_d):12.2f} {max(med_d):8.2f}"
          "   (worst = slowest case median)")
    if args.profile:
        records = [allpath.parse_record(doc) for _, doc in cases()]
        prof = cProfile.Profile()
        prof.enable()
        for r in records:
            allpath.assess(r).to_dict()
        prof.disable()
        stats = pstats.Stats(prof)
        stats.sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
