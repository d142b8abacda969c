"""The documentation stays true to the code.

* the generated reference pages and schemas are current (``scripts/gen_docs.py --check``);
* every assessment of the bundled examples and of the shared pathway vignettes validates
  against the hand-written ``docs/schema/assessment.schema.json``;
* every bundled example record validates against the generated
  ``docs/schema/record.schema.json``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from allpath.examples import example_paths
from allpath.pipeline import assess
from allpath.record.load import parse_record
from support import load_yaml, shared_dir

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "docs" / "schema"
_SHARED = shared_dir()
VIGNETTES = (_SHARED or ROOT.parent / "shared") / "vignettes" / "pathway"


def _schema(name: str) -> Any:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _json_ready(value: Any) -> Any:
    """YAML data as JSON would carry it: dates become ISO strings."""

    def default(obj: Any) -> str:
        if isinstance(obj, dt.date | dt.datetime):
            return obj.isoformat()
        raise TypeError(f"not JSON serialisable: {obj!r}")

    return json.loads(json.dumps(value, default=default))


def _errors(validator: Any, doc: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))
    ]


def _example_docs() -> list[tuple[str, Any]]:
    return [
        (p.name, load_yaml(p.read_text(encoding="utf-8"))) for p in example_paths()
    ]


def _vignette_records() -> list[tuple[str, Any]]:
    if not VIGNETTES.is_dir():
        return []
    out = []
    for p in sorted(VIGNETTES.glob("*.yaml")):
        doc = load_yaml(p.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and "record" in doc:
            out.append((p.name, doc["record"]))
    return out


def test_generated_docs_are_current() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _report_script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "_sim_validation_report", ROOT / "scripts" / "sim_validation_report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gen_docs_check_fails_on_a_stale_simulator_validation_report(tmp_path: Path) -> None:
    """docs/simulator/validation.md is under ``gen_docs.py --check``: a copy of the generated
    files whose report differs in one simulated figure is reported stale, and only the report."""
    rel = Path("docs") / "simulator" / "validation.md"
    for path in (ROOT / "docs").rglob("*"):
        if path.is_file():
            dest = tmp_path / path.relative_to(ROOT)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(path.read_bytes())
    text = (tmp_path / rel).read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `rowe2005_adult_cr`"))
    cells = row.split(" | ")
    cells[4] = f"{float(cells[4]) + 0.001:.3f}"
    (tmp_path / rel).write_text(text.replace(row, " | ".join(cells)), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check", "--root",
         str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    stale = [line.strip("- ").strip() for line in proc.stderr.splitlines()[1:]]
    assert stale == [str(rel)], proc.stderr


def test_simulator_validation_cache_key_changes_with_any_model_file(tmp_path: Path) -> None:
    """The report's cached metrics are keyed by a digest of src/allpath: editing one parameter
    file gives another key, so a cached run never stands in for a changed model."""
    script = _report_script()
    src = ROOT / "src" / "allpath"
    for path in src.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            dest = tmp_path / path.relative_to(ROOT)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(path.read_bytes())
    before = script.inputs_digest(tmp_path)
    assert before == script.inputs_digest(ROOT)
    params = tmp_path / "src" / "allpath" / "knowledge" / "sim" / "parameters.yaml"
    params.write_text(params.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert script.inputs_digest(tmp_path) != before


def test_there_are_examples() -> None:
    assert len(_example_docs()) >= 1


@pytest.mark.parametrize(("name", "doc"), _example_docs(), ids=lambda v: str(v)[:40])
def test_example_assessment_matches_schema(name: str, doc: Any) -> None:
    validator = _schema("assessment.schema.json")
    record = parse_record(doc, source=name)
    out = json.loads(json.dumps(assess(record).to_dict()))
    assert _errors(validator, out) == []


@pytest.mark.parametrize(("name", "doc"), _example_docs(), ids=lambda v: str(v)[:40])
def test_example_record_matches_schema(name: str, doc: Any) -> None:
    validator = _schema("record.schema.json")
    assert _errors(validator, _json_ready(doc)) == []


@pytest.mark.skipif(not VIGNETTES.is_dir(),
                    reason=f"the shared folder (../shared) is not present: {VIGNETTES}")
@pytest.mark.parametrize(
    ("name", "doc"), _vignette_records() or [("none", None)], ids=lambda v: str(v)[:40]
)
def test_vignette_assessment_matches_schema(name: str, doc: Any) -> None:
    if doc is None:
        pytest.skip("no vignette records")
    validator = _schema("assessment.schema.json")
    record = parse_record(doc, source=name)
    out = json.loads(json.dumps(assess(record).to_dict()))
    assert _errors(validator, out) == []


def test_record_schema_rejects_an_unknown_field() -> None:
    validator = _schema("record.schema.json")
    bad = {"format": "allpath.record/1", "id": "x", "colour": "red"}
    assert _errors(validator, bad)


def test_assessment_schema_rejects_a_wrong_enum() -> None:
    validator = _schema("assessment.schema.json")
    name, doc = _example_docs()[0]
    out = json.loads(json.dumps(assess(parse_record(doc, source=name)).to_dict()))
    out["diagnosis"]["status"] = "probably_ALL"
    out["risk"][0]["group"] = "medium"
    errors = _errors(validator, out)
    assert any(e.startswith("diagnosis/status") for e in errors)
    assert any(e.startswith("risk/0/group") for e in errors)
