"""Typer application object shared by every sub-command module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="allpath",
    help=(
        "ALLPath: a computable, explained and cited care pathway for acute lymphoblastic "
        "leukaemia. It supports clinical decisions and never replaces a clinician."
    ),
    no_args_is_help=True,
    add_completion=False,
)
