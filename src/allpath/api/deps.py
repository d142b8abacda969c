"""Shared request dependencies: the database, the caller (bearer token) and the audit log."""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from allpath.api.problems import ApiProblem
from allpath.db import AuditEvent, Database, verify_token
from allpath.db.models import utcnow
from allpath.db.tokens import DEFAULT_SCOPES, token_key, token_scopes

__all__ = [
    "Caller",
    "CallerDep",
    "Settings",
    "audit",
    "bearer_scheme",
    "caller_of",
    "check_auth_rate",
    "get_db",
    "settings_of",
    "trial_registry",
]

TOKEN_CACHE_SECONDS = 30.0  # a revoked token stops working within this time

bearer_scheme = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`; "
                     "create one with `allpath tokens create`.")


def _env_list(name: str) -> tuple[str, ...]:
    """A comma-separated environment variable as a tuple (empty when unset)."""
    return tuple(x.strip() for x in os.environ.get(name, "").split(",") if x.strip())


@dataclass(frozen=True)
class Settings:
    """Per-app settings; ``today`` gives the reference date of CDS Hooks due items."""

    max_body_bytes: int = 5 * 1024 * 1024
    #: the service's public base URL for links in CDS cards (None: the listening address)
    public_url: str | None = field(default_factory=lambda: os.environ.get(
        "ALLPATH_PUBLIC_URL") or None)
    #: failed authentications allowed per client address and minute before 429
    auth_failures_per_minute: int = 20
    today: Callable[[], dt.date] = dt.date.today
    #: trial registry file or folder for /v1/trials/*; None = the bundled snapshot
    trials_path: Path | None = field(default_factory=lambda: (
        Path(p) if (p := os.environ.get("ALLPATH_TRIALS")) else None))
    #: CDS Hooks: the registry of trusted EHR issuers and their keys (JSON, docs/api.md);
    #: None = no CDS Hooks JWT is accepted (ALLPath tokens still are)
    cds_issuers_path: Path | None = field(default_factory=lambda: (
        Path(p) if (p := os.environ.get("ALLPATH_CDS_ISSUERS")) else None))
    #: CDS Hooks calls without any Authorization header: refused (401) unless this
    #: demo/development switch is on (each such call is then logged as a warning)
    cds_allow_unauthenticated: bool = field(default_factory=lambda: os.environ.get(
        "ALLPATH_CDS_ALLOW_UNAUTHENTICATED", "").strip().lower() in ("1", "true", "yes"))
    #: FHIR servers that callers with an ALLPath token (or demo mode) may have fetched from;
    #: EHRs signing JWTs list theirs in the issuer registry. Empty: none
    cds_fhir_servers: tuple[str, ...] = field(default_factory=lambda: _env_list(
        "ALLPATH_CDS_FHIR_SERVERS"))
    #: browser origins allowed to call the CDS Hooks endpoints (CORS); empty: none
    cors_origins: tuple[str, ...] = field(default_factory=lambda: _env_list(
        "ALLPATH_CORS_ORIGINS"))
    #: key of the short-lived signed card links (HMAC); None = a random key per process
    link_secret: str | None = field(default_factory=lambda: os.environ.get(
        "ALLPATH_LINK_SECRET") or None)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's public key, name and scopes (never the token) and the
    client address of this request."""

    key: str
    name: str
    scopes: frozenset[str] = frozenset(DEFAULT_SCOPES)
    client: str | None = None
    #: ``token`` (an ALLPath token), ``cds`` (a CDS Hooks JWT; key = issuer) or ``cds-demo``
    kind: str = "token"

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.key}"


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def settings_of(request: Request) -> Settings:
    s: Settings = request.app.state.settings
    return s


@lru_cache(maxsize=4)
def _registry(path: str | None) -> tuple[Any, ...]:
    from allpath.trials import bundled_trials, read_trials

    return bundled_trials() if path is None else read_trials(path)


def trial_registry(request: Request) -> tuple[Any, ...]:
    """The studies the trial endpoints pre-screen (read once per path)."""
    return registry_of(request.app)


def registry_of(app: Any) -> tuple[Any, ...]:
    """The studies an app's trial endpoints and CDS cards pre-screen (read once per path)."""
    path = app.state.settings.trials_path
    return _registry(None if path is None else str(path))


def client_address(request: Request) -> str | None:
    """The peer address (behind a reverse proxy this is the proxy's)."""
    return request.client.host[:64] if request.client else None


#: routes that change stored data need ``write``; deleting a patient needs ``admin``
_WRITE_PREFIXES = ("/v1/patients", "/v1/screen")


def needed_scope(request: Request) -> str:
    """``read`` for GET and the compute-only POSTs (assess, roadmap, CDS services...),
    ``write`` for changes to stored patients, jobs and CDS feedback, ``admin`` to delete."""
    method = request.method.upper()
    path = request.url.path
    if method in ("GET", "HEAD", "OPTIONS"):
        return "read"
    if method == "DELETE":
        return "admin"
    if path.startswith(_WRITE_PREFIXES) or path.endswith("/feedback"):
        return "write"
    return "read"


def _auth_failed(request: Request, token: str | None, reason: str) -> ApiProblem:
    """Count the failure against the client address and audit it (no token secret)."""
    limiter, item = request.app.state.auth_limiter
    client = client_address(request) or "unknown"
    limiter.hit(item, client)
    key = token_key(token) if token else None
    with get_db(request).transaction() as session:
        session.add(AuditEvent(actor=f"token:{key}" if key else "anonymous",
                               action="auth.failed", detail=reason, client=client))
    return ApiProblem(401, f"the bearer token is {reason}", headers={
        "WWW-Authenticate": 'Bearer realm="allpath", error="invalid_token"'})


def check_auth_rate(request: Request) -> None:
    """429 with Retry-After while this address is over its failed-authentication limit."""
    limiter, item = request.app.state.auth_limiter
    client = client_address(request) or "unknown"
    if limiter.test(item, client):
        return
    reset = limiter.get_window_stats(item, client).reset_time
    wait = max(1, math.ceil(reset - time.time()))
    raise ApiProblem(429, "too many failed authentications from this address; try again "
                          f"in {wait} s", headers={"Retry-After": str(wait)})


def require_caller(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    """Every endpoint but ``/health`` and CDS Hooks discovery needs a valid, unexpired
    bearer token with the scope the route needs. Failed authentications are audited and
    rate-limited per client address (429 with ``Retry-After``)."""
    challenge = {"WWW-Authenticate": 'Bearer realm="allpath"'}
    check_auth_rate(request)
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise _auth_failed(request, None, "missing") if creds is not None else ApiProblem(
            401, "a bearer token is required", headers=challenge)
    cache: dict[str, tuple[Caller, float, dt.datetime | None]] = request.app.state.token_cache
    hit = cache.get(creds.credentials)
    now = time.monotonic()
    if hit is not None and hit[1] > now and (hit[2] is None or hit[2] > utcnow()):
        caller = hit[0]
    else:
        with get_db(request).transaction() as session:
            row = verify_token(session, creds.credentials)
            found = None if row is None else (
                Caller(key=row.key, name=row.name, scopes=token_scopes(row)),
                row.expires_at if row.expires_at is None or row.expires_at.tzinfo
                else row.expires_at.replace(tzinfo=dt.UTC))
        if found is None:
            raise _auth_failed(request, creds.credentials, "not valid (unknown, revoked or "
                                                           "expired)")
        caller, expires = found
        if len(cache) >= 1024:
            cache.clear()
        cache[creds.credentials] = (caller, now + TOKEN_CACHE_SECONDS, expires)
    need = needed_scope(request)
    if need not in caller.scopes and "admin" not in caller.scopes:
        raise ApiProblem(403, f"this token lacks the '{need}' scope", headers={
            "WWW-Authenticate": f'Bearer realm="allpath", error="insufficient_scope", '
                                f'scope="{need}"'})
    return replace(caller, client=client_address(request))


async def caller_of(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    """The caller of a route (``CallerDep``): a token found in the cache with the scope the
    route needs is answered on the event loop (no I/O); anything else - a token to look up,
    a failure to audit, a missing scope - goes to :func:`require_caller` in a worker thread,
    which decides it exactly as before. (FastAPI runs a plain ``def`` dependency in a thread
    for every request: the hand-off cost about a tenth of an assessment's CPU.)"""
    check_auth_rate(request)  # the limiter's storage is in memory
    if creds is not None and creds.scheme.lower() == "bearer" and creds.credentials:
        cache: dict[str, tuple[Caller, float, dt.datetime | None]] = \
            request.app.state.token_cache
        hit = cache.get(creds.credentials)
        if hit is not None and hit[1] > time.monotonic() and (
                hit[2] is None or hit[2] > utcnow()):
            need = needed_scope(request)
            if need in hit[0].scopes or "admin" in hit[0].scopes:
                return replace(hit[0], client=client_address(request))
    return await run_in_threadpool(require_caller, request, creds)


CallerDep = Annotated[Caller, Depends(caller_of)]


def audit(session: Session, caller: Caller, action: str, patient_id: str | None = None,
          detail: str | None = None, *, user: object = None,
          patients: Iterable[str] = ()) -> None:
    """Add an audit entry in the caller's transaction (identifiers only, never values):
    the client address, the acting user where the caller names one (CDS ``userId``) and
    the patients a list showed."""
    listed = " ".join(patients)
    session.add(AuditEvent(actor=caller.actor[:100], action=action[:60],
                           patient_id=patient_id[:32] if patient_id else None,
                           detail=detail[:200] if detail else None, client=caller.client,
                           user_ref=user[:100] if isinstance(user, str) and user else None,
                           patients=listed or None))
