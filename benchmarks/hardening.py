"""Hardening figures of issue 14 (not a test): bad inputs and 5xx answers, acknowledged writes
under concurrency and kill -9, and the worst time and memory of any input up to 1 MB.

For SQLite (a throw-away file) and, when a PostgreSQL URL is given (``--postgres URL`` or
``$ALLPATH_TEST_POSTGRES_URL``), for PostgreSQL (a throw-away database ``<name>_hardening_<pid>``
made on that server and dropped at the end; its user needs CREATEDB), starts a real
``allpath serve`` on 127.0.0.1 (the way tests/api/test_api_hardening.py's kill -9 test does,
the URL passed as ``@FILE``) with a read/write/admin token, then:

1. **Bad inputs.** Hand-made: every request of tests/bad_input_corpus.py (the corpus of
   ``test_bad_input_corpus_is_never_a_5xx``: each record leaf set to bad values, each
   observation field, CDS Hooks context and feedback, bad paths), the huge-integer triage
   documents of tests/test_review_bad_inputs.py on ``/v1/triage`` and ``/web/triage``, the
   alias bomb on ``/web/assess`` and a chunked body over the limit. Generated: Schemathesis
   on the published OpenAPI schema, ``--generated`` positive and as many negative examples
   per operation (as tests/api/test_api_schemathesis.py, but over HTTP). Counts the requests
   sent and the 5xx answers (goal 0), and lists the first few 5xx.
2. **Concurrent writes.** ``--clients`` threads, each with its own connection, each adding
   ``--writes`` observations (one per request, marked in ``method``) to one patient. Counts
   the statuses (2xx, 409, 412, 5xx, no answer), then reads the patient back: acknowledged
   (2xx) writes present in ``/observations`` and in the current record / acknowledged (goal:
   all), and whether the record versions run 1..1+acknowledged without a gap.
3. **kill -9 during writes.** ``--kill-clients`` writers add observations to one patient; once
   each has ``--kill-after`` writes acknowledged the server gets SIGKILL; it is started again
   and the acknowledged writes are looked up (goal: all present). POSIX only; elsewhere the
   figure is printed as skipped.
4. **Inputs up to 1 MB.** A YAML record and a JSON record of just under 1 MB (observations
   repeated; over the API's 3,000-observation cap, so the API refuses them and only the CLI
   assesses them whole), the largest JSON record the API accepts (3,000 observations), a
   FHIR Bundle of just under 1 MB (benchmarks/fhir_import.py's Bundle, ~1,800 entries, over
   the API's 1,000-entry cap) and the largest accepted one (1,000 entries), a CBC CSV of just
   under 1 MB (``/v1/screen``, timed until the job is done, and ``allpath screen``), 1 MB of
   empty CSV lines (a million rows, refused early) and the alias bomb; each on the route a
   user would use (``/v1/assess``, ``/v1/patients``, ``/web/assess``, ``/v1/screen``) and
   with ``allpath assess``/``allpath screen``. Time is wall clock (client side for the
   API: the request's round trip on loopback; for the CLI the whole process, start-up
   included). Memory is the peak resident set size (RSS) of the process that did the work:
   for the server its Linux ``VmHWM`` after resetting it (``/proc/PID/clear_refs``) before
   each input, printed with the growth over the RSS before the input; for the CLI
   ``ru_maxrss`` of that one child from ``os.wait4``. A small example record gives the
   baseline of each path. The API routes run once per database; the CLI once.

Every figure is printed, including the ones that could not be had (and why). Uses the
machine's cores lightly (defaults: 8 clients x 15 writes, 25 generated examples per
operation and mode); about a minute and a half per database on a shared two-core machine.

    .venv/bin/python benchmarks/hardening.py [--postgres URL] [--clients 8] [--writes 15]
        [--generated 25] [--kill-clients 4] [--kill-after 5]
"""

from __future__ import annotations

import argparse
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
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

from fhir_import import bundle as fhir_bundle  # noqa: E402

from bad_input_corpus import (  # noqa: E402 (after the path set-up)
    BILLION_LAUGHS,
    HUGE_NUMBER_TRIAGE,
    bad_requests,
)
from support import POSTGRES_ENV, example_doc  # noqa: E402

