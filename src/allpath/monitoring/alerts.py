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
from allpath.rules.loader import Knowledge, load_knowledge

__all__ = ["alert_facts", "alerts"]


def _latest(timeline: Timeline, code: str, ref: dt.date, days: int) -> NormalObservation | None:
    recent = [o for o in timeline.series(code) if 0 <= (ref - o.time).days <= days]
    return recent[-1] if recent else None


_TLS_CODES = (("uric_acid", max), ("potassium", max), ("phosphate", max), ("calcium", min))


def _anc_expected_to_fall(timeline: Timeline, ref: dt.date, days: int,
                          phase: str | None) -> Fact | None:
    """IDSA's "expected to fall within 48 h", read operationally (evidence unconfirmed).

    True in induction or when the latest ANC in the alert window is lower than an earlier
    one there; false when an earlier ANC in the window was no lower and induction is not in
    progress; unknown (None) otherwise. The clinician's judgement decides.
    """
    recent = [o for o in timeline.series("anc")
              if 0 <= (ref - o.time).days <= days and o.value is not None]
    if phase == "induction":
        return Fact(True, inputs=("treatment",))
    if len(recent) < 2:
        return None
    last, earlier = recent[-1], recent[:-1]
    falling = any((o.value or 0.0) > (last.value or 0.0) for o in earlier)
    return Fact(falling, inputs=tuple(o.ref for o in recent))


def _tls_day_facts(in_window: list[NormalObservation], facts: dict[str, Fact],
                   kb: Knowledge) -> dict[str, Fact]:
    """The ``tls.*`` facts of one day (Howard 2011: abnormal values within the same 24 h).

    Each day of the window is judged by the pack itself; the first day that meets the
    laboratory criteria is reported, else the latest day with a tumour-lysis value.
    """
    days = sorted({o.time for o in in_window if o.code in dict(_TLS_CODES)})
    chosen: dict[str, Fact] = {}
    for day in days:
        day_facts: dict[str, Fact] = {}
        for code, pick in _TLS_CODES:
            values = [o for o in in_window if o.time == day and o.code == code
                      and o.value is not None]
            if values:
                best = pick(values, key=lambda o: o.value or 0.0)
                day_facts[f"tls.{code}"] = Fact(best.value or 0.0, best.unit, (best.ref,))
        chosen = day_facts
        trial = {**facts, **day_facts, "tls.in_window": Fact(True)}
        met = [r for r in evaluate_pack(kb.pack("alerts"), trial)
               if r.output == "tls.laboratory" and r.status == "decided" and r.value is True]
        if met:
            return day_facts
    return chosen


def alert_facts(
    record: PatientRecord, timeline: Timeline, base: dict[str, Fact],
    kb: Knowledge | None = None,
) -> dict[str, Fact]:
    """The ``now.*`` and ``tls.*`` facts on the record's reference date."""
    kb = kb if kb is not None else load_knowledge()
    facts: dict[str, Fact] = {k: base[k] for k in
                              ("age.years", "symptoms", "extramedullary.mediastinal_mass",
                               "ploidy.who_haem5_icc", "ploidy.safavi_paulsson_2017")
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
    expected = _anc_expected_to_fall(timeline, ref, win.alert_window_days,
                                     current.phase if current is not None else None)
    if expected is not None:
        facts["now.anc_expected_to_fall"] = expected
    start = first_treatment_start(record)
    if start is not None:
        lo, hi = win.tls_window
        facts["tls.in_window"] = Fact(lo <= (ref - start).days <= hi, inputs=("treatment",))
        in_window = [o for o in timeline if lo <= (o.time - start).days <= hi and o.time <= ref]
        facts.update(_tls_day_facts(in_window, facts, kb))
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
    results = evaluate_pack(kb.pack("alerts"), alert_facts(record, timeline, base, kb))
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
