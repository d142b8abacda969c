"""Routes of the web page. Every clinical answer comes from the library it calls."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from allpath import DISCLAIMER, __version__
from allpath.errors import AllPathError, Problem, RecordError, TrialDataError, UnknownRuleError
from allpath.examples import example_paths
from allpath.pipeline import assess
from allpath.record.load import load_yaml_text, parse_record
from allpath.record.vocabulary import load_vocabulary
from allpath.rules.loader import load_knowledge

__all__ = ["create_web_app", "mount_web", "web_router"]

_STATIC = Path(str(resources.files("allpath.web"))) / "static"
_MAX_TEXT = 2_000_000  # characters of a pasted record
_MAX_PLACE = 100  # characters of a country, state or city filter


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
        data = load_yaml_text(text, "pasted record")  # no aliases, bounded size
    except yaml.YAMLError as exc:
        raise RecordError([_yaml_problem(exc)]) from None
    if isinstance(data, dict) and data.get("resourceType") == "Bundle":
        from allpath.interop.fhir import read_bundle

        imported = read_bundle(data)
        return parse_record(imported.record, source="FHIR Bundle")
    return parse_record(data, source="pasted record")


def _yaml_problem(exc: yaml.YAMLError) -> Any:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return Problem(where, f"malformed YAML or JSON: {getattr(exc, 'problem', exc)}")


def _int_query(name: str, raw: str | None, default: int, top: int,
               problems: list[Problem]) -> int:
    """A whole-number query parameter in 1..top; a bad one adds a problem (and gives default)."""
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= top:
        problems.append(Problem(name, "must be a whole number in range",
                                expected=f"1 to {top}", got=raw[:40]))
        return default
    return value


def _place_query(name: str, raw: str | None, problems: list[Problem]) -> str | None:
    """A place filter as registered (blank means no filter)."""
    if raw is None or not raw.strip():
        return None
    if len(raw) > _MAX_PLACE:
        problems.append(Problem(name, "too long", expected=f"at most {_MAX_PLACE} characters",
                                got=f"{len(raw)} characters"))
        return None
    return raw.strip()


def _bad_request(problems: list[Problem]) -> JSONResponse:
    return _problem(422, "The request has problems", [p.as_dict() for p in problems])


def _trial_data_problem(err: TrialDataError) -> JSONResponse:
    return _problem(500, "The trial registry cannot be read", [p.as_dict() for p in err.problems])


def web_router(*, paste_page: bool = True) -> APIRouter:
    """The pages and their JSON endpoints, to mount in any FastAPI app. Without
    ``paste_page`` (the service), ``/`` leads to the signed-in application instead of the
    stand-alone paste-a-record page, and the page helpers stay out of the API's OpenAPI
    document."""
    router = APIRouter(include_in_schema=paste_page)

    if paste_page:
        @router.get("/", response_class=HTMLResponse, include_in_schema=False)
        def clinician_page() -> FileResponse:
            return FileResponse(_STATIC / "index.html")
    else:
        @router.get("/", include_in_schema=False)
        def to_application() -> RedirectResponse:
            return RedirectResponse("/app", status_code=303)

    @router.get("/family", response_class=HTMLResponse, include_in_schema=False)
    def family_page() -> FileResponse:
        return FileResponse(_STATIC / "family.html")

    @router.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        path = (_STATIC / name).resolve()
        if path.parent != _STATIC.resolve() or not path.is_file():
            raise HTTPException(404, "not found")
        return FileResponse(path)

    @router.get("/static/vendor/{name}", include_in_schema=False)
    def vendored(name: str) -> FileResponse:
        """Third-party files shipped with the package (no CDN); see NOTICE."""
        folder = (_STATIC / "vendor").resolve()
        path = (folder / name).resolve()
        if path.parent != folder or not path.is_file():
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

    @router.get("/web/symptoms", response_model=None)
    def symptoms(labels: str | None = None) -> list[str] | list[dict[str, str]]:
        """Symptom codes; with ``labels=plain`` each with the plain words families see."""
        codes = sorted(load_vocabulary().canonical_terms("symptoms"))
        if labels is None:
            return codes
        if labels != "plain":
            raise HTTPException(400, "labels: expected 'plain'")
        from allpath.triage.texts import SYMPTOM_PLAIN

        out = [{"code": c, "label": SYMPTOM_PLAIN.get(c, c.replace("_", " "))} for c in codes]
        return sorted(out, key=lambda d: d["label"].lower().removeprefix("a "))

    @router.post("/web/triage", response_model=None)
    def web_triage(body: dict[str, Any]) -> JSONResponse | dict[str, Any]:
        from allpath.triage import triage

        doc = {"format": "allpath.triage/1", **body}
        try:
            return triage(doc).to_dict()
        except RecordError as err:
            return _problem(422, "The answers have problems", [p.as_dict() for p in err.problems])

    @router.get("/web/guide", response_model=None)
    def guide(topic: str | None = None,
              team_phone: str | None = None) -> JSONResponse | dict[str, Any]:
        """The family guide; ``team_phone`` (the team's 24-hour number) is shown back."""
        from allpath.guide.core import general_guide

        try:
            return general_guide(topic, team_phone=team_phone).to_dict()
        except RecordError as err:
            return _problem(422, "The phone number has a problem",
                            [p.as_dict() for p in err.problems])
        except AllPathError as err:
            raise HTTPException(404, str(err)) from None

    @router.post("/web/trials", response_model=None)
    def web_trials(body: TextIn, limit: str | None = None,
                   country: str | None = None) -> JSONResponse | dict[str, Any]:
        """``allpath.trial_matches/1`` for the record: open studies that could fit, best first."""
        from allpath.trials import bundled_trials, match_trials

        problems: list[Problem] = []
        n = _int_query("limit", limit, 10, 50, problems)
        where = _place_query("country", country, problems)
        if problems:
            return _bad_request(problems)
        try:
            assessment = assess(_record_from_text(body.text))
            return match_trials(assessment, bundled_trials(), country=where, limit=n).to_dict()
        except RecordError as err:
            return _problem(422, "The record has problems",
                            [p.as_dict() for p in err.problems])
        except TrialDataError as err:
            return _trial_data_problem(err)

    @router.get("/web/centres", response_model=None)
    def web_centres(country: str | None = None, state: str | None = None,
                    city: str | None = None,
                    limit: str | None = None) -> JSONResponse | dict[str, Any]:
        """Centres taking part in open ALL studies, by place as registered."""
        from allpath.trials import bundled_trials, find_centres

        problems: list[Problem] = []
        n = _int_query("limit", limit, 20, 100, problems)
        places = {k: _place_query(k, v, problems)
                  for k, v in (("country", country), ("state", state), ("city", city))}
        if problems:
            return _bad_request(problems)
        try:
            centres = find_centres(bundled_trials(), country=places["country"],
                                   state=places["state"], city=places["city"])
        except TrialDataError as err:
            return _trial_data_problem(err)
        return {"centres": [c.to_dict() for c in centres[:n]], "total": len(centres)}

    return router


def create_web_app() -> FastAPI:
    """A FastAPI app with the web page only (used by ``allpath web``)."""
    app = FastAPI(title="ALLPath web page", version=__version__, docs_url=None, redoc_url=None)
    app.include_router(web_router())
    from allpath.api.guard import GuardMiddleware  # body limit (413), headers, CSP
    from allpath.api.problems import install_handlers  # problem+json, no echoed input

    install_handlers(app)
    app.add_middleware(GuardMiddleware, max_body_bytes=2 * _MAX_TEXT + 64 * 1024,
                       csp_pages=tuple(_STATIC.glob("*.html")))
    return app


def mount_web(app: FastAPI, *, share_secret: str | None = None) -> None:
    """Serve the clinician application (sign-in, stored patients, family links) and the
    stand-alone family page on the API app ``app`` (``allpath serve``)."""
    from allpath.web.clinic import clinic_router

    app.include_router(clinic_router(share_secret=share_secret))
    app.include_router(web_router(paste_page=False))
