"""Find centres that run open ALL studies: a specialist finder built on the trial registry.

The seed pages point families to specialist finders; ALLPath has no directory of doctors, so
it answers the question it can answer from public data: which hospitals near a place take part
in open ALL studies (places with ALL expertise and research access). Sites are grouped by
facility, city and country as registered (ignoring case, spaces and punctuation); with
coordinates (API v2 JSON has them, the CSV export does not) they can be ranked by
great-circle distance.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from allpath.trials.criteria import Criteria, load_criteria
from allpath.trials.records import Trial

__all__ = ["Centre", "find_centres", "great_circle_km"]

#: Mean Earth radius (IUGG), km, for the haversine distance.
EARTH_RADIUS_KM = 6371.0088


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance in km between two (latitude, longitude) points in degrees."""
    lat1, lon1 = map(math.radians, a)
    lat2, lon2 = map(math.radians, b)
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class Centre:
    """One facility and the open studies it takes part in."""

    facility: str
    city: str | None
    state: str | None
    country: str | None
    lat: float | None
    lon: float | None
    trials: tuple[str, ...]
    distance_km: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "facility": self.facility, "city": self.city, "state": self.state,
            "country": self.country, "open_studies": len(self.trials),
            "nct_ids": list(self.trials),
        }
        if self.lat is not None and self.lon is not None:
            out["lat"], out["lon"] = self.lat, self.lon
        if self.distance_km is not None:
            out["distance_km"] = round(self.distance_km, 1)
        return out


def _squash(text: str | None) -> str:
    """Grouping key: letters and digits only, case-folded ("M D Anderson" = "MD Anderson")."""
    return re.sub(r"[\W_]+", "", (text or "").casefold())


def _same(value: str | None, wanted: str | None) -> bool:
    return wanted is None or (value or "").casefold() == wanted.casefold()


def find_centres(trials: Iterable[Trial], *, country: str | None = None,
                 state: str | None = None, city: str | None = None,
                 near: tuple[float, float] | None = None, within_km: float | None = None,
                 include_closed: bool = False, criteria: Criteria | None = None,
                 limit: int | None = None) -> list[Centre]:
    """Centres with open studies, filtered by place and ordered by distance or study count.

    ``country``, ``state`` and ``city`` match the registered names, ignoring case.
    ``within_km`` needs ``near`` and keeps only sites with coordinates inside that radius.
    Without ``near`` the centres with the most open studies come first.
    """
    if within_km is not None and near is None:
        raise ValueError("within_km needs near=(latitude, longitude)")
    crit = criteria or load_criteria()
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for trial in trials:
        if not include_closed and trial.status not in crit.open_statuses:
            continue
        for site in trial.sites:
            if not (_same(site.country, country) and _same(site.state, state)
                    and _same(site.city, city)):
                continue
            dist = (great_circle_km(near, (site.lat, site.lon))
                    if near is not None and site.lat is not None and site.lon is not None
                    else None)
            if within_km is not None and (dist is None or dist > within_km):
                continue
            key = (_squash(site.facility), _squash(site.city), _squash(site.country))
            g = groups.setdefault(key, {"site": site, "trials": [], "dist": dist})
            if trial.nct_id not in g["trials"]:
                g["trials"].append(trial.nct_id)
    centres = [
        Centre(g["site"].facility, g["site"].city, g["site"].state, g["site"].country,
               g["site"].lat, g["site"].lon, tuple(sorted(g["trials"])), g["dist"])
        for g in groups.values()
    ]
    if near is not None:
        centres.sort(key=lambda c: (c.distance_km is None, c.distance_km or 0.0, c.facility))
    else:
        centres.sort(key=lambda c: (-len(c.trials), c.facility))
    return centres if limit is None else centres[:limit]
