"""Helpers for the titration tests: evaluate the pack on plain facts, find the allMT logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from allpath.rules.engine import DecisionResult, evaluate_pack
from allpath.rules.facts import Fact
from allpath.rules.loader import load_knowledge
from support import shared_dir

UNITS = {
    "visit.anc": "10*9/L", "visit.wbc": "10*9/L", "visit.platelets": "10*9/L",
    "visit.weeks_since_change": "wk", "visit.increases_without_response": "1",
    "titration.mp_protocol_dose": "mg/m2/d", "titration.mtx_protocol_dose": "mg/m2/wk",
    "visit.mp_percent_of_protocol": "%", "visit.tgn": "pmol/8e8{RBC}",
    "visit.memp": "pmol/8e8{RBC}", "visit.glucose": "mg/dL", "visit.alt": "U/L",
    "visit.bilirubin": "mg/dL",
}


def decide(**given: Any) -> dict[str, DecisionResult]:
    """Evaluate the titration pack; keyword names use ``__`` for dots."""
    facts: dict[str, Fact] = {}
    for key, value in given.items():
        name = key.replace("__", ".")
        if isinstance(value, bool | str):
            facts[name] = Fact(value)
        else:
            facts[name] = Fact(float(value), UNITS.get(name))
    results = evaluate_pack(load_knowledge().pack("titration"), facts)
    return {r.output: r for r in results}


def field(res: DecisionResult, name: str) -> Any:
    assert isinstance(res.value, dict), res
    return res.value[name]


def maintenance_dir() -> Path | None:
    shared = shared_dir()
    if shared is None:
        return None
    folder = shared / "data" / "maintenance_therapy"
    return folder if folder.is_dir() else None
