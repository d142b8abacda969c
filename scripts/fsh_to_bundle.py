"""Translate mCODE FSH example instances into a FHIR R4 JSON collection Bundle.

Usage::

    python scripts/fsh_to_bundle.py SHARED/data/fhir/mcode-ig-fsh \\
        EX_ExtendedExample_Pediatric.fsh tests/fhir/data/mcode_pediatric_all_bundle.json

A small reader for the subset of FSH the mCODE example files use (``* path = value`` rules
with codes ``SYS#code "display"``, quantities ``1.0 'unit' "display"``, strings, numbers,
dates and ``Reference(...)``), not a SUSHI replacement. What SUSHI takes from the profiles
(``InstanceOf``) is added from the table ``PROFILES`` below: the resource type, the profile
URL and the fixed ``code`` of the profile (taken from the mCODE FSH sources beside the
examples). Slices used in the examples are resolved by ``SLICES``. Every resource is
checked with the ``fhir.resources`` R4B models before the Bundle is written.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from allpath.interop.fhir.release import validate_resource

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition"
USCORE = "http://hl7.org/fhir/us/core/StructureDefinition"
LNC = "http://loinc.org"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"

# InstanceOf -> (resourceType, profile URL or None, fixed code (system, code, display) or None)
PROFILES: dict[str, tuple[str, str | None, tuple[str, str, str] | None]] = {
    "CancerPatient": ("Patient", f"{MCODE}/mcode-cancer-patient", None),
    "USCoreCondition": ("Condition",
                        f"{USCORE}/us-core-condition-problems-health-concerns", None),
    "FamilyMemberHistory": ("FamilyMemberHistory", None, None),
    "USCoreObservationLab": ("Observation", f"{USCORE}/us-core-observation-lab", None),
    "USCoreDiagnosticReportLab": ("DiagnosticReport", f"{USCORE}/us-core-diagnosticreport-lab",
                                  None),
    "USCoreProcedure": ("Procedure", f"{USCORE}/us-core-procedure", None),
    "PrimaryCancerCondition": ("Condition", f"{MCODE}/mcode-primary-cancer-condition", None),
    "LanskyPlayPerformanceStatus": ("Observation",
                                    f"{MCODE}/mcode-lansky-play-performance-status",
                                    (NCIT, "C38144", "Lansky Play-Performance Status")),
    "CancerRelatedMedicationRequest": ("MedicationRequest",
                                       f"{MCODE}/mcode-cancer-related-medication-request", None),
    "CancerRelatedMedicationAdministration": (
        "MedicationAdministration", f"{MCODE}/mcode-cancer-related-medication-administration",
        None),
    "GenomicVariant": ("Observation", f"{MCODE}/mcode-genomic-variant",
                       (LNC, "69548-6", "Genetic variant assessment")),
    "CancerDiseaseStatus": ("Observation", f"{MCODE}/mcode-cancer-disease-status",
                            (LNC, "97509-4", "Cancer Disease Progression")),
    "BodySurfaceArea": ("Observation", f"{MCODE}/mcode-body-surface-area",
                        (LNC, "8277-6", "Body surface area")),
    "ALLRiskAssessment": ("Observation", f"{MCODE}/mcode-ALL-risk-assessment",
                          (NCIT, "C167435", "Leukemia Finding")),
}

# Slice name -> what the slice fixes: an extension url, or a component code.
SLICES: dict[str, dict[str, Any]] = {
    "USCoreRace": {"url": f"{USCORE}/us-core-race"},
    "USCoreEthnicity": {"url": f"{USCORE}/us-core-ethnicity"},
    "USCoreBirthSex": {"url": f"{USCORE}/us-core-birthsex"},
    "ombCategory": {"url": "ombCategory"},
    "text": {"url": "text"},
    "treatmentIntent": {"url": f"{MCODE}/mcode-procedure-intent"},
    "normalizationBasis": {"url": f"{MCODE}/mcode-normalization-basis"},
    "evidenceType": {"url": f"{MCODE}/mcode-cancer-disease-status-evidence-type"},
    "gene-studied": {"code": {"coding": [{"system": LNC, "code": "48018-6",
                                          "display": "Gene studied [ID]"}]}},
    "coding-change-type": {"code": {"coding": [{"system": LNC, "code": "48019-4",
                                                "display": "DNA change type"}]}},
    "genomic-source-class": {"code": {"coding": [{"system": LNC, "code": "48002-0",
                                                  "display": "Genomic source class"}]}},
}

# Elements that are arrays in FHIR R4 (for the resources of the examples), by name; a few
# names are arrays in one resource and single in another.
LISTS = {
    "identifier", "name", "given", "address", "line", "contact", "telecom", "communication",
    "extension", "component", "referenceRange", "interpretation", "performer", "partOf",
    "result", "reasonReference", "note", "dosageInstruction", "doseAndRate", "coding",
    "category", "condition", "focus",
}
SINGLE = {("MedicationAdministration", "category"), ("MedicationAdministration", "dosage")}
PRIMITIVE_CODES = {"status", "gender", "use", "system", "intent", "valueCode"}

_SEG = re.compile(r"^([A-Za-z][A-Za-z0-9]*)((?:\[[^\]]+\])*)$")


def _aliases(folder: Path) -> dict[str, str]:
    out = {}
    for f in sorted(folder.glob("AL_*.fsh")):
        for m in re.finditer(r"^Alias:\s*(\S+)\s*=\s*(\S+)", f.read_text(), re.M):
            out[m.group(1)] = m.group(2).split("|")[0]
    return out


def _value(text: str, last: str, aliases: dict[str, str], types: dict[str, str]) -> Any:
    text = text.split(" //")[0].strip()
    m = re.fullmatch(r"Reference\(([^)]+)\)", text)
    if m:
        target = m.group(1).strip()
        rt = types.get(target, "Practitioner")
        return {"reference": f"{rt}/{target}"}
    m = re.fullmatch(r"([0-9.\-]+)\s+'([^']*)'(?:\s+\"([^\"]*)\")?", text)
    if m:
        num = float(m.group(1))
        return {"value": int(num) if num.is_integer() and "." not in m.group(1) else num,
                "unit": m.group(3) or m.group(2), "system": "http://unitsofmeasure.org",
                "code": m.group(2)}
    m = re.fullmatch(r"(\S*)#(\S+)(?:\s+\"([^\"]*)\")?", text)
    if m:
        system = aliases.get(m.group(1), m.group(1))
        code, display = m.group(2), m.group(3)
        if not system or last in PRIMITIVE_CODES:
            return code
        coding = {"system": system, "code": code, **({"display": display} if display else {})}
        if last == "coding" or last.startswith("valueCoding"):
            return coding
        return {"coding": [coding]}
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    if text in ("true", "false"):
        return text == "true"
    return text  # bare dates such as 2024-01-06


def _set(node: dict[str, Any], rt: str, path: str, value: Any) -> None:
    segs = path.split(".")
    for n, seg in enumerate(segs):
        m = _SEG.match(seg)
        if m is None:
            raise ValueError(f"cannot read path {path!r}")
        name = m.group(1)
        brackets = re.findall(r"\[([^\]]+)\]", m.group(2))
        slice_name = next((b for b in brackets if not b.isdigit()), None)
        index = int(next((b for b in brackets if b.isdigit()), "0"))
        last = n == len(segs) - 1
        is_list = name in LISTS and (rt, name) not in SINGLE
        if not is_list:
            if last:
                node[name] = value
                return
            node = node.setdefault(name, {})
            continue
        items = node.setdefault(name, {})  # (slice, index) -> element, list made at the end
        key = (slice_name, index)
        if last:
            if isinstance(value, dict) and key in items and isinstance(items[key], dict):
                items[key].update(value)
            else:
                items[key] = value
            if slice_name and isinstance(items[key], dict):
                for k, v in SLICES[slice_name].items():
                    items[key].setdefault(k, v)
            return
        if key not in items:
            items[key] = dict(SLICES.get(slice_name, {})) if slice_name else {}
        node = items[key]


def _finish(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(isinstance(k, tuple) for k in node):
            return [_finish(v) for v in node.values()]
        return {k: _finish(v) for k, v in node.items()}
    return node


def read_instances(fsh: Path, aliases: dict[str, str]) -> list[dict[str, Any]]:
    blocks = re.split(r"^(?=Instance:)", fsh.read_text(encoding="utf-8"), flags=re.M)
    heads = []
    for block in blocks:
        m = re.match(r"Instance:\s*(\S+)\s*\nInstanceOf:\s*(\S+)", block)
        if m:
            heads.append((m.group(1), m.group(2), block))
    types = {name: PROFILES[of][0] for name, of, _ in heads}
    out = []
    for name, of, block in heads:
        rt, profile, fixed = PROFILES[of]
        res: dict[str, Any] = {"resourceType": rt, "id": name}
        if profile:
            res["meta"] = {"profile": [profile]}
        if fixed:
            res["code"] = {"coding": [{"system": fixed[0], "code": fixed[1],
                                       "display": fixed[2]}]}
        desc = re.search(r'^Description:\s*"(.*)"', block, re.M)
        for line in block.splitlines():
            m = re.match(r"^\*\s+(\S+)\s*=\s*(.+)$", line.strip())
            if not m or m.group(1).startswith("^"):
                continue
            path = m.group(1)
            last = re.sub(r"\[.*", "", path.split(".")[-1])
            _set(res, rt, path, _value(m.group(2), last, aliases, types))
        res = _finish(res)
        validate_resource(res)
        out.append((res, desc.group(1) if desc else None))
    return [r for r, _ in out]


def main(argv: list[str]) -> int:
    folder, name, target = Path(argv[1]), argv[2], Path(argv[3])
    aliases = _aliases(folder)
    resources = read_instances(folder / name, aliases)
    bundle = {
        "resourceType": "Bundle",
        "id": Path(name).stem.replace("_", "-").lower()[:64],
        "type": "collection",
        "entry": [{"fullUrl": f"http://example.org/fhir/{r['resourceType']}/{r['id']}",
                   "resource": r} for r in resources],
    }
    validate_resource(bundle)
    target.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(resources)} resources -> {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