ALLPATH = Path(sys.executable).with_name("allpath")
ONE_MB = 1_000_000  # characters: MAX_RECORD_CHARS of allpath.record.load
SHOW = 5  # 5xx answers listed per section


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _mib(kib: int) -> float:
    return kib / 1024


# ------------------------------------------------------------------ the service


class Server:
    """``allpath serve`` on a loopback port, its stderr kept in a file."""

    def __init__(self, url_file: Path, log: Path) -> None:
        self.url_file, self.log = url_file, log
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as err:
            self.proc = subprocess.Popen(
                [str(ALLPATH), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--database", f"@{self.url_file}", "--log-level", "warning"],
                stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"allpath serve did not start; see {self.log}")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)

    def _status_kib(self, key: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise KeyError(key)

    def reset_peak(self) -> bool:
        """Reset the server's RSS high-water mark (Linux); False where it cannot be."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def rss_and_peak(self) -> tuple[int, int]:
        return self._status_kib("VmRSS"), self._status_kib("VmHWM")

    def log_errors(self) -> int:
        """Lines of the server's log at ERROR or above (tracebacks start with one)."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return sum(1 for line in text.splitlines() if " ERROR " in line or " CRITICAL " in line)


@dataclass
class Target:
    """A throw-away database: a SQLite file, or a PostgreSQL database made here."""

    name: str
    url: str
    drop: Callable[[], None] = field(default=lambda: None)


def sqlite_database(tmp: Path) -> Target:
    return Target("SQLite", f"sqlite:///{tmp / 'hardening.db'}")


def postgres_database(url: str) -> Target:
    from sqlalchemy import create_engine, make_url, text

    base = make_url(url).set(drivername="postgresql+psycopg")
    name = f"{base.database}_hardening_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:  # only the database made above
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    plain = base.set(drivername="postgresql", database=name)
    return Target("PostgreSQL", plain.render_as_string(hide_password=False), drop)


def create_token(url_file: Path) -> dict[str, str]:
    token = subprocess.run(
        [str(ALLPATH), "tokens", "create", "--database", f"@{url_file}", "--name", "bench",
         "--scope", "read", "--scope", "write", "--scope", "admin"],
        check=True, capture_output=True, text=True).stdout.strip()
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------------ 1. bad inputs


@dataclass
class Tally:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    no_answer: int = 0
    server_errors: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def add(self, status: int, label: str) -> None:
        self.sent += 1
        self.statuses[status] += 1
        if status >= 500:
            self.server_errors.append(f"{status} {label}")

    @property
    def fives(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500)

    def line(self) -> str:
        codes = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        extra = f", no answer {self.no_answer}" if self.no_answer else ""
        return f"{self.sent} sent, 5xx {self.fives} (goal 0){extra}; statuses {{{codes}}}"


def _chunked(total: int) -> Iterator[bytes]:
    yield b'{"format": "allpath.record/1", "id": "'
    for _ in range(total // 65536):
        yield b"x" * 65536
    yield b'"}'


def hand_made(base: str, headers: dict[str, str]) -> Tally:
    tally = Tally()
    doc = example_doc("example-001")
    with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        r = c.post("/v1/patients", json={**doc, "id": "bad-input-target"})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        for req in bad_requests(doc, pid):
            try:
                if req.body is None:
                    r = c.request(req.method, req.url)
                else:
                    r = c.request(req.method, req.url,
                                  content=json.dumps(req.body, allow_nan=True),
                                  headers={"content-type": "application/json"})
            except httpx.HTTPError as exc:
                tally.no_answer += 1
                tally.unexpected.append(f"{req.label}: {type(exc).__name__}")
                continue
            tally.add(r.status_code, req.label)
            if req.expect and r.status_code not in req.expect:
                tally.unexpected.append(f"{r.status_code} {req.label}")
        extra: list[tuple[str, str, bytes | Iterator[bytes], tuple[int, ...]]] = []
        for d in HUGE_NUMBER_TRIAGE:
            full = {"format": "allpath.triage/1", "age_years": 5, "sex": "female", **d}
            extra.append(("/v1/triage", f"triage {list(d)}", json.dumps(full).encode(),
                          (422,)))
            web = {k: v for k, v in full.items() if k != "format"}
            extra.append(("/web/triage", f"web triage {list(d)}", json.dumps(web).encode(),
                          (422,)))
        extra.append(("/web/assess", "alias bomb", json.dumps({"text": BILLION_LAUGHS}).encode(),
                      (422,)))
        extra.append(("/v1/patients", "chunked 6 MB body", _chunked(6 * 1024 * 1024), (413,)))
        for url, label, content, expect in extra:
            r = c.post(url, content=content, headers={"content-type": "application/json"})
            tally.add(r.status_code, label)
            if r.status_code not in expect:
                tally.unexpected.append(f"{r.status_code} {label}")
    return tally


def _examples(strategy: Any, n: int, call: Callable[[Any], None]) -> Callable[[], None]:
    """A Hypothesis test that calls ``call`` on ``n`` derandomised examples of ``strategy``."""
    from hypothesis import HealthCheck, Phase, given, settings

    @settings(max_examples=n, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(case=strategy)
    def run(case: Any) -> None:
        call(case)

    return run


def generated(base: str, headers: dict[str, str], examples: int) -> tuple[Tally, int]:
    """Schemathesis, positive and negative examples of every operation; returns the tally and
    the number of operations."""
    import requests
    import schemathesis
    from hypothesis.errors import HypothesisException
    from schemathesis.core import NotSet
    from schemathesis.core.result import Ok
    from schemathesis.generation import GenerationMode

    tally = Tally()
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    session = requests.Session()
    operations = 0

    def _call(case: Any, label: str) -> None:
        try:
            r = case.call(base_url=base, session=session, headers=headers, timeout=60)
        except (requests.RequestException, ValueError) as exc:
            # a request the HTTP client itself refuses to send (e.g. a bad header)
            tally.unexpected.append(f"{label}: not sent ({type(exc).__name__})")
            return
        if r.status_code >= 500:  # name the generated values, shortened, to reproduce it
            label = (f"{label}: path {case.path_parameters!r:.80}, query {case.query!r:.80}, "
                     f"body {None if isinstance(case.body, NotSet) else case.body!r:.80}")
        tally.add(r.status_code, label)

    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            tally.unexpected.append(f"an operation the schema does not describe: {result}")
            continue
        op = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            label = f"{op.method.upper()} {op.path} ({mode.value})"

            def call(case: Any, label: str = label) -> None:
                _call(case, label)

            try:
                _examples(op.as_strategy(generation_mode=mode), examples, call)()
            except HypothesisException as exc:  # e.g. no example could be made
                tally.unexpected.append(f"{label}: {type(exc).__name__}: {str(exc)[:80]}")
    return tally, operations


# ------------------------------------------------------------------ 2. concurrent writes


def _observation(mark: str, value: float, day: int) -> dict[str, Any]:
    return {"code": "wbc", "value": value, "unit": "10*9/L",
            "time": f"2024-06-{1 + day % 28:02d}", "method": mark}


def _read_back(c: httpx.Client, pid: str) -> tuple[set[str], set[str], list[int]]:
    rows = c.get(f"/v1/patients/{pid}/observations").json()
    record = c.get(f"/v1/patients/{pid}/record").json()
    versions = [v["version"] for v in c.get(f"/v1/patients/{pid}/records").json()]
    return ({o["data"].get("method") for o in rows},
            {o.get("method") for o in record["observations"]}, versions)


def concurrent_writes(base: str, headers: dict[str, str], clients: int,
                      writes: int) -> list[str]:
    with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        r = c.post("/v1/patients", json={**example_doc("example-001"), "id": "concurrent"})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]

    def writer(n: int) -> list[tuple[int, str]]:
        out = []
        with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
            for i in range(writes):
                mark = f"c{n}-w{i}"
                try:
                    r = c.post(f"/v1/patients/{pid}/observations",
                               json={"observations": [_observation(mark, 4 + n + i / 10, i)]})
                    out.append((r.status_code, mark))
                except httpx.HTTPError:
                    out.append((0, mark))
        return out

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = [x for part in pool.map(writer, range(clients)) for x in part]
    took = time.perf_counter() - start
    codes = Counter(code for code, _ in results)
    acked = {mark for code, mark in results if 200 <= code < 300}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        stored, in_record, versions = _read_back(c, pid)
    fives = sum(n for s, n in codes.items() if s >= 500)
    return [
        f"{clients} clients x {writes} observations to one patient over loopback "
        f"({len(results)} requests, {took:.1f} s)",
        f"statuses: 2xx {sum(n for s, n in codes.items() if 200 <= s < 300)}, "
        f"409 {codes[409]}, 412 {codes[412]}, 5xx {fives}, no answer {codes[0]}, "
        f"all {dict(sorted(codes.items()))}",
        f"acknowledged writes present: {len(acked & stored)}/{len(acked)} in /observations, "
        f"{len(acked & in_record)}/{len(acked)} in the current record (goal: all); "
        f"unacknowledged stored: {len((stored - acked) - {None})}",
        f"record versions 1..{max(versions, default=0)}, "
        f"{'no gap' if versions == list(range(1, len(versions) + 1)) else 'GAPS'}, "
        f"{len(versions)} versions for {len(acked)} acknowledged writes + the create",
    ]


# ------------------------------------------------------------------ 3. kill -9


def kill_during_writes(server: Server, headers: dict[str, str], clients: int,
                       before: int) -> list[str]:
    if os.name != "posix":
        return ["SKIPPED: needs SIGKILL (POSIX)"]
    base = server.base
    with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        r = c.post("/v1/patients", json={**example_doc("example-001"), "id": "killed"})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
    stop = threading.Event()
    writing = threading.Event()
    acks = [0] * clients
    codes: Counter[int] = Counter()

    def writer(n: int) -> list[str]:
        acked: list[str] = []
        try:
            with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
                for i in range(1000):
                    if stop.is_set():
                        break
                    mark = f"k{n}-{i}"
                    try:
                        r = c.post(f"/v1/patients/{pid}/observations",
                                   json={"observations": [_observation(mark, 5, i)]})
                    except httpx.HTTPError:
                        break
                    codes[r.status_code] += 1
                    if 200 <= r.status_code < 300:
                        acked.append(mark)
                        acks[n] = len(acked)
                        if min(acks) >= before:
                            writing.set()
        finally:
            writing.set()  # a writer that stopped early: kill now
        return acked

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(writer, n) for n in range(clients)]
        writing.wait(timeout=120)
        server.kill9()
        stop.set()
        acknowledged = {m for f in futures for m in f.result()}
    server.start()
    with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        stored, in_record, versions = _read_back(c, pid)
    return [
        f"{clients} writers, SIGKILL once each had {before} acknowledged; statuses before "
        f"the kill {dict(sorted(codes.items()))}",
        f"acknowledged writes present after restart: {len(acknowledged & stored)}/"
        f"{len(acknowledged)} in /observations, {len(acknowledged & in_record)}/"
        f"{len(acknowledged)} in the current record (goal: all); record versions "
        f"{'without a gap' if versions == list(range(1, len(versions) + 1)) else 'WITH GAPS'}",
    ]


# ------------------------------------------------------------------ 4. inputs up to 1 MB


def big_record(limit: int, as_yaml: bool) -> dict[str, Any]:
    """The example record with a blood count every day until its text nears ``limit``."""
    doc = example_doc("example-001")
    extra: list[dict[str, Any]] = []
    base_obs = list(doc["observations"])
    rng = random.Random(14)
    day = 0

    def size() -> int:
        d = {**doc, "observations": base_obs + extra}
        return len(yaml.safe_dump(d) if as_yaml else json.dumps(d))

    step = 400
    while True:
        batch = []
        for _ in range(step):
            when = f"2024-{6 + (day // 28) % 6:02d}-{1 + day % 28:02d}"
            for code, unit, mid in (("wbc", "10*9/L", 4.0), ("platelets", "10*9/L", 150.0),
                                    ("anc", "10*9/L", 1.5), ("718-7", "g/dL", 10.0)):
                batch.append({"code": code, "value": round(mid * rng.uniform(0.5, 1.5), 2),
                              "unit": unit, "time": when})
            day += 1
        extra.extend(batch)
        if size() > limit:
            extra = extra[:-len(batch)]
            if step == 1:
                break
            step = max(1, step // 4)
    return {**doc, "observations": base_obs + extra}


def records_with(n: int) -> dict[str, Any]:
    doc = example_doc("example-001")
    obs = list(doc["observations"])
    i = 0
    while len(obs) < n:
        obs.append({"code": "wbc", "value": 3 + (i % 50) / 10, "unit": "10*9/L",
                    "time": f"2024-{6 + (i // 28) % 6:02d}-{1 + i % 28:02d}"})
        i += 1
    return {**doc, "observations": obs}


def fhir_under(limit: int) -> dict[str, Any]:
    lo, hi = 1000, 4000
    while lo < hi:  # the most entries whose JSON is at most ``limit`` characters
        mid = (lo + hi + 1) // 2
        if len(json.dumps(fhir_bundle(mid))) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return fhir_bundle(lo)


def cbc_csv(limit: int) -> str:
    rng = random.Random(14)
    lines = ["patient_id,age_years,sex,time,wbc,hemoglobin,platelets,anc,blasts_pct"]
    size = len(lines[0]) + 1
    i = 0
    while True:
        blasts = str(rng.randint(5, 60)) if rng.random() < 0.01 else ""
        line = (f"s-{i:06d},{rng.randint(1, 90)},{rng.choice(['female', 'male'])},"
                f"2025-06-{1 + i % 28:02d},{rng.lognormvariate(1.8, 0.6):.1f},"
                f"{rng.uniform(6, 16):.1f},{rng.lognormvariate(5.2, 0.5):.0f},"
                f"{rng.lognormvariate(0.8, 0.7):.1f},{blasts}")
        if size + len(line) + 1 > limit:
            break
        lines.append(line)
        size += len(line) + 1
        i += 1
    return "\n".join(lines) + "\n"


@dataclass
class Measure:
    input: str
    path: str
    bytes: int
    status: str
    seconds: float
    peak_mib: float
    growth_mib: float | None  # None: a CLI process (its peak is the whole process)


# A minimal launcher: Linux carries a process's RSS high-water mark across exec, so a child
# forked from this (large) process would report this process's RSS; the launcher is small
# (about 10 MiB, the floor of the figure) and reports the wall time and ru_maxrss of its child.
_LAUNCHER = """
import os, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(p.pid, 0)
print(os.waitstatus_to_exitcode(status), time.perf_counter() - t0, usage.ru_maxrss)
"""


def run_cli(args: list[str], label: str, path: str, size: int) -> Measure:
    """One ``allpath`` process: its wall time and its own ``ru_maxrss`` (via the launcher)."""
    out = subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, str(ALLPATH), *args],
                         check=True, capture_output=True, text=True).stdout.split()
    code, took, maxrss = int(out[0]), float(out[1]), int(out[2])
    return Measure(label, path, size, f"exit {code}", took, maxrss / 1024, None)


