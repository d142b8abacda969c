"""Time of one FHIR Bundle import (not a test): ``read_bundle`` on a 1,000-entry Bundle.

The Bundle is built here from the official mCODE paediatric B-ALL example
(tests/fhir/data/mcode_pediatric_all_bundle.json): its Patient and resources, then a year of
blood counts (WBC, haemoglobin, platelets, ANC; LOINC-coded, UCUM units, clock times),
MRD results, chemotherapy orders and administrations with a phase category, and some
observations ALLPath does not read, until the Bundle holds 1,000 entries. A second Bundle
repeats the largest Synthea record of ../shared/data/fhir/synthea (Claims, Encounters,
ExplanationOfBenefit, vital signs: what an EHR export looks like) up to 1,000 entries.
Reports the median and worst of ``--repeat`` imports of each after one warm-up (catalogue
and vocabulary cached), and with ``--profile`` the top functions by cumulative time.

    .venv/bin/python benchmarks/fhir_import.py [--entries 1000] [--repeat 7] [--profile]
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import datetime as dt
import json
import pstats
import statistics
import time
from pathlib import Path
from typing import Any

from allpath.interop.fhir import read_bundle

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fhir" / "data" / "mcode_pediatric_all_bundle.json"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
# (LOINC, display, value, UCUM unit) of one blood count; values vary a little per day.
COUNTS = (
    ("6690-2", "WBC", 4.2, "10*9/L"),
    ("718-7", "Hemoglobin", 10.5, "g/dL"),
    ("777-3", "Platelets", 180.0, "10*9/L"),
    ("751-8", "Neutrophils", 1.4, "10*9/L"),
)


def _obs(i: int, subject: str, code: str, display: str, value: float, unit: str,
         when: dt.datetime) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:bench-obs-{i}", "resource": {
        "resourceType": "Observation", "id": f"bench-obs-{i}", "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                  "observation-category", "code": "laboratory"}]}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
        "subject": {"reference": subject},
        "effectiveDateTime": when.isoformat(timespec="seconds") + "+01:00",
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}}


def bundle(entries: int = 1000) -> dict[str, Any]:
    """A Bundle of ``entries`` entries around the official mCODE paediatric example."""
    doc: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    patient = next(e for e in doc["entry"] if e["resource"]["resourceType"] == "Patient")
    subject = f"Patient/{patient['resource']['id']}"
    out = copy.deepcopy(doc)
    start = dt.datetime(2024, 1, 10, 8, 30)
    i = 0
    while len(out["entry"]) < entries:
        day, slot = divmod(i, 6)
        when = start + dt.timedelta(days=2 * day, minutes=7 * slot)
        if slot < 4:
            code, display, value, unit = COUNTS[slot]
            e = _obs(i, subject, code, display, round(value * (1 + (day % 5) / 20), 2),
                     unit, when)
        elif slot == 4:
            e = {"fullUrl": f"urn:uuid:bench-med-{i}", "resource": {
                "resourceType": "MedicationAdministration", "id": f"bench-med-{i}",
                "status": "completed",
                "category": {"text": "maintenance" if day > 120 else "consolidation"},
                "medicationCodeableConcept": {"coding": [
                    {"system": RXNORM, "code": "103", "display": "mercaptopurine"}]},
                "subject": {"reference": subject},
                "effectiveDateTime": when.isoformat(timespec="seconds")}}
        else:
            e = _obs(i, subject, "8302-2", "Body height", 95.0 + day / 50, "cm", when)
            e["resource"]["code"]["coding"][0]["code"] = "39156-5"  # BMI: not read
            e["resource"]["valueQuantity"] = {"value": 16.1, "unit": "kg/m2",
                                              "system": UCUM, "code": "kg/m2"}
        out["entry"].append(e)
        i += 1
    return out


def synthea_bundle(entries: int = 1000) -> dict[str, Any] | None:
    """The largest shared Synthea Bundle, its non-Patient entries repeated to ``entries``."""
    files = sorted((REPO.parent / "shared" / "data" / "fhir" / "synthea").glob("*.json"),
                   key=lambda f: f.stat().st_size)
    if not files:
        return None
    doc: dict[str, Any] = json.loads(files[-1].read_text(encoding="utf-8"))
    others = [e for e in doc["entry"] if e["resource"]["resourceType"] != "Patient"]
    out = copy.deepcopy(doc)
    while len(out["entry"]) < entries:
        out["entry"].extend(copy.deepcopy(others[: entries - len(out["entry"])]))
    return out


def _run(name: str, doc: dict[str, Any], repeat: int, profile: bool) -> None:
    text = json.dumps(doc)
    read_bundle(json.loads(text))  # warm-up: catalogue, vocabulary, models
    lat = []
    for _ in range(repeat):
        fresh = json.loads(text)
        t0 = time.perf_counter()
        imp = read_bundle(fresh)
        lat.append(time.perf_counter() - t0)
    print(f"{name}: FHIR Bundle import, {len(doc['entry'])} entries -> "
          f"{len(imp.patient.observations)} observations, "
          f"{len(imp.patient.treatment)} treatment events, {len(imp.warnings)} warnings")
    print(f"  median {statistics.median(lat):.3f} s, worst {max(lat):.3f} s "
          f"({repeat} runs; goal < 1 s)")
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        read_bundle(json.loads(text))
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    _run("mCODE-based", bundle(args.entries), args.repeat, args.profile)
    syn = synthea_bundle(args.entries)
    if syn is None:
        print("note: ../shared/data/fhir/synthea not found; Synthea Bundle left out")
    else:
        _run("Synthea-based", syn, args.repeat, args.profile)

if __name__ == "__main__":
    main()
