"""Shared request dependencies: the database, the caller (bearer token) and the audit log."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from allpath.api.problems import ApiProblem
from allpath.db import AuditEvent, Database, verify_token

__all__ = ["Caller", "CallerDep", "Settings", "audit", "get_db", "settings_of",
           "trial_registry"]

TOKEN_CACHE_SECONDS = 30.0  # a revoked token stops working within this time

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`; "
                     "create one with `allpath tokens create`.")


@dataclass(frozen=True)
class Settings:
    """Per-app settings; ``today`` gives the reference date of CDS Hooks due items."""

    max_body_bytes: int = 5 * 1024 * 1024
    today: Callable[[], dt.date] = dt.date.today
    #: trial registry file or folder for /v1/trials/*; None = the bundled snapshot
    trials_path: Path | None = field(default_factory=lambda: (
        Path(p) if (p := os.environ.get("ALLPATH_TRIALS")) else None))


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's public key and name (never the token)."""

    key: str
    name: str

    @property
    def actor(self) -> str:
        return f"token:{self.key}"


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
    path = settings_of(request).trials_path
    return _registry(None if path is None else str(path))


def require_caller(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """Every endpoint but ``/health`` and CDS Hooks discovery needs a valid bearer token."""
    challenge = {"WWW-Authenticate": 'Bearer realm="allpath"'}
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise ApiProblem(401, "a bearer token is required", headers=challenge)
    cache: dict[str, tuple[Caller, float]] = request.app.state.token_cache
    hit = cache.get(creds.credentials)
    now = time.monotonic()
    if hit is not None and hit[1] > now:
        return hit[0]
    with get_db(request).transaction() as session:
        row = verify_token(session, creds.credentials)
        if row is None:
            raise ApiProblem(401, "the bearer token is not valid",
                             headers={**challenge, "WWW-Authenticate":
                                      'Bearer realm="allpath", error="invalid_token"'})
        caller = Caller(key=row.key, name=row.name)
    if len(cache) >= 1024:
        cache.clear()
    cache[creds.credentials] = (caller, now + TOKEN_CACHE_SECONDS)
    return caller


CallerDep = Annotated[Caller, Depends(require_caller)]


def audit(session: Session, caller: Caller, action: str, patient_id: str | None = None,
          detail: str | None = None) -> None:
    """Add an audit entry in the caller's transaction (identifiers only, never values)."""
    session.add(AuditEvent(actor=caller.actor[:100], action=action[:60],
                           patient_id=patient_id[:32] if patient_id else None,
                           detail=detail[:200] if detail else None))
