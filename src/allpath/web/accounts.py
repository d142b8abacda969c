"""Accounts and sessions of the web application.

Passwords are stored only as Argon2id hashes (argon2-cffi). A session is a random cookie
whose SHA-256 digest is the key of its row (the cookie itself is never stored); the row also
holds the CSRF token the pages send back in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from allpath.db.models import WebSession, WebUser, utcnow

__all__ = ["MAX_NAME", "MIN_PASSWORD", "SESSION_HOURS", "AccountError", "SignedIn",
           "add_user", "check_name", "check_password", "end_session", "find_session",
           "sign_in", "start_session"]

MIN_PASSWORD = 12  # characters
MAX_PASSWORD = 1024
MAX_NAME = 100
SESSION_HOURS = 12.0

_hasher = PasswordHasher()
#: verified against when the name is unknown, so that the answer takes as long either way
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A name or password that cannot be used (the message says why)."""


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise AccountError(f"a user name is 1 to {MAX_NAME} printable characters")
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters "
                           f"(got {len(password)})")
    return password


def add_user(session: Session, name: str, password: str, *, replace: bool = False) -> WebUser:
    """Create an account (or, with ``replace``, set a new password for an existing one)."""
    name = check_name(name)
    digest = _hasher.hash(check_password(password))
    user = session.scalars(select(WebUser).where(WebUser.name == name)).first()
    if user is not None and not replace:
        raise AccountError(f"a user named {name!r} exists (use --replace to set a new "
                           "password)")
    if user is None:
        user = WebUser(name=name, password_hash=digest)
        session.add(user)
    else:
        user.password_hash = digest
        user.disabled_at = None
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()
    return user


def sign_in(session: Session, name: str, password: str) -> WebUser | None:
    """The account when the name and password match an active account, else None."""
    user = session.scalars(select(WebUser).where(WebUser.name == name.strip()[:MAX_NAME])
                           ).first()
    stored = user.password_hash if user is not None else _DUMMY
    try:
        _hasher.verify(stored, password[:MAX_PASSWORD])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


class SignedIn:
    """The signed-in user of a request and the session's CSRF token."""

    __slots__ = ("csrf", "name", "user_id")

    def __init__(self, user_id: int, name: str, csrf: str) -> None:
        self.user_id = user_id
        self.name = name
        self.csrf = csrf


def start_session(session: Session, user: WebUser,
                  hours: float = SESSION_HOURS) -> tuple[str, SignedIn]:
    """A new session for ``user``: (the cookie value, who is signed in). Expired sessions
    are removed on the way."""
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(WebSession(digest=_digest(cookie), user_id=user.id, csrf=csrf,
                           expires_at=now + dt.timedelta(hours=hours)))
    session.flush()
    return cookie, SignedIn(user.id, user.name, csrf)


def find_session(session: Session, cookie: str | None) -> SignedIn | None:
    """Who the cookie signs in, or None (no cookie, unknown, expired or disabled)."""
    if not cookie or len(cookie) > 100:
        return None
    row = session.get(WebSession, _digest(cookie))
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(
        tzinfo=dt.UTC)
    user = session.get(WebUser, row.user_id)
    if expires <= utcnow() or user is None or user.disabled_at is not None:
        return None
    return SignedIn(user.id, user.name, row.csrf)


def end_session(session: Session, cookie: str | None) -> None:
    if cookie:
        session.execute(delete(WebSession).where(WebSession.digest == _digest(cookie)))
