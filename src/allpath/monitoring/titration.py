"""Maintenance titration: the titration pack run visit by visit over a maintenance log.

For each visit the run reports the counts, the 6-MP and MTX doses recorded at that visit,
the adjustment the rules suggest (from the dose in effect before the visit) with the rule ids,
citations and evidence level, and whether the recorded dose agrees. The steady-state wait is
measured from the visit at which the dose in effect was set. A visit whose counts or doses
were rejected is reported as not assessable; a visit the rules cannot decide says what is
missing. Suggestions support the treating clinician and never replace the protocol.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from allpath.errors import Problem
from allpath.monitoring.titration_log import (
    LogVisit,
    MaintenanceLog,
    read_log,
    visits_in_order,
)
from allpath.rules.engine import DecisionResult, evaluate_pack
from allpath.rules.facts import Fact
from allpath.rules.loader import load_knowledge

__all__ = [
    "DEFAULT_MP_START",
    "DEFAULT_MTX_START",
    "StartDose",
    "TitrationRun",
    "VisitResult",
    "run_titration",
    "start_doses",
    "titrate_file",
]

DEFAULT_MP_START = 75.0  # mg/m2/day, COG (fact sheet 6.1, S33/S32)
DEFAULT_MTX_START = 20.0  # mg/m2/week, COG (fact sheet 6.1, S33/S32)
LONGEST_WAIT_WEEKS = 6.0  # the longest steady-state wait of the fact sheet (6.6, S32)

Basis = Literal["auto", "anc"]
Status = Literal["recommended", "undetermined", "not_assessable"]

_MISSING_TEXT = {
    "visit.weeks_since_change": "time since the last dose change (no change seen in the log "
                                "yet; give last_change in the log header)",
    "visit.anc": "ANC", "visit.wbc": "WBC", "visit.platelets": "platelets",
    "tpmt.phenotype": "TPMT phenotype", "nudt15.phenotype": "NUDT15 phenotype",
}


def _pack() -> Any:
    return load_knowledge().pack("titration")


@dataclass(frozen=True)
class StartDose:
    """Starting doses for the phenotypes given (CPIC for 6-MP; protocol dose for MTX)."""

    tpmt: str | None
    nudt15: str | None
    mp_protocol_dose: float
    mtx_protocol_dose: float
    mp_group: str | None
    mp_percent: tuple[float, float] | None
    mp_schedule: str | None
    mp_range: tuple[float, float] | None  # mg/m2/day
    mtx_percent: float | None
    steady_state_weeks: tuple[float | None, float | None] | None
    rules: tuple[str, ...]
    cite: tuple[str, ...]
    evidence: str
    provisional: bool
    provisional_reason: str | None
    note: str | None

    def text(self) -> str:
        if self.mp_group is None:
            return "6-MP start undetermined (phenotype not covered by the fact sheet)"
        if self.mp_percent is None or self.mp_range is None:
            mp = f"6-MP: {self.mp_group} metaboliser, start per protocol (no figure given)"
        else:
            lo, hi = self.mp_range
            pct = (f"{self.mp_percent[0]:g}%" if self.mp_percent[0] == self.mp_percent[1]
                   else f"{self.mp_percent[0]:g}-{self.mp_percent[1]:g}%")
            dose = f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"
            sched = " given 3 times a week" if self.mp_schedule == "three_times_weekly" else \
                " daily"
            mp = (f"6-MP: {self.mp_group.replace('_', ' ')} -> {pct} of "
                  f"{self.mp_protocol_dose:g} mg/m2/day = {dose} mg/m2/day{sched}")
        mtx = f"MTX: {self.mtx_protocol_dose:g} mg/m2 weekly"
        return f"{mp}; {mtx}"


@dataclass(frozen=True)
class VisitResult:
    """The titration suggestion at one visit."""

    line: int
    date: str | None
    week: float | None
    cycle: str | None
    anc: float | None
    wbc: float | None
    platelets: float | None
    hemoglobin: float | None
    mp_given: float | None
    mtx_given: float | None
    mp_before: float | None
    mtx_before: float | None
    status: Status
    action: str | None
    mp_recommended: str
    mtx_recommended: str
    mp_recommended_value: float | None
    mtx_recommended_value: float | None
    change: str | None
    counts_status: str | None
    counts_basis: str | None
    hold: bool | None
    weeks_since_change: float | None
    weeks_since_change_is_minimum: bool
    steady_state: str | None
    recorded: str
    agrees: bool | None
    reason: str
    rules: tuple[str, ...]
    cite: tuple[str, ...]
    evidence: str
    provisional: bool
    missing: tuple[str, ...]
    advisories: tuple[str, ...]
    problems: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TitrationRun:
    """A whole log: start doses, visit results and a summary."""

    source: str
    format: str
    patient: str | None
    dose_unit: str | None
    start: StartDose
    visits: tuple[VisitResult, ...]
    problems: tuple[str, ...] = field(default=())
    ruleset: str = ""

    def summary(self) -> dict[str, Any]:
        actions = Counter(v.action for v in self.visits if v.action is not None)
        recorded = Counter(v.recorded for v in self.visits)
        judged = [v for v in self.visits if v.agrees is not None]
        return {
            "visits": len(self.visits),
            "recommended": sum(v.status == "recommended" for v in self.visits),
            "undetermined": sum(v.status == "undetermined" for v in self.visits),
            "not_assessable": sum(v.status == "not_assessable" for v in self.visits),
            "actions": dict(sorted(actions.items())),
            "recorded": dict(sorted(recorded.items())),
            "agreement": {"agree": sum(bool(v.agrees) for v in judged),
                          "compared": len(judged)},
            "rejected_lines": [v.line for v in self.visits if v.status == "not_assessable"],
            "advisories": sum(bool(v.advisories) for v in self.visits),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "patient": self.patient,
            "dose_unit": self.dose_unit,
            "ruleset": self.ruleset,
            "start": asdict(self.start),
            "summary": self.summary(),
            "visits": [v.as_dict() for v in self.visits],
            "problems": list(self.problems),
            "disclaimer": "Suggestions for the treating clinician; they never replace the "
                          "protocol or clinical judgement. Unconfirmed rules are marked.",
        }


# --------------------------------------------------------------------------- start doses


def _by_output(results: list[DecisionResult]) -> dict[str, DecisionResult]:
    return {r.output: r for r in results}


def _field(res: DecisionResult | None, name: str) -> Any:
    if res is None or res.status == "unknown" or not isinstance(res.value, dict):
        return None
    return res.value.get(name)


def _base_facts(log: MaintenanceLog) -> dict[str, Fact]:
    facts: dict[str, Fact] = {
        "titration.mp_protocol_dose": Fact(log.mp_start or DEFAULT_MP_START, "mg/m2/d"),
        "titration.mtx_protocol_dose": Fact(log.mtx_start or DEFAULT_MTX_START, "mg/m2/wk"),
    }
    if log.tpmt:
        facts["tpmt.phenotype"] = Fact(log.tpmt)
    if log.nudt15:
        facts["nudt15.phenotype"] = Fact(log.nudt15)
    return facts


def start_doses(log: MaintenanceLog) -> StartDose:
    """Starting doses of 6-MP and MTX for the log's phenotypes and protocol doses."""
    facts = _base_facts(log)
    res = _by_output(evaluate_pack(_pack(), facts))
    mp = res["titration.mp_start"]
    mtx = res["titration.mtx_start"]
    ss = res["titration.steady_state"]
    mp_dose = float(facts["titration.mp_protocol_dose"].value)  # type: ignore[arg-type]
    lo, hi = _field(mp, "percent_low"), _field(mp, "percent_high")
    percent = (float(lo), float(hi)) if lo is not None and hi is not None else None
    used = [r for r in (mp, mtx, ss) if r.status != "unknown"]
    return StartDose(
        tpmt=log.tpmt, nudt15=log.nudt15, mp_protocol_dose=mp_dose,
        mtx_protocol_dose=float(facts["titration.mtx_protocol_dose"].value),  # type: ignore[arg-type]
        mp_group=_field(mp, "group"), mp_percent=percent, mp_schedule=_field(mp, "schedule"),
        mp_range=(round(mp_dose * percent[0] / 100, 2), round(mp_dose * percent[1] / 100, 2))
        if percent else None,
        mtx_percent=_field(mtx, "percent"),
        steady_state_weeks=(_field(ss, "weeks_min"), _field(ss, "weeks_max"))
        if ss.status != "unknown" else None,
        rules=tuple(r.rule_id for r in used if r.rule_id),
        cite=tuple(dict.fromkeys(c for r in used for c in r.cite)),
        evidence="unconfirmed" if any(r.evidence == "unconfirmed" for r in used)
        else "confirmed",
        provisional=mp.provisional, provisional_reason=mp.provisional_reason, note=mp.note,
    )


