"""Reading request bodies into library objects: native records or FHIR Bundles."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import Any

from allpath.api.problems import ApiProblem, FieldError
from allpath.errors import Problem, RecordError
from allpath.record import PatientRecord, parse_record

__all__ = ["ParsedRecord", "feature", "fhir_available", "read_record"]


def feature(module: str) -> Any | None:
    """Import an optional feature module; None when it is not installed (yet)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def fhir_available() -> bool:
    mod = feature("allpath.interop.fhir")
    return mod is not None and hasattr(mod, "read_bundle")


@dataclass(frozen=True)
class ParsedRecord:
    record: PatientRecord
    data: dict[str, Any]  # the allpath.record/1 document stored for the patient
    warnings: tuple[str, ...] = ()


def _from_bundle(body: dict[str, Any]) -> ParsedRecord:
    mod = feature("allpath.interop.fhir")
    if mod is None or not hasattr(mod, "read_bundle"):
        raise ApiProblem(501, "FHIR import is not installed in this ALLPath; send an "
                              "allpath.record/1 document", type_="fhir-unavailable")
    imported = mod.read_bundle(body)
    data = json.loads(json.dumps(imported.record, default=str))
    if not isinstance(data, dict):
        raise RecordError([Problem("", "the FHIR Bundle did not give a record")])
    warnings = tuple(str(w) for w in getattr(imported, "warnings", ()) or ())
    return ParsedRecord(parse_record(data, source="FHIR Bundle"), data, warnings)


def read_record(body: Any) -> ParsedRecord:
    """A checked record from a JSON body: ``allpath.record/1`` or a FHIR ``Bundle``."""
    if not isinstance(body, dict):
        raise ApiProblem(422, "the body must be a JSON object", errors=[FieldError(
            path="", message="expected an object", expected="allpath.record/1 or a FHIR "
                                                            "Bundle", got=type(body).__name__)])
    if body.get("resourceType") == "Bundle":
        return _from_bundle(body)
    return ParsedRecord(parse_record(body), body)
