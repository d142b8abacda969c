"""allpath.io: outputs appear whole or not at all, and a failed write keeps the previous one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from allpath.io import (
    atomic_output,
    replace_dir,
    temp_path_for,
    write_bytes_atomic,
    write_text_atomic,
)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_success_renames_the_temporary_file_onto_the_target(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with atomic_output(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".out.")
        assert tmp.suffix == ".csv"  # writers that choose a format by suffix still work
        tmp.write_text("new\n")
        assert target.read_text() == "old\n"  # not visible until the body finished
    assert target.read_text() == "new\n"
    assert _leftovers(tmp_path) == []


def test_failure_mid_write_keeps_the_previous_file_byte_identical(tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    before = os.urandom(4096)
    target.write_bytes(before)
    with pytest.raises(RuntimeError, match="disk went away"), atomic_output(target) as tmp:
        with tmp.open("wb") as fh:
            fh.write(b"PAR1 half a file")
        raise RuntimeError("disk went away")
    assert target.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_interrupt_keeps_no_new_file_when_there_was_none(tmp_path: Path) -> None:
    target = tmp_path / "cohort.parquet"
    with pytest.raises(KeyboardInterrupt), atomic_output(target) as tmp:
        tmp.write_bytes(b"partial")
        raise KeyboardInterrupt
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_a_body_that_writes_nothing_is_an_error_naming_the_target(tmp_path: Path) -> None:
    target = tmp_path / "out.ics"
    with pytest.raises(FileNotFoundError, match=r"out\.ics: nothing was written"), \
            atomic_output(target):
        pass
    assert not target.exists()


def test_write_helpers_fail_safe_when_the_write_itself_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text_target, bytes_target = tmp_path / "bundle.json", tmp_path / "plan.ics"
    text_target.write_text('{"old": true}\n')
    bytes_target.write_bytes(b"BEGIN:VCALENDAR old")

    def half_then_fail(self: Path, data: object, *args: object, **kwargs: object) -> int:
        with self.open("wb") as fh:
            fh.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_fail)
    monkeypatch.setattr(Path, "write_bytes", half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        write_text_atomic(text_target, '{"new": true}\n')
    with pytest.raises(OSError, match="No space left"):
        write_bytes_atomic(bytes_target, b"BEGIN:VCALENDAR new")
    monkeypatch.undo()
    assert text_target.read_text() == '{"old": true}\n'
    assert bytes_target.read_bytes() == b"BEGIN:VCALENDAR old"
    assert _leftovers(tmp_path) == []


def test_temp_names_are_unique_and_hidden(tmp_path: Path) -> None:
    names = {temp_path_for(tmp_path / "x.parquet").name for _ in range(50)}
    assert len(names) == 50
    assert all(n.startswith(".x.") and n.endswith(".tmp.parquet") for n in names)


def test_replace_dir_swaps_folders_and_rolls_back_a_failed_swap(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = tmp_path / "snapshot", tmp_path / ".work"
    old.mkdir()
    (old / "page-0001.json").write_text("old")
    new.mkdir()
    (new / "page-0001.json").write_text("new")
    real_replace = Path.replace

    def refuse_new(self: Path, target: str | os.PathLike[str]) -> Path:
        if self == new:
            raise OSError(18, "Invalid cross-device link")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", refuse_new)
    with pytest.raises(OSError, match="cross-device"):
        replace_dir(new, old)
    assert (old / "page-0001.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".work", "snapshot"]
    monkeypatch.undo()
    replace_dir(new, old)
    assert (old / "page-0001.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snapshot"]
