"""Download current ALL studies from the ClinicalTrials.gov API v2 into a local snapshot.

``allpath trials update`` asks the ``/api/v2/studies`` endpoint for studies on acute
lymphoblastic leukemia with an open status, page by page (``pageToken`` / ``nextPageToken``),
retrying a page that fails for a network error, a 429 or a 5xx answer (with a growing wait),
and stores each page unchanged as ``page-0001.json``... in the snapshot folder. Every page is
read with the project's own API v2 reader before anything is replaced, so a broken download
never spoils the snapshot in use. The API v2 records carry the eligibility criteria text,
exact ages and site coordinates, which the CSV export lacks.

The folder is what ``allpath trials match`` reads by default once it exists
(:func:`local_snapshot_dir`); ``--trials`` and ``ALLPATH_TRIALS`` still take precedence.

Beside the pages the folder holds ``snapshot.yaml`` (:data:`MANIFEST`): when, from where and
what was asked, how many pages and studies were stored and how many the registry reported, and
whether the listing was read to its end. A download stopped early by ``max_pages`` is stored,
but marked ``complete: false``, so that whoever reads it later (``trials match``) can say that
studies are missing instead of screening a part as if it were the whole.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from allpath.errors import Problem, TrialDataError
from allpath.trials.load import read_ctgov_json

__all__ = ["API_URL", "MANIFEST", "OPEN_STATUSES", "SnapshotInfo", "UpdateError",
           "UpdateResult", "download_studies", "local_snapshot_dir", "read_snapshot_info"]

API_URL = "https://clinicaltrials.gov/api/v2/studies"
OPEN_STATUSES = ("RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION", "AVAILABLE")
_RETRY_STATUS = {429, 500, 502, 503, 504}
MANIFEST = "snapshot.yaml"  # not a trial-file suffix, so the trial readers pass over it

Fetch = Callable[[str, float], bytes]
Progress = Callable[[int, int | None], None]


class UpdateError(RuntimeError):
    """The download failed; the snapshot in use was not changed."""


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """What a download stored."""

    folder: Path
    pages: int
    studies: int
    total: int | None
    complete: bool = True


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """What ``snapshot.yaml`` says about a snapshot folder."""

    folder: Path
    complete: bool
    pages: int
    studies: int
    total: int | None
    downloaded_at: str
    url: str

    def describe(self) -> str:
        """One line for a person: what the snapshot holds and, when partial, what to do."""
        total = f" of {self.total}" if self.total is not None else ""
        when = self.downloaded_at[:10]
        if self.complete:
            return f"{self.studies}{total} studies downloaded on {when}"
        return (f"a partial snapshot: {self.studies}{total} studies in {self.pages} page(s), "
                f"downloaded on {when} with a page limit; studies after the last page are "
                f"missing. Run 'allpath trials update' without --max-pages for all of them")


def read_snapshot_info(folder: Path) -> SnapshotInfo | None:
    """The manifest of a snapshot folder, or ``None`` when it has none (a folder of trial
    files put together by hand, or a snapshot from before manifests).

    Raises:
        TrialDataError: the manifest exists but is not a readable mapping with the fields
            this module writes.
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    import yaml

    def fail(problems: list[Problem]) -> TrialDataError:
        return TrialDataError(problems, source=str(path))

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise fail([Problem("", f"unreadable snapshot manifest: {exc}",
                            source=str(path))]) from exc
    if not isinstance(doc, dict):
        raise fail([Problem("", "the snapshot manifest is not a mapping", expected="a mapping",
                            got=type(doc).__name__, source=str(path))])
    fields = {"complete": bool, "pages": int, "studies": int, "downloaded_at": str, "url": str}
    bad = [Problem(key, "missing or of the wrong type", expected=kind.__name__,
                   got=type(doc.get(key)).__name__, source=str(path))
           for key, kind in fields.items() if not isinstance(doc.get(key), kind)]
    total = doc.get("total")
    if total is not None and (isinstance(total, bool) or not isinstance(total, int)):
        bad.append(Problem("total", "of the wrong type", expected="an integer or null",
                           got=type(total).__name__, source=str(path)))
    if bad:
        raise fail(bad)
    return SnapshotInfo(Path(folder), doc["complete"], doc["pages"], doc["studies"], total,
                        doc["downloaded_at"], doc["url"])


