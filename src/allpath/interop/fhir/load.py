"""``load_any``: a native record or a FHIR Bundle, told apart by its content."""

from __future__ import annotations

from pathlib import Path

from allpath.errors import Problem, RecordError
from allpath.interop.fhir.read import FhirWarning, read_bundle, read_ndjson
from allpath.record.load import parse_record, read_document
from allpath.record.models import RECORD_FORMAT, PatientRecord

__all__ = ["load_any"]


def load_any(path: str | Path) -> tuple[PatientRecord, list[FhirWarning]]:
    """Read a patient from a file: ``format: allpath.record/1`` (YAML or JSON), a FHIR
    Bundle (``resourceType: Bundle``, JSON) or bulk NDJSON (``.ndjson``, first patient).

    Returns the checked record and the FHIR import warnings (none for a native record).
    """
    p = Path(path)
    if p.suffix.lower() == ".ndjson":
        imports = read_ndjson(p)
        first = imports[0]
        extra = [FhirWarning(str(p), f"further patient {i.record['id']!r} not read")
                 for i in imports[1:]]
        return first.patient, [*first.warnings, *extra]
    doc = read_document(p)
    if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
        imp = read_bundle(doc, source=str(p))
        return imp.patient, imp.warnings
    if isinstance(doc, dict) and doc.get("format") == RECORD_FORMAT:
        return parse_record(doc, source=str(p)), []
    got = doc.get("resourceType") or doc.get("format") if isinstance(doc, dict) else None
    raise RecordError(
        [Problem("", "neither a patient record nor a FHIR Bundle",
                 expected=f"format: {RECORD_FORMAT} or resourceType: Bundle", got=repr(got))],
        str(p),
    )
