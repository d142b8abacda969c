"""Registers every sub-command on the shared Typer app."""

from __future__ import annotations

from allpath.cli import pathway as _pathway  # noqa: F401  (registers assess, demo, explain)
from allpath.cli.app import app
from allpath.cli.rules import app as _rules_app

app.add_typer(_rules_app, name="rules")

from allpath.cli.simulate import app as _simulate_app  # noqa: E402

app.add_typer(_simulate_app, name="simulate")

from allpath.cli import roadmap as _roadmap  # noqa: E402,F401  (registers roadmap)
from allpath.cli import titrate as _titrate  # noqa: E402,F401  (registers titrate)

for _module in ("guide", "screen", "triage", "examples"):  # registers guide, screen, triage
    # (issue 4) and examples (issue 17)
    __import__(f"allpath.cli.{_module}")

from allpath.cli import serve as _serve  # noqa: E402  (registers serve)

app.add_typer(_serve.tokens_app, name="tokens")
app.add_typer(__import__("allpath.cli.users", fromlist=["users_app"]).users_app, name="users")

from allpath.cli import export as _export  # noqa: E402,F401  (registers export)
from allpath.cli import web as _web  # noqa: E402,F401
from allpath.cli.trials import app as _trials_app  # noqa: E402

app.add_typer(_trials_app, name="trials")
