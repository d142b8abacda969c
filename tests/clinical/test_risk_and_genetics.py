"""Issue 11 items 2-5, 8, 9, 11, 12 and 15 on records, each named after its source."""

from __future__ import annotations

from typing import Any

import pytest
from clinical_records import assess_doc, b_all_record, risk

_EM = {"mediastinal_mass": False, "other_mass": False, "cns_clinical_signs": False}
_T_MARKERS = {"cCD3": "positive", "CD7": "positive", "CD19": "negative", "MPO": "negative",
              "CD1a": "positive", "CD5": "positive", "CD8": "positive"}
_ETP_MARKERS = {"cCD3": "positive", "CD7": "positive", "CD19": "negative", "MPO": "negative",
                "CD1a": "negative", "CD8": "negative", "CD5": "dim", "CD34": "positive",
                "CD117": "positive"}


def _genetics(**kw: Any) -> dict[str, Any]:
    return {"fusions": kw.pop("fusions", []), "alterations": kw.pop("alterations", []), **kw}


def test_nccn_pediatric_ph_positive_child_is_off_the_cog_algorithm() -> None:
    doc = b_all_record(genetics=_genetics(fusions=["BCR::ABL1"], chromosome_count=46),
                       extramedullary=_EM, steroid_pretreatment=False)
    result = assess_doc(doc)
    cog = risk(result, "cog_pdq")
    assert cog["group"] == "not_applicable"
    assert "tyrosine kinase inhibitor" in cog["note"]
    assert risk(result, "aall1731")["group"] == "not_eligible"
    assert result["roadmap"]["template"]["id"] == "ph-pos-paediatric"


def test_steroid_pretreated_sr_b_all_is_cog_high_risk_and_aall1731_ineligible() -> None:
    doc = b_all_record(genetics=_genetics(fusions=["ETV6::RUNX1"], chromosome_count=46),
                       extramedullary=_EM, steroid_pretreatment=True,
                       extra_obs=[{"code": "mrd_blood", "value": 0.001, "unit": "%",
                                   "time": "2024-03-09"},
                                  {"code": "mrd_marrow", "value": 0.001, "unit": "%",
                                   "time": "2024-03-29"}])
    result = assess_doc(doc)
    assert risk(result, "nci_rome")["group"] == "standard"
    assert risk(result, "cog_pdq")["group"] == "high"
    assert risk(result, "aall1731")["group"] == "not_eligible"
    nci_treatment = next(t for t in result["trace"] if t["output"] == "risk.nci_treatment")
    assert nci_treatment["value"] == "high"


def test_unrecorded_steroid_history_is_asked_for_not_assumed() -> None:
    doc = b_all_record(genetics=_genetics(fusions=["ETV6::RUNX1"], chromosome_count=46),
                       extramedullary=_EM)
    result = assess_doc(doc)
    cog = risk(result, "cog_pdq")
    assert cog["group"] == "unknown" and "steroid_pretreatment" in cog["missing"]
    assert any("medication history" in t for t in result["tests_to_order"])


def test_pdq_provisional_group_leads_with_the_range_not_the_best_case() -> None:
    doc = b_all_record(genetics=_genetics(chromosome_count=46), extramedullary=_EM,
                       steroid_pretreatment=False)
    cog = risk(assess_doc(doc), "cog_pdq")
    assert cog["group"] == "unknown"
    assert cog["provisional_group"] == "average"
    assert cog["possible_groups"] == ["average", "high", "very_high"]


def test_nachman_2007_43_chromosomes_is_unfavourable_44_is_not() -> None:
    g43 = assess_doc(b_all_record(genetics=_genetics(chromosome_count=43)))
    g44 = assess_doc(b_all_record(genetics=_genetics(chromosome_count=44)))
    assert g43["diagnosis"]["subtype"]["cog_genetics"] == "unfavorable"
    assert g43["diagnosis"]["subtype"]["key"] == "hypodiploid"
    assert g44["diagnosis"]["subtype"]["cog_genetics"] == "neutral"
    assert g44["diagnosis"]["subtype"]["key"] == "NOS"


def test_who_haem5_icc_near_haploid_is_24_to_31_low_hypodiploid_32_to_39() -> None:
    def band(n: int) -> str:
        res = assess_doc(b_all_record(genetics=_genetics(chromosome_count=n)))
        bands = {p["scheme"]: p["band"] for p in res["diagnosis"]["subtype"]["ploidy"]}
        return str(bands["who_haem5_icc"])
    assert [band(n) for n in (24, 31, 32, 39, 40, 43, 44)] == [
        "near_haploid", "near_haploid", "low_hypodiploid", "low_hypodiploid",
        "high_hypodiploid", "high_hypodiploid", "not_hypodiploid_band"]


