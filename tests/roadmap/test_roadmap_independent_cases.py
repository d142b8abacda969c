"""Every case of ``independent_cases.yaml`` (written from the sources by an independent reviewer
who did not read ALLPath): each case becomes a record, goes through ``assess`` and
``build_roadmap``, and every expectation is one test item - the template, the BSA, each dose
line (amount and protocol days), intrathecal doses by age on each lumbar-puncture day, the
phases, the transplant indication, the therapy length, the cumulative anthracycline and each
"must not". Where ALLPath knowingly follows another source than the reviewer, the item is a
strict xfail whose reason cites that source (``KNOWN``), so it fails loudly once it passes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from allpath.pipeline import assess
from allpath.record.load import parse_record
from allpath.roadmap import build_roadmap
from allpath.roadmap.build import Roadmap
from support import load_yaml

CASES_FILE = Path(__file__).with_name("independent_cases.yaml")
DOC = load_yaml(CASES_FILE.read_text(encoding="utf-8"))
CASES: dict[str, dict[str, Any]] = {c["id"]: c for c in DOC["cases"]}

#: The reviewer names regimens in words; this is the ALLPath template each name denotes.
TEMPLATE_OF = {
    "sr-average-girl-4y": "cog-b-sr",
    "sr-favourable-boy-5y": "cog-b-sr",
    "sr-cns3-to-high-risk-6y": "cog-b-hr",
    "sr-testicular-to-high-risk-7y": "cog-b-hr",
    "hr-girl-12y-prednisone": "cog-b-hr",
    "hr-boy-7y-wbc-dexamethasone": "cog-b-hr",
    "hr-age-boundary-exactly-10": "cog-b-hr",
    "hr-hdmtx-leucovorin-14y": "cog-b-hr",
    "vincristine-cap-16y": "cog-b-hr",
    "it-dose-child-turns-9-between-lps": "cog-b-sr",
    "tall-boy-12y-nelarabine": "cog-t-all",
    "ph-pos-child-8y-standard-risk-no-hsct": "ph-pos-paediatric",
    "ph-pos-child-14y-high-risk-hsct": "ph-pos-paediatric",
    "ph-pos-adult-55-mrd-negative": "ph-pos-tki-chemo-adult",
    "ph-pos-adult-48-mrd-positive": "ph-pos-tki-chemo-adult",
    "aya-calgb-woman-24": "calgb-10403",
    "aya-calgb-man-30": "calgb-10403",
    "adult-hypercvad-45-t-all": "adult-hyper-cvad",
    "adult-hypercvad-65-t-all": "adult-hyper-cvad",
    "adult-hypercvad-rituximab-cd20": "adult-hyper-cvad",
    "adult-ph-neg-b-50-blinatumomab-consolidation": "adult-ph-neg-b-blinatumomab",
    "adult-relapsed-blinatumomab-80kg": "rr-blinatumomab",
    "adult-relapsed-blinatumomab-40kg": "rr-blinatumomab",
    "child-relapsed-blinatumomab-8y": "rr-blinatumomab",
    "infant-4-months-kmt2a-high-risk": "interfant",
    "infant-9-months-kmt2a-germline": "interfant",
    "down-syndrome-sr-3y": "cog-b-sr",
    "vial-window-hr-girl-15y-vincristine-capped": "cog-b-hr",
    "vial-window-sr-boy-4y-oral-none": "cog-b-sr",
    "vial-window-peg-by-weight-13-months": "cog-b-sr",
    "vial-window-tall-boy-12y-consolidation": "cog-t-all",
    "dalba-woman-55-ph-pos": "ph-pos-dalba",
    "dalba-woman-72-under-45kg": "ph-pos-dalba",
    "ph-pos-child-10y-imatinib": "ph-pos-paediatric",
    "recheck-blinatumomab-relapsed-adult-70kg": "rr-blinatumomab",
    "recheck-blinatumomab-relapsed-child-30kg": "rr-blinatumomab",
    "recheck-hypercvad-62-t-all": "adult-hyper-cvad",
}
#: An infant's roadmap continues on the standard-risk template after a KMT2A-germline exit
#: (and any per-m2 drug the Interfant template leaves "per protocol" is checked there).
REACHES = {"interfant": ("cog-b-sr",)}

_INTERFANT = ("Interfant-06 induction doses are not in any source ALLPath could read (re-searched "
              "2026-12-07; the reviewer gives them from recollection, medium/low confidence); "
              "the interfant template keeps them 'per protocol', flagged unconfirmed, and names "
              "the Interfant-06 protocol for the pharmacist [S47][S47b] (case allpath_note)")
KNOWN: dict[str, str] = {
    # key: item id; value: why ALLPath differs, with its source
    "infant-4-months-kmt2a-high-risk/dose0-prednisone": _INTERFANT,
    "infant-4-months-kmt2a-high-risk/dose1-dexamethasone": _INTERFANT,
    "infant-4-months-kmt2a-high-risk/dose2-vincristine": _INTERFANT,
    "infant-4-months-kmt2a-high-risk/dose3-daunorubicin": _INTERFANT,
    "infant-4-months-kmt2a-high-risk/phases":
        "allo-HSCT is a decision of the interfant template (to the hsct template), not one of "
        "its phases [S1][S47]; the other phases (induction, IB, MARMA, OCTADAD, maintenance) "
        "follow the Interfant-06 report [S47b]",
    "infant-9-months-kmt2a-germline/dose0-prednisone": _INTERFANT,
    "infant-9-months-kmt2a-germline/dose1-dexamethasone": _INTERFANT,
    "infant-9-months-kmt2a-germline/dose2-vincristine": _INTERFANT,
    "ph-pos-child-8y-standard-risk-no-hsct/dose2-vincristine":
        "the EsPhALL chemotherapy backbone doses are not in any readable source (re-searched "
        "2026-12-07); the template gives the TKI doses (CA180-372) and leaves the backbone per "
        "protocol [S1] (case allpath_note)",
    "ph-pos-child-8y-standard-risk-no-hsct/phases":
        "EsPhALL block names (IA, IB, HR blocks) were not in the sources read; ALLPath shows "
        "NCCN phases (induction, consolidation, maintenance) [S1]",
    "aya-calgb-woman-24/dose3-pegaspargase":
        "ALLPath applies the Oncaspar US label above 21 years (2,000 U/m2) [ONCASPAR-USPI]; "
        "CALGB 10403 gave 2,500 U/m2 - the reviewer's own disagreement note (confidence low)",
    "aya-calgb-woman-24/dose7-pegaspargase":
        "label dose above 21 years, 2,000 U/m2 [ONCASPAR-USPI] (reviewer: confidence low)",
    "aya-calgb-man-30/dose3-pegaspargase":
        "label dose above 21 years, 2,000 U/m2 [ONCASPAR-USPI] (reviewer: confidence low)",
    "aya-calgb-woman-24/phases":
        "CALGB 10403's extended induction (only if not in CR at day 29) is not in any readable "
        "source (re-searched 2026-12-07); ALLPath routes less than CR to the refractory "
        "pathway [S1] (case allpath_note)",
    "sr-testicular-to-high-risk-7y/therapy_length":
        "cog-b-hr takes its length from AALL1732: 2 years after consolidation for both "
        "sexes [S7]; the reviewer's disagreement names this rule",
    "hr-boy-7y-wbc-dexamethasone/therapy_length":
        "cog-b-hr takes its length from AALL1732: 2 years after consolidation for both "
        "sexes [S7]; the reviewer's disagreement names this rule",
    "adult-hypercvad-45-t-all/dose2-vincristine":
        "days 1 and 11 of the modified hyper-CVAD table [THOMAS2010-HCVAD]; the reviewer "
        "gives days 4 and 11 first (Kantarjian 2000) and notes the modified days (medium)",
    "adult-hypercvad-65-t-all/dose4-vincristine":
        "days 1 and 11 of the modified hyper-CVAD table [THOMAS2010-HCVAD] (days 4 and 11 in "
        "Kantarjian 2000); the reviewer's hyper-CVAD case notes the disagreement",
    # second batch (2026-12-07), before the template fixes of issue 19
    "dalba-woman-55-ph-pos/dose6-prednisone":
        "no readable source gives the D-ALBA prednisone dose from induction day 1 (EHA 2019 "
        "S1617 and ASH 2019 abstract 740 give only its length: 24 days after the 7-day "
        "pre-phase, stopped at day 31; re-searched 2026-12-07); the reviewer's 60 mg/m2/day is "
        "from memory (confidence low), so ALLPath keeps it per protocol, days 1-31, and names "
        "Foa et al., NEJM 2020 [DALBA-EHA2019-S1617][DALBA-ASH2019-740][S28]",
}


# ------------------------------------------------------------------ records from cases
def _d(v: object) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))


def _minus_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 - months, 12)
    return dt.date(d.year + y, m + 1, min(d.day, 28))


def record_of(case: dict[str, Any]) -> dict[str, Any]:
    p = case["patient"]
    if "start_date" in p:
        start = _d(p["start_date"])
        dx = start - dt.timedelta(days=1)
    elif "diagnosis_date" in p:
        dx = _d(p["diagnosis_date"])
        start = dx + dt.timedelta(days=1)
    else:
        dx = dt.date(2026, 1, 5)
        start = dx + dt.timedelta(days=1)
    if "birth_date" in p:
        birth = _d(p["birth_date"])
    elif "age_months" in p:
        birth = _minus_months(dx, int(p["age_months"]))
    else:
        birth = dx - dt.timedelta(days=round(float(p["age_years"]) * 365.2425) + 10)
    pre = dx - dt.timedelta(days=1)
    obs: list[dict[str, Any]] = [
        {"code": "wbc", "value": p.get("wbc_per_uL") or 10000, "unit": "/uL", "time": pre},
        {"code": "height", "value": p["height_cm"], "unit": "cm", "time": pre},
        {"code": "weight", "value": p["weight_kg"], "unit": "kg", "time": pre},
        {"code": "marrow_blasts", "value": 90, "unit": "%", "time": dx},
    ]
    if p.get("cns") == "CNS3":
        obs += [{"code": "csf_wbc", "value": 12, "unit": "/uL", "time": dx},
                {"code": "csf_rbc", "value": 0, "unit": "/uL", "time": dx},
                {"code": "csf_blasts", "value": "present", "time": dx}]
    else:
        obs += [{"code": "csf_wbc", "value": 1, "unit": "/uL", "time": dx},
                {"code": "csf_rbc", "value": 0, "unit": "/uL", "time": dx},
                {"code": "csf_blasts", "value": "absent", "time": dx}]
    if p.get("mrd_eoi") is not None:
        obs.append({"code": "mrd_marrow", "value": p["mrd_eoi"], "unit": "%", "method": "flow",
                    "time": dx + dt.timedelta(days=29)})
    if p.get("mrd_eoc") is not None:
        obs.append({"code": "mrd_marrow", "value": p["mrd_eoc"], "unit": "%", "method": "flow",
                    "time": dx + dt.timedelta(days=85)})
    if p["lineage"] == "T":
        markers = {"cCD3": "positive", "CD7": "positive", "CD19": "negative",
                   "MPO": "negative", "CD34": "positive"}
    else:
        markers = {"CD19": "positive", "CD10": "positive", "cCD79a": "positive",
                   "cCD3": "negative", "MPO": "negative", "CD22": "positive"}
        if p.get("cd20_percent") is not None:
            markers["CD20"] = "positive" if p["cd20_percent"] >= 20 else "negative"
    fusions: list[str] = []
    if p.get("ph") == "positive":
        fusions.append("BCR::ABL1")
    if p.get("genetics") == "ETV6::RUNX1":
        fusions.append("ETV6::RUNX1")
    if p.get("kmt2a") == "rearranged":
        fusions.append("KMT2A::AFF1")
    doc: dict[str, Any] = {
        "format": "allpath.record/1", "id": case["id"], "sex": p["sex"],
        "birth_date": birth, "diagnosis_date": dx,
        "conditions": ["down_syndrome"] if p.get("down_syndrome") else [],
        "observations": obs,
        "immunophenotype": {"time": dx, "markers": markers},
        "genetics": {"time": dx, "chromosome_count": 46, "fusions": fusions, "alterations": []},
        "extramedullary": {"mediastinal_mass": False, "cns_clinical_signs": False},
        "treatment": [{"phase": "induction", "start": start}],
    }
    if p["sex"] == "male":
        doc["extramedullary"]["testicular"] = bool(p.get("testicular"))
    return doc


@cache
def roadmap(case_id: str, template: str | None = None) -> Roadmap:
    case = CASES[case_id]
    p = case["patient"]
    a = assess(parse_record(record_of(case)))
    setting = "relapsed" if p.get("relapsed") else "frontline"
    if template is None and p.get("requested_template"):
        template = TEMPLATE_OF[case_id]
    return build_roadmap(a, setting=setting, template=template)  # type: ignore[arg-type]


@cache
def rdict(case_id: str, template: str | None = None) -> dict[str, Any]:
    return roadmap(case_id, template).to_dict()


# ------------------------------------------------------------------ resolving the reviewer's words
def phase_id(tpl: str, text: str) -> str | None:
    t = text.lower()
    if "only if" in t:  # a conditional phase is not a calendar phase
        return None
    if tpl == "adult-hyper-cvad":
        if "pomp" in t or "maintenance" in t:
            return "maintenance"
        if "course b" in t:
            return "course-1b"
        if "course a" in t or "each course" in t or "courses 1-4" in t:
            return "course-1a"
        m = re.match(r"course (\d) ([ab])", t)
        if m:
            n = int(m.group(1))
            return f"course-{(n + 1) // 2}{m.group(2)}"
    if tpl == "rr-blinatumomab":
        for key, pid in (("cycles 3-5", "consolidation"), ("consolidation cycles", "consolidation"),
                         ("cycles 6-9", "continued"), ("continued therapy", "continued"),
                         ("cycle 2", "blinatumomab-2"), ("cycle 1", "blinatumomab-1"),
                         ("each cycle", "blinatumomab-1")):
            if key in t:
                return pid
    if tpl == "adult-ph-neg-b-blinatumomab":
        if "blinatumomab" in t or "consolidation cycle" in t:
            return "blinatumomab-1"
        if "maintenance" in t:
            return "maintenance"
        if t.startswith("induction"):
            return "induction"
        if t.startswith("intensification"):
            return "intensification"
        return None
    if tpl == "ph-pos-tki-chemo-adult" and ("after mrd-negative" in t or "consolidation" in t):
        return "consolidation"
    if tpl == "ph-pos-paediatric":
        if "maintenance" in t:
            return "maintenance"
        if t.startswith("induction ib") or "consolidation" in t:
            return "consolidation"
        if t.startswith("induction") or "continuous" in t or "from induction" in t \
                or t == "same":
            return "induction"
        return None
    if tpl == "ph-pos-dalba":
        if "prophase" in t:
            return "prophase"
        m = re.search(r"blinatumomab cycle (\d)", t)
        if m:
            return f"blinatumomab-{m.group(1)}"
        if t.startswith("induction"):
            return "induction"
        return None
    if tpl == "interfant":
        for key in ("marma", "octadad", "maintenance", "consolidation", "induction"):
            if t.startswith(key) or (key == "induction" and "prephase" in t):
                return key
        return None
    if "interim maintenance 2" in t:
        return "interim_maintenance_2"
    if "interim maintenance" in t:
        return "interim_maintenance"
    if "delayed intensification" in t:
        return "delayed_intensification"
    if "consolidation" in t or "each of 6 courses" in t:
        return "consolidation"
    if "maintenance" in t:
        return "maintenance"
    if "induction" in t:
        return "induction"
    return None


def days_of(text: object) -> list[int]:
    """Protocol days written by the reviewer: "1,8,15,22", "1-4,8-11", "8 (2026-02-24)"."""
    s = str(text).split("(")[0].replace(" ", "")
    if not re.fullmatch(r"[\d,\-]+", s or "x"):
        return []
    out: list[int] = []
    for part in s.split(","):
        if "-" in part:
            a, b = part.split("-")
            out += list(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def _name(drug: str) -> str:
    d = drug.lower()
    for key, name in (("dexamethasone premedication", "dexamethasone (premedication)"),
                      ("dasatinib", "dasatinib"), ("imatinib", "imatinib (alternative)")):
        if key in d:
            return name
    return d.split(" ")[0]


def components(d: dict[str, Any], pid: str, drug: str) -> list[dict[str, Any]]:
    phase = next((p for p in d["phases"] if p["id"] == pid), None)
    if phase is None:
        return []
    name, low = _name(drug), drug.lower()
    out = [c for c in phase["components"] if c["drug"] == name]
    if "oral" in low:
        out = [c for c in out if c["route"] == "PO"]
    elif " iv" in low or "high dose" in low:
        out = [c for c in out if c["route"] in ("IV", "CIV")]
    if "high dose" in low:
        out = [c for c in out if c["dose"]["unit"] == "g"]
    return out


_TO_MG = {"mg": 1.0, "g": 1000.0, "ug": 1.0, "U": 1.0}


def _amount(c: dict[str, Any]) -> float | None:
    calc = c["dose"]["calculated"]
    return None if calc is None else calc * _TO_MG[c["dose"]["unit"]]


# ------------------------------------------------------------------ one item per expectation
Check = Callable[[], None]


def _template_check(cid: str) -> Check:
    def run() -> None:
        case = CASES[cid]
        d = rdict(cid)
        want = TEMPLATE_OF[cid]
        assert d["template"]["id"] == want, (d["template"]["id"], case["expect"]["template"])
        if case["patient"].get("requested_template"):
            assert want in d["alternatives"] or d["selection"]["value"] == want
        bsa = case["expect"].get("bsa_m2")
        if bsa is not None:
            assert d["body_size"]["bsa_m2"] == pytest.approx(float(bsa), abs=6e-4)
    return run


def _it_check(cid: str, tpl: str, pid: str, drug: str, days: list[int], alt: bool,
              dose: float) -> Check:
    def run() -> None:
        d = rdict(cid, None if tpl == TEMPLATE_OF[cid] else tpl)
        phase = next(p for p in d["phases"] if p["id"] == pid)
        got: dict[int, float | None] = {}
        for r in phase["procedures"]:
            if drug not in r["intrathecal"]:
                continue
            for it in r["intrathecal_doses"]:
                for x in it["doses"]:
                    if x["drug"] == drug:
                        got[it["day"]] = x.get("dose_mg")
        assert days, "no lumbar-puncture day to check"
        hit = [dd for dd in days if dd in got]
        if alt:
            assert hit, f"none of days {days} has intrathecal {drug}: {sorted(got)}"
        else:
            assert hit == days, f"intrathecal {drug} days {sorted(got)}, expected {days}"
        for dd in hit:
            assert got[dd] == pytest.approx(dose), (dd, got[dd], dose)
    return run


def _dose_check(cid: str, tpl: str, line: dict[str, Any], at: str | None = None) -> Check:
    def run() -> None:
        drug = str(line["drug"])
        pid = at or phase_id(tpl, str(line["phase"]))
        assert pid is not None, f"phase {line['phase']!r} has no counterpart in {tpl}"
        d = rdict(cid, None if tpl == TEMPLATE_OF[cid] else tpl)
        comps = components(d, pid, drug)
        assert comps, f"{drug} is not in {tpl}/{pid}"
        want_days = days_of(line.get("days", ""))
        if want_days and len(comps) > 1:
            same = [c for c in comps if set(want_days) <= set(c["days"])]
            comps = same or comps
        union_days = sorted({dd for c in comps for dd in c["days"]})
        if "capizzi" in drug.lower() or "first dose" in str(line.get("unit", "")):
            comps = [min(comps, key=lambda c: min(c["days"] or [0]))]
            if "capizzi" in drug.lower():  # the escalating doses together give the days
                assert union_days == want_days, (union_days, want_days)
                want_days = []
        want = float(line["dose"])
        if tpl == "adult-hyper-cvad" and _name(drug) == "methotrexate" and "intrathecal" \
                not in drug and pid == "course-1b":
            total = sum(_amount(c) or 0.0 for c in comps)  # 200 + 800 mg/m2 = 1 g/m2
            assert total == pytest.approx(want, abs=0.02)
            return
        amounts = [_amount(c) for c in comps]
        assert any(a is not None and a == pytest.approx(want, abs=max(0.011, 1.5e-3 * want))
                   for a in amounts), f"{drug} {pid}: computed {amounts}, expected {want}"
        if want_days and " or " not in str(line["days"]):
            ok = [c for c in comps if _amount(c) is not None
                  and _amount(c) == pytest.approx(want, abs=max(0.011, 1.5e-3 * want))]
            assert any(set(want_days) == set(c["days"]) or set(want_days) <= set(c["days"])
                       for c in ok), f"{drug} {pid}: days {[c['days'] for c in ok]}, " \
                                     f"expected {want_days}"
    return run


def _window_check(cid: str, tpl: str, line: dict[str, Any]) -> Check:
    """The reviewer's ``rounding_window``: [low, high] (HOPA: within 10% of the ordered dose,
    never above the cap) or ``none`` (oral, flat, intrathecal, supportive drugs)."""
    def run() -> None:
        drug, want = str(line["drug"]), line["rounding_window"]
        pid = phase_id(tpl, str(line["phase"]))
        assert pid is not None, f"phase {line['phase']!r} has no counterpart in {tpl}"
        if "intrathecal" in drug:
            assert want == "none", want
            phase = next(p for p in rdict(cid)["phases"] if p["id"] == pid)
            bad = [x for r in phase["procedures"] for it in r["intrathecal_doses"]
                   for x in it["doses"] if any("window" in k or "round" in k for k in x)]
            assert not bad, bad
            return
        comps = components(rdict(cid), pid, drug)
        assert comps, f"{drug} is not in {tpl}/{pid}"
        want_days = days_of(line.get("days", ""))
        if want_days and len(comps) > 1:
            comps = [c for c in comps if set(want_days) <= set(c["days"])] or comps
        if "dose" in line and len(comps) > 1:
            comps = [c for c in comps if _amount(c) is not None and _amount(c) == pytest.approx(
                float(line["dose"]), abs=max(0.011, 1.5e-3 * float(line["dose"])))] or comps
        got = [None if w is None else {k: v * _TO_MG[c["dose"]["unit"]] for k, v in w.items()}
               for c in comps for w in [_window(c)]]
        if want == "none":
            assert all(w is None for w in got), got
            return
        lo, hi = (float(x) for x in want)
        assert any(w is not None and w["low"] == pytest.approx(lo, abs=max(0.011, 1.5e-3 * lo))
                   and w["high"] == pytest.approx(hi, abs=max(0.011, 1.5e-3 * hi))
                   for w in got), f"window {got}, expected [{lo}, {hi}]"
    return run


def _procedure_check(cid: str, line: dict[str, Any]) -> Check:
    """A marrow MRD the reviewer expects on a protocol day of a phase."""
    def run() -> None:
        tpl = TEMPLATE_OF[cid]
        pid = phase_id(tpl, str(line["phase"]))
        assert pid is not None, line
        assert "marrow" in str(line["kind"]) and "mrd" in str(line["kind"]).lower(), line
        phase = next(p for p in rdict(cid)["phases"] if p["id"] == pid)
        hits = [r["id"] for r in phase["procedures"]
                if r["kind"] == "marrow" and r["mrd"] and int(line["day"]) in r["days"]]
        assert hits, [(r["id"], r["kind"], r["days"]) for r in phase["procedures"]]
    return run


def _phases_check(cid: str) -> Check:
    def run() -> None:
        tpl = TEMPLATE_OF[cid]
        ids = [p["id"] for p in rdict(cid)["phases"]]
        want = [phase_id(tpl, str(x)) for x in CASES[cid]["expect"]["phases"]]
        assert None not in want, f"unmapped phases: {CASES[cid]['expect']['phases']}"
        pos = [ids.index(w) if w in ids else -1 for w in want]
        assert -1 not in pos, f"{want} vs {ids}"
        if tpl != "adult-hyper-cvad":
            assert pos == sorted(pos), f"order {want} vs {ids}"
        else:
            assert len(ids) == 9  # 8 alternating courses and POMP
    return run


def _transplant_check(cid: str) -> Check:
    def run() -> None:
        text = str(CASES[cid]["expect"]["transplant"]).lower()
        indicated = rdict(cid)["transplant"]["indicated"]
        assert indicated is (not text.startswith("not")), (text, indicated)
    return run


def _length_check(cid: str) -> Check:
    def run() -> None:
        text = str(CASES[cid]["expect"]["therapy_length"]).lower()
        sex = CASES[cid]["patient"]["sex"]
        m = re.search(r"(\d) years from (?:the start of )?(?:im1|interim maintenance)", text)
        assert m, text
        if sex == "male" and "boys: 3" not in text and "men: 3" not in text \
                and "or 2 years" not in text:
            pytest.fail(f"no rule for a male in {text!r}")
        years = int(m.group(1))
        if "or 2 years from im1 (aall1731" in text:
            years = 2  # either rule is acceptable with its citation; ALLPath cites AALL1731
        d = rdict(cid)
        im1 = next(p for p in d["phases"] if p["id"] == "interim_maintenance")
        start = dt.date.fromisoformat(im1["start"])
        end = dt.date(start.year + years, start.month, start.day) - dt.timedelta(days=1)
        assert d["phases"][-1]["end"] == end.isoformat(), (d["phases"][-1]["end"], end)
    return run


def _anthracycline_check(cid: str) -> Check:
    def run() -> None:
        want = float(re.findall(r"[\d.]+", str(CASES[cid]["expect"]
                                                ["anthracycline_cumulative_mg_m2"]))[0])
        assert rdict(cid)["anthracyclines"]["cumulative_mg_m2"] == pytest.approx(want)
    return run


def _all_components(d: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(p["id"], c) for p in d["phases"] for c in p["components"]]


def _none(pred: Callable[[str, dict[str, Any]], bool]) -> Callable[[str], None]:
    def run(cid: str) -> None:
        bad = [(pid, c["drug"], c["dose"]["prescribed"]) for pid, c in
               _all_components(rdict(cid)) if pred(pid, c)]
        assert not bad, bad
    return run


def _not_template(t: str) -> Callable[[str], None]:
    def run(cid: str) -> None:
        assert rdict(cid)["template"]["id"] != t
    return run


def _no_transplant(cid: str) -> None:
    assert not rdict(cid)["transplant"]["indicated"]


def _vcr_cap(cid: str) -> None:
    for _pid, c in _all_components(rdict(cid)):
        if c["drug"] == "vincristine":
            assert c["dose"]["amount"] is None or c["dose"]["amount"] <= 2.0
            assert c["warning"] and "fatal if given by other routes" in c["warning"]


def _it_per_lp(cid: str) -> None:
    d = rdict(cid)
    ind = next(p for p in d["phases"] if p["id"] == "induction")
    doses = {it["date"]: x["dose_mg"] for r in ind["procedures"] for it in r["intrathecal_doses"]
             for x in it["doses"] if x["drug"] == "methotrexate"}
    assert {k: v for k, v in doses.items() if k >= "2026-03-10"} and all(
        v == 15 for k, v in doses.items() if k >= "2026-03-10"), doses
    assert len(set(doses.values())) > 1, doses


def _ds_named(cid: str) -> None:
    mods = rdict(cid)["modifications"]
    assert any(m["label"] == "Down syndrome" and "leucovorin" in m["text"]
               for m in mods["applies"]), mods


def _tki_continues(cid: str) -> None:
    mt = next(p for p in rdict(cid)["phases"] if p["id"] == "maintenance")
    assert "does not stop" in (mt["note"] or "")


def _in_phase(pid: str, drug: str, unit: str | None = None, amount: float | None = None,
              basis: str | None = None) -> Callable[[str, dict[str, Any]], bool]:
    def pred(p: str, c: dict[str, Any]) -> bool:
        return (p == pid and c["drug"] == drug
                and (unit is None or c["dose"]["unit"] == unit)
                and (amount is None or c["dose"]["prescribed"].startswith(f"{amount:g} "))
                and (basis is None or basis in c["dose"]["prescribed"]))
    return pred


def _peg_in_capizzi(cid: str) -> None:
    im = next(p for p in rdict(cid)["phases"] if p["id"] == "interim_maintenance")
    assert any(c["drug"] == "pegaspargase" for c in im["components"])


def _infant_peg_by_weight(cid: str) -> None:
    d = rdict(cid, "cog-b-sr")
    peg = [c for p in d["phases"] for c in p["components"] if c["drug"] == "pegaspargase"]
    assert peg and all("U/kg" in c["dose"]["text"] for c in peg)


def _infant_fraction(cid: str) -> None:
    d = rdict(cid, "cog-b-sr")
    mp = next(c for p in d["phases"] if p["id"] == "consolidation" for c in p["components"]
              if c["drug"] == "mercaptopurine")
    assert any("infant" in m for m in mp["dose"]["modifiers"]), mp["dose"]


def _window(c: dict[str, Any]) -> dict[str, float] | None:
    w: dict[str, float] | None = c["dose"].get("rounding_window")
    return w


def _it_windows(cid: str) -> list[dict[str, Any]]:
    """Intrathecal doses that carry any rounding field (there must be none)."""
    return [x for p in rdict(cid)["phases"] for r in p["procedures"]
            for it in r["intrathecal_doses"] for x in it["doses"]
            if any("window" in k or "round" in k for k in x)]


def _no_it_window(cid: str) -> None:
    assert not _it_windows(cid), _it_windows(cid)


def _vcr_window_within_cap(cid: str) -> None:
    bad = [(pid, w) for pid, c in _all_components(rdict(cid)) for w in [_window(c)]
           if c["drug"] == "vincristine" and w is not None and w["high"] > 2.0]
    assert not bad, bad


def _dose_unchanged_by_window(cid: str) -> None:
    bad = [(pid, c["drug"], c["dose"]["amount"], c["dose"]["calculated"])
           for pid, c in _all_components(rdict(cid))
           if _window(c) and c["dose"]["amount"] is not None
           and abs(c["dose"]["amount"] - round(c["dose"]["calculated"], 2)) > 0.006]
    assert not bad, bad


def _dalba_induction_not_cytotoxic(cid: str) -> None:
    bad = [(p, c["drug"], c["class"]) for p, c in _all_components(rdict(cid))
           if p in ("prophase", "induction")
           and c["class"] not in ("tyrosine kinase inhibitor", "corticosteroid")]
    assert not bad, bad


def _tki_from_day_15(cid: str) -> None:
    bad = [(c["drug"], c["days"][:3]) for p, c in _all_components(rdict(cid))
           if p == "induction" and c["drug"] in ("dasatinib", "imatinib", "imatinib (alternative)")
           and (not c["days"] or min(c["days"]) < 15)]
    assert not bad, bad


#: must_not / must_show sentences that a test can decide, with the test.
DECIDE: dict[str, Callable[[str], None]] = {
    # second batch (2026-12-07): vial-rounding window, D-ALBA, Ph+ child imatinib
    "a rounding window above the 2 mg vincristine cap": _vcr_window_within_cap,
    "a vincristine rounding window that reaches 2.13 mg": _vcr_window_within_cap,
    "a rounding window on an intrathecal dose": _no_it_window,
    "a rounding window on an oral steroid": _none(lambda p, c: c["route"] == "PO"
                                                  and _window(c) is not None),
    "a rounding window on an oral tablet dose": _none(lambda p, c: c["route"] == "PO"
                                                      and _window(c) is not None),
    "a rounding window on a flat or oral dose": _none(
        lambda p, c: _window(c) is not None
        and (c["route"] == "PO" or "flat" in c["dose"]["text"])),
    "a rounding window on mesna, leucovorin or flat vincristine": _none(
        lambda p, c: _window(c) is not None and c["drug"] in ("mesna", "leucovorin",
                                                              "vincristine")),
    "the dose itself changed by the rounding window": _dose_unchanged_by_window,
    "2,500 IU/m2 pegaspargase by BSA for a 0.40 m2 child": _none(
        lambda p, c: c["drug"] == "pegaspargase" and c["dose"]["status"] == "computed"
        and "U/kg" not in c["dose"]["text"]),
    "infant dose fractions for a child older than 12 months": _none(
        lambda p, c: any("infant" in m for m in c["dose"]["modifiers"])),
    "dasatinib dose per protocol (the sources give 140 mg/day)": _none(
        lambda p, c: c["drug"] == "dasatinib" and c["dose"]["status"] != "computed"),
    "cytotoxic chemotherapy in induction": _dalba_induction_not_cytotoxic,
    "28 ug/day flat blinatumomab for a 42 kg patient": _none(
        lambda p, c: c["drug"] == "blinatumomab" and "flat" in c["dose"]["text"]),
    "TKI from induction day 1 (the Ph result is not known before about day 15; the trials "
    "start the TKI on day 15)": _tki_from_day_15,
    "cytarabine 3 g/m2 for a 62-year-old": _none(
        lambda p, c: c["drug"] == "cytarabine" and c["dose"]["prescribed"].startswith("3 g")),
    "daunorubicin in induction": _none(_in_phase("induction", "daunorubicin")),
    "high-dose methotrexate 5 g/m2 in interim maintenance":
        _none(_in_phase("interim_maintenance", "methotrexate", unit="g")),
    "high-dose methotrexate 5 g/m2 in CALGB 10403 IM":
        _none(_in_phase("interim_maintenance", "methotrexate", unit="g")),
    "transplant indication": _no_transplant,
    "NCI standard-risk 3-drug template": _not_template("cog-b-sr"),
    "NCI standard-risk template": _not_template("cog-b-sr"),
    "prednisone 60 mg/m2/day x 28 days (child is < 10)":
        _none(_in_phase("induction", "prednisone")),
    "prednisone x 28 days": _none(_in_phase("induction", "prednisone")),
    "prednisone 60 mg/m2/day x 28 days": _none(_in_phase("induction", "prednisone")),
    "dexamethasone 6 mg/m2/day x 28 days as the induction steroid":
        _none(_in_phase("induction", "dexamethasone", amount=6)),
    "dexamethasone 6 mg/m2 x 28 d as the AALL0232 steroid":
        _none(_in_phase("induction", "dexamethasone", amount=6)),
    "dexamethasone 10 mg/m2/day x 14 days (that is for age < 10)":
        _none(_in_phase("induction", "dexamethasone")),
    "dexamethasone 10 mg/m2/day x 14 days": _none(_in_phase("induction", "dexamethasone")),
    "dexamethasone 10 mg/m2 x 14 d (age >= 10)": _none(_in_phase("induction", "dexamethasone")),
    "dexamethasone on days 15-28 of induction": _none(
        lambda p, c: p == "induction" and c["drug"] == "dexamethasone" and max(c["days"]) > 14),
    "pegaspargase in the HD-MTX interim maintenance (the pegaspargase belongs to the Capizzi arm)":
        _none(_in_phase("interim_maintenance", "pegaspargase")),
    "vincristine 2.77 mg": _vcr_cap,
    "any vincristine dose above 2 mg": _vcr_cap,
    "vincristine > 2 mg": _vcr_cap,
    "for intravenous use only: fatal if given by other routes (on every vincristine line)":
        _vcr_cap,
    "12 mg IT methotrexate on or after 2026-03-10": _it_per_lp,
    "one IT dose computed from age at diagnosis for all LPs": _it_per_lp,
    "nelarabine 1,500 mg/m2 (adult relapse label dose)":
        _none(lambda p, c: c["drug"] == "nelarabine" and "1500" in c["dose"]["prescribed"]),
    "ponatinib 15 mg in consolidation":
        _none(_in_phase("consolidation", "ponatinib", amount=15)),
    "ponatinib 15 mg before MRD-negative CR is documented":
        _none(_in_phase("induction", "ponatinib", amount=15)),
    "ponatinib 45 mg (CML starting dose)": _none(lambda p, c: c["drug"] == "ponatinib"
                                                  and c["dose"]["prescribed"].startswith("45 ")),
    "TKI stopped at 2 years": _tki_continues,
    "interim maintenance without pegaspargase": _peg_in_capizzi,
    "cytarabine 1 g/m2 for a 45-year-old": _none(
        lambda p, c: c["drug"] == "cytarabine" and c["dose"]["prescribed"].startswith("1 g")),
    "cytarabine 3 g/m2 (5,454.36 mg) for a 65-year-old": _none(
        lambda p, c: c["drug"] == "cytarabine" and c["dose"]["prescribed"].startswith("3 g")),
    "age rule only as a note with 3 g/m2 computed": _none(
        lambda p, c: c["drug"] == "cytarabine" and c["dose"]["prescribed"].startswith("3 g")),
    "vincristine as 1.5 mg/m2": _none(
        lambda p, c: c["drug"] == "vincristine" and "/m2" in c["dose"]["prescribed"]),
    "15 ug/m2/day for a >= 45 kg adult (27.66 ug/day)": _none(
        lambda p, c: c["drug"] == "blinatumomab" and "/m2" in c["dose"]["prescribed"]),
    "15 ug/m2/day for a >= 45 kg adult (30 ug/day)": _none(
        lambda p, c: c["drug"] == "blinatumomab" and "/m2" in c["dose"]["prescribed"]),
    "9 ug/day step-up labelled as the consolidation dose": _none(
        lambda p, c: c["drug"] == "blinatumomab" and c["dose"]["prescribed"].startswith("9 ")),
    "no step-up on days 1-7 of cycle 1": lambda cid: _dose_check(
        cid, "rr-blinatumomab", {"drug": "blinatumomab", "phase": "cycle 1", "days": "1-7",
                                 "dose": 9})(),
    "9 ug/day / 28 ug/day fixed dosing under 45 kg": _none(
        lambda p, c: c["drug"] == "blinatumomab" and "flat" in c["dose"]["text"]),
    "adult fixed 9/28 ug/day for a 26 kg child": _none(
        lambda p, c: c["drug"] == "blinatumomab" and "flat" in c["dose"]["text"]),
    "15 ug/m2/day from day 1 of cycle 1": _none(
        lambda p, c: p == "blinatumomab-1" and c["drug"] == "blinatumomab"
        and c["dose"]["prescribed"].startswith("15") and 1 in c["days"]),
    "full BSA doses (vincristine 0.50 mg, pegaspargase 836.45 IU)": _infant_peg_by_weight,
    "2,500 IU/m2 pegaspargase by BSA for a 0.33 m2 infant": _infant_peg_by_weight,
    "full BSA doses after the exit to the standard-risk template (e.g. 6-MP 30.49 mg/day, "
    "pegaspargase 1,016.36 IU by BSA)": _infant_fraction,
    "a Down syndrome roadmap that says nothing about Down syndrome": _ds_named,
    "HSCT in first remission for every Ph+ child": _no_transplant,
    "TKI dose per protocol (the sources give 340 mg/m2 and 60 mg/m2)": _none(
        lambda p, c: c["drug"] in ("dasatinib", "imatinib (alternative)")
        and c["dose"]["status"] == "per_protocol"),
    "2 years of therapy for a man on CALGB 10403": lambda cid: _length_check(cid)(),
    "dexamethasone 10 mg/m2 x 14 d unless the template's source is a B-ALL trial - flag it":
        _none(_in_phase("induction", "dexamethasone")),
}
#: Sentences no test can decide from the roadmap's data, and why (never silently dropped).
EXPLAINED = {
    "dose per protocol for vincristine/dexamethasone/pegaspargase where the source gives the "
    "number": "decided by the dose-line items of this case (each is computed or fails)",
    "blinatumomab as standard for SR-favourable":
        "blinatumomab appears only as a decision option for SR-Average with detectable NGS MRD",
    "testicular radiotherapy for every boy with testicular disease":
        "no template carries testicular radiotherapy",
    "leucovorin timed from the end of the infusion in the COG regimen":
        "free text: the cog-b-hr leucovorin schedule says 'at hours 42, 48 and 54 from the start'",
    "methotrexate 5 g/m2 over 4 h": "free text: the schedule says 'over 24 hours'",
    "nelarabine given to low-risk patients":
        "nelarabine is conditional on 'intermediate or high risk (not low risk)', a check the "
        "record cannot answer, so it is shown as 'if', never as given",
    "rituximab omitted with CD20 >= 20 %": "decided by the rituximab dose-line item",
    "rituximab given with CD20 < 20 %":
        "rituximab is conditional on CD20 >= 20% of blasts (a check the record cannot answer)",
    "TBI conditioning for an infant": "the hsct template says non-TBI for infants (text)",
    "high-dose methotrexate 5 g/m2 without a DS warning":
        "the Down syndrome modification names caution with high-dose methotrexate (text)",
    "IT dose computed per m2": "intrathecal doses come from the age bands only (dosing.yaml)",
}


def _items() -> list[Any]:
    out: list[Any] = []

    def add(item_id: str, check: Check) -> None:
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN[item_id])] if item_id in KNOWN \
            else []
        out.append(pytest.param(check, id=item_id, marks=marks))

    for cid, case in CASES.items():
        e = case["expect"]
        add(f"{cid}/template", _template_check(cid))
        for i, line in enumerate(e.get("doses", [])):
            drug = str(line["drug"])
            tpl = TEMPLATE_OF[cid]
            phase_text = str(line["phase"]).lower()
            at: str | None = None
            # "any phase that gives it" / "standard paediatric consolidation": the template
            # the infant reaches after the KMT2A-germline exit
            if tpl in REACHES and (phase_text.startswith("any")
                                   or "standard paediatric" in phase_text):
                tpl = REACHES[tpl][0]
                if phase_text.startswith("any"):
                    at = next(p["id"] for p in rdict(cid, tpl)["phases"]
                              if components(rdict(cid, tpl), p["id"], drug))
            key = f"{cid}/dose{i}-{_name(drug).split(' ')[0]}"
            if "intrathecal" in drug:
                it_pid = phase_id(tpl, str(line["phase"]))
                assert it_pid is not None, line
                add(key, _it_check(cid, tpl, it_pid, _name(drug), days_of(
                    str(line["days"]).replace(" or ", ",")), " or " in str(line["days"]),
                    float(line["dose"])))
            elif "dose" in line:
                add(key, _dose_check(cid, tpl, line, at))
            if "rounding_window" in line:
                add(f"{key}/window", _window_check(cid, tpl, line))
        if "phases" in e:
            add(f"{cid}/phases", _phases_check(cid))
        for k, proc in enumerate(e.get("procedures", [])):
            add(f"{cid}/procedure{k}", _procedure_check(cid, proc))
        if "transplant" in e:
            add(f"{cid}/transplant", _transplant_check(cid))
        if "therapy_length" in e:
            add(f"{cid}/therapy_length", _length_check(cid))
        if "anthracycline_cumulative_mg_m2" in e:
            add(f"{cid}/anthracyclines", _anthracycline_check(cid))
        for j, s in enumerate(list(e.get("must_not", [])) + list(e.get("must_show", []))):
            if s in DECIDE:
                add(f"{cid}/must{j}", (lambda f, c: lambda: f(c))(DECIDE[s], cid))
    return out


@pytest.mark.parametrize("check", _items())
def test_independent_case(check: Check) -> None:
    check()


def test_every_case_has_a_template_mapping_and_every_sentence_is_decided_or_explained() -> None:
    assert set(TEMPLATE_OF) == set(CASES)
    sentences = {s for c in CASES.values() for s in
                 list(c["expect"].get("must_not", [])) + list(c["expect"].get("must_show", []))}
    assert sentences <= set(DECIDE) | set(EXPLAINED), sorted(sentences - set(DECIDE)
                                                             - set(EXPLAINED))
    assert len(CASES) >= 20


def test_it_dose_case_calendar_has_every_lumbar_puncture_and_day_29_marrow() -> None:
    """The reviewer's calendar note: IM1 LPs on days 1 and 31, DI on days 1 and 29, IM2 present,
    end-of-induction marrow on protocol day 29 (2026-03-17)."""
    d = rdict("it-dose-child-turns-9-between-lps")
    by = {p["id"]: p for p in d["phases"]}

    def lp_days(pid: str) -> list[int]:
        return sorted(dd for r in by[pid]["procedures"] if r["kind"] == "lumbar_puncture"
                      for dd in r["days"])
    assert lp_days("interim_maintenance") == [1, 31]
    assert lp_days("delayed_intensification") == [1, 29]
    assert lp_days("interim_maintenance_2")
    eoi = next(r for r in by["induction"]["procedures"] if r["id"] == "mrd-eoi")
    assert eoi["days"] == [29] and eoi["dates"] == ["2026-03-17"]
