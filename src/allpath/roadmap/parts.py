"""Pieces shared by protocol templates and the shared dosing rules: a dose, and when a
component or rule applies to a patient (``Applies``, with its fact conditions).

They sit below both ``templates`` and ``dosing`` so that neither imports the other for them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Applies", "Dose", "FactCondition"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Dose(_Strict):
    amount: float = Field(gt=0)
    unit: Literal["mg", "g", "ug", "U"]
    basis: Literal["m2", "kg", "flat"]
    per_day: bool = False  # "mg/m2/day": the amount is given on each listed day


class FactCondition(_Strict):
    """A condition on an assessment fact: ``{fact, op, value}`` or ``{fact, in: [...]}``."""

    fact: str = Field(min_length=1)
    op: Literal["<", "<=", ">", ">=", "==", "contains"] | None = None
    value: float | str | bool | None = None
    in_: tuple[str, ...] | None = Field(default=None, alias="in")


class Applies(_Strict):
    """When a component (or a length rule) applies to a patient.

    Age is the age on the day of the dose (phase start), ``*_min`` bounds are inclusive and
    ``*_below`` bounds exclusive; ``facts`` are assessment facts; ``check`` names a condition the
    roadmap cannot read from the record (shown as "give if ..." and never decided).
    """

    label: str = Field(min_length=1)
    age_min_years: float | None = None
    age_below_years: float | None = None
    weight_min_kg: float | None = None
    weight_below_kg: float | None = None
    bsa_min_m2: float | None = None
    bsa_below_m2: float | None = None
    bmi_min: float | None = None  # body-mass index (kg/m2), from the same height and weight
    sex: Literal["male", "female"] | None = None
    facts: tuple[FactCondition, ...] = ()
    check: str | None = None
