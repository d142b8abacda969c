"""Units are parsed and converted with pint from UCUM and common lab spellings."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allpath.units import UnitError, convert, parse_unit, registry


@pytest.mark.parametrize(
    ("value", "unit"),
    [(62000, "/uL"), (62, "10*9/L"), (62, "x10^3/uL"), (62, "K/uL"), (62, "10^9/L"),
     (62000, "cells/mm3"), (62000, "{cells}/uL"), (62, "x10E9/L"), (62, "×10^3/µL")],
)
def test_wbc_spellings_are_the_same_count(value: float, unit: str) -> None:
    assert convert(value, unit, "10*9/L") == pytest.approx(62.0)


def test_exact_boundary_values_survive_conversion() -> None:
    # 50,000/uL must be exactly 50 x10^9/L so that ">= 50" holds (NCI/Rome boundary).
    assert convert(50000, "/uL", "10*9/L") == 50.0
    assert convert(100, "10*3/uL", "10*9/L") == 100.0


def test_temperature_units_convert_with_offsets() -> None:
    assert convert(100.4, "[degF]", "Cel") == pytest.approx(38.0)
    assert convert(38.5, "Cel", "Cel") == 38.5


def test_mass_and_amount_concentrations_convert_with_molar_mass() -> None:
    # Cairo-Bishop pairs: uric acid 8.0 mg/dL ~ 476 umol/L; phosphate 6.5 mg/dL ~ 2.1 mmol/L.
    urate = convert(8.0, "mg/dL", "umol/L", molar_mass_g_per_mol=168.11)
    phosphate = convert(6.5, "mg/dL", "mmol/L", molar_mass_g_per_mol=30.974)
    assert urate == pytest.approx(476, abs=1)
    assert phosphate == pytest.approx(2.1, abs=0.01)


def test_percent_and_fraction() -> None:
    assert convert(0.01, "%", "1") == pytest.approx(1e-4)


def test_unparseable_unit_is_a_unit_error() -> None:
    with pytest.raises(UnitError, match="cannot parse"):
        parse_unit("bananas/uL")


def test_incompatible_units_are_a_unit_error() -> None:
    with pytest.raises(UnitError, match="cannot convert"):
        convert(7.1, "g/dL", "10*9/L")
    with pytest.raises(UnitError):
        convert(8.0, "mg/dL", "umol/L")  # no molar mass given


_PAIRS = [("10*9/L", "/uL"), ("g/dL", "g/L"), ("g/dL", "mmol/L"), ("%", "1"), ("Cel", "[degF]"),
          ("mg/dL", "umol/L"), ("cm", "[in_i]"), ("kg", "g")]


@given(st.floats(min_value=1e-3, max_value=1e6), st.sampled_from(_PAIRS))
def test_conversions_round_trip(value: float, pair: tuple[str, str]) -> None:
    a, b = pair
    mm = 64.5 if "mmol" in b or "umol" in b else None  # a molar mass for amount units
    if b == "[in_i]":
        b = "inch"
    there = convert(value, a, b, mm)
    back = convert(there, b, a, mm)
    assert math.isclose(back, value, rel_tol=1e-9)


@pytest.mark.parametrize("text", [
    "pmol/(8x10^8 cells)",   # lab spelling with a mantissa
    "pmol/8x10^8 RBC",       # as metabolite reports print it
    "pmol/8 x 10^8 RBC",
    "pmol/(8.10*8.{RBC})",   # UCUM: "." multiplies, 10*8 is a power of ten
    "pmol/8e8{RBC}",         # the catalogue's own spelling
])
def test_a_number_times_a_power_of_ten_is_one_number_not_digits_run_together(text: str) -> None:
    # 8x10^8 once read as 81e8 (the digit 8 glued to 1e8): a silent 10-fold error on every
    # thiopurine metabolite reported per 8x10^8 red cells.
    assert convert(235.0, text, "pmol/8e8{RBC}") == pytest.approx(235.0)


def test_per_8x10e8_red_cells_differs_from_per_10e8_red_cells_by_eight() -> None:
    assert convert(800.0, "pmol/8x10^8 RBC", "pmol/10^8 RBC") == pytest.approx(100.0)


# ---------------------------------------------------------------- remembered conversions
_PAIRS = [(62000.0, "/uL", "10*9/L", None), (100.4, "[degF]", "Cel", None),
          (8.0, "mg/dL", "umol/L", 168.11), (1.2, "mg/dL", "umol/L", 584.66),
          (3.0, "g/dL", "g/L", None), (50.0, "mg/m2", "mg/m2", None)]


def _pint_answer(value: float, a: str, b: str, mw: float | None) -> float:
    """The conversion worked out by pint directly, without the remembered factors."""
    reg = registry()
    src, dst = parse_unit(a), parse_unit(b)
    q = reg.Quantity(value * src.magnitude, src.units)
    if mw is None:
        return float(q.to(dst.units).magnitude / dst.magnitude)
    with reg.context("chemistry", mw=mw * reg("g/mol")):
        return float(q.to(dst.units).magnitude / dst.magnitude)


@pytest.mark.parametrize(("value", "a", "b", "mw"), _PAIRS)
def test_remembered_factor_and_offset_give_pints_answer(
    value: float, a: str, b: str, mw: float | None
) -> None:
    first = convert(value, a, b, mw)  # works the pair out (or reads it)
    assert convert(value, a, b, mw) == first
    assert first == pytest.approx(_pint_answer(value, a, b, mw), rel=1e-12)


_CHILD = """
import json, sys
from allpath.units import convert, check_unit
pairs = json.loads(sys.argv[1])
out = [convert(v, a, b, mw) for v, a, b, mw in pairs]
check_unit("mg/dL")
print(json.dumps({"values": out, "pint": "pint" in sys.modules}))
"""


def _child(cache: str) -> dict[str, object]:
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "ALLPATH_CACHE_DIR": cache}
    run = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(_PAIRS)], env=env,
                         capture_output=True, text=True, check=True)
    doc: dict[str, object] = json.loads(run.stdout)
    return doc


def test_a_later_process_converts_known_pairs_without_importing_pint(tmp_path: Path) -> None:
    cold = _child(str(tmp_path))
    warm = _child(str(tmp_path))
    assert cold["pint"] is True
    assert warm["pint"] is False  # start-up of `allpath assess` pays no pint import
    assert warm["values"] == cold["values"]
    assert list((tmp_path / "units").glob("*.json"))


def test_an_unreadable_conversion_cache_is_worked_out_again(tmp_path: Path) -> None:
    cold = _child(str(tmp_path))
    for f in (tmp_path / "units").glob("*.json"):
        f.write_text('{"pairs": [["/uL", "10*9/L", null, "x", 0]], "units": 7}')
    again = _child(str(tmp_path))
    assert again["values"] == cold["values"]
    assert again["pint"] is True


def test_no_cache_folder_still_converts(tmp_path: Path) -> None:
    assert _child("off")["values"] == _child(str(tmp_path))["values"]
