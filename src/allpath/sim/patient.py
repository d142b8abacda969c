"""One virtual patient: daily trajectory, events, a plot, and an ALLPath record.

:func:`simulate_patient` integrates every day to the horizon (no fast-forward) and keeps the
trajectory ``(n_days + 1, n_states)``. :func:`to_record` samples it at protocol time points into
the ``allpath.record/1`` format consumed by the pathway; :func:`plot_patient` draws counts and
marrow blasts with the treatment phases as bands.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from allpath.sim.base import Array, patient_randoms
from allpath.sim.engine import counts, run_batch
from allpath.sim.outcomes import RunResult
from allpath.sim.params import ParameterSet, Protocol, load_parameters, load_protocols
from allpath.sim.population import N_NORMAL, N_UNIFORM, SUBTYPES, Batch, make_batch

__all__ = ["PatientRun", "load_profile", "measured_series", "measurement_rng", "pack_run",
           "plot_patient", "simulate_patient", "to_record"]


@dataclass(frozen=True)
class PatientRun:
    """A simulated patient: profile, outcome columns (scalars) and daily series.

    ``series`` maps ``anc``, ``wbc``, ``platelets`` (10^9/L), ``hemoglobin`` (g/dL),
    ``blast_fraction`` (marrow, 0-1), ``pb_blasts`` (10^9/L), ``tgn`` and ``dose_mg`` to arrays of
    shape ``(n_days + 1,)``; ``states`` is ``(n_days + 1, n_states)``.
    """

    profile: dict[str, Any]
    outcome: dict[str, float]
    series: dict[str, Array]
    states: Array
    protocol: Protocol
    phase_starts: tuple[int, ...]


def load_profile(path: str | Path) -> dict[str, Any]:
    """Read a profile YAML/JSON, or an ``allpath.record/1`` record, into a profile dict.

    Profile keys: ``id``, ``population`` (``pediatric``/``adult``), ``age`` (years), ``sex``,
    ``subtype``, ``diagnosis_date``, ``birth_date``. A record contributes ``id``, ``sex``,
    ``birth_date`` and ``diagnosis_date`` (age is derived).
    """
    with Path(path).open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    prof: dict[str, Any] = {}
    if str(raw.get("format", "")).startswith("allpath.record/"):
        for key in ("id", "sex", "birth_date", "diagnosis_date"):
            if key in raw:
                prof[key] = raw[key]
    else:
        prof.update(raw)
    if "age" not in prof and "birth_date" in prof and "diagnosis_date" in prof:
        b = dt.date.fromisoformat(str(prof["birth_date"]))
        d = dt.date.fromisoformat(str(prof["diagnosis_date"]))
        prof["age"] = (d - b).days / 365.25
    return prof


def simulate_patient(
    profile: dict[str, Any] | None = None,
    seed: int = 0,
    horizon_days: int | None = None,
    parameters: ParameterSet | None = None,
) -> PatientRun:
    """Simulate one virtual patient day by day.

    Parameters
    ----------
    profile:
        Optional fixed covariates (``age``, ``sex``, ``subtype``, ``population``); unspecified
        ones are drawn from the population preset with ``seed``.
    horizon_days:
        Days to simulate (default: end of therapy + 2 years).
    """
    prof = dict(profile or {})
    ps = parameters or load_parameters()
    pop_name = str(prof.get("population") or ("adult" if float(prof.get("age", 5)) >= 18
                                                else "pediatric"))
    pop = ps.populations[pop_name]
    if "age" in prof:
        a = float(prof["age"])
        pop = replace(pop, age={"distribution": "uniform", "low": a, "high": a})
    if "sex" in prof:
        pop = replace(pop, male_fraction=1.0 if str(prof["sex"]).lower() == "male" else 0.0)
    if "subtype" in prof:
        if prof["subtype"] not in SUBTYPES:
            raise ValueError(f"unknown subtype {prof['subtype']!r}; known: {SUBTYPES}")
        pop = replace(pop, subtypes={str(prof["subtype"]): 1.0}, subtypes_by_age=())
    protocol = load_protocols()[pop.protocol]
    horizon = horizon_days if horizon_days is not None else protocol.therapy_days + 730
    z, u = patient_randoms(seed, 0, 1, N_NORMAL, N_UNIFORM)
    batch = make_batch(ps, pop, protocol, np.arange(1), z, u)
    res = run_batch(ps, protocol, batch, horizon, fast_forward=False, keep_trajectory=True)
    return pack_run(prof, batch, res, protocol)


def pack_run(prof: dict[str, Any], batch: Batch, res: RunResult, protocol: Protocol) -> PatientRun:
    assert res.trajectory is not None and res.doses is not None
    c = counts(batch, res.trajectory)
    series = {k: v[0] for k, v in c.items()}
    series["tgn"] = res.trajectory[0, :, 19]
    series["dose_mg"] = res.doses[0]
    outcome = {k: float(v[0]) for k, v in res.columns.items()}
    age = float(batch.age[0])
    dx = str(prof.get("diagnosis_date", "2025-01-06"))
    if "birth_date" in prof:
        birth = str(prof["birth_date"])
    else:
        birth = (dt.date.fromisoformat(dx) - dt.timedelta(days=round(age * 365.25))).isoformat()
    profile: dict[str, Any] = {
        "id": str(prof.get("id", "virtual-0")),
        "age": age,
        "sex": "male" if bool(batch.male[0]) else "female",
        "subtype": SUBTYPES[int(batch.subtype[0])],
        "diagnosis_date": dx,
        "birth_date": birth,
    }
    return PatientRun(profile, outcome, series, res.trajectory[0], protocol, res.phase_starts)


def _obs(code: str, value: float, unit: str, when: dt.date, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code, "value": round(float(value), 6), "unit": unit,
                           "time": when.isoformat()}
    out.update(extra)
    return out


def measurement_rng(seed: int, patient: int = 0) -> np.random.Generator:
    """The random generator of patient ``patient``'s measurement noise in a run with ``seed``
    (its own stream, :data:`RECORD_STREAM`, so it never shifts the simulation's draws)."""
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(seed, spawn_key=(patient, RECORD_STREAM))))


