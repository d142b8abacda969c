"""Clinical-trial pre-screening and a centre finder over ClinicalTrials.gov records.

>>> from allpath.pipeline import assess_file
>>> from allpath.trials import bundled_trials, match_trials
>>> report = match_trials(assess_file("src/allpath/examples/example-001.yaml"), bundled_trials())
>>> report.matches[0].verdict
'possible'

Stages, in the order the data flows: ``load`` (CSV export, classic XML, API v2 JSON →
:class:`Trial`), ``profile`` (assessment → what a registration can ask about), ``criteria``
(the cited pre-screen definition in ``knowledge/trials/criteria.yaml``), ``match`` (one outcome
per criterion and a verdict per study), ``centres`` (sites of open studies by place), ``fhir``
(matches as FHIR R4 ResearchStudy resources).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from allpath.knowledge import knowledge_dir
from allpath.trials.centres import Centre, find_centres
from allpath.trials.criteria import Criteria, load_criteria
from allpath.trials.eligibility import (
    EligibilityEntry,
    bundled_eligibility,
    read_eligibility,
    read_eligibility_file,
    with_eligibility,
)
from allpath.trials.load import (
    read_ctgov_csv,
    read_ctgov_json,
    read_ctgov_xml,
    read_fhir_research_studies,
    read_trials,
)
from allpath.trials.match import (
    TRIALS_DISCLAIMER,
    CriterionResult,
    MatchReport,
    TrialMatch,
    match_trials,
)
from allpath.trials.profile import TrialProfile, profile_from_assessment
from allpath.trials.records import Site, Trial

__all__ = [
    "TRIALS_DISCLAIMER",
    "Centre",
    "Criteria",
    "CriterionResult",
    "EligibilityEntry",
    "MatchReport",
    "Site",
    "Trial",
    "TrialMatch",
    "TrialProfile",
    "bundled_eligibility",
    "bundled_trials",
    "bundled_trials_path",
    "find_centres",
    "load_criteria",
    "match_trials",
    "profile_from_assessment",
    "read_ctgov_csv",
    "read_ctgov_json",
    "read_ctgov_xml",
    "read_eligibility",
    "read_eligibility_file",
    "read_fhir_research_studies",
    "read_trials",
    "with_eligibility",
]


def bundled_trials_path() -> Path:
    """The bundled snapshot of open ALL studies (see ``knowledge/trials/README.md``)."""
    return knowledge_dir() / "trials" / "ctgov-all-open.csv"


@lru_cache(maxsize=1)
def bundled_trials() -> tuple[Trial, ...]:
    """The bundled snapshot, read once, with the criteria text of
    ``knowledge/trials/eligibility.yaml`` merged in by NCT number."""
    return with_eligibility(read_ctgov_csv(bundled_trials_path()), bundled_eligibility())