# --------------------------------------------------------------------------- the run


def _dose(v: LogVisit) -> tuple[float, float] | None:
    if v.mp is None or v.mtx is None:
        return None
    return (v.mp, v.mtx)


def _weeks_between(a: LogVisit, b: LogVisit) -> float | None:
    if a.date is not None and b.date is not None:
        return (b.date - a.date).days / 7
    if a.week is not None and b.week is not None:
        return b.week - a.week
    return None


def _weeks_since_change(
    visits: tuple[LogVisit, ...], i: int, last_change: dt.date | None
) -> tuple[float | None, bool]:
    """Weeks from the visit that set the dose in effect before visit ``i`` (value, minimum?)."""
    if i == 0:
        if last_change is not None and visits[0].date is not None:
            return (visits[0].date - last_change).days / 7, False
        return None, False
    current = _dose(visits[i - 1])
    if current is None:
        return None, False
    j = i - 1
    while j > 0 and _dose(visits[j - 1]) == current:
        j -= 1
    if j > 0 and _dose(visits[j - 1]) is None:
        return None, False
    span = _weeks_between(visits[j], visits[i])
    if span is None:
        return None, False
    if j > 0:
        return span, False
    date_i = visits[i].date
    if last_change is not None and date_i is not None:
        return (date_i - last_change).days / 7, False
    if span >= LONGEST_WAIT_WEEKS:
        return span, True
    return None, False


