"""Patients with their versioned records, observations added over time and assessment history.

Every write is one transaction: the record version, the observations, the assessment and
the audit entry are committed together or not at all.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import allpath
from allpath.api.deps import CallerDep, audit, get_db, trial_registry
from allpath.api.inputs import check_size, check_values, read_record
from allpath.api.problems import PROBLEM_RESPONSES, ApiProblem
from allpath.db import AssessmentRow, ObservationRow, Patient, RecordVersion
from allpath.db.models import utcnow
from allpath.errors import Problem, RecordError
from allpath.pipeline import assess as run_assess
from allpath.record import PatientRecord, parse_record

__all__ = ["etag", "router", "store_assessment"]

router = APIRouter(prefix="/v1/patients", tags=["patients"], responses=PROBLEM_RESPONSES)

PATIENT_ID_MAX = 32  # patients.id
EXTERNAL_ID_MAX = 200  # patients.external_id (the record's id)
RecordBody = Annotated[dict[str, Any], Body(
    description="A patient record (`allpath.record/1`) or a FHIR R4 Bundle.")]


class AssessmentSummary(BaseModel):
    id: int
    created_at: dt.datetime
    record_version: int
    ruleset: str
    allpath_version: str
    as_of: str | None = None
    diagnosis: str | None = None
    subtype: str | None = None
    risk: dict[str, str] = {}


class PatientOut(BaseModel):
    id: str
    external_id: str
    created_at: dt.datetime
    updated_at: dt.datetime
    record_version: int
    latest_assessment: AssessmentSummary | None = None
    warnings: list[str] = []


class PatientList(BaseModel):
    items: list[PatientOut]
    total: int


class RecordVersionOut(BaseModel):
    version: int
    reason: str
    created_at: dt.datetime


class ObservationsIn(BaseModel):
    observations: list[dict[str, Any]] = Field(
        min_length=1, max_length=1000,
        description="Observations in the record format (`code`, `value`, `unit`, `time`...).")


class ObservationOut(BaseModel):
    id: int
    record_version: int
    created_at: dt.datetime
    data: dict[str, Any]


class ObservationsAdded(BaseModel):
    patient_id: str
    record_version: int
    added: int
    assessment: AssessmentSummary


def _summary(row: AssessmentRow) -> AssessmentSummary:
    res = row.result
    d = res.get("diagnosis")
    diag: dict[str, Any] = d if isinstance(d, dict) else {}
    s = diag.get("subtype")
    sub: dict[str, Any] = s if isinstance(s, dict) else {}
    risk = {str(r.get("scheme")): str(r.get("group")) for r in res.get("risk", [])
            if isinstance(r, dict)}
    return AssessmentSummary(
        id=row.id, created_at=row.created_at, record_version=row.record_version,
        ruleset=row.ruleset, allpath_version=row.allpath_version, as_of=res.get("as_of"),
        diagnosis=diag.get("status"), subtype=sub.get("key"), risk=risk)


def _get(session: Session, patient_id: str, *, lock: bool = False) -> Patient:
    """The patient; ``lock`` takes its row lock (PostgreSQL ``FOR UPDATE``; SQLite's
    transactions hold the write lock from their start) so that concurrent writes to one
    patient run one after the other, each on the version the one before it wrote."""
    if len(patient_id) > PATIENT_ID_MAX:
        raise ApiProblem(404, "no such patient (ids are at most "
                              f"{PATIENT_ID_MAX} characters)")
    q = select(Patient).where(Patient.id == patient_id)
    p = session.scalars(q.with_for_update() if lock else q).first()
    if p is None:
        raise ApiProblem(404, "no such patient")
    return p


def etag(version: int) -> str:
    """The ETag of a patient's record version."""
    return f'"v{version}"'


def _check_if_match(request: Request, version: int) -> None:
    """Honour ``If-Match``: a write against a version other than the current one is 412."""
    given = request.headers.get("if-match")
    if given is None:
        return
    tags = {t.strip().removeprefix("W/") for t in given.split(",")[:20]}
    if "*" in tags or etag(version) in tags:
        return
    raise ApiProblem(412, f"the record changed: it is at version {version} (ETag "
                          f"{etag(version)}); read it again and re-apply the change",
                     type_="stale-version", headers={"ETag": etag(version)})


