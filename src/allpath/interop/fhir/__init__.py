"""FHIR R4 and mCODE: read Bundles and bulk NDJSON into records, write assessments as Bundles.

>>> from allpath.interop.fhir import FHIR_RELEASE
>>> FHIR_RELEASE
'R4B'

The mapping in both directions is documented in ``docs/fhir.md``.
"""

from __future__ import annotations

from allpath.interop.fhir.load import Loaded, load_any, load_import
from allpath.interop.fhir.read import (
    FhirImport,
    FhirWarning,
    read_bundle,
    read_ndjson,
    read_resources,
)
from allpath.interop.fhir.release import FHIR_MODELS, FHIR_RELEASE, FHIR_VERSION
from allpath.interop.fhir.write import assessment_to_bundle

__all__ = [
    "FHIR_MODELS",
    "FHIR_RELEASE",
    "FHIR_VERSION",
    "FhirImport",
    "FhirWarning",
    "Loaded",
    "assessment_to_bundle",
    "load_any",
    "load_import",
    "read_bundle",
    "read_ndjson",
    "read_resources",
]
