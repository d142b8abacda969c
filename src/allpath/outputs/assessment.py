"""The Assessment: every conclusion of one record, with the trace that explains it.

``Assessment.to_dict()`` produces the versioned JSON document ``allpath.assessment/1``
described in ``docs/output-format.md``. It only serialises: every stage (the roadmap and the
maintenance titration included) has already run in :func:`allpath.pipeline.assess`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from allpath import __version__
from allpath.classification.karyotype import masked_hypodiploidy_test
from allpath.disclaimer import DISCLAIMER
from allpath.findings.mrd import unsettled_mrd
from allpath.monitoring.monitor import Monitoring
from allpath.monitoring.relapse import (
    RelapseFinding,
    block1_mrd,  # the relapse reader itself
)
from allpath.monitoring.titration import TitrationRun
from allpath.observations.normalise import Timeline
from allpath.record.models import PatientRecord
from allpath.roadmap.build import Roadmap
from allpath.rules.engine import DecisionResult, decision_reads
from allpath.rules.facts import Among, Fact
from allpath.rules.loader import Knowledge

__all__ = ["ASSESSMENT_FORMAT", "DISCLAIMER", "OVERTAKEN_NOTE", "Assessment"]

ASSESSMENT_FORMAT = "allpath.assessment/1"

def _plain(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Assessment:
    """Result of :func:`allpath.pipeline.assess`: one field per stage it ran.

    ``roadmap`` is the frontline roadmap the roadmap pack chose, laid out from the default
    start (None only for an Assessment made without that stage); ``titration`` is pack 80
    over the maintenance visits of the record (None before maintenance).
    """

    record: PatientRecord
    timeline: Timeline
    facts: Mapping[str, Fact]
    results: tuple[DecisionResult, ...]
    notes: tuple[str, ...]
    knowledge: Knowledge
    as_of: dt.date | None
    monitoring: Monitoring | None = None
    roadmap: Roadmap | None = None
    titration: TitrationRun | None = None

    # ------------------------------------------------------------------ look-ups
    def result(self, output: str) -> DecisionResult | None:
        """The decision result that writes ``output`` (e.g. ``risk.nci_rome``)."""
        for r in self.results:
            if r.output == output:
                return r
        return None

    def value(self, output: str, field: str | None = None) -> Any:
        """The displayed value of an output (``unknown`` when it could not be decided)."""
        r = self.result(output)
        if r is None:
            return None
        v = r.value
        if field is not None:
            v = v.get(field) if isinstance(v, dict) else None
        if r.status == "unknown" and v is None:
            return "unknown"
        return v

    # ------------------------------------------------------------------ sections
    def _risk(self) -> list[dict[str, Any]]:
        """Every named risk scheme, in pack order; none when the diagnosis is not ALL.

        A provisional group is never shown as the group: ``group`` is ``unknown``, the groups
        still possible lead (``possible_groups``) and the group under the stated assumptions
        (MRD negative, ...) is secondary (``provisional_group``).
        """
        if self.value("diagnosis", "status") == "not_ALL":
            return []
        out = []
        for r in self.results:
            # Every named scheme of the risk stage is listed, in pack order.
            if r.scheme is None or not r.output.startswith("risk."):
                continue
            shown_provisional = r.provisional and r.status == "decided"
            out.append(
                {
                    "scheme": r.scheme,
                    "group": "unknown" if r.status == "unknown" or shown_provisional
                    else r.value,
                    "provisional": r.provisional,
                    "provisional_group": r.value if shown_provisional else None,
                    "provisional_reason": r.provisional_reason,
                    "missing": list(r.missing),
                    "possible_groups": [_plain(p) for p in r.possible],
                    "rule_id": r.rule_id,
                    "citations": list(r.cite),
                    "evidence": r.evidence,
                    # why a scheme does not apply, or what a settled group means (the DS
                    # arms name the Down-syndrome treatment changes); never a provisional one's
                    "note": r.note if r.status == "not_applicable"
                    or (r.status == "decided" and not shown_provisional) else None,
                }
            )
        return out

    def _subtype(self) -> dict[str, Any]:
        r = self.result("subtype")
        v = r.value if r is not None and isinstance(r.value, dict) else {}
        key = v.get("key") if r is not None and r.status == "decided" else "unknown"
        prognosis = v.get("prognosis") if r is not None and r.status == "decided" else None
        return {
            "key": key or "unknown",
            "who_haem5": v.get("who_haem5"),
            "icc": self.value("subtype.icc") if key != "unknown" else None,
            "prognosis": prognosis or "unknown",
            "cog_genetics": self.value("genetics.cog_bucket"),
            "kmt2a_rearranged": _tri(self.value("genetics.kmt2a_r")),
            "ploidy": [
                {"scheme": res.scheme, "band": res.value if res.status == "decided" else "unknown"}
                for res in self.results
                if res.output.startswith("ploidy.")
            ],
            "rule_id": r.rule_id if r is not None else None,
            "missing": list(r.missing) if r is not None else [],
        }

    def _findings(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in (
            "anemia",
            "anemia_grade",
            "neutropenia",
            "neutropenia_grade",
            "thrombocytopenia",
            "thrombocytopenia_grade",
            "circulating_blasts",
            "hyperleukocytosis",
            "marrow_status",
        ):
            out[name] = _plain(self.value(f"findings.{name}"))
        cyto = self.result("findings.cytopenias")
        out["cytopenias"] = (
            list(cyto.value) if cyto is not None and isinstance(cyto.value, list) else "unknown"
        )
        out["grading"] = "CTCAE v5.0"
        return out

    def _roadmap(self) -> dict[str, Any]:
        """The roadmap and where the patient is on it (``allpath.roadmap``)."""
        if self.roadmap is None:
            return {"roadmap": None, "where_now": None}
        where = self.roadmap.where_now(self.as_of) if self.as_of is not None else None
        return {"roadmap": self.roadmap.to_dict(), "where_now": where}

    def _monitoring(self) -> dict[str, Any]:
        if self.monitoring is None:
            return {"response": [], "mrd": {"series": [], "restratification": []},
                    "relapse": None, "alerts": [], "current": None}
        return self.monitoring.to_dict()

    def _relapse_tests(self) -> list[str]:
        """The tests that would settle a suspected or unsettled relapse (issue 11 item 7).

        A suspected relapse misses the confirming tests its site rules read; an unsettled one
        misses the facts its site decision names."""
        if self.monitoring is None:
            return []
        relapse = self.monitoring.relapse
        tests = self._tests_settling(relapse)
        if relapse.suspected_next is not None:  # a new relapse suspected after a remission
            tests += [t for t in self._tests_settling(relapse.suspected_next)
                      if t not in tests]
        return tests

    def _tests_settling(self, relapse: RelapseFinding) -> list[str]:
        site = next((r for r in relapse.results if r.output == "relapse.site"), None)
        if site is None:
            return []
        if relapse.unsettled:
            wanted = list(site.missing)
        elif site.status == "decided" and site.value == "suspected":
            if relapse.open_facts:
                # what the suspecting rule read and the work-up left open (an enlarged
                # testis: biopsy, marrow, lumbar puncture)
                wanted = list(relapse.open_facts)
            elif site.rule_id == "relapse.suspected.one_test":
                wanted = ["rel.other_test_second"]
            elif "rel.other_test_highest" in site.inputs:
                # the same marrow was already tested without confirming it: Ponte di Legno
                # [S31] then asks for a second marrow with two tests at 1% or more
                return ["a second bone-marrow aspirate with two tests (flow cytometry, PCR "
                        "or FISH)"]
            else:
                wanted = ["rel.other_test_highest"]
        elif relapse.open_facts:
            # a confirmed relapse with a question left open (an enlarged testis not biopsied:
            # isolated marrow or combined)
            wanted = list(relapse.open_facts)
        else:
            return []
        tests = []
        for fact in wanted:
            spec = self.knowledge.registry.get(fact)
            if spec is not None and spec.settled_by:
                tests.append(spec.settled_by)
        return tests

    def _presentation(self) -> str | None:
        r = self.result("diagnosis")
        if r is None or r.status != "decided" or not isinstance(r.value, dict):
            return None
        value = r.value.get("presentation")
        return str(value) if value is not None else None

    def _adult_factors(self) -> dict[str, Any]:
        r = self.result("risk.adult_factors")
        if r is None or r.status == "not_applicable":
            return {"applicable": False, "factors": [], "complete": True, "missing": []}
        factors = [_plain(v) for v in r.value] if isinstance(r.value, list) else []
        return {
            "applicable": True,
            "factors": factors,
            "complete": r.status == "decided" and not r.missing,
            "missing": list(r.missing),
        }

    def _prognosis(self) -> list[dict[str, Any]]:
        r = self.result("prognosis.figures")
        if r is None or not isinstance(r.value, list):
            return []
        cites = {rid: cite for rid, cite, _ in r.hits}
        items = []
        inputs = r.hit_inputs or tuple({} for _ in r.hits)
        for (rid, _, _), fig, read in zip(r.hits, r.value, inputs, strict=False):
            if any(self.facts[n].provisional for n in read if n in self.facts):
                continue  # a provisional group is never shown as the group: nor its figure
            if isinstance(fig, dict):
                items.append({**fig, "rule_id": rid, "citations": list(cites[rid])})
        return items

    def _relapse_confirmed(self) -> bool:
        return self.monitoring is not None and self.monitoring.relapse.confirmed

    def _front_line_time_point(self, fact: str) -> bool:
        """A fact read at a front-line response time point after diagnosis: an observation
        fact of the registry with a protocol ``timepoint`` other than ``diagnosis`` (day 8,
        end of induction, end of consolidation) or a checkpoint fact (``cp.*``)."""
        if fact.startswith("cp."):
            return True
        spec = self.knowledge.registry.get(fact)
        point = spec.source.get("timepoint") if spec is not None else None
        return point is not None and point != "diagnosis"

    def _readers(self) -> Mapping[str, frozenset[str]]:
        """For each fact, the outputs of the decisions (all packs) whose conditions read it
        (worked out once per knowledge base: it walks every condition of every pack)."""
        kb = self.knowledge
        hit = _READERS.get(id(kb))
        if hit is not None and hit[0] is kb:
            return hit[1]
        readers: dict[str, set[str]] = {}
        for cp in kb.packs:
            for d in cp.pack.decisions:
                for name in decision_reads(d):
                    readers.setdefault(name, set()).add(d.output)
        frozen = {k: frozenset(v) for k, v in readers.items()}
        if len(_READERS) > 64:  # knowledge bases built again and again (tests)
            _READERS.clear()
        _READERS[id(kb)] = (kb, frozen)
        return frozen

    def missing(self) -> list[dict[str, Any]]:
        """Facts whose absence left a conclusion unknown or provisional, with the test.

        ``order`` is false, and ``note`` says why, for a time point that has passed (see
        :meth:`_time_point_passed`: a front-line response time point once a relapse is
        confirmed, an overtaken MRD time point, a diagnosis fact after its window): its test
        is not among ``tests_to_order``. An intermediate output (one that
        other decisions read, e.g. ``genetics.cog_bucket``) is named in ``needed_for`` only
        while a decision that reads it applies to the patient (not an adult's COG group)."""
        needed: dict[str, list[str]] = {}
        # a checkpoint response left open (an adult's platelet count) asks for its facts too
        responses = tuple(c.result for c in self.monitoring.responses) if self.monitoring else ()
        # a confirmed relapse whose timing or risk group waits on a fact (the end-of-block-1
        # MRD for the COG group) asks for it too
        confirmed = self._relapse_confirmed()
        relapse = tuple(r for r in self.monitoring.relapse.results
                        if r.output.startswith(("relapse.timing.", "relapse.risk."))) \
            if self.monitoring is not None and confirmed else ()
        for r in (*self.results, *responses, *relapse):
            partly = r.status == "decided" and isinstance(r.value, dict) and any(
                v is None for v in r.value.values())
            if r.status == "unknown" or r.provisional or partly:
                for m in r.missing:
                    needed.setdefault(m, []).append(r.output)
        readers = self._readers()
        status = {r.output: r.status for r in self.results}

        def applies(output: str, seen: frozenset[str] = frozenset()) -> bool:
            """A conclusion of its own, or read by a decision that applies and is itself
            wanted (genetics.double_trisomy_4_10 feeds genetics.cog_bucket, which only the
            paediatric schemes read)."""
            read_by = readers.get(output, frozenset()) - seen - {output}
            if not read_by:
                return True
            return any(status.get(o, "decided") != "not_applicable"
                       and applies(o, seen | {output}) for o in read_by)

        for fact, phase in self._overdue_mrd():
            needed.setdefault(fact, []).append(f"roadmap.{phase}")
        overtaken = self._overtaken_time_points()
        # an MRD time point measured by an assay too insensitive for a threshold the rules
        # use is missing too; its test names the sensitivity that settles it
        unsettled = unsettled_mrd(self.timeline, self.knowledge.registry, self.knowledge) \
            if needed else {}
        # so is the end-of-block-1 MRD of a confirmed relapse, read by the relapse reader
        when = self.monitoring.relapse.relapse_date if self.monitoring is not None else None
        if confirmed and when is not None and "rel.mrd_end_block1" in needed:
            block1 = block1_mrd(self.timeline, when, self.knowledge)
            if block1.why_unknown is not None:
                unsettled = {**unsettled, "rel.mrd_end_block1": block1}
        # a marrow and work-up that found no leukaemia or lymphoma (fewer blasts than ALL
        # needs, no mass): the CNS and genetic work-up of ALL is not asked for
        presentation = self.facts.get("diagnosis.presentation")
        no_leukaemia = presentation is not None and presentation.value == "insufficient_blasts"
        producers = {d.output: cp.id for cp in self.knowledge.packs for d in cp.pack.decisions} \
            if no_leukaemia else {}
        out = []
        for fact, outputs in sorted(needed.items()):
            spec = self.knowledge.registry.get(fact)
            shown = sorted({o for o in outputs if o.startswith("roadmap.") or applies(o)})
            test = spec.settled_by if spec and spec.settled_by else None
            reading = unsettled.get(fact)
            held = self.facts.get(fact)
            if fact == "genetics.chromosome_count" and held is not None \
                    and isinstance(held.value, Among):  # a possibly doubled hypodiploid clone
                test = masked_hypodiploidy_test()
            if test is not None and reading is not None and reading.needed is not None:
                test = (f"{test} by an assay with a sensitivity of {reading.needed:g} "
                        f"({reading.needed * 100:g}%) or better")
            passed = self._time_point_passed(fact, confirmed, overtaken)
            if passed is None and reading is not None and reading.why_unknown == "discordant":
                # a new sample cannot stand for the time point, nor settle which method rules
                passed = (f"Measured on {reading.results[0].time.isoformat()}: the same-day "
                          "results disagree (see notes). A new sample cannot stand for that "
                          "time point; the treating team decides which result stands.")
            if passed is None and no_leukaemia and all(
                    producers.get(o) in _ALL_WORKUP_PACKS for o in outputs):
                passed = ("No leukaemia or lymphoma was found (not ALL): the ALL work-up "
                          "(diagnostic lumbar puncture, genetic tests of the blasts) is not "
                          "ordered.")
            out.append(
                {
                    "fact": fact,
                    "needed_for": shown or sorted(set(outputs)),
                    "test": test,
                    "order": passed is None,
                    "note": passed,
                }
            )
        return out

    def _time_point_passed(self, fact: str, relapsed: bool,
                           overtaken: frozenset[str]) -> str | None:
        """Why a missing fact's time point has passed, so that a new test cannot stand for
        it (its test is then not ordered), or None: a front-line response time point once a
        relapse is confirmed, an MRD time point a later one has overtaken, or a diagnosis
        fact (``timepoint: diagnosis``) once the registry's window for it has closed (a
        count seven months into maintenance is not the count at diagnosis)."""
        if relapsed and self._front_line_time_point(fact):
            return ("A front-line time point that has passed (a relapse is confirmed): not "
                    "ordered again.")
        if fact in overtaken:
            return OVERTAKEN_NOTE
        spec = self.knowledge.registry.get(fact)
        source = spec.source if spec is not None else {}
        window = source.get("window") or [None, None]
        last = window[1] if len(window) > 1 else None
        day0 = self.timeline.day0
        if (source.get("timepoint") == "diagnosis" and last is not None and day0 is not None
                and self.as_of is not None and (self.as_of - day0).days > int(last)):
            return ("The diagnostic time point has passed: a new test cannot stand for the "
                    "result at diagnosis. Check the diagnostic lab report for it.")
        if (source.get("window_closes") and last is not None and day0 is not None
                and self.as_of is not None and (self.as_of - day0).days > int(last)):
            # a response time point that only its own day can show (the day-15 marrow):
            # once its window has closed, a marrow now cannot stand for it
            return (f"The time point (days {window[0]}-{last} of treatment) has passed: a "
                    "test now cannot show the response on that day. Check the record for "
                    "its result.")
        if (source.get("timepoint") == "diagnosis" and "from" not in source
                and self._induction_over()):
            # a finding at diagnosis the record states (testicular disease), asked for after
            # induction: an examination now cannot tell what it was at diagnosis
            return ("The diagnostic time point has passed (induction is over): an examination "
                    "now cannot stand for the finding at diagnosis. Check the diagnostic "
                    "notes for it.")
        return None

    def _induction_over(self) -> bool:
        """Whether the assessment date is after the first phase of the front-line plan."""
        rm = self.roadmap
        return (rm is not None and rm.setting == "frontline" and bool(rm.phases)
                and self.as_of is not None and self.as_of > rm.phases[0].end)

    def _overtaken_time_points(self) -> frozenset[str]:
        """Facts read at a roadmap MRD time point that a later MRD time point of the plan has
        already overtaken (its date has passed too, or its result is in the record): the day-8
        blood MRD cannot be measured on day 44, after the end-of-induction marrow was due, nor
        once the end-of-induction marrow MRD was measured (review T, rvt02)."""
        if self.roadmap is None or self.as_of is None:
            return frozenset()
        by_timepoint = _mrd_time_points(self.knowledge)
        points = sorted((i.date, str(i.extra.get("timepoint"))) for i in self.roadmap.items()
                        if i.kind == "procedure" and i.extra.get("mrd")
                        and i.extra.get("timepoint") is not None)
        out: set[str] = set()
        for day, point in points:
            fact = by_timepoint.get(point)
            if fact is not None and any(day < later and other != point and (
                    later < self.as_of  # the later time point was due
                    or by_timepoint.get(other, "") in self.facts)  # or it was measured
                    for later, other in points):
                out.add(fact)
        return frozenset(out)

    def _overdue_mrd(self) -> list[tuple[str, str]]:
        """(fact, roadmap phase) of each MRD time point the roadmap schedules that has passed
        without a result (``where_now.overdue``): the fact of the registry read from that
        time point (``mrd.eoc_marrow`` for the end-of-consolidation marrow)."""
        if self.roadmap is None or self.as_of is None:
            return []
        by_timepoint = _mrd_time_points(self.knowledge)
        out = []
        for item in self.roadmap.where_now(self.as_of)["overdue"]:
            fact = by_timepoint.get(str(item.get("timepoint")))
            if item.get("kind") == "procedure" and fact is not None \
                    and fact not in self.facts:
                out.append((fact, str(item["phase"])))
        return out

    def _unconfirmed_evidence(self) -> list[str]:
        """Rule ids of decided conclusions resting on a rule marked ``evidence:
        unconfirmed``: the front-line decisions and every monitoring decision (checkpoint
        response, MRD level, relapse site, timing and risk groups, alerts); for a decision
        that keeps every matching rule, each such rule."""
        results: list[DecisionResult] = list(self.results)
        if self.monitoring is not None:
            results += [c.result for c in self.monitoring.responses]
            results += list(self.monitoring.relapse.results)
            results += list(self.monitoring.results)
        ids: set[str] = set()
        for r in results:
            if r.status != "decided":
                continue
            if r.rule_id and r.evidence == "unconfirmed":
                ids.add(r.rule_id)
            ids.update(rid for rid, _, evidence in r.hits if evidence == "unconfirmed")
        if self.monitoring is not None:
            # the MRD series keeps the rule of each level; its evidence is the pack's
            rules = {rule.id: rule for d in self.knowledge.pack("mrd").pack.decisions
                     for rule in d.rules}
            for m in self.monitoring.mrd:
                rule = rules.get(str(m.get("rule_id")))
                if rule is not None and rule.evidence == "unconfirmed":
                    ids.add(rule.id)
        return sorted(ids)

    def trace(self) -> list[dict[str, Any]]:
        """One entry per decision: rule, inputs, citations, evidence."""
        return [
            {
                "decision": r.decision,
                "output": r.output,
                "status": r.status,
                "value": _plain(r.display_value),
                "rule_id": r.rule_id,
                "rules_matched": [h[0] for h in r.hits] if r.hits else None,
                "inputs": {k: _plain(v) for k, v in r.inputs.items()},
                "input_refs": list(r.input_refs),
                "citations": list(r.cite),
                "evidence": r.evidence,
                "provisional": r.provisional,
                "missing": list(r.missing),
                "scheme": r.scheme,
                "pack": f"{r.pack}@{r.pack_version}",
            }
            for r in self.results
        ]

    def _age_text(self) -> str | None:
        """The rules' age in words, from the exact calendar months."""
        months = self.facts.get("age.months")
        if months is None:
            return None
        from allpath.outputs.readable import age_in_words

        return age_in_words(months=float(months.value))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document ``allpath.assessment/1``."""
        age = self.facts.get("age.years")
        cns = self.result("cns")
        etp = self.value("diagnosis.etp")
        missing = self.missing()
        doc: dict[str, Any] = {
            "format": ASSESSMENT_FORMAT,
            "patient_id": self.record.id,
            "as_of": _plain(self.as_of),
            "generated_by": {
                "allpath": __version__,
                "ruleset": self.knowledge.version,
                "packs": self.knowledge.pack_versions(),
            },
            "disclaimer": DISCLAIMER,
            "age_years": round(float(age.value), 2) if age else None,  # type: ignore[arg-type]
            "age_text": self._age_text(),
            "sex": self.record.sex.value,
            "findings": self._findings(),
            "diagnosis": {
                "status": self.value("diagnosis", "status"),
                "presentation": self._presentation(),
                "lineage": self.value("diagnosis.lineage"),
                "mpal_type": None if self.value("diagnosis.mpal_type") in (None, "n/a")
                else self.value("diagnosis.mpal_type"),
                "etp": None if etp in ("n/a", "unknown") else etp,
                "b_stage": None if self.value("diagnosis.b_stage") == "n/a"
                else self.value("diagnosis.b_stage"),
                "lbl_vs_all_zone": _tri(self.value("diagnosis.lbl_vs_all_zone")),
                "subtype": self._subtype(),
            },
            "cns_status": self.value("cns", "status"),
            "cns": {
                "status": self.value("cns", "status"),
                "ncit": self.value("cns", "ncit") if cns and cns.status == "decided" else None,
                "group": self.value("cns.group"),
                "traumatic_tap_with_blasts": _tri(self.value("cns.traumatic_tap_with_blasts")),
                "steinherz_bleyer_index": _round(self.facts.get("csf.sb_index")),
            },
            "testicular_involvement": _tri(self.value("testicular_involvement")),
            "risk": self._risk(),
            "adult_risk_factors": self._adult_factors(),
            "prognosis": self._prognosis(),
            "prognosis_note": (
                "Figures describe groups of patients treated in the past; they are not a "
                "prediction for one person. A risk group's figure is shown once the group is "
                "final, not while it is provisional."
            ),
            **self._monitoring(),
            **self._roadmap(),
            "titration": self.titration.as_dict() if self.titration is not None else None,
            "missing": missing,
            "tests_to_order": sorted(
                {m["test"] for m in missing if m["test"] is not None and m["order"]}
                | set(self._relapse_tests())
            ),
            "notes": list(self.notes),
            "unconfirmed_evidence": self._unconfirmed_evidence(),
            "trace": self.trace(),
        }
        # every id cited anywhere in the document (risk, response, MRD, relapse, alerts,
        # roadmap, trace) resolves here, so a reader can look up any source behind a value
        doc["citations"] = {
            c: self.knowledge.citations[c].reference
            for c in sorted(_cited_ids(doc))
            if c in self.knowledge.citations
        }
        return doc


# id(knowledge) -> (knowledge, fact -> reading outputs); the object is kept so that a reused id
# never answers for another knowledge base
_READERS: dict[int, tuple[Knowledge, Mapping[str, frozenset[str]]]] = {}


#: The note of a missing MRD time point that a later one has overtaken (not ordered).
OVERTAKEN_NOTE = ("Its time point has passed (a later MRD time point was due or measured): not "
                  "ordered again; check whether the result exists.")

#: The packs whose conclusions only an ALL (or lymphoblastic lymphoma) work-up needs: CNS
#: status from the diagnostic lumbar puncture (timed with the first intrathecal dose, fact
#: sheet 1.5) and the genetic subtype of the blasts. A patient found not to have leukaemia or
#: lymphoma is not asked for their tests.
_ALL_WORKUP_PACKS = frozenset({"cns", "genetics"})


# id(knowledge) -> (knowledge, time point -> the MRD fact read there)
_MRD_POINTS: dict[int, tuple[Knowledge, Mapping[str, str]]] = {}


def _mrd_time_points(kb: Knowledge) -> Mapping[str, str]:
    """Each protocol time point of the fact registry and the MRD fact read at it
    (``end_of_consolidation`` -> ``mrd.eoc_marrow``), worked out once per knowledge base."""
    hit = _MRD_POINTS.get(id(kb))
    if hit is not None and hit[0] is kb:
        return hit[1]
    points: dict[str, str] = {}
    for name, spec in kb.registry.specs.items():
        point = spec.source.get("timepoint")
        if name.startswith("mrd.") and isinstance(point, str):
            points.setdefault(point, name)
    if len(_MRD_POINTS) > 64:  # knowledge bases built again and again (tests)
        _MRD_POINTS.clear()
    _MRD_POINTS[id(kb)] = (kb, points)
    return points


def _cited_ids(node: Any) -> set[str]:
    """Citation ids under every ``citations`` or ``cite`` key of a document (lists of ids).

    One walk with an explicit stack that holds only dicts and lists (a document has
    thousands of nodes: a recursive walk merging a set per node cost more than the rest of
    ``to_dict``). Containers are told by their exact type (``type(x) is dict``), about three
    times faster than ``isinstance`` here: the document is plain JSON-ready dicts, lists and
    scalars (tests/clinical/test_output_citations_resolve.py checks that no subclass of
    either appears in it)."""
    found: set[str] = set()
    stack: list[Any] = [node]
    pop, push = stack.pop, stack.append
    dict_, list_, str_ = dict, list, str
    while stack:
        item = pop()
        if type(item) is dict_:
            for key, value in item.items():
                kind = type(value)
                if kind is list_:
                    if key == "citations" or key == "cite":
                        found.update([c for c in value if type(c) is str_])
                    else:
                        push(value)
                elif kind is dict_:
                    push(value)
        else:  # a list
            for x in item:
                kind = type(x)
                if kind is dict_ or kind is list_:
                    push(x)
    return found


def _tri(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _round(fact: Fact | None) -> float | None:
    if fact is None:
        return None
    return round(float(fact.value), 4)  # type: ignore[arg-type]
