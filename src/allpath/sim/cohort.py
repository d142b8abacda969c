"""Cohorts of virtual patients: generation in seeded chunks, Parquet streaming and a summary.

``simulate_cohort(config, n, seed, chunk_size, workers=W)`` draws patients chunk by chunk;
patient k's random numbers come from a fixed block stream
(:func:`allpath.sim.base.patient_randoms`) and every computation is elementwise along the patient
axis, so the same seed gives the same patients and outcomes bit for bit whatever the chunk size
and the number of worker processes (:func:`simulate_cohort`) or Dask workers
(:func:`simulate_cohort_dask`). Chunks are computed with at most ``2 x workers`` in flight and
appended to a Parquet file in patient order, so memory is bounded by a few chunks for any N.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import pickle
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from typing import Protocol as TypingProtocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from allpath.io import atomic_output
from allpath.sim.base import patient_randoms
from allpath.sim.checkpoints import CODED_COLUMNS, CheckpointPolicy, decode, parse_checkpoints
from allpath.sim.checkpoints import N_UNIFORM as N_CHECKPOINT_U
from allpath.sim.checkpoints import STREAM as CP_STREAM
from allpath.sim.closed_loop import (
    NOISE_STREAM,
    TitrationConfig,
    parse_titration,
    visit_noise_columns,
)
from allpath.sim.cohort_stats import (
    BATCH_ROWS,
    ExactMedian,
    KaplanMeierAt,
    Source,
    parquet_batches,
    table_batches,
)
from allpath.sim.engine import run_batch
from allpath.sim.fast import run_cohort_batch
from allpath.sim.immuno import ImmunoSetup, immuno_preset, relapsed_chunk, summarise_relapsed
from allpath.sim.outcomes import DAYS_PER_MONTH, RunResult
from allpath.sim.params import (
    ParameterSet,
    Population,
    Protocol,
    load_parameters,
    load_protocols,
)
from allpath.sim.population import N_NORMAL, N_UNIFORM, SUBTYPES, Batch, make_batch
from allpath.sim.roadmaps import FRONTLINE, protocol_from_template, run_by_roadmap

__all__ = [
    "DEFAULT_CHUNK",
    "CohortConfig",
    "chunk_table",
    "load_config",
    "maintenance_summary",
    "simulate_cohort",
    "simulate_cohort_dask",
    "summarise",
    "summarise_table",
]

#: Patients per chunk: large enough to amortise numpy call overhead, small enough for cache.
DEFAULT_CHUNK = 16_384

GENOTYPE_NAMES = ("NM", "IM", "PM")


@dataclass(frozen=True)
class CohortConfig:
    """What to simulate: population preset (possibly overridden), protocol, horizon, numerics."""

    population: Population
    protocol: Protocol
    parameters: ParameterSet
    horizon_days: int = 1827  # 5 years + 1 day, so that 5-yr KM estimates are defined
    substeps: int | None = None
    name: str = "pediatric"
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: ``fast`` (:func:`allpath.sim.fast.run_cohort_batch`), ``reference``
    #: (:func:`allpath.sim.engine.run_batch`, all 20 states in float64) or ``jax``
    #: (:func:`allpath.sim.jax_kernel.run_cohort_batch_jax`: the fast kernel's default path on
    #: JAX's default device, GPU when there is one; needs the ``jax`` extra).
    kernel: str = "fast"
    #: Maintenance titration policy (:mod:`allpath.sim.closed_loop`); None: the kernel's
    #: built-in rule without the pack's visit tallies (the calibrated default).
    titration: TitrationConfig | None = None
    #: ``pack``: MRD-based re-stratification by the risk pack at the end of induction, with
    #: the protocol's augmented phase for high-risk patients; None: not run.
    intensification: str | None = None
    #: Pathway checkpoints (:mod:`allpath.sim.checkpoints`): the response pack calls remission
    #: at the end of induction and the relapse pack detects and classifies relapses; None: the
    #: kernel's built-in calls from the true burden (the calibrated default).
    checkpoints: CheckpointPolicy | None = None
    #: ``pack``: each patient's protocol is the roadmap template the roadmap pack chooses at
    #: diagnosis, on this protocol's exposures (:mod:`allpath.sim.roadmaps`); None: one
    #: protocol for the cohort (the calibrated default).
    roadmap: str | None = None
    #: Immunotherapy preset (:mod:`allpath.sim.immuno`): an r/r study (simulated by
    #: :func:`allpath.sim.immuno.simulate_relapsed`) or a frontline protocol with blinatumomab
    #: cycles; None for the plain presets.
    immuno: ImmunoSetup | None = None


def load_config(
    preset: str = "pediatric",
    path: str | Path | None = None,
    parameters: ParameterSet | None = None,
) -> CohortConfig:
    """Build a :class:`CohortConfig` from a preset name and an optional YAML file.

    The YAML may set ``preset``, ``horizon_days``, ``substeps``, ``male_fraction``,
    ``subtypes`` (fractions summing to 1), ``age_years`` (distribution spec as in
    ``parameters.yaml``), ``ancestry`` (a row of ``pharmacogenetics_by_ancestry``: TPMT/NUDT15
    phenotype frequencies) and ``titration`` (a policy name ``protocol`` / ``fixed`` / ``pack``
    or a mapping with ``policy``, ``every_weeks``, ``basis``, ``pack_dir``; see
    :mod:`allpath.sim.closed_loop`). Presets are those of ``parameters.yaml`` and the
    immunotherapy presets of ``immunotherapy.yaml`` (``tower_blinatumomab``, ``eliana_cart``,
    ``e1910_blinatumomab``, ...).
    """
    ps = parameters or load_parameters()
    raw: dict[str, Any] = {}
    if path is not None:
        with Path(path).open(encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or {}
        preset = str(raw.get("preset", preset))
    setup = None if preset in ps.populations else immuno_preset(preset, ps)
    if preset not in ps.populations and setup is None:
        from allpath.sim.immuno import preset_names

        known = sorted([*ps.populations, *preset_names()])
        raise KeyError(f"unknown preset {preset!r}; known: {known}")
    pop = ps.populations[preset] if setup is None else setup.population
    if "male_fraction" in raw:
        pop = replace(pop, male_fraction=float(raw["male_fraction"]))
    if "subtypes" in raw:  # one mix for all ages (replaces the preset's subtypes_by_age)
        pop = replace(pop, subtypes={str(k): float(v) for k, v in raw["subtypes"].items()},
                      subtypes_by_age=())
    if "age_years" in raw:
        pop = replace(pop, age=dict(raw["age_years"]))
    if "ancestry" in raw:
        anc = None if raw["ancestry"] is None else str(raw["ancestry"])
        if anc is not None and anc not in ps.ancestries:
            raise KeyError(f"unknown ancestry {anc!r}; known: {sorted(ps.ancestries)}")
        pop = replace(pop, ancestry=anc)
    if setup is None:
        protocol = load_protocols()[str(raw.get("protocol", pop.protocol))]
    else:
        protocol = setup.protocol
    return CohortConfig(
        population=pop,
        protocol=protocol,
        parameters=ps,
        horizon_days=int(raw.get("horizon_days", 1827 if setup is None else setup.horizon_days)),
        substeps=None if raw.get("substeps") is None else int(raw["substeps"]),
        name=preset,
        extra=raw,
        titration=_absolute_pack_dir(parse_titration(raw.get("titration"))),
        intensification=parse_intensification(raw.get("intensification")),
        checkpoints=parse_checkpoints(raw.get("checkpoints")),
        roadmap=parse_roadmap(raw.get("roadmap")),
        immuno=setup,
    )


def _absolute_pack_dir(cfg: TitrationConfig | None) -> TitrationConfig | None:
    """A relative ``titration.pack_dir`` made absolute (against the working folder, as it was
    read before), so that worker processes and Dask workers started in another folder load the
    same pack."""
    if cfg is None or cfg.pack_dir is None or Path(cfg.pack_dir).is_absolute():
        return cfg
    return replace(cfg, pack_dir=str(Path(cfg.pack_dir).absolute()))


def _pack_or_none(raw: Any, key: str) -> str | None:
    """A closed-loop switch of a cohort YAML: ``pack`` (on) or ``none`` / absent (off)."""
    if raw in (None, "none", False):
        return None
    if raw != "pack":
        raise ValueError(f"{key}: expected 'pack' or 'none', got {raw!r}")
    return "pack"


def parse_roadmap(raw: Any) -> str | None:
    """``roadmap`` of a cohort YAML: ``pack`` or ``none``."""
    return _pack_or_none(raw, "roadmap")


def parse_intensification(raw: Any) -> str | None:
    """``intensification`` of a cohort YAML: ``pack`` or ``none``."""
    return _pack_or_none(raw, "intensification")


def chunk_table(cfg: CohortConfig, start: int, stop: int, seed: int) -> pa.Table:
    """Patients ``start .. stop - 1`` of the cohort with ``seed``, one row each.

    A pure function of its arguments: any process or Dask worker computes the same table.
    """
    if cfg.kernel == "jax" and cfg.immuno is not None:
        raise ValueError("kernel 'jax': immunotherapy presets are not supported (default path "
                         "only); use kernel 'fast'")
    if cfg.immuno is not None and cfg.immuno.relapsed is not None:
        return pa.table(relapsed_chunk(cfg.immuno, cfg.parameters, cfg.population, cfg.protocol,
                                       cfg.horizon_days, start, stop, seed))
    z, u = patient_randoms(seed, start, stop, N_NORMAL, N_UNIFORM)
    ids = np.arange(start, stop)
    batch = make_batch(cfg.parameters, cfg.population, cfg.protocol, ids, z, u)
    immune = None if cfg.immuno is None else cfg.immuno.drive(batch, seed)
    cp_u = None if cfg.checkpoints is None else patient_randoms(
        seed, start, stop, 0, N_CHECKPOINT_U, stream=CP_STREAM)[1]
    visit_z = _visit_z(cfg, start, stop, seed)

    def run(protocol: Protocol, b: Batch, rows: np.ndarray[Any, Any]) -> RunResult:
        return run_cohort_batch(
            cfg.parameters, protocol, b, cfg.horizon_days, cfg.substeps,
            titration=cfg.titration, intensify=cfg.intensification == "pack", immune=immune,
            checkpoints=cfg.checkpoints, checkpoint_u=None if cp_u is None else cp_u[rows],
            visit_z=None if visit_z is None else visit_z[rows])

    templates = None
    if cfg.kernel == "jax":
        from allpath.sim.jax_kernel import run_cohort_batch_jax

        if cfg.roadmap is not None:
            raise ValueError("kernel 'jax': option 'roadmap' is not supported (default path "
                             "only); use kernel 'fast'")
        columns = run_cohort_batch_jax(
            cfg.parameters, cfg.protocol, batch, cfg.horizon_days, cfg.substeps,
            titration=cfg.titration, intensify=cfg.intensification == "pack", immune=immune,
            checkpoints=cfg.checkpoints, visit_z=visit_z).columns
    elif cfg.kernel == "reference":
        columns = run_batch(cfg.parameters, cfg.protocol, batch, cfg.horizon_days,
                            cfg.substeps, immune=immune).columns
    elif cfg.roadmap == "pack":
        if immune is not None:
            raise ValueError("roadmap: pack does not combine with an immunotherapy preset yet")
        by_template, templates = run_by_roadmap(batch, cfg.protocol, run)
        columns = {k: by_template[k] for k in sorted(by_template)}
    else:
        columns = run(cfg.protocol, batch, np.arange(batch.n)).columns
    data: dict[str, Any] = {
        "id": ids,
        "age": batch.age,
        "sex": np.where(batch.male, "male", "female"),
        "subtype": np.array(SUBTYPES, dtype=object)[batch.subtype],
        "tpmt": np.array(GENOTYPE_NAMES, dtype=object)[batch.genotype],
        "nudt15": np.array(GENOTYPE_NAMES, dtype=object)[batch.nudt15],
        "bsa": batch.bsa,
    }
    if templates is not None:
        data["roadmap_template"] = templates
    data.update(columns)
    for key, vocab in CODED_COLUMNS.items():
        if key in data:
            data[key] = decode(data[key], vocab)
    return pa.table(data)


def _visit_z(cfg: CohortConfig, start: int, stop: int, seed: int) -> np.ndarray[Any, Any] | None:
    """Normals for the titration visits' ANC noise (own stream), or None when it is off."""
    if cfg.titration is None or not cfg.titration.anc_noise:
        return None
    k = visit_noise_columns(cfg.titration, cfg.protocol)
    if cfg.roadmap == "pack":  # room for the longest template
        k = max([k, *(visit_noise_columns(cfg.titration, p) for p in
                      (protocol_from_template(t, cfg.protocol) for t in FRONTLINE)
                      if p is not None)])
    z: np.ndarray[Any, Any] = patient_randoms(seed, start, stop, k, 0, stream=NOISE_STREAM)[0]
    return z


