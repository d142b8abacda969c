"""Read FHIR R4 / mCODE Bundles and bulk NDJSON into the patient record (``allpath.record/1``).

Every resource, element and code that ALLPath does not use becomes a :class:`FhirWarning`
with its FHIR path (``Bundle.entry[3].resource.code``): nothing is dropped silently and
nothing unknown stops the import. The record built is checked with
:func:`allpath.record.load.parse_record`; an item that still fails the check (a value
outside the plausible range, a date before birth) is left out with a warning naming the
FHIR element it came from.

The mapping is documented in ``docs/fhir.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from allpath.errors import Problem, RecordError
from allpath.interop.fhir.codes import (
    ALL_CONDITION_CODES,
    CS,
    EXT,
    GENOMICS,
    MCODE,
    PREDISPOSITION_CODES,
    SO_COPY_LOSS,
    SO_FUSION,
    SO_MUTATION,
    code_key,
)
from allpath.interop.fhir.release import validate_resource
from allpath.knowledge import load_yaml
from allpath.observations.catalogue import Analyte, Catalogue, load_catalogue
from allpath.orders.drugs import identify_order
from allpath.record.load import parse_record
from allpath.record.models import RECORD_FORMAT, PatientRecord
from allpath.record.vocabulary import Vocabulary, load_vocabulary
from allpath.units import UnitError, convert

__all__ = ["FhirImport", "FhirWarning", "read_bundle", "read_ndjson", "read_resources"]

READ_TYPES = (
    "Patient",
    "Observation",
    "Condition",
    "MedicationRequest",
    "MedicationAdministration",
    "MedicationStatement",
)
_SKIP_STATUS = {"entered-in-error", "cancelled"}


@dataclass(frozen=True)
class ImportSettings:
    """The import's knowledge (``knowledge/fhir_import.yaml``), read once."""

    workup_days: int
    workup_label: str
    workup_analytes: frozenset[str]
    workup_cite: tuple[str, ...]
    final_status: frozenset[str]
    medication_skip: frozenset[str]
    evidence_analytes: frozenset[str]
    #: generic codes read as MRD only in an ALL record's follow-up (``mrd_context_codes``)
    mrd_context_codes: frozenset[tuple[str, str]]
    mrd_context_cite: tuple[str, ...]


@lru_cache(maxsize=1)
def import_settings() -> ImportSettings:
    """Settings of the FHIR import, from ``knowledge/fhir_import.yaml``."""
    doc: Any = load_yaml("fhir_import.yaml")
    w = doc["diagnostic_workup"]
    return ImportSettings(
        workup_days=int(w["window_days"]), workup_label=str(w["label"]),
        workup_analytes=frozenset(str(a) for a in w["analytes"]),
        workup_cite=tuple(str(c) for c in w["cite"]),
        final_status=frozenset(str(x) for x in doc["observation_status"]["use"]),
        medication_skip=frozenset(str(x) for x in doc["medication_status"]["skip"]),
        evidence_analytes=frozenset(str(a) for a in doc["leukaemia_evidence"]["analytes"]),
        mrd_context_codes=frozenset(code_key(str(c["system"]), str(c["code"]))
                                    for c in doc["mrd_context_codes"]["codes"]),
        mrd_context_cite=tuple(str(c) for c in doc["mrd_context_codes"]["cite"]),
    )


NO_LEUKAEMIA = "no leukaemia diagnosis in this record"
_LEUKAEMIA_TEXT = re.compile(r"leuka?emi", re.IGNORECASE)
_MRD_TEXT = re.compile(r"\b(?:minimal|measurable) residual disease\b|\bmrd\b")
# FHIR core extension: the date the condition was first asserted (mCODE's date of diagnosis).
_ASSERTED_DATE = "http://hl7.org/fhir/StructureDefinition/condition-assertedDate"
# ALLPath finding codes (as written by its export) -> (record section or "", field).
_RECORD_FLAGS = {
    "testicular-involvement": ("extramedullary", "testicular"),
    "mediastinal-mass": ("extramedullary", "mediastinal_mass"),
    "cns-clinical-signs": ("extramedullary", "cns_clinical_signs"),
    "steroid-pretreatment": ("", "steroid_pretreatment"),
}


@dataclass(frozen=True, slots=True)
class FhirWarning:
    """Something in the FHIR input that ALLPath did not use, located by its FHIR path."""

    path: str
    message: str
    code: str | None = None  # ``system|code`` of the coding concerned, when there is one

    def __str__(self) -> str:
        where = f" [{self.code}]" if self.code else ""
        return f"{self.path}: {self.message}{where}"

    def as_dict(self) -> dict[str, str]:
        out = {"path": self.path, "message": self.message}
        if self.code:
            out["code"] = self.code
        return out


@dataclass
class FhirImport:
    """The result of reading one patient from FHIR.

    ``record`` is the ``allpath.record/1`` document built; ``patient`` the same record
    checked by :func:`~allpath.record.load.parse_record`. ``diagnoses`` lists the ALL
    conditions found (code, label, lineage, onset); ``disease_status`` and
    ``risk_assessments`` hold mCODE statements that the record has no field for.
    """

    record: dict[str, Any]
    patient: PatientRecord
    warnings: list[FhirWarning] = field(default_factory=list)
    diagnoses: list[dict[str, Any]] = field(default_factory=list)
    disease_status: list[dict[str, Any]] = field(default_factory=list)
    risk_assessments: list[dict[str, Any]] = field(default_factory=list)
    source: str | None = None
    #: ``ALL``, ``results`` (leukaemia results without a coded diagnosis), ``other`` (a
    #: leukaemia that is not ALL) or ``none``
    leukaemia: str = "none"
    #: the plain statement when the record has no ALL (``other``/``none``), else None
    no_leukaemia: str | None = None


# ------------------------------------------------------------------------------ helpers
def _codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding") or [] if isinstance(c, dict)]


def _text(concept: Any) -> str | None:
    """The human text of a CodeableConcept: its text, else the first display."""
    if not isinstance(concept, dict):
        return None
    if concept.get("text"):
        return str(concept["text"])
    for c in _codings(concept):
        if c.get("display"):
            return str(c["display"])
    return None


def _cstr(c: dict[str, Any]) -> str:
    return f"{c.get('system', '')}|{c.get('code', '')}"


def _concept_str(concept: Any) -> str | None:
    cs = _codings(concept)
    if cs:
        return ", ".join(_cstr(c) for c in cs)
    return None


def _keys(concept: Any) -> frozenset[tuple[str, str]]:
    """The normalised (system, code) pairs of a CodeableConcept."""
    return frozenset(code_key(c.get("system"), c.get("code")) for c in _codings(concept))


def _has_code(concept: Any, system: str, code: str) -> bool:
    return (system, code) in _keys(concept)


_DATE_FORMAT = ("YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.sss](Z|+hh:mm) "
                "(a FHIR date or dateTime)")
_DATE_RE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?")


