"""Accuracy of the trial pre-screen against hand labels written from the eligibility text.

    .venv/bin/python benchmarks/trials_accuracy.py                 # rule-based negation
    .venv/bin/python benchmarks/trials_accuracy.py --negation context
    .venv/bin/python benchmarks/trials_accuracy.py --text off      # registration only

The labelled set (``tests/trials/data/labels.yaml``) pairs 10 patients with 33 real ALL
studies; each label (eligible / excluded / unclear) was written from the study's criteria text
with the sentence that decides it: 16 studies before the text reader existed (``dev``), 11 and
then 6 more after it was written and before it was run on them (``holdout``, ``holdout2``).
Studies of the bundled snapshot are screened as the matcher sees them (CSV registration plus
``knowledge/trials/eligibility.yaml``); the others come from
``tests/trials/data/labelled_studies.yaml``. Status is not screened (several are closed).

Printed: the confusion matrix (label x verdict), accuracy (eligible=possible,
excluded=excluded, unclear=check), precision of "possible", the share of text-excluded pairs
called "possible", the share of eligible pairs called "excluded", and criterion-level
agreement: for each excluded pair, whether a failed criterion quotes the label's deciding
sentence's facet (the label's ``facet`` key).

``--negation context`` swaps the negation test for medspaCy's ConText (default rules, no
model download); it needs ``medspacy`` importable and fails with a clear message otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from allpath.trials import bundled_eligibility, bundled_trials, read_eligibility_file
from allpath.trials.eligibility import Negator, Polarity
from allpath.trials.match import screen_trial
from allpath.trials.profile import ProfileItem, TrialProfile
from allpath.trials.records import Trial

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "trials" / "data"
LABELS = ("eligible", "excluded", "unclear")
VERDICTS = ("possible", "check", "excluded")


def patient_profile(pid: str, facts: Mapping[str, Any]) -> TrialProfile:
    """A profile straight from a labelled patient's facts (None = unknown)."""
    items = {"age_years": ProfileItem(float(facts["age"]))}
    for key, value in facts.items():
        if key in ("age", "note"):
            continue
        items[key] = ProfileItem(None if value is None else str(value).lower()
                                 if isinstance(value, bool) else value)
    # YAML reads yes/no as booleans; the profile speaks "yes"/"no"
    for key, item in list(items.items()):
        if item.value is True or item.value == "true":
            items[key] = ProfileItem("yes")
        elif item.value is False or item.value == "false":
            items[key] = ProfileItem("no")
    return TrialProfile(pid, items)


def all_labels(doc: Mapping[str, Any], only: str = "all") -> dict[str, Any]:
    """The labels to score: ``all``, ``dev`` (the 16 studies labelled before the reader was
    written), ``holdout`` and ``holdout2`` (labelled before it was run on them; the second
    batch after the fixes the first one led to) or ``snapshot``."""
    groups = {"dev": dict(doc["labels"]),
              "holdout": dict(doc.get("holdout_labels") or {}),
              "holdout2": dict(doc.get("holdout2_labels") or {})}
    if only in groups:
        return groups[only]
    both = {k: v for g in groups.values() for k, v in g.items()}
    if only == "snapshot":
        return {k: v for k, v in both.items() if k in bundled_eligibility()}
    return both


def labelled_trials(text: bool = True) -> dict[str, Trial]:
    """The studies of the labelled set, as the matcher sees them."""
    labels = all_labels(yaml.safe_load((DATA / "labels.yaml").read_text(encoding="utf-8")))
    snapshot = {t.nct_id: t for t in bundled_trials()}
    extra = read_eligibility_file(DATA / "labelled_studies.yaml")
    out: dict[str, Trial] = {}
    for nct in labels:
        if nct in snapshot and nct in bundled_eligibility():
            t = snapshot[nct]
        elif nct in extra:  # a snapshot study gets the text its own registry record has
            t = extra[nct].apply(snapshot[nct]) if nct in snapshot else extra[nct].as_trial()
        else:
            raise SystemExit(f"{nct}: labelled but without criteria text in either file")
        if not text:
            from dataclasses import replace
            t = replace(t, eligibility_text=None, has_exact_ages=False, min_age_years=None,
                        max_age_years=None)
        out[nct] = t
    return out


