"""CDS Hooks 2.0 data: the prefetch the EHR sent, completed from its FHIR server.

For each prefetch template of a service, the request's ``prefetch`` either has the key (a
resource, a Bundle or ``null``, which the spec defines as "no data") or not. A missing key,
and a key whose value is an ``OperationOutcome`` (the EHR could not prefetch it), is fetched
from ``fhirServer`` with ``fhirAuthorization.access_token``: the template's tokens filled from
the context, Bundle ``link[relation=next]`` pages followed up to :data:`MAX_PAGES`, each page
bounded in bytes and time. A ``next`` link that leaves the FHIR server is not followed (the
access token never goes anywhere else). Redirects are not followed.

When the data cannot be had (no ``fhirServer``, a server not registered for this caller, an
HTTP error or 401/403 from the server, a body that is not FHIR JSON), :class:`DataUnavailable`
says why; the service answers 412 Precondition Failed, as the spec requires. What was
handled but is worth knowing (an OperationOutcome in the prefetch, pages left unread) comes
back as notes that the service reports with the import warnings.
"""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin

import httpx

from allpath.api.cds_auth import shared_client, url_allowed

__all__ = [
    "FETCH_TIMEOUT_S",
    "MAX_PAGES",
    "DataUnavailable",
    "Gathered",
    "gather",
]

MAX_PAGES = 20  # pages followed per query (link next); operational bound
FETCH_TIMEOUT_S = 10.0  # connect/read timeout of one FHIR request
MAX_RESPONSE_BYTES = 8 * 1024 * 1024  # one FHIR response
MAX_RESOURCES = 5000  # resources fetched for one request, all queries together
PARALLEL_QUERIES = 4  # prefetch queries fetched at the same time

_TOKEN = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")