class _Pending(TypingProtocol):
    """A chunk being computed (concurrent.futures or distributed future)."""

    def result(self) -> Any: ...


def _ordered(
    submit: Callable[[int, int], _Pending],
    bounds: Iterable[tuple[int, int]],
    window: int,
) -> Iterator[tuple[int, pa.Table]]:
    """Submit chunks with at most ``window`` in flight; yield ``(size, table)`` in order."""
    pending: deque[tuple[int, _Pending]] = deque()
    for start, stop in bounds:
        pending.append((stop - start, submit(start, stop)))
        if len(pending) >= window:
            size, fut = pending.popleft()
            yield size, fut.result()
    while pending:
        size, fut = pending.popleft()
        yield size, fut.result()


def _collect(
    tables: Iterable[tuple[int, pa.Table]],
    out: str | Path | None,
    progress: Callable[[int], None] | None,
) -> pa.Table | Path:
    """Stream ordered chunk tables to Parquet (``out``) or concatenate them.

    The Parquet file is written under a temporary name beside ``out`` and renamed onto it only
    after the last chunk (:func:`allpath.io.atomic_output`): a run that fails or is interrupted
    part way leaves no file that looks like a finished cohort, and any earlier ``out``
    untouched.
    """
    if out is None:
        kept: list[pa.Table] = []
        for size, table in tables:
            kept.append(table)
            if progress is not None:
                progress(size)
        return pa.concat_tables(kept)
    with atomic_output(out) as tmp:
        writer: pq.ParquetWriter | None = None
        try:
            for size, table in tables:
                if writer is None:
                    writer = pq.ParquetWriter(str(tmp), table.schema)
                writer.write_table(table)
                if progress is not None:
                    progress(size)
        finally:
            if writer is not None:
                writer.close()
    return Path(out)


