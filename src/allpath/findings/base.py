"""Turn a checked record and its timeline into the base facts that rule packs read.

Observation facts follow their selector in ``knowledge/facts.yaml`` (analyte, window in days
from diagnosis, which value to pick, protocol time-point label). A few facts are computed by
a stated formula (age, absolute blast count, Steinherz/Bleyer index); everything else is read
straight from the record. Facts that cannot be known are left out and explained in
``BaseFacts.unknown`` with the test that would settle them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from allpath.classification.karyotype import masked_hypodiploidy_limits, read_karyotype
from allpath.findings.mrd import is_mrd_fact, read_mrd_facts
from allpath.knowledge import load_yaml
from allpath.observations.normalise import NormalObservation, Timeline
from allpath.record.models import PatientRecord
from allpath.rules.facts import Among, Fact, Registry
from allpath.units import UnitError, convert

__all__ = ["BaseFacts", "base_facts", "calendar_age"]


@dataclass
class BaseFacts:
    """The fact store before any pack runs, and notes on how facts were read."""

    facts: dict[str, Fact]
    as_of: dt.date | None
    notes: list[str] = field(default_factory=list)


def calendar_age(birth: dt.date, on: dt.date) -> tuple[float, float, int]:
    """Exact calendar age as (years, months, days).

    Years are completed years plus the elapsed fraction of the current year of life, so the
    10th birthday gives exactly 10.0; months likewise. Feb 29 birthdays count from Feb 28 in
    common years.

    >>> calendar_age(dt.date(2014, 5, 3), dt.date(2024, 5, 3))[0]
    10.0
    """

    def anniversary(years: int, months: int = 0) -> dt.date:
        total = birth.month - 1 + months
        y, m = birth.year + years + total // 12, total % 12 + 1
        day = birth.day
        while True:
            try:
                return dt.date(y, m, day)
            except ValueError:
                day -= 1

    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    last, nxt = anniversary(years), anniversary(years + 1)
    frac_y = (on - last).days / (nxt - last).days
    months_total = (on.year - birth.year) * 12 + on.month - birth.month - (on.day < birth.day)
    last_m, next_m = anniversary(0, months_total), anniversary(0, months_total + 1)
    frac_m = (on - last_m).days / max((next_m - last_m).days, 1)
    return years + frac_y, months_total + frac_m, (on - birth).days


def _select(timeline: Timeline, spec: Mapping[str, object]) -> NormalObservation | None:
    code = str(spec["from"])
    label = spec.get("timepoint")
    if label is not None:
        labelled = [o for o in timeline.series(code) if o.timepoint == label]
        if labelled:
            return labelled[0]
    window = spec.get("window") or [None, None]
    assert isinstance(window, list)
    lo, hi = window
    chosen = timeline.between(
        code, int(lo) if lo is not None else None, int(hi) if hi is not None else None
    )
    # Observations labelled for another time point do not count for this one.
    chosen = tuple(o for o in chosen if o.timepoint in (None, label))
    if not chosen:
        return None
    return chosen[-1] if spec.get("pick") == "last" else chosen[0]


def base_facts(record: PatientRecord, timeline: Timeline, registry: Registry) -> BaseFacts:
    """Build the base fact store of one record."""
    facts: dict[str, Fact] = {}
    as_of = record.diagnosis_date or timeline.reference
    out = BaseFacts(facts=facts, as_of=as_of)

    facts["sex"] = Fact(record.sex.value, inputs=("sex",))
    if record.birth_date is not None and as_of is not None:
        years, months, days = calendar_age(record.birth_date, as_of)
        refs = ("birth_date", "diagnosis_date" if record.diagnosis_date else "observations")
        facts["age.years"] = Fact(years, "a", refs)
        facts["age.months"] = Fact(months, "mo", refs)
        facts["age.days"] = Fact(float(days), "d", refs)
    facts["conditions"] = Fact(frozenset(record.conditions), inputs=("conditions",))
    facts["symptoms"] = Fact(
        frozenset(s if isinstance(s, str) else s.code for s in record.symptoms),
        inputs=("symptoms",),
    )
    if record.steroid_pretreatment is not None:
        facts["steroid_pretreatment"] = Fact(
            record.steroid_pretreatment, inputs=("steroid_pretreatment",)
        )
    em = record.extramedullary
    if em is not None:
        for name in ("testicular", "mediastinal_mass", "cns_clinical_signs", "other_mass"):
            value = getattr(em, name)
            if value is not None:
                facts[f"extramedullary.{name}"] = Fact(value, inputs=(f"extramedullary.{name}",))

    # Immunophenotype: reported markers, and "not_reported" for the rest of the vocabulary.
    if record.immunophenotype is not None:
        facts["immunophenotype.tested"] = Fact(True, inputs=("immunophenotype",))
        reported = record.immunophenotype.markers
        from allpath.record.vocabulary import load_vocabulary

        for marker in load_vocabulary().canonical_terms("markers"):
            if marker in reported:
                facts[f"marker.{marker}"] = Fact(
                    reported[marker].value, inputs=(f"immunophenotype.markers.{marker}",)
                )
            else:
                facts[f"marker.{marker}"] = Fact("not_reported", inputs=("immunophenotype",))

    _genetics(record, facts, out)
    _observations(timeline, registry, facts, out.notes)
    _plausibility(record, timeline, facts, out)

    # Computed facts.
    if "blood_blasts_abs.dx" not in facts and {"wbc.dx", "blood_blasts.dx"} <= set(facts):
        wbc, pct = facts["wbc.dx"], facts["blood_blasts.dx"]
        facts["blood_blasts_abs.dx"] = Fact(
            _number(wbc) * _number(pct) / 100.0,
            "10*9/L",
            wbc.inputs + pct.inputs,
        )
    needed = ("csf_wbc.dx", "csf_rbc.dx", "wbc.dx", "rbc.dx")
    if all(n in facts for n in needed):
        csf_wbc, csf_rbc, blood_wbc, blood_rbc = (_number(facts[n]) for n in needed)
        # Blood WBC (10^9/L) and RBC (10^12/L) converted to the CSF unit (/uL); the index
        # is undefined without red cells in the CSF or a blood ratio above zero (a blood WBC
        # that is zero, or so small it underflows, gives no index, not a crash)
        blood_ratio = (blood_wbc * 1e3) / (blood_rbc * 1e6) if blood_rbc > 0 else 0.0
        if csf_rbc > 0 and blood_ratio > 0:
            facts["csf.sb_index"] = Fact(
                (csf_wbc / csf_rbc) / blood_ratio,
                "1",
                tuple(r for n in needed for r in facts[n].inputs),
            )
    return out


@dataclass(frozen=True)
class _Derived:
    """One composite alteration of knowledge/derived_alterations.yaml."""

    term: str
    requires_all: frozenset[str]
    requires_any: frozenset[str]
    requires_none: frozenset[str]
    homozygous_only: frozenset[str]
    cite: tuple[str, ...]


@lru_cache(maxsize=1)
def _derived_alterations() -> tuple[_Derived, ...]:
    """The composite alterations derived from their components (cited data, not code)."""
    doc = load_yaml("derived_alterations.yaml")
    return tuple(
        _Derived(str(d["term"]), frozenset(d["requires_all"]), frozenset(d["requires_any"]),
                 frozenset(d.get("requires_none") or ()),
                 frozenset(d.get("homozygous_only") or ()), tuple(d["cite"]))
        for d in doc["derived"])


@lru_cache(maxsize=1)
def _limits() -> dict[str, tuple[float, str]]:
    """Cross-value data checks of knowledge/plausibility.yaml: name -> (value, unit)."""
    doc = load_yaml("plausibility.yaml")
    return {k: (float(v["value"]), str(v["unit"])) for k, v in doc["limits"].items()}


def _per_microlitre(unit: str | None) -> bool:
    """True for a unit that is exactly per microlitre (/uL, /mm3, cells/uL), parsed by pint."""
    if not unit:
        return False
    try:
        return convert(1.0, unit, "/uL") == 1.0
    except UnitError:
        return False


def _plausibility(record: PatientRecord, timeline: Timeline, facts: dict[str, Fact],
                  out: BaseFacts) -> None:
    """Check values against each other; an implausible diagnostic WBC is not used.

    Each warning names both values. A diagnostic WBC that cannot be right (below the ANC, or
    a count per microlitre that reads like thousands were meant) is withheld, so that every
    group that depends on it is unknown with the repeat blood count to settle it - never
    computed from it silently. These are data checks (ALLPATH-PLAUS), not clinical thresholds.
    """
    wbc, anc = facts.get("wbc.dx"), facts.get("anc.dx")
    withhold = False
    if wbc is not None and anc is not None and _number(anc) > _number(wbc):
        out.notes.append(
            f"Implausible: ANC {_number(anc):g} x10^9/L is above WBC {_number(wbc):g} x10^9/L "
            f"({', '.join(anc.inputs + wbc.inputs)}); check both. Neither is used until "
            "corrected, so groups and grades that depend on them are unknown.")
        withhold = True
        facts.pop("anc.dx", None)
    if wbc is not None:
        for ref in wbc.inputs:
            idx = int(ref.split("[")[1].rstrip("]")) if ref.startswith("observations[") else -1
            if not 0 <= idx < len(record.observations):
                continue
            raw = record.observations[idx]
            slip, slip_unit = _limits()["wbc_unit_slip_below"]
            if (_per_microlitre(raw.unit) and isinstance(raw.value, int | float)
                    and convert(float(raw.value), str(raw.unit), slip_unit) < slip):
                beside = (f" (ANC {_number(anc):g} x10^9/L on the same count)"
                          if anc is not None else "")
                out.notes.append(
                    f"Possible unit slip: WBC {raw.value:g} {raw.unit} ({ref}) is "
                    f"{raw.value / 1000:g} x10^9/L{beside}; if {raw.value:g} x10^3/uL "
                    f"({raw.value:g} x10^9/L) was meant, correct the unit. The WBC is not used "
                    "until confirmed, so groups that depend on it are unknown.")
                withhold = True
    if withhold:
        facts.pop("wbc.dx", None)
    # any other count with the ANC above the WBC of the same day (a maintenance visit) is
    # named too, with both values and the date; the diagnostic pair is named above
    shown = set(anc.inputs + wbc.inputs) if withhold and wbc and anc else set()
    for a in timeline.series("anc"):
        for w in timeline.series("wbc"):
            if (w.time != a.time or a.value is None or w.value is None or a.unit is None
                    or w.unit is None or {a.ref, w.ref} <= shown):
                continue
            anc_g = convert(float(a.value), a.unit, "10*9/L")
            wbc_g = convert(float(w.value), w.unit, "10*9/L")
            if anc_g > wbc_g:
                out.notes.append(
                    f"Implausible: ANC {anc_g:g} x10^9/L is above WBC {wbc_g:g} x10^9/L "
                    f"on {a.time.isoformat()} ({a.ref}, {w.ref}); check both before acting on "
                    "the counts of that day.")
    maintenance = [ev for ev in record.treatment if ev.phase == "maintenance"]
    level, level_unit = _limits()["wbc_in_maintenance_from"]
    for o in timeline.series("wbc"):
        if o.value is None or o.unit is None or convert(float(o.value), o.unit, level_unit) < level:
            continue
        if any(ev.start <= o.time and (ev.end is None or o.time <= ev.end) for ev in maintenance):
            same_day = [f"{c.code.replace('_', ' ')} {c.value:g} {c.unit}"
                        for c in timeline if c.time == o.time and c.value is not None
                        and c.code in ("anc", "blood_blasts")]
            beside = f" (same day: {', '.join(same_day)})" if same_day else ""
            out.notes.append(
                f"Implausible in maintenance: WBC {o.value:g} x10^9/L on {o.time} ({o.ref})"
                f"{beside} during maintenance; check for a unit slip, and for relapse if it is "
                "real. Do not act on it until it is repeated.")


def _number(fact: Fact) -> float:
    value = fact.value
    assert isinstance(value, int | float) and not isinstance(value, bool)
    return float(value)


def _genetics(record: PatientRecord, facts: dict[str, Fact], out: BaseFacts) -> None:
    g = record.genetics
    if g is None:
        return
    facts["genetics.tested"] = Fact(True, inputs=("genetics",))
    fusions: set[str] = set(g.fusions or ())
    alterations: set[str] = set(g.alterations or ())
    count = g.chromosome_count
    refs: list[str] = ["genetics"]
    doubled_only = False  # the karyotype shows only a possibly doubled hypodiploid clone
    among: Fact | None = None
    if g.karyotype:
        reading = read_karyotype(g.karyotype)
        refs.append("genetics.karyotype")
        if count is None and reading.chromosome_count is not None:
            count = reading.chromosome_count
            out.notes.append(f"chromosome count {count} read from the karyotype")
            if reading.constitutional_gains:
                count -= len(reading.constitutional_gains)
                out.notes.append(
                    "constitutional gain(s) " + ", ".join(f"+{c}c" for c in
                                                         reading.constitutional_gains)
                    + f" not counted towards the ploidy band: {count} acquired chromosomes")
            lo, hi, doubled = masked_hypodiploidy_limits()
            low = [n for n in reading.clone_counts if lo <= n <= hi]
            high = [n for n in reading.clone_counts if n > doubled]
            if low and high:
                count = min(low)
                out.notes.append(
                    f"possible masked hypodiploidy: a {min(low)}-chromosome clone beside a "
                    f"{max(high)}-chromosome clone (likely its doubled form); the hypodiploid "
                    "count is used - confirm with DNA index or SNP array")
        if count is not None and count > masked_hypodiploidy_limits()[2] and reading.gains \
                and all(reading.gains.count(x) == 2 for x in reading.gains):
            # Every gain a tetrasomy, none a trisomy: the pattern of a doubled near-haploid or
            # low-hypodiploid clone seen alone (Carroll et al., COG AALL03B1; Stark et al.).
            # The count is then either this one or half of it: both are kept (Among), so the
            # ploidy band and what hangs on it stay open until a DNA index or SNP array
            # settles it, and the tetrasomies are not read as trisomies.
            doubled_only = True
            among = Fact(Among((count / 2, float(count))), "1", ("genetics.karyotype",))
            out.notes.append(
                f"possible masked hypodiploidy: every gain is a tetrasomy and none a trisomy, "
                f"the pattern of a doubled near-haploid or low-hypodiploid clone; the "
                f"chromosome count is read as {count} or {count / 2:g} (the clone it may "
                "double) and the ploidy band is left open - ask for DNA index or SNP array "
                "before relying on hyperdiploidy")
        for f in reading.implied_fusions:
            if f not in fusions:
                out.notes.append(f"{f} implied by the karyotype translocation")
            fusions.add(f)
        for gain in reading.gains:
            if gain in ("4", "10", "17") and not doubled_only:
                alterations.add(f"trisomy_{gain}")
        if not doubled_only:  # the count of acquired abnormalities (complex karyotype)
            facts["genetics.karyotype_abnormalities"] = Fact(
                float(reading.abnormalities), "1", ("genetics.karyotype",))
        if reading.unread:
            out.notes.append("karyotype parts not interpreted: " + ", ".join(reading.unread))
    if g.fusions is not None or fusions:
        facts["genetics.fusions"] = Fact(frozenset(fusions), inputs=tuple(refs))
        facts["genetics.fusion_genes"] = Fact(
            frozenset(p for f in fusions for p in f.split("::")), inputs=tuple(refs)
        )
    if g.alterations is not None:
        for d in _derived_alterations():
            if d.term in alterations or not d.requires_all <= alterations \
                    or not alterations & d.requires_any or alterations & d.requires_none:
                continue
            alterations.add(d.term)
            used = sorted(alterations & d.requires_any)
            zygosity = sorted(set(used) & d.homozygous_only)
            out.notes.append(
                f"{d.term} derived: " + ", ".join(sorted(d.requires_all)) + " with "
                + ", ".join(used) + " and no " + ", ".join(sorted(d.requires_none))
                + f" (definition: {', '.join(d.cite)}"
                + (f"; the source counts {', '.join(zygosity)} only when homozygous, which "
                   "the record does not say" if zygosity else "") + ")")
    if g.alterations is not None or alterations:
        facts["genetics.alterations"] = Fact(frozenset(alterations), inputs=tuple(refs))
    if g.alterations is not None:
        # the same reported list, read for the T-ALL mutations (NOTCH1, FBXW7, RAS, PTEN):
        # its own fact so that a missing one names the sequencing that settles it
        facts["genetics.t_all_alterations"] = Fact(frozenset(alterations),
                                                   inputs=("genetics.alterations",))
    if among is not None:
        facts["genetics.chromosome_count"] = among
    elif count is not None:
        facts["genetics.chromosome_count"] = Fact(float(count), "1", tuple(refs))


def _observations(timeline: Timeline, registry: Registry, facts: dict[str, Fact],
                  notes: list[str]) -> None:
    # MRD facts are read with their assay sensitivity and same-day results of other methods
    # (allpath.findings.mrd); one they cannot settle is left out with a note saying why
    for name, reading in read_mrd_facts(timeline, registry).items():
        if reading.stored is not None:
            facts[name] = reading.stored
        if reading.note is not None:
            notes.append(reading.note)
    for name, spec in registry.specs.items():
        source = spec.source
        if "from" not in source or is_mrd_fact(source):
            continue
        obs = _select(timeline, source)
        if obs is None:
            continue
        if obs.value is not None:
            facts[name] = Fact(obs.value, obs.unit, (obs.ref,))
        elif obs.category is not None:
            facts[name] = Fact(obs.category, inputs=(obs.ref,))