def run_api(server: Server, c: httpx.Client, label: str, path: str, url: str,
            content: bytes, content_type: str = "application/json") -> Measure:
    exact = server.reset_peak()
    before, _ = server.rss_and_peak()
    t0 = time.perf_counter()
    r = c.post(url, content=content, headers={"content-type": content_type})
    status = str(r.status_code)
    if url == "/v1/screen" and r.status_code == 202:  # until the job is done
        job = r.json()["id"]
        while True:
            st = c.get(f"/v1/screen/{job}").json()
            if st["status"] in ("done", "failed"):
                status = f"202, job {st['status']}"
                break
            time.sleep(0.02)
    took = time.perf_counter() - t0
    _, peak = server.rss_and_peak()
    if not exact:
        path += " (peak since start: clear_refs refused)"
    return Measure(label, path, len(content), status, took, _mib(peak), _mib(peak - before))


@dataclass
class Inputs:
    yaml_1mb: str
    json_1mb: str
    json_max: str
    fhir_1mb: str
    fhir_max: str
    csv_1mb: str
    small: str

    @classmethod
    def build(cls) -> Inputs:
        return cls(yaml_1mb=yaml.safe_dump(big_record(ONE_MB - 1000, as_yaml=True)),
                   json_1mb=json.dumps(big_record(ONE_MB - 1000, as_yaml=False)),
                   json_max=json.dumps(records_with(3000)),
                   fhir_1mb=json.dumps(fhir_under(ONE_MB)),
                   fhir_max=json.dumps(fhir_bundle(1000)),
                   csv_1mb=cbc_csv(ONE_MB),
                   small=json.dumps(example_doc("example-001")))


