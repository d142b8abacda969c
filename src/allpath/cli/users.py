"""``allpath users``: accounts of the web application (``allpath serve``): add, list,
disable. Passwords are asked for (or read from stdin) and stored only as Argon2 hashes."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from allpath.cli.serve import DatabaseOpt, url_option

__all__ = ["users_app"]

users_app = typer.Typer(help="Accounts of the web application (passwords stored hashed).",
                        no_args_is_help=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    first: str = typer.prompt("Password", hide_input=True)
    again: str = typer.prompt("Repeat the password", hide_input=True)
    if first != again:
        typer.echo("error: the two passwords differ", err=True)
        raise typer.Exit(code=2)
    return first


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The user name to sign in with.")],
    database: DatabaseOpt = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin (also "
                                 "when stdin is not a terminal).")] = False,
    replace: Annotated[bool, typer.Option(
        help="Set a new password for an existing user (signs their browsers out).")] = False,
) -> None:
    """Add a user of the web application; the password is asked for twice (or read from
    stdin). At least 12 characters."""
    from allpath.db import Database
    from allpath.web.accounts import AccountError, add_user, check_name, check_password

    try:
        check_name(name)
        password = check_password(_read_password(password_stdin))
    except AccountError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    db = Database(url_option(database))
    try:
        with db.transaction() as session:
            user = add_user(session, name, password, replace=replace)
            shown = user.name
    except AccountError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        db.dispose()
    typer.echo(f"user {shown!r} {'updated' if replace else 'added'}")


@users_app.command("list")
def users_list(database: DatabaseOpt = None) -> None:
    """List users: name, created, state (never a password hash)."""
    from sqlalchemy import select

    from allpath.db import Database
    from allpath.db.models import WebUser

    db = Database(url_option(database))
    try:
        with db.transaction() as session:
            rows = [(u.name, u.created_at, u.disabled_at)
                    for u in session.scalars(select(WebUser).order_by(WebUser.name))]
    finally:
        db.dispose()
    typer.echo("name\tcreated\tstate")
    for name, created, disabled in rows:
        typer.echo(f"{name}\t{created:%Y-%m-%d %H:%M}\t{'disabled' if disabled else 'active'}")


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(help="The user to disable.")],
    database: DatabaseOpt = None,
) -> None:
    """Disable a user and sign out every browser of theirs."""
    from sqlalchemy import delete, select

    from allpath.db import Database
    from allpath.db.models import WebSession, WebUser, utcnow

    db = Database(url_option(database))
    try:
        with db.transaction() as session:
            user = session.scalars(select(WebUser).where(WebUser.name == name)).first()
            if user is None:
                typer.echo(f"error: no user named {name!r}", err=True)
                raise typer.Exit(code=2)
            user.disabled_at = utcnow()
            session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    finally:
        db.dispose()
    typer.echo(f"user {name!r} disabled")


@users_app.command("demo")
def users_demo(
    database: DatabaseOpt = None,
    name: Annotated[str, typer.Option(help="Name of the demo account.")] = "demo",
    host: Annotated[str, typer.Option(help="Address `allpath serve` will listen on.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port `allpath serve` will listen on.")] = 8000,
) -> None:
    """Make a demo account with a random password (printed once) and store the fictional
    example patients, then print how to open the web application. For trying ALLPath; not
    for real patients."""
    import json
    import secrets

    from sqlalchemy import select

    from allpath.api.patients import store_assessment
    from allpath.db import Database, Patient, RecordVersion
    from allpath.examples import example_paths
    from allpath.record import load_record
    from allpath.record.load import load_yaml_text
    from allpath.web.accounts import add_user

    password = secrets.token_urlsafe(12)
    db = Database(url_option(database))
    added: list[str] = []
    try:
        with db.transaction() as session:
            add_user(session, name, password, replace=True)
            for path in example_paths():
                record = load_record(path)
                if session.scalars(select(Patient.id).where(
                        Patient.external_id == record.id)).first() is not None:
                    continue
                data = json.loads(json.dumps(load_yaml_text(
                    path.read_text(encoding="utf-8"), str(path)), default=str))
                p = Patient(external_id=record.id)
                session.add(p)
                session.flush()
                session.add(RecordVersion(patient_id=p.id, version=1, record=data,
                                          reason="created"))
                session.flush()
                store_assessment(session, p.id, 1, record)
                added.append(record.id)
    finally:
        db.dispose()
    typer.echo(f"example patients stored: {', '.join(added) if added else 'already there'}")
    typer.echo(f"demo account: {name}  password: {password}  (shown once)")
    typer.echo(f"start the service with `allpath serve --host {host} --port {port}` (same "
               f"--database), then open http://{host}:{port}/app and sign in")
