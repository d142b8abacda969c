"""Typed, frozen models of the patient record (format ``allpath.record/1``).

The models hold the record *as given* (values in the units written); normalisation to
canonical units happens in :mod:`allpath.observations`. Field names follow the documented
format in ``docs/record-format.md`` so that other tools can write records.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "RECORD_FORMAT",
    "Extramedullary",
    "Genetics",
    "Immunophenotype",
    "MarkerValue",
    "Observation",
    "PatientRecord",
    "Pharmacogenomics",
    "Sex",
    "Symptom",
    "TreatmentEvent",
]

RECORD_FORMAT = "allpath.record/1"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Sex(StrEnum):
    """Sex recorded for reference ranges and sex-specific rules."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class MarkerValue(StrEnum):
    """Result of one immunophenotype marker."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    DIM = "dim"
    PARTIAL = "partial"


Timestamp = dt.datetime | dt.date


class Observation(_Frozen):
    """One measured or coded result.

    ``code`` is a catalogue code (``wbc``) or a LOINC code (``"718-7"``). Quantities need a
    ``unit`` (UCUM or a common lab spelling); categorical results (``csf_blasts: present``)
    do not.
    """

    code: str = Field(min_length=1)
    value: float | str | bool
    unit: str | None = None
    time: Timestamp | None = None
    method: str | None = Field(default=None, description="assay method, e.g. flow, ngs, pcr")
    sensitivity: float | None = Field(
        default=None, gt=0, description="assay sensitivity as a fraction, e.g. 1e-4"
    )
    timepoint: str | None = Field(
        default=None,
        description="protocol time point if known (day8, end_of_induction, ...)",
    )


class SymptomDetail(_Frozen):
    """A symptom with its onset or duration."""

    code: str = Field(min_length=1)
    onset: dt.date | None = None
    duration_days: float | None = Field(default=None, ge=0)

    @field_validator("onset", mode="before")
    @classmethod
    def _onset_day(cls, value: object) -> object:
        """An onset given with a time of day (as observation times may be) is read as its
        day; a symptom's onset is kept to the day (review II)."""
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str) and "T" in value:
            try:
                return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
            except ValueError:
                return value
        return value


Symptom = Annotated[str, Field(min_length=1)] | SymptomDetail


class Immunophenotype(_Frozen):
    """Flow cytometry / immunohistochemistry of the blasts."""

    time: Timestamp | None = None
    markers: dict[str, MarkerValue] = Field(default_factory=dict)


class Genetics(_Frozen):
    """Cytogenetic and molecular results.

    Empty ``fusions`` and ``alterations`` mean *tested, nothing found*; an absent genetics
    block means *untested*.
    """

    time: Timestamp | None = None
    karyotype: str | None = None
    chromosome_count: int | None = Field(default=None, ge=20, le=100)
    fusions: tuple[str, ...] | None = None
    alterations: tuple[str, ...] | None = None
    bcr_abl1_transcript: Literal["p190", "p210", "other"] | None = None


class Extramedullary(_Frozen):
    """Disease outside blood and marrow at diagnosis (``null`` = not assessed)."""

    testicular: bool | None = None
    mediastinal_mass: bool | None = None
    cns_clinical_signs: bool | None = None
    other_mass: bool | None = Field(
        default=None,
        description="a lymphoblastic mass outside the mediastinum (lymph node, skin, bone)",
    )


class Pharmacogenomics(_Frozen):
    """Thiopurine metaboliser phenotypes (CPIC terms) used for maintenance dosing."""

    tpmt: str | None = Field(default=None, description="normal | intermediate | "
                             "possible_intermediate | poor")
    nudt15: str | None = Field(default=None, description="same terms as tpmt")


class TreatmentEvent(_Frozen):
    """Start (and optionally end) of a treatment phase."""

    phase: str = Field(min_length=1)
    start: dt.date
    end: dt.date | None = None
    protocol: str | None = None


class PatientRecord(_Frozen):
    """A patient record as given, validated for shape (format ``allpath.record/1``)."""

    format: Literal["allpath.record/1"]
    id: str = Field(min_length=1)
    source: str | None = Field(
        default=None, description="provenance of the record (system, export, simulator)"
    )
    sex: Sex = Sex.UNKNOWN
    birth_date: dt.date | None = None
    diagnosis_date: dt.date | None = None
    conditions: tuple[str, ...] = ()
    symptoms: tuple[Symptom, ...] = ()
    observations: tuple[Observation, ...] = ()
    immunophenotype: Immunophenotype | None = None
    genetics: Genetics | None = None
    extramedullary: Extramedullary | None = None
    steroid_pretreatment: bool | None = Field(
        default=None, description="steroids given before the diagnostic work-up"
    )
    treatment: tuple[TreatmentEvent, ...] = ()
    pharmacogenomics: Pharmacogenomics | None = None

    @field_validator("conditions", "symptoms", "observations", "treatment", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        # ``observations:`` with nothing after it is YAML for null: read it as no entries.
        return () if value is None else value
