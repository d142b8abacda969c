"""``allpath serve`` (the REST API and CDS Hooks services) and ``allpath tokens``
(create, list, revoke)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from allpath.cli.app import app

__all__ = ["tokens_app", "url_option"]

tokens_app = typer.Typer(help="API bearer tokens (stored hashed; shown once).",
                         no_args_is_help=True)

DatabaseOpt = Annotated[str | None, typer.Option(
    "--database", help="Database URL (default $ALLPATH_DATABASE_URL or "
                       "sqlite:///./allpath.db; postgresql://user:pw@host/db), or @FILE to "
                       "read the URL from a file, keeping a password out of the process "
                       "list.")]


def url_option(database: str | None) -> str | None:
    """``--database``: a URL, or ``@file`` holding one (first line)."""
    if database is None or not database.startswith("@"):
        return database
    path = Path(database[1:])
    try:
        text = path.read_text(encoding="utf-8").strip().splitlines()
    except OSError as exc:
        typer.echo(f"error: cannot read the database URL file {path}: {exc.strerror}",
                   err=True)
        raise typer.Exit(code=2) from None
    if not text:
        typer.echo(f"error: the database URL file {path} is empty", err=True)
        raise typer.Exit(code=2)
    return text[0].strip()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database: DatabaseOpt = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
    trials: Annotated[Path | None, typer.Option(
        help="ClinicalTrials.gov file or folder for /v1/trials (default: the bundled "
             "snapshot; also ALLPATH_TRIALS).")] = None,
) -> None:
    """Run the ALLPath API (migrates a fresh database first). Decision support only."""
    import os

    import uvicorn

    from allpath.api import create_app
    from allpath.db import Database, database_url

    url = database_url(url_option(database))
    if trials is not None:
        os.environ["ALLPATH_TRIALS"] = str(trials.resolve())
    from allpath.db.engine import ForeignDatabaseError

    try:
        Database(url).dispose()  # migrate once, before any worker starts
    except ForeignDatabaseError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # uvicorn's C parts are named rather than left to "auto", so that a missing one fails at
    # start instead of quietly serving slower: httptools parses HTTP (llhttp), uvloop runs
    # the event loop (libuv); together about a third less server CPU per assessment than h11
    # and asyncio's own loop (benchmarks/api.py, docs/api.md)
    if workers > 1:
        os.environ["ALLPATH_DATABASE_URL"] = url
        uvicorn.run("allpath.cli.serve:_factory", factory=True, host=host, port=port,
                    workers=workers, access_log=False, log_level=log_level,
                    http="httptools", loop="uvloop")
        return
    uvicorn.run(_settled(create_app(url, migrate=False)), host=host, port=port,
                access_log=False, log_level=log_level, http="httptools", loop="uvloop")


def _factory() -> object:
    from allpath.api import create_app

    return _settled(create_app(None, migrate=False))


_App = TypeVar("_App")


def _settled(app: _App) -> _App:
    """The service ready to answer: every cache the first requests would fill warmed on
    the bundled examples (knowledge, catalogues, templates, dosing; the trial registry and
    its pre-screen; the FHIR models of an export read back), then everything alive moved
    out of the garbage collector's sight (``gc.freeze``). Without it each worker's first
    CDS call paid for loading the trial registry and the FHIR models, and a full collection
    walking the knowledge base's long-lived objects put 100-200 ms pauses into single
    requests (CDS Hooks p99, benchmarks/cds_hooks.py)."""
    import gc

    from allpath.api.deps import registry_of
    from allpath.examples import example_paths
    from allpath.interop.fhir import assessment_to_bundle, read_bundle
    from allpath.pipeline import assess_file
    from allpath.trials import match_trials

    registry = registry_of(app)
    for path in example_paths():
        a = assess_file(path)
        a.to_dict()
        match_trials(a, registry, limit=3)
        read_bundle(assessment_to_bundle(a))
    gc.collect()
    gc.freeze()
    return app


@tokens_app.command("create")
def tokens_create(
    database: DatabaseOpt = None,
    name: Annotated[str, typer.Option(help="A label for the token (who or what uses it).")]
    = "default",
    scope: Annotated[list[str] | None, typer.Option(
        "--scope", help="read (GET and computing), write (stored patients, jobs, "
                        "feedback), admin (deleting patients); repeat for several. "
                        "Default: read and write.")] = None,
    expires_days: Annotated[float | None, typer.Option(
        min=0.001, max=3650, help="Days until the token expires (default: never).")] = None,
) -> None:
    """Create a token, store only its salted hash and print the token once."""
    import datetime as dt

    from allpath.db import Database, create_token
    from allpath.db.tokens import DEFAULT_SCOPES

    expires = dt.timedelta(days=expires_days) if expires_days is not None else None
    db = Database(url_option(database))
    try:
        with db.transaction() as session:
            token = create_token(session, name, scopes=scope or DEFAULT_SCOPES,
                                 expires_in=expires)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        db.dispose()
    typer.echo(token)


@tokens_app.command("list")
def tokens_list(database: DatabaseOpt = None) -> None:
    """List tokens: key, name, scopes, created, expires and revoked (never a secret)."""
    from allpath.db import Database, list_tokens
    from allpath.db.tokens import token_expired

    db = Database(url_option(database))
    try:
        with db.transaction() as session:
            rows = [(t.key, t.name, t.scopes, t.created_at, t.expires_at, t.revoked_at,
                     token_expired(t)) for t in list_tokens(session)]
    finally:
        db.dispose()
    typer.echo("key\tname\tscopes\tcreated\texpires\tstate")
    for key, name, scopes, created, expires, revoked, expired in rows:
        state = "revoked" if revoked else "expired" if expired else "active"
        typer.echo(f"{key}\t{name}\t{scopes}\t{created:%Y-%m-%d %H:%M}\t"
                   f"{f'{expires:%Y-%m-%d %H:%M}' if expires else 'never'}\t{state}")


@tokens_app.command("revoke")
def tokens_revoke(
    key: Annotated[str, typer.Argument(help="The token's key (the part after 'ap_').")],
    database: DatabaseOpt = None,
) -> None:
    """Revoke a token by its key."""
    from allpath.db import Database, revoke_token

    db = Database(url_option(database))
    try:
        with db.transaction() as session:
            done = revoke_token(session, key)
    finally:
        db.dispose()
    if not done:
        typer.echo(f"error: no active token with key {key!r}", err=True)
        raise typer.Exit(code=2)
    typer.echo(f"revoked {key}")