def test_nccn_adult_bcr_abl1_without_ikzf1plus_is_not_poor_risk_genetics() -> None:
    doc = b_all_record(birth="1990-01-01", genetics=_genetics(fusions=["BCR::ABL1"],
                                                              chromosome_count=46))
    result = assess_doc(doc)
    assert risk(result, "nccn_adult_genetics")["group"] == "standard"
    assert "poor_risk_genetics" not in result["adult_risk_factors"]["factors"]


def test_nccn_adult_bcr_abl1_with_derived_ikzf1plus_is_poor_risk() -> None:
    doc = b_all_record(birth="1990-01-01", genetics=_genetics(
        fusions=["BCR::ABL1"], chromosome_count=46,
        alterations=["IKZF1_deletion", "CDKN2A_homozygous_deletion"]))
    result = assess_doc(doc)
    assert any(n.startswith("IKZF1plus derived") for n in result["notes"])
    assert risk(result, "nccn_adult_genetics")["group"] == "poor"


def test_stanulla_2018_ph_adult_with_cdkn2a_deletion_of_unstated_zygosity_is_possible_ikzf1plus(
) -> None:
    """CDKN2A/B count for IKZF1plus only when homozygous [STANULLA-2018]: a CDKN2A deletion
    whose zygosity the record does not give makes IKZF1plus possible, not established. The
    NCCN group is still poor, because NCCN words IKZF1plus without a zygosity [S51]; the
    rule says so and asks for the zygosity."""
    doc = b_all_record(birth="1990-01-01", genetics=_genetics(
        fusions=["BCR::ABL1"], chromosome_count=46,
        alterations=["IKZF1_deletion", "CDKN2A_deletion"]))
    result = assess_doc(doc)
    assert not any(n.startswith("IKZF1plus derived") for n in result["notes"])
    possible = [n for n in result["notes"] if n.startswith("IKZF1plus_possible derived")]
    assert len(possible) == 1 and "homozygous" in possible[0]
    assert "which the record does not say" in possible[0]
    nccn = risk(result, "nccn_adult_genetics")
    assert nccn["group"] == "poor"
    assert nccn["rule_id"] == "adult_nccn_genetics.poor.ph_ikzf1plus_nccn_wording"
    assert nccn["evidence"] == "unconfirmed"
    assert "zygosity" in nccn["note"] and "SNP array" in nccn["note"]


_HETEROZYGOUS_RULE = "adult_nccn_genetics.poor.ph_ikzf1plus_nccn_wording_heterozygous"


@pytest.mark.parametrize(("cdkn2a", "rule"), [
    ("CDKN2A_homozygous_deletion", "adult_nccn_genetics.poor.ph_ikzf1plus"),
    ("CDKN2A_biallelic_deletion", "adult_nccn_genetics.poor.ph_ikzf1plus"),
    ("CDKN2A_heterozygous_deletion", _HETEROZYGOUS_RULE),
    ("CDKN2A_monoallelic_deletion", _HETEROZYGOUS_RULE),
])
def test_stanulla_2018_ikzf1plus_follows_the_recorded_cdkn2a_zygosity(cdkn2a: str,
                                                                     rule: str) -> None:
    result = assess_doc(b_all_record(birth="1990-01-01", genetics=_genetics(
        fusions=["BCR::ABL1"], chromosome_count=46, alterations=["IKZF1_deletion", cdkn2a])))
    homozygous = "homozygous" in cdkn2a or "biallelic" in cdkn2a
    assert any(n.startswith("IKZF1plus derived") for n in result["notes"]) == homozygous
    assert not any(n.startswith("IKZF1plus_possible") for n in result["notes"])
    nccn = risk(result, "nccn_adult_genetics")
    assert (nccn["group"], nccn["rule_id"]) == ("poor", rule)


@pytest.mark.parametrize("partner", ["CDKN2A_homozygous_deletion", "CDKN2B_homozygous_deletion",
                                     "PAX5_deletion", "PAR1_deletion"])
def test_stanulla_2018_ikzf1plus_is_ikzf1_deletion_with_any_one_partner(partner: str) -> None:
    result = assess_doc(b_all_record(genetics=_genetics(
        chromosome_count=46, alterations=["IKZF1_deletion", partner])))
    notes = [n for n in result["notes"] if n.startswith("IKZF1plus derived")]
    assert len(notes) == 1 and partner in notes[0] and "STANULLA-2018" in notes[0]
    assert not any(n.startswith("IKZF1plus_possible") for n in result["notes"])


