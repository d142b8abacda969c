"""CDS Hooks 2.0 services: discovery, ``patient-view``, ``order-sign`` and feedback.

Cards come from the library's assessment and roadmap; each card's ``source`` names the rule
(or protocol template) and its citations, with a link to the rule's explanation.

* Authentication (``cds_auth``): the EHR's signed JWT (RS384/ES384, registered issuer,
  ``aud`` = this endpoint, single-use ``jti``), or an ALLPath token.
* Data (``cds_fetch``): the prefetch, completed from ``fhirServer`` where keys are missing
  or hold an OperationOutcome; when no ``fhirServer`` is given, the patient stored in
  ALLPath under ``context.patientId``; when the data cannot be had, 412.
* No alert fatigue: cards only for a chart that concerns ALL (an ALL condition, ALLPath's
  own reading of ALL, the triage pack's blood-count flag, or a patient registered in
  ALLPath); any other chart gets ``{"cards": []}``.
* Every FHIR import warning is in the response's ``extension`` and, summed up, in the card.
* Card links open without an ALLPath token: rule explanations are public pages; a stored
  patient's assessment history is a short-lived signed link (HMAC with an expiry).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer
from sqlalchemy import or_, select
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from allpath.api import features, patients
from allpath.api.cds_auth import CdsCallerDep, fhir_servers_of, public_base
from allpath.api.cds_fetch import DataUnavailable, Gathered, gather
from allpath.api.deps import Caller, audit, get_db, settings_of, trial_registry
from allpath.api.dose_input import dose_problem, without_dose
from allpath.api.inputs import MAX_BUNDLE_ENTRIES, check_values
from allpath.api.problems import PROBLEM_RESPONSES, ApiProblem
from allpath.db import CdsFeedback, Patient, RecordVersion
from allpath.errors import Problem, RecordError
from allpath.orders import OrderFinding, check_orders
from allpath.outputs.assessment import Assessment
from allpath.pipeline import assess as run_assess
from allpath.record import PatientRecord, parse_record

__all__ = ["SERVICES", "CdsCorsMiddleware", "router"]

log = logging.getLogger("allpath.api.cds")

router = APIRouter(tags=["cds-hooks"])

RULE_SYSTEM = "https://allpath.invalid/rules"
DUE_WINDOW_DAYS = 14  # operational display window for "due soon" (not a clinical rule)

_PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}&_count=1000",
    "medications": "MedicationRequest?patient={{context.patientId}}",
}

_USAGE = ("Send `Authorization: Bearer <JWT>` signed RS384 or ES384 by an issuer registered "
          "with this service (CDS Hooks 2.0), or an ALLPath token. Missing prefetch keys are "
          "fetched from `fhirServer` with `fhirAuthorization`; without either, 412.")

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
        "usageRequirements": _USAGE,
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
        "usageRequirements": _USAGE,
    },
]

MAX_DRAFT_ORDERS = 50  # one order-sign request
_HOOKS = frozenset(str(s["hook"]) for s in SERVICES)
_SERVICE_HOOK = {str(s["id"]): str(s["hook"]) for s in SERVICES}
MAX_WARNINGS_LISTED = 200  # import warnings listed in the response extension (all counted)
LINK_TTL_S = 15 * 60  # signed card links stay valid this long (operational, not clinical)

class HookRequest(BaseModel):
    """A CDS Hooks request (extra fields allowed, as the spec requires)."""

    model_config = {"extra": "allow"}

    hook: str = Field(max_length=100)
    hookInstance: str = Field(max_length=200)  # noqa: N815 (spec name)
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None
    fhirServer: str | None = Field(default=None, max_length=2000)  # noqa: N815
    fhirAuthorization: dict[str, Any] | None = None  # noqa: N815 (never logged or stored)
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
    """``cards`` always; ``systemActions`` and ``extension`` only when they hold something
    (CDS Hooks: optional JSON fields are omitted, never empty)."""

    cards: list[dict[str, Any]]
    systemActions: list[dict[str, Any]] = []  # noqa: N815
    extension: dict[str, Any] = {}

    @model_serializer(mode="wrap")
    def _omit_empty(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        for key in ("systemActions", "extension"):
            if not out.get(key):
                out.pop(key, None)
        return out


# ----------------------------------------------------------------------------- helpers


def _base(request: Request) -> str:
    """Where card links point: the configured public URL (``ALLPATH_PUBLIC_URL``), else the
    address the server listens on; never the request's ``Host`` header."""
    return public_base(request)


