"""Trial matches as a FHIR R4 ``searchset`` Bundle of ResearchStudy resources.

Each entry is one study (id = NCT number, identifier system ``http://clinicaltrials.gov`` as
the mCODE trial-matching services use) with its status, phase, conditions, sponsor and sites
as contained Organization/Location resources. ``entry.search.score`` carries the pre-screen
verdict (1.0 possible, 0.5 check, 0.0 excluded) and an annotation spells out every criterion,
so a receiving system can show why a study was listed. Statuses map to the R4
research-study-status codes; a registry status with no R4 equivalent (``UNKNOWN``) is written
as ``closed-to-accrual`` with the original status in a note.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from allpath.interop.fhir.release import validate_resource
from allpath.trials.load import FHIR_PHASES
from allpath.trials.match import MatchReport, TrialMatch

__all__ = ["report_to_bundle", "study_resource"]

_STATUS = {
    "RECRUITING": "active", "ENROLLING_BY_INVITATION": "active", "AVAILABLE": "active",
    "NOT_YET_RECRUITING": "approved", "ACTIVE_NOT_RECRUITING": "closed-to-accrual",
    "COMPLETED": "completed", "SUSPENDED": "temporarily-closed-to-accrual",
    "TERMINATED": "administratively-completed", "WITHDRAWN": "withdrawn",
}
_PHASE = {phases: (code, display) for code, (phases, display) in FHIR_PHASES.items()}
_SCORE = {"possible": 1.0, "check": 0.5, "excluded": 0.0}
_PHASE_SYSTEM = "http://terminology.hl7.org/CodeSystem/research-study-phase"


def study_resource(match: TrialMatch) -> dict[str, Any]:
    """One ResearchStudy for one screened study (validated with the R4B models)."""
    t = match.trial
    notes = [{"text": f"ALLPath pre-screen: {match.verdict}. " + "; ".join(
        f"{c.label}: {c.outcome.replace('_', ' ')}"
        + (f" (requires {c.requires}; {c.evidence})" if c.evidence else "")
        for c in match.criteria)}]
    status = _STATUS.get(t.status)
    if status is None:
        status = "closed-to-accrual"
        notes.append({"text": f"ClinicalTrials.gov status {t.status}"})
    contained: list[dict[str, Any]] = []
    res: dict[str, Any] = {
        "resourceType": "ResearchStudy", "id": t.nct_id, "title": t.title,
        "identifier": [{"use": "official", "system": "http://clinicaltrials.gov",
                        "value": t.nct_id}],
        "status": status,
        "relatedArtifact": [{"type": "documentation", "url": t.url}],
        "note": notes,
    }
    code = _PHASE.get(tuple(sorted(t.phases)))
    res["phase"] = ({"coding": [{"system": _PHASE_SYSTEM, "code": code[0],
                                 "display": code[1]}], "text": code[1]}
                    if code else {"coding": [{"system": _PHASE_SYSTEM, "code": "n-a",
                                              "display": "N/A"}], "text": "N/A"})
    if t.conditions:
        res["condition"] = [{"text": c} for c in t.conditions]
    if t.keywords:
        res["keyword"] = [{"text": k} for k in t.keywords]
    if t.sponsor:
        contained.append({"resourceType": "Organization", "id": "sponsor", "name": t.sponsor})
        res["sponsor"] = {"reference": "#sponsor"}
    sites = []
    for i, s in enumerate(t.sites):
        loc: dict[str, Any] = {"resourceType": "Location", "id": f"site-{i}",
                               "name": s.facility}
        address = {k: v for k, v in (("city", s.city), ("state", s.state),
                                     ("country", s.country)) if v}
        if address:
            loc["address"] = address
        if s.lat is not None and s.lon is not None:
            loc["position"] = {"latitude": s.lat, "longitude": s.lon}
        contained.append(loc)
        sites.append({"reference": f"#site-{i}"})
    if sites:
        res["site"] = sites
    if contained:
        res["contained"] = contained
    validate_resource(res)
    return res


def report_to_bundle(report: MatchReport, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The whole report as a ``searchset`` Bundle (validated with the R4B models)."""
    stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    entries = [{
        "fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, m.trial.url)}",
        "resource": study_resource(m),
        "search": {"mode": "match", "score": _SCORE[m.verdict]},
    } for m in report.matches]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle", "type": "searchset", "timestamp": stamp,
        "total": len(entries), "entry": entries,
    }
    validate_resource(bundle)
    return bundle