@pytest.mark.parametrize("partner", ["CDKN2A_deletion", "CDKN2B_deletion"])
def test_stanulla_2018_cdkn2_deletion_of_unstated_zygosity_makes_ikzf1plus_only_possible(
        partner: str) -> None:
    result = assess_doc(b_all_record(genetics=_genetics(
        chromosome_count=46, alterations=["IKZF1_deletion", partner])))
    assert not any(n.startswith("IKZF1plus derived") for n in result["notes"])
    notes = [n for n in result["notes"] if n.startswith("IKZF1plus_possible derived")]
    assert len(notes) == 1 and partner in notes[0] and "homozygous" in notes[0]


def test_stanulla_2018_a_pax5_deletion_makes_ikzf1plus_whatever_the_cdkn2a_zygosity() -> None:
    result = assess_doc(b_all_record(genetics=_genetics(
        chromosome_count=46, alterations=["IKZF1_deletion", "CDKN2A_deletion", "PAX5_deletion"])))
    assert any(n.startswith("IKZF1plus derived") for n in result["notes"])
    assert not any(n.startswith("IKZF1plus_possible") for n in result["notes"])


@pytest.mark.parametrize("alterations", [
    ["IKZF1_deletion"],  # no partner deletion
    ["PAX5_deletion", "CDKN2A_deletion"],  # no IKZF1 deletion
    ["IKZF1_deletion", "PAR1_deletion", "ERG_deletion"],  # ERG deletion present
    ["IKZF1_deletion", "CDKN2A_heterozygous_deletion"],  # CDKN2A deleted on one allele only
    ["IKZF1_deletion", "CDKN2B_monoallelic_deletion"],
])
def test_stanulla_2018_ikzf1plus_is_not_derived_without_its_definition(
        alterations: list[str]) -> None:
    result = assess_doc(b_all_record(genetics=_genetics(chromosome_count=46,
                                                        alterations=alterations)))
    assert not any(n.startswith("IKZF1plus derived") for n in result["notes"])


def test_stanulla_2018_definition_lives_in_cited_data() -> None:
    from allpath.knowledge import load_yaml
    from allpath.rules.loader import load_knowledge

    doc = load_yaml("derived_alterations.yaml")
    (ikzf1plus,) = [d for d in doc["derived"] if d["term"] == "IKZF1plus"]
    assert ikzf1plus["requires_all"] == ["IKZF1_deletion"]
    assert set(ikzf1plus["requires_any"]) == {"CDKN2A_homozygous_deletion",
                                              "CDKN2B_homozygous_deletion",
                                              "PAX5_deletion", "PAR1_deletion"}
    assert ikzf1plus["requires_none"] == ["ERG_deletion"]
    (possible,) = [d for d in doc["derived"] if d["term"] == "IKZF1plus_possible"]
    assert set(possible["requires_none"]) == {"ERG_deletion", "IKZF1plus"}
    assert [d["term"] for d in doc["derived"]].index("IKZF1plus") < \
        [d["term"] for d in doc["derived"]].index("IKZF1plus_possible")
    citations = load_knowledge().citations
    assert "STANULLA-2018" in ikzf1plus["cite"]
    assert all(c in citations for c in ikzf1plus["cite"])


def test_hypercvad_age_45_is_a_factor_not_the_adult_group() -> None:
    # 50-year-old, WBC 10 (not above 30), normal genetics, MRD negative, CR at day 29.
    doc = b_all_record(birth="1974-01-01", wbc=10, genetics=_genetics(chromosome_count=46),
                       extramedullary=_EM,
                       extra_obs=[{"code": "marrow_blasts", "value": 1, "unit": "%",
                                   "time": "2024-03-29"},
                                  {"code": "mrd_marrow", "value": 0.001, "unit": "%",
                                   "time": "2024-03-29"}])
    result = assess_doc(doc)
    assert "age_45_or_older" in result["adult_risk_factors"]["factors"]
    assert risk(result, "adult_risk_factors")["group"] == "standard"


def test_s24_s14b_end_of_induction_marrow_5_percent_is_named_among_adult_factors() -> None:
    """Review B (rb11): an adult whose group is high only because the end-of-induction marrow
    holds 5% blasts (fact sheet 3.8.4) sees that reason in the factor list, not an empty one."""
    def at(blasts: float) -> dict[str, Any]:
        doc = b_all_record(birth="1994-01-01", wbc=10, genetics=_genetics(chromosome_count=46),
                           extramedullary=_EM,
                           extra_obs=[{"code": "marrow_blasts", "value": blasts, "unit": "%",
                                       "time": "2024-03-29"}])
        return assess_doc(doc)

    five, below = at(5), at(4.9)
    assert "marrow_blasts_5_percent_or_more_after_induction" in \
        five["adult_risk_factors"]["factors"]
    assert risk(five, "adult_risk_factors")["group"] == "high"
    assert "marrow_blasts_5_percent_or_more_after_induction" not in \
        below["adult_risk_factors"]["factors"]