def _recorded(i: int, before: tuple[float, float] | None,
              now: tuple[float, float] | None) -> str:
    if i == 0:
        return "first"
    if before is None or now is None:
        return "unknown"
    if now == (0.0, 0.0):
        return "held" if before == (0.0, 0.0) else "hold"
    if before == (0.0, 0.0):
        return "restart"
    ups = sum(n > b for n, b in zip(now, before, strict=True))
    downs = sum(n < b for n, b in zip(now, before, strict=True))
    if ups and downs:
        return "mixed"
    if ups:
        return "increase"
    if downs:
        return "decrease"
    return "unchanged"


_EXPECTED_RECORD = {
    "hold": {"hold", "held"}, "restart_reduced": {"restart"}, "decrease": {"decrease"},
    "increase": {"increase"}, "continue": {"unchanged"}, "wait": {"unchanged"},
}


def _drug_text(verb: str | None, before: float | None, pre_hold: float | None,
               change: str | None) -> tuple[str, float | None]:
    b = "?" if before is None else f"{before:g}"
    if verb == "stop":
        return "hold (0)", 0.0
    if verb == "unchanged":
        return b, before
    if verb == "restart_reduced":
        ref = f" below {pre_hold:g}" if pre_hold else ""
        return f"restart reduced{ref} (amount per protocol)", None
    if verb == "reduce":
        return f"reduce from {b} (amount per protocol)", None
    if verb == "increase":
        approx = f", about {before * 1.25:.4g}" if before else ""
        return f"increase {change or ''} from {b}{approx} (unconfirmed step)", None
    return "-", None


def _fmt(x: float | None) -> str:
    return "?" if x is None else f"{x:g}"


