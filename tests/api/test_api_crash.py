"""Kill a real ``allpath serve`` with SIGKILL while writes run; the SQLite file stays whole."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from api_helpers import example_doc

ALLPATH = Path(sys.executable).with_name("allpath")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
def test_sigkill_mid_write_leaves_a_consistent_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    token = subprocess.run([str(ALLPATH), "tokens", "create", "--database", url],
                           check=True, capture_output=True, text=True).stdout.strip()
    port = _free_port()
    server = subprocess.Popen([str(ALLPATH), "serve", "--host", "127.0.0.1", "--port",
                               str(port), "--database", url, "--log-level", "warning"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    acknowledged: list[str] = []
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)

        def writer(worker: int) -> None:
            doc = example_doc("example-001")
            with httpx.Client(base_url=base, headers=headers, timeout=5) as c:
                i = 0
                while not stop.is_set():
                    i += 1
                    rid = f"crash-{worker}-{i}"
                    try:
                        r = c.post("/v1/patients", json={**doc, "id": rid})
                        if r.status_code == 201:
                            acknowledged.append(rid)
                            c.post(f"/v1/patients/{r.json()['id']}/observations", json={
                                "observations": [{"code": "wbc", "value": 3.2,
                                                  "unit": "10*9/L", "time": "2024-06-01"}]})
                    except httpx.HTTPError:
                        return

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
        for t in threads:
            t.start()
        while len(acknowledged) < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # kill while writes are in flight
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        stop.set()
        for t in threads:
            t.join(10)
    finally:
        stop.set()
        if server.poll() is None:
            server.kill()
            server.wait(10)
    assert len(acknowledged) >= 8
    con = sqlite3.connect(tmp_path / "crash.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        stored = {r[0] for r in con.execute("SELECT external_id FROM patients")}
        assert set(acknowledged) <= stored  # every acknowledged write survived
        # no partial rows: every patient has version 1 with its assessment; every later
        # version has its observations and its assessment; versions have no gaps
        for (pid,) in con.execute("SELECT id FROM patients"):
            versions = [v for (v,) in con.execute(
                "SELECT version FROM records WHERE patient_id=? ORDER BY version", (pid,))]
            assert versions == list(range(1, len(versions) + 1))
            assessed = {v for (v,) in con.execute(
                "SELECT record_version FROM assessments WHERE patient_id=?", (pid,))}
            assert assessed == set(versions)
            with_obs = {v for (v,) in con.execute(
                "SELECT record_version FROM observations WHERE patient_id=?", (pid,))}
            assert with_obs == set(versions) - {1}
        orphans = con.execute("SELECT count(*) FROM records WHERE patient_id NOT IN "
                              "(SELECT id FROM patients)").fetchone()[0]
        assert orphans == 0
    finally:
        con.close()
