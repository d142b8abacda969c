"""FHIR exports, .ics calendars and the trials snapshot fail safe: a write that fails part way
leaves the previous file or folder byte for byte as it was, and nothing temporary behind
(issue 20, part 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from allpath.cli.app import app
from allpath.cli.commands import app as _registered  # noqa: F401
from allpath.examples import example_paths
from allpath.trials.update import UpdateError, download_studies

EX1 = next(p for p in example_paths() if p.stem == "example-001")


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*"))


def _half_then_disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """Path.write_text / write_bytes write half of their data, then the disk is full."""

    def half(self: Path, data: Any, *args: Any, **kwargs: Any) -> int:
        raw = data.encode() if isinstance(data, str) else data
        with self.open("wb") as fh:
            fh.write(raw[: len(raw) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half)
    monkeypatch.setattr(Path, "write_bytes", half)


def test_fhir_export_failing_mid_write_keeps_previous_bundle(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "bundle.json"
    runner = CliRunner()
    ok = runner.invoke(app, ["export", str(EX1), "--fhir", str(out)])
    assert ok.exit_code == 0, ok.output
    before = out.read_bytes()
    assert json.loads(before)["resourceType"] == "Bundle"
    _half_then_disk_full(monkeypatch)
    failed = runner.invoke(app, ["export", str(EX1), "--fhir", str(out), "--no-roadmap"])
    monkeypatch.undo()
    assert failed.exit_code != 0
    assert out.read_bytes() == before
    assert _hidden(tmp_path) == []


def test_roadmap_ics_failing_mid_write_keeps_previous_calendar(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ics = tmp_path / "plan.ics"
    runner = CliRunner()
    ok = runner.invoke(app, ["roadmap", str(EX1), "--ics", str(ics), "--start", "2024-05-10"])
    assert ok.exit_code == 0, ok.output
    before = ics.read_bytes()
    assert before.startswith(b"BEGIN:VCALENDAR")
    _half_then_disk_full(monkeypatch)
    failed = runner.invoke(app, ["roadmap", str(EX1), "--ics", str(ics),
                                 "--start", "2025-01-06"])
    monkeypatch.undo()
    assert failed.exit_code != 0
    assert ics.read_bytes() == before
    assert _hidden(tmp_path) == []


def _page(studies: list[dict[str, Any]], token: str | None) -> bytes:
    doc: dict[str, Any] = {"studies": studies, "totalCount": 2}
    if token:
        doc["nextPageToken"] = token
    return json.dumps(doc).encode()


def _study(nct: str) -> dict[str, Any]:
    return {"protocolSection": {
        "identificationModule": {"nctId": nct, "briefTitle": f"Study {nct}"},
        "statusModule": {"overallStatus": "RECRUITING"},
        "conditionsModule": {"conditions": ["Acute Lymphoblastic Leukemia"]},
        "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n* ALL"},
    }}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))}


def test_trials_snapshot_kept_when_the_download_or_the_swap_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "snapshot"
    pages = {None: _page([_study("NCT00000001")], "t2"), "t2": _page([_study("NCT00000002")],
                                                                       None)}

    def fetch(url: str, timeout: float) -> bytes:
        return pages["t2" if "pageToken=t2" in url else None]

    first = download_studies(folder, fetch=fetch)
    assert first.pages == 2
    before = _snapshot(folder)

    def fail_on_page_two(url: str, timeout: float) -> bytes:
        if "pageToken" in url:
            raise ConnectionResetError("connection reset")
        return fetch(url, timeout)

    with pytest.raises(UpdateError, match="connection reset"):
        download_studies(folder, fetch=fail_on_page_two, retries=0, backoff=0)
    assert _snapshot(folder) == before

    real_replace = Path.replace

    def swap_fails(self: Path, target: Any) -> Path:  # the new folder cannot be moved in
        if self.name.startswith(".update-"):
            raise OSError(16, "Device or resource busy")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", swap_fails)
    with pytest.raises(OSError, match="busy"):
        download_studies(folder, fetch=fetch)
    monkeypatch.undo()
    assert _snapshot(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snapshot"]
