"""Checks of proposed medication orders (the library behind CDS Hooks ``order-sign``).

For each order: which drug it is (:mod:`allpath.orders.drugs`), the dose against the protocol
template's BSA-based dose and cap, a maintenance 6-MP / oral methotrexate order against the
titration pack's suggestion at the latest visit, the platelets before an intrathecal order,
interactions with the other orders and the patient's medications, a pegaspargase order after a
recorded allergic reaction to asparaginase, and how fresh the counts are. Every threshold is in
``packs/82-orders.yaml``; this module only computes the facts and
words the findings. An order that cannot be identified gets an info finding saying so.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from allpath.monitoring.titration import assumed_mp_protocol_dose
from allpath.orders.drugs import Identified, identify_name, identify_order
from allpath.outputs.assessment import Assessment
from allpath.rules.engine import DecisionResult, evaluate_pack
from allpath.rules.facts import Fact
from allpath.rules.loader import load_knowledge
from allpath.units import UnitError, convert

__all__ = ["OrderFinding", "check_orders", "medication_requests"]

Indicator = Literal["info", "warning", "critical"]
_SEVERITY: dict[str, Indicator] = {"critical": "critical", "high": "warning",
                                   "moderate": "warning", "info": "info"}
_INTRATHECAL = ("intrathecal", "72607000")  # route text, SNOMED CT intrathecal route
_UNIT_ALIASES = {"[iU]": "U", "IU": "U", "[IU]": "U", "u": "U", "units": "U"}


@dataclass(frozen=True)
class OrderFinding:
    """One card's worth of finding: what to show and which rule and sources produced it."""

    summary: str
    indicator: Indicator
    detail: str
    rule_id: str | None = None
    cite: tuple[str, ...] = ()
    label: str | None = None  # source label when not a rule (e.g. the drug map)
    kind: str = "order"  # dose, titration, lp, interaction, counts, unidentified, ...
    rule_links: tuple[str, ...] = field(default=())
    order_index: int | None = None  # which proposed order it is about
    # labels of what the card suggests instead (CDS Hooks suggestions, no automatic action)
    suggestions: tuple[str, ...] = ()


# --------------------------------------------------------------------------- FHIR helpers


