"""The FastAPI application: ``create_app(database_url)``.

A thin layer over the library, versioned under ``/v1``; CDS Hooks under ``/cds-services``.
Errors are RFC 9457 problem details (see :mod:`allpath.api.problems`). Application logs
carry the method, the route template, the status and the time taken: never bodies, record
values, names or the concrete path (which may hold an identifier).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import allpath
from allpath.api import cds, features, patients, screen
from allpath.api.deps import Settings
from allpath.api.problems import PROBLEM_MEDIA_TYPE, ProblemDetails, install_handlers
from allpath.db import Database
from allpath.rules.loader import load_knowledge

__all__ = ["create_app"]

log = logging.getLogger("allpath.api")


class _TooLargeError(Exception):
    pass


class GuardMiddleware:
    """Body size limit (413), a last-resort 500 problem, and value-free request logging."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max = max_body_bytes

    async def _problem(self, send: Send, scope: Scope, status: int, title: str,
                       detail: str) -> None:
        slug = {413: "payload-too-large", 500: "internal-error"}[status]
        body = ProblemDetails(type=f"https://allpath.invalid/problems/{slug}", title=title,
                              status=status, detail=detail, instance=scope.get("path"))
        raw = json.dumps(body.model_dump(exclude_none=True)).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(raw)).encode())]})
        await send({"type": "http.response.body", "body": raw})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 0}
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max
                except ValueError:
                    too_big = False
                if too_big:
                    await self._problem(send, scope, 413, "Request body too large",
                                        f"the limit is {self.max} bytes")
                    self._log(scope, 413, start)
                    return
        received = {"n": 0}

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received["n"] += len(message.get("body", b""))
                if received["n"] > self.max:
                    raise _TooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLargeError:
            if status["code"] == 0:
                status["code"] = 413
                await self._problem(send, scope, 413, "Request body too large",
                                    f"the limit is {self.max} bytes")
        except Exception as exc:  # never a traceback with request data in the logs
            log.error("unhandled %s", type(exc).__name__)
            if status["code"] == 0:
                status["code"] = 500
                await self._problem(send, scope, 500, "Internal server error",
                                    "unexpected error; it was logged without request data")
        self._log(scope, status["code"], start)

    @staticmethod
    def _log(scope: Scope, code: int, start: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "(unmatched)"
        log.info("%s %s %d %.1fms", scope.get("method"), template, code,
                 (time.perf_counter() - start) * 1000)


def create_app(database_url: str | None = None, *, settings: Settings | None = None,
               migrate: bool = True, database: Database | None = None) -> FastAPI:
    """The service on ``database_url`` (default: ``$ALLPATH_DATABASE_URL`` or
    ``sqlite:///./allpath.db``); a fresh database is migrated to the latest schema."""
    cfg = settings or Settings()
    db = database or Database(database_url, migrate=migrate)
    kb = load_knowledge()
    app = FastAPI(
        title="ALLPath API",
        version=allpath.__version__,
        summary="The care pathway of acute lymphoblastic leukaemia, computable and cited.",
        description="Decision support only: ALLPath never replaces the care team. Every "
                    "endpoint but `/health` and CDS Hooks discovery needs "
                    "`Authorization: Bearer <token>` (`allpath tokens create`). Errors are "
                    "RFC 9457 problem details with field paths (`errors[].path`). See "
                    "docs/api.md.",
    )
    app.state.db = db
    app.state.settings = cfg
    app.state.token_cache = {}
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
    app.add_middleware(GuardMiddleware, max_body_bytes=cfg.max_body_bytes)
    return app
