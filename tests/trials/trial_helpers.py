"""Small builders shared by the trial tests."""

from __future__ import annotations

from typing import Any

from allpath import assess, parse_record
from allpath.outputs.assessment import Assessment
from allpath.trials import Trial
from support import example_doc

__all__ = ["assessed", "example_doc", "trial"]


def assessed(doc: dict[str, Any]) -> Assessment:
    return assess(parse_record(doc))


def trial(title: str, *, conditions: tuple[str, ...] = (), status: str = "RECRUITING",
          groups: tuple[str, ...] = ("CHILD", "ADULT", "OLDER_ADULT"), **kw: Any) -> Trial:
    return Trial(nct_id=kw.pop("nct_id", "NCT00000001"), title=title, status=status,
                 conditions=conditions, age_groups=frozenset(groups), source="csv", **kw)
