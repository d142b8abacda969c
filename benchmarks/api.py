"""Load benchmark of the REST API (not a test): assessments per second on loopback.

Starts a real ``allpath serve`` on 127.0.0.1 with a throw-away SQLite file, then runs
``--clients`` concurrent clients (threads, each with one keep-alive connection of the
standard library's ``http.client`` and the request bodies encoded once, so that the load
generator takes little of the cores it shares with the server), each POSTing the bundled
example records to ``/v1/assess`` for ``--seconds``. Reports throughput and
p50/p99 latency next to the in-process cost of the same assessments
(``allpath.assess(parse_record(doc)).to_dict()``), with the ratio, the server's CPU time per
assessment (all its processes; steadier than wall-clock figures on a shared machine) and the
load average.

    .venv/bin/python benchmarks/api.py [--clients 1,4,8] [--seconds 10] [--workers 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

import allpath
from allpath.examples import example_paths


def _docs(variants: int = 40, seed: int = 20261207) -> list[dict[str, Any]]:
    """The bundled example records, each in ``variants`` versions: every numeric result
    scaled by its own random factor in [0.8, 1.25] (percentages at most 100) and the birth
    date moved by up to 90 days
    either way (seeded), so that no cache of identical inputs flatters the figures (the
    bundled records repeated would answer the same questions every time)."""
    rng = random.Random(seed)
    base = [json.loads(json.dumps(yaml.safe_load(p.read_text(encoding="utf-8")),
                                  default=str)) for p in example_paths()]
    out = []
    for k in range(max(1, variants)):
        for doc in base:
            if k == 0:
                out.append(doc)
                continue
            v = json.loads(json.dumps(doc))
            v["id"] = f"{doc['id']}-v{k}"
            if v.get("birth_date"):
                born = dt.date.fromisoformat(str(v["birth_date"])[:10])
                v["birth_date"] = (born + dt.timedelta(days=rng.randint(-90, 90))).isoformat()
            for obs in v.get("observations") or []:
                if isinstance(obs.get("value"), int | float) and not isinstance(obs["value"],
                                                                                bool):
                    scaled = obs["value"] * rng.uniform(0.8, 1.25)
                    obs["value"] = round(min(scaled, 100.0) if obs.get("unit") == "%"
                                         else scaled, 4)
            out.append(v)
    rng.shuffle(out)
    return out


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def in_process(docs: list[dict[str, Any]], seconds: float) -> dict[str, float]:
    for d in docs:  # warm the caches (knowledge, catalogue)
        allpath.assess(allpath.parse_record(d)).to_dict()
    lat: list[float] = []
    end = time.perf_counter() + seconds
    i = 0
    cpu0 = time.process_time()
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        json.dumps(allpath.assess(allpath.parse_record(docs[i % len(docs)])).to_dict())
        lat.append(time.perf_counter() - t0)
        i += 1
    return {"per_s": len(lat) / sum(lat), "p50_ms": _pct(lat, 0.5) * 1e3,
            "p99_ms": _pct(lat, 0.99) * 1e3, "n": len(lat),
            "cpu_ms": (time.process_time() - cpu0) / len(lat) * 1e3}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(base: str, token: str, docs: list[dict[str, Any]], clients: int,
         seconds: float) -> dict[str, float]:
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    bodies = [json.dumps(d).encode("utf-8") for d in docs]  # the load generator's work
    host, port = base.removeprefix("http://").rsplit(":", 1)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client(k: int) -> None:
        # a lean keep-alive client (the standard library's http.client, bodies encoded once)
        # so that the load generator, which shares the 2 cores, takes little of them
        mine: list[float] = []
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            conn.request("POST", "/v1/assess", body=bodies[0], headers=headers)
            conn.getresponse().read()  # connect and warm up
            start.wait()
            i = k
            while time.perf_counter() < stop_at[0]:
                t0 = time.perf_counter()
                conn.request("POST", "/v1/assess", body=bodies[i % len(bodies)],
                             headers=headers)
                r = conn.getresponse()
                r.read()
                mine.append(time.perf_counter() - t0)
                if r.status != 200:
                    with lock:
                        errors[0] += 1
                i += 1
        finally:
            conn.close()
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds + 0.5
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"per_s": len(lat) / wall, "p50_ms": _pct(lat, 0.5) * 1e3,
            "p99_ms": _pct(lat, 0.99) * 1e3, "n": len(lat), "errors": errors[0]}


def _server_cpu(pid: int) -> float:
    """CPU seconds used so far by the server and its worker processes (Linux ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", default="1,4,8")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--variants", type=int, default=40,
                    help="versions of each bundled record (1: the records as bundled)")
    args = ap.parse_args()
    docs = _docs(args.variants)
    exe = str(Path(sys.executable).with_name("allpath"))
    with tempfile.TemporaryDirectory(prefix="allpath-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        token = subprocess.run([exe, "tokens", "create", "--database", url], check=True,
                               capture_output=True, text=True).stdout.strip()
        port = _free_port()
        server = subprocess.Popen([exe, "serve", "--host", "127.0.0.1", "--port", str(port),
                                   "--database", url, "--workers", str(args.workers),
                                   "--log-level", "warning"])
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            local = in_process(docs, args.seconds)
            print(f"cpu cores: {os.cpu_count()}; server workers: {args.workers}; records: "
                  f"{len(docs)} ({args.variants} versions of each bundled example); "
                  f"{args.seconds:g} s per run")
            print(f"in-process   : {local['per_s']:7.1f} assessments/s  p50 "
                  f"{local['p50_ms']:6.1f} ms  p99 {local['p99_ms']:6.1f} ms  (1 thread; "
                  f"CPU {local['cpu_ms']:.1f} ms/assessment)")
            for n in (int(x) for x in args.clients.split(",")):
                cpu0, own0 = _server_cpu(server.pid), time.process_time()
                r = load(base, token, docs, n, args.seconds)
                cpu = (_server_cpu(server.pid) - cpu0) / max(1, r["n"] + n)
                own = (time.process_time() - own0) / max(1, r["n"] + n)
                print(f"API {n:2d} client{'s' if n > 1 else ' '}: {r['per_s']:7.1f} "
                      f"assessments/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  "
                      f"ratio API/in-process throughput {r['per_s'] / local['per_s']:.2f}  "
                      f"server CPU {cpu * 1e3:.1f} ms/assessment  clients' CPU {own * 1e3:.1f} ms  "
                      f"errors {int(r['errors'])}")
            print("load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
