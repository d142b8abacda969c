"""ALLPath virtual-patient simulator: marrow and blood-count dynamics under treatment.

Layers: :mod:`~allpath.sim.params` (validated knowledge files), :mod:`~allpath.sim.base`
(model interface, integrators, reference solver, random streams), :mod:`~allpath.sim.model`
(the maths), :mod:`~allpath.sim.population` and :mod:`~allpath.sim.engine` (patients, dosing,
events, assays), :mod:`~allpath.sim.cohort` and :mod:`~allpath.sim.patient` (entry points).
Virtual patients are not real people and the outputs are not clinical advice.
"""

from __future__ import annotations

from allpath.sim.cohort import CohortConfig, load_config, simulate_cohort, summarise
from allpath.sim.params import load_parameters, load_protocols
from allpath.sim.patient import load_profile, plot_patient, simulate_patient, to_record

__all__ = [
    "CohortConfig",
    "load_config",
    "load_parameters",
    "load_profile",
    "load_protocols",
    "plot_patient",
    "simulate_cohort",
    "simulate_patient",
    "summarise",
    "to_record",
]
