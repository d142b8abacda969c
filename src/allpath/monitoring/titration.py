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
import re
from collections import Counter
from collections.abc import Sequence
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
from allpath.observations.catalogue import load_catalogue
from allpath.rules.engine import DecisionResult, evaluate_pack
from allpath.rules.facts import Fact
from allpath.rules.loader import load_knowledge
from allpath.units import convert

__all__ = [
    "StartDose",
    "TitrationRun",
    "VisitResult",
    "assumed_mp_protocol_dose",
    "run_titration",
    "start_doses",
    "titrate_file",
]

LONGEST_WAIT_WEEKS = 6.0  # the longest steady-state wait of the fact sheet (6.6, S32)

#: a value the log does not give, in the run's words (never "?")
NOT_KNOWN = "not known"
_RANGE = re.compile(r"\{(\w+)\}-\{(\w+)\}")
_KEY = re.compile(r"\{(\w+)\}")
_CLAUSE = re.compile(r": ([^:.]*\{\w+\}[^:.]*)\.$")
_UNIT_AFTER = re.compile(
    r"\{(?P<key>\w+)\}(?: ?(?:x10\^9/L|U/L|mg/dL|mmol/L|umol/L|pmol/8x10\^8 RBC)|%)")

Basis = Literal["auto", "anc"]
Status = Literal["recommended", "check_counts", "undetermined", "not_assessable"]

_MISSING_TEXT = {
    "visit.anc": "ANC", "visit.wbc": "WBC", "visit.platelets": "platelets",
    "tpmt.phenotype": "TPMT phenotype", "nudt15.phenotype": "NUDT15 phenotype",
}


def _missing_text(log: MaintenanceLog, name: str) -> str:
    """A missing fact in words, in the terms of where the visits came from: a log can give
    ``last_change`` in its header; a record has no header, so the dose observations it
    lacks are named instead."""
    if name != "visit.weeks_since_change":
        return _MISSING_TEXT.get(name, name)
    if log.format == "record":
        since = (f" on {log.maintenance_start.isoformat()}"
                 if log.maintenance_start is not None else "")
        return ("time since the last dose change (the record gives no 6-MP dose from the day "
                f"maintenance started{since} or from a dose change before this visit: record "
                "mercaptopurine_dose and methotrexate_dose on the day each dose was set)")
    return ("time since the last dose change (no change seen in the log yet; give last_change "
            "in the log header)")


def _pack() -> Any:
    return load_knowledge().pack("titration")


def assumed_mp_protocol_dose() -> float:
    """The 6-MP protocol dose (mg/m2/day) the titration pack assumes when none is given."""
    return _assumed_dose("mp_start", "titration.mp_protocol_dose")[0]


def _decision(decision_id: str) -> Any:
    """A decision of the titration pack, by id."""
    for d in _pack().pack.decisions:
        if d.id == decision_id:
            return d
    raise LookupError(f"titration pack: no decision {decision_id!r}")


def _assumed_dose(decision_id: str, fact: str) -> tuple[float, str, str]:
    """The protocol dose a start decision assumes when none is given (value, unit, reason).

    The value lives in the pack (the decision's ``provisional.assume``), never in Python.
    """
    for d in _pack().pack.decisions:
        if d.id == decision_id and d.provisional is not None:
            raw = d.provisional.assume[fact]
            assert isinstance(raw, dict), f"{decision_id}: {fact} must be {{value, unit}}"
            return float(raw["value"]), str(raw["unit"]), d.provisional.reason
    raise LookupError(f"titration pack: decision {decision_id!r} assumes no {fact}")


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
    assumed: tuple[str, ...] = ()  # protocol doses assumed because the log gave none

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
        if "mtx_start" in self.assumed:
            mtx += " (assumed COG dose, provisional: give the protocol's mtx_start)"
        if "mp_start" in self.assumed:
            mp += (f" (assumed COG dose of {self.mp_protocol_dose:g} mg/m2/day, provisional: "
                   "give the protocol's mp_start)")
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
    alerts: tuple[str, ...] = ()  # pack messages that must be acted on (implausible counts)

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
            "check_counts": sum(v.status == "check_counts" for v in self.visits),
            "undetermined": sum(v.status == "undetermined" for v in self.visits),
            "not_assessable": sum(v.status == "not_assessable" for v in self.visits),
            "actions": dict(sorted(actions.items())),
            "recorded": dict(sorted(recorded.items())),
            "agreement": {"agree": sum(bool(v.agrees) for v in judged),
                          "compared": len(judged)},
            "rejected_lines": [v.line for v in self.visits if v.status == "not_assessable"],
            "advisories": sum(bool(v.advisories) for v in self.visits),
            "alerts": sum(bool(v.alerts) for v in self.visits),
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


