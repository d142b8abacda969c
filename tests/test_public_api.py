"""The public API is explicit (``__all__``) and every name in it exists."""

from __future__ import annotations

import allpath


def test_public_names_exist_and_are_listed() -> None:
    assert sorted(allpath.__all__) == sorted(set(allpath.__all__))
    for name in allpath.__all__:
        assert hasattr(allpath, name), name
    for needed in ("assess", "assess_file", "load_record", "parse_record", "RecordError"):
        assert needed in allpath.__all__
