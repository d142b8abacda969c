"""ALLPath: the care pathway of acute lymphoblastic leukaemia, computable and cited.

ALLPath supports clinical decisions; it never replaces the judgement of the care team.

>>> import allpath
>>> record = allpath.load_record("record.yaml")          # doctest: +SKIP
>>> allpath.assess(record).to_dict()["risk"]             # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below load on first use (PEP 562), so `allpath --help` is quick
    from allpath.errors import (
        AllPathError,
        AllPathWarning,
        KnowledgeError,
        Problem,
        RecordError,
        UnknownRuleError,
    )
    from allpath.outputs.assessment import DISCLAIMER, Assessment
    from allpath.pipeline import assess, assess_file
    from allpath.record import PatientRecord, load_record, parse_record
    from allpath.rules.loader import Knowledge, load_knowledge

_LAZY = {
    **dict.fromkeys(("AllPathError", "AllPathWarning", "KnowledgeError", "Problem",
                     "RecordError", "UnknownRuleError"), "allpath.errors"),
    "DISCLAIMER": "allpath.outputs.assessment", "Assessment": "allpath.outputs.assessment",
    "assess": "allpath.pipeline", "assess_file": "allpath.pipeline",
    "PatientRecord": "allpath.record", "load_record": "allpath.record",
    "parse_record": "allpath.record",
    "Knowledge": "allpath.rules.loader", "load_knowledge": "allpath.rules.loader",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'allpath' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DISCLAIMER",
    "AllPathError",
    "AllPathWarning",
    "Assessment",
    "Knowledge",
    "KnowledgeError",
    "PatientRecord",
    "Problem",
    "RecordError",
    "UnknownRuleError",
    "__version__",
    "assess",
    "assess_file",
    "load_knowledge",
    "load_record",
    "parse_record",
]
