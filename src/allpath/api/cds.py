"""CDS Hooks 2.0 services: discovery, ``patient-view``, ``order-sign`` and feedback.

Cards come from the library's assessment and roadmap; each card's ``source`` names the rule
(or protocol template) and its citations, with a link to the rule's explanation. The
services read the patient from the prefetched FHIR resources when the FHIR importer is
installed, else from the patient stored under ``context.patientId`` (external or internal
id). Nothing is fetched from the EHR's FHIR server.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field
from sqlalchemy import or_, select

from allpath.api.deps import Caller, CallerDep, audit, get_db, settings_of, trial_registry
from allpath.api.dose_input import dose_problem, without_dose
from allpath.api.inputs import MAX_BUNDLE_ENTRIES, check_values, feature, fhir_available
from allpath.api.problems import PROBLEM_RESPONSES, ApiProblem
from allpath.db import CdsFeedback, Patient, RecordVersion
from allpath.errors import Problem, RecordError
from allpath.orders import OrderFinding, check_orders
from allpath.outputs.assessment import Assessment
from allpath.pipeline import assess as run_assess
from allpath.record import PatientRecord, parse_record

__all__ = ["SERVICES", "router"]

router = APIRouter(tags=["cds-hooks"])

RULE_SYSTEM = "https://allpath.invalid/rules"
DUE_WINDOW_DAYS = 14  # operational display window for "due soon" (not a clinical rule)

_PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}&_count=1000",
    "medications": "MedicationRequest?patient={{context.patientId}}",
}

SERVICES: list[dict[str, Any]] = [
    {
        "hook": "patient-view",
        "id": "allpath-patient-view",
        "title": "ALLPath: acute lymphoblastic leukaemia pathway",
        "description": "Risk group, current phase and day, due and overdue checkpoints and "
                       "supportive-care alerts, each linked to its rule and sources, and "
                       "open clinical trials that could fit (pre-screen). "
                       "Decision support only: it never replaces the care team.",
        "prefetch": _PREFETCH,
        "usageRequirements": "Send `Authorization: Bearer <ALLPath token>`.",
    },
    {
        "hook": "order-sign",
        "id": "allpath-order-sign",
        "title": "ALLPath: chemotherapy order check",
        "description": "Checks proposed MedicationRequests: the drug (RxNorm code or "
                       "name), the BSA-based dose and cap of the patient's protocol template, "
                       "maintenance 6-MP/methotrexate against the titration, platelets before "
                       "an intrathecal order, interactions (vincristine-azoles, "
                       "6-MP-allopurinol, methotrexate-PPI/NSAID/co-trimoxazole) and the "
                       "latest counts. An order it cannot identify gets an info card.",
        "prefetch": _PREFETCH,
        "usageRequirements": "Send `Authorization: Bearer <ALLPath token>`.",
    },
]

MAX_DRAFT_ORDERS = 50  # one order-sign request
_HOOKS = frozenset(str(s["hook"]) for s in SERVICES)

class HookRequest(BaseModel):
    """A CDS Hooks request (extra fields allowed, as the spec requires)."""

    model_config = {"extra": "allow"}

    hook: str = Field(max_length=100)
    hookInstance: str = Field(max_length=200)  # noqa: N815 (spec name)
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None
    fhirServer: str | None = Field(default=None, max_length=2000)  # noqa: N815
    extension: dict[str, Any] | None = None


class Coding(BaseModel):
    model_config = {"extra": "allow"}
    code: str | None = Field(default=None, max_length=200)
    system: str | None = Field(default=None, max_length=500)
    display: str | None = Field(default=None, max_length=500)


class OverrideReason(BaseModel):
    model_config = {"extra": "allow"}
    reason: Coding | None = None
    userComment: str | None = Field(default=None, max_length=2000)  # noqa: N815


class FeedbackEntry(BaseModel):
    model_config = {"extra": "allow"}
    card: str = Field(min_length=1, max_length=100)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[dict[str, Any]] = Field(  # noqa: N815
        default_factory=list, max_length=100)
    overrideReason: OverrideReason | None = None  # noqa: N815
    outcomeTimestamp: str | None = Field(default=None, max_length=40)  # noqa: N815


class FeedbackRequest(BaseModel):
    feedback: list[FeedbackEntry] = Field(min_length=1, max_length=100)


class CardsResponse(BaseModel):
    cards: list[dict[str, Any]]
    systemActions: list[dict[str, Any]] = []  # noqa: N815


# ----------------------------------------------------------------------------- helpers


def _base(request: Request) -> str:
    """Where card links point: the configured public URL (``ALLPATH_PUBLIC_URL``), else the
    address the server listens on; never the request's ``Host`` header, which the caller
    chooses."""
    public = settings_of(request).public_url
    if public:
        return public.rstrip("/")
    host, port = request.scope.get("server") or ("127.0.0.1", 8000)
    scheme = request.url.scheme if request.url.scheme in ("http", "https") else "http"
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def _source(request: Request, rule_id: str | None, cite: list[str], label: str | None = None,
            ) -> dict[str, Any]:
    cites = f" [{', '.join(cite)}]" if cite else ""
    src: dict[str, Any] = {"label": (label or f"ALLPath rule {rule_id or '-'}") + cites}
    if rule_id:
        src["url"] = f"{_base(request)}/v1/rules/{rule_id}"
        src["topic"] = {"system": RULE_SYSTEM, "code": rule_id, "display": label or rule_id}
    return src


def _card(summary: str, indicator: str, source: dict[str, Any], detail: str | None = None,
          links: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    card: dict[str, Any] = {"uuid": str(uuid.uuid4()),
                            "summary": summary if len(summary) < 140 else summary[:136] + "...",
                            "indicator": indicator, "source": source}
    if detail:
        card["detail"] = detail
    if links:
        card["links"] = links
    return card


def _link(request: Request, label: str, path: str) -> dict[str, Any]:
    return {"label": label[:140], "url": f"{_base(request)}{path}", "type": "absolute"}


def _resources(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") == "Bundle":
        entries = value.get("entry")
        if not isinstance(entries, list):
            return []
        out = []
        for e in entries:
            if isinstance(e, dict) and isinstance(e.get("resource"), dict):
                out.append(e["resource"])
        return out
    return [value] if isinstance(value.get("resourceType"), str) else []


def _record_from_prefetch(prefetch: dict[str, Any]) -> PatientRecord | None:
    mod = feature("allpath.interop.fhir")
    if mod is None or not fhir_available():
        return None
    resources = [r for v in prefetch.values() for r in _resources(v)]
    if not any(r.get("resourceType") == "Patient" for r in resources):
        return None
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": r} for r in resources]}
    data = mod.read_bundle(bundle).record
    return parse_record(data, source="CDS Hooks prefetch")


def _stored_record(request: Request, caller: Caller, patient_ref: str, hook: str,
                   user: object = None) -> tuple[PatientRecord, str] | None:
    ref = patient_ref.removeprefix("Patient/")[:200]
    with get_db(request).transaction() as session:
        p = session.scalars(select(Patient).where(
            or_(Patient.external_id == ref, Patient.id == ref))).first()
        if p is None:
            return None
        row = session.scalars(select(RecordVersion).where(RecordVersion.patient_id == p.id)
                              .order_by(RecordVersion.version.desc()).limit(1)).first()
        if row is None:
            return None
        audit(session, caller, f"cds.{hook if hook in _HOOKS else 'other'}", p.id,
              user=user)
        return parse_record(row.record), p.id


def _patient(request: Request, caller: Caller, hook: HookRequest,
             ) -> tuple[PatientRecord | None, str | None]:
    if hook.prefetch:
        n = sum(len(_resources(v)) for v in hook.prefetch.values())
        if n > MAX_BUNDLE_ENTRIES:
            raise RecordError([Problem("prefetch", "too many prefetched resources",
                                       expected=f"at most {MAX_BUNDLE_ENTRIES}",
                                       got=str(n))])
        check_values(hook.prefetch, "prefetch")
        rec = _record_from_prefetch(hook.prefetch)
        if rec is not None:
            return rec, None
    pid = hook.context.get("patientId")
    if not isinstance(pid, str) or not pid:
        raise ApiProblem(422, "context.patientId is required", type_="invalid-request")
    stored = _stored_record(request, caller, pid, hook.hook, hook.context.get("userId"))
    if stored is None:
        return None, None
    return stored


def _reference_date(request: Request, hook: HookRequest) -> dt.date:
    ext = hook.extension or {}
    raw = ext.get("allpath-reference-date")
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise ApiProblem(422, "extension.allpath-reference-date must be YYYY-MM-DD"
                             ) from None
    return settings_of(request).today()


def _unknown_patient_card(request: Request) -> dict[str, Any]:
    return _card("ALLPath has no data for this patient", "info",
                 {"label": "ALLPath"},
                 "Neither prefetched FHIR data ALLPath can read nor a stored ALLPath patient "
                 "with this id was found.")


# ------------------------------------------------------------------------- patient-view

_INDICATOR = {"critical": "critical", "warning": "warning", "high": "critical",
              "moderate": "warning"}


def _risk_cards(request: Request, doc: dict[str, Any], stored: str | None,
                ) -> list[dict[str, Any]]:
    diag = doc["diagnosis"]
    applicable = [r for r in doc["risk"] if r["group"] not in ("not_applicable",
                                                               "not_eligible")]
    parts = []
    for r in applicable:
        prov = " (provisional)" if r["provisional"] else ""
        parts.append(f"{r['scheme']} {r['group']}{prov}")
    cur = doc.get("current") or {}
    phase = ""
    if cur.get("last_recorded_phase"):
        phase = f"; {cur['last_recorded_phase']} day {cur.get('days_since_phase_start')}"
    summary = f"ALL pathway: {diag['status']}"
    if diag.get("subtype", {}).get("key") not in (None, "unknown"):
        summary += f" {diag['subtype']['key']}"
    if parts:
        summary += f"; risk {parts[0]}"
    summary += phase
    lines = [f"**Diagnosis**: {diag['status']}, lineage {diag.get('lineage')}, subtype "
             f"{diag.get('subtype', {}).get('key')} (rule "
             f"`{diag.get('subtype', {}).get('rule_id')}`)", "", "**Risk groups**:", ""]
    for r in applicable or doc["risk"][:1]:
        prov = " *provisional*" if r["provisional"] else ""
        why = f": {r['provisional_reason']}" if r.get("provisional_reason") else ""
        lines.append(f"- {r['scheme']}: **{r['group']}**{prov} (rule `{r['rule_id']}`, "
                     f"{', '.join(r['citations'])}){why}")
    if cur.get("last_recorded_phase"):
        lines += ["", f"**Current phase**: {cur['last_recorded_phase']} since "
                      f"{cur.get('phase_start')}, day {cur.get('days_since_phase_start')} "
                      f"(as recorded)"]
    if doc.get("tests_to_order"):
        lines += ["", "**Would settle open questions**: " + "; ".join(doc["tests_to_order"])]
    lines += ["", f"_{doc['disclaimer']}_"]
    main = applicable[0] if applicable else None
    rule_id = main["rule_id"] if main else diag.get("subtype", {}).get("rule_id")
    cite = list(main["citations"]) if main else []
    links = [_link(request, f"Why: rule {r['rule_id']}", f"/v1/rules/{r['rule_id']}")
             for r in applicable if r.get("rule_id")]
    if stored:
        links.append(_link(request, "Assessment history",
                           f"/v1/patients/{stored}/assessments"))
    indicator = "warning" if any(r["provisional"] for r in applicable) else "info"
    return [_card(summary, indicator, _source(request, rule_id, cite), "\n".join(lines),
                  links)]


def _alert_cards(request: Request, doc: dict[str, Any]) -> list[dict[str, Any]]:
    cards = []
    for a in doc.get("alerts", []):
        tr = a.get("trace") or {}
        rid = tr.get("rule_id")
        cards.append(_card(a["message"], _INDICATOR.get(str(a.get("severity")), "info"),
                           _source(request, rid, list(tr.get("citations") or [])),
                           f"Alert `{a['id']}` ({a.get('severity')}).",
                           [_link(request, f"Why: rule {rid}", f"/v1/rules/{rid}")]
                           if rid else None))
    return cards


def _due_cards(request: Request, a: Assessment, on: dt.date) -> list[dict[str, Any]]:
    mod = feature("allpath.roadmap")
    if mod is None:
        return []
    rm = mod.build_roadmap(a).to_dict()
    t = rm.get("template")
    if not t:
        return []
    sel = rm.get("selection") or {}
    latest = max((o.time for o in a.timeline), default=None)
    due, overdue = [], []
    for item in rm.get("checkpoints", []):
        when = dt.date.fromisoformat(str(item["date"]))
        text = f"{item['title']} ({item['phase']} day {item['phase_day']}, {when})"
        if on <= when <= on + dt.timedelta(days=DUE_WINDOW_DAYS):
            due.append(text)
        elif when < on and (latest is None or latest < when):
            overdue.append(text)
    if not due and not overdue:
        return []
    lines = [f"Protocol template **{t['title']}** ({t['id']} v{t['version']}), reference "
             f"date {on}."]
    if overdue:
        lines += ["", "**Overdue** (date passed, nothing recorded since):", ""]
        lines += [f"- {x}" for x in overdue]
    if due:
        lines += ["", f"**Due in the next {DUE_WINDOW_DAYS} days**:", ""]
        lines += [f"- {x}" for x in due]
    summary = (f"{len(overdue)} overdue, " if overdue else "") + f"{len(due)} due soon: " + \
        (overdue + due)[0]
    rid = sel.get("rule_id")
    return [_card(summary, "warning" if overdue else "info",
                  _source(request, rid, list(sel.get("cite") or t.get("cite") or []),
                          f"ALLPath roadmap {t['id']} (rule {rid})"),
                  "\n".join(lines),
                  [_link(request, f"Why this template: rule {rid}", f"/v1/rules/{rid}")]
                  if rid else None)]


def _trial_cards(request: Request, a: Assessment) -> list[dict[str, Any]]:
    """One info card: open studies that could fit, top three linked (never a decision)."""
    mod = feature("allpath.trials")
    if mod is None:
        return []
    report = mod.match_trials(a, trial_registry(request), limit=3)
    fit, check = report.count("possible"), report.count("check")
    if not report.matches:
        return []
    lines = [f"{report.screened} open studies pre-screened (criteria "
             f"{report.criteria_version}): {fit} could fit, {check} need checking.", ""]
    for m in report.matches:
        unknown = ", ".join(c.label for c in m.unknown)
        lines.append(f"- **{m.trial.nct_id}** {m.trial.title}"
                     + (f" (unknown: {unknown})" if unknown else ""))
    lines += ["", mod.TRIALS_DISCLAIMER]
    links = [{"label": f"{m.trial.nct_id} on ClinicalTrials.gov", "url": m.trial.url,
              "type": "absolute"} for m in report.matches]
    return [_card(f"Clinical trials: {fit} open studies could fit, {check} need checking",
                  "info", {"label": "ALLPath trial pre-screen [CTGOV-GLOSSARY]",
                           "url": "https://clinicaltrials.gov/study-basics/glossary"},
                  "\n".join(lines), links)]


@router.get("/cds-services", summary="CDS Hooks discovery (no token needed)")
def discovery() -> dict[str, Any]:
    return {"services": SERVICES}


@router.post("/cds-services/allpath-patient-view", summary="CDS Hooks patient-view",
             responses=PROBLEM_RESPONSES)
def patient_view(request: Request, hook: HookRequest, caller: CallerDep) -> CardsResponse:
    try:
        record, stored = _patient(request, caller, hook)
    except RecordError as err:
        return CardsResponse(cards=[_card("ALLPath could not read this patient's data",
                                          "info", {"label": "ALLPath"},
                                          f"{len(err.problems)} problem(s) in the data.")])
    if record is None:
        return CardsResponse(cards=[_unknown_patient_card(request)])
    a = run_assess(record)
    doc = a.to_dict()
    cards = _risk_cards(request, doc, stored)
    cards += _alert_cards(request, doc)
    cards += _due_cards(request, a, _reference_date(request, hook))
    cards += _trial_cards(request, a)
    return CardsResponse(cards=cards)


# --------------------------------------------------------------------------- order-sign
# The checks live in allpath.orders (thresholds in packs/82-orders.yaml); the hook only
# adapts the request to the library and the findings to cards.


def _order_card(request: Request, f: OrderFinding) -> dict[str, Any]:
    src = _source(request, f.rule_id, list(f.cite), f.label)
    links = [_link(request, f"Why: rule {rid}", f"/v1/rules/{rid}")
             for rid in (f.rule_links or ((f.rule_id,) if f.rule_id else ()))]
    return _card(f.summary, f.indicator, src, f.detail, links or None)


def _draft_orders(context: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in _resources(context.get("draftOrders"))
            if r.get("resourceType") == "MedicationRequest"]


@router.post("/cds-services/allpath-order-sign", summary="CDS Hooks order-sign",
             responses=PROBLEM_RESPONSES)
def order_sign(request: Request, hook: HookRequest, caller: CallerDep) -> CardsResponse:
    orders = _draft_orders(hook.context)
    if not orders:
        return CardsResponse(cards=[])
    if len(orders) > MAX_DRAFT_ORDERS:  # bounded cost: each order is checked in full
        raise RecordError([Problem("context.draftOrders", "too many draft orders",
                                   expected=f"at most {MAX_DRAFT_ORDERS}",
                                   got=str(len(orders)))])
    try:
        record, _stored = _patient(request, caller, hook)
    except RecordError as err:
        return CardsResponse(cards=[_card("ALLPath could not read this patient's data",
                                          "info", {"label": "ALLPath"},
                                          f"{len(err.problems)} problem(s) in the data.")])
    if record is None:
        return CardsResponse(cards=[_unknown_patient_card(request)])
    a = run_assess(record)
    on = _reference_date(request, hook)
    resources = [r for v in (hook.prefetch or {}).values() for r in _resources(v)]
    resources += [r for r in _resources(hook.context.get("draftOrders"))
                  if r.get("resourceType") == "Medication"]
    # a dose that is not a plausible positive number is never compared (dose_input.py)
    problems = [dose_problem(mr) for mr in orders]
    unchecked = [_card("ALLPath could not check this dose: " + why, "warning",
                       {"label": "ALLPath"}, "The order's dose quantity is not a plausible "
                       "positive amount, so it was not compared with the protocol dose. "
                       "Check the dose and its unit before signing.")
                 for why in problems if why is not None]
    orders = [mr if why is None else without_dose(mr) for mr, why in zip(orders, problems,
                                                                         strict=True)]
    findings = check_orders(a, orders, resources, on, feature("allpath.roadmap"))
    return CardsResponse(cards=unchecked + [_order_card(request, f) for f in findings])


@router.post("/cds-services/{service_id}/feedback", summary="CDS Hooks feedback",
             responses=PROBLEM_RESPONSES)
def feedback(request: Request, service_id: str, caller: CallerDep,
             body: Annotated[FeedbackRequest, Body()]) -> dict[str, Any]:
    if service_id not in {s["id"] for s in SERVICES}:
        raise ApiProblem(404, "no such CDS service")
    check_values(body.model_dump(), "feedback")
    with get_db(request).transaction() as session:
        for f in body.feedback:
            session.add(CdsFeedback(
                service_id=service_id, card=f.card, outcome=f.outcome,
                outcome_timestamp=f.outcomeTimestamp,
                accepted_suggestions=f.acceptedSuggestions,
                override_reason=f.overrideReason.model_dump(exclude_none=True)
                if f.overrideReason else None, actor=caller.actor))
        audit(session, caller, "cds.feedback", None, f"{service_id}: {len(body.feedback)}")
    return {"stored": len(body.feedback)}
