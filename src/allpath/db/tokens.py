"""API bearer tokens: ``ap_<key>_<secret>``; only a salted SHA-256 digest is stored.

A token has scopes (``read``: GET and the compute-only POSTs; ``write``: changes to stored
patients, jobs and feedback; ``admin``: deleting a patient) and may expire.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from allpath.db.models import ApiToken, utcnow

__all__ = ["DEFAULT_SCOPES", "SCOPES", "TOKEN_PREFIX", "create_token", "list_tokens",
           "revoke_token", "token_expired", "token_key", "token_scopes", "verify_token"]

TOKEN_PREFIX = "ap"
SCOPES = ("read", "write", "admin")
DEFAULT_SCOPES = ("read", "write")


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def _scopes(scopes: Iterable[str]) -> str:
    chosen = {s.strip().lower() for s in scopes if s.strip()}
    unknown = chosen - set(SCOPES)
    if unknown or not chosen:
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)}; got "
                         f"{', '.join(sorted(unknown)) or 'none'}")
    return " ".join(s for s in SCOPES if s in chosen)


def create_token(session: Session, name: str = "default",
                 scopes: Sequence[str] = DEFAULT_SCOPES,
                 expires_in: dt.timedelta | None = None) -> str:
    """Store a new token's digest and return the token (shown once, never stored).
    ``scopes`` from :data:`SCOPES`; ``expires_in`` from now (None: never expires)."""
    key = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    expires = utcnow() + expires_in if expires_in is not None else None
    session.add(ApiToken(key=key, name=name[:100], salt=salt, digest=_digest(salt, secret),
                         scopes=_scopes(scopes), expires_at=expires))
    session.flush()
    return f"{TOKEN_PREFIX}_{key}_{secret}"


def token_key(token: str) -> str | None:
    """The public key part of a well-formed token (never the secret), else None."""
    split = _split(token)
    return split[0] if split else None


def _split(token: str) -> tuple[str, str] | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2] \
            or len(parts[1]) > 16 or not parts[1].isalnum():
        return None
    return parts[1], parts[2]


def token_scopes(row: ApiToken) -> frozenset[str]:
    return frozenset((row.scopes or "").split())


def token_expired(row: ApiToken, now: dt.datetime | None = None) -> bool:
    if row.expires_at is None:
        return False
    at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.UTC)
    return at <= (now or utcnow())


def verify_token(session: Session, token: str) -> ApiToken | None:
    """The stored token row when ``token`` is valid, not revoked and not expired."""
    split = _split(token)
    if split is None:
        return None
    key, secret = split
    row = session.scalars(select(ApiToken).where(ApiToken.key == key)).first()
    if row is None or row.revoked_at is not None or token_expired(row):
        return None
    if not hmac.compare_digest(row.digest, _digest(row.salt, secret)):
        return None
    return row


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token (active, expired and revoked), oldest first; no secrets are stored."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)).all())


def revoke_token(session: Session, key: str) -> bool:
    """Revoke a token by its public key part; True when one was revoked."""
    row = session.scalars(select(ApiToken).where(ApiToken.key == key[:16])).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True
