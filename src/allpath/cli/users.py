"""``allpath users``: accounts of the web application (``allpath serve``): add, list,
disable. Passwords are asked for (or read from stdin) and stored only as Argon2 hashes."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from allpath.cli.serve import DatabaseOpt, _url

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
    db = Database(_url(database))
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

    db = Database(_url(database))
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

    db = Database(_url(database))
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
