"""``load_any``: a native record or a FHIR Bundle, told apart by its content."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from allpath.errors import Problem, RecordError, shown
from allpath.interop.fhir.read import FhirImport, FhirWarning, read_bundle, read_ndjson
from allpath.record.load import parse_record, read_document
from allpath.record.models import RECORD_FORMAT, PatientRecord

__all__ = ["NO_LEUKAEMIA_FORMAT", "Loaded", "load_any", "load_import"]

NO_LEUKAEMIA_FORMAT = "allpath.no-leukaemia/1"


@dataclass(frozen=True)
class Loaded:
    """A patient read from a file, with what the FHIR import found."""

    record: PatientRecord
    warnings: list[FhirWarning]
    source: str
    leukaemia: str | None = None  # FhirImport.leukaemia; None for a native record
    no_leukaemia: str | None = None  # the plain statement when the record has no ALL

    def no_leukaemia_document(self) -> dict[str, Any]:
        """What ``allpath assess`` gives instead of an assessment for a record without
        ALL (format ``allpath.no-leukaemia/1``)."""
        return {"format": NO_LEUKAEMIA_FORMAT, "id": self.record.id, "source": self.source,
                "result": ("no_leukaemia_diagnosis" if self.leukaemia == "none"
                           else "leukaemia_not_all"),
                "statement": self.no_leukaemia,
                "warnings": [w.as_dict() for w in self.warnings
                             if w.message != self.no_leukaemia]}


def _loaded(imp: FhirImport, source: str, extra: list[FhirWarning]) -> Loaded:
    return Loaded(imp.patient, [*imp.warnings, *extra], source, imp.leukaemia,
                  imp.no_leukaemia)


def load_import(path: str | Path) -> Loaded:
    """Read a patient from a file: ``format: allpath.record/1`` (YAML or JSON), a FHIR
    Bundle (``resourceType: Bundle``, JSON) or bulk NDJSON (``.ndjson``, first patient)."""
    p = Path(path)
    if p.suffix.lower() == ".ndjson":
        imports = read_ndjson(p)
        extra = [FhirWarning(str(p), f"further patient {i.record['id']!r} not read")
                 for i in imports[1:]]
        return _loaded(imports[0], str(p), extra)
    doc = read_document(p)
    if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
        return _loaded(read_bundle(doc, source=str(p)), str(p), [])
    if isinstance(doc, dict) and doc.get("format") == RECORD_FORMAT:
        return Loaded(parse_record(doc, source=str(p)), [], str(p))
    raise RecordError(
        [Problem("", "neither a patient record nor a FHIR Bundle",
                 expected=f"format: {RECORD_FORMAT} or resourceType: Bundle",
                 got=_what_it_is(doc, "JSON" if p.suffix.lower() == ".json" else "YAML"))],
        str(p),
    )


def _what_it_is(doc: Any, kind: str) -> str:
    """What a file that is neither a record nor a Bundle holds, in words."""
    if isinstance(doc, dict):
        rtype, fmt = doc.get("resourceType"), doc.get("format")
        if isinstance(rtype, str) and rtype.isalnum() and len(rtype) <= 64:
            return f"a FHIR {rtype} resource (resourceType: {rtype})"
        if rtype is not None:
            return f"a mapping with resourceType: {shown(rtype)}"
        if fmt is not None:
            return f"a mapping with format: {shown(fmt)}"
        if not doc:
            return f"an empty {kind} mapping"
        return f"a {kind} mapping without format or resourceType"
    if doc is None:
        return "an empty file"
    if isinstance(doc, list):
        return f"a {kind} list" + (f" of {len(doc)} items" if len(doc) != 1 else " of 1 item")
    if isinstance(doc, str):
        return f"plain text ({shown(doc, 40)})"
    return f"a single {kind} value ({shown(doc)})"


def load_any(path: str | Path) -> tuple[PatientRecord, list[FhirWarning]]:
    """:func:`load_import`, as (checked record, FHIR import warnings; none for a native
    record)."""
    loaded = load_import(path)
    return loaded.record, loaded.warnings
