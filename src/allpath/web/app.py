"""Routes of the web page. Every clinical answer comes from the library it calls."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from allpath import DISCLAIMER, __version__
from allpath.errors import AllPathError, RecordError, UnknownRuleError
from allpath.examples import example_paths
from allpath.pipeline import assess
from allpath.record.load import parse_record
from allpath.record.vocabulary import load_vocabulary
from allpath.rules.loader import load_knowledge

__all__ = ["create_web_app", "web_router"]

_STATIC = Path(str(resources.files("allpath.web"))) / "static"
_MAX_TEXT = 2_000_000  # characters of a pasted record


class TextIn(BaseModel):
    """A record (YAML or JSON text, or a FHIR Bundle as JSON text)."""

    text: str = Field(max_length=_MAX_TEXT)


def _problem(status: int, title: str, errors: list[dict[str, Any]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _record_from_text(text: str) -> Any:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RecordError([_yaml_problem(exc)]) from None
    if isinstance(data, dict) and data.get("resourceType") == "Bundle":
        try:
            from allpath.interop.fhir import read_bundle
        except ImportError:  # FHIR import not installed in this build
            raise HTTPException(415, "FHIR Bundles are not supported by this build") from None
        imported = read_bundle(data)
        return parse_record(imported.record, source="FHIR Bundle")
    return parse_record(data, source="pasted record")


def _yaml_problem(exc: yaml.YAMLError) -> Any:
    from allpath.errors import Problem

    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return Problem(where, f"malformed YAML or JSON: {getattr(exc, 'problem', exc)}")


def web_router() -> APIRouter:
    """The pages and their JSON endpoints, to mount in any FastAPI app."""
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    def clinician_page() -> FileResponse:
        return FileResponse(_STATIC / "index.html")

    @router.get("/family", response_class=HTMLResponse, include_in_schema=False)
    def family_page() -> FileResponse:
        return FileResponse(_STATIC / "family.html")

    @router.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        path = (_STATIC / name).resolve()
        if path.parent != _STATIC.resolve() or not path.is_file():
            raise HTTPException(404, "not found")
        return FileResponse(path)

    @router.get("/web/info")
    def info() -> dict[str, Any]:
        return {"allpath": __version__, "ruleset": load_knowledge().version,
                "disclaimer": DISCLAIMER}

    @router.get("/web/examples")
    def examples() -> list[dict[str, str]]:
        return [{"id": p.stem, "text": p.read_text(encoding="utf-8")} for p in example_paths()]

    @router.post("/web/assess", response_model=None)
    def web_assess(body: TextIn) -> JSONResponse | dict[str, Any]:
        try:
            return assess(_record_from_text(body.text)).to_dict()
        except RecordError as err:
            return _problem(422, "The record has problems",
                            [p.as_dict() for p in err.problems])

    @router.get("/web/explain/{rule_id}")
    def explain(rule_id: str) -> dict[str, Any]:
        kb = load_knowledge()
        try:
            cp, decision, rule = kb.rule(rule_id)
        except UnknownRuleError as err:
            raise HTTPException(404, str(err)) from None
        when = getattr(rule, "when", None)
        return {
            "rule_id": rule.id,
            "pack": f"{cp.id}@{cp.version}",
            "decision": decision.title,
            "scheme": decision.scheme,
            "when": when.model_dump(by_alias=True, exclude_none=True) if when else None,
            "then": rule.then if rule.then is not None else "unknown",
            "evidence": rule.evidence,
            "note": rule.note,
            "sources": [{"id": c, "reference": kb.citations[c].reference} for c in rule.cite],
        }

    @router.get("/web/symptoms")
    def symptoms() -> list[str]:
        return sorted(load_vocabulary().canonical_terms("symptoms"))

    @router.post("/web/triage", response_model=None)
    def web_triage(body: dict[str, Any]) -> JSONResponse | dict[str, Any]:
        from allpath.triage import triage

        doc = {"format": "allpath.triage/1", **body}
        try:
            return triage(doc).to_dict()
        except RecordError as err:
            return _problem(422, "The answers have problems", [p.as_dict() for p in err.problems])

    @router.get("/web/guide")
    def guide(topic: str | None = None) -> dict[str, Any]:
        from allpath.guide.core import general_guide

        try:
            return general_guide(topic).to_dict()
        except AllPathError as err:
            raise HTTPException(404, str(err)) from None

    return router


def create_web_app() -> FastAPI:
    """A FastAPI app with the web page only (used by ``allpath web``)."""
    app = FastAPI(title="ALLPath web page", version=__version__, docs_url=None, redoc_url=None)
    app.include_router(web_router())
    return app