def _bad_date(path: str, value: Any, why: str) -> RecordError:
    return RecordError([Problem(path, f"not a valid date: {why}", expected=_DATE_FORMAT,
                                got=repr(value)[:80])])


def parse_when(value: Any, path: str) -> tuple[dt.date | dt.datetime | None, dt.datetime | None]:
    """A FHIR date or dateTime: (the value, its instant for ordering).

    The value is a date, or a date-time with the clock time as written (offset dropped: the
    record's times have none); None for a partial date (``2024``, ``2024-05``). The instant
    is the UTC moment (the written offset applied; none written: read as UTC) used to order
    results. A string that is not a FHIR date, or a date that does not exist
    (``2020-13-01``, ``2021-02-30``, hour 25), raises :class:`RecordError` naming ``path``.
    """
    if not isinstance(value, str):
        raise _bad_date(path, value, f"a {type(value).__name__}, not a string")
    m = _DATE_RE.fullmatch(value.strip())
    if m is None:
        raise _bad_date(path, value, "not in a FHIR date format")
    year, month, day, hh, mm, ss, tz = m.groups()
    if month is not None and not 1 <= int(month) <= 12:
        raise _bad_date(path, value, f"month {month} does not exist")
    if day is None:
        return None, None
    try:
        d = dt.date(int(year), int(month), int(day))
    except ValueError as exc:
        raise _bad_date(path, value, str(exc)) from None
    if hh is None:
        return d, dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
    sec = int(ss or 0)
    if sec == 60:  # a leap second (allowed by FHIR): the last second of that minute
        sec = 59
    try:
        local = dt.datetime(d.year, d.month, d.day, int(hh), int(mm), sec)
        offset = dt.timedelta(0)
        if tz and tz != "Z":
            sign = -1 if tz[0] == "-" else 1
            offset = sign * dt.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
            if abs(offset) > dt.timedelta(hours=14):
                raise ValueError(f"offset {tz} is beyond +/-14:00")
        instant = local.replace(tzinfo=dt.timezone(offset)).astimezone(dt.UTC)
    except ValueError as exc:
        raise _bad_date(path, value, str(exc)) from None
    return local, instant


_EPOCH = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


@lru_cache(maxsize=512)
def _unit_fits(unit: str, target: str | None, molar_mass: float | None) -> bool:
    """Whether ``unit`` converts to the analyte's unit (cached: a Bundle repeats units)."""
    try:
        convert(1.0, unit, target or unit, molar_mass)
    except UnitError:
        return False
    return True