def local_snapshot_dir() -> Path:
    """Where ``allpath trials update`` keeps its snapshot (``$XDG_DATA_HOME/allpath/trials``,
    by default ``~/.local/share/allpath/trials``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "allpath" / "trials"


def _fetch(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   "User-Agent": "allpath-trials-update"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        data: bytes = response.read()
        return data


def _page_url(base_url: str, condition: str, statuses: Sequence[str], page_size: int,
              token: str | None) -> str:
    params = {"query.cond": condition, "filter.overallStatus": "|".join(statuses),
              "pageSize": str(page_size), "format": "json", "countTotal": "true"}
    if token:
        params["pageToken"] = token
    return f"{base_url}?{urllib.parse.urlencode(params)}"


def _get(url: str, fetch: Fetch, retries: int, backoff: float, timeout: float) -> bytes:
    for attempt in range(retries + 1):
        try:
            return fetch(url, timeout)
        except urllib.error.HTTPError as exc:
            if exc.code not in _RETRY_STATUS or attempt == retries:
                raise UpdateError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if attempt == retries:
                raise UpdateError(f"{url}: {exc}") from exc
        except ValueError as exc:  # not a URL at all (also http.client.InvalidURL): no retry
            raise UpdateError(f"{url}: {exc}") from exc
        time.sleep(backoff * (2 ** attempt))
    raise UpdateError(f"{url}: no answer")  # unreachable: the loop returns or raises


def download_studies(out: Path | None = None, *, base_url: str = API_URL,
                     condition: str = "acute lymphoblastic leukemia",
                     statuses: Sequence[str] = OPEN_STATUSES, page_size: int = 100,
                     max_pages: int | None = None, retries: int = 3, backoff: float = 1.0,
                     timeout: float = 30.0, fetch: Fetch = _fetch,
                     progress: Progress | None = None) -> UpdateResult:
    """Download every page into ``out`` (replaced only when all pages were read cleanly)."""
    if not 1 <= page_size <= 1000:
        raise ValueError(f"page_size: expected 1 to 1000, got {page_size}")
    folder = out or local_snapshot_dir()
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".update-", dir=folder.parent))
    try:
        token: str | None = None
        pages = studies = 0
        total: int | None = None
        while True:
            url = _page_url(base_url, condition, statuses, page_size, token)
            raw = _get(url, fetch, retries, backoff, timeout)
            try:
                doc: Any = json.loads(raw)
            except ValueError as exc:
                raise UpdateError(f"{url}: not JSON ({exc})") from exc
            if not isinstance(doc, dict) or not isinstance(doc.get("studies"), list):
                raise UpdateError(f"{url}: expected an API v2 page with a 'studies' list")
            pages += 1
            path = work / f"page-{pages:04d}.json"
            path.write_bytes(raw)
            try:
                studies += len(read_ctgov_json(path))
            except TrialDataError as exc:
                raise UpdateError(f"{url}: {exc}") from exc
            if isinstance(doc.get("totalCount"), int):
                total = doc["totalCount"]
            if progress is not None:
                progress(studies, total)
            token = doc.get("nextPageToken") or None
            if token is None or (max_pages is not None and pages >= max_pages):
                break
        complete = token is None
        _write_manifest(work / MANIFEST, complete=complete, pages=pages, studies=studies,
                        total=total, url=_page_url(base_url, condition, statuses, page_size,
                                                   None), max_pages=max_pages)
        from allpath.io import replace_dir  # old snapshot kept until the new one is in place

        replace_dir(work, folder)
        return UpdateResult(folder, pages, studies, total, complete)
    finally:
        if work.exists():
            shutil.rmtree(work)


def _write_manifest(path: Path, *, complete: bool, pages: int, studies: int, total: int | None,
                    url: str, max_pages: int | None) -> None:
    import yaml

    doc = {"complete": complete, "pages": pages, "studies": studies, "total": total,
           "max_pages": max_pages,
           "downloaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
           "url": url}
    path.write_text("# written by 'allpath trials update'\n"
                    + yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