class _Done:
    """An already computed chunk."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def result(self) -> pa.Table:
        return self._table


def simulate_cohort(
    config: CohortConfig | str = "pediatric",
    n: int = 10_000,
    seed: int = 0,
    chunk_size: int = DEFAULT_CHUNK,
    out: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> pa.Table | Path:
    """Simulate ``n`` virtual patients; return the per-patient table or write it to Parquet.

    Parameters
    ----------
    config:
        A :class:`CohortConfig` or a preset name (``pediatric``, ``adult``).
    n, seed:
        Cohort size and seed; patient k is identical for any ``chunk_size`` and ``workers``.
    chunk_size:
        Patients integrated at once (memory ~ chunk_size x 12 states x 6 float32 buffers).
    out:
        Parquet path; when given, chunks are streamed to it and the path is returned.
    progress:
        Called with the number of patients finished in each chunk.
    workers:
        Worker processes (chunk-level parallelism); 1 runs in this process. Kernel ``jax``
        always runs in this process (one device; XLA threads the CPU itself).

    Returns
    -------
    A :class:`pyarrow.Table` with one row per patient (columns documented in
    docs/simulator/README.md), or the Parquet path.
    """
    cfg = load_config(config) if isinstance(config, str) else config
    bounds = list(iter_chunks(n, chunk_size))
    if workers <= 1 or len(bounds) <= 1 or cfg.kernel == "jax":
        def run_here(start: int, stop: int) -> _Pending:
            return _Done(chunk_table(cfg, start, stop, seed))

        return _collect(_ordered(run_here, bounds, 1), out, progress)
    methods = multiprocessing.get_all_start_methods()
    # fork is unsafe once JAX (kernel "jax", multithreaded) has started in this process
    fork = "fork" in methods and "jax" not in sys.modules
    ctx = multiprocessing.get_context("fork" if fork else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        def submit(start: int, stop: int) -> _Pending:
            return pool.submit(chunk_table, cfg, start, stop, seed)

        return _collect(_ordered(submit, bounds, 2 * workers), out, progress)


def simulate_cohort_dask(
    config: CohortConfig | str = "pediatric",
    n: int = 10_000,
    seed: int = 0,
    chunk_size: int = DEFAULT_CHUNK,
    out: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    scheduler: Any = None,
    window: int | None = None,
    *,
    connect_timeout: float | None = None,
    n_workers: int = 2,
    announce: Callable[[str], None] | None = None,
) -> pa.Table | Path:
    """Simulate a cohort on a Dask cluster: seeded chunks as tasks, streamed back in order.

    ``scheduler`` is a ``distributed.Client``, a scheduler address (``tcp://host:8786``,
    reached within ``connect_timeout`` seconds, default :func:`allpath.cluster.connect_timeout`),
    or None for a local cluster of ``n_workers`` single-threaded worker processes. At most
    ``window`` chunks (default 2 per worker thread) are in flight or waiting to be written, so
    memory stays bounded for any ``n``; ``progress`` is called as each chunk finishes, in any
    order; the file is written in patient order and is identical to :func:`simulate_cohort`
    with the same seed.

    Every task carries the pickled config itself (about 20 kB), nothing is scattered, so
    Dask can recompute any chunk on any worker: the run survives workers restarting, one or
    all at once (a chunk the cluster cancels is submitted again, see
    :func:`allpath.cluster.run_ordered`). A wrong address or a lost scheduler raises
    :class:`allpath.cluster.ClusterError`, and no file is written (:func:`_collect`).
    """
    from allpath.cluster import Task, open_client, run_ordered

    cfg = load_config(config) if isinstance(config, str) else config
    blob = pickle.dumps(cfg, protocol=pickle.HIGHEST_PROTOCOL)
    tasks = [Task(_chunk_from_blob, (blob, start, stop, seed), stop - start,
                  f"patients {start}-{stop - 1}")
             for start, stop in iter_chunks(n, chunk_size)]

    def finished(task: Task) -> None:
        if progress is not None:
            progress(task.size)

    with open_client(scheduler, timeout=connect_timeout, n_workers=n_workers,
                     announce=announce) as client:
        results = run_ordered(client, tasks, window=window, on_finished=finished,
                              notify=announce)
        return _collect(((t.size, table) for t, table in zip(tasks, results, strict=True)),
                        out, None)


@functools.lru_cache(maxsize=4)
def _config_from_blob(blob: bytes) -> CohortConfig:
    """The config a Dask task carries, unpickled once per worker process and config."""
    cfg: CohortConfig = pickle.loads(blob)  # our own pickle, made by the client
    return cfg


def _chunk_from_blob(blob: bytes, start: int, stop: int, seed: int) -> pa.Table:
    """:func:`chunk_table` on a worker, with the config as the task's own argument."""
    return chunk_table(_config_from_blob(blob), start, stop, seed)