def _reason(res: dict[str, DecisionResult], facts: dict[str, Fact], weeks: float | None,
            minimum: bool) -> str:
    action = res["titration.action"]
    hold = res["titration.hold"]
    parts: list[str] = []
    if hold.status == "decided" and hold.value is True:
        if hold.rule_id == "hold.anc":
            parts.append(f"ANC {_fmt(_val(facts, 'visit.anc'))} < 0.5")
        else:
            parts.append(f"platelets {_fmt(_val(facts, 'visit.platelets'))} < 50")
        parts.append("hold limit (unconfirmed)")
        return " ".join(parts)
    counts = res["titration.counts"]
    status, basis = _field(counts, "status"), _field(counts, "basis")
    if status is not None:
        if basis == "wbc_nopho":
            parts.append(f"WBC {_fmt(_val(facts, 'visit.wbc'))} {status} NOPHO 1.5-3.5")
        else:
            parts.append(f"ANC {_fmt(_val(facts, 'visit.anc'))} {status} COG-style ~0.5-1.5 "
                         "(unconfirmed)")
    if _val(facts, "visit.on_hold") is True:
        parts.append("counts recovered after a hold")
    ss = res["titration.steady_state_reached"]
    if weeks is not None:
        since = f"{'at least ' if minimum else ''}{weeks:.1f} wk since change"
        if ss.status != "unknown":
            since += f", steady state {str(ss.value).replace('_', ' ')}"
        parts.append(since)
    if action.status == "unknown":
        missing = [_MISSING_TEXT.get(m, m) for m in action.missing]
        parts.append("no suggestion: missing " + ", ".join(missing) if missing
                     else "no rule covers this case")
    return "; ".join(parts)


def _val(facts: dict[str, Fact], name: str) -> Any:
    f = facts.get(name)
    return None if f is None else f.value


def _visit_facts(log: MaintenanceLog, v: LogVisit, basis: Basis, weeks: float | None,
                 on_hold: bool, streak: int) -> dict[str, Fact]:
    facts = _base_facts(log)
    if v.anc is not None:
        facts["visit.anc"] = Fact(v.anc, "10*9/L")
    if v.wbc is not None and basis == "auto":
        facts["visit.wbc"] = Fact(v.wbc, "10*9/L")
    if v.platelets is not None:
        facts["visit.platelets"] = Fact(v.platelets, "10*9/L")
    if weeks is not None:
        facts["visit.weeks_since_change"] = Fact(weeks, "wk")
    facts["visit.on_hold"] = Fact(on_hold)
    facts["visit.increases_without_response"] = Fact(float(streak), "1")
    return facts