def _latest_record(session: Session, patient_id: str) -> RecordVersion:
    row = session.scalars(select(RecordVersion).where(RecordVersion.patient_id == patient_id)
                          .order_by(RecordVersion.version.desc()).limit(1)).first()
    if row is None:  # pragma: no cover - a patient always has a version
        raise ApiProblem(404, f"patient {patient_id!r} has no record")
    return row


def _latest_assessment(session: Session, patient_id: str) -> AssessmentRow | None:
    return session.scalars(select(AssessmentRow).where(AssessmentRow.patient_id == patient_id)
                           .order_by(AssessmentRow.id.desc()).limit(1)).first()


def store_assessment(session: Session, patient_id: str, version: int,
                     record: PatientRecord) -> AssessmentRow:
    """Assess ``record`` and add the result, with its ruleset version, to the session."""
    doc = run_assess(record).to_dict()
    row = AssessmentRow(patient_id=patient_id, record_version=version,
                        ruleset=str(doc["generated_by"]["ruleset"]),
                        allpath_version=str(doc["generated_by"].get("allpath",
                                                                    allpath.__version__)),
                        result=doc)
    session.add(row)
    session.flush()
    return row


def _out(session: Session, p: Patient, warnings: tuple[str, ...] = ()) -> PatientOut:
    latest = _latest_assessment(session, p.id)
    return PatientOut(id=p.id, external_id=p.external_id, created_at=p.created_at,
                      updated_at=p.updated_at,
                      record_version=_latest_record(session, p.id).version,
                      latest_assessment=_summary(latest) if latest else None,
                      warnings=list(warnings))


def _new_version(session: Session, p: Patient, data: dict[str, Any], reason: str) -> int:
    version = _latest_record(session, p.id).version + 1
    session.add(RecordVersion(patient_id=p.id, version=version, record=data, reason=reason))
    p.updated_at = utcnow()
    session.flush()
    return version


def _observation_problems(problems: tuple[Problem, ...], offset: int) -> list[Problem]:
    """Problems of the merged record, with observation indices as in the request body."""
    out = []
    for p in problems:
        path = p.path
        if path.startswith("observations["):
            idx_text, _, rest = path[len("observations["):].partition("]")
            if idx_text.isdigit() and int(idx_text) >= offset:
                path = f"observations[{int(idx_text) - offset}]{rest}"
            elif idx_text.isdigit():
                path = f"record.{path}"
        out.append(Problem(path, p.message, p.expected, p.got, p.hint))
    return out


_EXISTS = ("a patient with this record id exists; add observations or replace its "
           "record instead")


@router.post("", status_code=201, summary="Create a patient from a record or FHIR Bundle",
             description="Stores the record as version 1 and its first assessment. The "
                         "patient's `external_id` is the record's `id`; a second patient "
                         "with the same record id is 409.")
def create_patient(request: Request, response: Response, body: RecordBody,
                   caller: CallerDep) -> PatientOut:
    parsed = read_record(body)
    if len(parsed.record.id) > EXTERNAL_ID_MAX:
        raise RecordError([Problem("id", "the record id is too long", expected=f"at most "
                                   f"{EXTERNAL_ID_MAX} characters",
                                   got=f"{len(parsed.record.id)} characters")])
    try:
        with get_db(request).transaction() as session:
            if session.scalars(select(Patient.id).where(
                    Patient.external_id == parsed.record.id)).first() is not None:
                raise ApiProblem(409, _EXISTS)
            p = Patient(external_id=parsed.record.id)
            session.add(p)
            session.flush()
            session.add(RecordVersion(patient_id=p.id, version=1, record=parsed.data,
                                      reason="created"))
            session.flush()
            store_assessment(session, p.id, 1, parsed.record)
            audit(session, caller, "patient.create", p.id)
            out = _out(session, p, parsed.warnings)
    except IntegrityError:  # a concurrent create of the same record id won the race
        raise ApiProblem(409, _EXISTS) from None
    response.headers["ETag"] = etag(out.record_version)
    response.headers["Location"] = f"/v1/patients/{out.id}"
    return out


