"""The ALLPath REST API and CDS Hooks services (FastAPI): ``create_app(database_url)``.

>>> from allpath.api import create_app
>>> app = create_app("sqlite:///./allpath.db")      # doctest: +SKIP
"""

from __future__ import annotations

from allpath.api.app import create_app
from allpath.api.deps import Settings

__all__ = ["Settings", "create_app"]