FIVE_YEARS = 5 * 365.25
CHECKPOINT_TIMING = ("very_early", "early", "late")
EOI_RESPONSES = ("CR", "CRi", "refractory", "PD")
SALVAGE_TEMPLATES = ("rr-blinatumomab", "hsct", "rr-t-nelarabine")


class _Median:
    """A median over the rows of a mask (None: all rows), by :class:`ExactMedian`."""

    def __init__(self, column: str, mask: str | None) -> None:
        self.column, self.mask = column, mask
        self.stat = ExactMedian()

    def add(self, batch: Mapping[str, np.ndarray[Any, Any]],
            masks: Mapping[str, np.ndarray[Any, Any]]) -> None:
        values = batch[self.column]
        self.stat.add(values if self.mask is None else values[masks[self.mask]])


class _CohortStats:
    """The frontline cohort summary accumulated over batches (see :func:`summarise`)."""

    def __init__(self, names: Iterable[str]) -> None:
        have = set(names)
        self.checkpoints = "relapse_timing_cog" in have
        self.response = self.checkpoints and "response_eoi" in have
        self.roadmap = "roadmap_template" in have
        self.maintenance = "maint_visits" in have
        cols = ["id", "cr", "induction_death", "mrd_eoi_flow", "relapse", "relapse_day",
                "efs_day", "efs_event", "os_day", "death", "wbc_dx", "hemoglobin_dx",
                "platelets_dx"]
        self.medians: dict[str, _Median] = {
            "wbc": _Median("wbc_dx", None),
            "hemoglobin": _Median("hemoglobin_dx", None),
            "platelets": _Median("platelets_dx", None),
        }
        if self.checkpoints:
            cols += ["relapse_timing_cog", "relapse_marrow_blasts_obs", "relapse_repeat_marrows",
                     "relapse_template"]
            if self.response:
                cols.append("response_eoi")
            self.medians["relapse_marrow_blasts"] = _Median("relapse_marrow_blasts_obs", "rel")
        if self.roadmap:
            cols += ["roadmap_template", "roadmap_simulated"]
        if self.maintenance:
            cols += ["maint_visits", "maint_years", "maint_anc_visit_median",
                     "anc_maintenance_mean", "maint_visits_in_target",
                     "maint_visits_anc_in_window", "maint_visits_at_hold_limit", "maint_holds",
                     "mp_dose_mean_mg_m2", "maint_visits_undetermined"]
            self.medians["maint_anc"] = _Median("maint_anc_visit_median", "seen")
            self.medians["maint_anc_daily"] = _Median("anc_maintenance_mean", "seen")
            self.medians["maint_mp_dose"] = _Median("mp_dose_mean_mg_m2", "seen")
        self.columns = cols
        self.count: Counter[str] = Counter()
        self.sums: dict[str, list[float]] = {}
        self.efs = KaplanMeierAt(FIVE_YEARS)
        self.os = KaplanMeierAt(FIVE_YEARS)

    def median_columns(self) -> list[str]:
        """Columns the unsettled medians need for another pass."""
        out: list[str] = []
        for m in self.medians.values():
            if not m.stat.done:
                for col in (m.column, {"rel": "relapse", "seen": "maint_visits"}.get(
                        m.mask or "")):
                    if col is not None and col not in out:
                        out.append(col)
        return out

    @staticmethod
    def _masks(batch: Mapping[str, np.ndarray[Any, Any]]) -> dict[str, np.ndarray[Any, Any]]:
        masks: dict[str, np.ndarray[Any, Any]] = {}
        if "relapse" in batch:
            masks["rel"] = batch["relapse"] == 1
        if "maint_visits" in batch:
            masks["seen"] = batch["maint_visits"] > 0
        return masks

    def add_medians(self, batch: Mapping[str, np.ndarray[Any, Any]]) -> None:
        masks = self._masks(batch)
        for m in self.medians.values():
            if not m.stat.done:
                m.add(batch, masks)

    def end_pass(self) -> bool:
        """Close a pass over the data; True when every median is settled."""
        for m in self.medians.values():
            m.stat.end_pass()
        return all(m.stat.done for m in self.medians.values())

    def _sum(self, key: str, values: np.ndarray[Any, Any]) -> None:
        self.sums.setdefault(key, []).append(math.fsum(values.tolist()))

    def add(self, b: Mapping[str, np.ndarray[Any, Any]]) -> None:
        """First pass: counts, sums, Kaplan-Meier tallies and the medians' first pass."""
        c = self.count
        masks = self._masks(b)
        rel = masks["rel"]
        c["n"] += int(b["id"].shape[0])
        c["cr"] += int(np.count_nonzero(b["cr"] == 1))
        self._sum("induction_death", b["induction_death"])
        mrd = b["mrd_eoi_flow"]
        c["mrd_low"] += int(np.count_nonzero(mrd < 1e-4))
        c["mrd_mid"] += int(np.count_nonzero((mrd >= 1e-4) & (mrd < 1e-3)))
        c["mrd_high"] += int(np.count_nonzero(mrd >= 1e-3))
        c["rel"] += int(np.count_nonzero(rel))
        months = b["relapse_day"][rel] / DAYS_PER_MONTH
        c["very_early"] += int(np.count_nonzero(months < 18))
        c["early"] += int(np.count_nonzero((months >= 18) & (months < 36)))
        c["late"] += int(np.count_nonzero(months >= 36))
        self.efs.add(b["efs_day"], b["efs_event"] == 1)
        self.os.add(b["os_day"], b["death"] == 1)
        if self.checkpoints:
            timing = b["relapse_timing_cog"][rel]
            for k in CHECKPOINT_TIMING:
                c[f"cog_{k}"] += int(np.count_nonzero(timing == k))
            if self.response:
                resp = b["response_eoi"]
                for k in EOI_RESPONSES:
                    c[f"eoi_{k}"] += int(np.count_nonzero(resp == k))
            c["repeat_marrow"] += int(np.count_nonzero(b["relapse_repeat_marrows"][rel] > 0))
            template = b["relapse_template"][rel]
            for k in SALVAGE_TEMPLATES:
                c[f"salvage_{k}"] += int(np.count_nonzero(template == k))
        if self.roadmap:
            names = np.asarray(b["roadmap_template"])
            for k in {str(v) for v in names}:
                c[f"roadmap:{k}"] += int(np.count_nonzero(names == k))
            c["roadmap_simulated"] += int(np.count_nonzero(b["roadmap_simulated"] == 1))
        if self.maintenance:
            seen = masks["seen"]
            c["seen"] += int(np.count_nonzero(seen))
            for key in ("maint_visits", "maint_years", "maint_visits_in_target",
                        "maint_visits_anc_in_window", "maint_visits_at_hold_limit",
                        "maint_holds", "maint_visits_undetermined"):
                self._sum(key, b[key])
        for m in self.medians.values():
            m.add(b, masks)

    def total(self, key: str) -> float:
        return math.fsum(self.sums.get(key, []))

    def result(self) -> dict[str, Any]:
        c = self.count
        n = c["n"]

        def share(count: float, of: int) -> float:
            return count / of if of else math.nan

        n_rel = max(c["rel"], 1)
        out: dict[str, Any] = {
            "n": n,
            "cr_rate": share(c["cr"], n),
            "induction_death_rate": share(self.total("induction_death"), n),
            "eoi_mrd": {
                "below_1e-4": share(c["mrd_low"], n),
                "1e-4_to_1e-3": share(c["mrd_mid"], n),
                "at_least_1e-3": share(c["mrd_high"], n),
            },
            "relapse_rate": share(c["rel"], n),
            "relapse_timing_cog": {k: c[k] / n_rel for k in CHECKPOINT_TIMING},
            "efs_5y": self.efs.value,
            "os_5y": self.os.value,
            "diagnosis_counts": {k: self.medians[k].stat.value
                                 for k in ("wbc", "hemoglobin", "platelets")},
        }
        if self.checkpoints:
            out["relapse_timing_cog"] = {k: c[f"cog_{k}"] / n_rel for k in CHECKPOINT_TIMING}
            block: dict[str, float] = {}
            if self.response:
                for k in EOI_RESPONSES:
                    block[f"eoi_{k}"] = share(c[f"eoi_{k}"], n)
            if c["rel"]:
                block["relapse_marrow_blasts_median"] = \
                    self.medians["relapse_marrow_blasts"].stat.value
                block["relapse_repeat_marrow_share"] = c["repeat_marrow"] / c["rel"]
                for k in SALVAGE_TEMPLATES:
                    block[f"salvage_{k}"] = c[f"salvage_{k}"] / c["rel"]
            out["checkpoints"] = block
        if self.roadmap:
            names = sorted(k.split(":", 1)[1] for k in c if k.startswith("roadmap:"))
            roadmap = {k: share(c[f"roadmap:{k}"], n) for k in names}
            roadmap["simulated_share"] = share(c["roadmap_simulated"], n)
            out["roadmap"] = roadmap
        if self.maintenance:
            out["maintenance"] = self._maintenance()
        return out

    def _maintenance(self) -> dict[str, float]:
        total = max(self.total("maint_visits"), 1.0)
        years = max(self.total("maint_years"), 1e-9)
        seen = self.count["seen"] > 0
        return {
            "anc_median": self.medians["maint_anc"].stat.value if seen else math.nan,
            "anc_daily_mean_median": self.medians["maint_anc_daily"].stat.value
            if seen else math.nan,
            "visits_in_target": self.total("maint_visits_in_target") / total,
            "visits_anc_in_window": self.total("maint_visits_anc_in_window") / total,
            "visits_at_hold_limit": self.total("maint_visits_at_hold_limit") / total,
            "holds_per_patient_year": self.total("maint_holds") / years,
            "mp_dose_mean_mg_m2": self.medians["maint_mp_dose"].stat.value
            if seen else math.nan,
            "undetermined": self.total("maint_visits_undetermined") / total,
        }