def _link_key(request: Request) -> bytes:
    """The HMAC key of signed card links: ``ALLPATH_LINK_SECRET``, else one random key per
    process (set the secret when several workers serve the links)."""
    secret = settings_of(request).link_secret
    if secret:
        return secret.encode()
    key: bytes | None = getattr(request.app.state, "link_key", None)
    if key is None:
        key = secrets.token_bytes(32)
        request.app.state.link_key = key
    return key


def _sign(request: Request, path: str, expires: int) -> str:
    mac = hmac.new(_link_key(request), f"{path}\n{expires}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def signed_link(request: Request, path: str) -> str:
    """``/cds-links{path}`` with an expiry and its HMAC: opens without a token until then."""
    expires = int(time.time()) + LINK_TTL_S
    return f"/cds-links{path}?exp={expires}&sig={_sign(request, path, expires)}"


def _check_signed(request: Request, path: str, exp: int, sig: str) -> None:
    """403 unless ``sig`` is this path's HMAC for ``exp`` and ``exp`` has not passed."""
    if exp < time.time():
        raise ApiProblem(403, "this link has expired; open the card again for a fresh link")
    # compared as bytes: compare_digest raises TypeError on a str that is not ASCII
    if not hmac.compare_digest(sig.encode("utf-8", "surrogateescape"),
                               _sign(request, path, exp).encode()):
        raise ApiProblem(403, "this link's signature does not match")


def _source(request: Request, rule_id: str | None, cite: list[str], label: str | None = None,
            ) -> dict[str, Any]:
    cites = f" [{', '.join(cite)}]" if cite else ""
    src: dict[str, Any] = {"label": (label or f"ALLPath rule {rule_id or '-'}") + cites}
    if rule_id:
        src["url"] = f"{_base(request)}/cds-links/v1/rules/{rule_id}"
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
    """A card link to ``path`` that opens without an ALLPath token: its public mirror under
    ``/cds-links`` (rule explanations are not patient data)."""
    return {"label": label[:140], "url": f"{_base(request)}/cds-links{path}",
            "type": "absolute"}


def _signed(request: Request, label: str, path: str) -> dict[str, Any]:
    """A card link to patient data: signed, valid for :data:`LINK_TTL_S` seconds."""
    return {"label": label[:140], "url": f"{_base(request)}{signed_link(request, path)}",
            "type": "absolute"}


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


@dataclass
class Chart:
    """The patient's data for one hook call and where it came from."""

    record: PatientRecord
    stored: str | None = None  # ALLPath patient id when the record is the stored one
    enrolled: bool = False  # context.patientId is a patient registered in ALLPath
    diagnoses: list[dict[str, Any]] = field(default_factory=list)  # ALL conditions (FHIR)
    warnings: list[dict[str, str]] = field(default_factory=list)  # import warnings, notes
    gathered: Gathered | None = None


def _import(prefetch: dict[str, Any],
            ) -> tuple[PatientRecord, list[dict[str, str]], list[dict[str, Any]]] | None:
    """The record, import warnings and ALL conditions read from the FHIR data; None when
    the data holds no Patient."""
    from allpath.interop.fhir import read_bundle

    resources = [r for v in prefetch.values() for r in _resources(v)]
    if not any(r.get("resourceType") == "Patient" for r in resources):
        return None
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": r} for r in resources]}
    imp = read_bundle(bundle)
    warnings = [w.as_dict() for w in imp.warnings]
    return parse_record(imp.record, source="CDS Hooks prefetch"), warnings, list(imp.diagnoses)


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


def _enrolled(request: Request, patient_ref: str) -> bool:
    ref = patient_ref.removeprefix("Patient/")[:200]
    with get_db(request).transaction() as session:
        return session.scalars(select(Patient.id).where(
            or_(Patient.external_id == ref, Patient.id == ref)).limit(1)).first() is not None


def _unavailable(reason: str) -> ApiProblem:
    return ApiProblem(412, f"ALLPath cannot get the data this service needs: {reason}",
                      title="CDS Hooks data unavailable", type_="cds-data-unavailable")


def _chart(request: Request, caller: Caller, hook: HookRequest) -> Chart:
    """The prefetch, completed from ``fhirServer`` where keys are missing (or hold an
    OperationOutcome); with no ``fhirServer``, the patient stored in ALLPath; else 412."""
    if hook.prefetch:
        n = sum(len(_resources(v)) for v in hook.prefetch.values())
        if n > MAX_BUNDLE_ENTRIES:
            raise RecordError([Problem("prefetch", "too many prefetched resources",
                                       expected=f"at most {MAX_BUNDLE_ENTRIES}",
                                       got=str(n))])
        check_values(hook.prefetch, "prefetch")
    pid = hook.context.get("patientId")
    if not isinstance(pid, str) or not pid:
        raise ApiProblem(422, "context.patientId is required", type_="invalid-request")
    user = hook.context.get("userId")
    try:
        got = gather(_PREFETCH, hook.context, hook.prefetch, hook.fhirServer,
                     hook.fhirAuthorization, fhir_servers_of(request))
    except DataUnavailable as err:
        if hook.fhirServer:  # the EHR offered its server and the fetch failed
            raise _unavailable(err.reason) from None
        stored = _stored_record(request, caller, pid, hook.hook, user)
        if stored is None:
            raise _unavailable(f"{err.reason}, and no patient {pid[:100]!r} is stored in "
                               "ALLPath") from None
        return Chart(record=stored[0], stored=stored[1], enrolled=True)
    imported = _import(got.prefetch)
    if imported is None:
        stored = _stored_record(request, caller, pid, hook.hook, user)
        if stored is None:
            raise _unavailable(f"the data has no Patient resource for {pid[:100]!r}, and no "
                               "such patient is stored in ALLPath")
        return Chart(record=stored[0], stored=stored[1], enrolled=True,
                     warnings=list(got.notes), gathered=got)
    record, warnings, diagnoses = imported
    return Chart(record=record, enrolled=_enrolled(request, pid), diagnoses=diagnoses,
                 warnings=[*got.notes, *warnings], gathered=got)


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


def _check_hook(hook: HookRequest, service_id: str) -> None:
    """400 when the request names another hook than the service answers."""
    want = _SERVICE_HOOK[service_id]
    if hook.hook == want:
        return
    other = "" if hook.hook in _HOOKS else (
        f"; ALLPath serves the hooks {', '.join(sorted(_HOOKS))} (GET /cds-services)")
    raise ApiProblem(400, f"service {service_id} answers the '{want}' hook; this request "
                          f"names hook {hook.hook[:100]!r}{other}", type_="invalid-hook")


# ------------------------------------------------------------- relevance and warnings


def _triage_signal(record: PatientRecord) -> str | None:
    """The triage pack's blood-count flag (leukaemia suspicion high or moderate: blasts,
    hyperleukocytosis, two cytopenias, one severe cytopenia), said with its rule; None when
    the count does not raise it."""
    from allpath.triage import triage

    result = triage(record)
    flag = result.facts.get("triage.cbc_flag")
    if flag is None or flag.value is not True:
        return None
    why = result.result("triage.cbc_suspicion")
    level = why.value if why is not None else "flagged"
    rule = f" (rule {why.rule_id})" if why is not None else ""
    return f"blood count suspicious for leukaemia: suspicion {level}{rule}"


def _relevance(chart: Chart, doc: dict[str, Any]) -> list[str]:
    """Why this chart concerns ALL (empty: it does not, and gets no card)."""
    why: list[str] = []
    if chart.stored is not None or chart.enrolled:
        why.append("the patient is registered in ALLPath")
    for d in chart.diagnoses:
        why.append(f"ALL condition on the chart: {d.get('label')} "
                   f"({d.get('system')}|{d.get('code')})")
    diag = doc.get("diagnosis") or {}
    if diag.get("status") == "ALL":
        why.append(f"ALLPath reads the data as ALL (rule {diag.get('rule_id')})"
                   if diag.get("rule_id") else "ALLPath reads the data as ALL")
    if not why:  # the triage signal costs one more pack evaluation: only when needed
        signal = _triage_signal(chart.record)
        if signal:
            why.append(signal)
    return why


_UNUSED = ("not used by ALLPath", "not known to ALLPath", "not read by ALLPath")


def _warning_summary(warnings: list[dict[str, str]]) -> str | None:
    """One Markdown paragraph: how many import warnings, of which kinds; results ALLPath
    refused or skipped (a unit, a status, a range, a date) first, then what it does not use."""
    if not warnings:
        return None
    def kind(message: str) -> str:  # the message without its parenthesised particulars
        text = re.sub(r"\s+\([^)]*\)", "", message).strip(" ;:.")
        return text if len(text) <= 120 else text[:117] + "..."

    refused = Counter(kind(w["message"]) for w in warnings
                      if not any(u in w["message"] for u in _UNUSED))
    unused = Counter(kind(w["message"]) for w in warnings
                     if any(u in w["message"] for u in _UNUSED))

    def listed(kinds: Counter[str], top: int) -> str:
        shown = "; ".join(f"{k} (x{n})" if n > 1 else k for k, n in kinds.most_common(top))
        return shown + (f"; and {len(kinds) - top} more kinds" if len(kinds) > top else "")

    parts = [f"**Data ALLPath did not use** ({len(warnings)} import warning(s))."]
    if refused:
        parts.append(f"Refused or skipped ({refused.total()}): {listed(refused, 5)}.")
    if unused:
        parts.append(f"Not used by ALLPath ({unused.total()}): {listed(unused, 3)}.")
    parts.append("Each one, with its FHIR path, is in the response extension "
                 "`allpath-import-warnings`.")
    return " ".join(parts)


def _extension(chart: Chart, why: list[str]) -> dict[str, Any]:
    ext: dict[str, Any] = {"allpath-relevance": {"concerns_all": bool(why), "why": why}}
    if chart.warnings:
        ext["allpath-import-warnings"] = {"count": len(chart.warnings),
                                          "warnings": chart.warnings[:MAX_WARNINGS_LISTED]}
    if chart.gathered is not None and chart.gathered.fetched:
        ext["allpath-fetched"] = {"keys": chart.gathered.fetched,
                                  "requests": chart.gathered.requests}
    return ext


def _with_summary(cards: list[dict[str, Any]], chart: Chart) -> list[dict[str, Any]]:
    """The import-warning summary appended to the first card's detail."""
    note = _warning_summary(chart.warnings)
    if note and cards:
        cards[0]["detail"] = (cards[0].get("detail", "") + "\n\n" + note).strip()
    return cards


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
        links.append(_signed(request, "Assessment history",
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


def _due_cards(request: Request, a: Assessment, doc: dict[str, Any], on: dt.date
               ) -> list[dict[str, Any]]:
    # the assessment's roadmap, as its document already holds it (not serialised again)
    rm: dict[str, Any] = doc.get("roadmap") or {}
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
    from allpath.trials import TRIALS_DISCLAIMER, match_trials

    report = match_trials(a, trial_registry(request), limit=3)
    fit, check = report.count("possible"), report.count("check")
    if not report.matches:
        return []
    lines = [f"{report.screened} open studies pre-screened (criteria "
             f"{report.criteria_version}): {fit} could fit, {check} need checking.", ""]
    for m in report.matches:
        unknown = ", ".join(c.label for c in m.unknown)
        lines.append(f"- **{m.trial.nct_id}** {m.trial.title}"
                     + (f" (unknown: {unknown})" if unknown else ""))
    lines += ["", TRIALS_DISCLAIMER]
    links = [{"label": f"{m.trial.nct_id} on ClinicalTrials.gov", "url": m.trial.url,
              "type": "absolute"} for m in report.matches]
    return [_card(f"Clinical trials: {fit} open studies could fit, {check} need checking",
                  "info", {"label": "ALLPath trial pre-screen [CTGOV-GLOSSARY]",
                           "url": "https://clinicaltrials.gov/study-basics/glossary"},
                  "\n".join(lines), links)]


@router.get("/cds-services", summary="CDS Hooks discovery (no token needed)")
def discovery() -> dict[str, Any]:
    return {"services": SERVICES}


def _coded_all(prefetch: dict[str, Any] | None) -> bool:
    """Whether a Condition in the data carries an ALL code (``codes.ALL_CONDITION_CODES``),
    read straight from the resources (for data the importer could not read)."""
    from allpath.interop.fhir import codes

    if not prefetch:
        return False
    for r in (r for v in prefetch.values() for r in _resources(v)):
        code = r.get("code") if r.get("resourceType") == "Condition" else None
        codings = code.get("coding") if isinstance(code, dict) else None
        for c in codings if isinstance(codings, list) else []:
            if isinstance(c, dict) and codes.code_key(
                    c.get("system"), str(c.get("code") or "")) in codes.ALL_CONDITION_CODES:
                return True
    return False


def _unreadable(request: Request, hook: HookRequest, err: RecordError) -> CardsResponse:
    """Data ALLPath could not read: the problems in the extension; a card only when the
    chart is about ALL (an ALL-coded Condition, or a patient registered in ALLPath)."""
    errors = [{k: v for k, v in (("path", p.path), ("message", p.message),
                                 ("expected", p.expected), ("got", p.got)) if v}
              for p in err.problems[:MAX_WARNINGS_LISTED]]
    ext = {"allpath-import-errors": {"count": len(err.problems), "errors": errors}}
    pid = hook.context.get("patientId")
    if not (_coded_all(hook.prefetch)
            or (isinstance(pid, str) and pid and _enrolled(request, pid))):
        return CardsResponse(cards=[], extension=ext)
    lines = [f"- `{p.path}`: {p.message}" if p.path else f"- {p.message}"
             for p in err.problems[:5]]
    more = [f"- and {len(err.problems) - 5} more"] if len(err.problems) > 5 else []
    return CardsResponse(cards=[_card(
        "ALLPath could not read this patient's data", "info", {"label": "ALLPath"},
        "\n".join([f"{len(err.problems)} problem(s) in the data:", "", *lines, *more, "",
                   "Each one is in the response extension `allpath-import-errors`."]))],
        extension=ext)


@router.post("/cds-services/allpath-patient-view", summary="CDS Hooks patient-view",
             responses=PROBLEM_RESPONSES)
def patient_view(request: Request, hook: HookRequest, caller: CdsCallerDep) -> CardsResponse:
    """Cards for a chart that concerns ALL; ``{"cards": []}`` for any other chart."""
    _check_hook(hook, "allpath-patient-view")
    try:
        chart = _chart(request, caller, hook)
    except RecordError as err:
        return _unreadable(request, hook, err)
    a = run_assess(chart.record)
    doc = a.to_dict()
    why = _relevance(chart, doc)
    ext = _extension(chart, why)
    if not why:
        return CardsResponse(cards=[], extension=ext)
    cards = _risk_cards(request, doc, chart.stored)
    cards += _alert_cards(request, doc)
    cards += _due_cards(request, a, doc, _reference_date(request, hook))
    cards += _trial_cards(request, a)
    return CardsResponse(cards=_with_summary(cards, chart), extension=ext)


# --------------------------------------------------------------------------- order-sign
# The checks live in allpath.orders (thresholds in packs/82-orders.yaml); the hook only
# adapts the request to the library and the findings to cards.


def _order_card(request: Request, f: OrderFinding) -> dict[str, Any]:
    src = _source(request, f.rule_id, list(f.cite), f.label)
    links = [_link(request, f"Why: rule {rid}", f"/v1/rules/{rid}")
             for rid in (f.rule_links or ((f.rule_id,) if f.rule_id else ()))]
    card = _card(f.summary, f.indicator, src, f.detail, links or None)
    if f.suggestions:  # label-only suggestions: the prescriber acts, nothing is auto-ordered
        card["suggestions"] = [{"label": s[:140], "uuid": str(uuid.uuid4())}
                               for s in f.suggestions]
        card["selectionBehavior"] = "at-most-one"
    return card


def _draft_orders(context: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in _resources(context.get("draftOrders"))
            if r.get("resourceType") == "MedicationRequest"]


@router.post("/cds-services/allpath-order-sign", summary="CDS Hooks order-sign",
             responses=PROBLEM_RESPONSES)
def order_sign(request: Request, hook: HookRequest, caller: CdsCallerDep) -> CardsResponse:
    """Order checks for a chart that concerns ALL; ``{"cards": []}`` for any other."""
    _check_hook(hook, "allpath-order-sign")
    orders = _draft_orders(hook.context)
    if not orders:
        return CardsResponse(cards=[])
    if len(orders) > MAX_DRAFT_ORDERS:  # bounded cost: each order is checked in full
        raise RecordError([Problem("context.draftOrders", "too many draft orders",
                                   expected=f"at most {MAX_DRAFT_ORDERS}",
                                   got=str(len(orders)))])
    try:
        chart = _chart(request, caller, hook)
    except RecordError as err:
        return _unreadable(request, hook, err)
    a = run_assess(chart.record)
    why = _relevance(chart, a.to_dict())
    ext = _extension(chart, why)
    if not why:
        return CardsResponse(cards=[], extension=ext)
    on = _reference_date(request, hook)
    prefetch = chart.gathered.prefetch if chart.gathered is not None else (hook.prefetch or {})
    resources = [r for v in prefetch.values() for r in _resources(v)]
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
    findings = check_orders(a, orders, resources, on)
    cards = unchecked + [_order_card(request, f) for f in findings]
    return CardsResponse(cards=_with_summary(cards, chart), extension=ext)


@router.post("/cds-services/{service_id}/feedback", summary="CDS Hooks feedback",
             responses=PROBLEM_RESPONSES)
def feedback(request: Request, service_id: str, caller: CdsCallerDep,
             body: Annotated[FeedbackRequest, Body()]) -> dict[str, Any]:
    if service_id not in {s["id"] for s in SERVICES}:
        raise ApiProblem(404, f"no CDS service {service_id[:100]!r}; GET /cds-services "
                              "lists them")
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


@router.post("/cds-services/{service_id}", summary="Any other CDS service: 404",
             include_in_schema=False)
def unknown_service(service_id: str) -> None:
    raise ApiProblem(404, f"no CDS service {service_id[:100]!r}; GET /cds-services lists "
                          "the services and their hooks")


# ---------------------------------------------------------------- card links, no token
_LINK_CALLER = Caller(key="public", name="public card link", kind="link")


@router.get("/cds-links/v1/rules/{rule_id}", summary="A rule's explanation (public: card "
            "links open it without a token)")
def public_rule(rule_id: str) -> dict[str, Any]:
    """The same document as ``GET /v1/rules/{rule_id}``: rules and their sources are
    public knowledge, not patient data."""
    return features.explain(rule_id, _LINK_CALLER)


@router.get("/cds-links/v1/patients/{patient_id}/assessments",
            summary="Assessment history through a signed card link (no token; expires)",
            responses=PROBLEM_RESPONSES)
def signed_history(request: Request, patient_id: str,
                   exp: Annotated[int, Query(description="expiry, seconds since 1970")],
                   sig: Annotated[str, Query(max_length=100, description="HMAC-SHA256")],
                   ) -> list[patients.AssessmentSummary]:
    """``GET /v1/patients/{id}/assessments`` for the holder of a link from a card, until
    the link expires (:data:`LINK_TTL_S`); audited as ``link:signed``."""
    _check_signed(request, f"/v1/patients/{patient_id}/assessments", exp, sig)
    caller = Caller(key="signed", name="signed card link", kind="link",
                    client=request.client.host[:64] if request.client else None)
    return patients.history(request, patient_id, caller, limit=100)


# ------------------------------------------------------------------------------- CORS
_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class CdsCorsMiddleware:
    """CORS for the CDS Hooks endpoints and card links only, from an allow-list of origins
    (``ALLPATH_CORS_ORIGINS``), so that browser-based EHR test harnesses can call them."""

    PREFIXES = ("/cds-services", "/cds-links")

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=list(origins),
                                   allow_methods=["GET", "POST", "OPTIONS"],
                                   allow_headers=["Authorization", "Content-Type"],
                                   max_age=600)

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(self.PREFIXES):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