def api_inputs(server: Server, headers: dict[str, str], inp: Inputs) -> list[Measure]:
    cases: list[tuple[str, str, str, bytes, str]] = [
        ("small record (baseline)", "POST /v1/assess", "/v1/assess", inp.small.encode(),
         "application/json"),
        ("YAML record ~1 MB", "POST /web/assess", "/web/assess",
         json.dumps({"text": inp.yaml_1mb}).encode(), "application/json"),
        ("JSON record ~1 MB", "POST /v1/assess", "/v1/assess", inp.json_1mb.encode(),
         "application/json"),
        ("JSON record ~1 MB", "POST /v1/patients", "/v1/patients", inp.json_1mb.encode(),
         "application/json"),
        ("JSON record, 3000 obs (API cap)", "POST /v1/assess", "/v1/assess",
         inp.json_max.encode(), "application/json"),
        ("JSON record, 3000 obs (API cap)", "POST /v1/patients", "/v1/patients",
         json.dumps({**json.loads(inp.json_max), "id": "max-obs"}).encode(),
         "application/json"),
        ("FHIR Bundle ~1 MB", "POST /v1/assess", "/v1/assess", inp.fhir_1mb.encode(),
         "application/json"),
        ("FHIR Bundle 1000 entries (API cap)", "POST /v1/assess", "/v1/assess",
         inp.fhir_max.encode(), "application/json"),
        ("FHIR Bundle 1000 entries (API cap)", "POST /v1/patients", "/v1/patients",
         inp.fhir_max.encode(), "application/json"),
        ("YAML alias bomb (565 B)", "POST /web/assess", "/web/assess",
         json.dumps({"text": BILLION_LAUGHS}).encode(), "application/json"),
        ("CBC CSV ~1 MB", "POST /v1/screen", "/v1/screen", inp.csv_1mb.encode(), "text/csv"),
        ("CSV of 1e6 empty rows (1 MB)", "POST /v1/screen", "/v1/screen",
         b"patient_id,age_years,sex,time,wbc\n" + b"\n" * 1_000_000, "text/csv"),
    ]
    out = []
    with httpx.Client(base_url=server.base, headers=headers, timeout=300) as c:
        c.post("/v1/assess", content=inp.small.encode(),
               headers={"content-type": "application/json"})  # warm-up
        for label, path, url, content, ctype in cases:
            out.append(run_api(server, c, label, path, url, content, ctype))
    return out


