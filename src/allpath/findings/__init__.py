"""Findings: base facts derived from the record (the named clinical findings are packs)."""

from __future__ import annotations

from allpath.findings.base import BaseFacts, base_facts, calendar_age

__all__ = ["BaseFacts", "base_facts", "calendar_age"]
