"""The family page asks the optional answers treatment_start, recent_transplant and transplant,
and the web route passes them to the same triage call (the web layer holds no clinical logic).

The expected answers are read from the triage pack (90-triage.yaml) and the library, never
written here: the first-week window from rule
``triage.urgency.emergency.low_urine_tumour_lysis_window``, the graft-versus-host signs and
their urgency from rule ``triage.urgency.urgent.gvhd_signs_after_transplant``.
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient

from allpath.rules.loader import load_knowledge
from allpath.triage import triage
from allpath.web import create_web_app

client = TestClient(create_web_app())
FIRST_WEEK_RULE = "triage.urgency.emergency.low_urine_tumour_lysis_window"
GVHD_RULE = "triage.urgency.urgent.gvhd_signs_after_transplant"
DAY = dt.date(2026, 12, 7)  # the family's day of the check, sent by the form as `date`
# what the form sends for the first questions: yes -> true, no -> false, not sure -> "unknown"
ON_TREATMENT: dict[str, Any] = {"age_years": 6, "sex": "female", "on_treatment": True,
                                "central_line": False}


class _Form(HTMLParser):
    """The controls of the family page: inputs by id and radio choices by name, with the
    text of each label and of each element that has an id."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.radios: dict[str, dict[str, str]] = {}  # name -> value -> label text
        self.labels_for: dict[str, str] = {}
        self.checked: list[str] = []  # radio groups with a choice made before the family's
        self.text_of: dict[str, str] = {}
        self._open: list[tuple[str, str | None, list[str]]] = []  # tag, id or for, text
        self._radio: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input":
            if a.get("id"):
                self.inputs[str(a["id"])] = a
            if a.get("type") == "radio":
                self._radio = (str(a["name"]), str(a["value"]))
                self.radios.setdefault(str(a["name"]), {})[str(a["value"])] = ""
                if "checked" in a:
                    self.checked.append(str(a["name"]))
            return
        key = f"for:{a['for']}" if tag == "label" and a.get("for") else a.get("id")
        self._open.append((tag, key, []))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._radio = None
        while self._open:
            name, key, text = self._open.pop()
            whole = " ".join(" ".join(text).split())
            if key and key.startswith("for:"):
                self.labels_for[key[4:]] = whole
            elif key:
                self.text_of[key] = whole
            if self._open:
                self._open[-1][2].append(whole)
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._radio is not None and data.strip():
            name, value = self._radio
            self.radios[name][value] += data.strip()
        if self._open:
            self._open[-1][2].append(data)


def _page() -> _Form:
    form = _Form()
    form.feed(client.get("/family").text)
    return form


def _pack_rule(rule_id: str) -> Any:
    return load_knowledge().rule(rule_id)[2]


def _first_week_days() -> tuple[int, int]:
    """The days since the start that the pack counts as the first week (its two conditions
    on triage.days_since_treatment_start)."""
    rule = _pack_rule(FIRST_WEEK_RULE)
    bounds = {c.op: int(c.value) for c in rule.when.all
              if getattr(c, "fact", None) == "triage.days_since_treatment_start"
              and getattr(c, "op", None) in (">=", "<=")}
    return bounds[">="], bounds["<="]


def _code_for(plain: str) -> str:
    """The symptom code behind the words the family ticks on the page."""
    shown = client.get("/web/symptoms", params={"labels": "plain"}).json()
    return next(s["code"] for s in shown if s["label"].startswith(plain))


