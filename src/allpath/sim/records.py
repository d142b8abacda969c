"""Closed-loop hook: virtual patients as ``allpath.record/1`` records that the pathway reads.

:func:`cohort_records` simulates chosen patients of a cohort (same seed, same patients as
:func:`allpath.sim.simulate_cohort`) day by day and writes each as a record: the observations of
:func:`allpath.sim.patient.to_record` plus what the pathway needs to call it ALL and stratify it:

* an ``immunophenotype`` block consistent with the simulated lineage (B-ALL and Ph+ B-ALL:
  B markers; T-ALL: T markers), dated at diagnosis;
* a ``genetics`` block from the simulated subtype: Ph+ B-ALL -> ``BCR::ABL1`` (p190);
  B-ALL -> a genetic subgroup drawn from ``knowledge/sim/record_genetics.yaml``
  (``ETV6::RUNX1`` fusion, high hyperdiploidy as ``chromosome_count``, or B-other);
  T-ALL -> no fusion, 46 chromosomes;
* CSF at diagnosis (cell count and cytospin, CNS1: no CNS disease is modelled);
* ``extramedullary`` all false and the treatment phase starts.

``allpath.assess(allpath.parse_record(rec))`` then yields the diagnosis and the NCI and COG risk
groups. The genetic subgroup labels the record only; it does not change the simulated course.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from allpath.sim.base import patient_randoms
from allpath.sim.cohort import CohortConfig, load_config
from allpath.sim.engine import run_batch
from allpath.sim.patient import measurement_rng, pack_run, to_record
from allpath.sim.population import N_NORMAL, N_UNIFORM, SUBTYPES, U, make_batch

__all__ = ["cohort_records", "genetics_block", "immunophenotype_block"]


@cache
def _spec() -> dict[str, Any]:
    path = Path(str(resources.files("allpath").joinpath("knowledge", "sim",
                                                          "record_genetics.yaml")))
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def genetics_block(subtype: str, population: str, u: float, when: dt.date) -> dict[str, Any]:
    """The record's genetics for a simulated ``subtype``; ``u`` in [0, 1) picks the subgroup."""
    spec = _spec()
    block: dict[str, Any] = {"time": when.isoformat(), "alterations": []}
    if subtype == "Ph+ B-ALL":
        block.update(chromosome_count=46, fusions=["BCR::ABL1"], bcr_abl1_transcript="p190")
        return block
    if subtype == "T-ALL":
        block.update(chromosome_count=46, fusions=[])
        return block
    fractions = spec["b_all_subgroups"].get(population, spec["b_all_subgroups"]["pediatric"])
    names = list(fractions)
    cum = np.cumsum([float(fractions[k]) for k in names])
    group = names[min(int(np.searchsorted(cum, u, side="right")), len(names) - 1)]
    if group == "high_hyperdiploid":
        block.update(chromosome_count=int(spec["hyperdiploid_chromosome_count"]), fusions=[])
    elif group == "B-other":
        block.update(chromosome_count=46, fusions=[])
    else:
        block.update(chromosome_count=46, fusions=[group])
    return block


def immunophenotype_block(subtype: str, when: dt.date) -> dict[str, Any]:
    """Flow cytometry of the blasts consistent with the simulated lineage."""
    lineage = "T" if subtype == "T-ALL" else "B"
    return {"time": when.isoformat(), "markers": dict(_spec()["markers"][lineage])}


def cohort_records(
    config: CohortConfig | str,
    ids: list[int] | np.ndarray[Any, Any],
    seed: int,
    horizon_days: int | None = None,
    measured: bool = True,
) -> list[dict[str, Any]]:
    """Records of cohort patients ``ids`` (seed ``seed``), simulated day by day.

    Patient k is the k-th patient of ``simulate_cohort(config, n, seed)`` for any n > k (same
    random rows); its trajectory is integrated with the reference engine (all 20 states) so the
    record holds counts, marrow blasts and MRD at protocol time points, as measured
    (:func:`allpath.sim.patient.to_record` with the patient's :func:`measurement_rng`) unless
    ``measured`` is false. ``horizon_days`` defaults to the end of therapy.
    """
    cfg = load_config(config) if isinstance(config, str) else config
    horizon = horizon_days if horizon_days is not None else cfg.protocol.therapy_days
    spec = _spec()
    out: list[dict[str, Any]] = []
    for k in (int(i) for i in ids):
        z, u = patient_randoms(seed, k, k + 1, N_NORMAL, N_UNIFORM)
        batch = make_batch(cfg.parameters, cfg.population, cfg.protocol, np.array([k]), z, u)
        res = run_batch(cfg.parameters, cfg.protocol, batch, horizon, fast_forward=False,
                        keep_trajectory=True)
        run = pack_run({"id": f"virtual-{seed}-{k}"}, batch, res, cfg.protocol)
        rec = to_record(run, measurement_rng(seed, k) if measured else None, cfg.parameters)
        dx = dt.date.fromisoformat(run.profile["diagnosis_date"])
        subtype = SUBTYPES[int(batch.subtype[0])]
        csf_wbc = float(np.floor(u[0, U["csf"]] * (int(spec["csf_wbc_max"]) + 1)))
        rec["observations"] = [
            *rec["observations"],
            {"code": "csf_wbc", "value": csf_wbc, "unit": "/uL", "time": dx.isoformat()},
            {"code": "csf_rbc", "value": 0.0, "unit": "/uL", "time": dx.isoformat()},
            {"code": "csf_blasts", "value": "absent", "time": dx.isoformat()},
        ]
        rec["immunophenotype"] = immunophenotype_block(subtype, dx)
        rec["genetics"] = genetics_block(subtype, cfg.population.name,
                                         float(u[0, U["genetics"]]),
                                         dx + dt.timedelta(days=3))
        rec["extramedullary"] = {"testicular": False, "mediastinal_mass": False,
                                 "cns_clinical_signs": False}
        rec["steroid_pretreatment"] = False
        out.append(rec)
    return out