#: Spawn-key tag of the record measurement noise (see :func:`measurement_rng`).
RECORD_STREAM = 4


def measured_series(run: PatientRun, rng: np.random.Generator | None,
                    parameters: ParameterSet | None = None) -> dict[str, Array]:
    """The daily series of ``run`` as a laboratory would report them (the values
    :func:`to_record` writes): with ``rng`` (e.g. :func:`measurement_rng`) ANC with the
    residual error ``anc_residual_cv`` (WBC moves with it) and marrow blasts counted among
    ``marrow_cells_counted`` cells; without ``rng`` the model's series unchanged."""
    s = run.series
    if rng is None:
        return s
    ps = parameters or load_parameters()
    pop = str(run.profile.get("population") or ("adult" if float(run.profile["age"]) >= 18
                                                 else "pediatric"))
    omega = math.sqrt(math.log1p(ps.value("anc_residual_cv", pop) ** 2))
    anc = s["anc"] * np.exp(omega * rng.standard_normal(s["anc"].shape) - 0.5 * omega**2)
    n_cells = ps.value("marrow_cells_counted", pop)
    blasts = rng.poisson(np.clip(s["blast_fraction"], 0.0, 1.0) * n_cells)
    return {**s, "anc": anc, "wbc": s["wbc"] - s["anc"] + anc,
            "blast_fraction": np.minimum(blasts, n_cells) / n_cells}


