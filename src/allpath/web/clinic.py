"""The clinician application served by ``allpath serve``: sign-in, patients, dashboards and
the family view of a stored patient.

A thin layer: every stored-patient action calls the REST API's own handlers
(:mod:`allpath.api.patients`) with the signed-in user as the caller, so the same
validation, transactions and audit entries apply; every clinical answer comes from the
library (assessment, roadmap, guide). This module only checks who is signed in, protects
against cross-site requests and shapes the library's documents for the pages.

Security: sessions are server-side (:mod:`allpath.web.accounts`), the cookie is HttpOnly,
SameSite=Strict and Secure over https; every state-changing request needs the session's
CSRF token in ``X-CSRF-Token`` and, when the browser sends an ``Origin``, the service's own
origin; failed sign-ins are rate-limited per client address and per user name. Without a
session, every page redirects to the sign-in page and every data route answers 401.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import math
import re
import secrets
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from pydantic import BaseModel, Field

from allpath.api.deps import Caller, get_db, settings_of
from allpath.api.guard import content_security_policy
from allpath.api.problems import ApiProblem
from allpath.errors import AllPathError, Problem, RecordError
from allpath.record.load import load_yaml_text
from allpath.web.accounts import SignedIn, end_session, find_session, sign_in, start_session

__all__ = ["COOKIE", "CSRF_HEADER", "clinic_router"]

COOKIE = "allpath_session"
CSRF_HEADER = "x-csrf-token"
SIGN_IN_FAILURES_PER_MINUTE = 5
MAX_UPLOAD_CHARS = 2_000_000
SHARE_HOURS_DEFAULT = 72
SHARE_HOURS_MAX = 24 * 14
SEARCH_MAX = 5000  # patients a search reads

_STATIC = Path(str(resources.files("allpath.web"))) / "static"
_APP_PAGES = ("login.html", "patients.html", "patient.html", "family-patient.html",
              "screen.html")

#: the counts a CBC form sends: (form key, analyte code in the record)
CBC_FIELDS: tuple[tuple[str, str], ...] = (
    ("wbc", "wbc"), ("anc", "anc"), ("hemoglobin", "hemoglobin"),
    ("platelets", "platelets"), ("blood_blasts", "blood_blasts"))


# --- who is signed in ------------------------------------------------------------------

def _signed_in(request: Request) -> SignedIn | None:
    cached: SignedIn | None = getattr(request.state, "web_user", None)
    if cached is not None:
        return cached
    with get_db(request).transaction() as session:
        who = find_session(session, request.cookies.get(COOKIE))
    request.state.web_user = who
    return who


def _same_origin(request: Request) -> None:
    """A browser's ``Origin`` (sent with every cross-site POST) must be this service."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin != own:
        raise ApiProblem(403, "cross-site request refused (the Origin is not this service)",
                         type_="csrf")


def require_user(request: Request) -> SignedIn:
    """The signed-in user (401 without a valid session); a state-changing request also
    needs the session's CSRF token and a same-origin ``Origin``."""
    who = _signed_in(request)
    if who is None:
        raise ApiProblem(401, "sign in first", type_="not-signed-in")
    if request.method.upper() not in ("GET", "HEAD", "OPTIONS"):
        _same_origin(request)
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent.encode(), who.csrf.encode()):
            raise ApiProblem(403, "the CSRF token is missing or wrong; reload the page",
                             type_="csrf")
    return who


UserDep = Annotated[SignedIn, Depends(require_user)]


def caller_of(request: Request, who: SignedIn) -> Caller:
    """The API caller a signed-in user acts as (audited as ``web:<name>``)."""
    client = request.client.host[:64] if request.client else None
    return Caller(key=who.name[:90], name=who.name, scopes=frozenset({"read", "write"}),
                  client=client, kind="web")


def _page(name: str, csp: bytes) -> FileResponse:
    return FileResponse(_STATIC / name, media_type="text/html",
                        headers={"Content-Security-Policy": csp.decode(),
                                 "Cache-Control": "no-store"})