def medication_requests(resources: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [dict(r) for r in resources if r.get("resourceType") == "MedicationRequest"]


def _proposed_dose(mr: Mapping[str, Any]) -> tuple[float, str] | None:
    try:
        q = mr["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
        value = float(q["value"])
        unit = str(q.get("unit") or q.get("code") or "")
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return value, _UNIT_ALIASES.get(unit.strip(), unit.strip())


def _amounts(value: float, unit: str, bsa: float | None) -> tuple[float | None, float | None]:
    """(mg, mg/m2) of an order dose written per dose or per m2 (``g/m2``, ``mg/m2/week``
    count as per-m2 doses); pint converts the mass part."""
    m = re.fullmatch(r"\s*([a-zA-Zµ]+)\s*(/\s*m2|/\s*m²)?(\s*/.*)?", unit)
    if not m:
        return None, None
    try:
        mg = convert(value, m.group(1).replace("µ", "u"), "mg")
    except UnitError:
        return None, None
    if m.group(2):
        return (mg * bsa if bsa else None), mg
    return mg, (mg / bsa if bsa else None)


_ROUTES = (("intrathecal", "IT"), ("72607000", "IT"), ("oral", "PO"), ("po", "PO"),
           ("intravenous", "IV"), ("iv", "IV"), ("intramuscular", "IM"), ("im", "IM"),
           ("subcutaneous", "SC"))


def _route_code(mr: Mapping[str, Any]) -> str | None:
    words = set(re.findall(r"[a-z0-9]+", _route(mr)))
    for word, code in _ROUTES:
        if word in words:
            return code
    return None


def _route(mr: Mapping[str, Any]) -> str:
    parts: list[str] = []
    instructions = mr.get("dosageInstruction")
    for di in instructions if isinstance(instructions, list) else ():
        route = di.get("route") if isinstance(di, Mapping) else None
        if not isinstance(route, Mapping):
            continue
        parts.append(str(route.get("text") or ""))
        codings = route.get("coding")
        parts += [f"{c.get('code', '')} {c.get('display', '')}"
                  for c in (codings if isinstance(codings, list) else ())
                  if isinstance(c, Mapping)]
    return " ".join(parts).lower()


def _active_other(resources: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The patient's current medication requests from the prefetch (active or on hold)."""
    return [r for r in resources if r.get("resourceType") == "MedicationRequest"
            and r.get("status") in ("active", "on-hold", "draft")]


# --------------------------------------------------------------------------- the pack


def _evaluate(facts: dict[str, Fact]) -> dict[str, DecisionResult]:
    return {r.output: r for r in evaluate_pack(load_knowledge().pack("orders"), facts)}


def _fields(res: DecisionResult) -> dict[str, Any]:
    if res.status != "decided" or not isinstance(res.value, dict):
        return {}
    return dict(res.value)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


# --------------------------------------------------------------------------- counts


def _latest(a: Assessment, code: str, on: dt.date) -> Any:
    series = [o for o in a.timeline.series(code) if o.time <= on and o.value is not None]
    return series[-1] if series else None


def _counts_facts(a: Assessment, on: dt.date) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    anc, plt = _latest(a, "anc", on), _latest(a, "platelets", on)
    if anc is not None and plt is not None:
        facts["order.counts_age"] = Fact(float(max((on - anc.time).days,
                                                   (on - plt.time).days)), "d")
    if plt is not None:
        facts["order.platelets"] = Fact(float(plt.value), "10*9/L", (plt.ref,))
    return facts


_REACTION_GRADES = ("grade_1", "grade_2", "grade_3", "grade_4")


def _reaction_fact(a: Assessment, on: dt.date) -> tuple[Fact, str | None]:
    """The highest-graded allergic reaction to asparaginase recorded on or before ``on`` (any
    time in treatment: a reaction does not expire), and its date; ``none_recorded`` when the
    record has none. The grades are the recorded ones; ALLPath does not grade reactions."""
    found = [o for o in a.timeline.series("asparaginase_reaction")
             if o.time <= on and o.category in _REACTION_GRADES]
    if not found:
        return Fact("none_recorded", inputs=("no asparaginase_reaction recorded",)), None
    worst = max(found, key=lambda o: (_REACTION_GRADES.index(str(o.category)), o.time))
    return Fact(str(worst.category), inputs=(worst.ref,)), worst.time.isoformat()


def _asparaginase_finding(res: DecisionResult, date: str | None) -> OrderFinding | None:
    """The card for a pegaspargase order after a recorded reaction (pack rule's words)."""
    f = _fields(res)
    status = f.get("status")
    if status not in ("blocked", "caution"):
        return None
    grade = str(res.inputs.get("order.asparaginase_reaction", "")).replace("_", " ")
    words = {"grade": grade, "date": date or "an unrecorded date"}
    # the card summary is short and whole (CDS Hooks: under 140 characters); the detail
    # carries the full label step, then the sources
    summary = str(f["summary"]).format(**words)
    detail = str(f["message"]).format(**words) + "\n\n" + str(res.note or "")
    suggestion = f.get("suggestion")
    return OrderFinding(summary, "critical" if status == "blocked" else "warning",
                        detail.strip(), res.rule_id, res.cite, kind="allergy",
                        suggestions=(str(suggestion),) if suggestion else ())


def _counts_finding(a: Assessment, on: dt.date) -> OrderFinding:
    res = _evaluate(_counts_facts(a, on))["order.counts"]
    lines: list[str] = []
    missing: list[str] = []
    for code, label in (("anc", "ANC"), ("platelets", "Platelets"), ("wbc", "WBC")):
        o = _latest(a, code, on)
        if o is None:
            missing.append(label)
            lines.append(f"- {label}: none recorded")
            continue
        lines.append(f"- {label}: {o.value:g} {o.unit or ''} on {o.time} "
                     f"({(on - o.time).days} days old)")
    alerts = list(a.to_dict().get("alerts", []))
    lines += [f"- alert `{x['id']}`: {x['message']}" for x in alerts]
    status = _fields(res).get("status")
    stale = status == "stale"
    if missing:
        summary = "No current counts: " + ", ".join(missing) + " not recorded"
    elif stale:
        summary = "Counts are not current: " + (res.note or "recheck before signing")
    elif alerts:
        summary = f"{len(alerts)} supportive-care alert(s) with the latest counts"
    else:
        summary = "Latest counts shown; check the protocol's criteria before signing"
    first = alerts[0]["trace"] if alerts else {}
    indicator: Indicator = "warning" if missing or stale or alerts else "info"
    rule = res.rule_id if (stale or not alerts) else first.get("rule_id")
    cite = res.cite if (stale or not alerts) else tuple(first.get("citations") or ())
    return OrderFinding(summary, indicator,
                        f"Reference date {on}. {res.note or ''}\n\n" + "\n".join(lines),
                        rule, tuple(cite), kind="counts")


# --------------------------------------------------------------------------- dose


def _component_matches(drug_id: str, comp_name: str) -> bool:
    comp = identify_name(comp_name)
    return comp is not None and comp.id == drug_id


def _dose_findings(a: Assessment, ident: Identified, mr: Mapping[str, Any],
                   on: dt.date) -> tuple[list[OrderFinding], float | None]:
    """Dose findings for one identified order, and its dose per m2 when known."""
    assert ident.drug is not None
    proposed = _proposed_dose(mr)
    if a.roadmap is None:
        return [OrderFinding(
            "ALLPath has no treatment roadmap for this patient; dose not checked", "info",
            "No protocol template applies to this assessment (for example, the diagnosis is "
            "not settled), so there is no BSA-based dose to compare with and the dose was "
            "not checked.", label="ALLPath", kind="dose")], None
    rm_obj = a.roadmap  # the roadmap stage of the assessment
    rm = rm_obj.to_dict()
    bsa = (rm.get("body_size") or {}).get("bsa_m2")
    per_m2 = None
    if proposed is not None:
        per_m2 = _amounts(proposed[0], proposed[1], float(bsa) if bsa else None)[1]
    t = rm.get("template")
    if not t or rm_obj.template is None:
        return [OrderFinding(
            "ALLPath cannot check this order: no protocol template chosen", "info",
            "Missing: " + ", ".join((rm.get("selection") or {}).get("missing") or ["?"]),
            label="ALLPath roadmap", kind="dose")], per_m2
    caps: dict[tuple[str, str], Any] = {}
    for ph in rm_obj.template.phases:
        for c in ph.components:
            caps[(ph.id, c.drug.lower())] = c.cap
    route = _route_code(mr)
    matches = [(ph, c) for ph in rm["phases"] for c in ph["components"]
               if _component_matches(ident.drug.id, str(c["drug"]))
               and (route is None or route in str(c.get("route") or route))
               and dt.date.fromisoformat(str(ph["start"])) <= on
               <= dt.date.fromisoformat(str(ph["end"]))]
    if not matches:  # no line for this drug and route in the phase in progress
        return [], per_m2
    ph, comp = matches[0]
    dose = comp["dose"]
    sel = rm.get("selection") or {}
    label = f"ALLPath {t['id']} {ph['id']}/{comp['drug']}"
    detail = (f"Protocol line: {comp['drug']} {dose['prescribed']} ({ph['title']}); computed "
              f"{dose['text']}. BSA {bsa} m2 ({(rm.get('body_size') or {}).get('formula_title')}"
              f"). Drug identified by {ident.how}.")
    expected = dose.get("amount")
    if proposed is None or expected is None:
        return [OrderFinding(
            f"{comp['drug']}: dose not compared", "info",
            detail + " The order's dose or the computed dose is missing ("
            + (", ".join(dose.get("needs") or []) or "no dose quantity") + ").",
            sel.get("rule_id"), tuple(comp.get("cite") or ()), label, kind="dose")], per_m2
    value, unit = proposed
    if unit != dose.get("unit") and dose.get("unit") == "mg" and bsa:
        mg = _amounts(value, unit, float(bsa))[0]
        if mg is not None:
            value, unit = round(mg, 2), "mg"
    if unit != dose.get("unit"):
        return [OrderFinding(
            f"{comp['drug']}: order unit {unit!r} differs from {dose.get('unit')!r}; not "
            "compared", "warning", detail, sel.get("rule_id"), tuple(comp.get("cite") or ()),
            label, kind="dose")], per_m2
    facts: dict[str, Fact] = {"order.dose_ratio": Fact(value / float(expected), "1")}
    cap = caps.get((ph["id"], str(comp["drug"]).lower()))
    if cap is not None and cap.unit == unit and cap.amount:
        facts["order.cap_ratio"] = Fact(value / float(cap.amount), "1")
    res = _evaluate(facts)["order.dose"]
    f = _fields(res)
    words = {"drug": comp["drug"], "dose": f"{value:g} {unit}",
             "expected": f"{float(expected):g} {dose['unit']}",
             "cap": f"{cap.amount:g} {cap.unit}" if cap is not None else "?"}
    by_status: dict[str, Indicator] = {"above_cap": "critical", "above_dose": "warning"}
    indicator: Indicator = by_status.get(str(f.get("status")), "info")
    summary = str(f.get("message") or "dose not compared").format(**words)
    return [OrderFinding(summary, indicator, detail + (f" {res.note}" if res.note else ""),
                         res.rule_id, res.cite + tuple(comp.get("cite") or ()),
                         label=f"{label} (rule {res.rule_id})", kind="dose",
                         rule_links=tuple(x for x in (res.rule_id, sel.get("rule_id")) if x))
            ], per_m2


# --------------------------------------------------------------------------- titration


def _titration_finding(a: Assessment, kind: str, mr: Mapping[str, Any], on: dt.date,
                       bsa: float | None) -> OrderFinding | None:
    tit = a.titration.as_dict() if a.titration is not None else {}
    visits = [v for v in tit.get("visits") or ()
              if v.get("status") in ("recommended", "check_counts") and v.get("date")
              and dt.date.fromisoformat(str(v["date"])) <= on]
    if not visits:
        return None
    v = visits[-1]
    when = dt.date.fromisoformat(str(v["date"]))
    counts = _evaluate({"order.counts_age": Fact(float((on - when).days), "d")})["order.counts"]
    label = {"mp": "6-MP", "mtx": "Methotrexate"}[kind]
    rules = list(v.get("rules") or [])
    src_label = f"ALLPath maintenance titration ({', '.join(rules)})"
    values = ", ".join(f"{k.upper() if k != 'platelets' else 'platelets'} {v[k]:g}"
                       for k in ("anc", "wbc", "platelets") if v.get(k) is not None)
    advice = v.get(f"{kind}_recommended")
    detail = (f"Latest maintenance visit {v['date']} ({(on - when).days} days before {on}): "
              f"{values} (x10^9/L). Titration pack: **{v.get('action')}**, {v.get('reason')}. "
              f"Suggested {label}: {advice} ({tit.get('dose_unit')})."
              + ("".join(f" ALERT: {x}" for x in v.get("alerts") or ()))
              + (" Rests on unconfirmed thresholds." if v.get("evidence") == "unconfirmed"
                 else "") + " " + str(tit.get("disclaimer") or ""))
    rid = rules[0] if rules else None
    cite = tuple(v.get("cite") or ())
    if _fields(counts).get("status") == "stale":
        return OrderFinding(f"{label}: latest maintenance counts are {(on - when).days} days "
                            "old; recheck before signing", "warning",
                            detail + f" ({counts.note})", rid, cite + counts.cite, src_label,
                            kind="titration")
    if v.get("status") == "check_counts":
        return OrderFinding(f"{label}: the latest maintenance counts cannot be right "
                            "(possible relapse or unit error); check them before signing",
                            "critical", detail, rid, cite, src_label, kind="titration")
    proposed = _proposed_dose(mr)
    per_m2 = (proposed[0] / bsa if proposed and bsa and proposed[1] == "mg" else None)
    if v.get("hold"):
        gives = proposed is None or proposed[0] > 0
        indicator: Indicator = ("critical" if v.get("evidence") == "confirmed" else
                                "warning") if gives else "info"
        return OrderFinding(f"{label}: the titration pack suggests a hold at the latest counts "
                            f"({str(v.get('reason'))[:60]})", indicator, detail, rid, cite,
                            src_label, kind="titration")
    rec = v.get(f"{kind}_recommended_value")
    if per_m2 is not None and rec:
        ratio = _evaluate({"order.dose_ratio": Fact(per_m2 / float(rec), "1")})["order.dose"]
        if _fields(ratio).get("status") == "above_dose":
            return OrderFinding(f"{label} {per_m2:.0f} mg/m2 is above the titration "
                                f"suggestion of {float(rec):g} mg/m2", "warning",
                                detail + f" BSA {bsa} m2. {ratio.note}", rid,
                                cite + ratio.cite, src_label, kind="titration")
    unit = str(tit.get("dose_unit") or "mg/m2")
    return OrderFinding(f"{label}: titration suggests {v.get('action')} ({advice} {unit}) at "
                        "the latest counts", "info", detail, rid, cite, src_label,
                        kind="titration")


# --------------------------------------------------------------------------- the check


def check_orders(a: Assessment, orders: Sequence[Mapping[str, Any]],
                 resources: Sequence[Mapping[str, Any]], on: dt.date) -> list[OrderFinding]:
    """Findings for every proposed order; ``resources`` are the prefetched FHIR resources
    (Medication, the patient's MedicationRequests); doses are compared with the
    assessment's roadmap stage."""
    idents = [identify_order(mr, resources) for mr in orders]
    others_base = _active_other(resources)
    base_idents = [identify_order(r, resources) for r in others_base
                   if all(r is not mr for mr in orders)]
    bsa: float | None = None
    if a.roadmap is not None:
        exact = a.roadmap.body.bsa_m2
        raw = round(exact, 3) if exact is not None else None  # as the roadmap shows it
        bsa = float(raw) if raw else None
    findings: list[OrderFinding] = []
    request: list[OrderFinding] = []
    counts_needed = False
    for i, (mr, ident) in enumerate(zip(orders, idents, strict=True)):
        if ident.drug is None:
            findings.append(OrderFinding(
                f"ALLPath could not identify this order ({ident.label[:60]}); it was not "
                "checked", "info",
                f"{ident.how}. ALLPath recognises the drugs of its map "
                "(knowledge/drugs.yaml) by RxNorm ingredient code or by name; this order was "
                "checked for nothing, so check it yourself.",
                label="ALLPath drug map", kind="unidentified"))
            continue
        drug = ident.drug
        mine: list[OrderFinding] = []
        others = [x.drug for j, x in enumerate(idents) if j != i and x.drug is not None]
        others += [x.drug for x in base_idents if x.drug is not None]
        dose_findings, per_m2 = _dose_findings(a, ident, mr, on)
        mine += dose_findings
        counts_needed |= any(f.rule_id is not None or f.kind == "dose" for f in dose_findings
                             if "unavailable" not in f.summary)
        facts: dict[str, Fact] = {
            "order.drug": Fact(drug.id),
            "order.drug_classes": Fact(frozenset(drug.classes)),
            "order.other_drugs": Fact(frozenset(d.id for d in others)),
            "order.other_classes": Fact(frozenset(c for d in others for c in d.classes)),
            "order.intrathecal": Fact(any(t in _route(mr) for t in _INTRATHECAL)),
            **_counts_facts(a, on),
        }
        if per_m2 is not None:
            facts["order.dose_per_m2"] = Fact(per_m2, "mg/m2")
        facts["order.asparaginase_reaction"], reaction_date = _reaction_fact(a, on)
        res = _evaluate(facts)
        # pegaspargase after a recorded allergic reaction (blocked at grade 3-4)
        allergy = _asparaginase_finding(res["order.asparaginase_allergy"], reaction_date)
        if allergy is not None:
            mine.append(allergy)
        # platelets before a lumbar puncture
        lp = res["order.lp_platelets"]
        if _fields(lp).get("status") == "below_threshold":
            plt = facts["order.platelets"].value
            mine.append(OrderFinding(
                str(_fields(lp)["message"]).format(drug=drug.id, platelets=f"{plt:g}"),
                "warning", str(lp.note or ""), lp.rule_id, lp.cite, kind="lp"))
        elif lp.status == "unknown":
            mine.append(OrderFinding(
                f"Intrathecal {drug.id}: no platelet count to check before the lumbar "
                "puncture", "warning", str(lp.note or "") + " Missing: "
                + ", ".join(lp.missing), None, lp.cite, "ALLPath order check", kind="lp"))
        # maintenance titration
        maint = res["order.maintenance"]
        if maint.status == "decided" and maint.value is True:
            kind = "mp" if drug.id == "mercaptopurine" else "mtx"
            tf = _titration_finding(a, kind, mr, on, bsa)
            if tf is not None:
                mine.append(tf)
                counts_needed = True
        # a 6-MP order above the CPIC start for the patient's TPMT/NUDT15 phenotype
        if drug.id == "mercaptopurine" and per_m2 is not None:
            cpic = _cpic_start_finding(a, per_m2)
            if cpic is not None:
                mine.append(cpic)
        # interactions
        inter = res["order.interactions"]
        if inter.status == "decided" and isinstance(inter.value, list):
            for (rule_id, cite, evidence), item in zip(inter.hits, inter.value, strict=False):
                if not isinstance(item, dict):
                    continue
                mine.append(OrderFinding(
                    str(item["message"]), _SEVERITY.get(str(item["severity"]), "warning"),
                    f"Interaction `{item['id']}` ({item['severity']}): {drug.id} with "
                    f"{', '.join(sorted(d.id for d in others))}."
                    + (" Rests on an unconfirmed reading." if evidence == "unconfirmed"
                       else ""), rule_id, tuple(cite), kind="interaction"))
        # request-level prompts (e.g. PJP prophylaxis due): shown once, not a check
        prompts = res["order.prompts"]
        if prompts.status == "decided" and isinstance(prompts.value, list):
            for (rule_id, cite, _evidence), item in zip(prompts.hits, prompts.value,
                                                       strict=False):
                if isinstance(item, dict) and all(p.rule_id != rule_id for p in request):
                    request.append(OrderFinding(
                        str(item["message"]), _SEVERITY.get(str(item["severity"]), "warning"),
                        str(_rule_note(rule_id) or ""), rule_id, tuple(cite), kind="prompt"))
        if not mine:
            mine.append(_unchecked_finding(ident))
        findings += [replace(f, order_index=i) for f in mine]
    findings += request
    if counts_needed:
        findings.append(_counts_finding(a, on))
    return findings


def _rule_note(rule_id: str) -> str | None:
    found = load_knowledge().rules().get(rule_id)
    return None if found is None else found[2].note


def _cpic_start_finding(a: Assessment, per_m2: float) -> OrderFinding | None:
    """The titration pack's CPIC start check applied to a 6-MP order (thresholds in pack 80;
    the protocol dose is the one the pack assumes, named in the finding)."""
    pg = a.record.pharmacogenomics
    if pg is None or not (pg.tpmt or pg.nudt15):
        return None
    protocol = assumed_mp_protocol_dose()
    facts: dict[str, Fact] = {
        "titration.mp_protocol_dose": Fact(protocol, "mg/m2/d"),
        "visit.mp_percent_of_protocol": Fact(round(100 * per_m2 / protocol, 1), "%")}
    if pg.tpmt:
        facts["tpmt.phenotype"] = Fact(pg.tpmt)
    if pg.nudt15:
        facts["nudt15.phenotype"] = Fact(pg.nudt15)
    res = {r.output: r for r in evaluate_pack(load_knowledge().pack("titration"), facts)}
    check = res["titration.start_check"]
    f = _fields(check)
    if f.get("status") != "above_cpic_start":
        return None
    start = res["titration.mp_start"]
    group = _fields(start).get("group")
    message = str(f["message"]).format(percent=f"{100 * per_m2 / protocol:.0f}")
    return OrderFinding(
        f"6-MP {per_m2:.0f} mg/m2/day is above the CPIC start for this phenotype "
        f"(TPMT {pg.tpmt or 'unknown'}, NUDT15 {pg.nudt15 or 'unknown'})", "warning",
        f"{message} Phenotype group: {group}. {start.note or ''} Compared with the assumed "
        f"protocol dose of {protocol:g} mg/m2/day (COG); give the protocol's dose if it differs.",
        check.rule_id, check.cite, kind="cpic")


def _unchecked_finding(ident: Identified) -> OrderFinding:
    """An identified order that no check applied to: say so, never stay silent."""
    assert ident.drug is not None
    note = f" {ident.drug.note}" if ident.drug.note else ""
    return OrderFinding(
        f"{ident.drug.id.replace('_', ' ')}: identified, but no protocol line or rule applied; "
        "not checked", "info",
        f"Identified by {ident.how}.{note} No line of the protocol template for this drug and "
        "route in the phase in progress, and no interaction rule applied: the dose was not "
        "compared.", cite=ident.drug.cite, label="ALLPath drug map", kind="unchecked")
