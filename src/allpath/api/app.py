"""The FastAPI application: ``create_app(database_url)``.

A thin layer over the library, versioned under ``/v1``; CDS Hooks under ``/cds-services``.
Errors are RFC 9457 problem details (see :mod:`allpath.api.problems`). Application logs
carry the method, the route template, the status and the time taken: never bodies, record
values, names or the concrete path (which may hold an identifier).
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import text

import allpath
from allpath.api import cds, features, patients, screen
from allpath.api.cds_auth import TrustStore
from allpath.api.deps import Settings
from allpath.api.guard import GuardMiddleware
from allpath.api.inputs import refuse_nul
from allpath.api.problems import install_handlers
from allpath.db import Database
from allpath.rules.loader import load_knowledge

__all__ = ["GuardMiddleware", "create_app"]


def create_app(database_url: str | None = None, *, settings: Settings | None = None,
               migrate: bool = True, database: Database | None = None) -> FastAPI:
    """The service on ``database_url`` (default: ``$ALLPATH_DATABASE_URL`` or
    ``sqlite:///./allpath.db``); a fresh database is migrated to the latest schema."""
    cfg = settings or Settings()
    db = database or Database(database_url, migrate=migrate)
    kb = load_knowledge()
    app: FastAPI = FastAPIOffline(  # /docs and /redoc with local assets, no CDN
        title="ALLPath API",
        version=allpath.__version__,
        summary="The care pathway of acute lymphoblastic leukaemia, computable and cited.",
        description="Decision support only: ALLPath never replaces the care team. Every "
                    "endpoint but `/health` and CDS Hooks discovery needs "
                    "`Authorization: Bearer <token>` (`allpath tokens create`). Errors are "
                    "RFC 9457 problem details with field paths (`errors[].path`). See "
                    "docs/api.md.",
        dependencies=[Depends(refuse_nul)],
    )
    app.state.db = db
    app.state.settings = cfg
    app.state.token_cache = {}
    app.state.cds_trust = TrustStore(cfg.cds_issuers_path)  # a bad registry fails here
    app.state.auth_limiter = (MovingWindowRateLimiter(MemoryStorage()),
                              RateLimitItemPerMinute(cfg.auth_failures_per_minute))
    install_handlers(app)

    @app.get("/health", tags=["service"], summary="Liveness and database check (no token)")
    def health() -> dict[str, Any]:
        with db.transaction() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "allpath": allpath.__version__, "ruleset": kb.version,
                "database": db.engine.dialect.name}

    app.include_router(features.router)
    app.include_router(patients.router)
    app.include_router(screen.router)
    app.include_router(cds.router)
    from allpath.web import mount_web  # the clinician application and family pages

    mount_web(app)
    app.add_middleware(GuardMiddleware, max_body_bytes=cfg.max_body_bytes)
    if cfg.cors_origins:  # outermost, so that preflight requests are answered first
        app.add_middleware(cds.CdsCorsMiddleware, origins=cfg.cors_origins)
    return app
