"""Supportive-care alerts from the latest data (pack ``alerts``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from allpath.monitoring.snapshots import (
    fact_of,
    first_treatment_start,
    load_windows,
    phase_on,
)
from allpath.observations.normalise import NormalObservation, Timeline
from allpath.record.models import PatientRecord
from allpath.rules.engine import DecisionResult, evaluate_pack
from allpath.rules.facts import Fact
from allpath.rules.loader import Knowledge

__all__ = ["alert_facts", "alerts"]


def _latest(timeline: Timeline, code: str, ref: dt.date, days: int) -> NormalObservation | None:
    recent = [o for o in timeline.series(code) if 0 <= (ref - o.time).days <= days]
    return recent[-1] if recent else None


def alert_facts(
    record: PatientRecord, timeline: Timeline, base: dict[str, Fact]
) -> dict[str, Fact]:
    """The ``now.*`` and ``tls.*`` facts on the record's reference date."""
    facts: dict[str, Fact] = {k: base[k] for k in
                              ("age.years", "symptoms", "extramedullary.mediastinal_mass")
                              if k in base}
    ref = timeline.reference
    if ref is None:
        return facts
    win = load_windows()
    for code in ("temperature", "anc", "wbc", "platelets", "hemoglobin"):
        f = fact_of(_latest(timeline, code, ref, win.alert_window_days))
        if f is not None:
            facts[f"now.{code}"] = f
    current = phase_on(record, ref)
    if current is not None:
        facts["now.phase"] = Fact(current.phase, inputs=("treatment",))
    start = first_treatment_start(record)
    if start is not None:
        lo, hi = win.tls_window
        facts["tls.in_window"] = Fact(lo <= (ref - start).days <= hi, inputs=("treatment",))
        in_window = [o for o in timeline if lo <= (o.time - start).days <= hi and o.time <= ref]
        for code, pick in (("uric_acid", max), ("potassium", max), ("phosphate", max),
                           ("calcium", min)):
            values = [o for o in in_window if o.code == code and o.value is not None]
            if values:
                chosen = pick(values, key=lambda o: o.value or 0.0)
                facts[f"tls.{code}"] = Fact(chosen.value or 0.0, chosen.unit, (chosen.ref,))
        creatinine = timeline.series("creatinine")
        in_win_creat = [o for o in in_window if o.code == "creatinine"]
        if creatinine and in_win_creat:
            peak = max(in_win_creat, key=lambda o: o.value or 0.0)
            facts["tls.creatinine_rise"] = Fact(
                (peak.value or 0.0) - (creatinine[0].value or 0.0), "mg/dL",
                (creatinine[0].ref, peak.ref))
    return facts


def alerts(
    record: PatientRecord, timeline: Timeline, base: dict[str, Fact], kb: Knowledge
) -> tuple[list[dict[str, Any]], list[DecisionResult]]:
    """Alerts as ``{id, severity, message, trace}``, and the decision results behind them."""
    results = evaluate_pack(kb.pack("alerts"), alert_facts(record, timeline, base))
    by = {r.output: r for r in results}
    main = by["alerts"]
    out: list[dict[str, Any]] = []
    if main.status == "decided" and isinstance(main.value, list):
        for (rule_id, cite, evidence), item, used, refs in zip(
            main.hits, main.value, main.hit_inputs, main.hit_refs, strict=False
        ):
            if not isinstance(item, dict):
                continue
            out.append({
                "id": item["id"],
                "severity": item["severity"],
                "message": item["message"],
                "trace": {"rule_id": rule_id, "citations": list(cite), "evidence": evidence,
                          "inputs": dict(used), "input_refs": list(refs)},
            })
    return out, results