def _set_cookie(request: Request, response: Response, value: str, max_age: int) -> None:
    response.set_cookie(COOKIE, value, max_age=max_age, path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


# --- family links ------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class ShareKeys:
    """Signs and checks family links: ``<patient>.<expiry>.<HMAC>`` (no data inside)."""

    def __init__(self, secret: str | None) -> None:
        self._key = hashlib.sha256(
            b"allpath-family-link\n" + (secret.encode() if secret else
                                        secrets.token_bytes(32))).digest()

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest()[:18])

    def sign(self, patient_id: str, expires: int) -> str:
        payload = f"{patient_id}.{expires}"
        return f"{payload}.{self._mac(payload)}"

    def check(self, token: str) -> str:
        """The patient id of a valid, unexpired token; else a 404 (no oracle)."""
        parts = token.split(".")
        if len(token) > 120 or len(parts) != 3 or not parts[1].isdigit():
            raise ApiProblem(404, "this family link is not valid or has expired")
        payload = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(parts[2].encode(), self._mac(payload).encode()) \
                or int(parts[1]) < time.time():
            raise ApiProblem(404, "this family link is not valid or has expired")
        return parts[0]


# --- request bodies --------------------------------------------------------------------

class SignInIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class UploadIn(BaseModel):
    """A record as uploaded: YAML or JSON text (native record or FHIR Bundle)."""

    text: str = Field(min_length=1, max_length=MAX_UPLOAD_CHARS)
    filename: str | None = Field(default=None, max_length=200)


class RecordIn(BaseModel):
    """A record built by the structured form (``allpath.record/1`` as JSON)."""

    record: dict[str, Any]


class Quantity(BaseModel):
    value: float | None = None
    unit: str | None = Field(default=None, max_length=40)


class CbcIn(BaseModel):
    """New results of one blood count: a date and each count with its unit."""

    date: str = Field(max_length=40)
    counts: dict[str, Quantity] = Field(default_factory=dict)


class ScreenIn(BaseModel):
    """A CBC table (CSV text, as ``allpath screen`` reads) and the unit of each count
    column that is not in the default unit."""

    text: str = Field(min_length=1, max_length=20_000_000)
    units: dict[str, str] = Field(default_factory=dict, max_length=20)


class ShareIn(BaseModel):
    hours: int = Field(default=SHARE_HOURS_DEFAULT, ge=1, le=SHARE_HOURS_MAX)


# --- shaping the library's documents for the pages -----------------------------------------

def _parse_upload(body: UploadIn) -> dict[str, Any]:
    try:
        data = load_yaml_text(body.text, body.filename or "uploaded record")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        raise RecordError([Problem(where, "the file is not valid YAML or JSON",
                                   got=str(getattr(exc, "problem", "") or "")[:80])]
                          ) from None
    if not isinstance(data, dict):
        raise RecordError([Problem("(file)", "a record or FHIR Bundle is one mapping",
                                   expected="a YAML or JSON object",
                                   got=type(data).__name__)])
    # YAML dates become ISO text, as the same record sent to the API as JSON would be
    doc: dict[str, Any] = json.loads(json.dumps(data, default=_iso))
    return doc


def _iso(value: object) -> str:
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    raise TypeError(f"cannot store a {type(value).__name__} from YAML")


