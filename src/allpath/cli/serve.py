"""``allpath serve`` (the REST API and CDS Hooks services) and ``allpath tokens create``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from allpath.cli.app import app

__all__ = ["tokens_app"]

tokens_app = typer.Typer(help="API bearer tokens (stored hashed; shown once).",
                         no_args_is_help=True)

DatabaseOpt = Annotated[str | None, typer.Option(
    "--database", help="Database URL (default $ALLPATH_DATABASE_URL or "
                       "sqlite:///./allpath.db; postgresql://user:pw@host/db).")]


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

    url = database_url(database)
    if trials is not None:
        os.environ["ALLPATH_TRIALS"] = str(trials.resolve())
    Database(url).dispose()  # migrate once, before any worker starts
    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if workers > 1:
        os.environ["ALLPATH_DATABASE_URL"] = url
        uvicorn.run("allpath.cli.serve:_factory", factory=True, host=host, port=port,
                    workers=workers, access_log=False, log_level=log_level)
        return
    uvicorn.run(create_app(url, migrate=False), host=host, port=port, access_log=False,
                log_level=log_level)


def _factory() -> object:
    from allpath.api import create_app

    return create_app(None, migrate=False)


@tokens_app.command("create")
def tokens_create(
    database: DatabaseOpt = None,
    name: Annotated[str, typer.Option(help="A label for the token (who or what uses it).")]
    = "default",
) -> None:
    """Create a token, store only its salted hash and print the token once."""
    from allpath.db import Database, create_token

    db = Database(database)
    try:
        with db.transaction() as session:
            token = create_token(session, name)
    finally:
        db.dispose()
    typer.echo(token)


@tokens_app.command("revoke")
def tokens_revoke(
    key: Annotated[str, typer.Argument(help="The token's key (the part after 'ap_').")],
    database: DatabaseOpt = None,
) -> None:
    """Revoke a token by its key."""
    from allpath.db import Database, revoke_token

    db = Database(database)
    try:
        with db.transaction() as session:
            done = revoke_token(session, key)
    finally:
        db.dispose()
    if not done:
        typer.echo(f"error: no active token with key {key!r}", err=True)
        raise typer.Exit(code=2)
    typer.echo(f"revoked {key}")
