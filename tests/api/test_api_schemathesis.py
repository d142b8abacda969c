"""Schemathesis against the published OpenAPI schema: no 500 on generated input (bounded).

Runs on a throw-away SQLite file (the schema is loaded at import time, which Schemathesis
needs to parametrise one test per operation).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from allpath.api import Settings, create_app
from allpath.db import Database, create_token

_DIR = tempfile.TemporaryDirectory(prefix="allpath-schemathesis-")
_DB = Database(f"sqlite:///{Path(_DIR.name) / 'allpath.db'}")
with _DB.transaction() as _s:
    _TOKEN = create_token(_s, "schemathesis", scopes=("read", "write", "admin"))
_APP = create_app(database=_DB, settings=Settings(today=lambda: dt.date(2024, 5, 20)))

schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)


@schema.parametrize()
@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_on_generated_input(case: Any) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {_TOKEN}"},
                           checks=[not_a_server_error])
