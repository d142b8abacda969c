"""Every number a family step states (hours, days, months, times) is one its sources state.

The step texts live in ``allpath.triage.texts`` beside the pack rule that gives each step;
the number a family acts on (6 hours of no pee, 6 days for immune globulin, 48 hours for a
limp) must be in the reference text of a citation of that rule (citations.yaml), so that no
step can carry a number nobody published. Number words count (four = 4), and N hours count
as N/24 days when whole (48 hours = 2 days). 911 and 988 are phone numbers."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from allpath.rules.loader import knowledge_dir
from allpath.triage import texts

_PHONE = {"911", "988"}
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10, "twelve": 12}
_NUM = re.compile(r"\d+(?:\.\d+)?")


def _pack_steps() -> dict[str, set[str]]:
    pack: Any = yaml.safe_load((knowledge_dir() / "packs" / "90-triage.yaml").read_text("utf-8"))
    [dec] = [d for d in pack["decisions"] if d["output"] == "triage.next_steps"]
    out: dict[str, set[str]] = {}
    for rule in dec["rules"]:
        out.setdefault(str(rule["then"]), set()).update(rule.get("cite", []))
    return out


def _references() -> dict[str, str]:
    doc: Any = yaml.safe_load((knowledge_dir() / "citations.yaml").read_text("utf-8"))
    return {c["id"]: str(c.get("reference", "")) for c in doc["citations"]}


def _numbers_in(text: str) -> set[str]:
    for word, n in _WORDS.items():
        text = re.sub(rf"\b{word}\b", str(n), text, flags=re.IGNORECASE)
    found = {str(float(x)).removesuffix(".0") for x in _NUM.findall(text)}
    for hours in re.findall(r"(\d+)\s*(?:hours|h\b)", text):
        if int(hours) % 24 == 0:
            found.add(str(int(hours) // 24))
    return found


STEPS = _pack_steps()


def _rule_code(key: str) -> str:
    """A text variant (drinks_watch_baby) belongs to its step (drinks_watch)."""
    return max((c for c in STEPS if key == c or key.startswith(c + "_")), key=len, default=key)


NUMBERED = sorted(k for k, v in texts.NEXT_STEP_PLAIN.items()
                  if _numbers_in(v) - _PHONE)


def test_some_steps_carry_numbers() -> None:
    assert len(NUMBERED) >= 10


@pytest.mark.parametrize("key", NUMBERED)
def test_every_number_in_a_family_step_is_in_a_cited_source(key: str) -> None:
    code = _rule_code(key)
    assert code in STEPS, f"{key}: no pack rule gives this step"
    refs = _references()
    cited = " ".join(refs.get(c, "") for c in STEPS[code])
    missing = _numbers_in(texts.NEXT_STEP_PLAIN[key]) - _PHONE - _numbers_in(cited)
    assert not missing, (key, sorted(missing), sorted(STEPS[code]))
