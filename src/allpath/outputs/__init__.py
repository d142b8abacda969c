"""Outputs: the Assessment and its serialisers (JSON, text, markdown)."""

from __future__ import annotations

from allpath.outputs.assessment import ASSESSMENT_FORMAT, DISCLAIMER, Assessment

__all__ = ["ASSESSMENT_FORMAT", "DISCLAIMER", "Assessment"]