def _cbc_observations(body: CbcIn) -> list[dict[str, Any]]:
    """The CBC as record observations; a value without a unit (or the reverse) is an error
    naming the field, never a guess."""
    problems: list[Problem] = []
    try:
        when = dt.date.fromisoformat(body.date.strip())
    except ValueError:
        problems.append(Problem("date", "not a date", expected="YYYY-MM-DD",
                                got=body.date[:40]))
        when = None
    known = {k for k, _ in CBC_FIELDS}
    for key in body.counts:
        if key not in known:
            problems.append(Problem(f"counts.{key}", "unknown count",
                                    expected=", ".join(sorted(known)), got=key[:40]))
    out: list[dict[str, Any]] = []
    for key, code in CBC_FIELDS:
        q = body.counts.get(key)
        if q is None or (q.value is None and not q.unit):
            continue
        if q.value is None or not math.isfinite(q.value):
            problems.append(Problem(f"counts.{key}.value", "a number is needed",
                                    expected="a number", got="nothing"))
            continue
        if not q.unit:
            problems.append(Problem(f"counts.{key}.unit", "a unit is needed",
                                    expected="the unit printed on the lab report",
                                    got="no unit"))
            continue
        out.append({"code": code, "value": q.value, "unit": q.unit,
                    "time": when.isoformat() if when else body.date})
    if not out and not problems:
        problems.append(Problem("counts", "enter at least one count",
                                expected="a value and its unit"))
    if problems:
        raise RecordError(problems)
    return out


def timeline_doc(assessment: Any) -> dict[str, Any]:
    """The plot's data: each analyte in its catalogue unit (the same panels as
    ``allpath assess --plot``), the recorded treatment phases and the checkpoints."""
    from allpath.outputs.plot import PANELS, phase_spans

    panels = []
    for title, label, log, lines in PANELS:
        series = [{"code": code, "label": name,
                   "points": [[o.time.isoformat(), float(o.value)]
                              for o in assessment.timeline.series(code)
                              if o.value is not None]}
                  for code, name in lines]
        if any(s["points"] for s in series):
            panels.append({"title": title, "axis": label, "log": log, "series": series})
    phases = [{"name": name, "start": a.isoformat(), "end": b.isoformat()}
              for name, a, b in phase_spans(assessment)]
    doc = assessment.to_dict()
    road = doc.get("roadmap") or {}
    checkpoints = [c for c in road.get("checkpoints") or [] if isinstance(c, dict)]
    return {"panels": panels, "phases": phases, "checkpoints": checkpoints,
            "diagnosis_date": (assessment.record.diagnosis_date.isoformat()
                               if assessment.record.diagnosis_date else None),
            "as_of": doc.get("as_of")}


def family_doc(record: Any, assessment: Any) -> dict[str, Any]:
    """What a family reads about a stored patient: the library's personal guide (plain
    words by design), where treatment is now and what comes next, without internal keys."""
    from allpath.guide.core import family_date, personal_guide, phase_word

    guide = personal_guide(record).to_dict()
    doc = assessment.to_dict()
    now = doc.get("where_now") or {}

    def phase_words(phase_id: object) -> str:
        """The guide's plain name of a roadmap phase (``interim_maintenance_1`` is interim
        maintenance)."""
        text = str(phase_id or "")
        return phase_word(re.sub(r"_\d+$", "", text))

    upcoming = []
    for item in (now.get("due_next") or [])[:8]:
        if not isinstance(item, dict) or item.get("kind") not in ("procedure", "phase"):
            continue
        day = dt.date.fromisoformat(str(item["date"]))
        if item["kind"] == "phase":
            what, title = "A new phase starts", phase_words(item.get("phase"))
        else:
            what, title = "A test or procedure", str(item.get("title", ""))
        upcoming.append({"date": day.isoformat(), "when": family_date(day), "what": what,
                         "title": title})
    phase = now.get("phase") if isinstance(now.get("phase"), dict) else None
    return {
        "title": guide["title"],
        "intro": guide["intro"],
        "intro_sources": guide["intro_sources"],
        "phase": {"title": phase_words(phase.get("id")), "day": now.get("phase_day"),
                  "since": family_date(dt.date.fromisoformat(str(phase["start"])))}
        if phase else None,
        "upcoming": upcoming,
        "topics": guide["topics"],
        "disclaimer": guide["disclaimer"],
    }


# --- the router ----------------------------------------------------------------------

