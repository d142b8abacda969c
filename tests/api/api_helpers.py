"""Helpers of the API tests: the bundled demo patients as JSON documents (from support)."""

from __future__ import annotations

from support import example_doc, example_docs

__all__ = ["example_doc", "example_docs"]