class DataUnavailable(Exception):  # noqa: N818 (an HTTP 412 answer, not an error)
    """The data a service needs could not be had; ``reason`` is said in the 412."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Gathered:
    """The prefetch as complete as it could be made, and what was noticed on the way."""

    prefetch: dict[str, Any]
    fetched: list[str] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)
    requests: int = 0


def _outcome_text(oo: dict[str, Any]) -> str:
    raw = oo.get("issue")
    issues: list[Any] = raw if isinstance(raw, list) else []
    parts = []
    for i in issues[:3]:
        if isinstance(i, dict):
            d = i.get("details")
            details: dict[str, Any] = d if isinstance(d, dict) else {}
            text = i.get("diagnostics") or details.get("text") or i.get("code")
            parts.append(f"{i.get('severity', 'error')}: {str(text)[:200]}")
    return "; ".join(parts) or "no issue given"


def _next_link(bundle: dict[str, Any]) -> str | None:
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next" \
                and isinstance(link.get("url"), str):
            return str(link["url"])
    return None


def fill_template(template: str, context: dict[str, Any]) -> str:
    """The relative FHIR URL of a prefetch template, tokens from root-level context
    fields (URL-quoted)."""
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if not name.startswith("context."):
            raise DataUnavailable(f"prefetch token {{{{{name}}}}} is not supported")
        v = context.get(name.removeprefix("context."))
        if not isinstance(v, str | int) or isinstance(v, bool) or str(v) == "":
            raise DataUnavailable(f"context.{name.removeprefix('context.')} is needed to "
                                  "fetch the data and is missing")
        return quote(str(v), safe="")
    return _TOKEN.sub(value, template)


class _Fetcher:
    def __init__(self, base: str, token: str | None, gathered: Gathered) -> None:
        self.base = base.rstrip("/") + "/"
        self.headers = {"Accept": "application/fhir+json, application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.gathered = gathered
        self.count = 0
        self.lock = threading.Lock()  # the queries run in parallel threads

    def get(self, url: str, what: str) -> dict[str, Any]:
        with self.lock:
            self.gathered.requests += 1
        try:
            with shared_client().stream("GET", url, headers=self.headers,
                                        timeout=FETCH_TIMEOUT_S) as r:
                if r.status_code in (401, 403):
                    raise DataUnavailable(f"the FHIR server refused access to {what} "
                                          f"(HTTP {r.status_code}); the access token is "
                                          "missing, expired or lacks the scope")
                if r.status_code != 200:
                    raise DataUnavailable(f"the FHIR server answered HTTP {r.status_code} "
                                          f"for {what}")
                body = bytearray()
                for chunk in r.iter_bytes():
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise DataUnavailable(f"the FHIR server's answer for {what} is "
                                              f"larger than {MAX_RESPONSE_BYTES} bytes")
        except httpx.HTTPError as err:
            raise DataUnavailable(f"the FHIR server could not be reached for {what} "
                                  f"({type(err).__name__})") from None
        try:
            doc = json.loads(bytes(body))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise DataUnavailable(f"the FHIR server's answer for {what} is not JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("resourceType"), str):
            raise DataUnavailable(f"the FHIR server's answer for {what} is not a FHIR "
                                  "resource")
        if doc["resourceType"] == "OperationOutcome":
            raise DataUnavailable(f"the FHIR server answered {what} with an "
                                  f"OperationOutcome ({_outcome_text(doc)})")
        return doc

    def pages(self, key: str, first: dict[str, Any]) -> dict[str, Any]:
        """``first`` with the entries of its next pages (bounded), as one searchset."""
        if first.get("resourceType") != "Bundle":
            with self.lock:
                self.count += 1
            return first
        entries = [e for e in first.get("entry") or [] if isinstance(e, dict)]
        page, n = first, 1
        while (nxt := _next_link(page)) is not None:
            url = urljoin(self.base, nxt)
            if not url_allowed(url, [self.base]):
                self.gathered.notes.append({
                    "path": f"prefetch.{key}", "message": "next page link leaves the FHIR "
                    "server; not followed (the access token is sent to the FHIR server only)"
                    f"; {len(entries)} resources read"})
                break
            if n >= MAX_PAGES:
                self.gathered.notes.append({
                    "path": f"prefetch.{key}", "message": f"more than {MAX_PAGES} pages; "
                    f"only the first {MAX_PAGES} were read ({len(entries)} resources), the "
                    "rest is unknown to ALLPath"})
                break
            if self.count + len(entries) > MAX_RESOURCES:
                self.gathered.notes.append({
                    "path": f"prefetch.{key}", "message": f"more than {MAX_RESOURCES} "
                    "resources; the rest was not read"})
                break
            page = self.get(url, f"{key} (page {n + 1})")
            if page.get("resourceType") != "Bundle":
                raise DataUnavailable(f"page {n + 1} of {key} is not a Bundle")
            entries += [e for e in page.get("entry") or [] if isinstance(e, dict)]
            n += 1
        with self.lock:
            self.count += len(entries)
        out = {k: v for k, v in first.items() if k not in ("entry", "link")}
        out["entry"] = entries
        return out


def gather(templates: dict[str, str], context: dict[str, Any],
           prefetch: dict[str, Any] | None, fhir_server: str | None,
           authorization: dict[str, Any] | None, allowed: tuple[str, ...]) -> Gathered:
    """Every template's data: from the prefetch where it is there, else from the FHIR
    server; DataUnavailable when some cannot be had."""
    given = dict(prefetch or {})
    out = Gathered(prefetch={})
    missing: list[str] = []
    partial: dict[str, dict[str, Any]] = {}
    for key in templates:
        if key not in given:
            missing.append(key)
            continue
        value = given[key]
        if isinstance(value, dict) and value.get("resourceType") == "OperationOutcome":
            out.notes.append({"path": f"prefetch.{key}", "message": "the EHR could not "
                              f"prefetch this ({_outcome_text(value)}); fetched from the FHIR "
                              "server instead" if fhir_server else "the EHR could not "
                              f"prefetch this ({_outcome_text(value)})"})
            missing.append(key)
            continue
        if isinstance(value, dict) and value.get("resourceType") == "Bundle" \
                and _next_link(value) is not None:
            partial[key] = value
        out.prefetch[key] = value
    for key, value in given.items():  # keys ALLPath did not ask for are kept as sent
        out.prefetch.setdefault(key, value)
    if not missing and not partial:
        return out
    if not fhir_server:
        if missing:
            raise DataUnavailable(f"prefetch lacks {', '.join(missing)} and the request "
                                  "names no fhirServer to fetch it from")
        for key in partial:
            out.notes.append({"path": f"prefetch.{key}", "message": "the prefetched Bundle "
                              "has further pages and no fhirServer was given; only the "
                              "first page was read"})
        return out
    if not url_allowed(fhir_server, allowed):
        raise DataUnavailable(f"fhirServer {fhir_server[:200]} is not registered for this "
                              "caller (docs/api.md: fhir_servers)")
    token = (authorization or {}).get("access_token")
    fetcher = _Fetcher(fhir_server, token if isinstance(token, str) else None, out)
    urls = {key: urljoin(fetcher.base, fill_template(templates[key], context))
            for key in missing}

    def one(key: str) -> dict[str, Any]:
        if key in partial:
            return fetcher.pages(key, partial[key])
        return fetcher.pages(key, fetcher.get(urls[key], key))

    keys = [*missing, *partial]
    # the queries in parallel (their pages in order): one round trip instead of four
    with ThreadPoolExecutor(max_workers=min(PARALLEL_QUERIES, len(keys))) as pool:
        results = list(pool.map(one, keys))  # the first DataUnavailable is raised here
    for key, value in zip(keys, results, strict=True):
        out.prefetch[key] = value
        out.fetched.append(key)
    return out
