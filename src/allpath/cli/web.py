"""``allpath web``: the web page for clinicians and families (no database, loopback default)."""

from __future__ import annotations

from typing import Annotated

import typer

from allpath.cli.app import app


@app.command()
def web(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
) -> None:
    """Serve the web page: clinician assessment at /, symptom check and guide at /family."""
    import uvicorn

    from allpath.web import create_web_app

    typer.echo(f"ALLPath web page on http://{host}:{port}/ (family page: /family)")
    uvicorn.run(create_web_app(), host=host, port=port, log_level="warning", http="httptools",
                loop="uvloop")
