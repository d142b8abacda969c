"""`allpath trials update` against a loopback stub that serves recorded API v2 pages."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from typer.testing import CliRunner

from allpath.trials import read_trials
from allpath.trials.update import UpdateError, download_studies, read_snapshot_info


class _Stub:
    """Serves page 1 without a token, page 2 for page 1's token; can fail first."""

    def __init__(self, shared: Path, fail_first: int = 0, final_page2: bool = True) -> None:
        folder = shared / "data" / "ctgov"
        self.page1 = (folder / "api_v2_search_page1_with_nextPageToken.json").read_bytes()
        page2 = json.loads((folder / "api_v2_search_page2.json").read_bytes())
        if final_page2:
            page2.pop("nextPageToken", None)  # the recorded page 2 is made the last one
        self.page2 = json.dumps(page2).encode()
        self.token = json.loads(self.page1)["nextPageToken"]
        self.fail_first = fail_first
        self.requests: list[dict[str, list[str]]] = []


@pytest.fixture
def stub_server(shared: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, _Stub]]:
    stub = _Stub(shared, **getattr(request, "param", {}))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            stub.requests.append(query)
            if stub.fail_first > 0:
                stub.fail_first -= 1
                self.send_response(503)
                self.end_headers()
                return
            body = stub.page2 if query.get("pageToken") == [stub.token] else stub.page1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v2/studies", stub
    finally:
        server.shutdown()
        server.server_close()


def test_pages_are_followed_and_saved_as_a_readable_snapshot(
        stub_server: tuple[str, _Stub], tmp_path: Path) -> None:
    url, stub = stub_server
    seen: list[tuple[int, int | None]] = []
    result = download_studies(tmp_path / "snap", base_url=url, page_size=5, backoff=0.0,
                              progress=lambda n, total: seen.append((n, total)))
    assert (result.pages, result.studies, result.total) == (2, 10, 21)
    assert seen == [(5, 21), (10, 21)]
    assert stub.requests[0]["query.cond"] == ["acute lymphoblastic leukemia"]
    assert stub.requests[0]["filter.overallStatus"] == [
        "RECRUITING|NOT_YET_RECRUITING|ENROLLING_BY_INVITATION|AVAILABLE"]
    assert "pageToken" not in stub.requests[0]
    assert stub.requests[1]["pageToken"] == [stub.token]
    trials = read_trials(tmp_path / "snap")
    assert len(trials) == 10
    assert sorted(p.name for p in (tmp_path / "snap").iterdir()) == [
        "page-0001.json", "page-0002.json", "snapshot.yaml"]
    info = read_snapshot_info(tmp_path / "snap")
    assert info is not None and result.complete
    assert (info.complete, info.pages, info.studies, info.total) == (True, 2, 10, 21)


@pytest.mark.parametrize("stub_server", [{"fail_first": 2}], indirect=True)
def test_a_failing_page_is_retried(stub_server: tuple[str, _Stub], tmp_path: Path) -> None:
    url, stub = stub_server
    result = download_studies(tmp_path / "snap", base_url=url, backoff=0.0, retries=3)
    assert result.pages == 2
    assert len(stub.requests) == 4  # two 503 answers, then both pages


@pytest.mark.parametrize("stub_server", [{"fail_first": 9}], indirect=True)
def test_a_failed_download_keeps_the_snapshot_in_use(stub_server: tuple[str, _Stub],
                                                     tmp_path: Path) -> None:
    url, _ = stub_server
    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "page-0001.json").write_text('{"studies": []}', encoding="utf-8")
    with pytest.raises(UpdateError, match="HTTP 503"):
        download_studies(snap, base_url=url, backoff=0.0, retries=2)
    assert (snap / "page-0001.json").read_text(encoding="utf-8") == '{"studies": []}'
    assert [p.name for p in tmp_path.iterdir()] == ["snap"]  # no half-written folder left


@pytest.mark.parametrize("stub_server", [{"final_page2": False}], indirect=True)
def test_max_pages_stops_a_long_listing_and_marks_the_snapshot_partial(
        stub_server: tuple[str, _Stub], tmp_path: Path) -> None:
    url, _ = stub_server
    result = download_studies(tmp_path / "s", base_url=url, max_pages=1, page_size=5,
                              backoff=0.0)
    assert (result.pages, result.complete) == (1, False)
    info = read_snapshot_info(tmp_path / "s")
    assert info is not None
    assert (info.complete, info.pages, info.studies, info.total) == (False, 1, 5, 21)
    assert "partial snapshot: 5 of 21 studies" in info.describe()
    assert len(read_trials(tmp_path / "s")) == 5  # the manifest is not read as a trial file


@pytest.mark.parametrize("stub_server", [{"final_page2": False}], indirect=True)
def test_cli_warns_on_update_and_on_every_match_of_a_partial_snapshot(
        stub_server: tuple[str, _Stub], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from allpath.cli import app
    from allpath.cli.commands import app as _registered  # noqa: F401
    from allpath.examples import example_paths

    url, _ = stub_server
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    runner = CliRunner()
    res = runner.invoke(app, ["trials", "update", "--url", url, "--page-size", "5",
                              "--max-pages", "1"])
    assert res.exit_code == 0, res.output
    assert "stopped by --max-pages 1" in res.stderr
    for args in (["trials", "match", str(example_paths()[0]), "-f", "json"],
                 ["trials", "centres", "-f", "json"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
        assert "partial snapshot: 5 of 21 studies" in res.stderr
        json.loads(res.stdout)  # the warning stays off the JSON on stdout


def test_a_complete_snapshot_gives_no_warning(stub_server: tuple[str, _Stub], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from allpath.cli import app
    from allpath.cli.commands import app as _registered  # noqa: F401

    url, _ = stub_server
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(app, ["trials", "update", "--url", url]).exit_code == 0
    res = runner.invoke(app, ["trials", "centres", "-f", "json"])
    assert res.exit_code == 0 and "warning" not in res.stderr


def test_a_broken_manifest_is_a_clear_error_naming_the_field(tmp_path: Path) -> None:
    from allpath.errors import TrialDataError

    (tmp_path / "snapshot.yaml").write_text("complete: maybe\npages: 1\n", encoding="utf-8")
    with pytest.raises(TrialDataError) as err:
        read_snapshot_info(tmp_path)
    text = str(err.value)
    assert "complete" in text and "studies" in text and "snapshot.yaml" in text


def test_cli_update_then_match_reads_the_new_snapshot(
        stub_server: tuple[str, _Stub], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from allpath.cli import app
    from allpath.cli.commands import app as _registered  # noqa: F401
    from allpath.examples import example_paths

    url, _ = stub_server
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    runner = CliRunner()
    res = runner.invoke(app, ["trials", "update", "--url", url, "--page-size", "5"])
    assert res.exit_code == 0, res.output
    assert "10 of 21 studies in 2 page(s)" in res.output
    res = runner.invoke(app, ["trials", "match", str(example_paths()[0]), "-f", "json",
                              "--include-closed", "--show-excluded"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["screened"] == 10  # the downloaded studies, not the bundle
