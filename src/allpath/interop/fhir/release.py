"""The one place that names the FHIR release and the model library used for it.

ALLPath reads and writes FHIR R4 (4.0.1) content, as profiled by mCODE 4. The resources are
checked with the ``fhir.resources`` R4B models: R4B (4.3.0) changed no element of the
resources ALLPath uses (Patient, Observation, Condition, Medication*, CarePlan,
DetectedIssue, Provenance, Device, Bundle), so R4 documents parse with them unchanged.
Change the release here and nowhere else.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

__all__ = ["FHIR_MODELS", "FHIR_RELEASE", "FHIR_VERSION", "model_class", "validate_resource"]

FHIR_RELEASE = "R4B"
"""The ``fhir.resources`` release whose models check every resource read or written."""

FHIR_MODELS = "fhir.resources.R4B"
"""Import path of those models."""

FHIR_VERSION = "4.0.1"
"""The FHIR version written into exported content (R4, as mCODE 4 requires)."""


@lru_cache(maxsize=64)
def model_class(resource_type: str) -> Any:
    """The ``fhir.resources`` model class of a resource type (``"Observation"``)."""
    module = importlib.import_module(FHIR_MODELS)
    return module.get_fhir_model_class(resource_type)


def validate_resource(resource: dict[str, Any]) -> Any:
    """Parse one resource (a JSON mapping) with the model of its type; raises on error."""
    cls = model_class(str(resource.get("resourceType")))
    return cls.model_validate(resource)
