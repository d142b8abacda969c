"""The web page for clinicians and families: a thin layer over the library (no clinical logic).

``create_web_app()`` returns a FastAPI application that serves two pages and the small JSON
endpoints they call. It stores nothing; ``allpath web`` runs it on 127.0.0.1 by default.
"""

from __future__ import annotations

from allpath.web.app import create_web_app, web_router

__all__ = ["create_web_app", "web_router"]
