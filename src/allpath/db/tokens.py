"""API bearer tokens: ``ap_<key>_<secret>``; only a salted SHA-256 digest is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from allpath.db.models import ApiToken, utcnow

__all__ = ["TOKEN_PREFIX", "create_token", "revoke_token", "verify_token"]

TOKEN_PREFIX = "ap"


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def create_token(session: Session, name: str = "default") -> str:
    """Store a new token's digest and return the token (shown once, never stored)."""
    key = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    session.add(ApiToken(key=key, name=name[:100], salt=salt, digest=_digest(salt, secret)))
    session.flush()
    return f"{TOKEN_PREFIX}_{key}_{secret}"


def _split(token: str) -> tuple[str, str] | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def verify_token(session: Session, token: str) -> ApiToken | None:
    """The stored token row when ``token`` is valid and not revoked, else None."""
    split = _split(token)
    if split is None:
        return None
    key, secret = split
    row = session.scalars(select(ApiToken).where(ApiToken.key == key)).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.digest, _digest(row.salt, secret)):
        return None
    return row


def revoke_token(session: Session, key: str) -> bool:
    """Revoke a token by its public key part; True when one was revoked."""
    row = session.scalars(select(ApiToken).where(ApiToken.key == key)).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True
