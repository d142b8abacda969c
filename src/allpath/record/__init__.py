"""The patient record (format ``allpath.record/1``): models, vocabularies and loading."""

from __future__ import annotations

from allpath.record.load import load_record, parse_record
from allpath.record.models import (
    Extramedullary,
    Genetics,
    Immunophenotype,
    MarkerValue,
    Observation,
    PatientRecord,
    Sex,
    Symptom,
    TreatmentEvent,
)

__all__ = [
    "Extramedullary",
    "Genetics",
    "Immunophenotype",
    "MarkerValue",
    "Observation",
    "PatientRecord",
    "Sex",
    "Symptom",
    "TreatmentEvent",
    "load_record",
    "parse_record",
]
