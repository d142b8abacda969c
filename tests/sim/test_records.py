"""Closed loop: virtual patients' records are read by the pathway as ALL with risk groups."""

from __future__ import annotations

from allpath import assess, parse_record
from allpath.sim.records import cohort_records


def test_virtual_patient_records_are_all_with_nci_and_cog_risk() -> None:
    """Five pediatric virtual patients: parse_record accepts them; diagnosis ALL with lineage,
    CNS status from the diagnostic CSF, and NCI and COG risk groups for B-lineage patients."""
    records = cohort_records("pediatric", [0, 1, 2, 3, 4], seed=2025)
    assert len(records) == 5
    for rec in records:
        out = assess(parse_record(rec)).to_dict()
        assert out["diagnosis"]["status"] == "ALL", rec["id"]
        lineage = out["diagnosis"]["lineage"]
        assert lineage == ("T" if rec["immunophenotype"]["markers"]["cCD3"] == "positive"
                           else "B")
        assert out["cns_status"] == "CNS1"
        risk = {r["scheme"]: r["group"] for r in out["risk"]}
        if lineage == "B":
            assert risk["nci_rome"] in {"standard", "high"}
            assert risk["cog_pdq"] not in {None, "not_applicable"}
