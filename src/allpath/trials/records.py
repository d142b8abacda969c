"""One clinical-trial registration, whatever file it came from.

ClinicalTrials.gov publishes the same study in three shapes that ALLPath reads
(`allpath.trials.load`): the website's CSV export, the legacy ``<clinical_study>`` XML and the
API v2 JSON. Each loader turns its shape into these frozen values, with the API v2 spellings as
the canonical vocabulary (``RECRUITING``, ``PHASE2``, ``CHILD``/``ADULT``/``OLDER_ADULT``).

A field the source does not carry is ``None`` (or empty), never guessed: the CSV export has age
groups but no exact ages and no eligibility text, so a matcher must say "unknown" there.
The bundled snapshot adds criteria text from ``knowledge/trials/eligibility.yaml`` where a
public copy of the registry record has it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

__all__ = ["Site", "Trial"]


@dataclass(frozen=True, slots=True)
class Site:
    """One place where a study runs (a facility as registered, with its address parts)."""

    facility: str
    city: str | None = None
    state: str | None = None
    country: str | None = None
    status: str | None = None  # the site's own recruitment status when the source gives one
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Trial:
    """A registered study, normalised to the API v2 vocabulary.

    ``age_groups`` holds ClinicalTrials.gov's standard age groups (``CHILD``, ``ADULT``,
    ``OLDER_ADULT``); ``min_age_years``/``max_age_years`` are the exact limits when the source
    gives them (``None`` = no limit stated or not in this format: see ``has_exact_ages``).
    ``source`` names the file format it was read from (``csv``, ``xml`` or ``json``).
    """

    nct_id: str
    title: str
    status: str
    conditions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    interventions: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    study_type: str | None = None
    sponsor: str | None = None
    sex: str | None = None  # ALL, FEMALE, MALE
    age_groups: frozenset[str] = frozenset()
    min_age_years: float | None = None
    max_age_years: float | None = None
    has_exact_ages: bool = False
    eligibility_text: str | None = None
    #: False when the criteria text is known to be cut short (a partial public copy)
    eligibility_complete: bool | None = None
    enrollment: int | None = None
    start_date: dt.date | None = None
    completion_date: dt.date | None = None
    sites: tuple[Site, ...] = field(default=())
    source: str = "json"

    @property
    def url(self) -> str:
        """The study's public page."""
        return f"https://clinicaltrials.gov/study/{self.nct_id}"

    @property
    def text(self) -> str:
        """Title, conditions, keywords and interventions: the text a study is matched on.

        The eligibility text is left out on purpose: it is read section by section (a word
        under "Exclusion criteria" means the opposite) by ``allpath.trials.eligibility``.
        """
        return " | ".join((self.title, *self.conditions, *self.keywords, *self.interventions))
