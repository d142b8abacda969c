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
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
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
from allpath.observations.catalogue import Analyte, Catalogue, load_catalogue
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


def _has_code(concept: Any, system: str, code: str) -> bool:
    return any(code_key(c.get("system"), c.get("code")) == (system, code)
               for c in _codings(concept))


def _date(value: Any) -> dt.date | dt.datetime | None:
    """A FHIR date or dateTime as a date or naive date-time (offset dropped); None if partial."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.date.fromisoformat(text)
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?",
                     text)
    if m:
        return dt.datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}")
    return None


def _day(value: Any) -> dt.date | None:
    d = _date(value)
    if isinstance(d, dt.datetime):
        return d.date()
    return d


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

    def warn(self, path: str, message: str, code: str | None = None) -> None:
        self.warnings.append(FhirWarning(path, message, code))

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
            b = _day(birth)
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
        onset = (_date(res.get("onsetDateTime"))
                 or _date((res.get("onsetPeriod") or {}).get("start"))
                 or _date(res.get("recordedDate")))
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
                    self.warn(f"{path}.onset[x]",
                              "ALL condition without onset or recorded date: no diagnosis date")
                used = True
                break
            if key[0] == CS.SYMPTOM and self.voc.resolve("symptoms", key[1]):
                onset_day = _day(res.get("onsetDateTime"))
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
            self.warn(f"{path}.code",
                      f"condition not used by ALLPath ({_text(code) or 'no text'})",
                      _concept_str(code))

    # ------------------------------------------------------------------ Observation
    def observation(self, res: dict[str, Any], path: str) -> None:
        status = res.get("status")
        if status in _SKIP_STATUS:
            self.warn(f"{path}.status", f"observation is {status}; not used")
            return
        code = res.get("code")
        profiles = [str(p) for p in (res.get("meta") or {}).get("profile") or []]
        comps = [c for c in res.get("component") or [] if isinstance(c, dict)]
        if (_has_code(code, CS.LOINC, GENOMICS.VARIANT)
                or any(p.startswith(MCODE.GENOMIC_VARIANT) for p in profiles)
                or any(_has_code(c.get("code"), CS.LOINC, GENOMICS.GENE_STUDIED) for c in comps)):
            self.genomic(res, path)
            return
        if _has_code(code, CS.LOINC, GENOMICS.IMMUNOPHENOTYPE) or _has_code(
                code, CS.FINDING, "immunophenotype"):
            self.immunophenotype(res, path)
            return
        if _has_code(code, CS.LOINC, MCODE.DISEASE_STATUS_CODE) or any(
                p.startswith(MCODE.DISEASE_STATUS) for p in profiles):
            self.disease_status.append({
                "date": res.get("effectiveDateTime"),
                "value": _text(res.get("valueCodeableConcept")),
                "code": _concept_str(res.get("valueCodeableConcept")), "path": path,
            })
            self.warn(path, "CancerDiseaseStatus kept in FhirImport.disease_status; the record "
                            "has no field for it (ALLPath derives response from the results)")
            return
        if _has_code(code, CS.NCIT, MCODE.ALL_RISK_CODE[0]) or any(
                p.startswith(MCODE.ALL_RISK) for p in profiles):
            self.risk.append({"date": res.get("effectiveDateTime"),
                              "value": _text(res.get("valueCodeableConcept")),
                              "code": _concept_str(res.get("valueCodeableConcept")),
                              "path": path})
            self.warn(path, "ALL risk assessment kept in FhirImport.risk_assessments; ALLPath "
                            "computes its own risk groups from the results")
            return
        for system in (CS.FINDING, CS.RISK_GROUP):
            if any(c.get("system") == system for c in _codings(code)):
                self.warn(f"{path}.code", "finding derived by ALLPath; not read back "
                          "(it is recomputed from the results)", _concept_str(code))
                return
        if _has_code(code, CS.NCIT, MCODE.CNS_STATUS_CODE[0]):
            self.warn(f"{path}.code", "coded CNS status not used; ALLPath derives CNS status "
                      "from the CSF counts and cytospin", _concept_str(code))
            return
        analyte = self._analyte(code, profiles)
        if analyte is not None:
            self._value(res, path, analyte)
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
        # mCODE TumorMarkerTest (or any observation) naming minimal residual disease.
        text = " ".join(filter(None, [_text(code)] + [str(c.get("display") or "")
                                                       for c in _codings(code)])).lower()
        if "minimal residual disease" in text or re.search(r"\bmrd\b", text):
            if "marrow" in text:
                return self.cat.resolve("mrd_marrow")
            if "blood" in text:
                return self.cat.resolve("mrd_blood")
        return None

    def _value(self, res: dict[str, Any], path: str, a: Analyte,
               time_from: dict[str, Any] | None = None) -> None:
        src = time_from if time_from is not None else res
        when = (_date(src.get("effectiveDateTime")) or _date(src.get("effectiveInstant"))
                or _date((src.get("effectivePeriod") or {}).get("start"))
                or _date(src.get("issued")))
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
        self.origin[f"observations[{len(self.observations)}]"] = path
        self.observations.append(obs)

    @staticmethod
    def _unit(q: dict[str, Any], a: Analyte) -> str | None:
        cands = []
        if q.get("code") and q.get("system", CS.UCUM) == CS.UCUM:
            cands.append(str(q["code"]))
        if q.get("unit"):
            cands.append(str(q["unit"]))
        for u in cands:
            try:
                convert(1.0, u, a.unit or u, a.molar_mass)
            except UnitError:
                continue
            return u
        return None

    # ------------------------------------------------------------------ genetics
    def genomic(self, res: dict[str, Any], path: str) -> None:
        when = _date(res.get("effectiveDateTime")) or _date(res.get("issued"))
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

    def genetics_extra(self, res: dict[str, Any], path: str) -> bool:
        """Karyotype and chromosome count as written by ALLPath's export."""
        code = res.get("code")
        if _has_code(code, CS.FINDING, "karyotype") and isinstance(res.get("valueString"), str):
            self.genetics["karyotype"] = res["valueString"]
        elif _has_code(code, CS.FINDING, "chromosome-count") and isinstance(
                res.get("valueInteger"), int):
            self.genetics["chromosome_count"] = res["valueInteger"]
        elif _has_code(code, CS.FINDING, "bcr-abl1-transcript") and isinstance(
                res.get("valueString"), str):
            self.genetics["bcr_abl1_transcript"] = res["valueString"]
        elif (kind := next((k for k in ("fusions-tested", "alterations-tested")
                            if _has_code(code, CS.FINDING, k)), None)) is not None:
            self.genetics[kind] = res.get("valueBoolean") is True
        elif (kind := next((k for k in _RECORD_FLAGS if _has_code(code, CS.FINDING, k)),
                           None)) is not None:
            if isinstance(res.get("valueBoolean"), bool):
                section, name = _RECORD_FLAGS[kind]
                if section:
                    self.record.setdefault(section, {})[name] = res["valueBoolean"]
                else:
                    self.record[name] = res["valueBoolean"]
            return True
        else:
            return False
        when = _date(res.get("effectiveDateTime"))
        if when is not None:
            self.genetics_times.append(when)
        return True

    # ------------------------------------------------------------------ immunophenotype
    def immunophenotype(self, res: dict[str, Any], path: str) -> None:
        when = _date(res.get("effectiveDateTime"))
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
        rt = res["resourceType"]
        status = res.get("status")
        if status in _SKIP_STATUS or status == "not-taken" or status == "not-done":
            self.warn(f"{path}.status", f"{rt} is {status}; not used")
            return
        drug = _text(res.get("medicationCodeableConcept")) or (
            (res.get("medicationReference") or {}).get("display")) or "medication"
        start: dt.date | None = None
        end: dt.date | None = None
        if rt == "MedicationRequest":
            for di in res.get("dosageInstruction") or []:
                bp = (((di or {}).get("timing") or {}).get("repeat") or {}).get("boundsPeriod")
                if isinstance(bp, dict):
                    start = start or _day(bp.get("start"))
                    end = end or _day(bp.get("end"))
            start = start or _day(res.get("authoredOn"))
        else:
            period = res.get("effectivePeriod") or {}
            start = _day(res.get("effectiveDateTime")) or _day(period.get("start"))
            end = _day(period.get("end"))
            if rt == "MedicationStatement":
                start = start or _day(res.get("dateAsserted"))
        phase, protocol = self._phase(res)
        if phase is None:
            self.warn(f"{path}.category", f"{rt} ({drug}): treatment phase not derivable from "
                      "its category or protocol; no treatment event recorded",
                      _concept_str(res.get("medicationCodeableConcept")))
            return
        if start is None:
            self.warn(path, f"{rt} ({drug}, {phase}): no start date; not used")
            return
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

    # ------------------------------------------------------------------ result
    def build(self) -> dict[str, Any]:
        rec = self.record
        rec.setdefault("id", "fhir-patient")
        dated = [d["onset"] for d in self.diagnoses if d.get("onset")]
        if dated:
            rec["diagnosis_date"] = min(
                d.date() if isinstance(d, dt.datetime) else d for d in dated)
            first = min(self.diagnoses, key=lambda d: str(d.get("onset") or "9999"))
            self.origin["diagnosis_date"] = str(first["path"])
        rec["conditions"] = list(self.conditions)
        if self.symptoms:
            rec["symptoms"] = list(self.symptoms)
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


