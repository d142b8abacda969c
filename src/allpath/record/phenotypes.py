"""TPMT and NUDT15 metaboliser phenotypes: the CPIC terms and the spellings read as them.

Used where a phenotype enters (a record's ``pharmacogenomics``, a maintenance log header);
it lives with the record so that reading a record never reaches up into monitoring.
"""

from __future__ import annotations

import re

from allpath.errors import Problem, RecordError, did_you_mean, shown

__all__ = ["PHENOTYPES", "normalise_phenotype"]

PHENOTYPES: tuple[str, ...] = (
    "normal", "intermediate", "possible_intermediate", "poor", "indeterminate",
)


def normalise_phenotype(text: str, *, what: str, source: str | None = None) -> str:
    """Map a phenotype spelling to a CPIC term; raise RecordError when it is unknown."""
    key = re.sub(r"[\s\-]+", "_", str(text).strip().lower())
    key = re.sub(r"_?metabol[iy][sz]er$", "", key)
    key = {"nm": "normal", "im": "intermediate", "pm": "poor",
           "possible_im": "possible_intermediate"}.get(key, key)
    if key not in PHENOTYPES:
        raise RecordError([Problem(what, f"unknown {what.upper()} phenotype",
                                   expected=" | ".join(PHENOTYPES), got=shown(text),
                                   hint=did_you_mean(key, PHENOTYPES), source=source)],
                          source)
    return key
