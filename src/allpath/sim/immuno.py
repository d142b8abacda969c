"""Immunotherapy in the simulator: blinatumomab and CAR-T exposure and kill, r/r cohorts.

Two CD19-directed agents are added to the leukaemia model (models.md §6, §9.2 ``k_imm``), with
parameters as data in ``knowledge/sim/immunotherapy.yaml``:

**Blinatumomab** (CD19 x CD3 bispecific). One-compartment PK with a half-life of ~2 h
(CL 2.22 L/h, V 5.98 L, Clements 2020), so during a continuous infusion the concentration is
at steady state within hours and is taken as C_i = rate / CL_i, with
CL_i = CL_pop (BSA_i / BSA_ref)^e_CL exp(eta_i) (CL falls with body size). Kill of CD19+ cells::

    k_blin,i(t) = kappa_blin * E(C_i) * 1 / (1 + L_i(t) / L_ref),     E(C) = C^n / (EC50^n + C^n)

with EC50 = EC90 / 9^(1/n) from the in-vitro EC90 470 pg/mL (n = 1). The second factor is the
effector-to-target term T_eff/(T_eff + L/L_ref) with T_eff = 1 (T cells are not modelled):
killing saturates when the leukaemic burden L is large compared with L_ref, which is what makes
blinatumomab work better on MRD than on overt relapse (BLAST 78 % MRD response versus TOWER
44 % remission).

**CAR-T** (tisagenlecleucel; Stein et al. 2019 final model). Transgene level after one infusion
at t = 0::

    C(t) = (Cmax/foldx) e^{rho t},                                   t < Tmax, rho = ln(foldx)/Tmax
    C(t) = Cmax [(1 - FB) e^{-alpha (t - Tmax)} + FB e^{-beta (t - Tmax)}],   t >= Tmax

with log-normal IIV on all six parameters. The kill is proportional to the level (models.md
§6) and, like blinatumomab's, saturates with the effector-to-target ratio::

    k_CAR,i(t) = kappa_CAR (C_i(t) / C_ref) / (1 + L_i(t) / L_ref)

The second factor is an assumption of this module, not in models.md: both agents kill through
T cells redirected to CD19, so the same L_ref is used (no new parameter). Without it the
calibrated kill (ELIANA remission 81 %) leaves too little CD19+ disease extinct: relapse-free
survival of responders at 12 months stays at 52 % with no CD19-negative clone at all (target
59 %, Maude 2018). The integral of C over any interval is exact (:meth:`CarKinetics.exposure`).

**CD19-negative subclone.** Each patient's minor (resistant) clone is CD19-negative with
probability p_CD19neg; neither agent kills it (models.md §9.2: ``k_imm (1 - cd19neg)``).

Relapsed/refractory cohorts (:func:`simulate_relapsed`) use the same two log-scale clones as the
frontline model (:mod:`allpath.sim.model`): the CD19+ bulk ``lnL_S`` and the minor clone
``lnL_R`` (fraction f_R of parameters.yaml, chemo-sensitivity rho_i, CD19-negative or not), with
the patient's growth rate r_i, marrow size K_N and extinction threshold (models.md §3.5) drawn
by :func:`allpath.sim.population.make_batch`::

    x = (e^{lnL_S} + e^{lnL_R}) / K_N,   B = x / (1 + x)  (marrow blast fraction)
    d lnL_S/dt = r_i (1 - x K_N/K_L) - s_i k_chemo(t) - k_blin,i(t) - k_CAR,i(t)
    d lnL_R/dt = r_i (1 - x K_N/K_L) - rho_i s_i k_chemo(t) - (k_blin,i + k_CAR,i)(1 - cd19neg_i)

(:class:`RelapseModel`). Relapsed disease grows at the untreated rate r_i throughout (the
frontline model's slower r_post after therapy was fitted to childhood late relapses; with it,
remissions after salvage chemotherapy last 14 months instead of TOWER's 4.4). Salvage
chemotherapy is a phase-level exposure kappa_salv over one course (models.md §7 level A).
Remission is B < 5 % (or MRD below 1e-4 for an MRD study) at one of the protocol's assessment
days; relapse is B >= 5 % afterwards; death has the hazard h_dis B(t) while the disease is
active: from the first assessment for patients not in remission, and after relapse (deaths
during the first weeks of treatment, a few per cent in the trials, are not modelled). Days are
integrated by Strang splitting, with the logistic growth solved exactly and the CAR-T kill by
its exact integral (:meth:`RelapseModel.step_day`); ``tests/sim/test_immunotherapy.py`` holds
it against LSODA.

Frontline protocols get blinatumomab cycles through :func:`frontline_protocol` (phases with no
chemotherapy kill) and :class:`ImmuneDrive` (per-day kill of both clones, the resistant one
only when CD19+), which the cohort kernel and the reference engine subtract from the ln-burden
derivatives.

Random numbers: everything here draws from a second per-patient stream
(:func:`allpath.sim.base.patient_randoms` with ``stream=IMMUNO_STREAM``), so the main draws of
a patient never change and a seed gives the same result for any chunk size.

Parts: :mod:`allpath.sim.immuno_params` (the parser of ``immunotherapy.yaml``),
:mod:`allpath.sim.immuno_pkpd` (exposure and kill), :mod:`allpath.sim.immuno_model` (draws,
the r/r model, the frontline drive), :mod:`allpath.sim.immuno_relapsed` (the r/r simulator and
its summaries); this module adds the frontline protocols and the cohort presets and exports the
public names of all of them.

References
----------
models.md §§3.5, 5.4, 6, 9.2, 10 (targets 11-12); Clements 2020; Stein 2019 CPT:PSP 8:285;
Kantarjian 2017 NEJM 376:836; Gokbuget 2018 Blood 131:1522; von Stackelberg 2016 JCO 34:4381;
Maude 2018 NEJM 378:439; Laetsch 2023 JCO 41:1664; Litzow 2024 NEJM 391:320.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from allpath.sim.base import patient_randoms
from allpath.sim.immuno_model import (
    IMMUNO_NORMALS,
    IMMUNO_STREAM,
    IMMUNO_UNIFORMS,
    N_IMMUNO_NORMAL,
    N_IMMUNO_UNIFORM,
    RR_INDEX,
    RR_PARAMS,
    ImmuneDrive,
    ImmunoDrive,
    ImmunoPatients,
    RelapseModel,
    draw_patients,
    entry_state,
    immuno_randoms,
    relapse_parameters,
)
from allpath.sim.immuno_params import (
    AGENTS,
    REQUIRED,
    Course,
    FrontlineSpec,
    ImmunoParameters,
    RelapsedCohort,
    load_immunotherapy,
    parse_immunotherapy,
)
from allpath.sim.immuno_pkpd import (
    CarKinetics,
    KillConstants,
    blin_concentration,
    blin_effect,
    ec50_from_ec90,
    immune_log_kill,
)
from allpath.sim.immuno_relapsed import simulate_relapsed, summarise_relapsed
from allpath.sim.params import (
    ParameterSet,
    Phase,
    Population,
    Protocol,
    load_protocols,
)
from allpath.sim.population import N_NORMAL, N_UNIFORM, SUBTYPES, Batch, make_batch
from allpath.sim.survival import km_at

__all__ = [
    "AGENTS",
    "IMMUNO_NORMALS",
    "IMMUNO_STREAM",
    "IMMUNO_UNIFORMS",
    "N_IMMUNO_NORMAL",
    "N_IMMUNO_UNIFORM",
    "REQUIRED",
    "RR_INDEX",
    "RR_PARAMS",
    "CarKinetics",
    "Course",
    "FrontlineSpec",
    "ImmuneDrive",
    "ImmunoDrive",
    "ImmunoParameters",
    "ImmunoPatients",
    "ImmunoSetup",
    "KillConstants",
    "RelapseModel",
    "RelapsedCohort",
    "blin_concentration",
    "blin_effect",
    "draw_patients",
    "e1910_summary",
    "ec50_from_ec90",
    "entry_state",
    "frontline_protocol",
    "immune_log_kill",
    "immuno_preset",
    "immuno_randoms",
    "load_immunotherapy",
    "parse_immunotherapy",
    "preset_names",
    "randomisation_day",
    "relapse_parameters",
    "relapsed_chunk",
    "simulate_relapsed",
    "summarise_relapsed",
]

# --------------------------------------------------------------------------------------------
# frontline hook: blinatumomab cycles inside a protocol
# --------------------------------------------------------------------------------------------


def frontline_protocol(base: Protocol, spec: FrontlineSpec) -> tuple[Protocol, tuple[float, ...]]:
    """The base protocol with blinatumomab cycles inserted, and the infusion rate (µg/d) of
    every therapy day (0 outside infusions).

    A cycle is a phase of ``cycle_days`` with no chemotherapy kill and no myelosuppression; its
    first ``infusion_days`` carry the cycle's rate. Cycles may follow any phase before
    maintenance.
    """
    unknown = set(spec.insert_after) - {ph.name for ph in base.phases}
    if unknown:
        raise KeyError(f"{spec.name}: no phase {sorted(unknown)} in {base.name}")
    phases: list[Phase] = []
    rate: list[float] = []
    k = 0
    for ph in base.phases:
        phases.append(ph)
        rate += [0.0] * ph.days
        doses = spec.insert_after.get(ph.name, ())
        if doses and ph.maintenance:
            raise ValueError(f"{spec.name}: blinatumomab cycles must come before maintenance")
        for dose in doses:
            k += 1
            phases.append(Phase(name=f"blinatumomab_{k}", days=spec.cycle_days, kill=0.0,
                                theta_neutrophils=0.0, theta_platelets=0.0,
                                theta_erythroid=0.0))
            rate += [dose] * spec.infusion_days + [0.0] * (spec.cycle_days - spec.infusion_days)
    protocol = replace(base, name=spec.name if spec.insert_after else base.name,
                       phases=tuple(phases))
    return protocol, tuple(rate)


def randomisation_day(protocol: Protocol, phase: str) -> int:
    """Day at which ``phase`` ends (E1910 randomised after intensification)."""
    for start, ph in zip(protocol.phase_starts(), protocol.phases, strict=True):
        if ph.name == phase:
            return start + ph.days
    raise KeyError(phase)


# --------------------------------------------------------------------------------------------
# presets and cohort plumbing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImmunoSetup:
    """What a cohort preset of this module carries in ``CohortConfig.immuno``."""

    name: str
    parameters: ImmunoParameters
    population: Population
    protocol: Protocol
    horizon_days: int
    relapsed: RelapsedCohort | None = None
    frontline: FrontlineSpec | None = None
    rate_ug_d: tuple[float, ...] = ()

    def drive(self, batch: Batch, seed: int) -> ImmuneDrive | None:
        """The frontline blinatumomab drive of ``batch`` (None when the protocol has none)."""
        if not any(self.rate_ug_d):
            return None
        start = int(batch.ids[0]) if batch.n else 0
        z, u = immuno_randoms(seed, start, start + batch.n)
        imm = draw_patients(self.parameters, batch.bsa, z, u)
        return ImmuneDrive(self.rate_ug_d, imm.cl_blin, 1.0 - imm.cd19neg.astype(np.float64),
                           KillConstants.from_parameters(self.parameters))


def preset_names(ip: ImmunoParameters | None = None) -> tuple[str, ...]:
    """Names of the immunotherapy cohort presets (r/r studies and frontline variants)."""
    ip = ip or load_immunotherapy()
    return (*ip.cohorts, *ip.frontline)


def immuno_preset(name: str, ps: ParameterSet, ip: ImmunoParameters | None = None,
                  protocols: Mapping[str, Protocol] | None = None) -> ImmunoSetup | None:
    """The setup of preset ``name`` (None when it is not an immunotherapy preset)."""
    ip = ip or load_immunotherapy(parameters=ps)
    protocols = protocols or load_protocols()
    if name in ip.cohorts:
        c = ip.cohorts[name]
        # the protocol is not used by an r/r study; make_batch takes one
        base = protocols.get("cog_style_pediatric") or next(iter(protocols.values()))
        return ImmunoSetup(name=name, parameters=ip, population=c.population, protocol=base,
                           horizon_days=c.horizon_days, relapsed=c)
    if name in ip.frontline:
        f = ip.frontline[name]
        protocol, rate = frontline_protocol(protocols[f.base_protocol], f)
        return ImmunoSetup(name=name, parameters=ip, population=f.population, protocol=protocol,
                           horizon_days=1827, frontline=f, rate_ug_d=rate)
    return None


def relapsed_chunk(setup: ImmunoSetup, ps: ParameterSet, population: Population,
                   protocol: Protocol, horizon_days: int, start: int, stop: int,
                   seed: int) -> dict[str, Any]:
    """Patients ``start .. stop-1`` of an r/r preset as table columns (a pure function).

    ``population`` and ``horizon_days`` are the preset's, possibly overridden by a cohort YAML.
    """
    assert setup.relapsed is not None
    z, u = patient_randoms(seed, start, stop, N_NORMAL, N_UNIFORM)
    ids = np.arange(start, stop)
    batch = make_batch(ps, population, protocol, ids, z, u)
    zi, ui = immuno_randoms(seed, start, stop)
    imm = draw_patients(setup.parameters, batch.bsa, zi, ui)
    cohort = replace(setup.relapsed, population=population, horizon_days=horizon_days)
    cols = simulate_relapsed(ps, setup.parameters, cohort, batch, imm, protocol=protocol)
    data: dict[str, Any] = {
        "id": ids,
        "arm": np.full(batch.n, setup.name, dtype=object),
        "age": batch.age,
        "sex": np.where(batch.male, "male", "female"),
        "subtype": np.array(SUBTYPES, dtype=object)[batch.subtype],
        "bsa": batch.bsa,
    }
    data.update(cols)
    return data


def e1910_summary(cols: Mapping[str, np.ndarray[Any, Any]], day: int,
                  years: float = 3.0) -> dict[str, float]:
    """E1910-style figures of a frontline cohort: CR/CRi rate of everyone, and OS ``years``
    after randomisation (``day``) among patients in CR with end-of-induction flow MRD < 1e-4
    who are alive and relapse-free at randomisation."""
    cr = cols["cr"] == 1
    death_day = np.nan_to_num(cols["death_day"], nan=np.inf)
    relapse_day = np.nan_to_num(cols["relapse_day"], nan=np.inf)
    sel = cr & (cols["mrd_eoi_flow"] < 1e-4) & (death_day > day) & (relapse_day > day)
    first = np.minimum(death_day, relapse_day)
    # Kaplan-Meier from randomisation; follow-up ends at the horizon (os_day)
    follow = cols["os_day"][sel] - day
    return {
        "cr_rate": float(cr.mean()),
        "randomised": float(sel.mean()),
        "os": km_at(follow, np.isfinite(death_day[sel]), years * 365.25),
        "rfs": km_at(np.where(np.isfinite(first[sel]), first[sel] - day, follow),
                     np.isfinite(first[sel]), years * 365.25),
    }
