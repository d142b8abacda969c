"""Fixtures of the API tests: one app per test on SQLite, and on PostgreSQL when
``ALLPATH_TEST_POSTGRES_URL`` is set (skipped cleanly otherwise)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from api_helpers import REFERENCE_DAY
from fastapi import FastAPI
from fastapi.testclient import TestClient

from allpath.api import Settings, create_app
from allpath.db import Database, create_token
from support import POSTGRES_ENV, postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'allpath.db'}"
    url = postgres_url()
    if url is None:
        pytest.skip(f"PostgreSQL: set {POSTGRES_ENV} to run against a server")
    return url


@pytest.fixture
def database(db_url: str,
             migrated_sqlite: Callable[[Path], Database]) -> Iterator[Database]:
    if db_url.startswith("sqlite:///"):
        db = migrated_sqlite(Path(db_url.removeprefix("sqlite:///")))
    else:
        db = Database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def app(database: Database) -> FastAPI:
    return create_app(settings=Settings(today=lambda: REFERENCE_DAY,
                                        max_body_bytes=2 * 1024 * 1024),
                      database=database)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def token(database: Database) -> str:
    with database.transaction() as session:
        return create_token(session, "tests", scopes=("read", "write", "admin"))


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