def test_nccn_ph_like_abl_class_fusion_names_the_class_and_crlf2_alone_is_not_ph_like() -> None:
    abl = assess_doc(b_all_record(genetics=_genetics(fusions=["EBF1::PDGFRB"],
                                                     chromosome_count=46)))
    assert abl["diagnosis"]["subtype"]["key"] == "BCR::ABL1-like"
    assert abl["diagnosis"]["subtype"]["icc"] == "B-ALL, BCR::ABL1-like, ABL-1 class rearranged"
    crlf2 = assess_doc(b_all_record(genetics=_genetics(alterations=["CRLF2_rearrangement"],
                                                       chromosome_count=46)))
    assert crlf2["diagnosis"]["subtype"]["key"] == "NOS"
    cls = next(t for t in crlf2["trace"] if t["output"] == "genetics.ph_like_class")
    assert cls["value"] == "crlf2_needs_expression_profile"


def test_iscn_constitutional_plus_21c_does_not_count_towards_the_ploidy_band() -> None:
    doc = b_all_record(genetics={"karyotype": "51,XY,+X,+6,+14,+21,+21c[16]/47,XY,+21c[4]",
                                 "fusions": [], "alterations": []})
    result = assess_doc(doc)
    assert result["diagnosis"]["subtype"]["key"] != "high_hyperdiploid"
    assert any("+21c not counted" in n for n in result["notes"])


def test_nachman_2007_doubled_near_haploid_clone_is_read_as_hypodiploid() -> None:
    doc = b_all_record(genetics={
        "karyotype": "27,X,+Y,+14,+18,+21[6]/54,XXYY,+14,+14,+18,+18,+21,+21[12]/46,XY[2]",
        "fusions": [], "alterations": []})
    result = assess_doc(doc)
    assert result["diagnosis"]["subtype"]["key"] == "near_haploid"
    assert any("possible masked hypodiploidy" in n for n in result["notes"])


def test_masked_hypodiploidy_pattern_of_tetrasomies_is_flagged() -> None:
    doc = b_all_record(genetics={
        "karyotype": "58,XX,+X,+X,+10,+10,+14,+14,+18,+18,+21,+21,+22,+22[15]/46,XX[5]",
        "fusions": [], "alterations": []})
    result = assess_doc(doc)
    assert any("DNA index or SNP array" in n for n in result["notes"])


def test_aall1231_t_all_end_of_consolidation_mrd_exactly_0_1_percent_is_very_high() -> None:
    doc = b_all_record(markers=_T_MARKERS, extramedullary=_EM, steroid_pretreatment=False,
                       extra_obs=[{"code": "mrd_marrow", "value": 0.3, "unit": "%",
                                   "time": "2024-03-29", "timepoint": "end_of_induction"},
                                  {"code": "mrd_marrow", "value": 0.1, "unit": "%",
                                   "time": "2024-05-20", "timepoint": "end_of_consolidation"}])
    assert risk(assess_doc(doc), "t_all_nccn_pediatric")["group"] == "very_high"


def test_aall0434_etp_in_a_child_is_not_unfavourable_in_an_adult_it_is() -> None:
    child = assess_doc(b_all_record(markers=_ETP_MARKERS))
    adult = assess_doc(b_all_record(markers=_ETP_MARKERS, birth="1990-01-01"))
    assert child["diagnosis"]["subtype"]["key"] == "ETP"
    assert child["diagnosis"]["subtype"]["prognosis"] == "intermediate"
    assert adult["diagnosis"]["subtype"]["prognosis"] == "unfavorable"


# Induction failure as a state in every scheme (issue 11 item 6): M3 marrow (25% blasts or
# more) at the end of induction; Schrappe 2012 [INDUCTION-FAILURE-2012] found it highly adverse,
# worst with 25% or more marrow blasts at the end of induction and with 11q23 rearrangement.

def _eoi_marrow(value: float) -> list[dict[str, Any]]:
    return [{"code": "marrow_blasts", "value": value, "unit": "%", "time": "2024-03-29"}]


