"""Bulk CBC screening as a job: submit a CSV, poll its status, download the result."""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from pydantic import BaseModel

from allpath.api.deps import Caller, CallerDep, audit, get_db
from allpath.api.problems import PROBLEM_RESPONSES, ApiProblem
from allpath.db import Database, ScreenJob
from allpath.db.models import utcnow
from allpath.errors import AllPathError

__all__ = ["check_table", "queue_job", "router"]

#: rows of one screening job; a larger file is refused before any row is read
MAX_SCREEN_ROWS = 100_000

router = APIRouter(prefix="/v1/screen", tags=["screen"], responses=PROBLEM_RESPONSES)
log = logging.getLogger("allpath.api")

_BODY = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {
    "type": "string", "description": "CBC results, one row per result: patient_id, "
    "age_years, sex, time, wbc, hemoglobin, platelets, anc (optional lymphocytes, "
    "blasts_pct); see `allpath screen --help`."}}}}}


class ScreenJobOut(BaseModel):
    id: str
    status: str
    created_at: dt.datetime
    finished_at: dt.datetime | None = None
    input_bytes: int
    summary: dict[str, Any] | None = None
    error: str | None = None
    result_url: str | None = None


def _out(job: ScreenJob) -> ScreenJobOut:
    return ScreenJobOut(id=job.id, status=job.status, created_at=job.created_at,
                        finished_at=job.finished_at, input_bytes=job.input_bytes,
                        summary=job.summary, error=job.error,
                        result_url=f"/v1/screen/{job.id}/result" if job.status == "done"
                        else None)


def run_job(db: Database, job_id: str, data: bytes, units: dict[str, str] | None) -> None:
    """Screen ``data`` and store the outcome; a failure marks the job failed."""
    import allpath.screen as mod

    with db.transaction() as session:
        job = session.get(ScreenJob, job_id)
        if job is None:
            return
        job.status = "running"
    summary: dict[str, Any] | None = None
    result: bytes | None = None
    error: str | None = None
    try:
        if mod is None:
            raise AllPathError("bulk screening is not installed in this ALLPath")
        with tempfile.TemporaryDirectory(prefix="allpath-screen-") as tmp:
            inp, out = Path(tmp) / "input.csv", Path(tmp) / "result.csv"
            inp.write_bytes(data)
            s = mod.screen_file(inp, out, units=units, progress=False)
            summary = json.loads(json.dumps(s.to_dict(), default=str))
            result = out.read_bytes()
            bad = mod.bad_path_for(out)
            if bad.exists() and bad.stat().st_size:
                summary = {**(summary or {}), "bad_rows_file": bad.read_text(
                    encoding="utf-8")[:100_000]}
    except AllPathError as err:
        error = str(err)[:2000]
    except Exception as err:  # the job fails (visibly, status "failed"); the service lives on
        from allpath.api.guard import value_free_trace

        log.error("screen job failed: %s", value_free_trace(err))
        error = f"screening failed ({type(err).__name__})"
    with db.transaction() as session:
        job = session.get(ScreenJob, job_id)
        if job is None:
            return
        job.status = "failed" if error else "done"
        job.summary, job.result, job.error = summary, result, error
        job.finished_at = utcnow()


@router.post("", status_code=202, summary="Submit a bulk CBC screening job (CSV)",
             openapi_extra=_BODY)
async def submit(request: Request, caller: CallerDep, background: BackgroundTasks,
                 units: Annotated[str | None, Query(
                     max_length=500, description="Units per column as JSON, e.g. "
                                                 '{"wbc": "/uL"}.')] = None,
                 ) -> ScreenJobOut:
    data = await request.body()
    check_table(data, "the body is empty; send CBC rows as CSV")
    unit_map: dict[str, str] | None = None
    if units:
        try:
            parsed = json.loads(units)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not all(isinstance(v, str)
                                                   for v in parsed.values()):
            raise ApiProblem(422, "units must be a JSON object of column to unit")
        unit_map = {str(k): v for k, v in parsed.items()}
    return queue_job(get_db(request), caller, data, unit_map, background)


def check_table(data: bytes, empty: str) -> None:
    """Refuse a CBC table over the row limit (counted before anything reads it) or empty."""
    rows = data.count(b"\n")
    if rows > MAX_SCREEN_ROWS:  # before anything is imported or read
        raise ApiProblem(422, f"too many rows: at most {MAX_SCREEN_ROWS} per job, got {rows};"
                              " split the file", type_="too-many-rows")
    if not data.strip():
        raise ApiProblem(422, empty)


def queue_job(db: Database, caller: Caller, data: bytes, units: dict[str, str] | None,
              background: BackgroundTasks) -> ScreenJobOut:
    """Store a queued job (audited) and run it in the background; the API route and the
    clinician application both submit through here."""
    with db.transaction() as session:
        job = ScreenJob(status="queued", actor=caller.actor, input_bytes=len(data))
        session.add(job)
        session.flush()
        audit(session, caller, "screen.submit", None, f"job {job.id}")
        out = _out(job)
    background.add_task(run_job, db, out.id, data, units)
    return out


def _job(request: Request, job_id: str, caller: CallerDep, action: str) -> ScreenJob:
    with get_db(request).transaction() as session:
        job = session.get(ScreenJob, job_id[:32])
        if job is None or job.actor != caller.actor:
            raise ApiProblem(404, "no such screening job")
        audit(session, caller, action, None, f"job {job.id}")
        return job


@router.get("/{job_id}", summary="Status and summary of a screening job")
def status(request: Request, job_id: str, caller: CallerDep) -> ScreenJobOut:
    return _out(_job(request, job_id, caller, "screen.status"))


@router.get("/{job_id}/result", summary="Download the result CSV of a finished job",
            responses={200: {"content": {"text/csv": {}}}})
def result(request: Request, job_id: str, caller: CallerDep) -> Response:
    job = _job(request, job_id, caller, "screen.result")
    if job.status != "done" or job.result is None:
        raise ApiProblem(409, f"the job is {job.status}; the result is not ready")
    return Response(job.result, media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="screen-{job.id}.csv"'})
