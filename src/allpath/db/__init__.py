"""Persistence of the ALLPath service: SQLAlchemy 2 models with Alembic migrations.

SQLite file by default (``sqlite:///./allpath.db``), PostgreSQL by URL
(``postgresql://user:password@host/db``, driver psycopg 3). ``Database(url)`` migrates a
fresh database to the latest schema; ``Database.transaction()`` is one all-or-nothing unit.
"""

from __future__ import annotations

from allpath.db.engine import (
    DEFAULT_DATABASE_URL,
    Database,
    current_revision,
    database_url,
    make_engine,
    upgrade,
)
from allpath.db.models import (
    ApiToken,
    AssessmentRow,
    AuditEvent,
    Base,
    CdsFeedback,
    ObservationRow,
    Patient,
    RecordVersion,
    ScreenJob,
)
from allpath.db.tokens import create_token, list_tokens, revoke_token, verify_token

__all__ = [
    "DEFAULT_DATABASE_URL",
    "ApiToken",
    "AssessmentRow",
    "AuditEvent",
    "Base",
    "CdsFeedback",
    "Database",
    "ObservationRow",
    "Patient",
    "RecordVersion",
    "ScreenJob",
    "create_token",
    "current_revision",
    "database_url",
    "list_tokens",
    "make_engine",
    "revoke_token",
    "upgrade",
    "verify_token",
]
