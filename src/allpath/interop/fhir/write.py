"""Write an assessment as a FHIR R4 collection Bundle (mCODE where mCODE has a profile).

The Bundle holds the record's own data (Patient, the ALL Condition, the results as
Observations, genetics, immunophenotype, predispositions, treatment events) so that it reads
back into the same record, and the derived findings: the mCODE ALL risk assessment per
scheme (with the ALLPath risk-group extension where mCODE's two values cannot say the
group), diagnosis, subtype, CNS status (NCIt), MRD levels, the roadmap as a CarePlan when
:mod:`allpath.roadmap` is installed, alerts as DetectedIssue, and a Provenance naming the
ruleset and the citations. Every resource is parsed with the ``fhir.resources`` models of
:data:`~allpath.interop.fhir.release.FHIR_RELEASE` before it is returned.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import uuid
from collections.abc import Mapping
from typing import Any

from allpath.interop.fhir.codes import (
    ALL_CONDITION_CODES,
    CS,
    EXT,
    GENOMICS,
    HGNC_IDS,
    MCODE,
    PREDISPOSITION_CODES,
    RXNORM_INGREDIENTS,
    code_key,
)
from allpath.interop.fhir.read import import_settings
from allpath.interop.fhir.release import validate_resource
from allpath.observations.catalogue import load_catalogue
from allpath.orders.drugs import identify_order, load_drugs
from allpath.outputs.assessment import DISCLAIMER, Assessment
from allpath.units import UnitError, convert

__all__ = ["assessment_to_bundle"]

_NS = uuid.UUID("6f1c2f8e-6a53-4c8e-9a0e-2f1b6e1d7a10")
_SEVERITY = {"critical": "high", "high": "high", "moderate": "moderate", "low": "low",
             "info": "low"}
# Confirmed ICD-O-3 codes by subtype (clinical-facts §10.2; unconfirmed labels left out).
_ICDO3_BY_SUBTYPE = {"BCR::ABL1": "9812/3", "KMT2A_r": "9813/3", "KMT2A": "9813/3",
                     "IL3::IGH": "9817/3", "B_NOS": "9811/3"}
# Lineage-level ICD-O-3 morphology when the subtype has no confirmed code (§10.2, [S16]).
_ICDO3_BY_LINEAGE = {"B": "9811/3", "T": "9837/3"}
# Derived findings are ALLPath's computation, not laboratory results: they are written with
# this category and status ``preliminary`` (for the care team to confirm).
_DERIVED_CATEGORY = {"coding": [{"system": CS.OBS_ORIGIN, "code": "derived",
                                 "display": "Derived by ALLPath decision support"}],
                     "text": "Derived by ALLPath decision support (not a laboratory result)"}


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _cc(system: str, code: str, display: str | None = None,
        text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [_coding(system, code, display)]}
    if text:
        out["text"] = text
    return out


def _fhir_id(text: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9\-.]", "-", text)[:64]
    return clean or "patient"


def _when(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            # FHIR needs an offset with a time; a record's clock time has none, so only the
            # date is written (correct, if less precise).
            return value.date().isoformat()
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value) if value else None


def _source_resources(source: Mapping[str, Any] | None, rtype: str) -> list[dict[str, Any]]:
    """The resources of one type in the source the record was read from (Bundle or one
    resource)."""
    if source is None:
        return []
    if source.get("resourceType") == "Bundle":
        return [e["resource"] for e in source.get("entry") or []
                if isinstance(e, dict) and isinstance(e.get("resource"), dict)
                and e["resource"].get("resourceType") == rtype]
    return [dict(source)] if source.get("resourceType") == rtype else []


class _Bundle:
    def __init__(self, assessment: Assessment,
                 source: Mapping[str, Any] | None = None) -> None:
        self.a = assessment
        self.doc = assessment.to_dict()
        self.key = assessment.record.id
        self.source = source
        self.entries: list[dict[str, Any]] = []

    def url(self, kind: str) -> str:
        return f"urn:uuid:{uuid.uuid5(_NS, f'{self.key}/{kind}')}"

    def add(self, kind: str, resource: dict[str, Any]) -> str:
        full = self.url(kind)
        resource.setdefault("id", full.rsplit(":", 1)[1])
        validate_resource(resource)
        self.entries.append({"fullUrl": full, "resource": resource})
        return full


def _patient(b: _Bundle) -> str:
    """The CancerPatient: the source's names and identifiers (their systems kept, so an MRN
    stays an MRN) beside ALLPath's record id; a record without a name says so with the
    data-absent-reason extension instead of inventing one."""
    rec = b.a.record
    src = next(iter(_source_resources(b.source, "Patient")), {})
    own = {"system": f"{CS.RULESET.rsplit('/', 1)[0]}/record-id", "value": rec.id}
    identifiers = [dict(i) for i in src.get("identifier") or []
                   if isinstance(i, dict) and i.get("system") and i.get("value")]
    if not any(i.get("system") == own["system"] for i in identifiers):
        identifiers.append(own)
    names = [dict(n) for n in src.get("name") or [] if isinstance(n, dict) and n]
    if not names:
        names = [{"extension": [{"url": EXT.DATA_ABSENT_REASON, "valueCode": "unknown"}]}]
    res: dict[str, Any] = {
        "resourceType": "Patient",
        "id": _fhir_id(rec.id),
        "meta": {"profile": [MCODE.CANCER_PATIENT]},
        "identifier": identifiers,
        "name": names,
        "gender": rec.sex.value,
    }
    if rec.birth_date:
        res["birthDate"] = rec.birth_date.isoformat()
    return b.add("Patient", res)


def _subject(pat: str) -> dict[str, str]:
    return {"reference": pat}


def _record_data(b: _Bundle, pat: str) -> tuple[str | None, dict[int, str]]:
    """The record's own data; returns the ALL Condition and observation index -> fullUrl."""
    rec = b.a.record
    cat = load_catalogue()
    cond_url = None
    diag = b.doc["diagnosis"]
    if diag.get("status") == "ALL" or (rec.diagnosis_date is not None
                                       and diag.get("status") != "not_ALL"):
        # A diagnosis date in the record is the care team's diagnosis; when ALLPath's own
        # assessment does not reach "ALL" the Condition is written as unconfirmed. When the
        # data show another disease ("not_ALL": a lymphoblastic lymphoma, a mixed-phenotype
        # leukaemia) no ALL Condition, and so no ALL risk assessment, is written.
        confirmed = diag.get("status") == "ALL"
        lineage = diag.get("lineage")
        # The source's own ALL codes come first, unchanged; the canonical codes are added.
        source_codings = [dict(c) for res_c in _source_resources(b.source, "Condition")
                          for c in (res_c.get("code") or {}).get("coding") or []
                          if isinstance(c, dict)
                          and code_key(c.get("system"), c.get("code")) in ALL_CONDITION_CODES]
        code: dict[str, Any] = {"coding": source_codings, "text": "Acute lymphoblastic leukaemia"}
        canonical = [_coding(CS.SNOMED, "91857003", "Acute lymphoid leukemia (disorder)")]
        if lineage == "B":
            canonical.append(_coding(CS.NCIT, "C8644", "B Lymphoblastic Leukemia"))
        elif lineage == "T":
            canonical.append(_coding(CS.NCIT, "C3183", "T Lymphoblastic Leukemia"))
        have = {code_key(c.get("system"), c.get("code")) for c in source_codings}
        code["coding"] += [c for c in canonical
                           if code_key(c["system"], c["code"]) not in have]
        cond: dict[str, Any] = {
            "resourceType": "Condition",
            "meta": {"profile": [MCODE.PRIMARY_CANCER_CONDITION]},
            "clinicalStatus": _cc(CS.CONDITION_CLINICAL, "active"),
            "verificationStatus": _cc(CS.CONDITION_VERIFICATION,
                                      "confirmed" if confirmed else "unconfirmed"),
            "category": [_cc(CS.CONDITION_CATEGORY, "problem-list-item")],
            "code": code,
            # ALL is a disease of the bone marrow; no SNOMED CT body-structure code for it
            # is confirmed in the sources, so the site is given as text.
            "bodySite": [{"text": "Bone marrow"}],
            "subject": _subject(pat),
        }
        icdo = (_ICDO3_BY_SUBTYPE.get(str((diag.get("subtype") or {}).get("key")))
                or _ICDO3_BY_LINEAGE.get(str(lineage)))
        if icdo:
            label = ALL_CONDITION_CODES[code_key(CS.ICDO3, icdo)][0]
            cond["extension"] = [{"url": EXT.HISTOLOGY,
                                  "valueCodeableConcept": _cc(CS.ICDO3, icdo, label)}]
        if rec.diagnosis_date:
            cond["onsetDateTime"] = rec.diagnosis_date.isoformat()
        if not confirmed:
            cond["note"] = [{"text": "Diagnosis date from the record; ALLPath's assessment "
                                     f"of the data: {diag.get('status')}."}]
        cond_url = b.add("Condition/ALL", cond)
    for term in rec.conditions:
        coding = [_coding(CS.CONDITION, term, term.replace("_", " "))]
        coding += [_coding(s, c) for (s, c), t in PREDISPOSITION_CODES.items()
                   if t == term and s == CS.SNOMED]
        b.add(f"Condition/{term}", {
            "resourceType": "Condition",
            "verificationStatus": _cc(CS.CONDITION_VERIFICATION, "confirmed"),
            "code": {"coding": coding, "text": term.replace("_", " ")},
            "subject": _subject(pat),
        })
    for i, sym in enumerate(rec.symptoms):
        code_ = sym if isinstance(sym, str) else sym.code
        res_s: dict[str, Any] = {
            "resourceType": "Condition",
            "category": [_cc(CS.CONDITION_CATEGORY, "problem-list-item")],
            "code": _cc(CS.SYMPTOM, code_, code_.replace("_", " "), code_.replace("_", " ")),
            "subject": _subject(pat),
        }
        if not isinstance(sym, str) and sym.onset:
            res_s["onsetDateTime"] = sym.onset.isoformat()
        b.add(f"Condition/symptom/{i}", res_s)
    flags: list[tuple[str, str, bool | None]] = [
        ("steroid-pretreatment", "Steroids before the diagnostic work-up",
         rec.steroid_pretreatment)]
    if rec.extramedullary is not None:
        em = rec.extramedullary
        flags += [("testicular-involvement", "Testicular involvement", em.testicular),
                  ("mediastinal-mass", "Anterior mediastinal mass", em.mediastinal_mass),
                  ("cns-clinical-signs", "Clinical signs of CNS disease",
                   em.cns_clinical_signs)]
    for key, title, flag in flags:
        if flag is None:
            continue
        res_f: dict[str, Any] = {
            "resourceType": "Observation", "status": "final",
            "category": [_cc(CS.OBS_CATEGORY, "exam")],
            "code": _cc(CS.FINDING, key, title), "subject": _subject(pat),
            "valueBoolean": flag,
        }
        when_f = rec.diagnosis_date or b.a.as_of
        if when_f:
            res_f["effectiveDateTime"] = when_f.isoformat()
        b.add(f"Observation/{key}", res_f)
    obs_urls: dict[int, str] = {}
    for i, o in enumerate(rec.observations):
        a = cat.resolve(o.code)
        if a is None:
            continue
        coding = [_coding(CS.LOINC, loinc, a.name) for loinc in a.loinc[:1]]
        coding.append(_coding(CS.ANALYTE, a.code, a.name))
        res: dict[str, Any] = {
            "resourceType": "Observation", "status": "final",
            "category": [_cc(CS.OBS_CATEGORY, "vital-signs" if a.specimen == "body"
                             else "laboratory")],
            "code": {"coding": coding, "text": a.name},
            "subject": _subject(pat),
            "effectiveDateTime": _when(o.time),
        }
        if a.kind == "categorical":
            res["valueCodeableConcept"] = {"text": str(o.value)}
            if str(o.value) in ("present", "absent"):
                res["valueCodeableConcept"] = _cc(
                    CS.LOINC, GENOMICS.PRESENT if o.value == "present" else GENOMICS.ABSENT,
                    str(o.value).capitalize(), str(o.value))
        else:
            value = float(o.value)
            unit = a.unit or str(o.unit)
            try:
                value = convert(value, str(o.unit), unit, a.molar_mass)
            except UnitError:
                unit = str(o.unit)
            res["valueQuantity"] = {"value": value, "unit": unit, "system": CS.UCUM,
                                    "code": unit}
        if o.method:
            res["method"] = {"text": o.method}
        comps: list[dict[str, Any]] = []
        if o.sensitivity is not None:
            comps.append({"code": _cc(CS.FINDING, "assay-sensitivity", "Assay sensitivity"),
                          "valueQuantity": {"value": o.sensitivity, "unit": "1",
                                            "system": CS.UCUM, "code": "1"}})
        if o.timepoint:
            comps.append({"code": _cc(CS.FINDING, "timepoint", "Protocol time point"),
                          "valueString": o.timepoint})
        if comps:
            res["component"] = comps
        obs_urls[i] = b.add(f"Observation/{i}", res)
    if rec.immunophenotype is not None and rec.immunophenotype.markers:
        res = {
            "resourceType": "Observation", "status": "final",
            "category": [_cc(CS.OBS_CATEGORY, "laboratory")],
            "code": _cc(CS.LOINC, GENOMICS.IMMUNOPHENOTYPE,
                        "Leukemia and lymphoma immunophenotyping panel"),
            "subject": _subject(pat),
            "component": [
                {"code": _cc(CS.MARKER, m, m, m),
                 "valueCodeableConcept": _cc(CS.MARKER_RESULT, v.value, v.value, v.value)}
                for m, v in rec.immunophenotype.markers.items()
            ],
        }
        if rec.immunophenotype.time:
            res["effectiveDateTime"] = _when(rec.immunophenotype.time)
        b.add("Observation/immunophenotype", res)
    g = rec.genetics
    if g is not None:
        when = _when(g.time)
        base: dict[str, Any] = {"resourceType": "Observation", "status": "final",
                                "category": [_cc(CS.OBS_CATEGORY, "laboratory")],
                                "subject": _subject(pat)}
        if when:
            base["effectiveDateTime"] = when
        for key, tested in (("fusions-tested", g.fusions is not None),
                            ("alterations-tested", g.alterations is not None)):
            if tested:
                b.add(f"Observation/{key}", {
                    **base, "code": _cc(CS.FINDING, key, key.replace("-", " ").capitalize()),
                    "valueBoolean": True})
        if g.bcr_abl1_transcript:
            b.add("Observation/bcr-abl1-transcript", {
                **base, "code": _cc(CS.FINDING, "bcr-abl1-transcript", "BCR::ABL1 transcript"),
                "valueString": g.bcr_abl1_transcript})
        for f in g.fusions or ():
            genes = f.split("::")
            b.add(f"Observation/fusion/{f}", {
                **base,
                "meta": {"profile": [MCODE.GENOMIC_VARIANT]},
                "code": _cc(CS.LOINC, GENOMICS.VARIANT, "Genetic variant assessment"),
                "valueCodeableConcept": _cc(CS.LOINC, GENOMICS.PRESENT, "Present"),
                "component": [
                    *({"code": _cc(CS.LOINC, GENOMICS.GENE_STUDIED, "Gene studied [ID]"),
                       "valueCodeableConcept": _gene(gene)} for gene in genes),
                    {"code": _cc(CS.LOINC, GENOMICS.CHANGE_TYPE, "DNA change type"),
                     "valueCodeableConcept": _cc(CS.SO, "SO:0001565", "gene_fusion")},
                ],
            })
        for alt in g.alterations or ():
            b.add(f"Observation/alteration/{alt}", {
                **base,
                "code": _cc(CS.LOINC, GENOMICS.VARIANT, "Genetic variant assessment"),
                "valueCodeableConcept": _cc(CS.LOINC, GENOMICS.PRESENT, "Present"),
                "component": [{"code": _cc(CS.FINDING, "alteration", "Genetic alteration"),
                               "valueCodeableConcept": _cc(CS.ALTERATION, alt, alt)}],
            })
        if g.karyotype:
            b.add("Observation/karyotype", {**base, "code": _cc(CS.FINDING, "karyotype",
                                                                 "Karyotype (ISCN)"),
                                             "valueString": g.karyotype})
        if g.chromosome_count is not None:
            b.add("Observation/chromosome-count", {
                **base, "code": _cc(CS.FINDING, "chromosome-count", "Modal chromosome count"),
                "valueInteger": g.chromosome_count})
    ordered = _source_therapy(b, pat, cond_url, "MedicationRequest")
    given = _source_therapy(b, pat, cond_url, "MedicationAdministration", requests={
        f"MedicationRequest/{src['id']}": url for url, _, src in ordered
        if isinstance(src.get("id"), str)})
    events = list(rec.treatment)

    def phase_of(day: dt.date) -> int | None:
        # the recorded phase that covers a day (the latest started one when phases overlap)
        covering = [i for i, ev in enumerate(events)
                    if ev.start <= day and (ev.end is None or day <= ev.end)]
        return max(covering, key=lambda i: events[i].start) if covering else None

    derived_from: dict[int, list[str]] = {}
    based_on: dict[int, list[str]] = {}
    for links, therapy in ((derived_from, given), (based_on, ordered)):
        for url, day, _ in therapy:
            phase = phase_of(day)
            if phase is not None:
                links.setdefault(phase, []).append(url)
    for i, ev in enumerate(events):
        period: dict[str, Any] = {"start": ev.start.isoformat()}
        if ev.end:
            period["end"] = ev.end.isoformat()
        res = {
            "resourceType": "MedicationStatement",
            "status": "completed" if ev.end else "active",
            "category": _cc(CS.PHASE, ev.phase, ev.phase.replace("_", " ")),
            "medicationCodeableConcept": {"text": f"ALL therapy, {ev.phase.replace('_', ' ')}"},
            "subject": _subject(pat),
            "effectivePeriod": period,
        }
        if ev.protocol:
            res["extension"] = [{"url": EXT.PROTOCOL, "valueString": ev.protocol}]
        if i in based_on:  # the orders written during the phase
            res["basedOn"] = [{"reference": u} for u in based_on[i]]
        if i in derived_from:  # the doses given during it
            res["derivedFrom"] = [{"reference": u} for u in derived_from[i]]
        b.add(f"MedicationStatement/{i}", res)
    return cond_url, obs_urls