def context_negator() -> Negator:
    """medspaCy ConText (bundled default rules) as the negation test."""
    try:
        import medspacy
        from spacy.tokens import Span
    except ImportError as exc:
        raise SystemExit("--negation context needs medspacy (pip install medspacy); "
                         f"import failed: {exc}") from exc
    nlp = medspacy.load(medspacy_enable=["medspacy_pyrush", "medspacy_context"])
    rush = nlp.get_pipe("medspacy_pyrush")
    context = nlp.get_pipe("medspacy_context")

    def negate(text: str, start: int, end: int) -> Polarity:
        doc = rush(nlp.make_doc(text))
        span = doc.char_span(start, end, label="TERM", alignment_mode="expand")
        if span is None:
            return "affirmed"
        doc.ents = (Span(doc, span.start, span.end, label="TERM"),)
        doc = context(doc)
        ent = doc.ents[0]
        return "negated" if ent._.is_negated else "affirmed"

    return negate


def run(negation: str = "rules", text: bool = True, only: str = "all") -> dict[str, Any]:
    """Screen every labelled pair (``only="snapshot"``: studies of the bundled snapshot);
    return the figures."""
    doc = yaml.safe_load((DATA / "labels.yaml").read_text(encoding="utf-8"))
    doc["labels"] = all_labels(doc, only)
    patients = {pid: patient_profile(pid, f) for pid, f in doc["patients"].items()}
    trials = {k: v for k, v in labelled_trials(text).items() if k in doc["labels"]}
    negator = context_negator() if negation == "context" else None
    confusion: Counter[tuple[str, str]] = Counter()
    facet_hits = facet_total = 0
    wrong: list[str] = []
    started = time.perf_counter()
    for nct, row in doc["labels"].items():
        for pid, entry in row.items():
            label, why = entry[0], entry[1]
            m = screen_trial(trials[nct], patients[pid], check_status=False, negator=negator)
            confusion[(label, m.verdict)] += 1
            if (label, m.verdict) in (("excluded", "possible"), ("eligible", "excluded")):
                wrong.append(f"{label}->{m.verdict} {nct} {pid}: {why}")
            if label == "excluded" and len(entry) > 2:
                facet_total += 1
                failed = {c.criterion for c in m.failed}
                facet_hits += any(entry[2] in f for f in failed)
    elapsed = time.perf_counter() - started
    n = sum(confusion.values())
    agree = (confusion[("eligible", "possible")] + confusion[("excluded", "excluded")]
             + confusion[("unclear", "check")])
    possible = sum(confusion[(lab, "possible")] for lab in LABELS)
    excluded = sum(confusion[("excluded", v)] for v in VERDICTS)
    eligible = sum(confusion[("eligible", v)] for v in VERDICTS)
    return {
        "pairs": n, "studies": len(trials), "patients": len(patients),
        "confusion": confusion, "accuracy": agree / n,
        "precision_possible": (confusion[("eligible", "possible")] / possible
                               if possible else None),
        "possible": possible,
        "excluded_called_possible": (confusion[("excluded", "possible")] / excluded
                                     if excluded else 0.0),
        "eligible_called_excluded": (confusion[("eligible", "excluded")] / eligible
                                     if eligible else 0.0),
        "criterion_agreement": facet_hits / facet_total if facet_total else None,
        "criterion_pairs": facet_total,
        "seconds": elapsed, "wrong": wrong,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--negation", choices=("rules", "context"), default="rules")
    ap.add_argument("--text", choices=("on", "off"), default="on",
                    help="off: registration only (no criteria text, no exact ages)")
    ap.add_argument("--only", choices=("all", "dev", "holdout", "holdout2", "snapshot"),
                    default="all",
                    help="dev: the 16 studies labelled first; holdout / holdout2: labelled "
                         "before the reader was run on them; snapshot: the bundled snapshot's")
    args = ap.parse_args()
    r = run(args.negation, args.text == "on", args.only)
    print(f"{r['pairs']} pairs ({r['studies']} studies x {r['patients']} patients), "
          f"negation={args.negation}, text={args.text}, only={args.only}, "
          f"{r['seconds']:.2f} s")
    print("label \\ verdict   " + "".join(f"{v:>10}" for v in VERDICTS))
    for lab in LABELS:
        print(f"{lab:<17}" + "".join(f"{r['confusion'][(lab, v)]:>10}" for v in VERDICTS))
    pp = r["precision_possible"]
    print(f"accuracy                      {r['accuracy']:.1%}")
    print(f"precision of 'possible'       "
          f"{'n/a' if pp is None else format(pp, '.1%')} of {r['possible']}")
    print(f"excluded pairs called possible {r['excluded_called_possible']:.1%} (goal <= 3 %)")
    print(f"eligible pairs called excluded {r['eligible_called_excluded']:.1%} (goal <= 2 %)")
    ca = r["criterion_agreement"]
    print(f"criterion-level agreement      "
          f"{'n/a' if ca is None else format(ca, '.1%')} of {r['criterion_pairs']} excluded pairs")
    for w in r["wrong"]:
        print("  ", w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
