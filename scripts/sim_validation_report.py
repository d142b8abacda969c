"""Write docs/simulator/validation.md: the declarative targets versus simulated cohorts.

The rows, their published values, tolerances, sources and roles (fitted / input / validation)
are ``src/allpath/knowledge/sim/validation_targets.yaml``; this script computes each row's
metric on cohorts simulated with several seeds and reports the mean, the spread (min-max) and
how many seeds fall within tolerance. The cohorts are those of the validation tests
(``allpath.sim.validation.COHORT_N``), so the first seed (2025) reproduces the values of
tests/sim/test_validation_targets.py, ``known_miss.measured`` included.

``scripts/gen_docs.py --check`` renders the report too (:func:`report`) and fails when the file
is stale. Simulating the cohorts takes about 15 s per seed, so each seed's metrics are cached
under ``.cache/sim_validation/`` (git-ignored), keyed by a digest of every file under
``src/allpath`` (code, parameters, protocols, rule packs), this script and the numerical
libraries' versions: any change to what the numbers depend on simulates again.

Run: ``.venv/bin/python scripts/sim_validation_report.py [N] [SEEDS] [--no-cache]`` (N:
children per cohort, the other cohorts scaled with it, default 16000; SEEDS comma-separated,
default ``2025,11,7``).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from allpath.sim import load_config, simulate_cohort
from allpath.sim.cohort import summarise_table
from allpath.sim.immuno import e1910_summary, randomisation_day
from allpath.sim.validation import (
    COHORT_N,
    IMMUNO_PRESETS,
    METRIC_COHORT,
    REPORT_SEEDS,
    ROLES,
    Target,
    adult_metrics,
    immuno_metrics,
    load_targets,
    maintenance_metrics,
    os_at,
    pediatric_long_metrics,
    pediatric_metrics,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = Path("docs") / "simulator" / "validation.md"
CACHE = ROOT / ".cache" / "sim_validation"
LONG = 3654  # 10 years + 1 day
#: libraries whose versions can move the simulated numbers (part of the cache key)
LIBRARIES = ("numpy", "scipy", "lifelines", "pandas", "pyarrow", "jax")


def _cols(cfg: Any, n: int, seed: int) -> dict[str, Any]:
    t = simulate_cohort(cfg, n=n, seed=seed)
    assert not isinstance(t, Path)
    return {k: t.column(k).to_numpy(zero_copy_only=False) for k in t.column_names}


def cohort_sizes(n: int | None = None) -> dict[str, int]:
    """The cohorts of the tests (``COHORT_N``), or scaled so that ``n`` children are simulated
    (the others at least 1000)."""
    if n is None or n == COHORT_N["pediatric"]:
        return dict(COHORT_N)
    scale = n / COHORT_N["pediatric"]
    return {k: n if k == "pediatric" else max(round(v * scale), 1000)
            for k, v in COHORT_N.items()}


def metrics(sizes: Mapping[str, int], seed: int) -> dict[str, float]:
    """Every metric of validation_targets.yaml for one seed, measured by the functions of
    allpath.sim.validation that tests/sim/test_validation_targets.py uses, on cohorts of
    ``sizes`` (keys of ``COHORT_N``)."""
    out: dict[str, float] = {}
    cfg = load_config("pediatric")
    c = _cols(cfg, sizes["pediatric"], seed)
    out.update(pediatric_metrics(c, summarise_table(c)))
    out.update(maintenance_metrics(cfg.parameters, cfg.population, cfg.protocol, seed,
                                   nadir_n=sizes["nadir"]))
    out.update(pediatric_long_metrics(_cols(replace(cfg, horizon_days=LONG),
                                            sizes["pediatric"], seed)))
    a = _cols(load_config("adult"), sizes["adult"], seed)
    out.update(adult_metrics(a, summarise_table(a)))
    out["os5_15_19"] = os_at(_cols(load_config("aya"), sizes["aya"], seed), 5.0, 15, 20)
    out["os5_60"] = os_at(_cols(load_config("older_adult"), sizes["older_adult"], seed), 5.0,
                          60, 200)
    im = {p: _cols(load_config(p), sizes["immuno"], seed) for p in IMMUNO_PRESETS}
    out.update(immuno_metrics({p: summarise_table(v) for p, v in im.items()},
                              float(np.mean(im["tower_blinatumomab"]["hsct"]))))
    for arm, key in (("blinatumomab", "e1910_os_blin"), ("chemotherapy", "e1910_os_chemo")):
        ecfg = load_config(f"e1910_{arm}")
        assert ecfg.immuno is not None and ecfg.immuno.frontline is not None
        day = randomisation_day(ecfg.protocol, ecfg.immuno.frontline.randomisation_phase)
        e = e1910_summary(_cols(ecfg, sizes["e1910"], seed), day)
        out[key] = e["os"]
        if arm == "chemotherapy":
            out["e1910_cr"] = e["cr_rate"]
    missing = sorted(set(METRIC_COHORT) - set(out))
    if missing:
        raise KeyError(f"metrics not computed: {missing}")
    return {k: float(v) for k, v in out.items()}


def inputs_digest(root: Path = ROOT) -> str:
    """SHA-256 of what the simulated metrics depend on: every file under ``root``/src/allpath
    (bar bytecode), this script, the Python version and the numerical libraries' versions."""
    h = hashlib.sha256()
    src = root / "src" / "allpath"
    files = sorted(p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        h.update(str(path.relative_to(root)).encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    h.update(hashlib.sha256(Path(__file__).read_bytes()).digest())
    versions = [platform.python_version()]
    for lib in LIBRARIES:
        try:
            versions.append(f"{lib}={metadata.version(lib)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{lib}=absent")
    h.update(";".join(versions).encode())
    return h.hexdigest()


def cached_metrics(sizes: Mapping[str, int], seed: int, cache: Path | None = CACHE,
                   digest: str | None = None) -> dict[str, float]:
    """:func:`metrics`, read from / written to ``cache`` (None: always simulate) under the
    :func:`inputs_digest`, the cohort sizes and the seed."""
    if cache is None:
        return metrics(sizes, seed)
    sizes_key = "-".join(f"{k}{v}" for k, v in sorted(sizes.items()))
    path = cache / f"{digest or inputs_digest()}-{sizes_key}-seed{seed}.json"
    if path.exists():
        got: dict[str, float] = json.loads(path.read_text(encoding="utf-8"))
        return got
    out = metrics(sizes, seed)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # parallel test workers may race
    tmp.write_text(json.dumps(out, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
    return out


def render(targets: Sequence[Target], runs: Sequence[Mapping[str, float]],
           sizes: Mapping[str, int], seeds: Sequence[int]) -> str:
    """The report's Markdown for ``runs`` (one metrics mapping per seed of ``seeds``)."""
    unknown = sorted({t.metric for t in targets} - set(runs[0]))
    if unknown:
        raise KeyError(f"validation_targets.yaml names metrics the report does not compute: "
                       f"{unknown}")
    rows = []
    counts = {r: [0, 0] for r in ROLES}
    for t in targets:
        vals = np.array([r[t.metric] for r in runs])
        mean = float(np.nanmean(vals)) if np.isfinite(vals).any() else float("nan")
        ok = t.passes(mean)
        k = sum(t.passes(float(v)) for v in vals)
        counts[t.role][0] += int(ok)
        counts[t.role][1] += 1
        spread = f"{np.nanmin(vals):.3f}-{np.nanmax(vals):.3f}"
        shares = ", ".join(t.shares_data_with) or "-"
        if t.note:
            shares += f" ({t.note})"
        verdict = "pass" if ok else "FAIL"
        if t.known_miss is not None:
            verdict += f" (known miss; tests measure {t.known_miss.measured:g})"
        rows.append(f"| `{t.id}` {t.label} | {t.role} | {t.published} | {t.source} | "
                    f"{mean:.3f} | {spread} | {k}/{len(vals)} | {verdict} | {shares} |")
    summary = ", ".join(f"{role} {ok}/{tot}" for role, (ok, tot) in counts.items())
    n = sizes["pediatric"]
    args = "" if (dict(sizes) == COHORT_N and tuple(seeds) == REPORT_SEEDS) else (
        f" {n} {','.join(map(str, seeds))}")
    lines = [
        "# Simulator validation",
        "",
        f"Generated by `scripts/sim_validation_report.py{args}` (checked by "
        "`scripts/gen_docs.py --check`) from the declarative target list "
        "`src/allpath/knowledge/sim/validation_targets.yaml`. "
        f"Each row is measured on cohorts simulated with {len(seeds)} seeds "
        f"({', '.join(map(str, seeds))}): {n} children (5 years, and 10 years for the rows "
        f"after relapse), {sizes['adult']} adults, {sizes['aya']} aya (15-39 y), "
        f"{sizes['older_adult']} older adults, {sizes['immuno']} patients per immunotherapy "
        f"preset and {sizes['e1910']} per E1910 arm; target 7 on the Jost chain of the typical "
        f"child, 1000 children and the induction nadir of {sizes['nadir']} children. The "
        f"cohorts of seed {seeds[0]} are those of tests/sim/test_validation_targets.py. "
        "*Simulated* is the mean over seeds, *spread* the lowest and highest seed, *seeds in "
        "tol.* how many seeds fall within tolerance; *pass* is judged on the mean.",
        "",
        "Roles: **fitted** rows were calibration targets (scripts/sim_calibrate.py, "
        "scripts/sim_calibrate_immuno.py, benchmarks/salvage_identifiability.py; the `fitted` "
        "entries of parameters.yaml, immunotherapy.yaml and relapse_therapy.yaml), **input** "
        "rows check a quantity put into the model, **validation** rows were used in no fit. "
        "Survival after relapse is simulated (allpath.sim.salvage: the packs' salvage roadmap "
        "on the marrow model). Rows outside tolerance and why: "
        "docs/simulator/README.md (Identifiability of the misses) and "
        "`benchmarks/salvage_identifiability.py`; *known miss* rows are strict xfails of "
        "tests/sim/test_validation_targets.py (one test case per row, named by its id), with "
        "the value the tests measure. "
        "*Shares data with*: the rows measured on the same published population or simulated "
        "subgroup, so not independent checks of each other.",
        "",
        f"Within tolerance (mean over seeds): {summary}.",
        "",
        "| Target | Role | Published | Source | Simulated | Spread | Seeds in tol. | Pass | "
        "Shares data with |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    return "\n".join(lines) + "\n"


def report(n: int | None = None, seeds: Sequence[int] = REPORT_SEEDS,
           cache: Path | None = CACHE, progress: bool = False) -> str:
    """The report's text: every seed's metrics (cached, see :func:`cached_metrics`) rendered
    against the bundled target list."""
    sizes = cohort_sizes(n)
    digest = inputs_digest() if cache is not None else None
    runs = []
    for seed in seeds:
        runs.append(cached_metrics(sizes, seed, cache, digest))
        if progress:
            print(f"seed {seed} done", flush=True)
    return render(load_targets(), runs, sizes, seeds)


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--no-cache"]
    n = int(args[0]) if args else None
    seeds = [int(x) for x in args[1].split(",")] if len(args) > 1 else list(REPORT_SEEDS)
    text = report(n, seeds, None if "--no-cache" in sys.argv[1:] else CACHE, progress=True)
    out = ROOT / OUT
    out.write_text(text, encoding="utf-8", newline="\n")
    print(text)


if __name__ == "__main__":
    main()
