"""The sentence every clinical output carries (assessment, roadmap, triage, guide, FHIR).

It sits below every stage so that any of them can quote it without importing the others.
"""

from __future__ import annotations

__all__ = ["DISCLAIMER"]

DISCLAIMER = (
    "ALLPath supports clinical decisions; it does not replace the judgement of the care team. "
    "Check every result against the patient and the protocol in use."
)