def cli_inputs(inp: Inputs, tmp: Path) -> list[Measure]:
    files = {"small.json": inp.small, "big.yaml": inp.yaml_1mb, "big.json": inp.json_1mb,
             "bundle.json": inp.fhir_1mb, "cbc.csv": inp.csv_1mb, "bomb.yaml": BILLION_LAUGHS}
    for name, text in files.items():
        (tmp / name).write_text(text, encoding="utf-8")
    size = {name: len(text.encode()) for name, text in files.items()}
    out = [run_cli(["assess", str(tmp / "small.json"), "--format", "json"],
                   "small record (baseline)", "allpath assess", size["small.json"])]
    for name, label in (("big.yaml", "YAML record ~1 MB"), ("big.json", "JSON record ~1 MB"),
                        ("bundle.json", "FHIR Bundle ~1 MB"),
                        ("bomb.yaml", "YAML alias bomb (565 B)")):
        out.append(run_cli(["assess", str(tmp / name), "--format", "json"], label,
                           "allpath assess", size[name]))
    out.append(run_cli(["screen", str(tmp / "cbc.csv"), "-o", str(tmp / "out.csv")],
                       "CBC CSV ~1 MB", "allpath screen", size["cbc.csv"]))
    return out


def print_measures(rows: list[Measure]) -> None:
    print(f"    {'input':36} {'path':22} {'bytes':>9} {'status':>14} {'time s':>8} "
          f"{'peak RSS MiB':>13} {'growth MiB':>11}")
    for m in rows:
        growth = "-" if m.growth_mib is None else f"{m.growth_mib:.1f}"
        print(f"    {m.input:36} {m.path:22} {m.bytes:>9,} {m.status:>14} {m.seconds:>8.3f} "
              f"{m.peak_mib:>13.1f} {growth:>11}")
    worst_t = max(rows, key=lambda m: m.seconds)
    worst_m = max(rows, key=lambda m: m.peak_mib)
    print(f"    worst time: {worst_t.seconds:.3f} s ({worst_t.input}, {worst_t.path}); "
          f"worst peak RSS: {worst_m.peak_mib:.1f} MiB ({worst_m.input}, {worst_m.path})")
    grown = [m for m in rows if m.growth_mib is not None]
    if grown:
        worst_g = max(grown, key=lambda m: m.growth_mib or 0.0)
        print(f"    worst RSS growth over the server's RSS before the input: "
              f"{worst_g.growth_mib:.1f} MiB ({worst_g.input}, {worst_g.path})")


