"""Supportive-care alerts from the latest data (pack ``alerts``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from allpath.findings.mrd import compared_thresholds, read_mrd_results
from allpath.knowledge import load_yaml
from allpath.monitoring.checkpoints import CheckpointResponse
from allpath.monitoring.snapshots import (
    Windows,
    fact_of,
    first_treatment_start,
    load_windows,
    phase_on,
)
from allpath.observations.catalogue import load_catalogue
from allpath.observations.normalise import NormalObservation, Timeline
from allpath.record.models import PatientRecord
from allpath.rules.engine import DecisionResult, evaluate_pack
from allpath.rules.facts import Fact
from allpath.rules.loader import Knowledge, load_knowledge
from allpath.units import UnitError, convert

__all__ = ["alert_facts", "alerts"]


def _latest(timeline: Timeline, code: str, ref: dt.date, days: int) -> NormalObservation | None:
    recent = [o for o in timeline.series(code) if 0 <= (ref - o.time).days <= days]
    return recent[-1] if recent else None


_TLS_CODES = (("uric_acid", max), ("potassium", max), ("phosphate", max), ("calcium", min))


def _anc_falling(timeline: Timeline, ref: dt.date, days: int) -> Fact | None:
    """Whether the latest ANC in the alert window is lower than an earlier one there (None
    with fewer than two results). Whether the ANC is *expected* to fall (IDSA) is decided by
    the alerts pack (decision ``anc_expected_to_fall``), which also reads the phase."""
    recent = [o for o in timeline.series("anc")
              if 0 <= (ref - o.time).days <= days and o.value is not None]
    if len(recent) < 2:
        return None
    last, earlier = recent[-1], recent[:-1]
    falling = any((o.value or 0.0) > (last.value or 0.0) for o in earlier)
    return Fact(falling, inputs=tuple(o.ref for o in recent))


_HOURS = re.compile(r"^\s*(?:h(?:our)?\s*)?(\d+)\s*(?:h|hr|hrs|hours?)?\s*$", re.IGNORECASE)


def _hdmtx_facts(timeline: Timeline, ref: dt.date, days: int, win: Windows) -> dict[str, Fact]:
    """Methotrexate levels by hour from the start of a high-dose infusion (timepoint "42h")
    and the creatinine against its baseline (Ramsey 2018 reads both)."""
    out: dict[str, Fact] = {}
    levels = [o for o in timeline.series("methotrexate_level")
              if o.value is not None and 0 <= (ref - o.time).days <= days and o.timepoint]
    first: dt.date | None = None
    for o in levels:
        m = _HOURS.match(str(o.timepoint))
        if m and int(m.group(1)) in win.hdmtx_level_hours:
            out[f"hdmtx.level_{m.group(1)}h"] = Fact(o.value or 0.0, o.unit, (o.ref,))
            first = o.time if first is None else min(first, o.time)
    if first is None:
        return out
    creat = [o for o in timeline.series("creatinine") if o.value is not None
             and (o.time - first).days >= -win.hdmtx_creatinine_baseline_days
             and o.time <= ref]
    if len(creat) >= 2:
        base = min(creat, key=lambda o: o.value or 0.0)
        last = creat[-1]
        if base.value:
            out["hdmtx.creatinine_ratio"] = Fact(round((last.value or 0.0) / base.value, 2),
                                                 "1", (base.ref, last.ref))
        out["hdmtx.creatinine_rise"] = Fact((last.value or 0.0) - (base.value or 0.0),
                                            "mg/dL", (base.ref, last.ref))
    return out


_GRADES = ("grade_1", "grade_2", "grade_3", "grade_4")


def _event_facts(record: PatientRecord, timeline: Timeline, ref: dt.date,
                 days: int) -> dict[str, Fact]:
    """Recorded events that stay relevant through a treatment phase (an asparaginase
    reaction, a thromboembolism): read from the start of the phase in progress to the
    reference date, else within the alert window. The reaction with the highest grade is
    kept, with the lowest asparaginase activity measured from its day to the reference date
    (van der Sluis 2016: activity tells an allergy from an allergic-like reaction); a
    thromboembolism is ``present`` when any record in that span says so (a later
    ``absent``, e.g. a clot that has resolved, does not hide it)."""
    current = phase_on(record, ref)

    def in_span(o: NormalObservation) -> str | None:
        if o.category is None or o.time > ref:
            return None
        if current is not None:
            return o.category if o.time >= current.start else None
        return o.category if (ref - o.time).days <= days else None

    out: dict[str, Fact] = {}
    reactions = [(c, o) for o in timeline.series("asparaginase_reaction")
                 if (c := in_span(o)) is not None and c in _GRADES]
    if reactions:
        grade, worst = max(reactions, key=lambda x: (_GRADES.index(x[0]), x[1].time))
        out["now.asparaginase_reaction"] = Fact(grade, inputs=(worst.ref,))
        after = [o for o in timeline.series("asparaginase_activity")
                 if o.value is not None and worst.time <= o.time <= ref]
        if after:
            low = min(after, key=lambda o: o.value or 0.0)
            out["now.asparaginase_activity_after_reaction"] = Fact(
                low.value or 0.0, low.unit, (low.ref,))
    clots = [(c, o) for o in timeline.series("thromboembolism")
             if (c := in_span(o)) is not None]
    if clots:
        present = [o for c, o in clots if c == "present"]
        chosen = present[-1] if present else clots[-1][1]
        out["now.thromboembolism"] = Fact("present" if present else "absent",
                                          inputs=(chosen.ref,))
    return out


def _sustained_minutes() -> int:
    doc: Any = load_yaml("monitoring.yaml")
    return int(doc["sustained_fever_minutes"])


def _temperature_sustained(record: PatientRecord, ref: dt.date, days: int) -> Fact | None:
    """The highest temperature held over the sustained-fever span (monitoring.yaml, IDSA's
    1 hour): over every pair of timed readings at least that far apart, the lowest reading
    from the first to the last, and the largest of these. Unknown (None) without such a
    pair; only readings recorded with a clock time count."""
    cat = load_catalogue()
    readings: list[tuple[dt.datetime, float, int]] = []
    for i, o in enumerate(record.observations):
        analyte = cat.resolve(o.code)
        if analyte is None or analyte.code != "temperature" or not isinstance(o.time, dt.datetime):
            continue
        if not isinstance(o.value, int | float) or isinstance(o.value, bool):
            continue
        if not 0 <= (ref - o.time.date()).days <= days:
            continue
        try:
            readings.append((o.time, convert(float(o.value), o.unit or "Cel", "Cel"), i))
        except UnitError:
            continue
    readings.sort()
    span = dt.timedelta(minutes=_sustained_minutes())
    best: float | None = None
    for a in range(len(readings)):
        for b in range(a + 1, len(readings)):
            if readings[b][0] - readings[a][0] >= span:
                low = min(t for _, t, _ in readings[a:b + 1])
                best = low if best is None else max(best, low)
    if best is None:
        return None
    return Fact(round(best, 2), "Cel", tuple(f"observations[{i}]" for _, _, i in readings))


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
    kb: Knowledge | None = None, responses: Sequence[CheckpointResponse] = (),
) -> dict[str, Fact]:
    """The ``now.*`` and ``tls.*`` facts on the record's reference date (and the latest
    decided checkpoint response, ``response.latest``)."""
    kb = kb if kb is not None else load_knowledge()
    facts: dict[str, Fact] = {k: base[k] for k in
                              ("age.years", "symptoms", "extramedullary.mediastinal_mass",
                               "ploidy.who_haem5_icc", "ploidy.safavi_paulsson_2017",
                               "genetics.fusions")
                              if k in base}
    decided = [r for r in responses if r.result.status == "decided"]
    if decided:
        last = decided[-1].result
        facts["response.latest"] = Fact(last.value, inputs=last.input_refs)  # type: ignore[arg-type]
    ref = timeline.reference
    if ref is None:
        return facts
    facts.update(_mrd_facts(timeline, ref, kb))
    win = load_windows()
    for code in ("temperature", "anc", "wbc", "platelets", "hemoglobin"):
        f = fact_of(_latest(timeline, code, ref, win.alert_window_days))
        if f is not None:
            facts[f"now.{code}"] = f
    current = phase_on(record, ref)
    if current is not None:
        facts["now.phase"] = Fact(current.phase, inputs=("treatment",))
    falling = _anc_falling(timeline, ref, win.alert_window_days)
    if falling is not None:
        facts["now.anc_falling"] = falling
    sustained = _temperature_sustained(record, ref, win.alert_window_days)
    if sustained is not None:
        facts["now.temperature_sustained"] = sustained
    facts.update(_hdmtx_facts(timeline, ref, win.alert_window_days, win))
    facts.update(_event_facts(record, timeline, ref, win.alert_window_days))
    for code, pick, name in (("uric_acid", max, "now.uric_acid_peak"),
                             ("potassium", max, "now.potassium_peak"),
                             ("phosphate", max, "now.phosphate_peak"),
                             ("calcium", min, "now.calcium_low"),
                             ("glucose", max, "now.glucose_peak"),
                             ("asparaginase_activity", min, "now.asparaginase_activity_low"),
                             ("lipase_x_uln", max, "now.lipase_x_uln_peak"),
                             ("fibrinogen", min, "now.fibrinogen_low")):
        recent = [o for o in timeline.series(code)
                  if 0 <= (ref - o.time).days <= win.alert_window_days and o.value is not None]
        if code == "fibrinogen":
            # read as a treatment effect: only from the start of the phase in progress (a low
            # value at diagnosis is the leukaemia's own coagulopathy, not asparaginase)
            recent = [o for o in recent if current is not None and o.time >= current.start]
        if recent:
            chosen = pick(recent, key=lambda o: o.value or 0.0)
            facts[name] = Fact(chosen.value or 0.0, chosen.unit, (chosen.ref,))
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


_LABELS = {"temperature": "temperature", "temperature_sustained": "temperature held over 1 h",
           "anc": "ANC", "wbc": "WBC", "platelets": "platelets", "hemoglobin": "hemoglobin",
           "uric_acid": "uric acid", "potassium": "potassium", "phosphate": "phosphate",
           "calcium": "calcium", "uric_acid_peak": "uric acid", "potassium_peak": "potassium",
           "phosphate_peak": "phosphate", "calcium_low": "calcium",
           "creatinine_rise": "creatinine rise", "level_36h": "methotrexate at 36 h",
           "level_42h": "methotrexate at 42 h", "level_48h": "methotrexate at 48 h",
           "creatinine_ratio": "creatinine x baseline", "glucose_peak": "glucose",
           "asparaginase_activity_low": "asparaginase activity",
           "lipase_x_uln_peak": "lipase/amylase x upper limit of normal",
           "fibrinogen_low": "fibrinogen",
           "asparaginase_activity_after_reaction": "asparaginase activity after the reaction"}
_EVENTS = {"asparaginase_reaction": "asparaginase reaction", "thromboembolism": "thromboembolism"}
_MOLAR = {"uric_acid": "umol/L", "phosphate": "mmol/L", "calcium": "mmol/L",
          "glucose": "mmol/L"}
_SHOWN_UNIT = {"10*9/L": "x10^9/L", "Cel": "C", "1": "", "[iU]/L": "IU/L"}


def _base_of(key: str) -> str:
    """The analyte code behind a ``now.*`` fact key (``fibrinogen_low`` -> ``fibrinogen``)."""
    return key.removesuffix("_peak").removesuffix("_low")


def _event_value(name: str, f: Fact, timeline: Timeline | None) -> str | None:
    """A recorded event with its date, e.g. "asparaginase reaction grade 3 on 2024-03-10"."""
    key = name.split(".", 1)[-1]
    if key not in _EVENTS or not isinstance(f.value, str):
        return None
    text = f"{_EVENTS[key]} {f.value.replace('_', ' ')}"
    if timeline is not None and f.inputs:
        when = [o.time for o in timeline.series(key) if o.ref == f.inputs[0]]
        if when:
            text += f" on {when[0].isoformat()}"
    return text


def _one_value(name: str, f: Fact) -> str | None:
    if not isinstance(f.value, int | float) or isinstance(f.value, bool):
        return None
    key = name.split(".", 1)[-1]
    label = _LABELS.get(key, key.replace("_", " "))
    unit = f.unit or ""
    text = f"{label} {f.value:.4g} {_SHOWN_UNIT.get(unit, unit)}".strip()
    if unit == "mg/dL" and _base_of(key) == "fibrinogen":
        text += f" ({convert(float(f.value), 'mg/dL', 'g/L'):.3g} g/L)"
    if unit == "[iU]/L":
        text += f" ({convert(float(f.value), '[iU]/L', '[iU]/mL'):.3g} IU/mL)"
    base = key.removesuffix("_peak").removesuffix("_low")
    if base in _MOLAR and unit == "mg/dL":
        analyte = load_catalogue().resolve(base)
        mass = analyte.molar_mass if analyte is not None else None
        if mass:
            other = convert(float(f.value), "mg/dL", _MOLAR[base], mass)
            text += f" ({other:.3g} {_MOLAR[base].replace('umol', 'µmol')})"
    return text


def _window_values(timeline: Timeline, name: str) -> str | None:
    """Every value of a peak/low fact's analyte in the alert window (e.g. two glucoses)."""
    key = name.split(".", 1)[-1]
    if not key.endswith(("_peak", "_low")) or timeline.reference is None:
        return None
    code = key.removesuffix("_peak").removesuffix("_low")
    days = load_windows().alert_window_days
    values = [o for o in timeline.series(code) if o.value is not None
              and 0 <= (timeline.reference - o.time).days <= days]
    if len(values) < 2:
        return None
    unit = values[0].unit or ""
    shown = ", ".join(f"{o.value:.4g}" for o in values)
    return f"{_LABELS.get(key, code)} readings {shown} {_SHOWN_UNIT.get(unit, unit)}".strip()


