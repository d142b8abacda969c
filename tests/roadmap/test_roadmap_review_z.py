"""Review Z (2026-12-08): ten relapsed and refractory roadmap cases a haematology/oncology
pharmacist wrote from labels and trials before ALLPath was run (tests/roadmap/review_z/):
blinatumomab by weight (the 45 kg boundary, a weight that falls below it before cycle 2), its
premedication for a child and an adult, inotuzumab after CD19 loss, CAR-T age limits, relapsed
T-ALL nelarabine for a child and an adult, transplant after relapse, and a child's late isolated
CNS relapse. Run as committed; a case ALLPath does not meet is a strict xfail whose reason
says why. First run: 5 of 10 (after the reviewer's own two slips); the CAR-T eligibility
(rvz05, rvz06; test_roadmap_car_t_eligibility.py) and the late isolated CNS relapse (rvz09,
roadmap pack 1.6.0) were fixed after it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from allpath.roadmap.templates import load_templates
from support import assessed_case, assessed_prefix, case_failures, case_params

_DIR = Path(__file__).parent / "review_z"
_CASES = sorted(_DIR.glob("rvz*.yaml"))

KNOWN: dict[str, str] = {
    "rvz03-man-40-marrow-relapse-blinatumomab-fixed-dose-adult-premed-cr2-consolidative-hct": (
        "Design of the template: the label allows two blinatumomab induction cycles, so the "
        "cycle-1 decision names no marrow response and reads none (a cycle 1 without "
        "remission still gives cycle 2: "
        "test_blinatumomab_label_cycle_one_without_remission_still_gives_cycle_two); the "
        "case asks for the reading at cycle 1. What the case is about is met since "
        "rr-blinatumomab 2.6.0: the MRD-negative CR2 goes to the consolidative HCT after "
        "cycle 2 (test_nccn_mrd_negative_second_remission_with_a_transplant_indication_"
        "goes_to_hct), no longer to consolidation cycles 3-9."),
    "rvz04-girl-11-cd19-negative-cd22-positive-relapse-after-blinatumomab-inotuzumab-by-bsa": (
        "Record as written: the case puts the relapse flow (CD19-negative) in the record's one "
        "immunophenotype block, which is the diagnostic one, so the diagnosis itself becomes "
        "indeterminate and there is no roadmap. Since roadmap pack 1.7.0 the relapse flow is "
        "recorded as dated results (analytes cd19_blasts, cd22_blasts) beside the diagnostic "
        "immunophenotype, and the plan is the case's answer: "
        "test_besponsa_label_cd19_negative_relapse_goes_to_inotuzumab_by_bsa."),
    "rvz09-boy-6-late-isolated-cns-relapse-aall1331-low-risk-no-blinatumomab-only-plan-18-gy": (
        "Met in substance since roadmap pack 1.6.0 (no template, with the reason, HOGAN-2023-"
        "AALL1331): the output has roadmap.template = null, so the path roadmap.template.id "
        "the case reads is absent; and the CNS-directed therapy is named in the selection note "
        "(a template's modifications exist only with a template): "
        "test_hogan_2023_late_isolated_cns_relapse_gets_no_blinatumomab_only_plan."),
}


@pytest.mark.parametrize("case", case_params(_CASES, KNOWN))
def test_review_z_roadmap_case(case: Path) -> None:
    assert case_failures(case) == []


def test_the_ten_review_z_cases_are_present() -> None:
    assert len(_CASES) == 10
    assert set(KNOWN) <= {c.stem for c in _CASES}


def _roadmap(prefix: str) -> dict[str, Any]:
    rm: dict[str, Any] = assessed_prefix(_CASES, prefix)["roadmap"]
    return rm


def test_hogan_2023_late_isolated_cns_relapse_gets_no_blinatumomab_only_plan() -> None:
    rm = _roadmap("rvz09")
    assert rm["template"] is None and rm["phases"] == []
    sel = rm["selection"]
    assert sel["rule_id"] == "roadmap.rr.b_late_isolated_extramedullary"
    assert "HOGAN-2023-AALL1331" in sel["cite"]
    assert "intrathecal" in sel["note"] and "18 Gy" in sel["note"]
    assert rm["transplant"]["indications"] == ["child_late_first_relapse_consider"]


def test_an_early_isolated_cns_relapse_keeps_blinatumomab_and_the_cns_note() -> None:
    """rvy03 of review Y: an isolated CNS relapse at 17.5 months (early) is high risk, where
    AALL1331 (HR/IR, Brown 2021) put blinatumomab in consolidation: the template stays, with
    the CNS note citing AALL1331's 18 Gy cranial radiation."""
    case = next((Path(__file__).parents[1] / "clinical" / "review_y").glob("rvy03*.yaml"))
    rm = assessed_case(case).to_dict()["roadmap"]
    assert rm["template"]["id"] == "rr-blinatumomab"
    [cns] = [m for m in rm["modifications"]["applies"]
             if m["label"] == "Relapse in the central nervous system"]
    assert "18 Gy" in cns["text"] and "HOGAN-2023-AALL1331" in cns["cite"]


