"""Risk-based protocol assignment by the roadmap pack, with the roadmap templates' phases.

Cohort option ``roadmap: pack`` (CLI ``--roadmap pack``). At diagnosis every virtual patient's
facts - lineage, age, BCR::ABL1 for Ph+ B-ALL, the B-ALL genetic subgroup drawn as in
:mod:`allpath.sim.records`, and the simulated WBC - go through the genetics and risk packs
(``risk.nci_rome``) and then the **roadmap pack** (``roadmap.template``, front-line setting,
with its own provisional assumptions while end-of-induction MRD is pending). The chosen
template (``knowledge/protocols/<id>.yaml``, the same files ``allpath roadmap`` prints) becomes
a simulator :class:`~allpath.sim.params.Protocol` (:func:`protocol_from_template`): its phases
in order, with lengths from the template's calendar (fixed lengths and "until" rules, e.g.
maintenance until two years from the start of interim maintenance), each taking the
phase-level exposure of the base protocol's phase of the same kind
(``knowledge/sim/roadmap_phases.yaml``). Maintenance titration and risk-adaptation settings
come from the base protocol.

Patients are grouped by template and each group is simulated by the cohort kernel; all draws
are per patient, so a patient's course does not depend on who else is in the chunk. Templates
with a phase kind the mapping does not cover keep their patients on the base protocol,
flagged ``roadmap_simulated`` 0.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from allpath.knowledge import parse_yaml
from allpath.rules.vectorised import evaluate_pack_columns, term_column
from allpath.sim.base import Array
from allpath.sim.closed_loop import diagnosis_facts
from allpath.sim.model import PARAMS, steady_state
from allpath.sim.outcomes import RunResult
from allpath.sim.params import Phase, Protocol
from allpath.sim.pathway import load_pack
from allpath.sim.population import Batch, U

__all__ = [
    "PhaseKinds",
    "assign_templates",
    "diagnosis_wbc",
    "load_phase_kinds",
    "protocol_from_template",
    "run_by_roadmap",
    "take_batch",
]

_PI = {name: i for i, name in enumerate(PARAMS)}

#: Templates the roadmap pack can choose in the front-line setting (its ``values`` order).
FRONTLINE = ("interfant", "ph-pos-paediatric", "ph-pos-tki-chemo-adult", "cog-t-all",
             "cog-b-hr", "cog-b-sr-high", "cog-b-sr", "calgb-10403",
             "adult-ph-neg-b-blinatumomab", "adult-hyper-cvad")


@dataclass(frozen=True)
class PhaseKinds:
    """``roadmap_phases.yaml``: template phase kind -> base protocol phase (None: no drug)."""

    version: str
    kinds: Mapping[str, str | None]
    reference_start: dt.date


@cache
def load_phase_kinds() -> PhaseKinds:
    """The bundled phase-kind mapping, checked: every target is a base protocol phase name."""
    path = resources.files("allpath").joinpath("knowledge", "sim", "roadmap_phases.yaml")
    raw = parse_yaml(path.read_text(encoding="utf-8"))
    if raw.get("schema") != "allpath.sim.roadmap_phases/1":
        raise ValueError(f"roadmap_phases.yaml: schema {raw.get('schema')!r} is not "
                         "'allpath.sim.roadmap_phases/1'")
    kinds = raw.get("kinds")
    if not isinstance(kinds, dict) or not kinds:
        raise ValueError("roadmap_phases.yaml: kinds: expected a mapping of phase kinds")
    return PhaseKinds(str(raw["version"]),
                      {str(k): None if v is None else str(v) for k, v in kinds.items()},
                      dt.date.fromisoformat(str(raw["reference_start"])))


def protocol_from_template(template_id: str, base: Protocol,
                           kinds: PhaseKinds | None = None) -> Protocol | None:
    """The simulator protocol of a roadmap template on ``base``'s exposures, or None when one
    of its phase kinds has no exposure model."""
    from allpath.roadmap.calendar import plan_phases
    from allpath.roadmap.templates import load_templates

    kinds = kinds or load_phase_kinds()
    template = load_templates()[template_id]
    by_name = {ph.name: ph for ph in base.phases}
    phases: list[Phase] = []
    for pd in plan_phases(template, kinds.reference_start):
        kind = pd.phase.kind
        if kind not in kinds.kinds:
            return None
        target = kinds.kinds[kind]
        if target is None:
            phases.append(Phase(pd.phase.id, pd.length_days, 0.0, 0.0, 0.0, 0.0))
            continue
        if target not in by_name:
            raise ValueError(f"roadmap_phases.yaml: kinds.{kind}: {target!r} is not a phase "
                             f"of protocol {base.name!r} ({sorted(by_name)})")
        src = by_name[target]
        theta_days = src.theta_days if src.theta_days is None else min(src.theta_days,
                                                                        pd.length_days)
        phases.append(replace(src, name=pd.phase.id, days=pd.length_days,
                              prophase_days=min(src.prophase_days, pd.length_days),
                              theta_days=theta_days))
    if not phases or phases[0].maintenance:
        return None
    augmented = base.augmented_phase if base.augmented_phase in {p.name for p in phases} else None
    return replace(base, name=f"{base.name}@{template_id}", phases=tuple(phases),
                   version=f"{base.version}+{template.id}-{template.version}",
                   augmented_phase=augmented)


def diagnosis_wbc(batch: Batch) -> Array:
    """WBC at diagnosis (10^9/L) as the cohort kernel computes it (model steady state)."""
    p = batch.p
    y0 = steady_state(p, batch.ln_l_s, batch.ln_l_r)
    lnk = p[:, _PI["lnK_N"]]
    x0 = np.exp(y0[:, 0] - lnk) + np.exp(y0[:, 1] - lnk)
    out: Array = y0[:, 6] + batch.alc + batch.q_pb * x0**batch.pb_exponent
    return out


def assign_templates(batch: Batch, wbc_dx: Array) -> npt.NDArray[np.int64]:
    """The roadmap pack's front-line template for every patient (codes into
    :data:`FRONTLINE`, -1 where the pack leaves it undecided)."""
    n = batch.n
    facts = diagnosis_facts(batch.population, batch.subtype, batch.age, wbc_dx,
                            batch.uniforms[:, U["genetics"]])
    facts["roadmap.setting"] = term_column(np.zeros(n), ("frontline",))
    evaluate_pack_columns(load_pack("risk"), facts, n, ("risk.nci_rome",))
    res = evaluate_pack_columns(load_pack("roadmap"), facts, n, ("roadmap.template",))
    return res["roadmap.template"].value_codes(FRONTLINE)


def take_batch(batch: Batch, idx: npt.NDArray[np.integer[Any]]) -> Batch:
    """The patients ``idx`` of ``batch`` (every per-patient array indexed)."""
    n = batch.n
    values: dict[str, Any] = {}
    for f in fields(batch):
        v = getattr(batch, f.name)
        if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == n:
            v = v[idx]
            if f.name == "p":
                v = np.asfortranarray(v)
        values[f.name] = v
    return Batch(**values)


def run_by_roadmap(batch: Batch, base: Protocol,
                   run: Callable[[Protocol, Batch, npt.NDArray[np.int64]], RunResult]
                   ) -> tuple[dict[str, Array], npt.NDArray[np.object_]]:
    """Simulate each template group with ``run(protocol, sub_batch, rows)``; return the
    per-patient columns in the batch's order plus the template names (None: undecided, kept
    on ``base``). Adds ``roadmap_simulated`` (1: the template's own phases) and
    ``therapy_days``."""
    codes = assign_templates(batch, diagnosis_wbc(batch))
    n = batch.n
    names = np.array([*FRONTLINE, None], dtype=object)[np.where(codes >= 0, codes,
                                                                len(FRONTLINE))]
    cols: dict[str, Array] = {}
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        proto = None if code < 0 else _protocol(FRONTLINE[int(code)], base)
        res = run(proto or base, take_batch(batch, rows), rows)
        extra = {"roadmap_simulated": np.full(rows.size, 0.0 if proto is None else 1.0),
                 "therapy_days": np.full(rows.size, float((proto or base).therapy_days))}
        for key, vals in {**res.columns, **extra}.items():
            if key not in cols:
                cols[key] = np.full(n, math.nan)
            cols[key][rows] = vals
    return cols, names


@cache
def _protocol(template_id: str, base: Protocol) -> Protocol | None:
    return protocol_from_template(template_id, base)
