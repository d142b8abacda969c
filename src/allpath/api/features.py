"""Stateless endpoints over the library: assess, triage, roadmap, titrate, guide, rules.

The API holds no clinical logic: each handler reads the body, calls the library and returns
the library's own JSON document.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable, Coroutine
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import orjson
import yaml
from fastapi import APIRouter, Body, Query, Request
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from allpath.api.deps import CallerDep, trial_registry
from allpath.api.inputs import check_date, check_values, read_record
from allpath.api.problems import PROBLEM_RESPONSES, ApiProblem
from allpath.errors import RecordError
from allpath.pipeline import assess as run_assess
from allpath.pipeline import roadmap_setting
from allpath.rules.loader import load_knowledge

__all__ = ["router"]

class _FastJSONRequest(Request):
    """A request whose JSON body is read by orjson (several times faster than the standard
    library). A body orjson refuses goes to the standard library exactly as before: it also
    reads NaN, Infinity and integers past 64 bits, which the record checks then refuse field
    by field, and it raises the same JSONDecodeError (FastAPI's 422) for what is not JSON."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                parsed = orjson.loads(body)
            except orjson.JSONDecodeError:
                parsed = json.loads(body)
            self._json = parsed
        return self._json


class _FastJSONRoute(APIRoute):
    """Routes of this router read their JSON bodies through :class:`_FastJSONRequest` (the
    custom request class pattern of FastAPI's documentation)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await handler(_FastJSONRequest(request.scope, request.receive))

        return route


router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES, route_class=_FastJSONRoute)

RecordBody = Annotated[dict[str, Any], Body(
    description="A patient record (`allpath.record/1`, see docs/record-format.md) or a FHIR "
                "R4 Bundle (`resourceType: Bundle`, needs the FHIR importer).",
    openapi_examples={"record": {"summary": "minimal record", "value": {
        "format": "allpath.record/1", "id": "p1", "sex": "female",
        "birth_date": "2020-02-10", "observations": [
            {"code": "wbc", "value": 12.4, "unit": "10*9/L", "time": "2024-05-01"}]}}})]
_OBJECT = {"type": "object", "additionalProperties": True}


def json_document(doc: Any) -> Response:
    """A library JSON document as the response, encoded once with orjson (compact UTF-8, as
    FastAPI's ``JSONResponse`` writes it, in a tenth of the time of the standard library's
    encoder), without validating and re-encoding a large document that the library already
    made JSON-ready (an assessment is ~100 kB). Records refuse NaN and infinities at the
    edge (``check_values``), so none reaches a document."""
    return Response(orjson.dumps(doc), media_type="application/json")


class Output(StrEnum):
    native = "native"
    fhir = "fhir"


@router.post("/assess", summary="Assess one record (native or FHIR Bundle)", tags=["pathway"],
             response_description="The assessment (`allpath.assessment/1`), as `allpath "
                                  "assess --format json` prints it; with `output=fhir` a "
                                  "FHIR R4 Bundle (needs the FHIR exporter).",
             response_model=dict[str, Any])
async def assess(body: RecordBody, caller: CallerDep, output: Output = Output.native,
           as_of: Annotated[dt.date | None, Query(
               description="Date the assessment speaks for (default: the latest date in the "
                           "record), as `allpath assess --as-of`.")] = None,
           ) -> Response:
    # pure computation without I/O: run on the event loop (``async``), which spares each
    # request the hand-off to a worker thread and back (about 2 ms of CPU and half the p99
    # latency in benchmarks/api.py); the worker processes give the parallelism
    if as_of is not None and (bad := check_date("as_of", as_of)) is not None:
        raise RecordError([bad])
    parsed = read_record(body)
    if parsed.no_leukaemia is not None and output is Output.native:
        # a Bundle without ALL: say so plainly (allpath.no-leukaemia/1), as `allpath assess`
        # does, instead of an assessment that lists marrow tests to order
        return JSONResponse(jsonable_encoder(parsed.no_leukaemia))
    a = run_assess(parsed.record, as_of=as_of)
    if output is Output.fhir:
        from allpath.interop.fhir import assessment_to_bundle

        # a Bundle sent in is the source: its Patient's names and identifiers (MRN system
        # kept) and the Condition's own codes travel into the export (mCODE CancerPatient)
        source = body if isinstance(body, dict) and body.get("resourceType") == "Bundle" \
            else None
        return JSONResponse(jsonable_encoder(assessment_to_bundle(a, source=source)))
    doc: dict[str, Any] = a.to_dict()
    if parsed.warnings:  # a FHIR Bundle: what the import refused or left out, with paths
        doc["import_warnings"] = list(parsed.warnings)
    return json_document(doc)


@router.post("/triage", summary="Triage one person from symptoms and a blood count",
             tags=["pathway"])
def triage(caller: CallerDep, body: Annotated[dict[str, Any], Body(
        description="`allpath.triage/1` document or an `allpath.record/1` record.")],
           ) -> dict[str, Any]:
    import allpath.triage as mod

    check_values(body)
    doc: dict[str, Any] = mod.triage(body).to_dict()
    return doc


class Setting(StrEnum):
    auto = "auto"
    frontline = "frontline"
    relapsed = "relapsed"
    refractory = "refractory"


@router.post("/roadmap", summary="Treatment roadmap of one record", tags=["pathway"])
def roadmap(
    body: RecordBody, caller: CallerDep,
    start: Annotated[dt.date | None, Query(description="First day of treatment.")] = None,
    setting: Annotated[Setting, Query(
        description="auto: relapsed after a confirmed relapse (dated from it), else "
                    "frontline.")] = Setting.auto,
    template: Annotated[str | None, Query(max_length=100,
                                          description="Template id to lay out instead of "
                                                      "the chosen one.")] = None,
) -> dict[str, Any]:
    import allpath.roadmap as mod

    if start is not None and (bad := check_date("start", start)) is not None:
        raise RecordError([bad])
    parsed = read_record(body)
    a = run_assess(parsed.record)
    if template is not None and template not in mod.load_templates():
        raise ApiProblem(422, f"no template {template!r}", type_="invalid-request")
    chosen, relapse_date = roadmap_setting(a.monitoring, setting.value)
    doc: dict[str, Any] = mod.build_roadmap(
        a, start, setting=chosen, template=template, relapse_date=relapse_date,
        course=mod.course_of(a.monitoring, a.record)).to_dict()
    return json.loads(json.dumps(doc, default=str))  # type: ignore[no-any-return]


class Basis(StrEnum):
    auto = "auto"
    anc = "anc"


_TITRATE_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {**_OBJECT, "description": "A maintenance log "
                                    "`allpath.maintenance-log/1` as JSON."}},
    "text/csv": {"schema": {"type": "string", "description": "allMT or native CSV log."}},
}}}


MAX_TITRATE_BYTES = 256_000


@router.post("/titrate", summary="Maintenance titration of a log, visit by visit",
             tags=["pathway"], openapi_extra=_TITRATE_BODY)
async def titrate(request: Request, caller: CallerDep, basis: Basis = Basis.auto,
                  ) -> JSONResponse:
    import allpath.monitoring.titration as mod

    raw = await request.body()
    if len(raw) > MAX_TITRATE_BYTES:  # a log of years of visits is a few tens of kB
        raise ApiProblem(413, f"a maintenance log is at most {MAX_TITRATE_BYTES} bytes here",
                         type_="payload-too-large")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("text/csv", "text/plain"):
        suffix, text = ".csv", raw.decode("utf-8", errors="replace")
    elif ctype in ("application/json", ""):
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiProblem(422, "the body is not valid JSON", type_="invalid-request"
                             ) from None
        if not isinstance(doc, dict):
            raise ApiProblem(422, "the body must be a JSON object", type_="invalid-request")
        check_values(doc)
        suffix, text = ".yaml", yaml.safe_dump(doc)
    else:
        raise ApiProblem(415, "send application/json or text/csv")
    with tempfile.TemporaryDirectory(prefix="allpath-titrate-") as tmp:
        path = Path(tmp) / f"log{suffix}"
        path.write_text(text, encoding="utf-8")
        run = mod.titrate_file(path, basis=basis.value)
    out = run.as_dict()
    out["source"] = "request body"
    return JSONResponse(json.loads(json.dumps(out, default=str)))


def _guide() -> Any:
    import allpath.guide as mod

    return mod


TeamPhone = Annotated[str | None, Query(
    max_length=60, description="The care team's 24-hour phone number, shown in 'When to "
    "call' (digits, spaces, + - ( ) . / and an optional extension). Without it the guide "
    "asks the family to get it.")]


@router.get("/guide", summary="Family guide: every topic", tags=["guide"])
def guide_all(caller: CallerDep, team_phone: TeamPhone = None) -> dict[str, Any]:
    doc: dict[str, Any] = _guide().general_guide(team_phone=team_phone).to_dict()
    return doc


@router.get("/guide/{topic}", summary="Family guide: one topic", tags=["guide"])
def guide_topic(topic: Annotated[str, PathParam(max_length=100)], caller: CallerDep,
                team_phone: TeamPhone = None) -> dict[str, Any]:
    doc: dict[str, Any] = _guide().general_guide(topic, team_phone=team_phone).to_dict()
    return doc


@router.post("/guide", summary="Family guide personalised to a record", tags=["guide"])
def guide_for(body: RecordBody, caller: CallerDep, team_phone: TeamPhone = None,
              ) -> dict[str, Any]:
    mod = _guide()
    doc: dict[str, Any] = mod.personal_guide(read_record(body).record,
                                             team_phone=team_phone).to_dict()
    return doc


@router.get("/rules/{rule_id}", summary="Explain a rule: condition, outcome and sources",
            tags=["pathway"])
def explain(rule_id: str, caller: CallerDep) -> dict[str, Any]:
    kb = load_knowledge()
    pack, decision, rule = kb.rule(rule_id)
    when = getattr(rule, "when", None)
    return {
        "rule_id": rule.id,
        "pack": f"{pack.id}@{pack.version}",
        "decision": {"id": decision.id, "title": decision.title, "scheme": decision.scheme},
        "when": None if when is None else when.model_dump(by_alias=True, exclude_none=True,
                                                          mode="json"),
        "then": json.loads(json.dumps(rule.then, default=str)),
        "evidence": rule.evidence,
        "note": rule.note,
        "citations": {c: kb.citations[c].reference for c in rule.cite if c in kb.citations},
        "ruleset": kb.version,
    }


@router.post("/trials/match", summary="Pre-screen registered trials for one record",
             tags=["trials"],
             response_description="`allpath.trial_matches/1` (every criterion met / not met "
                                  "/ unknown with its source), or with `output=fhir` a FHIR "
                                  "R4 searchset Bundle of ResearchStudy resources.")
def trials_match(
    body: RecordBody, caller: CallerDep, request: Request,
    country: Annotated[str | None, Query(max_length=100, description="Only studies with a "
                                         "site in this country, as registered.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 10,
    include_closed: bool = False, show_excluded: bool = False,
    output: Output = Output.native,
) -> dict[str, Any]:
    from allpath.trials import match_trials

    parsed = read_record(body)
    report = match_trials(run_assess(parsed.record), trial_registry(request), country=country,
                          include_closed=include_closed, include_excluded=show_excluded,
                          limit=limit)
    if output is Output.fhir:
        from allpath.trials.fhir import report_to_bundle

        return report_to_bundle(report)
    return report.to_dict()


@router.get("/trials/centres", summary="Centres taking part in open ALL studies, by place",
            tags=["trials"])
def trials_centres(
    caller: CallerDep, request: Request,
    country: Annotated[str | None, Query(max_length=100)] = None,
    state: Annotated[str | None, Query(max_length=100)] = None,
    city: Annotated[str | None, Query(max_length=100)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    within_km: Annotated[float | None, Query(ge=0, le=20040)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> dict[str, Any]:
    from allpath.trials import find_centres

    if (lat is None) != (lon is None):
        raise ApiProblem(422, "lat and lon go together", type_="invalid-request")
    near = (lat, lon) if lat is not None and lon is not None else None
    if within_km is not None and near is None:
        raise ApiProblem(422, "within_km needs lat and lon", type_="invalid-request")
    centres = find_centres(trial_registry(request), country=country, state=state, city=city,
                           near=near, within_km=within_km, limit=limit)
    return {"centres": [c.to_dict() for c in centres],
            "note": "Centres running open ALL studies in the registry; ask the care team "
                    "about a referral."}
