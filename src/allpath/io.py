"""Output files that are either complete or absent: write to a temporary file, then rename.

Every command that writes a result (screen output and bad-row report, cohort Parquet, synthetic
records, FHIR exports, .ics calendars, the trials snapshot) writes it through
:func:`atomic_output`: the data go to a hidden temporary file in the target's own folder
(``.NAME.<random>.tmp<suffix>``, same file system, so the rename is atomic) and
:func:`os.replace` puts it in place only when the writing code finished without an error. On
any error, including ``KeyboardInterrupt`` and a lost Dask scheduler, the temporary file is
removed and the previous output, if there was one, stays byte for byte as it was. A reader
therefore never sees a truncated file that looks complete.

The temporary name keeps the target's suffix so that writers which pick a format from the file
name (matplotlib) write the right format; it starts with a dot, which Arrow datasets and
:func:`allpath.screen.run.parquet_parts` skip.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_output", "replace_dir", "temp_path_for", "write_bytes_atomic",
           "write_text_atomic"]

StrPath = str | os.PathLike[str]


def temp_path_for(target: StrPath) -> Path:
    """A fresh hidden temporary name beside ``target`` (not created)."""
    t = Path(target)
    return t.with_name(f".{t.stem}.{secrets.token_hex(6)}.tmp{t.suffix}")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a platform that cannot open folders (Windows): nothing to sync
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder; the rename stands
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_output(path: StrPath, *, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    The body must create the temporary file (open it, or hand the path to a writer). When the
    body raises, the temporary file is removed and the exception propagates; ``path`` is not
    touched. With ``durable`` the file (and its folder, after the rename) is fsynced, so a
    power cut does not leave an empty file under the final name either.

    Raises :class:`FileNotFoundError` naming the target when the body left no file (a bug in
    the caller: nothing was written).
    """
    target = Path(path)
    tmp = temp_path_for(target)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"{target}: nothing was written (no {tmp.name})")
        if durable:
            _fsync_file(tmp)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(target.parent)


def write_bytes_atomic(path: StrPath, data: bytes) -> None:
    """``Path(path).write_bytes(data)``, all or nothing."""
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: StrPath, text: str, encoding: str = "utf-8") -> None:
    """``Path(path).write_text(text)``, all or nothing."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding=encoding)


def replace_dir(new: StrPath, target: StrPath) -> None:
    """Put the finished folder ``new`` in place of ``target`` (same parent folder).

    The old folder is first renamed aside, then ``new`` renamed onto ``target``, then the old
    one deleted; if the second rename fails the old folder is renamed back, so ``target`` is
    either the old folder or the new one, never a mix and never lost.
    """
    src, dst = Path(new), Path(target)
    if not dst.exists():
        src.replace(dst)
        return
    aside = dst.with_name(f".{dst.name}.{secrets.token_hex(6)}.old")
    dst.replace(aside)
    try:
        src.replace(dst)
    except BaseException:
        aside.replace(dst)
        raise
    shutil.rmtree(aside)