def summarise_source(source: Source, names: Sequence[str]) -> dict[str, Any]:
    """The summary of a cohort whose columns ``names`` ``source`` reads in batches.

    Frontline cohorts are summarised in one pass for the counts, sums and Kaplan-Meier tallies
    plus, usually, one more pass over the median columns (:class:`ExactMedian`); the results
    are those of the whole table in memory, and memory does not grow with the cohort.
    Relapsed/refractory study cohorts (a ``response`` column; trial-sized) are read whole.
    """
    if "response" in names and "cr" not in names:  # r/r immunotherapy cohort
        whole: dict[str, list[np.ndarray[Any, Any]]] = {}
        for batch in source(list(names)):
            for k, v in batch.items():
                whole.setdefault(k, []).append(v)
        return summarise_relapsed({k: np.concatenate(v) for k, v in whole.items()})
    stats = _CohortStats(names)
    for batch in source(stats.columns):
        stats.add(batch)
    while not stats.end_pass():
        for batch in source(stats.median_columns()):
            stats.add_medians(batch)
    return stats.result()


def summarise_table(cols: Mapping[str, np.ndarray[Any, Any]]) -> dict[str, Any]:
    """Summary statistics of a per-patient column mapping (see :func:`summarise`)."""
    return summarise_source(table_batches(cols), list(cols))


