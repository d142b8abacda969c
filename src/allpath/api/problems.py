"""One error shape for every endpoint: RFC 9457 problem details with field paths.

``{"type", "title", "status", "detail", "instance", "errors": [{"path", "message",
"expected", "got", "hint"}]}`` served as ``application/problem+json``. ``errors`` lists every
problem found in the input at once (from :class:`allpath.RecordError` or request validation),
each located by a path such as ``observations[3].unit``.
"""

from __future__ import annotations

import logging
import reprlib
import traceback
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from allpath.errors import KnowledgeError, Problem, RecordError, TrialDataError, UnknownRuleError

__all__ = [
    "MAX_ERRORS",
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_RESPONSES",
    "ApiProblem",
    "FieldError",
    "ProblemDetails",
    "install_handlers",
    "problem_response",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
#: serialization failure, deadlock, lock not available
_RETRYABLE = frozenset({"40001", "40P01", "55P03"})
TYPE_BASE = "https://allpath.invalid/problems/"
log = logging.getLogger("allpath.api")

_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "The record changed since it was read"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("too-many-requests", "Too many requests"),
    422: ("invalid-input", "The input is not valid"),
    500: ("internal-error", "Internal server error"),
    501: ("not-available", "Feature not available in this installation"),
    503: ("unavailable", "Service unavailable"),
}


class FieldError(BaseModel):
    """One problem in the input, located by its path."""

    path: str
    message: str
    expected: str | None = None
    got: str | None = None
    hint: str | None = None


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, with ALLPath's ``errors`` extension."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] = []


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemDetails, "description": _TITLES[code][1],
           "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref":
                                                       "#/components/schemas/ProblemDetails"}}}}
    for code in (401, 404, 413, 422)
}


class ApiProblem(Exception):  # noqa: N818 (an HTTP answer, not an error)
    """Raise to answer with a problem document."""

    def __init__(self, status: int, detail: str | None = None, *,
                 errors: Sequence[FieldError] = (), type_: str | None = None,
                 title: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or "")
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        slug, default_title = _TITLES.get(status, ("error", "Error"))
        self.type = TYPE_BASE + (type_ or slug)
        self.title = title or default_title
        self.headers = headers


#: at most this many entries in ``errors``; ``detail`` gives the total
MAX_ERRORS = 50


def _cut(text: str | None, limit: int = 200) -> str | None:
    return text if text is None or len(text) <= limit else text[:limit - 3] + "..."


def field_errors(problems: Iterable[Problem]) -> list[FieldError]:
    """The first :data:`MAX_ERRORS` problems, each text bounded in length."""
    out: list[FieldError] = []
    for p in problems:
        if len(out) >= MAX_ERRORS:
            break
        out.append(FieldError(path=_cut(p.path) or "", message=_cut(p.message) or "",
                              expected=_cut(p.expected), got=_cut(p.got), hint=_cut(p.hint)))
    return out


def count_detail(total: int, where: str) -> str:
    shown = f"; the first {MAX_ERRORS} are listed" if total > MAX_ERRORS else ""
    return f"{total} problem(s) in the {where}{shown}"


def problem_response(request: Request, problem: ApiProblem) -> JSONResponse:
    body = ProblemDetails(type=problem.type, title=problem.title, status=problem.status,
                          detail=problem.detail, instance=request.url.path[:200],
                          errors=problem.errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=problem.status,
                        media_type=PROBLEM_MEDIA_TYPE, headers=problem.headers)


def _loc_path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80
_REPR.maxlevel = 2


def _short(value: Any) -> str | None:
    """A bounded description of an input value: reprlib never walks a whole large input."""
    if value is None:
        return None
    return _cut(_REPR.repr(value), 80)


def install_handlers(app: FastAPI) -> None:
    """Route every error through :func:`problem_response`."""

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RecordError)
    async def _record_error(request: Request, exc: RecordError) -> JSONResponse:
        return problem_response(request, ApiProblem(
            422, count_detail(len(exc.problems), "input"), errors=field_errors(
                exc.problems), type_="invalid-record", title="The record is not valid"))

    @app.exception_handler(UnknownRuleError)
    async def _unknown_rule(request: Request, exc: UnknownRuleError) -> JSONResponse:
        return problem_response(request, ApiProblem(404, str(exc)))

    @app.exception_handler(KnowledgeError)
    async def _knowledge(request: Request, exc: KnowledgeError) -> JSONResponse:
        log.error("knowledge error: %d problem(s)", len(exc.problems))
        return problem_response(request, ApiProblem(500, "the installed knowledge is invalid"))

    @app.exception_handler(TrialDataError)
    async def _trial_data(request: Request, exc: TrialDataError) -> JSONResponse:
        log.error("trial registry unreadable: %s", exc)
        return problem_response(request, ApiProblem(
            500, "the configured trial registry cannot be read", type_="trial-data"))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        found = exc.errors()
        for e in found[:MAX_ERRORS]:
            got = None if e.get("type") == "missing" else _short(e.get("input"))
            errors.append(FieldError(path=_cut(_loc_path(tuple(e.get("loc", ())))) or "",
                                     message=_cut(str(e.get("msg", "invalid"))) or "",
                                     got=got))
        return problem_response(request, ApiProblem(
            422, count_detail(len(found), "request"), errors=errors,
            type_="invalid-request", title="The request is not valid"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(request, ApiProblem(exc.status_code, detail,
                                                    headers=dict(exc.headers or {}) or None))

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> JSONResponse:
        # lock waits that ran out (SQLite busy timeout) or PostgreSQL serialisation and
        # deadlock failures: nothing was written; the client may retry
        code = getattr(exc.orig, "sqlstate", None)
        if "database is locked" in str(exc.orig) or code in _RETRYABLE:
            log.warning("database busy (%s)", code or "locked")
            return problem_response(request, ApiProblem(
                503, "the database is busy; nothing was written, try again",
                headers={"Retry-After": "1"}))
        return await _internal(request, exc)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        # Only the exception class and where it was raised: messages may carry values.
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        route = request.scope.get("route")
        log.error("unhandled %s at %s (%s %s)", type(exc).__name__, where, request.method,
                  getattr(route, "path", "?"))
        return problem_response(request, ApiProblem(500, "unexpected error; it was logged "
                                                         "without request data"))
