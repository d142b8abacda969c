"""Classification helpers that turn raw genetics text into facts (the decisions are packs)."""

from __future__ import annotations

from allpath.classification.karyotype import KaryotypeReading, read_karyotype

__all__ = ["KaryotypeReading", "read_karyotype"]