def clinic_router(*, share_secret: str | None = None,
                  today: Callable[[], float] = time.time) -> APIRouter:
    """Pages under ``/app``, their JSON under ``/app/api``, and the family view of a stored
    patient under ``/family/p/{token}``. Needs the API app's database (``app.state.db``)."""
    from allpath.api import patients as api

    router = APIRouter(include_in_schema=False)
    csp = content_security_policy(_STATIC / p for p in _APP_PAGES)
    limiter = MovingWindowRateLimiter(MemoryStorage())
    per_minute = RateLimitItemPerMinute(SIGN_IN_FAILURES_PER_MINUTE)
    keys: dict[str, ShareKeys] = {}

    def share_keys(request: Request) -> ShareKeys:
        if "k" not in keys:
            keys["k"] = ShareKeys(share_secret or settings_of(request).link_secret)
        return keys["k"]

    def page_or_login(request: Request, name: str) -> Response:
        if _signed_in(request) is None:
            return RedirectResponse("/app/login?next=" + request.url.path, status_code=303)
        return _page(name, csp)

    @router.get("/app/login")
    def login_page() -> Response:
        return _page("login.html", csp)

    @router.get("/app")
    def patients_page(request: Request) -> Response:
        return page_or_login(request, "patients.html")

    @router.get("/app/patients/{patient_id}")
    def patient_page(request: Request, patient_id: str) -> Response:
        return page_or_login(request, "patient.html")

    @router.get("/app/screen")
    def screen_page(request: Request) -> Response:
        return page_or_login(request, "screen.html")

    @router.get("/family/p/{token}")
    def family_patient_page(token: str) -> Response:
        return _page("family-patient.html", csp)

    # sign-in and sign-out ---------------------------------------------------------------

    def _limited(*ids: str) -> None:
        for ident in ids:
            if not limiter.test(per_minute, ident):
                reset = limiter.get_window_stats(per_minute, ident).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                raise ApiProblem(429, f"too many failed sign-ins; try again in {wait} s",
                                 headers={"Retry-After": str(wait)})

    @router.post("/app/api/login")
    def login(request: Request, response: Response, body: SignInIn) -> dict[str, Any]:
        _same_origin(request)
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise ApiProblem(415, "send the sign-in as JSON")
        client = "addr:" + (request.client.host if request.client else "unknown")
        name_key = "name:" + body.name.strip().lower()[:100]
        _limited(client, name_key)
        db = get_db(request)
        with db.transaction() as session:
            user = sign_in(session, body.name, body.password)
            if user is not None:  # a fresh session; any earlier one of this browser ends
                end_session(session, request.cookies.get(COOKIE))
                cookie, who = start_session(session, user)
        if user is None:
            limiter.hit(per_minute, client)
            limiter.hit(per_minute, name_key)
            from allpath.db import AuditEvent

            with db.transaction() as session:
                session.add(AuditEvent(actor="anonymous", action="web.signin.failed",
                                       client=client.removeprefix("addr:")[:64]))
            raise ApiProblem(401, "the user name or password is wrong", type_="sign-in")
        _set_cookie(request, response, cookie, max_age=12 * 3600)
        with db.transaction() as session:
            from allpath.db import AuditEvent

            session.add(AuditEvent(actor=f"web:{who.name}"[:100], action="web.signin",
                                   client=client.removeprefix("addr:")[:64]))
        return {"name": who.name, "csrf": who.csrf}

    @router.post("/app/api/logout")
    def logout(request: Request, response: Response, who: UserDep) -> dict[str, Any]:
        with get_db(request).transaction() as session:
            end_session(session, request.cookies.get(COOKIE))
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                               secure=request.url.scheme == "https")
        return {"signed_out": who.name}

    @router.get("/app/api/me")
    def me(who: UserDep) -> dict[str, Any]:
        return {"name": who.name, "csrf": who.csrf}

    # patients ---------------------------------------------------------------------------

    @router.get("/app/api/patients")
    def list_patients(request: Request, who: UserDep, q: str | None = None,
                      limit: int = 200) -> dict[str, Any]:
        """Patients through the API's list (audited there), searched by record id,
        diagnosis, subtype and risk group; a search reads up to ``SEARCH_MAX`` patients."""
        caller = caller_of(request, who)
        limit = max(1, min(limit, 500))
        text = (q or "").strip().lower()[:100]
        first = api.list_patients(request, caller, None, 500 if text else limit, 0)
        items = [p.model_dump(mode="json") for p in first.items]
        total = first.total
        while text and len(items) < min(total, SEARCH_MAX):
            more = api.list_patients(request, caller, None, 500, len(items))
            if not more.items:
                break
            items += [p.model_dump(mode="json") for p in more.items]
        if text:
            def hay(p: dict[str, Any]) -> str:
                a = p.get("latest_assessment") or {}
                return " ".join([p["external_id"], str(a.get("diagnosis") or ""),
                                 str(a.get("subtype") or ""),
                                 " ".join(str(v) for v in (a.get("risk") or {}).values())]
                                ).lower()
            items = [p for p in items if text in hay(p)]
        return {"items": items[:limit], "shown": min(len(items), limit), "total": total,
                "searched": min(total, SEARCH_MAX) if text else None}

    @router.post("/app/api/patients", status_code=201)
    def add_patient(request: Request, response: Response, body: UploadIn,
                    who: UserDep) -> dict[str, Any]:
        data = _parse_upload(body)
        out = api.create_patient(request, response, data, caller_of(request, who))
        return out.model_dump(mode="json")

    @router.post("/app/api/patients/form", status_code=201)
    def add_patient_from_form(request: Request, response: Response, body: RecordIn,
                              who: UserDep) -> dict[str, Any]:
        out = api.create_patient(request, response, body.record, caller_of(request, who))
        return out.model_dump(mode="json")

    def _stored(request: Request, who: SignedIn, patient_id: str) -> tuple[Any, Any, int]:
        """(record, assessment, version) of a stored patient, read through the API."""
        from allpath.pipeline import assess
        from allpath.record import parse_record

        resp = Response()
        data = api.get_record(request, resp, patient_id, caller_of(request, who), None)
        record = parse_record(data)
        version = int(resp.headers["ETag"].strip('"v'))
        return record, assess(record), version

    @router.get("/app/api/patients/{patient_id}")
    def dashboard(request: Request, patient_id: str, who: UserDep) -> dict[str, Any]:
        _, assessment, version = _stored(request, who, patient_id)
        doc = json.loads(json.dumps(assessment.to_dict(), default=str))
        return {"id": patient_id, "record_version": version, "assessment": doc,
                "timeline": timeline_doc(assessment)}

    @router.post("/app/api/patients/{patient_id}/cbc", status_code=201)
    def add_cbc(request: Request, response: Response, patient_id: str, body: CbcIn,
                who: UserDep) -> dict[str, Any]:
        obs = _cbc_observations(body)
        try:
            out = api.add_observations(request, response, patient_id,
                                       api.ObservationsIn(observations=obs),
                                       caller_of(request, who))
        except RecordError as err:  # paths as the form names its fields
            raise RecordError([_cbc_path(p, obs) for p in err.problems]) from None
        return out.model_dump(mode="json")

    @router.get("/app/api/patients/{patient_id}/roadmap.ics")
    def roadmap_ics(request: Request, patient_id: str, who: UserDep) -> Response:
        _, assessment, _ = _stored(request, who, patient_id)
        if assessment.roadmap is None:  # assess() always runs the roadmap stage
            raise ApiProblem(409, "the assessment has no roadmap")
        try:
            data = assessment.roadmap.ics()
        except AllPathError as err:
            raise ApiProblem(409, str(err)) from None
        name = "".join(c for c in assessment.record.id if c.isalnum() or c in "-_")[:60]
        return Response(data, media_type="text/calendar", headers={
            "Content-Disposition": f'attachment; filename="{name or "patient"}-roadmap.ics"',
            "Cache-Control": "no-store"})

    @router.post("/app/api/patients/{patient_id}/share")
    def share(request: Request, patient_id: str, body: ShareIn,
              who: UserDep) -> dict[str, Any]:
        api.get_patient(request, Response(), patient_id, caller_of(request, who))  # 404
        expires = int(today()) + body.hours * 3600
        token = share_keys(request).sign(patient_id, expires)
        with get_db(request).transaction() as session:
            from allpath.api.deps import audit

            audit(session, caller_of(request, who), "web.family_link", patient_id,
                  f"{body.hours} h")
        return {"path": f"/family/p/{token}", "code": token,
                "expires": dt.datetime.fromtimestamp(expires, dt.UTC).isoformat()}

    @router.get("/family/api/{token}")
    def family_data(request: Request, token: str) -> dict[str, Any]:
        from allpath.pipeline import assess
        from allpath.record import parse_record

        patient_id = share_keys(request).check(token)
        caller = Caller(key="family-link", name="family link", scopes=frozenset({"read"}),
                        client=request.client.host[:64] if request.client else None,
                        kind="web")
        data = api.get_record(request, Response(), patient_id, caller, None)
        record = parse_record(data)
        return family_doc(record, assess(record))

    # population screening: the API's screening jobs --------------------------------------

    @router.post("/app/api/screen", status_code=202)
    def screen_submit(request: Request, body: ScreenIn, who: UserDep,
                      background: BackgroundTasks) -> dict[str, Any]:
        from allpath.api import screen as jobs

        data = body.text.encode("utf-8")
        jobs.check_table(data, "the table is empty; send CBC rows as CSV")
        out = jobs.queue_job(get_db(request), caller_of(request, who), data,
                             body.units or None, background)
        return _job_doc(out.model_dump(mode="json"))

    @router.get("/app/api/screen/{job_id}")
    def screen_status(request: Request, job_id: str, who: UserDep) -> dict[str, Any]:
        from allpath.api import screen as jobs

        out = jobs.status(request, job_id, caller_of(request, who))
        return _job_doc(out.model_dump(mode="json"))

    @router.get("/app/api/screen/{job_id}/result")
    def screen_result(request: Request, job_id: str, who: UserDep,
                      flagged: bool = False) -> Response:
        from allpath.api import screen as jobs

        full = jobs.result(request, job_id, caller_of(request, who))
        data = bytes(full.body)
        name = f"screen-{job_id[:32]}{'-flagged' if flagged else ''}.csv"
        if flagged:
            data = _flagged_rows(data)
        return Response(data, media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store"})

    return router


def _job_doc(job: dict[str, Any]) -> dict[str, Any]:
    """A screening job as the page shows it: its links point at this application."""
    if job.get("status") == "done":
        base = f"/app/api/screen/{job['id']}/result"
        job["result_url"], job["flagged_url"] = base, base + "?flagged=true"
    return job


def _flagged_rows(data: bytes) -> bytes:
    """The result CSV with only the rows the screen flagged: the header and those lines,
    byte for byte as the screen wrote them."""
    import csv

    lines = data.decode("utf-8").splitlines(keepends=True)
    if not lines:
        return data
    header = next(csv.reader([lines[0]]))
    if "flag" not in header:
        return data
    col = header.index("flag")
    kept = [lines[0]]
    for line in lines[1:]:
        cells = next(csv.reader([line]), [])
        if len(cells) > col and cells[col].strip().lower() == "true":
            kept.append(line)
    return "".join(kept).encode("utf-8")


def _cbc_path(p: Problem, obs: list[dict[str, Any]]) -> Problem:
    """``observations[i].value`` of the request as ``counts.<key>.value`` of the form."""
    if p.path.startswith("observations["):
        idx, _, rest = p.path[len("observations["):].partition("]")
        if idx.isdigit() and int(idx) < len(obs):
            code = obs[int(idx)]["code"]
            key = next((k for k, c in CBC_FIELDS if c == code), code)
            path = "date" if rest == ".time" else f"counts.{key}{rest}"
            return Problem(path, p.message, p.expected, p.got, p.hint)
    return p
