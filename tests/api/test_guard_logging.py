"""The last-resort 500 logs where the bug is, never what the request held (#14)."""

from __future__ import annotations

import logging

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from allpath.api.guard import GuardMiddleware, value_free_trace

SECRET = "MRN-4711-Smith"


def _parse(text: str) -> int:
    return int(text)  # ValueError whose message repeats the input


def _handler(request: Request) -> Response:
    try:
        _parse(SECRET)
    except ValueError as exc:
        raise RuntimeError(f"could not read {SECRET}") from exc
    return Response("unreachable")


def test_an_unhandled_error_is_logged_with_its_code_locations_and_no_request_value(
        caplog: pytest.LogCaptureFixture) -> None:
    app = GuardMiddleware(Starlette(routes=[Route("/boom", _handler, methods=["POST"])]))
    with caplog.at_level(logging.ERROR, logger="allpath.api"), \
            TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/boom", content=SECRET.encode())
    assert r.status_code == 500
    assert SECRET not in r.text
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert SECRET not in logged
    assert "builtins.RuntimeError at" in logged
    assert "test_guard_logging.py" in logged and "in _handler" in logged
    assert "<- caused by builtins.ValueError at" in logged and "in _parse" in logged


def test_value_free_trace_of_an_exception_never_raised_names_only_its_class() -> None:
    assert value_free_trace(KeyError(SECRET)) == "builtins.KeyError"


def test_value_free_trace_follows_an_implicit_context_but_not_a_suppressed_one() -> None:
    def inner() -> None:
        try:
            {}[SECRET]
        except KeyError:
            raise ValueError(SECRET)  # noqa: B904 - an implicit context on purpose

    with pytest.raises(ValueError) as err:
        inner()
    trace = value_free_trace(err.value)
    assert "builtins.ValueError at" in trace and "caused by builtins.KeyError" in trace
    assert SECRET not in trace

    def suppressed() -> None:
        try:
            {}[SECRET]
        except KeyError:
            raise ValueError(SECRET) from None

    with pytest.raises(ValueError) as err2:
        suppressed()
    assert "KeyError" not in value_free_trace(err2.value)