def _as_day(value: dt.date | dt.datetime | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _iso(value: dt.date | dt.datetime) -> str:
    return value.isoformat()


def _ref_keys(ref: str) -> list[str]:
    """Keys under which a reference may be known: as written and as ``Type/id``."""
    keys = [ref]
    m = re.search(r"([A-Z][A-Za-z]+)/([A-Za-z0-9\-\.]{1,64})(?:/_history/[^/]+)?$", ref)
    if m:
        keys.append(f"{m.group(1)}/{m.group(2)}")
    return keys


def _subject(res: dict[str, Any]) -> str | None:
    for key in ("subject", "patient"):
        ref = res.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return str(ref["reference"])
    return None


def _mrd_specimen(res: dict[str, Any]) -> str | None:
    """``marrow`` or ``blood`` when the result names exactly one of them as its specimen
    (Observation.specimen display, bodySite or the code's text), else None."""
    spec = res.get("specimen")
    texts = [str(spec.get("display") or "") if isinstance(spec, dict) else "",
             _text(res.get("bodySite")) or "", _text(res.get("code")) or ""]
    words = " ".join(texts).lower()
    marrow, blood = "marrow" in words, re.search(r"\bblood\b", words) is not None
    if marrow == blood:
        return None
    return "marrow" if marrow else "blood"


def _phrase_list(text: str) -> list[str]:
    parts = re.split(r",|\band\b|;", text)
    return [p.strip(" .") for p in parts if p.strip(" .")]


# ------------------------------------------------------------------------------ mapping
@dataclass
class _Item:
    """One resource to map, with the FHIR path it is reported under."""

    path: str
    resource: dict[str, Any]
    full_url: str | None = None


class _Patient:
    """Maps the resources of one patient into record parts, collecting warnings."""

    def __init__(self, cat: Catalogue, voc: Vocabulary) -> None:
        self.cat = cat
        self.voc = voc
        self.warnings: list[FhirWarning] = []
        self.record: dict[str, Any] = {"format": RECORD_FORMAT}
        self.origin: dict[str, str] = {}  # record path -> FHIR path
        self.observations: list[dict[str, Any]] = []
        # per observation: (instant, entry order, FHIR path), to order them by clock time
        self.obs_meta: list[tuple[dt.datetime, int, str]] = []
        self.meds: list[tuple[dict[str, Any], str]] = []
        self.therapy_starts: list[dt.date] = []  # start of each ALL drug or phase given
        self.other_leukaemia: list[str] = []  # leukaemia conditions that are not ALL
        self.conditions: list[str] = []
        self.symptoms: list[Any] = []
        self.markers: dict[str, str] = {}
        self.marker_time: dt.date | dt.datetime | None = None
        self.fusions: list[str] = []
        self.alterations: list[str] = []
        self.genetics: dict[str, Any] = {}
        self.genetics_times: list[dt.date | dt.datetime] = []
        self.treatment: dict[str, dict[str, Any]] = {}
        self.diagnoses: list[dict[str, Any]] = []
        self.disease_status: list[dict[str, Any]] = []
        self.risk: list[dict[str, Any]] = []
        # results with a generic code that is MRD only in context (knowledge/fhir_import.yaml
        # mrd_context_codes), decided in build() once diagnoses and treatment are known
        self.mrd_context: list[tuple[dict[str, Any], str]] = []

    def warn(self, path: str, message: str, code: str | None = None) -> None:
        self.warnings.append(FhirWarning(path, message, code))

    @staticmethod
    def when(*candidates: tuple[Any, str, str]
             ) -> tuple[dt.date | dt.datetime | None, dt.datetime | None]:
        """The first full date among (container, key, path) candidates, with its instant.

        Every candidate present is checked, so an invalid date is an error wherever it is
        (:func:`parse_when`); absent and partial ones give (None, None).
        """
        found: tuple[dt.date | dt.datetime | None, dt.datetime | None] = (None, None)
        for obj, key, path in candidates:
            if not isinstance(obj, dict) or obj.get(key) is None:
                continue
            value = parse_when(obj[key], f"{path}.{key}")
            if found[0] is None and value[0] is not None:
                found = value
        return found

    # ------------------------------------------------------------------ Patient
    def patient(self, res: dict[str, Any], path: str) -> None:
        rid = res.get("id")
        if not rid:
            ids = [i.get("value") for i in res.get("identifier") or [] if isinstance(i, dict)]
            rid = next((i for i in ids if i), None)
        if rid:
            self.record["id"] = str(rid)
        gender = res.get("gender")
        if gender in ("male", "female", "other", "unknown"):
            self.record["sex"] = gender
        elif gender is not None:
            self.warn(f"{path}.gender", f"unknown administrative gender {gender!r}")
        birth = res.get("birthDate")
        if birth is not None:
            b = _as_day(parse_when(birth, f"{path}.birthDate")[0])
            if b is None:
                self.warn(f"{path}.birthDate",
                          f"partial birth date {birth!r} not used (age needs a full date)")
            else:
                self.record["birth_date"] = b
                self.origin["birth_date"] = f"{path}.birthDate"
        if res.get("deceasedBoolean") or res.get("deceasedDateTime"):
            self.warn(f"{path}.deceased[x]", "deceased status is not part of the record")

    # ------------------------------------------------------------------ Condition
    def condition(self, res: dict[str, Any], path: str) -> None:
        ver = res.get("verificationStatus")
        for bad in ("refuted", "entered-in-error"):
            if _has_code(ver, CS.CONDITION_VERIFICATION, bad):
                self.warn(f"{path}.verificationStatus", f"condition is {bad}; not used")
                return
        code = res.get("code")
        asserted = [(ext, "valueDateTime", f"{path}.extension[{i}]")
                    for i, ext in enumerate(res.get("extension") or [])
                    if isinstance(ext, dict) and ext.get("url") == _ASSERTED_DATE]
        onset, _ = self.when((res, "onsetDateTime", path),
                             (res.get("onsetPeriod"), "start", f"{path}.onsetPeriod"),
                             *asserted, (res, "recordedDate", path))
        used = False
        for c in _codings(code):
            key = code_key(c.get("system"), c.get("code"))
            if key in ALL_CONDITION_CODES:
                label, lineage = ALL_CONDITION_CODES[key]
                self.diagnoses.append({
                    "system": key[0], "code": key[1], "display": c.get("display"),
                    "label": label, "lineage": lineage,
                    "onset": onset, "path": path,
                })
                if key[1] in ("C91.01", "C91.02"):
                    self.warn(f"{path}.code",
                              f"{label}: remission/relapse in the code is not used; ALLPath "
                              "derives response and relapse from the results", _cstr(c))
                if onset is None:
                    other = [k for k in ("onsetAge", "onsetString", "onsetRange")
                             if res.get(k) is not None]
                    partial = [k for k in ("onsetDateTime", "onsetPeriod", "recordedDate")
                               if res.get(k) is not None]
                    why = (f" ({', '.join(partial)}: a partial date)" if partial else
                           f" ({', '.join(other)} is not a date)" if other else "")
                    self.warn(f"{path}.onset[x]", "ALL condition without a full onset, "
                              f"asserted or recorded date: no diagnosis date{why}")
                used = True
                break
            if key[0] == CS.SYMPTOM and self.voc.resolve("symptoms", key[1]):
                onset_day = _as_day(onset)
                sym = self.voc.resolve("symptoms", key[1])
                self.symptoms.append({"code": sym, "onset": onset_day} if onset_day else sym)
                used = True
                break
            term = PREDISPOSITION_CODES.get(key)
            if term is None and key[0] == CS.CONDITION:
                term = self.voc.resolve("conditions", key[1])
            if term is not None:
                if term not in self.conditions:
                    self.conditions.append(term)
                    self.origin[f"conditions[{len(self.conditions) - 1}]"] = f"{path}.code"
                used = True
                break
        if not used:
            label = _text(code) or "no text"
            if _LEUKAEMIA_TEXT.search(label) or any(
                    k[0] in (CS.ICD10, CS.ICD10CM) and re.match(r"C9[1-5]", k[1])
                    for k in _keys(code)):
                self.other_leukaemia.append(label)
            self.warn(f"{path}.code", f"condition not used by ALLPath ({label})",
                      _concept_str(code))

    # ------------------------------------------------------------------ Observation
    def usable(self, res: dict[str, Any], path: str) -> bool:
        """Only final, amended and corrected results are used; others are warned."""
        status = res.get("status")
        if status in import_settings().final_status:
            return True
        what = _text(res.get("code")) or "observation"
        if status is None:
            self.warn(f"{path}.status", f"{what} has no status (required by FHIR); not used "
                      "as a final result")
        else:
            self.warn(f"{path}.status", f"{what} is {status}, not a final result; not used "
                      "(final, amended and corrected results are used)")
        return False

    def observation(self, res: dict[str, Any], path: str) -> None:
        # Every date of the result is checked, used or not (an invalid one is an error).
        period = res.get("effectivePeriod")
        self.when((res, "effectiveDateTime", path), (res, "effectiveInstant", path),
                  (period, "start", f"{path}.effectivePeriod"),
                  (period, "end", f"{path}.effectivePeriod"), (res, "issued", path))
        code = res.get("code")
        keys = _keys(code)
        profiles = [str(p) for p in (res.get("meta") or {}).get("profile") or []]
        if (CS.LOINC, MCODE.DISEASE_STATUS_CODE) in keys or any(
                p.startswith(MCODE.DISEASE_STATUS) for p in profiles):
            self.disease_status.append({
                "date": res.get("effectiveDateTime"),
                "value": _text(res.get("valueCodeableConcept")),
                "code": _concept_str(res.get("valueCodeableConcept")), "path": path,
            })
            self.warn(path, "CancerDiseaseStatus kept in FhirImport.disease_status; the record "
                            "has no field for it (ALLPath derives response from the results)")
            return
        if (CS.NCIT, MCODE.ALL_RISK_CODE[0]) in keys or any(
                p.startswith(MCODE.ALL_RISK) for p in profiles):
            self.risk.append({"date": res.get("effectiveDateTime"),
                              "value": _text(res.get("valueCodeableConcept")),
                              "code": _concept_str(res.get("valueCodeableConcept")),
                              "path": path})
            self.warn(path, "ALL risk assessment kept in FhirImport.risk_assessments; ALLPath "
                            "computes its own risk groups from the results")
            return
        if not self.usable(res, path) or self.genetics_extra(res, path, keys):
            return
        comps = [c for c in res.get("component") or [] if isinstance(c, dict)]
        if ((CS.LOINC, GENOMICS.VARIANT) in keys
                or any(p.startswith(MCODE.GENOMIC_VARIANT) for p in profiles)
                or any(_has_code(c.get("code"), CS.LOINC, GENOMICS.GENE_STUDIED) for c in comps)):
            self.genomic(res, path)
            return
        if (CS.LOINC, GENOMICS.IMMUNOPHENOTYPE) in keys or (
                CS.FINDING, "immunophenotype") in keys:
            self.immunophenotype(res, path)
            return
        if any(k[0] in (CS.FINDING, CS.RISK_GROUP) for k in keys):
            self.warn(f"{path}.code", "finding derived by ALLPath; not read back "
                      "(it is recomputed from the results)", _concept_str(code))
            return
        if (CS.NCIT, MCODE.CNS_STATUS_CODE[0]) in keys:
            self.warn(f"{path}.code", "coded CNS status not used; ALLPath derives CNS status "
                      "from the CSF counts and cytospin", _concept_str(code))
            return
        analyte = self._analyte(code, profiles)
        if analyte is not None:
            self._value(res, path, analyte)
            return
        if keys & import_settings().mrd_context_codes:
            # a generic code not named as MRD: MRD only in context, decided in build()
            self.mrd_context.append((res, path))
            return
        known_comps = [(i, c, a) for i, c in enumerate(comps)
                       if (a := self._analyte(c.get("code"), [])) is not None]
        if known_comps:
            for i, comp, a in known_comps:
                self._value(comp, f"{path}.component[{i}]", a, time_from=res)
            return
        self.warn(f"{path}.code", f"observation code not known to ALLPath "
                  f"({_text(code) or 'no text'})", _concept_str(code))

    def _analyte(self, code: Any, profiles: list[str]) -> Analyte | None:
        for c in _codings(code):
            system, value = code_key(c.get("system"), c.get("code"))
            if system == CS.LOINC:
                a = self.cat.resolve(value)
                if a is not None and value in a.loinc:
                    return a
            elif system == CS.ANALYTE:
                a = self.cat.resolve(value)
                if a is not None:
                    return a
        # mCODE TumorMarkerTest (or any observation) naming minimal (or measurable)
        # residual disease in its text: no LOINC code for leukaemia MRD is confirmed yet
        # (clinical-facts 10.3); a confirmed one goes into analytes.yaml and is read above.
        text = " ".join(filter(None, [_text(code)] + [str(c.get("display") or "")
                                                       for c in _codings(code)])).lower()
        if _MRD_TEXT.search(text):
            if "marrow" in text:
                return self.cat.resolve("mrd_marrow")
            if "blood" in text:
                return self.cat.resolve("mrd_blood")
        return None

    def _value(self, res: dict[str, Any], path: str, a: Analyte,
               time_from: dict[str, Any] | None = None) -> None:
        src = time_from if time_from is not None else res
        base = path if time_from is None else path.rsplit(".component[", 1)[0]
        when, instant = self.when((src, "effectiveDateTime", base),
                                  (src, "effectiveInstant", base),
                                  (src.get("effectivePeriod"), "start", f"{base}.effectivePeriod"),
                                  (src, "issued", base))
        if when is None:
            self.warn(f"{path}.effective[x]", f"{a.code} without a full date; not used")
            return
        if res.get("dataAbsentReason"):
            self.warn(f"{path}.dataAbsentReason", f"{a.code} has no value (data absent)")
            return
        obs: dict[str, Any] = {"code": a.code, "time": when}
        if a.kind == "categorical":
            word = None
            cc = res.get("valueCodeableConcept")
            if cc is not None:
                if _has_code(cc, CS.LOINC, GENOMICS.PRESENT):
                    word = "present"
                elif _has_code(cc, CS.LOINC, GENOMICS.ABSENT):
                    word = "absent"
                else:
                    cands = [str(c.get("code") or "") for c in _codings(cc)] + [_text(cc) or ""]
                    word = next((w.lower() for w in cands if w.lower() in a.values), None)
            elif isinstance(res.get("valueString"), str):
                word = res["valueString"].strip().lower()
            elif isinstance(res.get("valueBoolean"), bool) and "present" in a.values:
                word = "present" if res["valueBoolean"] else "absent"
            if word not in a.values:
                self.warn(f"{path}.value[x]", f"{a.code} needs one of {', '.join(a.values)}")
                return
            obs["value"] = word
        else:
            q = res.get("valueQuantity")
            if not isinstance(q, dict) or not isinstance(q.get("value"), int | float):
                self.warn(f"{path}.value[x]", f"{a.code} needs a valueQuantity with a unit")
                return
            if q.get("comparator"):
                self.warn(f"{path}.valueQuantity.comparator",
                          f"{a.code} given as {q['comparator']}{q['value']}: a bound, not a "
                          "value; not used")
                return
            unit = self._unit(q, a)
            if unit is None:
                self.warn(f"{path}.valueQuantity",
                          f"{a.code}: unit {q.get('code') or q.get('unit')!r} does not parse "
                          f"or does not fit {a.unit} (units are never assumed)")
                return
            value = float(q["value"])
            canonical = convert(value, unit, a.unit or unit, a.molar_mass)
            if a.plausible is not None and not a.plausible[0] <= canonical <= a.plausible[1]:
                self.warn(f"{path}.valueQuantity.value",
                          f"{a.code} {value:g} {unit} outside the plausible range "
                          f"{a.plausible[0]:g} to {a.plausible[1]:g} {a.unit}; not used")
                return
            obs["value"] = int(value) if value.is_integer() else value
            obs["unit"] = unit
        method = res.get("method")
        if isinstance(method, dict) and _text(method):
            obs["method"] = str(_text(method))
        for comp in res.get("component") or []:
            if not isinstance(comp, dict):
                continue
            if _has_code(comp.get("code"), CS.FINDING, "assay-sensitivity"):
                sq = comp.get("valueQuantity") or {}
                if isinstance(sq.get("value"), int | float) and sq["value"] > 0:
                    obs["sensitivity"] = float(sq["value"])
            elif _has_code(comp.get("code"), CS.FINDING, "timepoint") and isinstance(
                    comp.get("valueString"), str):
                obs["timepoint"] = comp["valueString"]
        self.observations.append(obs)
        self.obs_meta.append((instant or _EPOCH, len(self.obs_meta), path))

    def _mrd_in_context(self) -> None:
        """Read each result with a generic code (``mrd_context_codes``) as MRD when the
        record makes it ALL MRD: a coded ALL condition, a sample after the first ALL
        treatment, and a specimen named as bone marrow or blood; else warn what is missing."""
        st = import_settings()
        first = min(self.therapy_starts, default=None)
        cite = ", ".join(st.mrd_context_cite)
        for res, path in self.mrd_context:
            code = _concept_str(res.get("code"))
            what = f"{_text(res.get('code')) or 'flow cytometry result'}"
            period = res.get("effectivePeriod")
            day = _as_day(self.when((res, "effectiveDateTime", path),
                                    (res, "effectiveInstant", path),
                                    (period, "start", f"{path}.effectivePeriod"),
                                    (res, "issued", path))[0])
            missing = []
            if not self.diagnoses:
                missing.append("the record has no coded ALL condition")
            if first is None:
                missing.append("the record has no ALL treatment")
            elif day is None or day <= first:
                missing.append(f"the sample is not dated after the first ALL treatment "
                               f"({first.isoformat()})")
            specimen = _mrd_specimen(res)
            if specimen is None:
                missing.append("the specimen is not named as bone marrow or as blood "
                               "(Observation.specimen.display, bodySite or code text)")
            if missing:
                self.warn(f"{path}.code", f"{what}: counts as ALL MRD only in an ALL record's "
                          f"follow-up ({'; '.join(missing)}); not used "
                          f"(knowledge/fhir_import.yaml mrd_context_codes [{cite}])", code)
                continue
            analyte = self.cat.resolve(f"mrd_{specimen}")
            if analyte is None:  # the catalogue always has mrd_marrow and mrd_blood
                raise LookupError(f"analyte mrd_{specimen} missing from the catalogue")
            before = len(self.observations)
            self._value(res, path, analyte)
            if len(self.observations) > before:
                self.warn(path, f"{what} read as {analyte.code}: an ALL record, a sample "
                          f"after the first ALL treatment and a {specimen} specimen "
                          f"(knowledge/fhir_import.yaml mrd_context_codes [{cite}], evidence "
                          "unconfirmed)", code)

    @staticmethod
    def _unit(q: dict[str, Any], a: Analyte) -> str | None:
        cands = []
        if q.get("code") and q.get("system", CS.UCUM) == CS.UCUM:
            cands.append(str(q["code"]))
        if q.get("unit"):
            cands.append(str(q["unit"]))
        for u in cands:
            if _unit_fits(u, a.unit, a.molar_mass):
                return u
        return None

    # ------------------------------------------------------------------ genetics
    def genomic(self, res: dict[str, Any], path: str) -> None:
        when, _ = self.when((res, "effectiveDateTime", path), (res, "issued", path))
        value = res.get("valueCodeableConcept")
        absent = _has_code(value, CS.LOINC, GENOMICS.ABSENT)
        genes: list[str] = []
        change: set[str] = set()
        terms: list[str] = []
        for i, comp in enumerate(res.get("component") or []):
            if not isinstance(comp, dict):
                continue
            cc = comp.get("valueCodeableConcept")
            ccode = comp.get("code")
            if _has_code(ccode, CS.LOINC, GENOMICS.GENE_STUDIED):
                sym = next((str(c.get("display")) for c in _codings(cc) if c.get("display")),
                           _text(cc))
                if sym:
                    genes.append(sym.strip().upper())
                else:
                    self.warn(f"{path}.component[{i}]", "gene studied without a symbol")
            for c in _codings(cc):
                system, code = code_key(c.get("system"), c.get("code"))
                if system == CS.SO:
                    change.add(code)
                elif system == CS.ALTERATION:
                    terms.append(code)
        if absent:
            self.warn(f"{path}.valueCodeableConcept",
                      "a negative result for one variant is not represented in the record "
                      f"(genes {'::'.join(genes) or '?'}); not used")
            return
        found: list[str] = []
        for t in terms:
            term = self.voc.resolve("alterations", t)
            if term is None:
                self.warn(f"{path}.component", f"unknown alteration {t!r}", f"{CS.ALTERATION}|{t}")
            else:
                found.append(term)
        if terms:
            pass  # ALLPath's own alteration codes, read above
        elif len(genes) >= 2 and (change & SO_FUSION or not change):
            fusion = "::".join(genes[:2])
            if fusion not in self.fusions:
                self.fusions.append(fusion)
        elif len(genes) == 1 and change & SO_COPY_LOSS:
            term = self.voc.resolve("alterations", f"{genes[0]}_deletion")
            if term is None:
                self.warn(f"{path}.component", f"{genes[0]} deletion is not an alteration "
                          "ALLPath knows")
            else:
                found.append(term)
        elif len(genes) == 1 and change & SO_MUTATION:
            gene = "RAS" if genes[0] in ("KRAS", "NRAS") else genes[0]
            term = self.voc.resolve("alterations", f"{gene}_mutation")
            if term is None:
                self.warn(f"{path}.component", f"{genes[0]} variant is not an alteration "
                          "ALLPath knows")
            else:
                found.append(term)
        else:
            self.warn(f"{path}.component", "genomic variant not mapped (ALLPath reads fusions "
                      f"of two genes and known deletions/mutations; genes {genes or 'none'}, "
                      f"change {sorted(change) or 'none'})")
            return
        for t in found:
            if t not in self.alterations:
                self.alterations.append(t)
        if when is not None:
            self.genetics_times.append(when)

    def genetics_extra(self, res: dict[str, Any], path: str,
                       keys: frozenset[tuple[str, str]]) -> bool:
        """Karyotype and chromosome count as written by ALLPath's export."""
        own = {c for s, c in keys if s == CS.FINDING}
        if not own:
            return False
        if "karyotype" in own and isinstance(res.get("valueString"), str):
            self.genetics["karyotype"] = res["valueString"]
        elif "chromosome-count" in own and isinstance(res.get("valueInteger"), int):
            self.genetics["chromosome_count"] = res["valueInteger"]
        elif "bcr-abl1-transcript" in own and isinstance(res.get("valueString"), str):
            self.genetics["bcr_abl1_transcript"] = res["valueString"]
        elif (kind := next((k for k in ("fusions-tested", "alterations-tested")
                            if k in own), None)) is not None:
            self.genetics[kind] = res.get("valueBoolean") is True
        elif (flag := next((k for k in _RECORD_FLAGS if k in own), None)) is not None:
            if isinstance(res.get("valueBoolean"), bool):
                section, name = _RECORD_FLAGS[flag]
                if section:
                    self.record.setdefault(section, {})[name] = res["valueBoolean"]
                else:
                    self.record[name] = res["valueBoolean"]
            return True
        else:
            return False
        when, _ = self.when((res, "effectiveDateTime", path))
        if when is not None:
            self.genetics_times.append(when)
        return True

    # ------------------------------------------------------------------ immunophenotype
    def immunophenotype(self, res: dict[str, Any], path: str) -> None:
        when, _ = self.when((res, "effectiveDateTime", path))
        found = False
        for i, comp in enumerate(res.get("component") or []):
            if not isinstance(comp, dict):
                continue
            name = next((str(c.get("code")) for c in _codings(comp.get("code"))
                         if c.get("system") == CS.MARKER), None) or _text(comp.get("code"))
            cc = comp.get("valueCodeableConcept")
            val = next((str(c.get("code")) for c in _codings(cc)
                        if c.get("system") == CS.MARKER_RESULT), None) or (_text(cc) or "")
            found |= self._marker(name or "", val.lower(), f"{path}.component[{i}]")
        text = res.get("valueString")
        if isinstance(text, str):
            for m in re.finditer(r"(positive|negative|dim|partial)\s+for\s+([^;.]+)", text, re.I):
                for name in _phrase_list(m.group(2)):
                    found |= self._marker(name, m.group(1).lower(), f"{path}.valueString")
        if found:
            if when is not None and self.marker_time is None:
                self.marker_time = when
        else:
            self.warn(path, "immunophenotype without markers ALLPath can read")

    def _marker(self, name: str, value: str, path: str) -> bool:
        term = self.voc.resolve("markers", name.replace(" ", ""))
        if term is None:
            self.warn(path, f"unknown immunophenotype marker {name!r}")
            return False
        if value not in ("positive", "negative", "dim", "partial"):
            self.warn(path, f"marker {term}: result {value!r} not positive/negative/dim/partial")
            return False
        self.markers[term] = value
        return True

    # ------------------------------------------------------------------ medication
    def medication(self, res: dict[str, Any], path: str) -> None:
        """Kept for :meth:`build`: an administration may take its phase from its request."""
        self.meds.append((res, path))

    def _medications(self) -> None:
        # Requests first, so that an administration can take the phase of its request.
        order = sorted(self.meds, key=lambda m: m[0].get("resourceType") != "MedicationRequest")
        request_phase: dict[str, tuple[str | None, str | None]] = {}
        for res, path in order:
            self._medication(res, path, request_phase)

    def _medication(self, res: dict[str, Any], path: str,
                    request_phase: dict[str, tuple[str | None, str | None]]) -> None:
        rt = res["resourceType"]
        ident = identify_order(res)
        drug = ident.label
        start: dt.date | None = None
        end: dt.date | None = None
        if rt == "MedicationRequest":
            for i, di in enumerate(res.get("dosageInstruction") or []):
                bp = (((di or {}).get("timing") or {}).get("repeat") or {}).get("boundsPeriod")
                where = f"{path}.dosageInstruction[{i}].timing.repeat.boundsPeriod"
                bp_start = _as_day(self.when((bp, "start", where))[0])
                bp_end = _as_day(self.when((bp, "end", where))[0])
                start, end = start or bp_start, end or bp_end
            authored = _as_day(self.when((res, "authoredOn", path))[0])
            start = start or authored
        else:
            period = res.get("effectivePeriod")
            start = _as_day(self.when((res, "effectiveDateTime", path),
                                      (period, "start", f"{path}.effectivePeriod"))[0])
            end = _as_day(self.when((period, "end", f"{path}.effectivePeriod"))[0])
            asserted = _as_day(self.when((res, "dateAsserted", path))[0])
            if rt == "MedicationStatement":
                start = start or asserted
        status = res.get("status")
        if status in import_settings().medication_skip:
            self.warn(f"{path}.status", f"{rt} is {status}; not used")
            return
        phase, protocol = self._phase(res)
        if rt == "MedicationRequest" and res.get("id"):
            request_phase[f"MedicationRequest/{res['id']}"] = (phase, protocol)
        if phase is None and rt == "MedicationAdministration":
            ref = (res.get("request") or {}).get("reference")
            if isinstance(ref, str):
                phase, protocol = next((request_phase[k] for k in _ref_keys(ref)
                                        if k in request_phase), (None, None))
        if ident.drug is not None and "all_therapy" not in ident.drug.classes:
            self.warn(f"{path}.medication[x]", f"{rt} ({drug}): {ident.drug.id} is not a drug "
                      "of ALL treatment (knowledge/drugs.yaml); no treatment event")
            return
        if ident.drug is not None and start is not None:
            self.therapy_starts.append(start)
        if phase is None:
            self.warn(f"{path}.category", f"{rt} ({drug}): treatment phase not derivable from "
                      "its category, course of therapy, request or protocol; no treatment "
                      "event recorded", _concept_str(res.get("medicationCodeableConcept")))
            return
        if start is None:
            self.warn(path, f"{rt} ({drug}, {phase}): no start date; not used")
            return
        self.therapy_starts.append(start)
        ev = self.treatment.get(phase)
        if ev is None:
            self.treatment[phase] = ev = {"phase": phase, "start": start, "ends": [],
                                          "protocol": protocol, "path": path}
        ev["start"] = min(ev["start"], start)
        ev["ends"].append(end)
        if protocol and not ev.get("protocol"):
            ev["protocol"] = protocol

    def _phase(self, res: dict[str, Any]) -> tuple[str | None, str | None]:
        protocol = None
        for ext in res.get("extension") or []:
            if isinstance(ext, dict) and ext.get("url") == EXT.PROTOCOL:
                protocol = ext.get("valueString")
        cats = res.get("category")
        concepts = cats if isinstance(cats, list) else [cats] if cats else []
        concepts.append(res.get("courseOfTherapyType"))
        for cc in concepts:
            for c in _codings(cc):
                if c.get("system") == CS.PHASE:
                    term = self.voc.resolve("treatment_phases", str(c.get("code")))
                    if term:
                        return term, protocol
            text = (_text(cc) or "").strip().lower().replace(" ", "_").replace("-", "_")
            if text:
                term = self.voc.resolve("treatment_phases", text)
                if term:
                    return term, protocol
        return None, protocol

    # ------------------------------------------------------------------ diagnosis
    def _label_workup(self, dx: dt.date) -> None:
        """Label the diagnostic blood count and marrow taken a few days after ``dx``.

        For each work-up analyte with no result in the ``window_days`` up to the diagnosis
        date, the first result after it, within the window and before the first ALL
        treatment, gets the time point ``diagnosis`` (``knowledge/fhir_import.yaml``), which
        the diagnosis facts take first (``knowledge/facts.yaml``).
        """
        st = import_settings()
        window = dt.timedelta(days=st.workup_days)
        therapy = min(self.therapy_starts, default=None)
        for code in sorted(st.workup_analytes):
            series = [(i, o) for i, o in enumerate(self.observations) if o["code"] == code]
            days = [(i, o, _as_day(o["time"])) for i, o in series]
            if any(d is not None and dx - window <= d <= dx for _, _, d in days):
                continue
            after = [(i, o, d) for i, o, d in days
                     if d is not None and dx < d <= dx + window
                     and (therapy is None or d < therapy) and o.get("timepoint") is None]
            if not after:
                continue
            i, obs, day = after[0]
            obs["timepoint"] = st.workup_label
            self.warn(self.obs_meta[i][2],
                      f"{code} of {day.isoformat()}, {(day - dx).days} day(s) after the "
                      f"diagnosis date {dx.isoformat()} and before any ALL treatment, is used "
                      f"as the diagnostic result (time point {st.workup_label!r}; window "
                      f"{st.workup_days} days, knowledge/fhir_import.yaml "
                      f"[{', '.join(st.workup_cite)}], evidence unconfirmed)")

    def leukaemia(self) -> tuple[str, str | None]:
        """Whether the record holds leukaemia: (status, plain statement or None).

        ``ALL`` (a coded ALL condition), ``results`` (leukaemia results or ALL therapy
        without a coded diagnosis), ``other`` (a leukaemia that is not ALL) or ``none``.
        """
        if self.diagnoses:
            return "ALL", None
        st = import_settings()
        seen = sorted({str(o["code"]) for o in self.observations} & st.evidence_analytes)
        evidence = [*seen]
        if self.markers:
            evidence.append("immunophenotype")
        if self.fusions or self.alterations or self.genetics:
            evidence.append("genetics")
        if self.treatment or self.therapy_starts:
            evidence.append("ALL treatment")
        if self.other_leukaemia:
            return "other", (
                f"{NO_LEUKAEMIA.replace('leukaemia', 'ALL')}: the record names "
                f"{'; '.join(sorted(set(self.other_leukaemia)))}, which is not acute "
                "lymphoblastic leukaemia, so ALLPath's ALL pathway does not apply. ALLPath "
                "suggests no ALL tests; the care team decides.")
        if evidence:
            return "results", None
        return "none", (
            f"{NO_LEUKAEMIA}: no ALL or other leukaemia condition, and no marrow, blast or "
            "MRD result, immunophenotype, leukaemia genetics or ALL treatment. ALLPath does "
            "not assess this person for ALL and suggests no marrow tests. If leukaemia is "
            "suspected from symptoms and a blood count, use the triage (allpath triage); it "
            "does not replace the care team.")

    # ------------------------------------------------------------------ result
    def build(self) -> dict[str, Any]:
        rec = self.record
        rec.setdefault("id", "fhir-patient")
        self._medications()
        self._mrd_in_context()
        dated = [d["onset"] for d in self.diagnoses if d.get("onset")]
        if dated:
            rec["diagnosis_date"] = min(
                d.date() if isinstance(d, dt.datetime) else d for d in dated)
            first = min(self.diagnoses, key=lambda d: str(d.get("onset") or "9999"))
            self.origin["diagnosis_date"] = str(first["path"])
        rec["conditions"] = list(self.conditions)
        if self.symptoms:
            rec["symptoms"] = list(self.symptoms)
        # Results in clock-time order (the instant, offset applied), never entry order.
        ranked = sorted(range(len(self.observations)), key=lambda i: self.obs_meta[i][:2])
        self.observations = [self.observations[i] for i in ranked]
        self.obs_meta = [self.obs_meta[i] for i in ranked]
        for i, (_, _, path) in enumerate(self.obs_meta):
            self.origin[f"observations[{i}]"] = path
        if "diagnosis_date" in rec:
            self._label_workup(rec["diagnosis_date"])
        rec["observations"] = list(self.observations)
        if self.markers:
            rec["immunophenotype"] = {"markers": dict(self.markers)}
            if self.marker_time is not None:
                rec["immunophenotype"]["time"] = self.marker_time
        if self.fusions or self.alterations or self.genetics:
            g: dict[str, Any] = {}
            if self.fusions or self.genetics.get("fusions-tested"):
                g["fusions"] = list(self.fusions)
            if self.alterations or self.genetics.get("alterations-tested"):
                g["alterations"] = list(self.alterations)
            for key in ("karyotype", "chromosome_count", "bcr_abl1_transcript"):
                if key in self.genetics:
                    g[key] = self.genetics[key]
            if self.genetics_times:
                g["time"] = min(self.genetics_times, key=lambda t: str(t))
            rec["genetics"] = g
        treatment: list[dict[str, Any]] = []
        for ev in sorted(self.treatment.values(), key=lambda e: e["start"]):
            out: dict[str, Any] = {"phase": ev["phase"], "start": ev["start"]}
            ends = ev["ends"]
            if ends and all(e is not None for e in ends):
                out["end"] = max(ends)
            if ev.get("protocol"):
                out["protocol"] = ev["protocol"]
            self.origin[f"treatment[{len(treatment)}]"] = ev["path"]
            treatment.append(out)
        rec["treatment"] = treatment
        return rec


# ------------------------------------------------------------------------------ driver
def _check(mapper: _Patient, source: str | None) -> PatientRecord:
    """parse_record, leaving out (with a warning) every item that fails the check."""
    rec = mapper.record
    for _ in range(5):
        try:
            return parse_record(rec, source=source, catalogue=mapper.cat, vocabulary=mapper.voc)
        except RecordError as err:
            drops: dict[str, list[int]] = {}
            fatal: list[Problem] = []
            for p in err.problems:
                m = re.match(r"(observations|conditions|treatment)\[(\d+)\]", p.path)
                top = p.path.split(".")[0].split("[")[0]
                origin = mapper.origin.get(m.group(0) if m else top, p.path)
                mapper.warn(origin, f"not used: {p}")
                if m:
                    drops.setdefault(m.group(1), []).append(int(m.group(2)))
                elif top in ("birth_date", "diagnosis_date", "immunophenotype", "genetics"):
                    rec.pop(top, None)
                else:
                    fatal.append(p)
            if fatal:
                raise
            for key, idx in drops.items():
                rec[key] = [x for i, x in enumerate(rec[key]) if i not in set(idx)]
    return parse_record(rec, source=source, catalogue=mapper.cat, vocabulary=mapper.voc)


# Elements whose value ALLPath checks itself as strictly as the FHIR type does: dates it
# parses (an invalid one is an error), FHIR ids and the numbers of valueQuantity.
_OWN_DATES = frozenset({"effectiveDateTime", "effectiveInstant", "issued", "authoredOn",
                        "onsetDateTime", "recordedDate", "dateAsserted", "birthDate"})
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_DIGIT = re.compile(r"\d")


def _masked(value: Any, key: str = "", parent: str = "") -> Any:
    """``value`` with the elements ALLPath checks itself replaced by their class."""
    if isinstance(value, dict):
        return {k: _masked(v, k, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, key, parent) for v in value]
    if key == "id" and isinstance(value, str) and _FHIR_ID.fullmatch(value):
        return "<id>"
    if (key in _OWN_DATES or (parent == "effectivePeriod" and key in ("start", "end"))) \
            and isinstance(value, str):
        return _DIGIT.sub("9", value)  # the same format class validates alike
    if key == "value" and parent == "valueQuantity" and type(value) in (int, float) \
            and math.isfinite(value):
        return "<decimal>"
    return value


# digests of the shapes (:func:`_shape_key`) that passed the fhir.resources check, kept
# across calls: an EHR sends the same shapes again and again (every chart it opens, every
# blood count), and a shape that validated once validates again; bounded
_VALID_SHAPES: set[bytes] = set()
_MAX_SHAPES = 20_000


def _shape_key(res: dict[str, Any]) -> str:
    """Resources with the same key are alike for the fhir.resources check: they differ only
    in elements ALLPath checks itself (:data:`_OWN_DATES`, ids, quantities). A Bundle of
    repeated results (a year of blood counts) is then checked once per shape, not once per
    resource; a resource that fails is checked (and reported) on its own."""
    return json.dumps(_masked(res), sort_keys=True, default=str)


def read_resources(items: Iterable[tuple[str, dict[str, Any], str | None]],
                   source: str | None = None) -> list[FhirImport]:
    """Map resources (FHIR path, resource, fullUrl) to one :class:`FhirImport` per patient."""
    cat, voc = load_catalogue(), load_vocabulary()
    entries = [_Item(p, r, u) for p, r, u in items]
    general: list[FhirWarning] = []
    owners: dict[str, str] = {}  # reference key -> patient key
    patients: dict[str, _Patient] = {}
    patient_key: dict[int, str] = {}
    invalid: set[int] = set()  # entries that did not validate as FHIR R4
    for n, it in enumerate(entries):
        if it.resource.get("resourceType") not in READ_TYPES:
            continue  # not read: one warning per type below, no need to parse it
        shape = hashlib.blake2b(_shape_key(it.resource).encode("utf-8"),
                                digest_size=16).digest()
        try:
            if shape not in _VALID_SHAPES:
                validate_resource(it.resource)
                if len(_VALID_SHAPES) >= _MAX_SHAPES:
                    _VALID_SHAPES.clear()
                _VALID_SHAPES.add(shape)
        except ValueError as exc:  # pydantic's ValidationError, or an unknown resourceType
            invalid.add(n)
            first = str(exc).splitlines()
            general.append(FhirWarning(it.path, "does not validate as FHIR R4 ("
                                       + "; ".join(first[:3])[:300] + "); read as far as possible"))
        if it.resource.get("resourceType") == "Patient":
            key = f"Patient/{it.resource.get('id') or len(patients)}"
            patients[key] = _Patient(cat, voc)
            patient_key[n] = key
            for k in [key, *(_ref_keys(it.full_url) if it.full_url else [])]:
                owners[k] = key
    if not patients:
        patients["Patient/?"] = _Patient(cat, voc)
        general.append(FhirWarning("Bundle", "no Patient resource: sex and birth date unknown"))
    only = next(iter(patients)) if len(patients) == 1 else None
    unread: dict[str, list[str]] = {}
    for n, it in enumerate(entries):
        res = it.resource
        rt = str(res.get("resourceType"))
        if rt not in READ_TYPES:
            unread.setdefault(rt, []).append(it.path)
            continue
        if rt == "Patient":
            patients[patient_key[n]].patient(res, it.path)
            continue
        ref = _subject(res)
        owner = None
        if ref is not None:
            owner = next((owners[k] for k in _ref_keys(ref) if k in owners), None)
        if owner is None:
            owner = only
            if owner is None or (ref is not None and len(patients) > 1):
                general.append(FhirWarning(f"{it.path}.subject",
                                           f"subject {ref!r} is not a patient of this input"))
                continue
        m = patients[owner]
        try:
            if rt == "Observation":
                m.observation(res, it.path)
            elif rt == "Condition":
                m.condition(res, it.path)
            else:
                m.medication(res, it.path)
        except RecordError:
            raise  # an invalid date: a clear error with its path, never a warning
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            if n not in invalid:
                raise  # a valid FHIR resource the reader cannot read is a reader bug
            # a resource that is not valid FHIR (warned above) never stops the import
            m.warn(it.path, f"could not be read ({type(exc).__name__}: {exc}); not used")
    for rt, paths in sorted(unread.items()):
        more = f" and {len(paths) - 1} more" if len(paths) > 1 else ""
        general.append(FhirWarning(paths[0], f"{len(paths)} {rt} resource(s) not read by "
                                   f"ALLPath (first here{more})"))
    out = []
    for m in patients.values():
        m.build()
        patient = _check(m, source)
        status, note = m.leukaemia()
        lead = [FhirWarning("Bundle", note)] if note else []
        out.append(FhirImport(
            record=m.record, patient=patient, warnings=[*lead, *general, *m.warnings],
            diagnoses=m.diagnoses, disease_status=m.disease_status,
            risk_assessments=m.risk, source=source, leukaemia=status, no_leukaemia=note,
        ))
    return out


def _load_json(data: dict[str, Any] | str | Path) -> tuple[Any, str | None]:
    if isinstance(data, dict):
        return data, None
    if isinstance(data, str) and data.lstrip().startswith("{"):
        return json.loads(data), None
    p = Path(data)
    try:
        return json.loads(p.read_text(encoding="utf-8")), str(p)
    except FileNotFoundError:
        raise RecordError([Problem("", "file not found", got=str(p))], str(p)) from None
    except json.JSONDecodeError as exc:
        raise RecordError([Problem(f"line {exc.lineno}", f"malformed JSON: {exc.msg}")],
                          str(p)) from None


def _bundle_items(doc: dict[str, Any], warnings: list[FhirWarning]
                  ) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    btype = doc.get("type")
    if btype not in ("collection", "transaction", "searchset", "batch", "document",
                     "transaction-response", "batch-response", "history", "message"):
        warnings.append(FhirWarning("Bundle.type", f"unexpected Bundle type {btype!r}"))
    for i, entry in enumerate(doc.get("entry") or []):
        path = f"Bundle.entry[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            warnings.append(FhirWarning(path, "entry without a resource"))
            continue
        if (entry.get("search") or {}).get("mode") == "outcome":
            warnings.append(FhirWarning(f"{path}.search", "search outcome entry; not read"))
            continue
        if (entry.get("request") or {}).get("method") == "DELETE":
            warnings.append(FhirWarning(f"{path}.request", "DELETE entry; not read"))
            continue
        res = entry["resource"]
        if res.get("resourceType") == "Bundle":
            warnings.append(FhirWarning(f"{path}.resource", "nested Bundle; not read"))
            continue
        yield f"{path}.resource", res, entry.get("fullUrl")


def read_bundle(data: dict[str, Any] | str | Path, source: str | None = None) -> FhirImport:
    """Read a FHIR Bundle (a mapping, JSON text or a file path) for one patient.

    A Bundle holding several patients yields the first; the resources of the others are
    reported as warnings (use :func:`read_resources` to read them all).
    """
    doc, path = _load_json(data)
    src = source or path
    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
        got = doc.get("resourceType") if isinstance(doc, dict) else type(doc).__name__
        raise RecordError([Problem("resourceType", "not a FHIR Bundle", expected="Bundle",
                                   got=repr(got))], src)
    warnings: list[FhirWarning] = []
    imports = read_resources(list(_bundle_items(doc, warnings)), src)
    first = imports[0]
    for other in imports[1:]:
        warnings.append(FhirWarning("Bundle", f"further patient {other.record['id']!r} not "
                                    "read (one patient per import)"))
    first.warnings[:0] = warnings
    return first


def read_ndjson(path: str | Path) -> list[FhirImport]:
    """Read bulk-data NDJSON (a file, or a folder of ``*.ndjson``): one import per patient.

    Warning paths name the file and line: ``Observation.ndjson:12``.
    """
    p = Path(path)
    files = sorted(p.glob("*.ndjson")) if p.is_dir() else [p]
    items: list[tuple[str, dict[str, Any], str | None]] = []
    bad: list[FhirWarning] = []
    for f in files:
        try:
            lines = f.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise RecordError([Problem("", "file not found", got=str(f))], str(f)) from None
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{f.name}:{n}"
            try:
                res = json.loads(line)
            except json.JSONDecodeError as exc:
                bad.append(FhirWarning(where, f"malformed JSON line ({exc.msg}); not read"))
                continue
            if not isinstance(res, dict) or "resourceType" not in res:
                bad.append(FhirWarning(where, "line is not a FHIR resource; not read"))
                continue
            items.append((where, res, None))
    imports = read_resources(items, str(p))
    for imp in imports:
        imp.warnings[:0] = bad
    return imports


def warning_counts(warnings: Iterable[FhirWarning]) -> Counter[str]:
    """Warnings counted by message head (for summaries)."""
    return Counter(w.message.split("(")[0].strip() for w in warnings)