def _by_output(results: Sequence[DecisionResult]) -> dict[str, DecisionResult]:
    return {r.output: r for r in results}


def _field(res: DecisionResult | None, name: str) -> Any:
    if res is None or res.status == "unknown" or not isinstance(res.value, dict):
        return None
    return res.value.get(name)


def _base_facts(log: MaintenanceLog) -> dict[str, Fact]:
    """Header facts; a protocol dose the log does not give stays missing (never defaulted)."""
    facts: dict[str, Fact] = {}
    if log.mp_start is not None:
        facts["titration.mp_protocol_dose"] = Fact(log.mp_start, "mg/m2/d")
    if log.mtx_start is not None:
        facts["titration.mtx_protocol_dose"] = Fact(log.mtx_start, "mg/m2/wk")
    if log.allopurinol is not None:
        facts["visit.allopurinol"] = Fact(log.allopurinol)
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
    assumed: list[str] = []
    if log.mp_start is None:
        mp_dose, _, _ = _assumed_dose("mp_start", "titration.mp_protocol_dose")
        assumed.append("mp_start")
    else:
        mp_dose = log.mp_start
    if log.mtx_start is None:
        mtx_dose, _, _ = _assumed_dose("mtx_start", "titration.mtx_protocol_dose")
        assumed.append("mtx_start")
    else:
        mtx_dose = log.mtx_start
    # the reason names only what was assumed: a phenotype the start needed and lacked, a
    # protocol dose not given (the pack's provisional.says clauses)
    reasons: list[str] = []
    for start, name, given in ((mp, "titration.mp_protocol_dose", log.mp_start),
                               (mtx, "titration.mtx_protocol_dose", log.mtx_start)):
        prov = _decision(start.decision).provisional
        assert prov is not None, f"titration pack: {start.decision} assumes nothing"
        made = {n for n in prov.assume if n not in facts} if start.provisional else set()
        if given is None:
            made.add(name)
        if made:
            reasons.append(prov.text(made))
    if assumed:  # how to give a protocol dose, in the terms of where the visits came from
        reasons.append(
            "A record has no field for the protocol's doses, so they stay assumed."
            if log.format == "record" else
            f"Give {' and '.join(assumed)} in the log header to make the start final.")
    lo, hi = _field(mp, "percent_low"), _field(mp, "percent_high")
    percent = (float(lo), float(hi)) if lo is not None and hi is not None else None
    used = [r for r in (mp, mtx, ss) if r.status != "unknown"]
    return StartDose(
        tpmt=log.tpmt, nudt15=log.nudt15, mp_protocol_dose=mp_dose,
        mtx_protocol_dose=mtx_dose,
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
        provisional=mp.provisional or bool(assumed),
        provisional_reason=" ".join(reasons) or None, note=mp.note, assumed=tuple(assumed),
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


_EXPECTED_RECORD: dict[str, set[str]] = {
    "hold": {"hold", "held"}, "restart_reduced": {"restart"}, "decrease": {"decrease"},
    "increase": {"increase"}, "continue": {"unchanged"}, "wait": {"unchanged"},
}


def _drug_text(verb: str | None, before: float | None, pre_hold: float | None,
               change: str | None, change_percent: float | None) -> tuple[str, float | None]:
    b = NOT_KNOWN if before is None else f"{before:g}"
    if verb == "stop":
        return "hold (0)", 0.0
    if verb == "no_suggestion":
        return "no suggestion until checked", None
    if verb == "unchanged":
        return b, before
    if verb == "restart_previous":
        if pre_hold:
            return f"restart at {pre_hold:g} (the dose before the hold)", pre_hold
        return "restart at the dose before the hold", None
    if verb == "restart_reduced":
        ref = f" below {pre_hold:g}" if pre_hold else ""
        return f"restart reduced{ref} (amount per protocol)", None
    now = "the current dose (not known)" if before is None else b
    if verb == "reduce":
        return f"reduce from {now} (amount per protocol)", None
    if verb == "increase":
        approx = (f", about {before * (1 + change_percent / 100):.4g}"
                  if before and change_percent else "")
        step = f"increase {change} from" if change else "increase from"
        return f"{step} {now}{approx} (unconfirmed step)", None
    return "-", None


def _fmt(x: float | None) -> str:
    return NOT_KNOWN if x is None else f"{x:g}"


def _reason(log: MaintenanceLog, res: dict[str, DecisionResult], facts: dict[str, Fact],
            weeks: float | None, minimum: bool) -> str:
    """Why: the counts that were read, then the pack's own note of the rule that decided."""
    action = res["titration.action"]
    parts: list[str] = []
    counts = ", ".join(f"{label} {_fmt(_val(facts, name))}" for label, name in
                       (("WBC", "visit.wbc"), ("ANC", "visit.anc"),
                        ("platelets", "visit.platelets")) if name in facts)
    if counts:
        parts.append(counts + " x10^9/L")
    hold = res["titration.hold"]
    if hold.status == "decided" and hold.value is True and hold.note:
        parts.append(hold.note)
    ss = res["titration.steady_state_reached"]
    if weeks is not None and action.rule_id not in ("action.hold", "action.check_counts"):
        since = f"{'at least ' if minimum else ''}{weeks:.1f} wk since change"
        if ss.status != "unknown":
            since += f", steady state {str(ss.value).replace('_', ' ')}"
        parts.append(since)
    if action.status == "unknown":
        missing = [_missing_text(log, m) for m in action.missing]
        parts.append("no suggestion: missing " + ", ".join(missing) if missing
                     else "no suggestion: no rule covers this case")
    elif action.note:
        parts.append(action.note)
    return "; ".join(parts)


def _val(facts: dict[str, Fact], name: str) -> Any:
    f = facts.get(name)
    return None if f is None else f.value


_PER_M2_DAY = ("mg/m2/d", "mg/m2/day", "mg/m2")


def _percent_of_protocol(log: MaintenanceLog, mp: float | None,
                         start: StartDose) -> float | None:
    """A 6-MP dose as % of the protocol dose (the one given, else the dose the pack
    assumes, see :attr:`StartDose.assumed`), when the dose is known per m2 per day."""
    if mp is None or log.dose_unit is None:
        return None
    if log.dose_unit.replace(" ", "").replace("²", "2").lower() not in _PER_M2_DAY:
        return None
    return round(100 * mp / start.mp_protocol_dose, 1)


def _message(res: DecisionResult, values: dict[str, float | None]) -> str | None:
    """A pack message with the visit's values filled in."""
    text = _field(res, "message")
    if not isinstance(text, str):
        return None
    # a value not known is said in words: a closing clause made only of values not known
    # (": {low}-{high} instead of the current {now}.") in one phrase, a range once, and no
    # unit after it
    def clause(m: re.Match[str]) -> str:
        keys = _KEY.findall(m[1])
        if not keys or any(values.get(k) is not None for k in keys):
            return m[0]
        what = ("the 6-MP doses" if all(k.startswith("mp_") for k in keys) else "the values")
        return f": {what} are {NOT_KNOWN}."

    text = _CLAUSE.sub(clause, text)
    for a, b in _RANGE.findall(text):
        if values.get(a) is None and values.get(b) is None:
            text = text.replace(f"{{{a}}}-{{{b}}}", f"{{{a}}}")
    text = _UNIT_AFTER.sub(lambda m: m[0] if values.get(m["key"]) is not None
                           else f"{{{m['key']}}}", text)
    filled = {k: (NOT_KNOWN if x is None else f"{x:g}") for k, x in values.items()}
    return text.format(**filled)


def _visit_facts(log: MaintenanceLog, start: StartDose, v: LogVisit, basis: Basis,
                 weeks: float | None, on_hold: bool, streak: int, checked_mp: float | None
                 ) -> dict[str, Fact]:
    """The pack's facts for visit ``v``; ``checked_mp`` is the 6-MP dose the CPIC start
    check judges at this visit (None: no check)."""
    facts = _base_facts(log)
    percent = _percent_of_protocol(log, checked_mp, start)
    if percent is not None:
        # against an assumed protocol dose the start check is provisional, like the start
        assumed = "mp_start" in start.assumed
        facts["visit.mp_percent_of_protocol"] = Fact(percent, "%", provisional=assumed)
        if assumed:
            facts["titration.mp_protocol_dose"] = Fact(start.mp_protocol_dose, "mg/m2/d",
                                                        provisional=True)
    if v.anc is not None:
        facts["visit.anc"] = Fact(v.anc, "10*9/L")
    if v.wbc is not None and basis == "auto":
        facts["visit.wbc"] = Fact(v.wbc, "10*9/L")
    if v.platelets is not None:
        facts["visit.platelets"] = Fact(v.platelets, "10*9/L")
    if weeks is not None:
        facts["visit.weeks_since_change"] = Fact(weeks, "wk")
    if v.glucose is not None:
        facts["visit.glucose"] = Fact(v.glucose, "mg/dL")
    if v.alt is not None:
        facts["visit.alt"] = Fact(v.alt, "U/L")
    if v.bilirubin is not None:
        facts["visit.bilirubin"] = Fact(v.bilirubin, "mg/dL")
    cat = load_catalogue()
    if v.tgn is not None:
        facts["visit.tgn"] = Fact(v.tgn, str(cat["tgn"].unit))
    if v.memp is not None:
        facts["visit.memp"] = Fact(v.memp, str(cat["memp"].unit))
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
    # the CPIC start check runs at every visit until a 6-MP dose at or below the CPIC start
    # has been in effect: a dose kept above it is still the start (fact sheet 6.8-6.10),
    # while a later rise made by titrating to the counts is not (6.8: "adjust to
    # myelosuppression")
    at_cpic_start = False
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
                reason="not assessable: " + "; ".join(_problem_text(p) for p in _blocking(v)),
                rules=(), cite=(), evidence="confirmed", provisional=False, missing=(),
                advisories=()))
            continue
        weeks, minimum = _weeks_since_change(visits, i, log.last_change)
        on_hold = before == (0.0, 0.0)
        # the dose judged: the one in effect before the visit (what the suggestion starts
        # from), or at the first visit the dose recorded at it; a hold (0) is not a dose
        judged = before if before is not None else now
        checked_mp = (judged[0] if judged is not None and judged[0] and not at_cpic_start
                      else None)
        facts = _visit_facts(log, start, v, basis, weeks, on_hold, streak, checked_mp)
        if basis == "anc" and v.wbc is not None:
            # the ANC basis ignores the WBC for the target, never for plausibility
            probe = dict(facts)
            probe["visit.wbc"] = Fact(v.wbc, "10*9/L")
            probe_res = _by_output(evaluate_pack(cp, dict(probe)))
            if _field(probe_res["titration.count_plausibility"], "status") == "implausible":
                facts = probe
        given = dict(facts)
        res = _by_output(evaluate_pack(cp, facts))
        action = res["titration.action"]
        act = _field(action, "action")
        change = _field(action, "change")
        pct = _field(action, "change_percent")
        change_percent = float(pct) if isinstance(pct, int | float) else None
        if _field(res["titration.start_check"], "status") == "within_cpic_start":
            at_cpic_start = True
        # the start check judges the dose recorded at the first visit: it is the reference
        ref = now if before is None and action.rule_id == "action.decrease.above_cpic_start" \
            else before
        mp_text, mp_val = _drug_text(_field(action, "mp"), ref[0] if ref else None,
                                     pre_hold[0] if pre_hold else None, change, change_percent)
        mtx_text, mtx_val = _drug_text(_field(action, "mtx"), ref[1] if ref else None,
                                       pre_hold[1] if pre_hold else None, change,
                                       change_percent)
        counts = res["titration.counts"]
        hold = res["titration.hold"]
        ss = res["titration.steady_state_reached"]
        plaus = res["titration.count_plausibility"]
        used = [r for r in (action, hold, counts, ss) if r.status == "decided"]
        values = {"wbc": v.wbc, "anc": v.anc,
                  "wbc_per_ul": None if v.wbc is None else v.wbc / 1000,
                  "anc_per_ul": None if v.anc is None else v.anc / 1000,
                  "percent": _percent_of_protocol(log, checked_mp, start)}
        values["glucose"] = v.glucose
        values["alt"] = v.alt
        values["tgn"] = v.tgn
        values["memp"] = v.memp
        values["bilirubin"] = None if v.bilirubin is None else round(v.bilirubin, 2)
        values["bilirubin_umol"] = (None if v.bilirubin is None else round(convert(
            v.bilirubin, "mg/dL", "umol/L", load_catalogue()["bilirubin"].molar_mass)))
        uln = _field(res["titration.alt"], "uln")  # the limit the pack's rule states
        values["alt_x_uln"] = (round(v.alt / float(uln), 2)
                               if v.alt is not None and isinstance(uln, int | float) else None)
        values["glucose_mmol"] = (None if v.glucose is None else round(convert(
            v.glucose, "mg/dL", "mmol/L", load_catalogue()["glucose"].molar_mass), 1))
        mp_now = before[0] if before and before[0] else v.mp
        allopurinol = res["titration.allopurinol_advisory"]
        reduced = {}
        for key, name in (("mp_reduced_low", "dose_fraction_low"),
                           ("mp_reduced_high", "dose_fraction_high")):
            fraction = _field(allopurinol, name)  # the label's fractions, from the pack
            reduced[key] = (round(mp_now * float(fraction))
                            if mp_now is not None and isinstance(fraction, int | float) else None)
        values.update({"mp_now": mp_now, **reduced})
        alerts: list[str] = []
        if _field(plaus, "status") == "implausible":
            used.append(plaus)
            alerts.append(_message(plaus, values) or str(plaus.note))
        advisories: list[str] = []
        adherence = res["titration.adherence_advisory"]
        if adherence.status == "decided" and adherence.value is True:
            used.append(adherence)
            advisories.append(f"{adherence.note} [unconfirmed]" if adherence.evidence ==
                              "unconfirmed" else str(adherence.note))
        for name in ("titration.start_check", "titration.allopurinol_advisory",
                     "titration.metabolites", "titration.hypoglycaemia", "titration.alt",
                     "titration.bilirubin"):
            extra = res[name]
            text = _message(extra, values) if extra.status == "decided" else None
            if text:
                used.append(extra)
                advisories.append(text)
        status: Status = ("check_counts" if act == "check_counts" else
                          "recommended" if act is not None else "undetermined")
        out.append(VisitResult(
            **common, status=status, action=act, mp_recommended=mp_text if act else "-",
            mtx_recommended=mtx_text if act else "-", mp_recommended_value=mp_val,
            mtx_recommended_value=mtx_val, change=change,
            counts_status=_field(counts, "status"), counts_basis=_field(counts, "basis"),
            hold=hold.value if hold.status == "decided" else None,  # type: ignore[arg-type]
            weeks_since_change=None if weeks is None else round(weeks, 2),
            weeks_since_change_is_minimum=minimum,
            steady_state=str(ss.value) if ss.status == "decided" else None,
            agrees=(recorded in _EXPECTED_RECORD[act]) if act in _EXPECTED_RECORD and
            recorded not in ("first", "unknown") else None,
            reason=_reason(log, res, given, weeks, minimum),
            rules=tuple(r.rule_id for r in used if r.rule_id),
            cite=tuple(dict.fromkeys(c for r in used for c in r.cite)),
            evidence="unconfirmed" if any(r.evidence == "unconfirmed" for r in used)
            else "confirmed",
            provisional=any(r.provisional for r in used),
            missing=action.missing, advisories=tuple(advisories), alerts=tuple(alerts)))
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


def _problem_text(p: Problem) -> str:
    """``path: message (got ...; expected ...)``, leaving out what is not known."""
    said = "; ".join(x for x in (f"got {p.got}" if p.got is not None else "",
                                 f"expected {p.expected}" if p.expected else "") if x)
    return f"{p.path}: {p.message}" + (f" ({said})" if said and p.expected else "")


def _blocking(v: LogVisit) -> list[Problem]:
    """The problems that make a visit not assessable (weight and height do not)."""
    return [p for p in v.problems
            if not p.path.lower().endswith(("weight", "height", "glucose", "alt", "tgn",
                                             "memp", "bilirubin"))]
