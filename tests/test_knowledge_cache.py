"""The content-addressed JSON cache of parsed knowledge YAML (allpath.knowledge.parse_yaml)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from allpath.knowledge import CACHE_ENV, cache_dir, parse_yaml
from support import load_yaml

PACK = "id: demo\nthresholds: {wbc: 50.0, age: 10, inf: .inf}\nlist: [a, 1, true, null]\n"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    return tmp_path / "knowledge"


def test_a_cached_document_reads_back_exactly_as_yaml_parses_it(cache: Path) -> None:
    first = parse_yaml(PACK)
    assert len(list(cache.glob("*.json"))) == 1
    again = parse_yaml(PACK)  # from the cache
    assert again == first == load_yaml(PACK)
    assert isinstance(again["thresholds"]["age"], int)
    assert isinstance(again["thresholds"]["wbc"], float)


def test_a_changed_text_never_reads_the_old_entry(cache: Path) -> None:
    parse_yaml(PACK)
    changed = parse_yaml(PACK.replace("50.0", "20.0"))
    assert changed["thresholds"]["wbc"] == 20.0
    assert len(list(cache.glob("*.json"))) == 2


def test_an_unreadable_entry_is_parsed_again_and_replaced(cache: Path) -> None:
    parse_yaml(PACK)
    (entry,) = cache.glob("*.json")
    entry.write_text('{"id": "dem', encoding="utf-8")  # a truncated file
    assert parse_yaml(PACK) == load_yaml(PACK)
    assert parse_yaml(PACK) == load_yaml(PACK)


def test_a_document_json_cannot_hold_exactly_is_not_cached(cache: Path) -> None:
    doc = parse_yaml("when: 2026-12-07\n")
    assert doc == {"when": dt.date(2026, 12, 7)}
    assert not cache.exists() or not list(cache.glob("*.json"))


def test_off_turns_the_cache_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    assert cache_dir() is None
    assert parse_yaml(PACK) == load_yaml(PACK)


def test_a_cache_folder_that_cannot_be_written_only_means_no_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(CACHE_ENV, str(blocker))
    assert parse_yaml(PACK) == load_yaml(PACK)
