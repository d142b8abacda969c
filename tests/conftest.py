"""Shared fixtures, and the rule that a CI run never passes by skipping.

Where the project's shared folder (vignettes, data) lives: ``support.shared_dir``.

Under CI (``CI=true``, as ``.ci/run`` runs, or ``ALLPATH_STRICT_SKIPS=1``) every skipped test
is reported as a failure: acceptance data, the browser, PostgreSQL and optional libraries must
all be there. The only skips allowed are those ``.ci/run`` announces itself when a service
could not be had (``ALLPATH_ALLOW_SKIP`` lists words of their reasons, e.g. ``PostgreSQL``),
and the platform skips listed in ``PLATFORM_SKIPS``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from support import shared_dir

if TYPE_CHECKING:
    from allpath.db import Database

STRICT = os.environ.get("CI", "").lower() == "true" or os.environ.get("ALLPATH_STRICT_SKIPS") == "1"
# skips that depend on the operating system, never on a missing install
PLATFORM_SKIPS = ("needs SIGKILL",)


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if path is None:
        pytest.skip("the shared folder (../shared) is not present")
    return path


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Database]:
    """Makes a fresh SQLite database at the schema head at a given path: the migrations run
    once per session into a template file and each call copies that file, which is what they
    would have written (about 40 ms saved per database). Tests of migrating itself make their
    own ``Database``."""
    from allpath.db import Database

    template = tmp_path_factory.mktemp("sqlite-template") / "head.db"
    Database(f"sqlite:///{template}").dispose()
    leftovers = [p.name for p in template.parent.iterdir() if p != template]
    assert not leftovers, f"the template database is not one closed file: {leftovers}"

    def make(path: Path) -> Database:
        assert not path.exists(), path
        shutil.copyfile(template, path)
        return Database(f"sqlite:///{path}", migrate=False)

    return make


def _allowed(reason: str) -> bool:
    announced = [w.strip() for w in os.environ.get("ALLPATH_ALLOW_SKIP", "").split(",")
                 if w.strip()]
    return any(w in reason for w in (*PLATFORM_SKIPS, *announced))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not (STRICT and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else \
        str(report.longrepr)
    if _allowed(reason):
        return
    report.outcome = "failed"
    report.longrepr = (f"skipped under CI, which must provide what this test needs: {reason}. "
                       "A CI run never passes by skipping (tests/conftest.py).")


_SIM_TESTS = Path(__file__).parent / "sim"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Groups for pytest-xdist's ``--dist loadgroup`` (``make test``): one group per test file,
    as ``--dist loadfile`` would make, except that every file under tests/sim/ is one group,
    so that the cohorts of tests/sim/conftest.py (session fixtures) are simulated by one
    worker only instead of once per worker."""
    for item in items:
        path = Path(str(item.path))
        group = "sim" if _SIM_TESTS in path.parents else str(path)
        item.add_marker(pytest.mark.xdist_group(group))
