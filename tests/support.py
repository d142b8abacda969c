"""Helpers shared by test modules (kept out of conftest so modules can import them)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def load_yaml(stream: Any) -> Any:
    """Safe YAML with libyaml's loader where PyYAML has it (the same documents as
    ``yaml.safe_load``, about eight times faster: the suite reads hundreds of case files)."""
    return yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def shared_dir() -> Path | None:
    """The shared folder beside the repository (or $ALLPATH_SHARED), if present."""
    env = os.environ.get("ALLPATH_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared", REPO.parent.parent / "shared"]
    for c in candidates:
        if (c / "vignettes").is_dir():
            return c
    return None


def example_docs() -> list[dict[str, Any]]:
    """The bundled example records as JSON-ready dicts (dates as ISO strings)."""
    from allpath.examples import example_paths

    out = []
    for p in example_paths():
        doc = load_yaml(p.read_text(encoding="utf-8"))
        out.append(json.loads(json.dumps(doc, default=str)))
    return out


def example_doc(record_id: str) -> dict[str, Any]:
    """One bundled example record by its id, as a JSON-ready dict."""
    return next(d for d in example_docs() if d["id"] == record_id)


def synthetic_cbc_rows(n: int, seed: int) -> Any:
    """``n`` seeded synthetic CBC rows (a pyarrow Table with the screening columns), for the
    cluster and screening tests."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    return pa.table({
        "patient_id": [f"p{seed}-{i}" for i in range(n)],
        "age_years": rng.uniform(0.5, 80, n).round(1),
        "sex": rng.choice(["female", "male"], n),
        "time": ["2026-01-01"] * n,
        "wbc": rng.lognormal(1.8, 0.8, n).round(2),
        "hemoglobin": rng.normal(11, 3, n).clip(3, 19).round(1),
        "platelets": rng.lognormal(5.0, 0.8, n).round(0),
        "anc": rng.lognormal(0.8, 0.9, n).round(2),
    })


POSTGRES_ENV = "ALLPATH_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    """A wiped PostgreSQL database for one test, or None when ``$ALLPATH_TEST_POSTGRES_URL``
    is not set (the caller skips; under CI a skip is a failure).

    Under pytest-xdist each worker gets a database of its own (``<name>_gw0``, ...), made on
    first use on the server of the given URL (its user needs CREATEDB, as .ci/run grants), so
    that workers never wipe each other's tables. Every table is dropped before returning.
    """
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        return None
    from sqlalchemy import MetaData, create_engine, make_url, text

    from allpath.db.engine import _normalise

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        base = make_url(_normalise(url))
        name = f"{base.database}_{worker}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                      {"n": name}).first()
                if exists is None:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(_normalise(url))
    try:
        with engine.begin() as conn:
            meta = MetaData()
            meta.reflect(conn)
            meta.drop_all(conn)
    finally:
        engine.dispose()
    return url


CLINICAL_CASES = REPO / "tests" / "clinical" / "independent_cases"


def assessed_case(case: Path) -> Any:
    """The ``Assessment`` of a worked case file's ``record``."""
    from allpath import assess, parse_record

    doc = load_yaml(case.read_text(encoding="utf-8"))
    return assess(parse_record(doc["record"], source=str(case)))


def assessed_prefix(cases: list[Path], prefix: str) -> dict[str, Any]:
    """The assessment (as a dict) of the worked case among ``cases`` whose name starts with
    ``prefix`` (``rvz03``)."""
    case = next(c for c in cases if c.stem.startswith(prefix))
    out: dict[str, Any] = assessed_case(case).to_dict()
    return out


def risk_entry(out: dict[str, Any], scheme: str) -> dict[str, Any]:
    """The ``risk`` entry of an assessment dict for one scheme."""
    entry: dict[str, Any] = next(r for r in out["risk"] if r["scheme"] == scheme)
    return entry


def case_failures(case: Path) -> list[str]:
    """A worked case file (``record`` + ``expected`` paths) run through ``assess``: one message
    per expectation the assessment does not meet (empty when it meets them all)."""
    from expectations import check

    doc = load_yaml(case.read_text(encoding="utf-8"))
    return check(assessed_case(case).to_dict(), doc.get("expected") or {})


def case_params(cases: list[Path], known: dict[str, str]) -> list[Any]:
    """One pytest parameter per worked case file, named by its stem; a case named in
    ``known`` is a strict xfail whose reason is the text given (it fails loudly once it
    passes)."""
    return [pytest.param(c, id=c.stem, marks=pytest.mark.xfail(reason=known[c.stem],
                                                               strict=True))
            if c.stem in known else pytest.param(c, id=c.stem) for c in cases]


def table_params(cases: list[dict[str, Any]], known: dict[str, str]) -> list[Any]:
    """One pytest parameter per case of a case table (``allpath.triage-cases/1``), named by
    its ``id``; a case named in ``known`` is a strict xfail whose reason is the text given."""
    return [pytest.param(c, id=c["id"], marks=pytest.mark.xfail(reason=known[c["id"]],
                                                                strict=True))
            if c["id"] in known else pytest.param(c, id=c["id"]) for c in cases]

