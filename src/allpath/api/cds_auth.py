"""CDS Hooks 2.0 authentication: the EHR's signed JWT, checked against registered issuers.

An EHR calls a CDS service with ``Authorization: Bearer <JWT>``, signed with its private key
(RS384 or ES384) and carrying ``iss``, ``aud`` (the service endpoint URL), ``exp``, ``iat``
and ``jti``; the header names the key (``kid``) and may point at the key set (``jku``). The
issuer registry (``ALLPATH_CDS_ISSUERS``, a JSON file; see docs/api.md) lists the trusted
issuers, their key sets (inline, a file or a URL) and the ``jku`` URLs each may use. A
registry change is read on the next call (the file's modification time is watched).

Refused (401, audited and rate-limited like any failed authentication): an unknown issuer,
a wrong audience, an expired or not-yet-valid token, a missing claim, an algorithm other
than RS384/ES384 (so never ``none`` or HMAC), a ``jku`` not on the issuer's list, a key that
is not in the key set, a bad signature and a replayed ``jti``. Seen ``jti`` values are kept
in the database (table ``cds_jwt_seen``) until the token expires, so a replay is refused by
every worker.

ALLPath's own bearer tokens (``ap_...``) keep working on the CDS endpoints, unchanged. A
call with no ``Authorization`` header is refused unless the demo switch
``ALLPATH_CDS_ALLOW_UNAUTHENTICATED`` is on; each such call is then logged as a warning.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from allpath.api.deps import (
    Caller,
    bearer_scheme,
    check_auth_rate,
    client_address,
    get_db,
    require_caller,
    settings_of,
)
from allpath.api.problems import ApiProblem
from allpath.db.models import AuditEvent, CdsJwtSeen, utcnow

__all__ = [
    "ACCEPTED_ALGORITHMS",
    "CdsAuthError",
    "CdsCallerDep",
    "IssuerEntry",
    "IssuerRegistry",
    "TrustStore",
    "fhir_servers_of",
    "public_base",
    "require_cds_caller",
    "shared_client",
    "url_allowed",
]

log = logging.getLogger("allpath.api.cds")

ACCEPTED_ALGORITHMS = ("RS384", "ES384")  # CDS Hooks 2.0 recommends these; no none, no HS*
LEEWAY_S = 30  # clock skew allowed on exp and iat (operational, not clinical)
MAX_LIFETIME_S = 300  # a JWT valid further ahead is refused: the replay table stays small
JWKS_TIMEOUT_S = 5.0  # connect and read timeout of a key-set URL
JWKS_CACHE_S = 300.0  # a fetched key set is reused this long
JWKS_REFETCH_S = 30.0  # an unknown kid re-reads a cached key set at most this often
JWKS_MAX_BYTES = 256 * 1024


_client_lock = threading.Lock()
_clients: dict[int, httpx.Client] = {}


def shared_client() -> httpx.Client:
    """One HTTP client per process for key sets and FHIR fetches: connections are kept
    alive and the TLS set-up (about 90 ms per new client) is paid once. Redirects are never
    followed; each request gives its own timeout and headers."""
    pid = os.getpid()
    with _client_lock:
        client = _clients.get(pid)
        if client is None:
            client = httpx.Client(follow_redirects=False, timeout=JWKS_TIMEOUT_S,
                                  limits=httpx.Limits(max_connections=50,
                                                      max_keepalive_connections=20))
            _clients[pid] = client
        return client


class CdsAuthError(Exception):
    """Why a CDS Hooks JWT was refused (said in the 401, never with the token)."""

    def __init__(self, reason: str, issuer: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.issuer = issuer


class IssuerEntry(BaseModel):
    """One trusted EHR: its ``iss``, where its public keys are and what it may use."""

    model_config = ConfigDict(extra="forbid")

    iss: str = Field(min_length=1, max_length=500)
    name: str | None = Field(default=None, max_length=100)
    #: the key set inline (``{"keys": [...]}``), in a file, or at a URL (one of the three,
    #: or none when every JWT names its key set with an allowed ``jku``)
    jwks: dict[str, Any] | None = None
    jwks_file: str | None = None
    jwks_url: str | None = Field(default=None, max_length=2000)
    #: ``jku`` header values this issuer may use (exact URLs); empty: ``jku`` is refused
    jku: list[str] = Field(default_factory=list, max_length=20)
    #: FHIR server base URLs ALLPath may fetch from for this issuer's requests
    fhir_servers: list[str] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _one_key_source(self) -> IssuerEntry:
        sources = [x for x in (self.jwks, self.jwks_file, self.jwks_url) if x is not None]
        if len(sources) > 1:
            raise ValueError("give one of jwks, jwks_file and jwks_url, not several")
        if not sources and not self.jku:
            raise ValueError("no key set: give jwks, jwks_file or jwks_url, or allow a jku")
        for url in [*([self.jwks_url] if self.jwks_url else []), *self.jku]:
            _check_key_url(url)
        return self


class IssuerRegistry(BaseModel):
    """The registry file: ``{"issuers": [IssuerEntry, ...]}``."""

    model_config = ConfigDict(extra="forbid")

    issuers: list[IssuerEntry] = Field(max_length=1000)

    @model_validator(mode="after")
    def _unique(self) -> IssuerRegistry:
        seen: set[str] = set()
        for e in self.issuers:
            if e.iss in seen:
                raise ValueError(f"issuer {e.iss!r} is listed twice")
            seen.add(e.iss)
        return self


def _loopback(host: str | None) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _check_key_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts.hostname)):
        raise ValueError(f"key-set URL {url!r} must be https (http only on loopback)")


def url_allowed(url: str, bases: tuple[str, ...] | list[str]) -> bool:
    """``url`` is one of ``bases`` or below one of them (on a path-segment boundary)."""
    u = url.rstrip("/")
    for base in bases:
        b = base.rstrip("/")
        if b and (u == b or u.startswith(b + "/")):
            return True
    return False


@dataclass
class _KeySet:
    keys: list[dict[str, Any]]
    fetched: float


class TrustStore:
    """The issuer registry (re-read when its file changes) and a cache of key sets."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._issuers: dict[str, IssuerEntry] = {}
        self._cache: dict[str, _KeySet] = {}
        self.fetches = 0  # key-set URL reads (for tests and benchmarks)
        if path is not None:
            self._load()

    def _load(self) -> None:
        assert self.path is not None
        try:
            text = self.path.read_text(encoding="utf-8")
            registry = IssuerRegistry.model_validate(json.loads(text))
        except (OSError, json.JSONDecodeError, ValidationError) as err:
            raise ValueError(f"CDS issuer registry {self.path}: {err}") from None
        self._issuers = {e.iss: e for e in registry.issuers}
        self._mtime = self.path.stat().st_mtime
        self._cache.clear()

    def issuer(self, iss: str) -> IssuerEntry | None:
        if self.path is None:
            return None
        with self._lock:
            try:
                changed = self.path.stat().st_mtime != self._mtime
            except OSError:
                changed = False
            if changed:
                try:
                    self._load()
                except ValueError as err:  # keep the last good registry, say why
                    log.error("%s; the previous registry stays in use", err)
                    self._mtime = self.path.stat().st_mtime
            return self._issuers.get(iss)

    def _fetch(self, url: str) -> list[dict[str, Any]]:
        self.fetches += 1
        try:
            with shared_client().stream("GET", url, headers={"Accept": "application/json"},
                                        timeout=JWKS_TIMEOUT_S) as r:
                if r.status_code != 200:
                    raise CdsAuthError(f"the key set at {url} answered HTTP {r.status_code}")
                body = b""
                for chunk in r.iter_bytes():
                    body += chunk
                    if len(body) > JWKS_MAX_BYTES:
                        raise CdsAuthError(f"the key set at {url} is larger than "
                                           f"{JWKS_MAX_BYTES} bytes")
        except httpx.HTTPError as err:
            raise CdsAuthError(f"the key set at {url} could not be read "
                               f"({type(err).__name__})") from None
        return _keys_of(body, url)

    def _url_keys(self, url: str, kid: str) -> list[dict[str, Any]]:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(url)
        fresh = hit is not None and now - hit.fetched < JWKS_CACHE_S
        if hit is not None and fresh and (any(k.get("kid") == kid for k in hit.keys)
                                          or now - hit.fetched < JWKS_REFETCH_S):
            return hit.keys
        keys = self._fetch(url)
        with self._lock:
            if len(self._cache) >= 256:
                self._cache.clear()
            self._cache[url] = _KeySet(keys, time.monotonic())
        return keys

    def key_set(self, entry: IssuerEntry, jku: str | None, kid: str) -> list[dict[str, Any]]:
        if jku is not None:
            if jku not in entry.jku:
                raise CdsAuthError(f"jku {jku!r} is not on the key-set list of issuer "
                                   f"{entry.iss!r}", entry.iss)
            return self._url_keys(jku, kid)
        if entry.jwks is not None:
            return _keys_of(json.dumps(entry.jwks).encode(), f"issuer {entry.iss!r}")
        if entry.jwks_file is not None:
            path = Path(entry.jwks_file)
            if not path.is_absolute() and self.path is not None:
                path = self.path.parent / path
            try:
                return _keys_of(path.read_bytes(), str(path))
            except OSError as err:
                raise CdsAuthError(f"the key set file of issuer {entry.iss!r} could not be "
                                   f"read ({err.strerror})", entry.iss) from None
        if entry.jwks_url is not None:
            return self._url_keys(entry.jwks_url, kid)
        raise CdsAuthError(f"issuer {entry.iss!r} registers its keys by jku only, and this "
                           "JWT has no jku header", entry.iss)


