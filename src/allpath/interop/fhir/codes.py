"""Code systems, profiles and the code tables of the FHIR mapping (see docs/fhir.md).

Only codes checked against the fact sheet (clinical-facts §10.2-10.3), the analyte catalogue
or the mCODE 4 sources are listed. Concepts without a verified standard code are written
with ALLPath's own code systems under ``https://allpath.invalid/fhir/`` (a name, not a
resolvable address), which ALLPath also reads back.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ALL_CONDITION_CODES",
    "CS",
    "EXT",
    "GENOMICS",
    "HGNC_IDS",
    "MCODE",
    "PREDISPOSITION_CODES",
    "RXNORM_INGREDIENTS",
    "SO_COPY_LOSS",
    "SO_FUSION",
    "SO_MUTATION",
    "code_key",
]

BASE = "https://allpath.invalid/fhir"


class CS:
    """Code-system URLs."""

    LOINC = "http://loinc.org"
    SNOMED = "http://snomed.info/sct"
    UCUM = "http://unitsofmeasure.org"
    ICD10 = "http://hl7.org/fhir/sid/icd-10"
    ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
    ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
    NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
    HGNC = "http://www.genenames.org"
    SO = "http://www.sequenceontology.org/"
    RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
    OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
    CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
    CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
    CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
    PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
    # ALLPath's own code systems (names, not resolvable addresses).
    ANALYTE = f"{BASE}/CodeSystem/analyte"
    FINDING = f"{BASE}/CodeSystem/finding"
    MARKER = f"{BASE}/CodeSystem/marker"
    MARKER_RESULT = f"{BASE}/CodeSystem/marker-result"
    ALTERATION = f"{BASE}/CodeSystem/alteration"
    CONDITION = f"{BASE}/CodeSystem/condition"
    SYMPTOM = f"{BASE}/CodeSystem/symptom"
    PHASE = f"{BASE}/CodeSystem/treatment-phase"
    RISK_SCHEME = f"{BASE}/CodeSystem/risk-scheme"
    RISK_GROUP = f"{BASE}/CodeSystem/risk-group"
    MRD_LEVEL = f"{BASE}/CodeSystem/mrd-level"
    SUBTYPE = f"{BASE}/CodeSystem/subtype"
    DIAGNOSIS = f"{BASE}/CodeSystem/diagnosis-status"
    ALERT = f"{BASE}/CodeSystem/alert"
    # How an exported Observation was made (``derived``: computed by ALLPath's rules).
    OBS_ORIGIN = f"{BASE}/CodeSystem/observation-origin"
    RULESET = f"{BASE}/ruleset"


class EXT:
    """Extension URLs."""

    RISK_GROUP = f"{BASE}/StructureDefinition/all-risk-group"
    PROTOCOL = f"{BASE}/StructureDefinition/treatment-protocol"
    US_CORE_BIRTH_SEX = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex"
    DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
    HISTOLOGY = ("http://hl7.org/fhir/us/mcode/StructureDefinition/"
                 "mcode-histology-morphology-behavior")


class MCODE:
    """mCODE 4 profiles and fixed codes."""

    BASE = "http://hl7.org/fhir/us/mcode/StructureDefinition"
    CANCER_PATIENT = f"{BASE}/mcode-cancer-patient"
    MEDICATION_REQUEST = f"{BASE}/mcode-cancer-related-medication-request"
    MEDICATION_ADMINISTRATION = f"{BASE}/mcode-cancer-related-medication-administration"
    PRIMARY_CANCER_CONDITION = f"{BASE}/mcode-primary-cancer-condition"
    ALL_RISK = f"{BASE}/mcode-ALL-risk-assessment"
    GENOMIC_VARIANT = f"{BASE}/mcode-genomic-variant"
    TUMOR_MARKER = f"{BASE}/mcode-tumor-marker-test"
    DISEASE_STATUS = f"{BASE}/mcode-cancer-disease-status"
    # Observation.code of the ALL risk assessment (NCIt "Leukemia Finding") and its values.
    ALL_RISK_CODE = ("C167435", "Leukemia Finding")
    RISK_VALUES: ClassVar[dict[str, tuple[str, str]]] = {
        "standard": ("C122457", "Standard Risk Acute Leukemia"),
        "high": ("C122458", "High Risk Acute Leukemia"),
    }
    DISEASE_STATUS_CODE = "97509-4"  # LOINC "Cancer disease progression"
    CNS_STATUS_CODE = ("C116832", "CNS status at diagnosis")  # NCIt, values C116833-C116843


class GENOMICS:
    """LOINC codes of the genomics-reporting / mCODE GenomicVariant pattern."""

    VARIANT = "69548-6"  # Genetic variant assessment
    GENE_STUDIED = "48018-6"
    CHANGE_TYPE = "48019-4"  # DNA change type
    SOURCE_CLASS = "48002-0"
    PRESENT = "LA9633-4"
    ABSENT = "LA9634-2"
    IMMUNOPHENOTYPE = "101119-6"  # Leukemia and lymphoma immunophenotyping panel (Specimen)


# HGNC gene ids (``http://www.genenames.org``) of the genes ALLPath writes in a
# GenomicVariant, each from a source that names it: the official examples of the mCODE 4.0.0
# package (BCR, ABL1, ETV6, RUNX1, CDKN2A, CDKN2B), the NCBI Gene record 4297 for KMT2A
# ("Primary source HGNC:HGNC:7132") and the Ensembl/HGNC cross-reference of ENSG00000172493
# for AFF1. A gene not listed is written by its symbol only (text), never with a guessed id.
HGNC_IDS: dict[str, str] = {
    "BCR": "HGNC:1014",
    "ABL1": "HGNC:76",
    "ETV6": "HGNC:3495",
    "RUNX1": "HGNC:10471",
    "CDKN2A": "HGNC:1787",
    "CDKN2B": "HGNC:1788",
    "KMT2A": "HGNC:7132",
    "AFF1": "HGNC:7135",
}

# RxNorm ingredient codes of ALL drugs, as the official mCODE 4.0.0 examples use them
# (MedicationRequest/MedicationAdministration of the pediatric ALL patient and others), for
# drugs whose code ``knowledge/drugs.yaml`` does not confirm (it comes first where it does).
# Drug names are matched case-insensitively; a drug in neither is written as text only.
RXNORM_INGREDIENTS: dict[str, tuple[str, str]] = {
    "vincristine": ("11202", "vincristine"),
    "cyclophosphamide": ("3002", "cyclophosphamide"),
    "idarubicin": ("5650", "IDArubicin"),
    "prednisone": ("8640", "predniSONE"),
    "doxorubicin": ("3639", "DOXOrubicin"),
}

SO_FUSION = {"SO:1000044", "SO:0001565", "SO:1000043"}  # translocation, gene_fusion, ...
SO_COPY_LOSS = {"SO:0001743", "SO:0000159", "SO:1000029"}  # copy_number_loss, deletion, ...
SO_MUTATION = {"SO:0001583", "SO:0001587", "SO:0001589", "SO:0001818", "SO:0001059"}

# Condition codes that are ALL itself: (system, code) -> (label, lineage or None, note).
_ICD10_SYSTEMS = (CS.ICD10, CS.ICD10CM)
ALL_CONDITION_CODES: dict[tuple[str, str], tuple[str, str | None]] = {
    (CS.SNOMED, "91857003"): ("acute lymphoblastic leukaemia", None),
    (CS.SNOMED, "277571004"): ("B-cell acute lymphoblastic leukaemia", "B"),
    (CS.NCIT, "C8644"): ("B-lymphoblastic leukaemia", "B"),
    (CS.NCIT, "C3183"): ("T-lymphoblastic leukaemia", "T"),
    (CS.ICDO3, "9811/3"): ("B-lymphoblastic leukaemia/lymphoma, NOS", "B"),
    (CS.ICDO3, "9812/3"): ("B-ALL/LBL with BCR::ABL1", "B"),
    (CS.ICDO3, "9813/3"): ("B-ALL/LBL with KMT2A rearrangement", "B"),
    (CS.ICDO3, "9814/3"): ("B-ALL/LBL with ETV6::RUNX1", "B"),
    (CS.ICDO3, "9815/3"): ("B-ALL/LBL with hyperdiploidy", "B"),
    (CS.ICDO3, "9816/3"): ("B-ALL/LBL with hypodiploidy", "B"),
    (CS.ICDO3, "9817/3"): ("B-ALL/LBL with IL3::IGH", "B"),
    (CS.ICDO3, "9818/3"): ("B-ALL/LBL with TCF3::PBX1", "B"),
    (CS.ICDO3, "9819/3"): ("B-ALL/LBL, BCR::ABL1-like", "B"),
    (CS.ICDO3, "9837/3"): ("T-lymphoblastic leukaemia/lymphoma", "T"),
    (CS.ICDO3, "9836/3"): ("precursor B-cell lymphoblastic leukaemia (before 2010)", "B"),
    **{
        (s, c): (label, None)
        for s in _ICD10_SYSTEMS
        for c, label in (
            ("C91.0", "acute lymphoblastic leukaemia"),
            ("C91.00", "ALL not having achieved remission"),
            ("C91.01", "ALL in remission"),
            ("C91.02", "ALL in relapse"),
        )
    },
}

# Predisposing conditions: (system, code) -> vocabulary term of ``conditions``.
PREDISPOSITION_CODES: dict[tuple[str, str], str] = {
    (CS.SNOMED, "41040004"): "down_syndrome",  # Complete trisomy 21 syndrome (Down syndrome)
    **{(s, f"Q90.{d}"): "down_syndrome" for s in _ICD10_SYSTEMS for d in "0129"},
    **{(s, "Q90"): "down_syndrome" for s in _ICD10_SYSTEMS},
    **{(s, "G11.3"): "ataxia_telangiectasia" for s in _ICD10_SYSTEMS},
    **{(s, f"Q98.{d}"): "klinefelter_syndrome" for s in _ICD10_SYSTEMS for d in "01234"},
}


def code_key(system: str | None, code: str | None) -> tuple[str, str]:
    """A normalised (system, code) pair for table look-ups (ICD-O-3 ``9811/3`` or ``98113``)."""
    s = (system or "").rstrip("/")
    if s == CS.SO.rstrip("/"):
        s = CS.SO
    c = (code or "").strip()
    if s == CS.ICDO3 and "/" not in c and len(c) == 5 and c.isdigit():
        c = f"{c[:4]}/{c[4]}"
    return s, c