def test_rr_blinatumomab_cns_note_is_no_longer_unconfirmed() -> None:
    tpl = load_templates()["rr-blinatumomab"]
    [cns] = [m for m in tpl.modifications if m.label == "Relapse in the central nervous system"]
    assert "HOGAN-2023-AALL1331" in cns.cite
    assert cns.evidence != "unconfirmed"


def test_cli_roadmap_names_the_age_and_day_each_car_t_limit_was_judged_on(
        tmp_path: Path) -> None:
    """rvz06: the text output said only "age fits"; it now gives the age and the day the
    limit was judged on (the first day of the CAR-T plan, not the diagnosis)."""
    import yaml
    from typer.testing import CliRunner

    from allpath.cli.app import app
    from allpath.cli.commands import app as _registered  # noqa: F401

    case = next(c for c in _CASES if c.stem.startswith("rvz06"))
    record = tmp_path / "rvz06.yaml"
    record.write_text(yaml.safe_dump(yaml.safe_load(case.read_text(encoding="utf-8"))["record"]),
                      encoding="utf-8")
    out = CliRunner().invoke(app, ["roadmap", str(record), "--setting", "relapsed"],
                             env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    line = next(ln for ln in out.output.splitlines()
                if ln.startswith("Eligibility tisagenlecleucel"))
    assert "does not fit (age 26.46 on 2026-08-27)" in line


def _rvz04_with_relapse_flow() -> dict[str, Any]:
    """rvz04 as ALLPath records it: the diagnostic immunophenotype (CD19-positive B-ALL, as
    at diagnosis in 2023) and the relapse flow as dated results (analytes cd19_blasts,
    cd22_blasts) on the relapse marrow's day."""
    import yaml

    case = next(c for c in _CASES if c.stem.startswith("rvz04"))
    doc: dict[str, Any] = yaml.safe_load(case.read_text(encoding="utf-8"))["record"]
    doc["immunophenotype"] = {**doc["immunophenotype"], "time": "2023-03-06",
                              "markers": {**doc["immunophenotype"]["markers"],
                                          "CD19": "positive"}}
    doc["observations"] += [
        {"code": "cd19_blasts", "value": "negative", "time": "2025-12-01"},
        {"code": "cd22_blasts", "value": "positive", "time": "2025-12-01"}]
    return doc


def test_besponsa_label_cd19_negative_relapse_goes_to_inotuzumab_by_bsa() -> None:
    """rvz04 (review Z): a relapse that lost CD19 after blinatumomab. Blincyto and the CD19
    CAR-T products are for CD19-positive B-ALL and Besponsa for CD22-positive B-ALL (labels,
    S29e), so the plan is inotuzumab, 0.8 mg/m2 on day 1 and 0.5 mg/m2 on days 8 and 15 at
    1.2 m2 (0.96 mg, 0.6 mg; DeAngelo 2017, S29f), with no CD19-directed alternative."""
    from allpath import assess, parse_record

    rm = assess(parse_record(_rvz04_with_relapse_flow())).to_dict()["roadmap"]
    assert rm["template"]["id"] == "rr-inotuzumab"
    assert rm["selection"]["rule_id"] == "roadmap.rr.b_cd19_negative"
    assert "rr-car-t" not in rm["alternatives"] and "rr-inotuzumab" not in rm["alternatives"]
    [cycle1] = [p for p in rm["phases"] if p["id"] == "cycle-1"]
    amounts = sorted(c["dose"]["amount"] for c in cycle1["components"]
                     if c["drug"] == "inotuzumab ozogamicin")
    assert amounts == [0.6, 0.96]
    assert rm["transplant"]["indications"] == ["child_early_first_relapse"]


def test_a_relapse_marker_before_the_relapse_work_up_is_not_read() -> None:
    """A CD19-negative result dated before the relapse's work-up (a front-line marrow) does
    not steer the relapse plan."""
    from allpath import assess, parse_record

    doc = _rvz04_with_relapse_flow()
    for o in doc["observations"]:
        if o["code"] in ("cd19_blasts", "cd22_blasts"):
            o["time"] = "2023-03-06"
    rm = assess(parse_record(doc)).to_dict()["roadmap"]
    assert rm["template"]["id"] == "rr-blinatumomab"
