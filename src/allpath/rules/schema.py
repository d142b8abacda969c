"""Schema of rule packs (format ``allpath.rulepack/1``): a closed vocabulary, no expressions.

A pack holds *decisions*. Each decision writes one output fact (or a few named fields of one
output) from an ordered list of rules; it states whether the first matching rule wins or all
matching rules are collected, and it must state what happens when no rule matches
(``otherwise``). Conditions are built from a closed set of node types; strings are never
evaluated.

Condition nodes (exactly one form per node):

``{fact: F, op: "<"|"<="|">"|">="|"=="|"!=", value: N, unit: U}``
    numeric threshold with an explicit unit and boundary operator (converted at load time to
    the fact's canonical unit)
``{fact: F, op: ..., table: T}``
    threshold looked up in a reference table of the pack (for example by age and sex)
``{fact: F, is: V}`` / ``{fact: F, in: [V, ...]}``
    equality with a term, boolean or number
``{fact: F, contains: V}`` / ``{fact: F, contains_any: [V, ...]}`` / ``{fact: F, matches: GLOB}``
    membership in a set-valued fact (fusions, alterations, symptoms); GLOB uses ``*`` only
``{known: F}``
    true when the fact is known
``{all: [...]}`` / ``{any: [...]}`` / ``{at_least: N, of: [...]}`` / ``{not: C}``
    three-valued logic: unknown propagates unless the known parts decide the answer

Time windows are part of the fact definitions (``knowledge/facts.yaml``): each observation
fact names its analyte, the window in days from diagnosis and which value to pick.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

__all__ = [
    "OPERATORS",
    "PATHWAY_STAGES",
    "AllOf",
    "AnyOf",
    "AtLeast",
    "Compare",
    "Condition",
    "Decision",
    "Example",
    "Known",
    "Match",
    "Not",
    "Otherwise",
    "Pack",
    "Provisional",
    "RefTable",
    "Rule",
    "TableRow",
]

Scalar = str | bool | int | float

# The boundary operators of thresholds, as functions (work on numbers and numpy arrays).
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
Stage = Literal[
    # the pathway, run by allpath.pipeline.assess in pack order
    "findings", "diagnosis", "classification", "cns", "risk", "prognosis",
    # run by their own modules on their own fact snapshots
    "roadmap", "response", "relapse", "alerts", "titration", "triage",
]
PATHWAY_STAGES: tuple[str, ...] = (
    "findings", "diagnosis", "classification", "cns", "risk", "prognosis",
)
Operator = Literal["<", "<=", ">", ">=", "==", "!="]
Evidence = Literal["confirmed", "unconfirmed"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Compare(_Strict):
    fact: str
    op: Operator
    value: float | None = None
    unit: str | None = None
    table: str | None = None

    @model_validator(mode="after")
    def _one_threshold(self) -> Compare:
        if (self.value is None) == (self.table is None):
            raise ValueError("a threshold needs exactly one of 'value' or 'table'")
        if self.table is not None and self.unit is not None:
            raise ValueError("a table threshold takes its unit from the table")
        return self


class Match(_Strict):
    """Equality or membership on a term, boolean or set-valued fact."""

    fact: str
    is_: Scalar | None = Field(default=None, alias="is")
    in_: tuple[Scalar, ...] | None = Field(default=None, alias="in")
    contains: str | None = None
    contains_any: tuple[str, ...] | None = None
    matches: str | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Match:
        given = [
            k
            for k in ("is_", "in_", "contains", "contains_any", "matches")
            if getattr(self, k) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "a fact test needs exactly one of is, in, contains, contains_any, matches"
                f" (or op with value/table); got {[g.rstrip('_') for g in given]}"
            )
        return self


class Known(_Strict):
    known: str


class AllOf(_Strict):
    all: tuple[Condition, ...] = Field(min_length=1)


class AnyOf(_Strict):
    any: tuple[Condition, ...] = Field(min_length=1)


class AtLeast(_Strict):
    at_least: int = Field(ge=1)
    of: tuple[Condition, ...] = Field(min_length=1)


class Not(_Strict):
    not_: Condition = Field(alias="not")


def _condition_tag(value: Any) -> str:
    if not isinstance(value, dict):
        return _TAG_OF_TYPE.get(type(value), "unrecognised")
    for tag in ("all", "any", "at_least", "not", "known"):
        if tag in value:
            return tag
    if "op" in value:
        return "compare"
    if "fact" in value:
        return "match"
    return "unrecognised"


_TAG_OF_TYPE: dict[type, str] = {
    AllOf: "all",
    AnyOf: "any",
    AtLeast: "at_least",
    Not: "not",
    Known: "known",
    Compare: "compare",
    Match: "match",
}

Condition = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[AtLeast, Tag("at_least")]
    | Annotated[Not, Tag("not")]
    | Annotated[Known, Tag("known")]
    | Annotated[Compare, Tag("compare")]
    | Annotated[Match, Tag("match")],
    Discriminator(
        _condition_tag,
        custom_error_type="unknown_condition",
        custom_error_message=(
            "unknown condition node: use one of all, any, at_least/of, not, known, "
            "fact+op+value/table, fact+is/in/contains/contains_any/matches"
        ),
    ),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
AtLeast.model_rebuild()
Not.model_rebuild()


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_.\-]+$")
    when: Condition
    then: Scalar | dict[str, Scalar | None]
    cite: tuple[str, ...] = Field(min_length=1)
    evidence: Evidence = "confirmed"
    note: str | None = None


class Otherwise(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_.\-]+$")
    then: Scalar | dict[str, Scalar | None] | None = None
    unknown: bool = False
    cite: tuple[str, ...] = Field(min_length=1)
    evidence: Evidence = "confirmed"
    note: str | None = None

    @model_validator(mode="after")
    def _then_or_unknown(self) -> Otherwise:
        if (self.then is None) == (not self.unknown):
            raise ValueError("otherwise needs exactly one of 'then' or 'unknown: true'")
        return self


class Provisional(_Strict):
    """Assumptions under which a provisional answer is given while facts are missing.

    ``reason`` says what was assumed. With ``says`` (one clause per assumed fact, "day-8
    blood MRD were negative") the reason names only the facts this record lacks: "Shown as
    if " + the clauses of the assumptions made + "; " + ``reason`` (then the rest of the
    sentence, "the groups still possible come first."), so that it never claims to assume a
    result the record has."""

    assume: dict[str, Scalar | dict[str, Scalar]]
    reason: str
    says: dict[str, str] | None = None

    @model_validator(mode="after")
    def _one_clause_per_assumption(self) -> Provisional:
        if self.says is not None and set(self.says) != set(self.assume):
            raise ValueError("provisional.says needs one clause for each assumed fact; "
                             f"assume has {sorted(self.assume)}, says has {sorted(self.says)}")
        return self

    def text(self, assumed: Iterable[str]) -> str:
        """The reason for the assumptions actually made (``assumed``: facts absent here)."""
        if self.says is None:
            return self.reason
        made = set(assumed)
        clauses = [self.says[name] for name in self.assume if name in made]
        if not clauses:
            return self.reason
        listed = clauses[0] if len(clauses) == 1 else \
            ", ".join(clauses[:-1]) + " and " + clauses[-1]
        return f"Shown as if {listed}; {self.reason}"


class Decision(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_.\-]+$")
    title: str
    output: str
    values: tuple[Scalar, ...] | None = None
    fields: dict[str, tuple[Scalar, ...] | None] | None = None
    mode: Literal["first", "all"] = "first"
    scheme: str | None = None
    applies_when: Condition | None = None
    not_applicable: Otherwise | None = None
    unknown_value: Scalar | dict[str, Scalar | None] | None = None
    rules: tuple[Rule, ...] = Field(min_length=1)
    otherwise: Otherwise
    provisional: Provisional | None = None
    # Named-field decisions only: when the answers still possible agree on some fields, give
    # those fields and leave the others unknown (opt-in; off keeps the whole answer unknown).
    partial_fields: bool = False

    @model_validator(mode="after")
    def _applicability(self) -> Decision:
        if (self.applies_when is None) != (self.not_applicable is None):
            raise ValueError("applies_when and not_applicable go together")
        return self


class TableRow(_Strict):
    age_from: float | None = None
    age_to: float | None = None
    sex: Literal["female", "male", "any"] = "any"
    value: float
    cite: tuple[str, ...] = Field(min_length=1)
    evidence: Evidence = "confirmed"


class RefTable(_Strict):
    """A threshold that varies by age band (``[age_from, age_to)``) and sex."""

    title: str
    unit: str
    age_fact: str = "age.years"
    age_unit: str = "a"
    rows: tuple[TableRow, ...] = Field(min_length=1)


class Example(_Strict):
    name: str
    given: dict[str, Any]
    expect: dict[str, Any]


class Pack(_Strict):
    format: Literal["allpath.rulepack/1"]
    id: str = Field(pattern=r"^[a-z0-9_.\-]+$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    title: str
    stage: Stage
    order: int
    description: str
    tables: dict[str, RefTable] = Field(default_factory=dict)
    decisions: tuple[Decision, ...] = Field(min_length=1)
    examples: tuple[Example, ...] = Field(min_length=1)
