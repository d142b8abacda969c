"""Triage of one person: urgency, leukemia suspicion, reasons, next steps, plain text.

The thresholds live in two cited packs: the findings pack (age- and sex-specific cytopenias
and CTCAE grades) runs first, then the triage pack (``packs/90-triage.yaml``, stage
``triage``). This module only builds the facts and words the answer.

>>> from allpath.triage import triage
>>> doc = triage({"format": "allpath.triage/1", "age_years": 8, "sex": "male",
...               "symptoms": ["stridor"]}).to_dict()
>>> doc["urgency"]
'emergency'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from allpath import __version__
from allpath.errors import KnowledgeError, Problem
from allpath.findings.base import base_facts
from allpath.observations.normalise import normalise
from allpath.outputs.assessment import DISCLAIMER
from allpath.record.models import PatientRecord
from allpath.rules.engine import DecisionResult, Tri, evaluate_condition, evaluate_pack
from allpath.rules.facts import Fact
from allpath.rules.loader import Knowledge, load_knowledge
from allpath.rules.schema import AllOf, Compare, Rule
from allpath.triage import texts
from allpath.triage.inputs import (
    TriageInput,
    age_days_from_years,
    load_triage_input,
    parse_triage_input,
)
from allpath.units import convert

__all__ = ["TRIAGE_RESULT_FORMAT", "TriageResult", "triage", "triage_facts"]

TRIAGE_RESULT_FORMAT = "allpath.triage-result/1"
CBC_FACTS = ("wbc.dx", "hemoglobin.dx", "platelets.dx", "anc.dx")
_CBC_TESTS = {
    "wbc.dx": "white cell count (CBC)",
    "hemoglobin.dx": "hemoglobin (CBC)",
    "platelets.dx": "platelet count (CBC)",
    "anc.dx": "neutrophil count (CBC with differential)",
    "blood_blasts.dx": "blood smear review for blasts",
    "age.days": "age or birth date",
}


def _symptom_days(record: PatientRecord, on: dt.date | None,
                  code: str | None = None) -> float | None:
    """The longest duration of the recorded symptoms (of the symptom ``code`` only, when
    given): ``duration_days`` as given, else days from onset to ``on``."""
    longest: float | None = None
    for s in record.symptoms:
        if isinstance(s, str) or (code is not None and s.code != code):
            continue
        days: float | None = s.duration_days
        if days is None and s.onset is not None and on is not None:
            days = float((on - s.onset).days)
        if days is not None and (longest is None or days > longest):
            longest = days
    return longest


def triage_facts(inp: TriageInput, knowledge: Knowledge) -> tuple[dict[str, Fact],
                                                                  dt.date | None]:
    """The base fact store of a triage (record facts, age from years, symptom duration)."""
    record = inp.record
    timeline = normalise(record)
    base = base_facts(record, timeline, knowledge.registry)
    facts = dict(base.facts)
    as_of = inp.date or base.as_of
    if inp.age_years is not None and "age.years" not in facts:
        facts["age.years"] = Fact(inp.age_years, "a", ("age_years",))
        facts["age.days"] = Fact(age_days_from_years(inp.age_years), "d", ("age_years",))
    days = _symptom_days(record, as_of)
    if days is not None:
        facts["triage.symptom_days"] = Fact(days, "d", ("symptoms",))
    limp_days = _symptom_days(record, as_of, "limp")
    if limp_days is not None:  # NHS Healthier Together times a limp by its own duration
        facts["triage.limp_days"] = Fact(limp_days, "d", ("symptoms",))
    if inp.on_treatment is not None:
        facts["triage.on_treatment"] = Fact(inp.on_treatment, inputs=("on_treatment",))
    if inp.central_line is not None:
        facts["triage.central_line"] = Fact(inp.central_line, inputs=("central_line",))
    if inp.treatment_unsure:
        facts["triage.treatment_unsure"] = Fact(True, inputs=("on_treatment", "central_line"))
    if inp.recent_transplant is not None:
        facts["triage.recent_transplant"] = Fact(inp.recent_transplant,
                                                 inputs=("recent_transplant",))
    if inp.transplant is not None:
        facts["triage.transplant"] = Fact(inp.transplant, inputs=(
            ("recent_transplant",) if inp.recent_transplant else ("transplant",)))
    if inp.treatment_start is not None:
        day = as_of or dt.date.today()
        facts["triage.days_since_treatment_start"] = Fact(
            float((day - inp.treatment_start).days), "d", ("treatment_start", "date"))
    return facts, as_of


def _temperature(record: PatientRecord) -> dict[str, Any] | None:
    """The last temperature as entered, and in both scales."""
    temps = [o for o in record.observations if o.code == "temperature"]
    if not temps:
        return None
    last = temps[-1]
    value = float(last.value)
    unit = str(last.unit)
    celsius = convert(value, unit, "Cel")
    fahrenheit = convert(value, unit, "[degF]")
    return {"celsius": round(celsius, 1), "fahrenheit": round(fahrenheit, 1),
            "entered": {"value": value, "unit": unit},
            "text": f"{celsius:.1f} °C ({fahrenheit:.1f} °F)"}


def _and_list(parts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else "".join(parts)


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass(frozen=True)
class TriageResult:
    """Result of :func:`triage`; ``to_dict()`` gives the JSON document."""

    patient_id: str
    as_of: dt.date | None
    facts: Mapping[str, Fact]
    results: tuple[DecisionResult, ...]
    knowledge: Knowledge
    symptoms: tuple[str, ...]
    _record: PatientRecord | None = None
    _cbc_time: dt.date | None = None  # the day of the blood count, when the input gave it
    # with the treatment and line questions unanswered: the advice the same input gets when
    # both are answered "no" (the "if you are sure it is no" part of the headline reads it)
    _if_no_advice: str | None = None

    def result(self, output: str) -> DecisionResult | None:
        for r in self.results:
            if r.output == output:
                return r
        return None

    def value(self, output: str) -> Any:
        r = self.result(output)
        if r is None or r.status == "unknown":
            return "unknown"
        return r.value

    @property
    def urgency(self) -> str:
        return str(self.value("triage.urgency"))

    @property
    def advice(self) -> str:
        """Where to go: the code of the family headline (pack decision ``triage_advice``)."""
        return str(self.value("triage.advice"))

    @property
    def fever(self) -> bool:
        return self.value("triage.fever") is True

    @property
    def on_treatment_or_line(self) -> bool | None:
        v = self.value("triage.on_treatment_or_line")
        return v if isinstance(v, bool) else None

    @property
    def leukemia_suspicion(self) -> str:
        return str(self.value("triage.leukemia_suspicion"))

    @property
    def cbc_findings(self) -> list[str]:
        v = self.value("triage.cbc_findings")
        return [str(x) for x in v] if isinstance(v, list) else []

    def next_step_codes(self) -> list[str]:
        v = self.value("triage.next_steps")
        return [str(x) for x in v] if isinstance(v, list) else []

    # ------------------------------------------------------------------ parts
    def _rule_reason(self, kind: str, output: str) -> dict[str, Any] | None:
        r = self.result(output)
        if r is None or r.rule_id is None:
            return None
        return {
            "kind": kind,
            "code": _plain(r.value),
            "rule_id": r.rule_id,
            "text": f"{r.title}: {_plain(r.value)}" + (f". {r.note}" if r.note else ""),
            "citations": list(r.cite),
            "evidence": r.evidence,
            "inputs": {k: _plain(v) for k, v in r.inputs.items()},
        }

    def reasons(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for kind, output in (("urgency", "triage.urgency"),
                             ("call_today_sign", "triage.call_today_on_treatment"),
                             ("suspicion", "triage.leukemia_suspicion"),
                             ("cbc_suspicion", "triage.cbc_suspicion")):
            if kind == "call_today_sign" and not self._call_today_sign_read():
                continue
            reason = self._rule_reason(kind, output)
            if reason is not None:
                if kind == "call_today_sign":
                    # the same-day sign with its own sources (decision triage_call_today_signs,
                    # read by rule triage.urgency.urgent.call_today_sign_on_treatment)
                    r = self.result(output)
                    reason["text"] = f"{r.title}. {r.note}" if r and r.note else \
                        str(r.title if r else output)
                out.append(reason)
        cbc = self.result("triage.cbc_findings")
        if cbc is not None and isinstance(cbc.value, list):
            rules = self.knowledge.rules()
            for (rid, cite, evidence), code in zip(cbc.hits, cbc.value, strict=False):
                note = getattr(rules[rid][2], "note", None) if rid in rules else None
                out.append({
                    "kind": "finding",
                    "code": code,
                    "rule_id": rid,
                    "text": texts.FINDING_PLAIN.get(str(code), str(code))
                    + (f". {note}" if note else ""),
                    "citations": list(cite),
                    "evidence": evidence,
                })
        return out

    def _call_today_sign_read(self) -> bool:
        """Whether the same-day sign list (decision triage_call_today_signs) decided this
        answer: a sign of the list, and a rule that reads it fired (the urgency rule for
        treatment, or the today_ask_treatment headline). Off treatment the list is evaluated
        but read by no rule, so the clinician reasons never name it (review V)."""
        if self.value("triage.call_today_on_treatment") is not True:
            return False
        urgency = self.result("triage.urgency")
        advice = self.result("triage.advice")
        return (urgency is not None and urgency.rule_id ==
                "triage.urgency.urgent.call_today_sign_on_treatment") or \
            (advice is not None and advice.rule_id == "triage.advice.today_ask_treatment")

    def next_steps(self) -> list[dict[str, Any]]:
        r = self.result("triage.next_steps")
        if r is None or not isinstance(r.value, list):
            return []
        has_cbc = all(f in self.facts for f in CBC_FACTS)
        out = []
        who = self._who()
        for (rid, cite, _), code in zip(r.hits, r.value, strict=False):
            fever = self.fever_threshold()
            key = "drinks_watch_baby" if code == "drinks_watch" and who == "the baby" \
                else "watch_and_return_soon" if code == "watch_and_return" \
                and self.urgency == "soon" else str(code)
            plain = self._fit_text(texts.NEXT_STEP_PLAIN.get(key, "").format(
                fever=fever, who=who, signs=self._bleeding_sign_words(),
                treatment=self._treatment_words()))
            clinical = texts.NEXT_STEP_CLINICAL.get(str(code), "").format(fever=fever)
            if code == "cbc_with_smear" and has_cbc:
                # the family gave a full count: never ask them for it again
                plain, clinical = "", texts.SMEAR_REVIEW_CLINICAL
            out.append({"code": code, "rule_id": rid, "text": clinical, "plain": plain,
                        "citations": list(cite)})
        return out

    def _bleeding_sign_words(self) -> str:
        """The bleeding signs the family entered, as the bleeding_signs_today step names them
        (review W: "the bruises or bleeding" for tiny spots alone)."""
        return _and_list([words for group, words in texts.BLEEDING_SIGN_WORDS
                          if set(group) & set(self.symptoms)]) or "the bleeding signs"

    def _treatment_words(self) -> str:
        """What was answered "yes" of the treatment questions, for the step that tells the
        emergency team (review W); never an answer that was "no" or left blank."""
        return _and_list([words for fact, words in texts.TREATMENT_WORDS.items()
                          if fact in self.facts and self.facts[fact].value is True])

    def missing(self) -> list[dict[str, str]]:
        out = [{"fact": f, "test": t} for f, t in _CBC_TESTS.items() if f not in self.facts]
        start = "triage.days_since_treatment_start"
        if {"low_urine", "dark_urine"} & set(self.symptoms) and self.on_treatment_or_line \
                and start not in self.facts:
            # the first week of treatment is the tumour-lysis window (rules
            # triage.urgency.emergency.low_urine_tumour_lysis_window and
            # triage.next.dark_urine_tumour_lysis_window)
            spec = self.knowledge.registry.get(start)
            out.append({"fact": start, "test": spec.settled_by or "" if spec else ""})
        if self.on_treatment_or_line is None:
            for fact in ("triage.on_treatment", "triage.central_line"):
                if fact not in self.facts:
                    spec = self.knowledge.registry.get(fact)
                    out.append({"fact": fact, "test": spec.settled_by or "" if spec else ""})
        return out

    def fever_threshold(self) -> str:
        """The pack's fever threshold (rule triage.fever.measured) in both scales."""
        _, _, rule = self.knowledge.rule("triage.fever.measured")
        for node in getattr(getattr(rule, "when", None), "all", ()) or ():
            if getattr(node, "value", None) is not None and getattr(node, "unit", None):
                celsius = convert(float(node.value), str(node.unit), "Cel")
                return f"{celsius:.1f} °C ({convert(celsius, 'Cel', '[degF]'):.1f} °F)"
        raise KnowledgeError([Problem("triage.fever.measured",
                                      "the fever rule has no temperature threshold")])

    def _rule_symptom_codes(self, rule_id: str) -> list[str]:
        """The symptom codes a pack rule names (``contains`` and ``contains_any`` on
        ``symptoms`` in its ``all`` list); none when the pack has no such rule."""
        if rule_id not in self.knowledge.rules():
            return []
        _, _, rule = self.knowledge.rule(rule_id)
        codes: list[str] = []
        for node in getattr(getattr(rule, "when", None), "all", ()) or ():
            if getattr(node, "fact", None) != "symptoms":
                continue
            contains = getattr(node, "contains", None)
            codes.extend([*(getattr(node, "contains_any", None) or ()),
                          *([str(contains)] if contains else [])])
        return codes

    def emergency_sign_codes(self) -> list[str]:
        """The symptom codes that always mean the emergency number, read from the pack's own
        rule (``triage.advice.emergency_services``)."""
        return self._rule_symptom_codes("triage.advice.emergency_services")

    def fever_emergency_sign_codes(self) -> list[str]:
        """The symptom codes that mean the emergency number with a fever (tiny red or purple
        spots, rule ``triage.advice.emergency_services_spots_with_fever``; review V)."""
        return self._rule_symptom_codes("triage.advice.emergency_services_spots_with_fever")

    def emergency_signs(self) -> list[str]:
        """The short items of "get emergency help at once": each item of
        :data:`texts.EMERGENCY_ITEMS` with a code in the pack's emergency rule, then any code of
        the rule no item covers (never dropped). A hit to the head with low platelets is a line
        of its own (:meth:`head_injury_line`), since its headline is the care team now."""
        codes = [*self.emergency_sign_codes(), *self.fever_emergency_sign_codes()]
        items = [text for group, text in texts.EMERGENCY_ITEMS if set(group) & set(codes)]
        covered = {c for group, _ in texts.EMERGENCY_ITEMS for c in group}
        items += [texts.SYMPTOM_PLAIN.get(c, c.replace("_", " ")).capitalize()
                  for c in codes if c not in covered]
        return items

    def head_injury_line(self) -> bool:
        """Whether the pack makes a hit to the head with low platelets an emergency."""
        return "triage.urgency.emergency.head_injury_low_platelets" in self.knowledge.rules()

    def _platelets(self) -> str:
        """``low``, ``normal`` or ``unknown``: what the platelet count given shows."""
        if "platelets.dx" not in self.facts:
            return "unknown"
        low = {"thrombocytopenia", "severe_thrombocytopenia"} & set(self.cbc_findings)
        return "low" if low else "normal"

    def _normal_counts(self) -> list[str]:
        """The counts that were measured and are not low (never leave a count given out)."""
        out = [text for fact, text in texts.FINDING_NORMAL_PLAIN.items()
               if fact in self.facts and self.facts[fact].value is False]
        platelets = texts.FINDING_NORMAL_PLAIN["findings.thrombocytopenia"]
        if platelets in out and self.on_treatment_or_line:
            # review N: never reassure on a count without saying how old it is
            days = self._count_age_days()
            when = ("from today" if days == 0 else "from yesterday" if days == 1
                    else f"from {days} days ago" if days is not None and days > 1
                    else "you entered")
            out[out.index(platelets)] = texts.FINDING_NORMAL_PLATELETS_ON_TREATMENT.format(
                when=when)
        return out

    def _nappy_age(self) -> bool:
        """Whether the family text may speak of nappies (a baby or toddler, under 3 years).
        Wording only, never a clinical threshold (review O: nappy words for a 15-year-old)."""
        age = self.facts.get("age.years")
        return age is not None and float(age.value) < 3  # type: ignore[arg-type]

    def _fit_text(self, plain: str) -> str:
        """A family text fitted to this person and this result (review O): the temperature
        under the arm for a baby, nappy words only for a baby or toddler, no "call now if a
        fever comes" when a fever is already there, no "call today" under a "now" headline,
        and no "counts may have changed" beside a count taken today."""
        if self._who() == "the baby":
            plain = plain.replace("by mouth or under the arm", "under the arm")
        if not self._nappy_age():
            plain = (plain.replace(" (fewer wet nappies)", "")
                     .replace(", or fewer wet nappies (diapers)", "")
                     .replace(" (or no wet nappy)", "").replace(" (or each wet nappy)", ""))
        if self.fever:
            plain = (plain.replace(" With a fever, call now, day or night.", "")
                     .replace(" Call now, day or night, for a fever.", "")
                     .replace("cannot drink, gets a fever, or pees", "cannot drink or pees")
                     .replace(", or gets a fever.", "."))
        if self.urgency == "emergency" and plain.startswith("Call "):
            first, dot, rest = plain.partition(". ")
            plain = first.replace(" today", "", 1) + dot + rest
        if self.on_treatment_or_line and self._first_week():
            # in the first week much less pee is a call now at once (rule
            # triage.urgency.emergency.low_urine_tumour_lysis_window): no "for 6 hours"
            plain = (plain.replace("much less pee, or none, for 6 hours", "much less pee")
                     .replace("pees much less (fewer wet nappies) or not at all for 6 hours",
                              "pees much less (fewer wet nappies)")
                     .replace("pees much less or not at all for 6 hours", "pees much less"))
        if self.on_treatment_or_line is False:
            # both treatment questions answered "no": no on-treatment line (review V)
            plain = plain.replace(" With cancer treatment, call the team now for a bad "
                                  "headache.", "")
        if self._count_age_days() == 0 or "platelets.dx" not in self.facts:
            # no "a new count" beside a count taken today, nor when no count was given
            # (review U)
            plain = plain.replace(" Counts change during treatment, so they may want a new "
                                  "blood count.", "")
        return plain

    def _who(self) -> str:
        """How the family text names the person: the baby (under 1 year), the child, or the
        person (an adult, or no age given). Wording only, never a clinical threshold."""
        age = self.facts.get("age.years")
        if age is None:
            return "the person"
        years = float(age.value)  # type: ignore[arg-type]
        return "the baby" if years < 1 else "the child" if years < 18 else "the person"

    def _count_age_days(self) -> int | None:
        """Days from the blood count to the day of the triage (None when the input gave no day
        for the count, or no triage day)."""
        if self._cbc_time is None or self.as_of is None:
            return None
        return (self.as_of - self._cbc_time).days

    def _adult(self) -> bool:
        age = self.facts.get("age.years")
        return age is not None and float(age.value) >= 18  # type: ignore[arg-type]

    def _first_week(self) -> bool | None:
        """Whether the triage day is in the first week of treatment (None: start unknown): the
        window of rule triage.urgency.emergency.low_urine_tumour_lysis_window, read from the
        pack (its conditions on the days since the start), not written here again."""
        name = "triage.days_since_treatment_start"
        start = self.facts.get(name)
        if start is None:
            return None
        cp, _, rule = self.knowledge.rule("triage.urgency.emergency.low_urine_tumour_lysis_window")
        when = rule.when if isinstance(rule, Rule) else None
        window = [c for c in (when.all if isinstance(when, AllOf) else ())
                  if isinstance(c, Compare) and c.fact == name]
        if not window:  # the pack must say where the window is
            raise ValueError("rule triage.urgency.emergency.low_urine_tumour_lysis_window "
                             f"names no window on {name}")
        probe = {name: start}
        return all(evaluate_condition(c, probe, cp).truth is Tri.TRUE for c in window)

    def _transplant(self) -> bool:
        """A stem cell transplant at any time (a recent one included)."""
        fact = self.facts.get("triage.transplant") or self.facts.get("triage.recent_transplant")
        return fact is not None and fact.value is True

    def _when_words(self) -> str:
        """How soon, in the words of "what it can mean", agreeing with the headline (review V:
        "soon" under a call-now headline)."""
        return {"emergency": "right away", "urgent": "today"}.get(self.urgency, "soon")

    def _meaning_on_treatment(self, noticed: list[str], found: list[str]) -> str:
        """What it can mean during treatment: the blood-count text only for blood-count signs
        or findings (or nothing given), a text that fits each other sign that has one, and
        "the team needs to know" when anything was given (review J)."""
        specific: list[str] = []
        for s in self.symptoms:
            text = texts.MEANING_BY_SYMPTOM.get(s)
            if s == "head_injury":
                text = texts.MEANING_HEAD_INJURY[self._platelets()]
            if s == "not_drinking" and "vomiting" in self.symptoms:
                text = texts.MEANING_VOMITING_NOT_DRINKING
            if s == "low_urine" and self._first_week() is not False:
                text = f"{text} {texts.MEANING_LOW_URINE_FIRST_WEEK}"
            if s in texts.AFTER_TRANSPLANT_SIGNS and self._transplant():
                text = texts.MEANING_AFTER_TRANSPLANT
            if text is not None:
                text = text.format(when=self._when_words())
            if text is not None and text not in specific:
                specific.append(text)
        blood = bool(found) or any(s in texts.BLOOD_COUNT_SIGNS for s in self.symptoms)
        parts = [texts.MEANING_ON_TREATMENT] if blood or not (noticed or found) else []
        parts += specific
        if noticed or found:
            parts.append(texts.MEANING_ON_TREATMENT_SIGNS)
        if "chickenpox_exposure" in self.symptoms:
            parts.append(texts.MEANING_CHICKENPOX)
        return " ".join(parts)

    def plain_language(self) -> dict[str, Any]:
        urgency = self.urgency
        # a severe finding replaces its plain one (review N: low platelets said twice)
        found = [texts.FINDING_PLAIN[c] for c in self.cbc_findings
                 if c in texts.FINDING_PLAIN and not c.startswith("severe_")
                 and f"severe_{c}" not in self.cbc_findings]
        found += [texts.FINDING_PLAIN[c] for c in self.cbc_findings if c.startswith("severe_")]
        noticed = [self._fit_text(texts.SYMPTOM_PLAIN.get(s, s.replace("_", " ")))
                   for s in self.symptoms]
        suspicion = self.leukemia_suspicion
        has_cbc = any(f in self.facts for f in CBC_FACTS)
        advice = self.advice
        off_treatment = [texts.MEANING_BY_SYMPTOM[s] for s in self.symptoms
                         if s in texts.MEANING_OFF_TREATMENT_SIGNS]
        if self.on_treatment_or_line:
            if self.fever:
                who = "the person" if self._adult() or "age.years" not in self.facts \
                    else "the child"
                meaning = self._fit_text(texts.MEANING_ON_TREATMENT_FEVER.format(who=who))
                if "chickenpox_exposure" in self.symptoms:
                    meaning += f" {texts.MEANING_CHICKENPOX}"
            else:
                meaning = self._meaning_on_treatment(noticed, found)
        elif self._transplant() and any(s in texts.AFTER_TRANSPLANT_SIGNS
                                        for s in self.symptoms) and not self.fever:
            meaning = texts.MEANING_AFTER_TRANSPLANT
        elif off_treatment and not self.fever:
            meaning = " ".join(dict.fromkeys(off_treatment))
        elif self.fever and self.on_treatment_or_line is None:
            meaning = texts.MEANING_FEVER_STATUS_UNKNOWN
        elif urgency == "emergency":
            meaning = texts.MEANING_EMERGENCY
        elif not (self.symptoms or found or has_cbc):
            # nothing ticked and nothing measured: no hint of illness, no test (review K)
            meaning = texts.MEANING_NOTHING_GIVEN
        elif urgency == "urgent" and suspicion in ("low", "none"):
            # never "these signs are common" beside "see a doctor today" (NICE NG12 asks for
            # immediate assessment of unexplained petechiae, for example); the blood test only
            # for signs a blood count would explain
            meaning = texts.MEANING_SEE_TODAY + (" A blood test is the first step."
                                                 if suspicion == "low" else "")
        elif not has_cbc and suspicion == "none":
            # no count entered: never "nothing points to a problem with the blood" (review O)
            meaning = texts.MEANING_NO_COUNT
        elif not has_cbc and suspicion != "none":
            meaning = (texts.MEANING.get(suspicion, "") + " No blood test has been done yet; "
                       "a blood test is the first step.").strip()
        else:
            meaning = texts.MEANING.get(suspicion, "")
        if "spots_with_fever" in self.next_step_codes():
            # tiny spots with a fever (review V): never "a fever is often from an everyday
            # illness"; during treatment its first sentence, then the fever text
            meaning = (texts.MEANING_SPOTS_WITH_FEVER.split(". ", 1)[0] + f". {meaning}"
                       if self.on_treatment_or_line else texts.MEANING_SPOTS_WITH_FEVER)
        temperature = _temperature(self._record) if self._record is not None else None
        headline = (texts.HEADLINE_OTHER_CONCERN[advice]
                    if "other_concern" in self.symptoms and advice in texts.HEADLINE_OTHER_CONCERN
                    # a sign of graft-versus-host disease (step transplant_signs_today, rule
                    # triage.next.transplant_signs_today): the transplant team first (review V)
                    else texts.HEADLINE_TRANSPLANT_SIGNS[advice]
                    if "transplant_signs_today" in self.next_step_codes()
                    and advice in texts.HEADLINE_TRANSPLANT_SIGNS
                    # a chickenpox or measles contact: a treatment that ended in the last 6
                    # months counts too (PICS-INFOBOOK; reviews AA, BB)
                    else texts.HEADLINE_EXPOSURE_ASK
                    if advice == "today_ask_treatment"
                    and texts.EXPOSURE_SIGNS & set(self.symptoms)
                    else texts.HEADLINE.get(advice, texts.HEADLINE_BY_URGENCY.get(urgency, "")))
        if "{if_no}" in headline:
            # what answering "no" gives, read from that result (review U: the headline said
            # "see a doctor if it does not get better" where "no" gives today)
            headline = headline.format(if_no=texts.IF_NO.get(self._if_no_advice or "",
                                                             texts.IF_NO["emergency_department"]))
        return {
            "headline": headline,
            "temperature": temperature["text"] if temperature else None,
            "what_was_noticed": noticed,
            "what_the_blood_test_shows": [*found, *self._normal_counts()] if has_cbc else [],
            "what_it_can_mean": meaning,
            "what_to_do": [s["plain"] for s in self.next_steps() if s["plain"]],
            # a sure "no" to both treatment questions: no on-treatment lines (review V)
            "when_to_get_help_at_once": texts.when_to_get_help(
                self.emergency_signs(), self.fever_threshold(), self.head_injury_line(),
                treatment_lines=self.on_treatment_or_line is not False),
            "disclaimer": texts.PLAIN_DISCLAIMER,
        }

    def to_dict(self) -> dict[str, Any]:
        age = self.facts.get("age.years")
        used = {c for r in self.results if r.status != "unknown" for c in r.cite}
        return {
            "format": TRIAGE_RESULT_FORMAT,
            "patient_id": self.patient_id,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "generated_by": {"allpath": __version__, "ruleset": self.knowledge.version},
            "disclaimer": DISCLAIMER,
            "age_years": round(float(age.value), 2) if age else None,  # type: ignore[arg-type]
            "sex": _plain(self.facts["sex"].value) if "sex" in self.facts else None,
            "symptoms": list(self.symptoms),
            "urgency": self.urgency,
            "advice": self.advice,
            "on_treatment_or_line": self.on_treatment_or_line,
            "fever": self.fever,
            "temperature": _temperature(self._record) if self._record is not None else None,
            "leukemia_suspicion": self.leukemia_suspicion,
            "cbc_suspicion": _plain(self.value("triage.cbc_suspicion")),
            "flag": _plain(self.value("triage.cbc_flag")),
            "findings": self.cbc_findings,
            "reasons": self.reasons(),
            "next_steps": self.next_steps(),
            "missing": self.missing(),
            "plain_language": self.plain_language(),
            "trace": [
                {"decision": r.decision, "output": r.output, "status": r.status,
                 "value": _plain(r.display_value), "rule_id": r.rule_id,
                 "citations": list(r.cite), "evidence": r.evidence,
                 "missing": list(r.missing), "pack": f"{r.pack}@{r.pack_version}"}
                for r in self.results
            ],
            "citations": {c: self.knowledge.citations[c].reference for c in sorted(used)
                          if c in self.knowledge.citations},
        }


