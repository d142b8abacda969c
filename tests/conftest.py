"""Shared fixtures: where the project's shared folder (vignettes, data) lives."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import shared_dir


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if path is None:
        pytest.skip("the shared folder (../shared) is not present")
    return path
