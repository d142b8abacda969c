"""The MRD facts the rule packs read (``mrd.day8_blood``, ``mrd.eoi_marrow``, ...).

An MRD fact is read from the results of its time point (``knowledge/facts.yaml``: analyte,
window, label), like any observation fact, with two checks the rules cannot make themselves:

* **Assay sensitivity.** A result below a threshold says only that the level is below the
  assay's sensitivity. When the sensitivity recorded with it is coarser than (numerically
  above) a threshold some rule compares the fact with, the result cannot say on which side of
  that threshold the level lies ("MRD-negative with insufficient sensitivity" is not an
  MRD-negative result: ASH 2021 MRD reporting table, citation MRD-REPORT-ASH2021). A result at
  or above the threshold was detected there, so it still counts.
* **Same-day results that disagree.** Two results of the same specimen on the same day for
  the same time point (flow and PCR on one marrow) that fall on different sides of a threshold
  a rule uses are not resolved by list order: none of the sources read (NCCN, COG, the ASH
  reporting table) says which method rules, so the fact is left unknown at that threshold.

A fact that its results cannot settle is not unbounded: the level is one of the same-day
results, or lies below an insensitive assay's limit. It goes into the fact store as an
:class:`~allpath.rules.facts.Among` fact (the values it can still take), so a rule that
compares it only with thresholds every result agrees on reads it, and the groups that hang
on a threshold the results leave open are given as possible groups drawn from those values
only (flow 0.06% and PCR 0.15% on one marrow both rule out "below 0.01%").

The thresholds are not restated here: they are the ones the loaded packs compare each MRD
fact with. A fact that its results cannot settle is stored as the values it can still take (the
rules that hang on an open threshold give their possible groups and name its test in
``missing``) and a note says why.
A result without a recorded sensitivity is read as it is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from allpath.observations.normalise import NormalObservation, Timeline
from allpath.rules.engine import DecisionResult, decision_conditions, threshold_points
from allpath.rules.facts import Among, Fact, Registry
from allpath.rules.loader import Knowledge, load_knowledge
from allpath.rules.schema import OPERATORS, Compare

__all__ = [
    "MONITORING_MRD_FACTS",
    "MRD_ANALYTES",
    "MrdReading",
    "compared_thresholds",
    "is_mrd_fact",
    "read_mrd_fact",
    "read_mrd_facts",
    "read_mrd_results",
    "reword_provisional",
    "unsettled_mrd",
]

#: The analytes MRD facts are read from, and the specimen each one is.
MRD_ANALYTES: Mapping[str, str] = {"mrd_blood": "blood", "mrd_marrow": "marrow"}

#: MRD facts computed by the monitoring stage (not read from a time point's window) that the
#: monitoring packs compare with thresholds: the relapse pack's end-of-block-1 marrow MRD and
#: the alerts' latest MRD. They are read from their results with the same checks.
MONITORING_MRD_FACTS: tuple[str, ...] = ("rel.mrd_end_block1", "now.mrd_latest",
                                          "now.mrd_previous")

#: Citation of the rule that a negative result needs enough sensitivity, and of the need to
#: report a result's sensitivity with it (bibliography id).
SENSITIVITY_CITE = "MRD-REPORT-ASH2021"

_NAMES = {
    "day8": "day-8 blood MRD",
    "end_of_induction": "end-of-induction marrow MRD",
    "end_of_consolidation": "end-of-consolidation marrow MRD",
    "rel.mrd_end_block1": "end-of-block-1 marrow MRD",
    "now.mrd_latest": "latest MRD",
}


@dataclass(frozen=True)
class MrdReading:
    """How one MRD fact was read from its time point's results.

    ``fact`` is None when the results cannot settle every threshold the rules compare it
    with; ``insufficient`` maps the input reference of each result too insensitive for some
    threshold to those thresholds (%); ``discordant`` lists (threshold, input references)
    where same-day results fall on both sides; ``note`` explains a fact left unknown."""

    name: str
    results: tuple[NormalObservation, ...]
    fact: Fact | None
    used: str | None = None
    insufficient: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    discordant: tuple[tuple[float, tuple[str, ...]], ...] = ()
    note: str | None = None
    needed: float | None = None
    label: str | None = None
    among: Fact | None = None
    """``needed``: the assay sensitivity (a fraction, 1e-4) that would settle a fact left
    unknown because its results are too insensitive, else None; ``label``: what the
    measurement is called (end-of-induction marrow MRD); ``among``: for a fact the results
    cannot settle, the values it can still take (an :class:`Among` fact), else None."""

    @property
    def stored(self) -> Fact | None:
        """What goes into the fact store: the fact, or the values it can still take."""
        return self.fact if self.fact is not None else self.among

    @property
    def why_unknown(self) -> str | None:
        """``insufficient_sensitivity`` or ``discordant`` for a fact its results cannot
        settle; None when the fact is read (or has no result)."""
        if self.fact is not None or not self.results:
            return None
        return "discordant" if self.discordant else "insufficient_sensitivity"

    @property
    def clause(self) -> str | None:
        """A short clause saying why the fact is unknown although it was measured (for a
        provisional answer's reason); None when it is read."""
        kind = self.why_unknown
        if kind is None:
            return None
        what = self.label or self.name
        date = self.results[0].time.isoformat()
        if kind == "discordant":
            at = ", ".join(_pct(t) for t, _ in self.discordant)
            return (f"{what} of {date} is unknown: the same-day results fall on both sides of "
                    f"{at} (" + ", ".join(_short(o) for o in self.results)
                    + "), and the treating team decides which stands")
        return (f"{what} of {date} is unknown: " + ", ".join(_short(o) for o in self.results)
                + f" cannot show a level below {_pct((self.needed or 0) * 100.0)} (an assay with "
                f"a sensitivity of {self.needed:g} or better settles it)")


def is_mrd_fact(source: Mapping[str, object]) -> bool:
    """True for an observation fact read from an MRD analyte."""
    return str(source.get("from")) in MRD_ANALYTES


def _compared(kb: Knowledge) -> dict[str, tuple[tuple[str, float], ...]]:
    found: dict[str, set[tuple[str, float]]] = {}
    for cp in kb.packs:
        for decision in cp.pack.decisions:
            for cond in decision_conditions(decision):
                if not isinstance(cond, Compare) or not (
                        cond.fact.startswith("mrd.") or cond.fact in MONITORING_MRD_FACTS):
                    continue
                if cond.table is not None:
                    raise ValueError(f"{cp.id}/{decision.id}: MRD fact {cond.fact} compared "
                                     "through a table; its assay-sensitivity check needs a "
                                     "fixed threshold")
                threshold = cp.thresholds.get(id(cond))
                if threshold is not None:
                    found.setdefault(cond.fact, set()).add((cond.op, threshold))
    return {k: tuple(sorted(v, key=lambda ot: (ot[1], ot[0]))) for k, v in found.items()}


_CACHE: dict[int, tuple[Knowledge, dict[str, tuple[tuple[str, float], ...]]]] = {}


def compared_thresholds(kb: Knowledge | None = None) -> dict[str, tuple[tuple[str, float], ...]]:
    """For each ``mrd.*`` fact, the (operator, threshold in the fact's unit) pairs the packs
    of ``kb`` (default: the bundled knowledge) compare it with (worked out once per
    knowledge base)."""
    kb = kb if kb is not None else load_knowledge()
    hit = _CACHE.get(id(kb))
    if hit is not None and hit[0] is kb:
        return hit[1]
    if len(_CACHE) > 16:  # knowledge bases built again and again (tests)
        _CACHE.clear()
    found = _compared(kb)
    _CACHE[id(kb)] = (kb, found)
    return found


def _percent(sensitivity: float | None) -> float | None:
    """A recorded sensitivity (a fraction, 1e-4) in percent of cells (0.01)."""
    return None if sensitivity is None else sensitivity * 100.0


def _verdict(obs: NormalObservation, op: str, threshold: float) -> bool | None:
    """The side of ``threshold`` the result puts the level on; None when a result below it
    comes from an assay whose sensitivity is coarser than the threshold."""
    assert obs.value is not None
    sens = _percent(obs.sensitivity)
    if obs.value < threshold and sens is not None and sens > threshold:
        return None
    return bool(OPERATORS[op](obs.value, threshold))


def _time_point_results(timeline: Timeline, source: Mapping[str, object]
                        ) -> tuple[NormalObservation, ...]:
    """The results one MRD fact is read from: the chosen result (labelled for the time point
    first, else the first or last in its window, as ``facts.yaml`` says) and every other
    result of the same specimen on the same day counted for the same time point."""
    code = str(source["from"])
    label = source.get("timepoint")
    series = [o for o in timeline.series(code) if o.value is not None]
    labelled = [o for o in series if label is not None and o.timepoint == label]
    if labelled:
        chosen, pool = labelled[0], labelled
    else:
        window = source.get("window") or [None, None]
        assert isinstance(window, list)
        lo, hi = window
        pool = [o for o in series
                if (lo is None or o.day >= int(lo)) and (hi is None or o.day <= int(hi))
                and o.timepoint in (None, label)]
        if not pool:
            return ()
        chosen = pool[-1] if source.get("pick") == "last" else pool[0]
    same_day = tuple(o for o in pool if o.time == chosen.time)
    return (chosen, *(o for o in same_day if o is not chosen))


def _pct(value: float) -> str:
    return f"{value:g}%"


def _short(obs: NormalObservation) -> str:
    assert obs.value is not None
    method = f" by {obs.method}" if obs.method else ""
    sens = f" at sensitivity {obs.sensitivity:g}" if obs.sensitivity is not None else ""
    return f"{_pct(obs.value)}{method}{sens}"


def _result_text(obs: NormalObservation) -> str:
    method = f" by {obs.method}" if obs.method else ""
    sens = (f", assay sensitivity {obs.sensitivity:g} ({_pct(_percent(obs.sensitivity) or 0)})"
            if obs.sensitivity is not None else "")
    assert obs.value is not None
    return f"{_pct(obs.value)}{method} ({obs.ref}{sens})"


def _possible_levels(results: Sequence[NormalObservation],
                     verdicts: Mapping[str, Mapping[tuple[str, float], bool | None]],
                     thresholds: Sequence[tuple[str, float]]) -> tuple[float, ...]:
    """The levels the results leave possible, as one point per class of values the rules'
    thresholds tell apart: a result that settles every threshold stands for its own value;
    one below an insensitive assay's limit for every level from 0 up to that limit (0, its
    value, and each threshold under the limit with a point just either side of it)."""
    points: set[float] = set()
    for o in results:
        assert o.value is not None
        points.add(o.value)
        if all(v is not None for v in verdicts[o.ref].values()):
            continue
        limit = _percent(o.sensitivity)
        assert limit is not None  # only a result with a sensitivity is ever unsettled
        points.add(0.0)
        for _, t in thresholds:
            points |= {p for p in threshold_points(t) if 0.0 <= p < limit}
    return tuple(sorted(points))


def read_mrd_fact(name: str, source: Mapping[str, object], timeline: Timeline,
                  thresholds: Sequence[tuple[str, float]]) -> MrdReading:
    """Read one MRD fact from its time point's results (see the module docstring)."""
    results = _time_point_results(timeline, source)
    where = _NAMES.get(str(source.get("timepoint")), name)
    return read_mrd_results(name, results, thresholds, where,
                            MRD_ANALYTES[str(source["from"])])


def read_mrd_results(name: str, results: Sequence[NormalObservation],
                     thresholds: Sequence[tuple[str, float]], where: str | None = None,
                     specimen: str | None = None) -> MrdReading:
    """Read one MRD fact from ``results``: the chosen result first, then the other results
    of the same specimen on the same day (see the module docstring). ``where`` names the
    measurement in the note (default: the fact's name), ``specimen`` the specimen of the
    test that would settle it (default: the first result's)."""
    results = tuple(o for o in results if o.value is not None)
    if not results:
        return MrdReading(name, (), None)
    verdicts = {o.ref: {(op, t): _verdict(o, op, t) for op, t in thresholds} for o in results}
    insufficient = {ref: tuple(sorted({t for (_, t), v in vs.items() if v is None}))
                    for ref, vs in verdicts.items() if any(v is None for v in vs.values())}
    settled: dict[tuple[str, float], bool] = {}
    open_at: list[float] = []
    discordant: dict[float, set[str]] = {}
    for key in thresholds:
        seen = {verdicts[o.ref][key] for o in results} - {None}
        if len(seen) > 1:
            discordant.setdefault(key[1], set()).update(o.ref for o in results
                                                        if verdicts[o.ref][key] is not None)
        elif seen:
            settled[key] = seen.pop() is True
        else:
            open_at.append(key[1])
    # the value used: the first result that settles every threshold as the results do
    chosen = None if discordant or open_at else next(
        (o for o in results if all(verdicts[o.ref][k] is settled[k] for k in thresholds)), None)
    label = where or _NAMES.get(name, name)
    where = label[:1].upper() + label[1:]
    date = results[0].time.isoformat()
    among = None if chosen is not None else Fact(
        Among(_possible_levels(results, verdicts, thresholds)), results[0].unit,
        tuple(o.ref for o in results))
    if chosen is not None:
        note = None
        if len(results) > 1:
            note = (f"{where} ({name}) of {date}: "
                    + "; ".join(_result_text(o) for o in results)
                    + f". They agree at every threshold the rules use; {chosen.ref} is used.")
        return MrdReading(name, results, Fact(chosen.value or 0.0, chosen.unit, (chosen.ref,)),
                          chosen.ref, insufficient, (), note, label=label)
    if discordant:
        at = ", ".join(_pct(t) for t in sorted(discordant))
        note = (f"{where} ({name}) of {date}: the results of the same specimen "
                f"disagree across the {at} threshold{'s' if len(discordant) > 1 else ''} the "
                "rules compare it with: "
                + "; ".join(_result_text(o) for o in results)
                + ". ALLPath does not pick one: the sources read (NCCN, COG, the ASH MRD "
                "reporting table [MRD-REPORT-ASH2021]) do not say which method rules. The fact "
                f"is left unknown at {at}, so the groups that hang on it are given as possible "
                "groups (only those the results allow); a rule that compares it with a "
                "threshold every result agrees on still reads it. The treating team decides "
                "which result stands.")
        return MrdReading(name, results, None, None, insufficient,
                          tuple((t, tuple(sorted(r))) for t, r in sorted(discordant.items())),
                          note, label=label, among=among)
    lowest = min(open_at) if open_at else min(t for _, t in thresholds)
    needed = lowest / 100.0
    specimen = specimen or MRD_ANALYTES.get(results[0].code, "marrow")
    note = (f"{where} ({name}) of {date}: "
            + "; ".join(_result_text(o) for o in results)
            + f". A result below {_pct(lowest)} from an assay less sensitive than "
            f"{_pct(lowest)} cannot show that the level is below {_pct(lowest)}, the threshold "
            "the rules compare it with (MRD-negative with insufficient sensitivity is not "
            f"MRD-negative [{SENSITIVITY_CITE}]). Whether the level is below "
            f"{_pct(lowest)} is left unknown (a threshold the result does settle still reads "
            f"it); it is settled by a {specimen} MRD of this time point by an assay with a "
            f"sensitivity of {needed:g} ({_pct(lowest)}) or better.")
    return MrdReading(name, results, None, None, insufficient, (), note, needed, label, among)


# id(registry) -> (registry, its MRD facts as (name, source)): the registry holds hundreds of
# facts and every assessment reads the few MRD ones several times; the registry is kept so
# that a reused id never answers for another
_MRD_SPECS: dict[int, tuple[Registry, tuple[tuple[str, Mapping[str, object]], ...]]] = {}


def _mrd_specs(registry: Registry) -> tuple[tuple[str, Mapping[str, object]], ...]:
    hit = _MRD_SPECS.get(id(registry))
    if hit is None or hit[0] is not registry:
        if len(_MRD_SPECS) > 64:  # registries built again and again (tests)
            _MRD_SPECS.clear()
        hit = _MRD_SPECS[id(registry)] = (registry, tuple(
            (name, spec.source) for name, spec in registry.specs.items()
            if is_mrd_fact(spec.source)))
    return hit[1]


def read_mrd_facts(timeline: Timeline, registry: Registry,
                   kb: Knowledge | None = None) -> dict[str, MrdReading]:
    """Every MRD fact of the registry read from the timeline (those with results)."""
    thresholds = compared_thresholds(kb)
    out: dict[str, MrdReading] = {}
    for name, source in _mrd_specs(registry):
        reading = read_mrd_fact(name, source, timeline, thresholds.get(name, ()))
        if reading.results:
            out[name] = reading
    return out



def unsettled_mrd(timeline: Timeline, registry: Registry,
                  kb: Knowledge | None = None) -> dict[str, MrdReading]:
    """The MRD time-point facts that were measured but that their results cannot settle
    (too insensitive for a threshold, or same-day results on both sides of one)."""
    return {name: r for name, r in read_mrd_facts(timeline, registry, kb).items()
            if r.why_unknown is not None}


def reword_provisional(results: Sequence[DecisionResult], facts: Mapping[str, Fact],
                       readings: Mapping[str, MrdReading], kb: Knowledge
                       ) -> list[DecisionResult]:
    """``results`` with the reason of each provisional answer that assumed an MRD fact the
    record measured but cannot settle (``readings``: :func:`unsettled_mrd`) saying so, in
    place of the pack's "Shown as if ... MRD were negative" clause, which the record may
    contradict (ri12: both same-day results positive). The provisional group still takes
    the best case the results allow for that fact (the level nearest the pack's assumption,
    :class:`Among`); the reason says that too. Reasons passed on to
    later decisions are reworded alike."""
    if not readings:
        return list(results)
    decisions = {(cp.id, d.id): d for cp in kb.packs for d in cp.pack.decisions}
    reworded: dict[str, str] = {}
    out = []
    for r in results:
        new = None
        decision = decisions.get((r.pack, r.decision))
        prov = decision.provisional if decision is not None else None
        if r.provisional_reason is not None and prov is not None and prov.says is not None:
            assumed = [n for n in prov.assume
                       if n not in facts or isinstance(facts[n].value, Among)]
            unsettled = [n for n in assumed if n in readings]
            if unsettled:
                clauses = [str(readings[n].clause) for n in unsettled]
                text = "; ".join(c[:1].upper() + c[1:] if i == 0 else c
                                 for i, c in enumerate(clauses))
                text += ("; the provisional group takes the best case the results allow for "
                         + ("it" if len(unsettled) == 1 else "them"))
                rest = prov.text([n for n in assumed if n not in readings])
                new = f"{text}; {rest[:1].lower() + rest[1:]}"
                reworded[r.provisional_reason] = new
        elif r.provisional_reason in reworded:
            new = reworded[r.provisional_reason]
        out.append(r if new is None else replace(r, provisional_reason=new))
    return out