def _as_input(source: Any) -> TriageInput:
    if isinstance(source, TriageInput):
        return source
    if isinstance(source, PatientRecord):
        return TriageInput(source)
    if isinstance(source, str | Path):
        return load_triage_input(source)
    if isinstance(source, Mapping):
        return parse_triage_input(source)
    raise TypeError(f"cannot triage a {type(source).__name__}")


def triage(source: TriageInput | PatientRecord | Mapping[str, Any] | str | Path,
           knowledge: Knowledge | None = None) -> TriageResult:
    """Triage one person from a record, a triage document or a file path."""
    kb = knowledge or load_knowledge()
    inp = _as_input(source)
    facts, as_of = triage_facts(inp, kb)
    findings = evaluate_pack(kb.pack("findings"), facts)
    triaged = evaluate_pack(kb.pack("triage"), findings.facts, findings.why_unknown)
    if_no: str | None = None
    if "triage.on_treatment_or_line" not in triaged.facts:
        # both questions answered "no": the advice the headline's "if you are sure it is no"
        # part gives (review U)
        answered = {**facts, "triage.on_treatment": Fact(False, inputs=("on_treatment",)),
                    "triage.central_line": Fact(False, inputs=("central_line",))}
        found_no = evaluate_pack(kb.pack("findings"), answered)
        no = evaluate_pack(kb.pack("triage"), found_no.facts, found_no.why_unknown)
        advice_no = no.facts.get("triage.advice")
        if_no = str(advice_no.value) if advice_no is not None else None
    facts = dict(triaged.facts)
    results: list[DecisionResult] = [*findings.results, *triaged.results]
    symptoms = tuple(s if isinstance(s, str) else s.code for s in inp.record.symptoms)
    return TriageResult(inp.record.id, as_of, facts, tuple(results), kb, symptoms, inp.record,
                        # the count's age needs the triage day too (without it the day is
                        # the count's own)
                        inp.cbc_time if inp.date is not None else None, if_no)