# ------------------------------------------------------------------ main


def run_database(db: Target, args: argparse.Namespace, inp: Inputs, tmp: Path) -> None:
    print(f"\n== {db.name} ==")
    url_file = tmp / f"{db.name}.url"
    url_file.write_text(db.url + "\n", encoding="utf-8")
    url_file.chmod(0o600)
    subprocess.run([str(ALLPATH), "tokens", "list", "--database", f"@{url_file}"],
                   check=True, capture_output=True)  # migrates the fresh database
    headers = create_token(url_file)
    server = Server(url_file, tmp / f"{db.name}.log")
    server.start()
    try:
        t0 = time.perf_counter()
        hand = hand_made(server.base, headers)
        print(f"1. bad inputs, hand-made (tests/bad_input_corpus.py and friends): {hand.line()}"
              f" [{time.perf_counter() - t0:.0f} s]")
        t0 = time.perf_counter()
        gen, ops = generated(server.base, headers, args.generated)
        print(f"   bad inputs, generated (Schemathesis, {ops} operations x up to "
              f"{args.generated} positive + {args.generated} negative): {gen.line()}"
              f" [{time.perf_counter() - t0:.0f} s]")
        total = hand.sent + gen.sent
        print(f"   total: {total} bad inputs, {hand.fives + gen.fives} 5xx (goal 0)")
        for t in (hand, gen):
            for e in t.server_errors[:SHOW]:
                print(f"   5xx: {e}")
        for e in hand.unexpected[:SHOW]:
            print(f"   unexpected status (hand-made): {e}")
        if gen.unexpected:
            print(f"   generated cases not sent or not generated: {len(gen.unexpected)}, "
                  f"e.g. {gen.unexpected[0]}")
        print("2. concurrent writes:")
        for line in concurrent_writes(server.base, headers, args.clients, args.writes):
            print(f"   {line}")
        print("3. kill -9 during writes:")
        for line in kill_during_writes(server, headers, args.kill_clients, args.kill_after):
            print(f"   {line}")
        print("4. inputs up to 1 MB through the API of `allpath serve` (memory: the server "
              "process's peak RSS, VmHWM reset before each input):")
        print_measures(api_inputs(server, headers, inp))
        print(f"   server log lines at ERROR or above (all sections): {server.log_errors()}")
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postgres", default=os.environ.get(POSTGRES_ENV),
                    help=f"PostgreSQL server URL (default ${POSTGRES_ENV})")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--writes", type=int, default=15)
    ap.add_argument("--generated", type=int, default=25,
                    help="Schemathesis examples per operation and mode")
    ap.add_argument("--kill-clients", type=int, default=4)
    ap.add_argument("--kill-after", type=int, default=5)
    args = ap.parse_args()
    print("building the inputs...", flush=True)
    inp = Inputs.build()
    with tempfile.TemporaryDirectory(prefix="allpath-hardening-") as name:
        tmp = Path(name)
        run_database(sqlite_database(tmp), args, inp, tmp)
        if args.postgres:
            db = postgres_database(args.postgres)
            try:
                run_database(db, args, inp, tmp)
            finally:
                db.drop()
        else:
            print(f"\n== PostgreSQL == SKIPPED: no URL (--postgres or ${POSTGRES_ENV})")
        print("\n== CLI (no database; memory: ru_maxrss of each allpath process, "
              "start-up included) ==")
        print_measures(cli_inputs(inp, tmp))


if __name__ == "__main__":
    main()