def _values_text(used: Mapping[str, Any], facts: Mapping[str, Fact],
                 timeline: Timeline | None = None,
                 expected: DecisionResult | None = None) -> str:
    """The patient's values behind an alert, shown with it (both units for TLS labs)."""
    names = [n for n in used if n in facts]
    if "tls.laboratory" in names:
        names += [n for n in facts if n.startswith("tls.") and n not in names]
    parts = [t for n in names if (t := _one_value(n, facts[n])) is not None]
    parts += [t for n in names if (t := _event_value(n, facts[n], timeline)) is not None]
    if timeline is not None:
        parts += [t for n in names if (t := _window_values(timeline, n)) is not None]
    if "anc.expected_to_fall" in used and expected is not None \
            and expected.status == "decided" and expected.value is True:
        # the pack rule that decided it says why (induction in progress, or a falling ANC)
        why = ("induction in progress" if "now.phase" in expected.inputs
               and expected.inputs.get("now.phase") == "induction" else "the ANC is falling")
        parts.append(f"ANC expected to fall: {why} (rule {expected.rule_id})")
    if "now.phase" in facts and any(n.startswith("now.") for n in names):
        parts.append(f"phase {facts['now.phase'].value}")
    return f"[{'; '.join(parts)}]" if parts else ""


def _mrd_facts(timeline: Timeline, ref: dt.date, kb: Knowledge | None = None
               ) -> dict[str, Fact]:
    """``now.mrd_latest`` and ``now.mrd_rise``: the latest MRD result on or before ``ref``,
    and how much higher it is than the one before it from the same specimen (and method,
    where both record one); ``now.mrd_previous``: that earlier result, read with its own
    assay sensitivity (a recurrence after an MRD-negative result, alert mrd_recurrence)."""
    series = [o for o in timeline if o.code in ("mrd_marrow", "mrd_blood")
              and o.value is not None and o.time <= ref]
    if not series:
        return {}
    latest = series[-1]
    assert latest.value is not None
    # read with its assay sensitivity and the other results of that specimen and day against
    # the alerts pack's threshold (allpath.findings.mrd): a result too insensitive for it,
    # or same-day results on both sides of it, leave the latest MRD (and its rise) unknown
    same_day = [latest, *(o for o in series if o is not latest and o.code == latest.code
                          and o.time == latest.time)]
    reading = read_mrd_results("now.mrd_latest", same_day,
                               compared_thresholds(kb).get("now.mrd_latest", ()))
    if reading.fact is None:
        return {}
    latest = next(o for o in same_day if o.ref == reading.used)
    assert latest.value is not None
    out = {"now.mrd_latest": Fact(latest.value, "%", (latest.ref,))}
    before = [o for o in series if o.code == latest.code and o.time < latest.time
              and (o.method is None or latest.method is None or o.method == latest.method)]
    if before and before[-1].value is not None:
        prev = before[-1]
        out["now.mrd_rise"] = Fact(latest.value - (prev.value or 0.0), "%",
                                   (prev.ref, latest.ref))
        # the earlier result against the same thresholds: a "negative" from an assay too
        # coarse for them, or same-day results on both sides, leaves it unknown
        prev_day = [prev, *(o for o in before if o is not prev and o.time == prev.time)]
        earlier = read_mrd_results("now.mrd_previous", prev_day,
                                   compared_thresholds(kb).get("now.mrd_previous", ()))
        if earlier.fact is not None:
            out["now.mrd_previous"] = earlier.fact
    return out


def alerts(
    record: PatientRecord, timeline: Timeline, base: dict[str, Fact], kb: Knowledge,
    responses: Sequence[CheckpointResponse] = (),
) -> tuple[list[dict[str, Any]], list[DecisionResult]]:
    """Alerts as ``{id, severity, message, trace}``, and the decision results behind them."""
    facts = alert_facts(record, timeline, base, kb, responses)
    results = list(evaluate_pack(kb.pack("alerts"), facts))
    by = {r.output: r for r in results}
    main = by["alerts"]
    out: list[dict[str, Any]] = []
    if main.status == "decided" and isinstance(main.value, list):
        for (rule_id, cite, evidence), item, used, refs in zip(
            main.hits, main.value, main.hit_inputs, main.hit_refs, strict=False
        ):
            if not isinstance(item, dict):
                continue
            shown = _values_text(used, facts, timeline, by.get("anc.expected_to_fall"))
            out.append({
                "id": item["id"],
                "severity": item["severity"],
                "message": f"{item['message']} {shown}".strip(),
                "trace": {"rule_id": rule_id, "citations": list(cite), "evidence": evidence,
                          "inputs": dict(used), "input_refs": list(refs)},
            })
    return out, results
