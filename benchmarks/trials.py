"""Speed of the trial pre-screen (not a test): registry parsing, screening, centre finding.

Reads the bundled snapshot (308 open studies) and, when the shared data folder is present,
the full ClinicalTrials.gov export of 1,294 ALL studies, then pre-screens every bundled
example patient against all of them (closed studies included, so every study is compared)
``--repeat`` times and reports studies compared per second, the time of one patient's
pre-screen and of a centre search.

    .venv/bin/python benchmarks/trials.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from allpath import assess, load_record
from allpath.examples import example_paths
from allpath.trials import bundled_trials_path, find_centres, match_trials, read_ctgov_csv
from allpath.trials.match import _requirements
from allpath.trials.profile import profile_from_assessment

FULL = Path(__file__).resolve().parents[2] / "shared" / "data" / "ctgov" / \
    "ctgov_export_ALL_pediatric_oncology_subset.csv"


def _best(fn: object, repeat: int, clock: object = time.perf_counter) -> float:
    """Best of ``repeat`` runs by ``clock`` (wall by default; ``time.process_time`` gives the
    CPU time of this process, less disturbed by other work on a shared machine)."""
    times = []
    for _ in range(repeat):
        t0 = clock()  # type: ignore[operator]
        fn()  # type: ignore[operator]
        times.append(clock() - t0)  # type: ignore[operator]
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    import os

    print("load average before: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))

    path = FULL if FULL.exists() else bundled_trials_path()
    t_bundled = _best(lambda: read_ctgov_csv(bundled_trials_path()), args.repeat)
    t_full = _best(lambda: read_ctgov_csv(path), args.repeat)
    trials = read_ctgov_csv(path)
    sites = sum(len(t.sites) for t in trials)
    print(f"registry: {path.name}: {len(trials)} studies, {sites} sites")
    print(f"  parse bundled snapshot (308 studies): {t_bundled * 1e3:8.1f} ms")
    print(f"  parse {len(trials)} studies          : {t_full * 1e3:8.1f} ms "
          f"({len(trials) / t_full:,.0f} studies/s)")

    profiles = [profile_from_assessment(assess(load_record(p))) for p in example_paths()]
    _requirements.cache_clear()
    t0 = time.perf_counter()
    match_trials(profiles[0], trials, include_closed=True, include_excluded=True)
    t_cold = time.perf_counter() - t0
    print(f"pre-screen, first patient (reads every registration): {t_cold * 1e3:.0f} ms "
          f"({len(trials) / t_cold:,.0f} studies/s)")
    per_patient = []
    for prof in profiles:
        per_patient.append(_best(lambda prof=prof: match_trials(  # type: ignore[misc]
            prof, trials, include_closed=True, include_excluded=True), args.repeat))
    total = sum(per_patient)
    compared = len(trials) * len(profiles)
    print(f"pre-screen, registrations already read: {len(profiles)} example patients x "
          f"{len(trials)} studies")
    print(f"  {compared / total:,.0f} studies compared per second; one patient against all "
          f"{len(trials)}: median {statistics.median(per_patient) * 1e3:.0f} ms")
    from dataclasses import replace

    from allpath.trials import bundled_trials

    snapshot = bundled_trials()  # with the criteria text of knowledge/trials/eligibility.yaml
    many = [replace(snapshot[i % len(snapshot)], nct_id=f"NCT{10_000_000 + i}")
            for i in range(10_000)]
    match_trials(profiles[0], many, include_closed=True)  # read every text once
    t_many = [_best(lambda prof=prof: match_trials(  # type: ignore[misc]
        prof, many, include_closed=True), args.repeat) for prof in profiles]
    cpu_many = [_best(lambda prof=prof: match_trials(  # type: ignore[misc]
        prof, many, include_closed=True), args.repeat, time.process_time) for prof in profiles]
    print(f"one patient against 10,000 studies (bundled snapshot repeated, texts read): "
          f"median {statistics.median(t_many) * 1e3:.0f} ms wall, "
          f"{statistics.median(cpu_many) * 1e3:.0f} ms CPU (goal < 100 ms)")
    per_study = statistics.median(per_patient) / len(trials)
    print(f"  distinct registrations ({len(trials)} studies, no repeats) at the same rate: "
          f"{per_study * 1e6:.1f} us per study, {per_study * 1e4 * 1e3:.0f} ms per 10,000")
    t_prof = _best(lambda: [profile_from_assessment(assess(load_record(p)))
                            for p in example_paths()], args.repeat) / len(profiles)
    print(f"  assessment + profile of one record: {t_prof * 1e3:.0f} ms")
    t_c = _best(lambda: find_centres(trials, country="United States",
                                     include_closed=True), args.repeat)
    n_c = len(find_centres(trials, country="United States", include_closed=True))
    print(f"centres: United States, all studies: {n_c} centres in {t_c * 1e3:.1f} ms")
    print("load average after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
