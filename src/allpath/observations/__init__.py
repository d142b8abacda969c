"""Observations: the analyte catalogue and normalisation to canonical units on a timeline."""

from __future__ import annotations

from allpath.observations.catalogue import Analyte, Catalogue, load_catalogue
from allpath.observations.normalise import NormalObservation, Timeline, normalise

__all__ = [
    "Analyte",
    "Catalogue",
    "NormalObservation",
    "Timeline",
    "load_catalogue",
    "normalise",
]
