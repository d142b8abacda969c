"""Fixtures shared by the FHIR tests."""

from __future__ import annotations

import pytest

from allpath.interop.fhir.profiles import PackageSet


@pytest.fixture(scope="session")
def packages() -> PackageSet:
    """The pinned mCODE 4.0.0 package and its dependencies (``make fhir-packages``); under CI a
    missing package is a failure, not a skip (tests/conftest.py)."""
    try:
        return PackageSet()
    except FileNotFoundError as exc:
        pytest.skip(f"the pinned FHIR packages are missing: {exc}")