def _source_therapy(b: _Bundle, pat: str, cond: str | None, rtype: str,
                    requests: Mapping[str, str] | None = None,
                    ) -> list[tuple[str, dt.date, dict[str, Any]]]:
    """The ALL drugs the source orders (``MedicationRequest``) or records as given
    (``MedicationAdministration``), as mCODE CancerRelatedMedicationRequests or
    CancerRelatedMedicationAdministrations; returns (fullUrl, day, source resource) of each.

    The record keeps treatment phases, not drugs, so the drugs come from the source the
    record was read from (``source``): each resource of a drug of ALL treatment
    (``knowledge/drugs.yaml`` class ``all_therapy``, or an RxNorm ingredient of
    :data:`RXNORM_INGREDIENTS`, the ALL drugs of the official mCODE examples) with a date
    (given: ``effective[x]``; ordered: ``authoredOn``) and a status that says it was given or
    ordered (not one of ``medication_status.skip`` in ``knowledge/fhir_import.yaml``, which
    leaves out drafts and cancelled orders). The source's medication codings are kept first
    and the RxNorm ingredient added where a source gives it (:func:`_drug`); status, intent,
    dates and dosage are copied; subject and reason point to this Bundle's Patient and ALL
    Condition. An administration whose source order was exported points to it (``request``;
    ``requests`` maps the source's ``MedicationRequest/<id>`` to its fullUrl here). Without a
    source, the record's phases stay MedicationStatements only.
    """
    skip = import_settings().medication_skip
    given = rtype == "MedicationAdministration"
    out: list[tuple[str, dt.date, dict[str, Any]]] = []
    example_codes = {code: key for key, (code, _) in RXNORM_INGREDIENTS.items()}
    for j, src in enumerate(_source_resources(b.source, rtype)):
        status = src.get("status")
        ident = identify_order(src)
        if ident.drug is not None:
            name = ident.drug.names[0] if ident.drug.names else ident.drug.id
            is_all = "all_therapy" in ident.drug.classes
        else:
            name = next((example_codes[c] for c in _rxnorm_codes(src) if c in example_codes),
                        "")
            is_all = bool(name)
        if not isinstance(status, str) or status in skip or not is_all:
            continue
        if not given and not isinstance(src.get("intent"), str):
            continue  # an order without its intent is not a valid MedicationRequest
        when = src.get("effectiveDateTime") if given else src.get("authoredOn")
        period = src.get("effectivePeriod") if given else None
        start = when if isinstance(when, str) else (
            period.get("start") if isinstance(period, dict) else None)
        day = _day(start)
        if day is None:
            continue
        canonical = _drug(name)
        source_cc = src.get("medicationCodeableConcept")
        codings = [dict(c) for c in (source_cc or {}).get("coding") or []
                   if isinstance(c, dict)] if isinstance(source_cc, dict) else []
        have = {code_key(c.get("system"), c.get("code")) for c in codings}
        codings += [c for c in canonical.get("coding") or []
                    if code_key(c.get("system"), c.get("code")) not in have]
        medication: dict[str, Any] = {"text": ident.label or name}
        if codings:
            medication = {"coding": codings, **medication}
        res: dict[str, Any] = {
            "resourceType": rtype,
            "meta": {"profile": [MCODE.MEDICATION_ADMINISTRATION if given
                                 else MCODE.MEDICATION_REQUEST]},
            "status": status,
            "medicationCodeableConcept": medication,
            "subject": _subject(pat),
        }
        if given:
            if isinstance(when, str):
                res["effectiveDateTime"] = when
            else:
                res["effectivePeriod"] = copy.deepcopy(period)
            if isinstance(src.get("dosage"), dict):
                res["dosage"] = copy.deepcopy(src["dosage"])
            order = src.get("request")
            target = (requests or {}).get(order.get("reference", "")) \
                if isinstance(order, dict) else None
            if target is not None:
                res["request"] = {"reference": target}
        else:
            res["intent"] = src["intent"]
            res["authoredOn"] = when
            if isinstance(src.get("dosageInstruction"), list):
                res["dosageInstruction"] = copy.deepcopy(src["dosageInstruction"])
        if cond:
            res["reasonReference"] = [{"reference": cond}]
        key = src.get("id") or str(j)
        out.append((b.add(f"{rtype}/{key}", res), day, src))
    return out