@router.get("", summary="List patients")
def list_patients(
    request: Request, caller: CallerDep,
    external_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> PatientList:
    with get_db(request).transaction() as session:
        q = select(Patient)
        if external_id is not None:
            q = q.where(Patient.external_id == external_id)
        total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = session.scalars(q.order_by(Patient.created_at, Patient.id)
                               .offset(offset).limit(limit)).all()
        audit(session, caller, "patient.list", None, f"{len(rows)} listed",
              patients=[p.id for p in rows])
        return PatientList(items=[_out(session, p) for p in rows], total=total)


@router.get("/{patient_id}", summary="One patient with its latest assessment summary",
            description="The `ETag` header is the record version, for `If-Match`.")
def get_patient(request: Request, response: Response, patient_id: str,
                caller: CallerDep) -> PatientOut:
    with get_db(request).transaction() as session:
        p = _get(session, patient_id)
        audit(session, caller, "patient.read", p.id)
        out = _out(session, p)
    response.headers["ETag"] = etag(out.record_version)
    return out


@router.delete("/{patient_id}", status_code=204, summary="Delete a patient and all its data")
def delete_patient(request: Request, patient_id: str, caller: CallerDep) -> Response:
    with get_db(request).transaction() as session:
        p = _get(session, patient_id, lock=True)
        _check_if_match(request, _latest_record(session, p.id).version)
        for model in (AssessmentRow, ObservationRow, RecordVersion):
            session.execute(model.__table__.delete().where(  # type: ignore[attr-defined]
                model.patient_id == p.id))
        session.delete(p)
        audit(session, caller, "patient.delete", patient_id)
    return Response(status_code=204)


@router.get("/{patient_id}/record", summary="The latest record version")
def get_record(request: Request, response: Response, patient_id: str, caller: CallerDep,
               version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
               ) -> dict[str, Any]:
    with get_db(request).transaction() as session:
        p = _get(session, patient_id)
        if version is None:
            row: RecordVersion | None = _latest_record(session, p.id)
        else:
            row = session.scalars(select(RecordVersion).where(
                RecordVersion.patient_id == p.id, RecordVersion.version == version)).first()
        if row is None:
            raise ApiProblem(404, f"no record version {version}")
        audit(session, caller, "record.read", p.id, f"version {row.version}")
        response.headers["ETag"] = etag(row.version)
        return row.record


@router.put("/{patient_id}/record", summary="Replace the record (stored as a new version) "
                                            "and re-assess",
            description="Send `If-Match` with the ETag you read: when the record changed "
                        "since, the answer is 412 and nothing is written.")
def replace_record(request: Request, response: Response, patient_id: str, body: RecordBody,
                   caller: CallerDep) -> PatientOut:
    parsed = read_record(body)
    with get_db(request).transaction() as session:
        p = _get(session, patient_id, lock=True)
        _check_if_match(request, _latest_record(session, p.id).version)
        if parsed.record.id != p.external_id:
            raise RecordError([Problem("id", "the record id must stay the same",
                                       expected=repr(p.external_id),
                                       got=repr(parsed.record.id))])
        version = _new_version(session, p, parsed.data, "replaced")
        store_assessment(session, p.id, version, parsed.record)
        audit(session, caller, "record.replace", p.id, f"version {version}")
        out = _out(session, p, parsed.warnings)
    response.headers["ETag"] = etag(version)
    return out


@router.get("/{patient_id}/records", summary="Record versions")
def list_records(request: Request, patient_id: str, caller: CallerDep,
                 ) -> list[RecordVersionOut]:
    with get_db(request).transaction() as session:
        p = _get(session, patient_id)
        rows = session.scalars(select(RecordVersion).where(RecordVersion.patient_id == p.id)
                               .order_by(RecordVersion.version)).all()
        audit(session, caller, "record.list", p.id)
        return [RecordVersionOut(version=r.version, reason=r.reason, created_at=r.created_at)
                for r in rows]


@router.post("/{patient_id}/observations", status_code=201,
             summary="Add observations (a new record version) and re-assess")
def add_observations(request: Request, response: Response, patient_id: str,
                     body: ObservationsIn, caller: CallerDep) -> ObservationsAdded:
    check_values(body.observations, "observations")
    with get_db(request).transaction() as session:
        p = _get(session, patient_id, lock=True)
        latest = _latest_record(session, p.id)
        _check_if_match(request, latest.version)
        check_size(latest.record, adding=len(body.observations))
        data = dict(latest.record)
        old = list(data.get("observations") or [])
        data["observations"] = old + list(body.observations)
        try:
            record = parse_record(data)
        except RecordError as err:
            raise RecordError(_observation_problems(err.problems, len(old))) from None
        version = _new_version(session, p, data, "observations")
        for obs in body.observations:
            session.add(ObservationRow(patient_id=p.id, record_version=version, data=obs))
        row = store_assessment(session, p.id, version, record)
        audit(session, caller, "observations.add", p.id,
              f"{len(body.observations)} added, version {version}")
        response.headers["ETag"] = etag(version)
        return ObservationsAdded(patient_id=p.id, record_version=version,
                                 added=len(body.observations), assessment=_summary(row))


@router.get("/{patient_id}/observations", summary="Observations added through the API")
def list_observations(request: Request, patient_id: str, caller: CallerDep,
                      ) -> list[ObservationOut]:
    with get_db(request).transaction() as session:
        p = _get(session, patient_id)
        rows = session.scalars(select(ObservationRow).where(ObservationRow.patient_id == p.id)
                               .order_by(ObservationRow.id)).all()
        audit(session, caller, "observations.read", p.id)
        return [ObservationOut(id=r.id, record_version=r.record_version,
                               created_at=r.created_at, data=r.data) for r in rows]


@router.post("/{patient_id}/assessments", status_code=201,
             summary="Re-assess the latest record (for example after a ruleset update)")
def reassess(request: Request, patient_id: str, caller: CallerDep) -> dict[str, Any]:
    with get_db(request).transaction() as session:
        p = _get(session, patient_id, lock=True)
        latest = _latest_record(session, p.id)
        row = store_assessment(session, p.id, latest.version, parse_record(latest.record))
        audit(session, caller, "assessment.create", p.id, f"assessment {row.id}")
        return {"id": row.id, "record_version": row.record_version,
                "ruleset": row.ruleset, "assessment": row.result}


@router.get("/{patient_id}/assessments", summary="Assessment history, newest first")
def history(request: Request, patient_id: str, caller: CallerDep,
            limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[AssessmentSummary]:
    with get_db(request).transaction() as session:
        p = _get(session, patient_id)
        rows = session.scalars(select(AssessmentRow).where(AssessmentRow.patient_id == p.id)
                               .order_by(AssessmentRow.id.desc()).limit(limit)).all()
        audit(session, caller, "assessment.list", p.id)
        return [_summary(r) for r in rows]


@router.get("/{patient_id}/assessments/{assessment_id}", summary="One stored assessment")
def get_assessment(request: Request, patient_id: str, assessment_id: int,
                   caller: CallerDep) -> dict[str, Any]:
    with get_db(request).transaction() as session:
        p = _get(session, patient_id)
        row = session.get(AssessmentRow, assessment_id) if assessment_id < 2**31 else None
        if row is None or row.patient_id != p.id:
            raise ApiProblem(404, f"no assessment {assessment_id} for this patient")
        audit(session, caller, "assessment.read", p.id, f"assessment {row.id}")
        return row.result


@router.get("/{patient_id}/trials", summary="Pre-screen registered trials for a stored patient",
            tags=["trials"])
def patient_trials(
    request: Request, patient_id: str, caller: CallerDep,
    country: Annotated[str | None, Query(max_length=100, description="Only studies with a "
                                         "site in this country, as registered.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 10,
) -> dict[str, Any]:
    """The `allpath.trial_matches/1` pre-screen of the patient's latest record version."""
    from allpath.trials import match_trials

    with get_db(request).transaction() as session:
        p = _get(session, patient_id)
        latest = _latest_record(session, p.id)
        record = parse_record(latest.record)
        audit(session, caller, "trials.match", p.id, f"record version {latest.version}")
    report = match_trials(run_assess(record), trial_registry(request), country=country,
                          limit=limit)
    return report.to_dict()