def test_schrappe_2012_m3_at_end_of_induction_is_induction_failure_in_aall1731() -> None:
    doc = b_all_record(genetics=_genetics(fusions=["ETV6::RUNX1"], chromosome_count=46),
                       extramedullary=_EM, steroid_pretreatment=False,
                       extra_obs=_eoi_marrow(30))
    result = assess_doc(doc)
    assert risk(result, "aall1731")["group"] == "induction_failure"
    assert risk(result, "aall1731")["rule_id"] == "aall1731.induction_failure"
    assert risk(result, "cog_pdq")["group"] == "very_high"


def test_schrappe_2012_m2_at_end_of_induction_is_not_induction_failure_in_aall1731() -> None:
    doc = b_all_record(genetics=_genetics(fusions=["ETV6::RUNX1"], chromosome_count=46),
                       extramedullary=_EM, steroid_pretreatment=False,
                       extra_obs=_eoi_marrow(24.9))
    result = assess_doc(doc)
    assert risk(result, "aall1731")["rule_id"] != "aall1731.induction_failure"


def test_schrappe_2012_infant_with_m3_at_end_of_induction_is_induction_failure_in_both_schemes(
) -> None:
    doc = b_all_record(birth="2023-07-01", genetics=_genetics(fusions=["KMT2A::AFF1"],
                                                              chromosome_count=46),
                       extramedullary=_EM, steroid_pretreatment=False,
                       extra_obs=_eoi_marrow(25))
    result = assess_doc(doc)
    assert risk(result, "infant_nccn")["group"] == "induction_failure"
    assert risk(result, "infant_interfant06")["group"] == "induction_failure"


def test_infant_in_remission_at_end_of_induction_keeps_the_scheme_group() -> None:
    doc = b_all_record(birth="2023-07-01", wbc=20,
                       genetics=_genetics(fusions=["ETV6::RUNX1"], chromosome_count=46),
                       extramedullary=_EM, steroid_pretreatment=False,
                       extra_obs=_eoi_marrow(2))
    result = assess_doc(doc)
    assert risk(result, "infant_nccn")["group"] == "standard"
    assert risk(result, "infant_interfant06")["group"] == "low"


def test_stanulla_2018_possible_ikzf1plus_is_derived_never_given_by_a_record() -> None:
    """IKZF1plus_possible is ALLPath's own reading of an unstated CDKN2A/B zygosity; a record
    gives the components (or IKZF1plus itself), so the term is not record vocabulary."""
    from allpath import parse_record
    from allpath.errors import RecordError

    doc = b_all_record(genetics=_genetics(chromosome_count=46,
                                          alterations=["IKZF1plus_possible"]))
    with pytest.raises(RecordError, match="unknown alteration"):
        parse_record(doc)


def test_pdq_cog_group_figure_waits_for_a_final_group() -> None:
    """Review D (rp05): while the COG group is provisional (shown as if MRD were negative)
    its 90-95% figure is not listed; once MRD makes the group final, the figure is."""
    pending = assess_doc(b_all_record(genetics=_genetics(chromosome_count=46),
                                      extramedullary=_EM))
    assert not [p for p in pending["prognosis"] if p["rule_id"].startswith("prognosis.cog_")]
    assert "provisional" in pending["prognosis_note"]
    final = assess_doc(b_all_record(
        genetics=_genetics(chromosome_count=46), extramedullary=_EM,
        extra_obs=[{"code": "marrow_blasts", "value": 1, "unit": "%", "time": "2024-03-29"},
                   {"code": "mrd_marrow", "value": 0.5, "unit": "%", "time": "2024-03-29"}]))
    cog = [p for p in final["prognosis"] if p["rule_id"].startswith("prognosis.cog_")]
    assert [p["rule_id"] for p in cog] == ["prognosis.cog_very_high"]


def test_tomizawa_2020_mll10_infant_kmt2a_figure_is_listed_beside_the_interfant_era_one() -> None:
    """Review D (rp04): fact sheet 9.15 gives both the Interfant-era 5-year EFS (<40%) and the
    MLL-10 3-year EFS (66.2%) for KMT2A-rearranged infants [S47][S47c]."""
    doc = b_all_record(birth="2023-11-01", genetics=_genetics(fusions=["KMT2A::AFF1"],
                                                               chromosome_count=46))
    figs = {p["rule_id"]: p for p in assess_doc(doc)["prognosis"]}
    assert figs["prognosis.infant_kmt2a"]["figure"] == "<40%"
    assert figs["prognosis.infant_kmt2a_mll10"]["figure"] == "66.2%"
    assert figs["prognosis.infant_kmt2a_mll10"]["citations"] == ["S47c"]