def read_resources(items: Iterable[tuple[str, dict[str, Any], str | None]],
                   source: str | None = None) -> list[FhirImport]:
    """Map resources (FHIR path, resource, fullUrl) to one :class:`FhirImport` per patient."""
    cat, voc = load_catalogue(), load_vocabulary()
    entries = [_Item(p, r, u) for p, r, u in items]
    general: list[FhirWarning] = []
    owners: dict[str, str] = {}  # reference key -> patient key
    patients: dict[str, _Patient] = {}
    patient_key: dict[int, str] = {}
    for n, it in enumerate(entries):
        try:
            validate_resource(it.resource)
        except Exception as exc:  # pydantic ValidationError or an unknown resourceType
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
                if not m.genetics_extra(res, it.path):
                    m.observation(res, it.path)
            elif rt == "Condition":
                m.condition(res, it.path)
            else:
                m.medication(res, it.path)
        except Exception as exc:  # a malformed resource never stops the import
            m.warn(it.path, f"could not be read ({type(exc).__name__}: {exc}); not used")
    for rt, paths in sorted(unread.items()):
        more = f" and {len(paths) - 1} more" if len(paths) > 1 else ""
        general.append(FhirWarning(paths[0], f"{len(paths)} {rt} resource(s) not read by "
                                   f"ALLPath (first here{more})"))
    out = []
    for m in patients.values():
        m.build()
        patient = _check(m, source)
        out.append(FhirImport(
            record=m.record, patient=patient, warnings=[*general, *m.warnings],
            diagnoses=m.diagnoses, disease_status=m.disease_status,
            risk_assessments=m.risk, source=source,
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
