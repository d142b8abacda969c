"""Outputs: the Assessment and its serialisers (JSON, text, markdown).

The names below load on first use (PEP 562), so that a command importing only
:mod:`allpath.outputs.readable` (the wording helpers) does not load the whole pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from allpath.outputs.assessment import ASSESSMENT_FORMAT, DISCLAIMER, Assessment

__all__ = ["ASSESSMENT_FORMAT", "DISCLAIMER", "Assessment"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from allpath.outputs import assessment

        return getattr(assessment, name)
    raise AttributeError(f"module 'allpath.outputs' has no attribute {name!r}")
