"""The patient side of a trial pre-screen, read from an assessment's own decisions.

A profile holds the few things registrations state about their population: age, sex,
leukemia or lymphoma, B or T lineage, Philadelphia chromosome, where the patient is in
treatment (newly diagnosed, in remission, relapsed, refractory), MRD, a past transplant,
infant or not, Down syndrome (with the AALL1731 Down syndrome arm where the risk pack decides
one), and CD19/CD22/CD7 on the blasts. Each item names the pathway rule, inputs and
citations it came from; an item the record cannot tell is ``None`` with the reason, and the
matcher reports it as unknown. No
threshold is applied here: the values are the conclusions of the cited rule packs
(diagnosis, genetics, risk, response, MRD and relapse).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from allpath.outputs.assessment import Assessment
from allpath.rules.engine import DecisionResult

__all__ = ["ProfileItem", "TrialProfile", "profile_from_assessment"]


@dataclass(frozen=True, slots=True)
class ProfileItem:
    """One profile value and where it came from (``value`` None = not known)."""

    value: str | float | None
    rule_id: str | None = None
    inputs: tuple[str, ...] = ()
    cite: tuple[str, ...] = ()
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "rule_id": self.rule_id,
                               "inputs": list(self.inputs), "citations": list(self.cite)}
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class TrialProfile:
    """What a trial pre-screen needs to know about one patient."""

    patient_id: str | None
    items: Mapping[str, ProfileItem] = field(default_factory=dict)

    def value(self, key: str) -> str | float | None:
        item = self.items.get(key)
        return None if item is None else item.value

    def to_dict(self) -> dict[str, Any]:
        return {k: v.to_dict() for k, v in self.items.items()}


def _monitoring_doc(a: Assessment) -> dict[str, Any]:
    """The monitoring part of the assessment document (response, MRD series, relapse): the
    only part the profile reads, without building the rest (the roadmap is slow to build)."""
    return a.monitoring.to_dict() if a.monitoring is not None else {}


def _decision(results: tuple[DecisionResult, ...], fact: str) -> DecisionResult | None:
    """The decided result that wrote ``fact`` (directly or as a part of its output)."""
    for r in results:
        if r.status == "decided" and (r.output == fact or fact.startswith(r.output + ".")):
            return r
    return None


def _from_decision(a: Assessment, fact: str, mapping: Mapping[str, str]) -> ProfileItem:
    known = a.facts.get(fact)
    r = _decision(a.results, fact)
    rule, refs, cite = (r.rule_id, r.input_refs, r.cite) if r else (None, (), ())
    if known is None:
        return ProfileItem(None, rule, refs, cite, note=f"{fact} is not known yet")
    value = mapping.get(str(known.value))
    if value is None:
        return ProfileItem(None, rule, refs, cite, note=f"{fact} is {known.value!r}")
    return ProfileItem(value, rule, refs or known.inputs, cite)


def _ph(a: Assessment) -> ProfileItem:
    fusions = a.facts.get("genetics.fusions")
    subtype = _decision(a.results, "subtype.key")
    if fusions is None:
        return ProfileItem(None, note="no fusion testing reported (BCR::ABL1 not tested)")
    cite = subtype.cite if subtype else ()
    rule = subtype.rule_id if subtype else None
    value = fusions.value
    if isinstance(value, frozenset) and "BCR::ABL1" in value:
        return ProfileItem("positive", rule, fusions.inputs, cite)
    return ProfileItem("negative", rule, fusions.inputs, cite,
                       note="BCR::ABL1 is not among the fusions reported")


def _marker(a: Assessment, name: str) -> ProfileItem:
    fact = a.facts.get(f"marker.{name}")
    if fact is None or fact.value not in ("positive", "negative"):
        return ProfileItem(None, note=f"{name} is not reported in the immunophenotype")
    return ProfileItem(str(fact.value), None, fact.inputs)


def _setting(a: Assessment, doc: Mapping[str, Any]) -> ProfileItem:
    relapse = doc.get("relapse") or {}
    if relapse.get("detected"):
        trace = relapse.get("trace") or [{}]
        first = trace[0]
        return ProfileItem("relapsed", first.get("rule_id"), tuple(first.get("inputs") or ()),
                           tuple(first.get("citations") or ()),
                           note=f"relapse on {relapse.get('date')}")
    responses = [r for r in doc.get("response") or [] if r.get("status") != "not_assessable"]
    for r in responses:
        if r.get("status") == "refractory":
            return ProfileItem("refractory", r.get("rule_id"), tuple(r.get("input_refs") or ()),
                               tuple(r.get("citations") or ()),
                               note=f"response at {r.get('checkpoint')}")
    if responses:
        last = responses[-1]
        if last.get("status") in ("CR", "CRi"):
            return ProfileItem("in_remission", last.get("rule_id"),
                               tuple(last.get("input_refs") or ()),
                               tuple(last.get("citations") or ()),
                               note=f"response at {last.get('checkpoint')}")
        return ProfileItem(None, last.get("rule_id"), tuple(last.get("input_refs") or ()),
                           tuple(last.get("citations") or ()),
                           note=f"response at {last.get('checkpoint')} is {last.get('status')}")
    if a.record.treatment or (doc.get("mrd") or {}).get("series"):
        return ProfileItem(None, note="treatment has started but no response assessment is "
                                      "recorded: the end-of-induction marrow with blood "
                                      "counts would settle it")
    status = a.facts.get("diagnosis.status")
    if status is not None and status.value == "ALL":
        r = _decision(a.results, "diagnosis.status")
        return ProfileItem("newly_diagnosed", r.rule_id if r else None,
                           r.input_refs if r else (), r.cite if r else (),
                           note="no response assessment or relapse recorded yet")
    return ProfileItem(None, note="the diagnosis of ALL is not established")


def _mrd(doc: Mapping[str, Any]) -> ProfileItem:
    """The latest MRD result from the end of induction on (day-8/15 results are early
    response measurements, not the residual disease a trial's "MRD-positive" means), with
    the other results of the same specimen on the same day.

    Positive or negative is the MRD pack's call by the standard threshold for each result
    (``positive``). A result the pack leaves open (below 0.01% from an assay less sensitive
    than that: MRD-negative with insufficient sensitivity) is unknown, never negative,
    unless a same-day result of the same specimen settles it; same-day results that disagree
    (one positive, one negative) are unknown too: no source read says which method rules."""
    series = [m for m in (doc.get("mrd") or {}).get("series") or []
              if not str(m.get("timepoint") or "").startswith("day")]
    if not series:
        return ProfileItem(None, note="no MRD result from the end of induction or later")
    last = series[-1]
    same_day = [m for m in series if m.get("date") == last.get("date")
                and m.get("specimen") == last.get("specimen")]
    calls = {m.get("positive") for m in same_day}
    refs = tuple(str(m.get("input_ref")) for m in same_day)
    cite = tuple(dict.fromkeys(c for m in same_day for c in m.get("citations") or ()))
    where = f"{last.get('timepoint') or 'MRD'} on {last.get('date')}"
    results = "; ".join(f"{m.get('value')}% by {m.get('method') or 'an unnamed method'}"
                        + (f" (sensitivity {m.get('sensitivity'):g})"
                           if m.get("sensitivity") is not None else "")
                        + f": {m.get('level')}" for m in same_day)
    if True in calls and False in calls:
        return ProfileItem(None, last.get("positive_rule_id") or last.get("rule_id"), refs, cite,
                           note=f"{where}: same-day results disagree ({results}); unknown until "
                                "the treating team says which result stands")
    decided = calls - {None}
    if not decided:
        return ProfileItem(None, last.get("positive_rule_id") or last.get("rule_id"), refs, cite,
                           note=f"{where}: {results}; not detected by an assay not sensitive "
                                "enough to call it negative, so unknown, not negative")
    call = decided.pop()
    used = next(m for m in same_day if m.get("positive") is call)
    return ProfileItem("positive" if call else "negative", used.get("rule_id"),
                       (str(used.get("input_ref")),), tuple(used.get("citations") or ()),
                       note=f"{where}: {used.get('level')}")


def _infant(a: Assessment) -> ProfileItem:
    """Infant or not, as the risk pack's infant scheme decides its own applicability
    (diagnosis of ALL before the first birthday)."""
    r = next((x for x in a.results if x.output == "risk.infant_nccn"), None)
    status = a.facts.get("diagnosis.status")
    if r is None or a.facts.get("age.years") is None:
        return ProfileItem(None, note="age at diagnosis unknown")
    if r.status == "not_applicable":
        if status is None or status.value != "ALL":
            return ProfileItem(None, note="the diagnosis of ALL is not established")
        return ProfileItem("not_infant", r.rule_id, r.input_refs, r.cite)
    return ProfileItem("infant", r.rule_id, r.input_refs, r.cite)


def _transplant(a: Assessment, setting: ProfileItem) -> ProfileItem:
    phases = [i for i, t in enumerate(a.record.treatment) if t.phase == "transplant"]
    if phases:
        return ProfileItem("transplanted", None, tuple(f"treatment[{i}]" for i in phases))
    if a.record.treatment:
        return ProfileItem("not_transplanted", None, ("treatment",),
                           note="no transplant among the recorded treatment phases")
    if setting.value == "newly_diagnosed":
        return ProfileItem("not_transplanted", setting.rule_id, setting.inputs, setting.cite,
                           note="newly diagnosed, no treatment recorded")
    return ProfileItem(None, note="no treatment history in the record")


def _age_on(birth: dt.date, on: dt.date) -> float:
    """Calendar-exact age in years (whole years plus the fraction of the current year)."""
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    try:
        last = birth.replace(year=birth.year + years)
    except ValueError:  # born on 29 February
        last = dt.date(birth.year + years, 3, 1)
    try:
        following = birth.replace(year=birth.year + years + 1)
    except ValueError:
        following = dt.date(birth.year + years + 1, 3, 1)
    return years + (on - last).days / (following - last).days


def _phases(a: Assessment, phase: str) -> ProfileItem:
    """Yes when the record's treatment history has the phase, no when the history is recorded
    without it (or nothing is given yet), unknown otherwise."""
    found = [i for i, t in enumerate(a.record.treatment) if t.phase == phase]
    if found:
        return ProfileItem("yes", None, tuple(f"treatment[{i}]" for i in found))
    if a.record.treatment:
        return ProfileItem("no", None, ("treatment",),
                           note=f"no {phase} among the recorded treatment phases")
    status = a.facts.get("diagnosis.status")
    if status is not None and status.value == "ALL" and not (
            (_monitoring_doc(a).get("relapse") or {}).get("detected")):
        return ProfileItem("no", None, ("treatment",), note="no treatment recorded yet")
    return ProfileItem(None, note="no treatment history in the record")


def _kmt2a(a: Assessment) -> ProfileItem:
    fusions = a.facts.get("genetics.fusions")
    if fusions is None:
        return ProfileItem(None, note="no fusion testing reported (KMT2A not tested)")
    value = fusions.value
    if isinstance(value, frozenset) and any(str(f).startswith("KMT2A") or "::KMT2A" in str(f)
                                            for f in value):
        return ProfileItem("rearranged", None, fusions.inputs)
    return ProfileItem("germline", None, fusions.inputs,
                       note="no KMT2A fusion among the fusions reported")


_DS_ARMS = {"ds_standard": "DS-Standard", "ds_high": "DS-High"}


def _down_syndrome(a: Assessment) -> tuple[ProfileItem, ProfileItem]:
    """Down syndrome, and the AALL1731 Down syndrome arm, from the risk pack's decision.

    Where the risk pack's ``aall1731_ds`` decision applies (B-ALL with Down syndrome, age
    1-30 years), both items name its rule and citations; a provisional arm (no end-of-induction
    MRD yet) says so. Elsewhere Down syndrome comes from the record's conditions, and the arm
    is not applicable. An empty list of conditions is not a "no": it stays unknown.
    """
    r = _decision(a.results, "risk.aall1731_ds")
    recorded = "down_syndrome" in a.record.conditions
    if r is not None and str(r.value) in _DS_ARMS:
        arm = _DS_ARMS[str(r.value)]
        note = (f"AALL1731 {arm} arm, provisional: {r.provisional_reason}" if r.provisional
                else f"AALL1731 {arm} arm")
        refs = r.input_refs or ("conditions",)
        return (ProfileItem("yes", r.rule_id, refs, r.cite, note=note),
                ProfileItem(str(r.value), r.rule_id, refs, r.cite, note=note))
    if recorded:
        na = _not_applicable(a.results, "risk.aall1731_ds")
        why = (na.note if na is not None and na.note else
               "the AALL1731 Down syndrome arm is not decided")
        return (ProfileItem("yes", None, ("conditions",)),
                ProfileItem(None, na.rule_id if na else None, na.input_refs if na else (),
                            na.cite if na else (), note=why))
    return (ProfileItem(None, note="Down syndrome is not recorded either way"),
            ProfileItem(None, note="no Down syndrome recorded"))


def _not_applicable(results: tuple[DecisionResult, ...], fact: str) -> DecisionResult | None:
    for r in results:
        if r.status == "not_applicable" and r.output == fact:
            return r
    return None


def _disease_now(setting: ProfileItem) -> ProfileItem:
    if setting.value in ("newly_diagnosed", "refractory"):
        return ProfileItem("active", setting.rule_id, setting.inputs, setting.cite)
    if setting.value == "in_remission":
        return ProfileItem("remission", setting.rule_id, setting.inputs, setting.cite)
    return ProfileItem(None, note="a marrow test now would say whether the leukemia is in "
                                  "remission")


def profile_from_assessment(a: Assessment, on: dt.date | None = None) -> TrialProfile:
    """Build the pre-screen profile from an assessment (pure; nothing is re-decided).

    The age is the age at screening, from the date of birth: on ``on`` when given, else today
    (issue 13: a study's age limits apply when the patient would join it, not on the date of
    the record's latest result, which may be months old). Without a birth date, the
    assessment's age (at diagnosis) is used and says so.
    """
    doc = _monitoring_doc(a)
    items: dict[str, ProfileItem] = {}
    age = a.facts.get("age.years")
    birth = a.record.birth_date
    when = on or dt.date.today()
    if birth is not None and birth <= when:
        source = "the screening date" if on is not None else "today, the screening date"
        items["age_years"] = ProfileItem(round(_age_on(birth, when), 2), None,
                                         ("birth_date",),
                                         note=f"age on {when.isoformat()}, {source}")
    elif age is not None:
        items["age_years"] = ProfileItem(round(float(str(age.value)), 2), None, age.inputs,
                                         note="age from the assessment (no birth date)")
    else:
        items["age_years"] = ProfileItem(None, note="no birth date")
    sex = a.facts.get("sex")
    items["sex"] = (ProfileItem(str(sex.value), None, sex.inputs) if sex is not None
                    else ProfileItem(None, note="sex not recorded"))
    items["presentation"] = _from_decision(a, "diagnosis.presentation",
                                           {"leukemia": "leukemia",
                                            "leukemia_by_blood": "leukemia",
                                            "lymphoblastic_lymphoma": "lymphoma"})
    items["lineage"] = _from_decision(a, "diagnosis.lineage", {"B": "B", "T": "T"})
    items["ph"] = _ph(a)
    items["setting"] = _setting(a, doc)
    items["mrd"] = _mrd(doc)
    items["transplant"] = _transplant(a, items["setting"])
    items["infant"] = _infant(a)
    for marker in ("CD19", "CD22", "CD7"):
        items[marker.lower()] = _marker(a, marker)
    items["disease_now"] = _disease_now(items["setting"])
    items["relapse_number"] = ProfileItem(
        None, note="the number of relapses is not in the record" if
        items["setting"].value == "relapsed" else "no relapse recorded")
    if items["setting"].value in ("newly_diagnosed", "in_remission", "refractory"):
        items["relapse_number"] = ProfileItem(None, note="no relapse recorded")
    setting = items["setting"]
    if setting.value in ("newly_diagnosed", "in_remission", "refractory"):
        items["relapse_site"] = ProfileItem("none", setting.rule_id, setting.inputs, setting.cite,
                                            note="no relapse recorded")
    else:
        items["relapse_site"] = ProfileItem(None, note="the site of the relapse (marrow, spinal "
                                                       "fluid, testis) is not compared yet")
    lines = {"newly_diagnosed": "none", "in_remission": "one", "refractory": "one",
             "relapsed": "at_least_one"}.get(str(setting.value))
    items["prior_lines"] = ProfileItem(lines, setting.rule_id, setting.inputs, setting.cite,
                                       note=None if lines else "the treatment history is not "
                                                               "known")
    items["kmt2a"] = _kmt2a(a)
    items["down_syndrome"], items["ds_risk"] = _down_syndrome(a)
    items["prior_cart"] = _phases(a, "car_t")
    items["prior_blinatumomab"] = _phases(a, "blinatumomab")
    items["prior_inotuzumab"] = _phases(a, "inotuzumab")
    return TrialProfile(a.record.id, items)
