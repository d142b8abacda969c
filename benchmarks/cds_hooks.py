"""CDS Hooks benchmark (not a test): authentication outcomes and patient-view latency.

Starts a real ``allpath serve`` on 127.0.0.1 (``--workers``, default 2, sharing one SQLite
file) configured with a trusted EHR issuer, and the loopback FHIR server of the tests
(``tests/api/cds_fhir_stub.py``: the official mCODE example and Synthea bundles, plus a
Synthea child with an ALL condition). Then:

1. sends CDS Hooks calls signed (RS384 and ES384), unsigned, replayed and refused for each
   reason, and counts the HTTP status of each kind;
2. times ``patient-view`` with a full prefetch and with nothing prefetched (all four
   queries fetched from the loopback FHIR server, pages of 10 followed), for the ALL child
   (cards) and the adult with colon cancer (no cards): p50/p99 over ``--n`` calls each,
   through HTTP and, for comparison, in process (ASGI test client, same work, no network).

    .venv/bin/python benchmarks/cds_hooks.py [--n 100] [--workers 2]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "api"), str(ROOT / "tests")]

from cds_fhir_stub import (  # noqa: E402 (after the path set-up)
    MCODE_BUNDLE,
    SYNTHEA_CHILD,
    SYNTHEA_COLON,
    TOKEN,
    load_resources,
    patient_id,
    start,
)
from test_cds_hooks_spec import _all_child  # noqa: E402

ISS = "https://ehr.bench.test"
ISS_EC = "https://ehr-ec.bench.test"
PV = "/cds-services/allpath-patient-view"


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _jwk(private: Any, kid: str, alg: str) -> dict[str, Any]:
    algo = jwt.algorithms.RSAAlgorithm if alg.startswith("RS") else jwt.algorithms.ECAlgorithm
    return {**algo.to_jwk(private.public_key(), as_dict=True), "kid": kid, "alg": alg,
            "use": "sig"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="timed calls per scenario")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    keys = {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec": ec.generate_private_key(ec.SECP384R1()),
            "stranger": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
    resources = load_resources(MCODE_BUNDLE, SYNTHEA_CHILD, SYNTHEA_COLON) + _all_child()
    colon = patient_id(load_resources(SYNTHEA_COLON))
    exe = str(Path(sys.executable).with_name("allpath"))
    with start(resources, jwks={"keys": [_jwk(keys["ec"], "ec1", "ES384")]}) as stub, \
            tempfile.TemporaryDirectory(prefix="allpath-cds-bench-") as tmp:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        reg = Path(tmp) / "issuers.json"
        reg.write_text(json.dumps({"issuers": [
            {"iss": ISS, "jwks": {"keys": [_jwk(keys["rsa"], "rs1", "RS384")]},
             "fhir_servers": [stub.fhir]},
            {"iss": ISS_EC, "jku": [f"{stub.base}/jwks.json"], "fhir_servers": [stub.fhir]},
        ]}), encoding="utf-8")
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        env = {**os.environ, "ALLPATH_CDS_ISSUERS": str(reg), "ALLPATH_PUBLIC_URL": base,
               "ALLPATH_LINK_SECRET": "bench", "ALLPATH_CDS_ALLOW_UNAUTHENTICATED": ""}
        server = subprocess.Popen([exe, "serve", "--host", "127.0.0.1", "--port", str(port),
                                   "--database", url, "--workers", str(args.workers),
                                   "--log-level", "error"], env=env,
                                  stderr=(Path(tmp) / "server.log").open("w"))
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)

            def sign(key: str = "rsa", alg: str = "RS384", kid: str = "rs1", iss: str = ISS,
                     headers: dict[str, Any] | None = None, **claims: Any) -> str:
                now = int(time.time())
                payload = {"iss": iss, "aud": base + PV, "exp": now + 120, "iat": now,
                           "jti": str(uuid.uuid4()), **claims}
                return jwt.encode({k: v for k, v in payload.items() if v is not None},
                                  keys[key], algorithm=alg,
                                  headers={"kid": kid, "typ": "JWT", **(headers or {})})

            def hook(pid: str, fetch: bool) -> dict[str, Any]:
                h: dict[str, Any] = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
                                     "context": {"userId": "Practitioner/1", "patientId": pid}}
                if fetch:
                    h["fhirServer"] = stub.fhir
                    h["fhirAuthorization"] = {"access_token": TOKEN, "token_type": "Bearer",
                                              "expires_in": 300, "scope": "patient/*.read",
                                              "subject": "allpath"}
                else:
                    h["prefetch"] = stub.prefetch(pid)
                return h

            from fastapi.testclient import TestClient

            from allpath.api import Settings, create_app
            from allpath.db import Database

            local_db = Database(f"sqlite:///{Path(tmp) / 'local.db'}")
            local = TestClient(create_app(database=local_db, settings=Settings(
                public_url=base, cds_issuers_path=reg, cds_allow_unauthenticated=False,
                link_secret="bench")))
            # the served app freezes its warmed caches out of the garbage collector's sight
            # (allpath serve); so does this process, which also hosts the loopback FHIR
            # server: its own full collections would stall that server's thread and show up
            # as slow HTTP calls that are not ALLPath's
            local.post(PV, json=hook("all-child", False),
                       headers={"Authorization": f"Bearer {sign()}"})
            gc.collect()
            gc.freeze()
            load = os.getloadavg()[0]
            with httpx.Client(base_url=base, timeout=60) as c:
                print(f"patient-view latency, {args.n} calls each (cpu cores: "
                      f"{os.cpu_count()}, load average {load:.1f}):")
                for label, pid, fetch in (("ALL child, full prefetch", "all-child", False),
                                          ("ALL child, FHIR fetch", "all-child", True),
                                          ("colon-cancer adult, full prefetch", colon, False),
                                          ("colon-cancer adult, FHIR fetch", colon, True)):
                    for where, client in (("HTTP", c), ("in process", local)):
                        lat: list[float] = []
                        cards = statuses = None
                        for i in range(args.n + 3):
                            h = hook(pid, fetch)
                            t0 = time.perf_counter()
                            r = client.post(PV, json=h,
                                            headers={"Authorization": f"Bearer {sign()}"})
                            dt_ = time.perf_counter() - t0
                            if i >= 3:  # the first calls warm the caches
                                lat.append(dt_)
                            statuses = r.status_code
                            cards = len(r.json().get("cards", []))
                        print(f"  {label:34s} {where:10s} p50 {_pct(lat, .5) * 1e3:7.1f} ms"
                              f"  p99 {_pct(lat, .99) * 1e3:7.1f} ms  (HTTP {statuses}, "
                              f"{cards} cards)")
                body = hook("all-child", False)
                outcomes: Counter[tuple[str, int]] = Counter()
                for _ in range(5):  # failures stay under the per-address limit (429)
                    outcomes["signed RS384", c.post(PV, json=body, headers={
                        "Authorization": f"Bearer {sign()}"}).status_code] += 1
                    outcomes["signed ES384 (jku)", c.post(PV, json=body, headers={
                        "Authorization": "Bearer " + sign(
                            key="ec", alg="ES384", kid="ec1", iss=ISS_EC,
                            headers={"jku": f"{stub.base}/jwks.json"})}).status_code] += 1
                    outcomes["unsigned (no header)",
                             c.post(PV, json=body).status_code] += 1
                    once = sign()
                    c.post(PV, json=body, headers={"Authorization": f"Bearer {once}"})
                    # a new connection, so that the replay may reach the other worker
                    with httpx.Client(base_url=base, timeout=60) as fresh:
                        outcomes["replayed", fresh.post(PV, json=body, headers={
                            "Authorization": f"Bearer {once}"}).status_code] += 1
                now = int(time.time())
                refused = {
                    "expired": sign(exp=now - 120, iat=now - 240),
                    "wrong aud": sign(aud=base + "/cds-services/other"),
                    "unknown iss": sign(iss="https://evil.test"),
                    "no jti": sign(jti=None),
                    "HS384": jwt.encode({"iss": ISS, "aud": base + PV, "exp": now + 60,
                                         "iat": now, "jti": "x"}, "s" * 48,
                                        algorithm="HS384", headers={"kid": "rs1"}),
                    "jku not allowed": sign(headers={"jku": "https://evil.test/jwks"}),
                    "other key": sign(key="stranger"),
                }
                for name, tok in refused.items():
                    outcomes[f"refused: {name}", c.post(PV, json=body, headers={
                        "Authorization": f"Bearer {tok}"}).status_code] += 1
                print(f"\nCDS Hooks auth outcomes ({args.workers} server workers, one SQLite "
                      "file):")
                for (kind, status), n in sorted(outcomes.items()):
                    print(f"  {kind:28s} HTTP {status}: {n}")
            local.close()
            local_db.dispose()
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