def _keys_of(body: bytes, where: str) -> list[dict[str, Any]]:
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CdsAuthError(f"the key set from {where} is not JSON") from None
    keys = doc.get("keys") if isinstance(doc, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        raise CdsAuthError(f"the key set from {where} has no 'keys' list")
    return keys


def public_base(request: Request) -> str:
    """The service's own base URL: ``ALLPATH_PUBLIC_URL``, else the address it listens on;
    never the request's ``Host`` header, which the caller chooses."""
    public = settings_of(request).public_url
    if public:
        return public.rstrip("/")
    host, port = request.scope.get("server") or ("127.0.0.1", 8000)
    scheme = request.url.scheme if request.url.scheme in ("http", "https") else "http"
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def _audiences(request: Request) -> list[str]:
    """The endpoint URLs this request may be addressed to (``aud``): the service, and for
    a feedback call also the feedback endpoint."""
    path = request.url.path
    at = path.find("/cds-services")
    tail = path[at:] if at >= 0 else path
    endpoint = public_base(request) + tail
    out = [endpoint]
    if endpoint.endswith("/feedback"):
        out.append(endpoint.removesuffix("/feedback"))
    return out


def _select_key(keys: list[dict[str, Any]], kid: str, alg: str, iss: str) -> jwt.PyJWK:
    matching = [k for k in keys if k.get("kid") == kid]
    if not matching:
        raise CdsAuthError(f"no key with kid {kid!r} in the key set of issuer {iss!r}", iss)
    jwk = matching[0]
    if "d" in jwk:
        raise CdsAuthError(f"the key set of issuer {iss!r} holds a private key; register "
                           "the public key only", iss)
    if jwk.get("use") not in (None, "sig"):
        raise CdsAuthError(f"key {kid!r} is not a signing key (use={jwk.get('use')!r})", iss)
    if jwk.get("alg") not in (None, alg):
        raise CdsAuthError(f"key {kid!r} is for {jwk.get('alg')}, the JWT says {alg}", iss)
    try:
        return jwt.PyJWK(jwk, algorithm=alg)
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as err:
        raise CdsAuthError(f"key {kid!r} of issuer {iss!r} does not fit {alg} "
                           f"({err})", iss) from None


def verify_jwt(request: Request, token: str, trust: TrustStore) -> tuple[dict[str, Any],
                                                                         IssuerEntry]:
    """The verified claims and issuer entry of a CDS Hooks JWT, or CdsAuthError."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as err:
        raise CdsAuthError(f"not a well-formed JWT ({err})") from None
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGORITHMS:
        raise CdsAuthError(f"algorithm {alg!r} is not accepted; sign with RS384 or ES384")
    if str(header.get("typ", "JWT")).upper() != "JWT":
        raise CdsAuthError(f"typ {header.get('typ')!r} is not JWT")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise CdsAuthError("the JWT header has no kid (CDS Hooks requires it)")
    iss = unverified.get("iss")
    if not isinstance(iss, str) or not iss:
        raise CdsAuthError("the JWT has no iss claim")
    entry = trust.issuer(iss)
    if entry is None:
        raise CdsAuthError(f"issuer {iss[:200]!r} is not registered with this service")
    jku = header.get("jku")
    if jku is not None and not isinstance(jku, str):
        raise CdsAuthError("the jku header is not a URL", iss)
    key = _select_key(trust.key_set(entry, jku, kid), kid, alg, iss)
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[alg], audience=_audiences(request), issuer=iss,
            leeway=LEEWAY_S, options={"require": ["iss", "aud", "exp", "iat", "jti"]})
    except jwt.ExpiredSignatureError:
        raise CdsAuthError("expired (exp is in the past)", iss) from None
    except jwt.ImmatureSignatureError:
        raise CdsAuthError("not valid yet (iat or nbf is in the future)", iss) from None
    except jwt.InvalidAudienceError:
        raise CdsAuthError(f"addressed to another audience; aud must be "
                           f"{_audiences(request)[0]}", iss) from None
    except jwt.MissingRequiredClaimError as err:
        raise CdsAuthError(f"missing the {err.claim} claim", iss) from None
    except jwt.InvalidSignatureError:
        raise CdsAuthError("the signature does not verify with the issuer's key",
                           iss) from None
    except jwt.InvalidTokenError as err:
        raise CdsAuthError(f"not valid ({err})", iss) from None
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 500:
        raise CdsAuthError("the jti claim must be a non-empty string", iss)
    exp = claims["exp"]
    if exp > time.time() + MAX_LIFETIME_S + LEEWAY_S:
        raise CdsAuthError(f"exp is more than {MAX_LIFETIME_S} s ahead; ALLPath accepts "
                           "short-lived JWTs only", iss)
    return claims, entry


def remember_jti(request: Request, iss: str, jti: str, exp: float) -> None:
    """Store the token's ``jti`` until it expires; CdsAuthError when it was seen before
    (a replay), by this worker or any other sharing the database."""
    digest = hashlib.sha256(f"{iss}\n{jti}".encode()).hexdigest()
    until = dt.datetime.fromtimestamp(exp + LEEWAY_S, tz=dt.UTC)
    try:
        with get_db(request).transaction() as session:
            session.execute(delete(CdsJwtSeen).where(CdsJwtSeen.expires_at < utcnow()))
            session.add(CdsJwtSeen(digest=digest, expires_at=until))
            session.flush()
    except IntegrityError:
        raise CdsAuthError("replayed: this jti was already used", iss) from None


def _failed(request: Request, err: CdsAuthError) -> ApiProblem:
    limiter, item = request.app.state.auth_limiter
    client = client_address(request) or "unknown"
    limiter.hit(item, client)
    with get_db(request).transaction() as session:
        session.add(AuditEvent(actor=f"cds:{err.issuer}"[:100] if err.issuer else "anonymous",
                               action="auth.failed", detail=f"CDS JWT: {err.reason}"[:200],
                               client=client))
    log.warning("CDS Hooks JWT refused: %s", err.reason)
    return ApiProblem(401, f"the CDS Hooks JWT is refused: {err.reason}", headers={
        "WWW-Authenticate": 'Bearer realm="allpath", error="invalid_token"'})


def trust_of(request: Request) -> TrustStore:
    """The app's trust store (made on first use from the settings)."""
    store: TrustStore | None = getattr(request.app.state, "cds_trust", None)
    if store is None:
        store = TrustStore(settings_of(request).cds_issuers_path)
        request.app.state.cds_trust = store
    return store


def _looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and not token.startswith("ap_")


def require_cds_caller(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    """Who calls a CDS service: an EHR with a verified JWT, a holder of an ALLPath token,
    or (demo switch only) nobody. The JWT's issuer entry is kept on ``request.state``."""
    request.state.cds_issuer = None
    if creds is None and request.headers.get("authorization") is None \
            and settings_of(request).cds_allow_unauthenticated:
        log.warning("CDS Hooks call without authentication accepted because "
                    "ALLPATH_CDS_ALLOW_UNAUTHENTICATED is on (demo mode): %s %s",
                    request.method, request.url.path)
        return Caller(key="unauthenticated", name="CDS Hooks demo mode", kind="cds-demo",
                      scopes=frozenset({"read", "write"}), client=client_address(request))
    if creds is None or not _looks_like_jwt(creds.credentials):
        return require_caller(request, creds)
    check_auth_rate(request)
    try:
        claims, entry = verify_jwt(request, creds.credentials, trust_of(request))
        remember_jti(request, entry.iss, str(claims["jti"]), float(claims["exp"]))
    except CdsAuthError as err:
        raise _failed(request, err) from None
    request.state.cds_issuer = entry
    caller = Caller(key=entry.iss[:90], name=entry.name or entry.iss, kind="cds",
                    scopes=frozenset({"read", "write"}))
    return replace(caller, client=client_address(request))


CdsCallerDep = Annotated[Caller, Depends(require_cds_caller)]


def fhir_servers_of(request: Request) -> tuple[str, ...]:
    """The FHIR servers this caller's requests may name: the JWT issuer's list, else the
    configured list for ALLPath-token and demo callers."""
    entry: IssuerEntry | None = getattr(request.state, "cds_issuer", None)
    if entry is not None:
        return tuple(entry.fhir_servers)
    return settings_of(request).cds_fhir_servers