def checkpoint_summary(cols: Mapping[str, np.ndarray[Any, Any]]) -> dict[str, Any]:
    """Figures of a cohort run with pathway checkpoints (:mod:`allpath.sim.checkpoints`):
    the relapse pack's COG timing classes replace the month count, plus the response pack's
    end-of-induction calls (fractions of all patients), the marrow at relapse detection and the
    salvage roadmaps."""
    s = summarise_table(cols)
    return {"relapse_timing_cog": s["relapse_timing_cog"], "checkpoints": s["checkpoints"]}


def maintenance_summary(cols: Mapping[str, np.ndarray[Any, Any]]) -> dict[str, float]:
    """Closed-loop maintenance figures over visits in CR (alive, not relapsed).

    ``anc_median``: median over patients of each patient's median visit ANC (10^9/L);
    ``anc_daily_mean_median``: median of the daily mean ANC in maintenance;
    ``visits_in_target``: fraction of visits the titration pack judges ``within`` target
    (its ``counts`` decision: NOPHO WBC window, or the ANC window with ``basis: anc``);
    ``visits_anc_in_window``: fraction within the pack's ANC window;
    ``visits_at_hold_limit``: fraction at which the pack's hold rule fires;
    ``holds_per_patient_year``: holds started per patient-year of maintenance visits;
    ``mp_dose_mean_mg_m2``: median of the mean 6-MP dose; ``undetermined``: fraction of visits
    without a pack decision.
    """
    out: dict[str, float] = summarise_table(cols)["maintenance"]
    return out


