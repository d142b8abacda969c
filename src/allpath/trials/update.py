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
"""

from __future__ import annotations

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

from allpath.errors import TrialDataError
from allpath.trials.load import read_ctgov_json

__all__ = ["API_URL", "OPEN_STATUSES", "UpdateError", "UpdateResult", "download_studies",
           "local_snapshot_dir"]

API_URL = "https://clinicaltrials.gov/api/v2/studies"
OPEN_STATUSES = ("RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION", "AVAILABLE")
_RETRY_STATUS = {429, 500, 502, 503, 504}

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
        from allpath.io import replace_dir  # old snapshot kept until the new one is in place

        replace_dir(work, folder)
        return UpdateResult(folder, pages, studies, total)
    finally:
        if work.exists():
            shutil.rmtree(work)
