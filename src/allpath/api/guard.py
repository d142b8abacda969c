"""The ASGI guard in front of every ALLPath server (the API and the web page).

* a body limit: a declared ``Content-Length`` over the limit is refused before reading, and a
  body sent without one (chunked) is counted as it arrives and refused as soon as it passes
  the limit; both answer ``413`` problem+json, never ``400``;
* security headers on every answer: ``X-Content-Type-Options: nosniff``, ``Cache-Control:
  no-store`` (answers may hold patient data), ``Referrer-Policy: no-referrer``, frame
  protection and, for HTML pages, a Content-Security-Policy;
* a last-resort ``500`` problem and value-free request logging (method, route template,
  status, time; never bodies, values or the concrete path, which may hold an identifier).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import time
import traceback
from collections.abc import Iterable
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_MAX_BODY_BYTES", "SECURITY_HEADERS", "GuardMiddleware",
           "content_security_policy", "value_free_trace"]

log = logging.getLogger("allpath.api")

DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024
PROBLEM_MEDIA_TYPE = "application/problem+json"

#: sent with every answer of every ALLPath server
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def content_security_policy(pages: Iterable[Path] = ()) -> bytes:
    """Pages load only their own scripts, styles and images and cannot be framed; the
    inline ``<script>`` blocks of ``pages`` are allowed by their SHA-256 hash."""
    hashes = sorted({"'sha256-" + base64.b64encode(hashlib.sha256(m.encode()).digest())
                     .decode() + "'" for page in pages
                     for m in _INLINE_SCRIPT.findall(page.read_text(encoding="utf-8"))})
    script = " ".join(["'self'", *hashes])
    return (f"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src "
            f"{script}; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'").encode()


def value_free_trace(exc: BaseException, *, limit: int = 40) -> str:
    """An exception's class and where it was raised, for the server log, without values.

    Messages and local variables are left out because they may hold request data (a record
    value, an identifier); what stays is enough to find the bug: each exception of the chain
    (``raise ... from``, or raised while handling another) with its code locations as
    ``file:line in function``, innermost last, at most ``limit`` frames per exception.
    """
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__, limit=-limit)
        where = "; ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames)
        parts.append(f"{type(current).__module__}.{type(current).__qualname__}"
                     + (f" at {where}" if where else ""))
        current = current.__cause__ or (None if current.__suppress_context__
                                        else current.__context__)
    return " <- caused by ".join(parts)


def _with_security_headers(headers: list[tuple[bytes, bytes]],
                           csp: bytes | None = None) -> list[tuple[bytes, bytes]]:
    names = {name.lower() for name, _ in headers}
    out = list(headers)
    out += [h for h in SECURITY_HEADERS if h[0] not in names]
    ctype = next((v for n, v in headers if n.lower() == b"content-type"), b"")
    if csp and ctype.startswith(b"text/html") and b"content-security-policy" not in names:
        out.append((b"content-security-policy", csp))
    return out


class GuardMiddleware:
    """Body size limit (413), security headers, a last-resort 500 and value-free logs."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 csp_pages: Iterable[Path] | None = None) -> None:
        self.app = app
        self.max = max_body_bytes
        # None: no CSP (the API, whose /docs page loads Swagger UI's assets)
        self.csp = None if csp_pages is None else content_security_policy(csp_pages)

    async def _problem(self, send: Send, scope: Scope, status: int, detail: str) -> None:
        slug, title = {413: ("payload-too-large", "Request body too large"),
                       422: ("invalid-request", "The request is not valid"),
                       500: ("internal-error", "Internal server error")}[status]
        body = {"type": f"https://allpath.invalid/problems/{slug}", "title": title,
                "status": status, "detail": detail,
                "instance": str(scope.get("path", "")).replace("\x00", "")[:200]}
        raw = json.dumps(body).encode()
        headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                   (b"content-length", str(len(raw)).encode())]
        if status == 413:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status,
                    "headers": _with_security_headers(headers)})
        await send({"type": "http.response.body", "body": raw})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"") \
                or b"\x00" in scope.get("query_string", b""):
            await self._problem(send, scope, 422, "the address or query holds a NUL "
                                                  "character (%00), which no field may hold")
            self._log(scope, 422, start)
            return
        state = {"code": 0, "received": 0, "refused": False}
        too_big = f"the limit is {self.max} bytes"
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max:
                    await self._problem(send, scope, 413, too_big)
                    self._log(scope, 413, start)
                    return

        async def limited_receive() -> Message:
            if state["refused"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max:
                    # answer 413 now; the application only sees the client go away, and
                    # whatever it answers to that is dropped below
                    state["refused"] = True
                    if state["code"] == 0:
                        state["code"] = 413
                        await self._problem(send, scope, 413, too_big)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if state["refused"]:
                return
            if message["type"] == "http.response.start":
                state["code"] = int(message["status"])
                message = {**message, "headers": _with_security_headers(
                    list(message.get("headers", [])), self.csp)}
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception as exc:  # logged without its message: it may hold request data
            if not state["refused"]:
                log.error("unhandled %s", value_free_trace(exc))
                if state["code"] == 0:
                    state["code"] = 500
                    await self._problem(send, scope, 500, "unexpected error; it was logged "
                                                          "without request data")
        self._log(scope, int(state["code"]), start)

    @staticmethod
    def _log(scope: Scope, code: int, start: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "(unmatched)"
        log.info("%s %s %d %.1fms", scope.get("method"), template, code,
                 (time.perf_counter() - start) * 1000)
