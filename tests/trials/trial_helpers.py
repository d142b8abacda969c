"""Small builders shared by the trial tests."""

from __future__ import annotations

import json
from typing import Any

import yaml

from allpath import assess, parse_record
from allpath.examples import example_paths
from allpath.outputs.assessment import Assessment
from allpath.trials import Trial


def example_doc(record_id: str) -> dict[str, Any]:
    for p in example_paths():
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        if doc["id"] == record_id:
            return dict(json.loads(json.dumps(doc, default=str)))
    raise KeyError(record_id)


def assessed(doc: dict[str, Any]) -> Assessment:
    return assess(parse_record(doc))


def trial(title: str, *, conditions: tuple[str, ...] = (), status: str = "RECRUITING",
          groups: tuple[str, ...] = ("CHILD", "ADULT", "OLDER_ADULT"), **kw: Any) -> Trial:
    return Trial(nct_id=kw.pop("nct_id", "NCT00000001"), title=title, status=status,
                 conditions=conditions, age_groups=frozenset(groups), source="csv", **kw)
