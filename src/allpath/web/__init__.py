"""The web page for clinicians and families: a thin layer over the library (no clinical logic).

``create_web_app()`` returns a FastAPI application that serves two pages and the small JSON
endpoints they call. It stores nothing; ``allpath web`` runs it on 127.0.0.1 by default.
``mount_web(app)`` adds the signed-in clinician application (``allpath.web.clinic``) and the
family page to the API service (``allpath serve``); see docs/web.md.
"""

from __future__ import annotations

from allpath.web.app import create_web_app, mount_web, web_router

__all__ = ["create_web_app", "mount_web", "web_router"]