def _rxnorm_codes(res: Mapping[str, Any]) -> list[str]:
    """The RxNorm codes of a medication resource's medicationCodeableConcept."""
    cc = res.get("medicationCodeableConcept")
    codings = cc.get("coding") if isinstance(cc, dict) else None
    return [str(c.get("code")) for c in codings or []
            if isinstance(c, dict) and code_key(c.get("system"), None)[0] == CS.RXNORM]


def _day(value: Any) -> dt.date | None:
    """The calendar day of a FHIR date or dateTime (None for a partial or invalid one)."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _gene(symbol: str) -> dict[str, Any]:
    """A gene as mCODE's gene-studied component wants it: HGNC id as code, symbol as display
    (text only when the id is not in :data:`HGNC_IDS`)."""
    hgnc = HGNC_IDS.get(symbol.upper())
    return _cc(CS.HGNC, hgnc, symbol, symbol) if hgnc else {"text": symbol}


def _finding(b: _Bundle, pat: str, kind: str, code: dict[str, Any], value: dict[str, Any],
             **extra: Any) -> str:
    """A finding ALLPath derived: category ``derived`` and status ``preliminary``, never a
    ``laboratory``/``final`` result."""
    res: dict[str, Any] = {
        "resourceType": "Observation", "status": "preliminary",
        "category": [copy.deepcopy(_DERIVED_CATEGORY)],
        "code": code, "subject": _subject(pat), **value, **extra,
    }
    if b.a.as_of is not None and "effectiveDateTime" not in res:
        res["effectiveDateTime"] = b.a.as_of.isoformat()
    return b.add(kind, res)


def _derived(b: _Bundle, pat: str, cond: str | None, obs_urls: dict[int, str]) -> list[str]:
    d = b.doc
    urls = []
    diag = d["diagnosis"]
    urls.append(_finding(b, pat, "Finding/diagnosis", _cc(CS.FINDING, "diagnosis-status",
                                                          "ALL diagnosis status"),
                         {"valueCodeableConcept": _cc(CS.DIAGNOSIS, str(diag["status"]),
                                                      text=str(diag["status"]))}))
    sub = diag["subtype"]
    if sub.get("key") not in (None, "unknown"):
        cc = _cc(CS.SUBTYPE, str(sub["key"]), sub.get("who_haem5"),
                 text=sub.get("who_haem5") or str(sub["key"]))
        icdo = _ICDO3_BY_SUBTYPE.get(str(sub["key"]))
        if icdo:
            cc["coding"].append(_coding(CS.ICDO3, icdo))
        urls.append(_finding(b, pat, "Finding/subtype", _cc(CS.FINDING, "subtype",
                                                            "ALL genetic subtype"),
                             {"valueCodeableConcept": cc}))
    cns = d["cns"]
    if cns.get("ncit"):
        urls.append(_finding(b, pat, "Finding/cns", _cc(CS.NCIT, *MCODE.CNS_STATUS_CODE),
                             {"valueCodeableConcept": _cc(CS.NCIT, str(cns["ncit"]),
                                                          str(cns["status"]),
                                                          str(cns["status"]))}))
    # An ALL risk assessment only for a patient with ALL (the Condition written above).
    for r in d["risk"] if cond else ():
        group = str(r["group"])
        if group in ("not_applicable", "unknown"):
            continue
        value: dict[str, Any] = {"coding": [_coding(CS.RISK_GROUP, f"{r['scheme']}.{group}",
                                    f"{r['scheme']}: {group}")],
                 "text": f"{r['scheme']}: {group.replace('_', ' ')}"}
        mapped = MCODE.RISK_VALUES.get(group)
        if mapped:
            value["coding"].insert(0, _coding(CS.NCIT, *mapped))
        ext = [
            {"url": "scheme", "valueCode": str(r["scheme"])},
            {"url": "group", "valueCode": group},
            {"url": "provisional", "valueBoolean": bool(r["provisional"])},
        ]
        if r.get("rule_id"):
            ext.append({"url": "rule", "valueString": str(r["rule_id"])})
        ext += [{"url": "citation", "valueString": str(c)} for c in r.get("citations", [])]
        res: dict[str, Any] = {
            "meta": {"profile": [MCODE.ALL_RISK]},
            "extension": [{"url": EXT.RISK_GROUP, "extension": ext}],
            "method": _cc(CS.RISK_SCHEME, str(r["scheme"]), text=str(r["scheme"])),
        }
        if cond:
            res["focus"] = [{"reference": cond}]
        kind = f"Risk/{r['scheme']}"
        urls.append(_finding(b, pat, kind, _cc(CS.NCIT, *MCODE.ALL_RISK_CODE),
                             {"valueCodeableConcept": value}, **res))
    for i, m in enumerate(d.get("mrd", {}).get("series", [])):
        extra: dict[str, Any] = {"effectiveDateTime": m.get("date")} if m.get("date") else {}
        ref = m.get("input_ref") or ""
        mm = re.fullmatch(r"observations\[(\d+)\]", ref)
        if mm and int(mm.group(1)) in obs_urls:
            extra["derivedFrom"] = [{"reference": obs_urls[int(mm.group(1))]}]
        if m.get("timepoint"):
            extra["component"] = [{"code": _cc(CS.FINDING, "timepoint", "Protocol time point"),
                                   "valueString": str(m["timepoint"])}]
        level = str(m.get("level"))
        urls.append(_finding(b, pat, f"Finding/mrd/{i}",
                             _cc(CS.FINDING, "mrd-level", "MRD level"),
                             {"valueCodeableConcept": _cc(CS.MRD_LEVEL, level, text=level)},
                             **extra))
    for i, al in enumerate(d.get("alerts", [])):
        tr = al.get("trace") or {}
        res = {
            "resourceType": "DetectedIssue",
            "status": "final",
            "code": _cc(CS.ALERT, str(al["id"]), text=str(al["id"]).replace("_", " ")),
            "severity": _SEVERITY.get(str(al.get("severity")), "moderate"),
            "patient": _subject(pat),
            "detail": str(al["message"]),
            "reference": f"{CS.RULESET}/rule/{tr.get('rule_id', al['id'])}",
        }
        if b.a.as_of:
            res["identifiedDateTime"] = b.a.as_of.isoformat()
        urls.append(b.add(f"DetectedIssue/{i}", res))
    return urls


def _drug(name: str) -> dict[str, Any]:
    """A drug as a CodeableConcept, always with its name as text, and its RxNorm ingredient
    code where a source gives it: ``knowledge/drugs.yaml`` (cited there; the drug named by
    its id or first name, not by an alias), else :data:`RXNORM_INGREDIENTS` (the official
    mCODE examples)."""
    key = name.strip().lower()
    listed = next((d for d in load_drugs()
                   if d.rxnorm and key in (d.id, d.names[0] if d.names else None)), None)
    if listed is not None:
        return _cc(CS.RXNORM, listed.rxnorm[0], listed.names[0], name)
    rx = RXNORM_INGREDIENTS.get(key)
    return _cc(CS.RXNORM, rx[0], rx[1], name) if rx else {"text": name}


def _planned_drug(b: _Bundle, pat: str, cond: str | None, phase: Mapping[str, Any], j: int,
                  c: Mapping[str, Any]) -> str:
    """One drug of a roadmap phase as an mCODE CancerRelatedMedicationRequest: a ``draft``
    ``proposal`` (a plan for the care team to order, not an order), never given."""
    dose = (c.get("dose") or {}).get("text") or "dose per protocol"
    route = c.get("route") or ""
    instruction: dict[str, Any] = {
        "text": f"{phase['title']}: {c['drug']} {route}, {dose}".replace(" ,", ","),
    }
    dates = c.get("dates") or []
    if dates:
        instruction["timing"] = {"repeat": {"boundsPeriod": {"start": dates[0]["from"],
                                                             "end": dates[-1]["to"]}}}
    res: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "meta": {"profile": [MCODE.MEDICATION_REQUEST]},
        "status": "draft",
        "intent": "proposal",
        "medicationCodeableConcept": _drug(str(c["drug"])),
        "subject": _subject(pat),
        "dosageInstruction": [instruction],
        "note": [{"text": DISCLAIMER}],
    }
    if cond:
        res["reasonReference"] = [{"reference": cond}]
    return b.add(f"MedicationRequest/plan/{phase['index']}/{j}", res)


def _careplan(b: _Bundle, pat: str, cond: str | None) -> str | None:
    if b.a.roadmap is None:
        return None
    rm = b.a.roadmap.to_dict()
    phases = rm.get("phases") or []
    tpl = rm.get("template")
    if not phases or tpl is None:
        return None
    activities: list[dict[str, Any]] = []
    for p in phases:
        activities.append({"detail": {
            "kind": "ServiceRequest", "code": {"text": str(p["title"])},
            "status": "not-started",
            "scheduledPeriod": {"start": p["start"], "end": p["end"]},
            "description": f"Phase {p['index'] + 1}: {p['title']} ({p['length_days']} days)",
        }})
        for j, c in enumerate(p.get("components") or []):
            activities.append({"reference": {"reference": _planned_drug(b, pat, cond, p, j,
                                                                        c)}})
        for pr in p.get("procedures") or []:
            det = {"kind": "ServiceRequest", "status": "not-started",
                   "code": {"text": str(pr["title"])},
                   "description": f"{p['title']}: {pr['title']}"}
            if pr.get("dates"):
                det["scheduledPeriod"] = {"start": pr["dates"][0], "end": pr["dates"][-1]}
            activities.append({"detail": det})
    res: dict[str, Any] = {
        "resourceType": "CarePlan",
        "status": "draft",
        "intent": "proposal",
        "title": str(tpl.get("title")),
        "description": f"{tpl.get('title')} (template {tpl.get('id')}@{tpl.get('version')}). "
                       f"{DISCLAIMER}",
        "subject": _subject(pat),
        "period": {"start": phases[0]["start"], "end": phases[-1]["end"]},
        "activity": activities,
        "note": [{"text": DISCLAIMER}],
    }
    if cond:
        res["addresses"] = [{"reference": cond}]
    return b.add("CarePlan", res)


def assessment_to_bundle(assessment: Assessment, *, now: dt.datetime | None = None,
                         roadmap: bool = True,
                         source: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The assessment as a FHIR R4 ``collection`` Bundle (JSON mapping).

    ``now`` fixes the Bundle timestamp and Provenance time (default: the current time);
    ``roadmap=False`` leaves out the CarePlan and its planned MedicationRequests.
    ``source`` is the FHIR Bundle (or Patient) the record was read from, if any: the
    Patient keeps its names and identifiers and the ALL Condition its own codes.
    """
    b = _Bundle(assessment, source)
    doc = b.doc
    pat = _patient(b)
    cond, obs_urls = _record_data(b, pat)
    derived = _derived(b, pat, cond, obs_urls)
    plan = _careplan(b, pat, cond) if roadmap else None
    stamp = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    gen = doc["generated_by"]
    device = b.add("Device", {
        "resourceType": "Device",
        "deviceName": [{"name": "ALLPath", "type": "manufacturer-name"}],
        "version": [{"type": {"text": "allpath"}, "value": str(gen["allpath"])},
                    {"type": {"text": "ruleset"}, "value": str(gen["ruleset"])}]
        + [{"type": {"text": f"pack {k}"}, "value": str(v)}
           for k, v in sorted(gen["packs"].items())],
        "note": [{"text": DISCLAIMER}],
    })
    targets = [*derived, *([plan] if plan else [])]
    b.add("Provenance", {
        "resourceType": "Provenance",
        "target": [{"reference": t} for t in targets],
        "recorded": stamp.isoformat(),
        "policy": [f"{CS.RULESET}/{gen['ruleset']}"],
        "agent": [{
            "type": _cc(CS.PROVENANCE_AGENT, "assembler", "Assembler"),
            "who": {"reference": device,
                    "display": f"ALLPath {gen['allpath']}, ruleset {gen['ruleset']}"},
        }],
        "entity": [{"role": "source", "what": {"display": f"[{k}] {v}"}}
                   for k, v in sorted(doc["citations"].items())],
    })
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(_NS, f"{b.key}/Bundle")),
        "meta": {"tag": [{"system": f"{CS.RULESET}", "code": str(gen["ruleset"])}]},
        "type": "collection",
        "timestamp": stamp.isoformat(),
        "entry": b.entries,
    }
    validate_resource(bundle)
    return bundle

