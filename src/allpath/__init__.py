"""ALLPath: the care pathway of acute lymphoblastic leukaemia, computable and cited.

ALLPath supports clinical decisions; it never replaces the judgement of the care team.

>>> import allpath
>>> record = allpath.load_record("record.yaml")          # doctest: +SKIP
>>> allpath.assess(record).to_dict()["risk"]             # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

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
