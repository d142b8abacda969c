"""Engines, sessions and migrations: SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "DEFAULT_DATABASE_URL",
    "Database",
    "ForeignDatabaseError",
    "database_url",
    "make_engine",
    "upgrade",
]

DEFAULT_DATABASE_URL = "sqlite:///./allpath.db"
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(url: str | None = None) -> str:
    """The URL given, else ``$ALLPATH_DATABASE_URL``, else a SQLite file in the working dir."""
    return url or os.environ.get("ALLPATH_DATABASE_URL") or DEFAULT_DATABASE_URL


def _normalise(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (the driver this package depends on)."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    # WAL with synchronous=NORMAL: a commit survives a crash of the process (kill -9); only
    # a power loss or OS crash may lose the last commits (never corrupts). A documented
    # choice (docs/api.md); PostgreSQL keeps its own durability settings.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
    # the driver's own implicit transactions are off: _sqlite_begin starts each one
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    """Every SQLite transaction takes the write lock when it starts (BEGIN IMMEDIATE), so
    what a write reads (the latest record version) cannot change before it commits."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _owner_only(path: str) -> None:
    """Create the SQLite file (and its WAL/SHM files) readable by its owner only."""
    for suffix in ("", "-wal", "-shm"):
        f = Path(path + suffix)
        if not f.exists():
            if suffix:
                continue
            f.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(f, os.O_CREAT | os.O_WRONLY, 0o600))
        elif f.stat().st_mode & 0o077:
            f.chmod(0o600)


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url``; SQLite files use WAL, foreign keys, a busy timeout and
    write-locking transactions, and are readable by their owner only."""
    real = _normalise(database_url(url))
    if real.startswith("sqlite"):
        path = make_url(real).database
        if path not in (None, "", ":memory:") and not str(path).startswith("file:"):
            _owner_only(str(path))
        engine = create_engine(real, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(real, pool_pre_ping=True, pool_size=10, max_overflow=10)


class ForeignDatabaseError(RuntimeError):
    """The database holds tables but was never migrated by ALLPath: it is not ours."""


def _check_ours(engine: Engine) -> None:
    with engine.connect() as conn:
        insp = inspect(conn)
        names = set(insp.get_table_names())
    if names and "alembic_version" not in names:
        raise ForeignDatabaseError(
            f"this database already holds {len(names)} table(s) that ALLPath did not create "
            "(no alembic_version); refusing to migrate it. Point --database at an empty "
            "database or one made by ALLPath.")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with the migrations shipped in this package; a
    database with tables that ALLPath did not create is refused (ForeignDatabaseError)."""
    from alembic import command
    from alembic.config import Config

    _check_ours(engine)

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return MigrationContext.configure(conn).get_current_revision()


class Database:
    """An engine plus a session factory; ``transaction()`` is one all-or-nothing unit."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        if migrate:
            upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
