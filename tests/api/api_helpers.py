"""Helpers of the API tests: the bundled demo patients as JSON documents (from support)."""

from __future__ import annotations

import datetime as dt

from support import example_doc, example_docs

__all__ = ["REFERENCE_DAY", "example_doc", "example_docs"]

#: the service's "today" in the API tests (conftest's app), so that dated cards are stable
REFERENCE_DAY = dt.date(2024, 5, 20)
