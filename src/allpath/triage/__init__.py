"""Triage of one person from symptoms and a blood count (issue 4, part 1).

Supports and never replaces clinicians; family-facing text never names a diagnosis.
"""

from __future__ import annotations

from allpath.triage.core import TRIAGE_RESULT_FORMAT, TriageResult, triage, triage_facts
from allpath.triage.inputs import (
    TRIAGE_FORMAT,
    TriageInput,
    age_days_from_years,
    load_triage_input,
    parse_triage_input,
)

__all__ = [
    "TRIAGE_FORMAT",
    "TRIAGE_RESULT_FORMAT",
    "TriageInput",
    "TriageResult",
    "age_days_from_years",
    "load_triage_input",
    "parse_triage_input",
    "triage",
    "triage_facts",
]
