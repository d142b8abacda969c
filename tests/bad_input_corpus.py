"""The hand-made bad-input corpus of issue 14, shared by the regression tests
(tests/api/test_api_hardening.py, tests/test_review_bad_inputs.py) and the benchmark that
counts it (benchmarks/hardening.py), so that the figures are those of what the tests send.

``bad_requests(doc, pid)`` is every request of ``test_bad_input_corpus_is_never_a_5xx``:
each leaf of a record set to bad values (create, and for some also replace), each field of
an observation set to every bad value, the same values as CDS Hooks context and feedback,
and paths with over-long ids or NUL bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

NUL = "\x00"
BAD_VALUES: list[Any] = [NUL, f"a{NUL}b", float("inf"), float("-inf"), float("nan"),
                         "x" * 300, "9999-12-01", "0001-01-01", 1e308, -1e308, [], {}, None,
                         True, "x" * 5000]

#: a 565-byte "billion laughs": nine levels of nine aliases (9**9 strings once expanded)
BILLION_LAUGHS = "format: allpath.record/1\n" + "\n".join(
    ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]) + "\n"

HUGE = int("9" * 400)  # too large for a float: float(HUGE) raises OverflowError
#: triage documents (less ``format``) with an integer too large for a float
HUGE_NUMBER_TRIAGE: list[dict[str, Any]] = [
    {"cbc": {"anc": {"value": HUGE, "unit": "/uL"}}},
    {"cbc": {"anc": HUGE}},
    {"temperature": {"value": HUGE, "unit": "Cel"}},
]

#: GET paths with an over-long id or a NUL byte: each is a 404 or a 422
BAD_PATHS = (f"/v1/patients/{'x' * 100}", "/v1/patients/a%00b", "/v1/patients/a%00b/record",
             "/v1/patients?external_id=a%00b", "/v1/screen/a%00b", f"/v1/screen/{'y' * 99}")

CDS_URLS = ("/cds-services/allpath-patient-view", "/cds-services/allpath-order-sign")


@dataclass(frozen=True)
class BadRequest:
    """One request of the corpus; ``body`` None means no body (a GET); ``expect``, when not
    empty, lists the only statuses allowed (beyond "not a 5xx")."""

    method: str
    url: str
    body: Any
    label: str
    expect: tuple[int, ...] = ()


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The paths of every scalar in a JSON document."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, (*path, i))
    else:
        yield path


def mutated(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A copy of ``doc`` with the leaf at ``path`` set to ``value``."""
    out: dict[str, Any] = json.loads(json.dumps(doc))
    target: Any = out
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return out


def _not_finite(value: Any) -> bool:
    return isinstance(value, float) and (value != value or value in (float("inf"),
                                                                     float("-inf")))


def bad_requests(doc: dict[str, Any], pid: str) -> Iterator[BadRequest]:
    """Every bad request of the corpus for the record ``doc``, stored as patient ``pid``."""
    for n, path in enumerate(leaves(doc)):
        for m, bad in enumerate(BAD_VALUES[n % 3::3] if path != ("id",) else BAD_VALUES):
            mutant = mutated(doc, path, bad)
            if path != ("id",):
                mutant["id"] = f"corpus-{n}-{m}"
            label = f"record {path} = {repr(bad)[:40]}"
            yield BadRequest("POST", "/v1/patients", mutant, label)
            if path == ("id",) or (n + m) % 4 == 0:
                yield BadRequest("PUT", f"/v1/patients/{pid}/record", mutant, label)
    for key in doc["observations"][0]:
        for bad in BAD_VALUES:
            yield BadRequest("POST", f"/v1/patients/{pid}/observations",
                             {"observations": [{**doc["observations"][0], key: bad}]},
                             f"observation {key} = {repr(bad)[:40]}",
                             (422,) if _not_finite(bad) else ())
    for bad in BAD_VALUES:
        for url in CDS_URLS:
            yield BadRequest("POST", url, {"hook": "patient-view", "hookInstance": "h-1",
                                           "context": {"userId": bad, "patientId": bad}},
                             f"{url} context = {repr(bad)[:40]}")
        yield BadRequest("POST", "/cds-services/allpath-patient-view/feedback",
                         {"feedback": [{"card": "c", "outcome": "overridden",
                                        "overrideReason": {"userComment": bad},
                                        "acceptedSuggestions": [{"id": bad}]}]},
                         f"feedback = {repr(bad)[:40]}")
    for url in BAD_PATHS:
        yield BadRequest("GET", url, None, f"GET {url[:40]}", (404, 422))