def to_record(run: PatientRun, rng: np.random.Generator | None = None,
              parameters: ParameterSet | None = None) -> dict[str, Any]:
    """The patient's observations at protocol time points as an ``allpath.record/1`` dict.

    Counts (``wbc``, ``hemoglobin``, ``platelets``, ``anc``) at diagnosis, days 8, 15, 29, each
    phase start and every 4 weeks of maintenance; ``marrow_blasts`` (%) at diagnosis, day 15 and
    day 29; ``mrd_blood`` (day 8, flow) and ``mrd_marrow`` (day 29 flow, day 78 PCR) in %;
    a marrow at relapse when one occurs. MRD values carry the assays' counting noise and are 0
    below the detection limit. With ``rng`` (e.g. :func:`measurement_rng`) the other values
    are as measured too: ANC with the maintenance ANC model's residual error
    (``anc_residual_cv``, log-normal, mean-preserving; the WBC moves with it) and marrow blasts
    counted among ``marrow_cells_counted`` cells; Hb and platelets stay the model's values (the
    parameter set has no cited analyser error for them). Without ``rng``: the model's values.
    """
    dx = dt.date.fromisoformat(run.profile["diagnosis_date"])
    s = measured_series(run, rng, parameters)
    n_days = s["anc"].shape[0] - 1
    count_days = {0, 8, 15, 29, *run.phase_starts}
    maint = [st for st, ph in zip(run.phase_starts, run.protocol.phases, strict=True)
             if ph.maintenance]
    if maint:
        count_days.update(range(maint[0], run.protocol.therapy_days + 1, 28))
    obs: list[dict[str, Any]] = []
    for d in sorted(x for x in count_days if x <= n_days):
        when = dx + dt.timedelta(days=d)
        obs.append(_obs("wbc", s["wbc"][d], "10*9/L", when))
        obs.append(_obs("hemoglobin", s["hemoglobin"][d], "g/dL", when))
        obs.append(_obs("platelets", s["platelets"][d], "10*9/L", when))
        obs.append(_obs("anc", s["anc"][d], "10*9/L", when))
    for d in (0, 15, 29):
        if d <= n_days:
            obs.append(_obs("marrow_blasts", 100 * s["blast_fraction"][d], "%",
                            dx + dt.timedelta(days=d)))
    o = run.outcome
    if not math.isnan(o.get("mrd_blood_d8", math.nan)):
        obs.append(_obs("mrd_blood", 100 * o["mrd_blood_d8"], "%", dx + dt.timedelta(days=8),
                        method="flow"))
    if not math.isnan(o.get("mrd_eoi_flow", math.nan)):
        obs.append(_obs("mrd_marrow", 100 * o["mrd_eoi_flow"], "%", dx + dt.timedelta(days=29),
                        method="flow"))
    if not math.isnan(o.get("mrd_d78_pcr", math.nan)):
        obs.append(_obs("mrd_marrow", 100 * o["mrd_d78_pcr"], "%", dx + dt.timedelta(days=78),
                        method="pcr"))
    if o.get("relapse") == 1.0 and int(o["relapse_day"]) <= n_days:
        d = int(o["relapse_day"])
        obs.append(_obs("marrow_blasts", 100 * s["blast_fraction"][d], "%",
                        dx + dt.timedelta(days=d)))
    obs.sort(key=lambda x: str(x["time"]))
    treatment = [
        {"phase": ph.name, "start": (dx + dt.timedelta(days=st)).isoformat()}
        for st, ph in zip(run.phase_starts, run.protocol.phases, strict=True)
        if st <= n_days
    ]
    return {
        "format": "allpath.record/1",
        "id": run.profile["id"],
        "sex": run.profile["sex"],
        "birth_date": run.profile["birth_date"],
        "diagnosis_date": run.profile["diagnosis_date"],
        "source": "allpath.sim (virtual patient; not a real person)",
        "observations": obs,
        "treatment": treatment,
    }


def plot_patient(run: PatientRun, path: str | Path) -> Path:
    """Plot ANC, platelets, Hb and marrow blasts (log) with phase bands; write a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = run.series
    days = np.arange(s["anc"].shape[0])
    fig, axes = plt.subplots(4, 1, figsize=(10, 9), sharex=True)
    panels = (
        ("anc", "ANC (10^9/L)", False),
        ("platelets", "Platelets (10^9/L)", False),
        ("hemoglobin", "Hb (g/dL)", False),
        ("blast_fraction", "Marrow blasts (fraction)", True),
    )
    colours = ("#dbe9f6", "#fde9d9", "#e2f0d9", "#ede2f6", "#fff2cc", "#e7e6e6")
    ends = (*run.phase_starts[1:], run.protocol.therapy_days)
    for ax, (key, label, log) in zip(axes, panels, strict=True):
        for i, (st, en) in enumerate(zip(run.phase_starts, ends, strict=True)):
            ax.axvspan(st, en, color=colours[i % len(colours)], lw=0)
        values = np.maximum(s[key], 1e-12) if log else s[key]
        ax.plot(days, values, color="black", lw=1.2)
        if log:
            ax.set_yscale("log")
            ax.axhline(1e-4, color="grey", ls=":", lw=0.8)
            ax.axhline(0.05, color="red", ls=":", lw=0.8)
        ax.set_ylabel(label)
    from matplotlib.patches import Patch

    bands = [Patch(color=colours[i % len(colours)], label=ph.name.replace("_", " "))
             for i, ph in enumerate(run.protocol.phases)]
    axes[0].legend(handles=bands, loc="lower center", bbox_to_anchor=(0.5, 1.0),
                   ncol=min(len(bands), 6), fontsize=7, frameon=False)
    o = run.outcome
    for key, colour in (("relapse_day", "red"), ("death_day", "black")):
        t = o.get(key, math.nan)
        if not math.isnan(t) and t <= days[-1]:
            for ax in axes:
                ax.axvline(t, color=colour, ls="--", lw=1)
    axes[-1].set_xlabel("days from diagnosis")
    p = run.profile
    fig.suptitle(f"Virtual patient {p['id']}: {p['sex']}, {p['age']:.1f} y, {p['subtype']}")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