def summarise(result: pa.Table | str | Path, batch_rows: int = BATCH_ROWS) -> dict[str, Any]:
    """Summary of a cohort (table or Parquet path) as a plain dict.

    Keys: ``n``, ``cr_rate``, ``induction_death_rate``, ``eoi_mrd`` (fractions ``below_1e-4``,
    ``1e-4_to_1e-3``, ``at_least_1e-3`` of all patients, flow assay), ``relapse_rate``,
    ``relapse_timing_cog`` (fractions of relapses ``very_early`` < 18 months, ``early`` 18 to
    < 36, ``late`` >= 36, COG convention, Rheingold 2024), ``efs_5y`` and ``os_5y``
    (Kaplan-Meier by lifelines), ``diagnosis_counts`` (medians of ``wbc``
    10^9/L, ``hemoglobin`` g/dL, ``platelets`` 10^9/L); ``checkpoints``, ``roadmap`` and
    ``maintenance`` blocks for cohorts run with those options.

    A Parquet file is streamed ``batch_rows`` rows at a time, reading only the columns the
    summary uses (:func:`summarise_source`): client memory stays bounded for any cohort size.
    """
    if isinstance(result, pa.Table):
        cols = {name: result.column(name).to_numpy(zero_copy_only=False)
                for name in result.column_names}
        return summarise_table(cols)
    names = pq.read_schema(str(result)).names
    return summarise_source(parquet_batches(result, batch_rows), names)


def iter_chunks(total: int, chunk_size: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` pairs covering ``range(total)``."""
    for start in range(0, total, chunk_size):
        yield start, min(total, start + chunk_size)