def _post(body: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/web/triage", json=body)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _rules(result: dict[str, Any]) -> list[str]:
    return [r["rule_id"] for r in result["reasons"]]


def test_family_page_asks_the_start_day_and_both_transplant_questions_with_not_sure() -> None:
    page = _page()
    start = page.inputs["treatment-start"]
    assert start["type"] == "date" and start["name"] == "treatment_start"
    assert "treatment started" in page.labels_for["treatment-start"]
    for name, question_id in (("recent_transplant", "q-recent-transplant"),
                              ("transplant", "q-transplant")):
        assert page.radios[name] == {"yes": "Yes", "no": "No", "unknown": "Not sure"}, name
        assert "stem cell" in page.text_of[question_id]
    assert "100 days" in page.text_of["q-recent-transplant"]
    assert "transplant team" in page.text_of["q-transplant"]
    # optional: nothing is chosen or filled in before the family answers
    assert not {"recent_transplant", "transplant"} & set(page.checked)
    assert "required" not in start and "value" not in start


def test_new_family_questions_read_at_about_8th_grade_or_easier() -> None:
    import textstat

    text = _page().text_of["more-questions"]
    assert "skip" in text and "Not sure" in text
    assert textstat.flesch_kincaid_grade(text) <= 8.5, textstat.flesch_kincaid_grade(text)


def test_s36_first_week_start_with_much_less_pee_from_the_form_is_a_call_now() -> None:
    low, high = _first_week_days()
    rule = _pack_rule(FIRST_WEEK_RULE)
    much_less_pee = _code_for("peeing much less")
    body = {**ON_TREATMENT, "symptoms": [much_less_pee], "date": DAY.isoformat()}
    for day in (low, (low + high) // 2, high):
        start = (DAY - dt.timedelta(days=day)).isoformat()
        result = _post({**body, "treatment_start": start})
        assert result["urgency"] == rule.then, (day, result["urgency"])
        assert result["advice"] == "oncology_team_now"
        assert _rules(result)[0] == FIRST_WEEK_RULE
        assert result == triage({"format": "allpath.triage/1", **body,
                                 "treatment_start": start}).to_dict()
    # the day after the window, and no start day at all, are not the first-week answer
    later = _post({**body, "treatment_start": (DAY - dt.timedelta(days=high + 1)).isoformat()})
    assert FIRST_WEEK_RULE not in _rules(later) and later["urgency"] != rule.then
    unanswered = _post(body)
    assert FIRST_WEEK_RULE not in _rules(unanswered)
    assert "triage.days_since_treatment_start" in [m["fact"] for m in unanswered["missing"]]


def test_aamds_rash_with_recent_transplant_yes_from_the_form_is_the_gvhd_call_today() -> None:
    rule = _pack_rule(GVHD_RULE)
    rash = _code_for("a rash")
    signs = next(c for c in rule.when.all if getattr(c, "contains_any", None))
    assert rash in signs.contains_any
    # "no" to chemotherapy and "yes" to a transplant in the last 100 days (review N)
    result = _post({**ON_TREATMENT, "on_treatment": False, "recent_transplant": True,
                    "symptoms": [rash]})
    assert result["urgency"] == rule.then and result["advice"] == "oncology_team_today"
    assert GVHD_RULE in _rules(result)
    assert "transplant_signs_today" in [s["code"] for s in result["next_steps"]]
    assert "graft-versus-host" in result["plain_language"]["what_it_can_mean"]
    # "yes" to a transplant at any time, still followed by the transplant team
    ever = _post({**ON_TREATMENT, "on_treatment": False, "transplant": True,
                  "symptoms": [rash]})
    assert "triage.urgency.urgent.gvhd_signs_any_time_after_transplant" in _rules(ever)


def test_not_sure_is_passed_as_unknown_the_same_as_no_answer() -> None:
    page = _page()
    assert page.radios["recent_transplant"]["unknown"] == "Not sure"
    rash = _code_for("a rash")
    base = {**ON_TREATMENT, "symptoms": [rash]}
    unanswered = _post(base)
    for question in ("recent_transplant", "transplant"):
        not_sure = _post({**base, question: "unknown"})
        assert not_sure == unanswered, question
        yes = _post({**base, question: True})
        assert "transplant_signs_today" in [s["code"] for s in yes["next_steps"]]
    both = _post({**base, "recent_transplant": "unknown", "transplant": "unknown"})
    assert both == unanswered
    steps = [s["code"] for s in both["next_steps"]]
    assert "transplant_signs_today" not in steps and "rash_today" in steps
    assert not {GVHD_RULE, "triage.urgency.urgent.gvhd_signs_any_time_after_transplant"} & \
        set(_rules(both))


def test_impossible_start_date_or_answer_is_a_problem_naming_the_field() -> None:
    for field, bad in (("treatment_start", "2026-02-30"), ("treatment_start", "275760-09-13"),
                       ("recent_transplant", "maybe"), ("transplant", "years ago")):
        r = client.post("/web/triage", json={**ON_TREATMENT, "symptoms": ["rash"],
                                             field: bad})
        assert r.status_code == 422, (field, bad)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["path"] for e in r.json()["errors"]] == [field], (field, bad)
