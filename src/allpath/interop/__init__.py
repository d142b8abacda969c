"""Interoperability: ALLPath records and assessments in the standards of health IT.

:mod:`allpath.interop.fhir` reads FHIR R4 / mCODE Bundles (and bulk NDJSON) into the patient
record and writes an assessment as a FHIR R4 collection Bundle.
"""