def run_titration(log: MaintenanceLog, *, basis: Basis = "auto") -> TitrationRun:
    """Run the titration pack over every visit of ``log``.

    ``basis="anc"`` ignores recorded WBC and judges the counts on the (unconfirmed)
    COG-style ANC window; the default judges them on the NOPHO WBC window whenever a
    plausible WBC is recorded.
    """
    cp = _pack()
    start = start_doses(log)
    visits = log.visits
    out: list[VisitResult] = []
    streak = 0
    pre_hold: tuple[float, float] | None = None
    for i, v in enumerate(visits):
        before = _dose(visits[i - 1]) if i > 0 else None
        now = _dose(v)
        recorded = _recorded(i, before, now)
        if before is not None and before != (0.0, 0.0):
            pre_hold = before
        common: dict[str, Any] = {
            "line": v.line, "date": v.date.isoformat() if v.date else None, "week": v.week,
            "cycle": v.cycle, "anc": v.anc, "wbc": v.wbc, "platelets": v.platelets,
            "hemoglobin": v.hemoglobin, "mp_given": v.mp, "mtx_given": v.mtx,
            "mp_before": before[0] if before else None, "mtx_before": before[1] if before else None,
            "recorded": recorded, "problems": tuple(str(p) for p in v.problems),
        }
        if not v.assessable:
            out.append(VisitResult(
                **common, status="not_assessable", action=None, mp_recommended="-",
                mtx_recommended="-", mp_recommended_value=None, mtx_recommended_value=None,
                change=None, counts_status=None, counts_basis=None, hold=None,
                weeks_since_change=None, weeks_since_change_is_minimum=False,
                steady_state=None, agrees=None,
                reason="not assessable: " + "; ".join(
                    f"{p.path}: {p.message}" + (f" (got {p.got}; expected {p.expected})"
                                                if p.expected else "")
                    for p in _blocking(v)),
                rules=(), cite=(), evidence="confirmed", provisional=False, missing=(),
                advisories=()))
            continue
        weeks, minimum = _weeks_since_change(visits, i, log.last_change)
        on_hold = before == (0.0, 0.0)
        facts = _visit_facts(log, v, basis, weeks, on_hold, streak)
        given = dict(facts)
        res = _by_output(evaluate_pack(cp, facts))
        action = res["titration.action"]
        act = _field(action, "action")
        change = _field(action, "change")
        mp_text, mp_val = _drug_text(_field(action, "mp"), before[0] if before else None,
                                     pre_hold[0] if pre_hold else None, change)
        mtx_text, mtx_val = _drug_text(_field(action, "mtx"), before[1] if before else None,
                                       pre_hold[1] if pre_hold else None, change)
        counts = res["titration.counts"]
        hold = res["titration.hold"]
        ss = res["titration.steady_state_reached"]
        adherence = res["titration.adherence_advisory"]
        used = [r for r in (action, hold, counts, ss) if r.status == "decided"]
        advisories: list[str] = []
        if adherence.status == "decided" and adherence.value is True:
            used.append(adherence)
            advisories.append("dose increases without myelosuppression: suspect "
                              "non-adherence (check pill counts, metabolites, "
                              "transaminases) [unconfirmed]")
        status: Status = "recommended" if act is not None else "undetermined"
        out.append(VisitResult(
            **common, status=status, action=act, mp_recommended=mp_text if act else "-",
            mtx_recommended=mtx_text if act else "-", mp_recommended_value=mp_val,
            mtx_recommended_value=mtx_val, change=change,
            counts_status=_field(counts, "status"), counts_basis=_field(counts, "basis"),
            hold=hold.value if hold.status == "decided" else None,  # type: ignore[arg-type]
            weeks_since_change=None if weeks is None else round(weeks, 2),
            weeks_since_change_is_minimum=minimum,
            steady_state=str(ss.value) if ss.status == "decided" else None,
            agrees=(recorded in _EXPECTED_RECORD[act]) if act and recorded not in
            ("first", "unknown") else None,
            reason=_reason(res, given, weeks, minimum),
            rules=tuple(r.rule_id for r in used if r.rule_id),
            cite=tuple(dict.fromkeys(c for r in used for c in r.cite)),
            evidence="unconfirmed" if any(r.evidence == "unconfirmed" for r in used)
            else "confirmed",
            provisional=any(r.provisional for r in used),
            missing=action.missing, advisories=tuple(advisories)))
        # increases made at visits whose counts were above target, since counts last
        # reached or fell below target (or a hold)
        cstatus = _field(counts, "status")
        if act == "hold" or recorded in ("hold", "held") or cstatus in ("within", "below"):
            streak = 0
        elif cstatus == "above" and recorded == "increase":
            streak += 1
    problems = [str(p) for p in (*log.problems, *visits_in_order(visits))]
    return TitrationRun(source=log.source, format=log.format, patient=log.patient,
                        dose_unit=log.dose_unit, start=start, visits=tuple(out),
                        problems=tuple(problems), ruleset=load_knowledge().version)


def titrate_file(path: str | Path, *, basis: Basis = "auto", **header: Any) -> TitrationRun:
    """Read a log (header fields may be overridden) and run the titration over it."""
    return run_titration(read_log(path, **header), basis=basis)


def _blocking(v: LogVisit) -> list[Problem]:
    """The problems that make a visit not assessable (weight and height do not)."""
    return [p for p in v.problems
            if not p.path.lower().endswith(("weight", "height"))]
