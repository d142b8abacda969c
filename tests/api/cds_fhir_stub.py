"""A small FHIR server on loopback for the CDS Hooks tests and benchmark: a real HTTP server
(uvicorn on 127.0.0.1, a free port) serving the resources of FHIR Bundles (the official
mCODE example and Synthea bundles in ../shared/data/fhir/) by read and by search, paged
with ``link[relation=next]``; it also serves a JWK Set for ``jku`` tests.

Routes (``{base}`` = ``http://127.0.0.1:<port>``):

* ``/fhir/{type}/{id}`` and ``/fhir/{type}?patient=<id>[&_page=n]``: the bundles' resources;
  references to a patient's ``urn:uuid`` are rewritten as ``Patient/<id>``, as a server
  stores them. Every answer needs ``Authorization: Bearer <token>`` (else 401).
* ``/loop/{type}...``: a search whose ``next`` link always points to itself.
* ``/elsewhere/{type}...``: a search whose ``next`` link points to another host.
* ``/broken/...``: HTTP 500.
* ``/jwks.json``: the JWK Set given to :func:`start`.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from support import shared_dir

# the shared folder beside the repository, or $ALLPATH_SHARED (support.shared_dir)
SHARED = (shared_dir() or Path(__file__).resolve().parents[3] / "shared") / "data" / "fhir"
MCODE_BUNDLE = SHARED / "mcode-json" / "TrialMatching_Patient01_mcode_bundle.json"
SYNTHEA = SHARED / "synthea"
SYNTHEA_CHILD = SYNTHEA / "Luigi_Wiegand_e27d88b0-c5e5-4042-ad49-184f6a900ee3.json"
SYNTHEA_CHILD_2 = SYNTHEA / "Enda_Schaefer_dd760206-6c4e-4e25-a799-f5c563e489a1.json"
SYNTHEA_COLON = SYNTHEA / "Darin_Skiles_31c343e9-5d7f-444e-9be4-56b1a6ec6146.json"
TOKEN = "loopback-fhir-access-token"
PAGE = 10  # entries per search page


def _rewrite(value: Any, refs: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: (refs.get(v, v) if k == "reference" and isinstance(v, str)
                    else _rewrite(v, refs)) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, refs) for v in value]
    return value


def load_resources(*bundles: Path | dict[str, Any]) -> list[dict[str, Any]]:
    """The resources of the bundles, patient references as ``Patient/<id>``."""
    out: list[dict[str, Any]] = []
    for b in bundles:
        doc = b if isinstance(b, dict) else json.loads(b.read_text(encoding="utf-8"))
        entries = doc.get("entry", [])
        refs = {e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
                for e in entries if e.get("fullUrl") and e["resource"].get("id")}
        out += [_rewrite(copy.deepcopy(e["resource"]), refs) for e in entries]
    return out


def patient_id(resources: list[dict[str, Any]]) -> str:
    return str(next(r["id"] for r in resources if r["resourceType"] == "Patient"))


def _subject(res: dict[str, Any]) -> str | None:
    for key in ("subject", "patient"):
        ref = res.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return str(ref["reference"])
    return None


@dataclass
class Stub:
    """The running server: its base URL, what it serves and the requests it saw."""

    base: str
    resources: list[dict[str, Any]]
    jwks: dict[str, Any]
    seen: list[tuple[str, str | None]] = field(default_factory=list)  # (path?query, auth)

    @property
    def fhir(self) -> str:
        return f"{self.base}/fhir"

    def prefetch(self, pid: str) -> dict[str, Any]:
        return prefetch_of(self.resources, pid)


def prefetch_of(resources: list[dict[str, Any]], pid: str) -> dict[str, Any]:
    """What a complete prefetch of ALLPath's templates would hold for ``pid``."""
    def search(rtype: str) -> dict[str, Any]:
        hits = [r for r in resources if r["resourceType"] == rtype
                and _subject(r) == f"Patient/{pid}"]
        return {"resourceType": "Bundle", "type": "searchset", "total": len(hits),
                "entry": [{"resource": r} for r in hits]}
    patient = next(r for r in resources if r["resourceType"] == "Patient" and r["id"] == pid)
    return {"patient": patient, "conditions": search("Condition"),
            "observations": search("Observation"),
            "medications": search("MedicationRequest")}


def _app(stub_ref: list[Stub]) -> Starlette:
    def outcome(status: int, text: str) -> JSONResponse:
        return JSONResponse({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "processing", "diagnostics": text}]},
            status_code=status)

    async def serve(request: Request) -> JSONResponse:
        stub = stub_ref[0]
        q = request.url.query
        stub.seen.append((request.url.path + (f"?{q}" if q else ""),
                          request.headers.get("authorization")))
        mode, rtype, rid = (request.path_params["mode"], request.path_params["rtype"],
                            request.path_params.get("rid"))
        if mode == "broken":
            return outcome(500, "internal error (stub)")
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return outcome(401, "no or wrong access token")
        if rid is not None:
            for r in stub.resources:
                if r["resourceType"] == rtype and r.get("id") == rid:
                    return JSONResponse(r)
            return outcome(404, f"{rtype}/{rid} not found")
        pid = request.query_params.get("patient")
        hits = [r for r in stub.resources if r["resourceType"] == rtype
                and _subject(r) == f"Patient/{pid}"]
        page = int(request.query_params.get("_page", "1"))
        chunk = hits[(page - 1) * PAGE: page * PAGE]
        bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset",
                                  "total": len(hits),
                                  "entry": [{"resource": r} for r in chunk]}
        here = f"{stub.base}/{mode}/{rtype}?patient={pid}"
        if mode == "loop":
            bundle["link"] = [{"relation": "next", "url": f"{here}&_page=1"}]
        elif mode == "elsewhere" and page == 1:
            bundle["link"] = [{"relation": "next",
                               "url": f"http://127.0.0.2:9/fhir/{rtype}?page=2"}]
        elif mode == "fhir" and page * PAGE < len(hits):
            bundle["link"] = [{"relation": "self", "url": f"{here}&_page={page}"},
                              {"relation": "next", "url": f"{here}&_page={page + 1}"}]
        return JSONResponse(bundle)

    async def jwks(request: Request) -> JSONResponse:
        stub_ref[0].seen.append((request.url.path, None))
        return JSONResponse(stub_ref[0].jwks)

    return Starlette(routes=[
        Route("/jwks.json", jwks),
        Route("/{mode:str}/{rtype:str}/{rid:str}", serve),
        Route("/{mode:str}/{rtype:str}", serve),
    ])


@contextmanager
def start(resources: list[dict[str, Any]],
          jwks: dict[str, Any] | None = None) -> Iterator[Stub]:
    """Serve ``resources`` on 127.0.0.1 (a free port) until the block ends."""
    # IPPROTO_TCP given, so that asyncio sets TCP_NODELAY on the accepted connections (with
    # proto 0 it does not, and each answer written in two parts waits ~40 ms for the
    # client's delayed ACK)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    stub = Stub(base=f"http://127.0.0.1:{port}", resources=resources,
                jwks=jwks or {"keys": []})
    config = uvicorn.Config(_app([stub]), log_level="warning", access_log=False,
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the loopback FHIR stub did not start within 10 s")
        time.sleep(0.01)
    try:
        yield stub
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
