"""Units: UCUM and common laboratory spellings, parsed and converted with pint.

Every quantity that enters ALLPath carries a unit. The unit text is first rewritten from
UCUM (``10*9/L``, ``/uL``, ``Cel``, ``[degF]``, ``{cells}/uL``) and from the spellings labs
print (``x10^3/uL``, ``K/uL``, ``cells/mm3``, ``µmol/L``) into pint's grammar; pint then
parses and converts. Mass to amount of substance (``mg/dL`` to ``umol/L``) needs a molar
mass, which the analyte catalogue supplies.

Examples
--------
>>> convert(62000, "/uL", "10*9/L")
62.0
>>> convert(62, "x10^3/uL", "10*9/L")
62.0
>>> round(convert(8.0, "mg/dL", "umol/L", molar_mass_g_per_mol=168.11), 1)
475.9
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from allpath.knowledge import cache_dir, write_atomic

__all__ = [
    "UnitError",
    "check_unit",
    "compatible",
    "convert",
    "normalise_unit_text",
    "parse_unit",
    "registry",
]


class UnitError(ValueError):
    """A unit text that cannot be parsed, or two units that cannot be converted."""


@lru_cache(maxsize=1)
def registry() -> Any:
    """Return the shared pint registry (one per process: pint quantities do not mix).

    Built on first use: importing pint and building the registry takes about 0.4 s, which
    commands that convert no unit (``allpath --help``) do not pay. pint keeps its parsed
    definitions in ALLPath's cache folder (:func:`allpath.knowledge.cache_dir`; pint's own
    cache, keyed by the definition files), which makes building the registry about five
    times faster from the second run on.
    """
    import pint

    folder = cache_dir()
    reg: Any = pint.UnitRegistry(autoconvert_offset_to_baseunit=True,
                                 cache_folder=folder / "pint" if folder is not None else None)
    reg.define("count = [] = cell = cells")  # counts of cells are dimensionless numbers
    reg.define("international_unit = [iu] = IU = iU")
    return reg


# Rewrites applied in order. Each maps a UCUM or lab spelling to pint grammar.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\{[^}]*\}"), ""),  # UCUM annotations: {cells}/uL -> /uL
    (re.compile(r"\[degF\]"), "degF"),
    (re.compile(r"\bCel\b"), "degC"),
    (re.compile(r"°\s*C\b"), "degC"),
    (re.compile(r"°\s*F\b"), "degF"),
    (re.compile(r"\[iU\]|\[IU\]"), "IU"),
    (re.compile(r"µ|μ"), "u"),
    (re.compile(r"(?i)\bmcl\b"), "uL"),
    (re.compile(r"(?i)\bcumm\b"), "mm3"),
    (re.compile(r"\.(?=\s*(?:\)|$))"), ""),  # UCUM product dot left by an annotation: 8.10*8.{RBC}
    # A number times a power of ten is one number: 8x10^8 (lab) and 8.10*8 (UCUM, where
    # "." multiplies) are 8e8, never the digits 8 and 1e8 run together (81e8).
    (re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*[x×]\s*10\s*[\^*]\s*(-?\d+)"), r"\1e\2 "),
    (re.compile(r"(?<![\w.])(\d+)\.10\*(-?\d+)"), r"\1e\2 "),
    (re.compile(r"(?<![A-Za-z])[x×*]\s*10\s*[\^*]\s*(-?\d+)"), r"1e\1 "),
    (re.compile(r"(?<![A-Za-z])[x×]\s*10\s*[eE]\s*(-?\d+)"), r"1e\1 "),
    (re.compile(r"^\s*10\s*[\^*]\s*(-?\d+)"), r"1e\1 "),
    (re.compile(r"^\s*10[eE](-?\d+)"), r"1e\1 "),
    (re.compile(r"^\s*[Kk]\s*/"), "1e3 /"),
    (re.compile(r"^\s*[Mm]\s*/\s*uL"), "1e6 /uL"),
    (re.compile(r"(?i)\bcells?\b"), ""),
    (re.compile(r"\bRBCs?\b"), ""),  # per 8x10^8 RBC: red cells counted, like cells
    (re.compile(r"%"), "percent"),
    (re.compile(r"\bmm3\b"), "mm**3"),
    (re.compile(r"\bm2\b"), "m**2"),
    (re.compile(r"\bcm2\b"), "cm**2"),
    (re.compile(r"\ba\b"), "year"),
    (re.compile(r"\bmo\b"), "month"),
    (re.compile(r"\bwk\b"), "week"),
    (re.compile(r"\bd\b"), "day"),
    (re.compile(r"\bh\b"), "hour"),
    (re.compile(r"\bmin\b"), "minute"),
)


def normalise_unit_text(text: str) -> str:
    """Rewrite a UCUM or lab unit spelling into pint's grammar (no parsing yet)."""
    out = text.strip()
    for pattern, repl in _REWRITES:
        out = pattern.sub(repl, out)
    out = out.strip()
    if out.startswith("/"):
        out = "1" + out
    if out.startswith("1e") and " /" in out:
        out = out.replace(" /", "/", 1)
    if out in ("", "1"):
        return "dimensionless"
    return out


@lru_cache(maxsize=512)
def parse_unit(text: str) -> Any:
    """Parse a unit text into a pint Quantity holding the unit's scale factor.

    ``parse_unit("10*9/L")`` is ``1e9 / liter``. Raises :class:`UnitError` with the text
    that failed.
    """
    if not isinstance(text, str) or not text.strip():
        raise UnitError("empty unit")
    pint_text = normalise_unit_text(text)
    try:
        parsed = registry().parse_expression(pint_text)
    except Exception as exc:  # pint raises several unrelated types here
        raise UnitError(f"cannot parse unit {text!r}") from exc
    reg = registry()
    if not isinstance(parsed, reg.Quantity):
        parsed = reg.Quantity(parsed, "dimensionless")
    return parsed


def compatible(a: str, b: str, molar_mass_g_per_mol: float | None = None) -> bool:
    """True when a value in unit ``a`` can be converted to unit ``b``."""
    try:
        convert(1.0, a, b, molar_mass_g_per_mol)
    except UnitError:
        return False
    return True


def check_unit(text: str) -> None:
    """Raise :class:`UnitError` unless pint parses ``text`` (its answer is remembered)."""
    store = _store()
    if text in store.units:
        return
    parse_unit(text)
    store.units.add(text)
    store.save()


def convert(
    value: float, from_unit: str, to_unit: str, molar_mass_g_per_mol: float | None = None
) -> float:
    """Convert ``value`` from one unit text to another.

    Parameters
    ----------
    value:
        The magnitude in ``from_unit``.
    from_unit, to_unit:
        Unit texts in UCUM or a common lab spelling.
    molar_mass_g_per_mol:
        Needed only between mass and amount concentrations (``mg/dL`` and ``mmol/L``).

    Every conversion between two units is ``value * factor + offset`` (the offset only
    between temperature scales). pint works out the factor and offset of each pair once;
    they are remembered in memory and in ALLPath's cache folder (see :class:`_Store`), so a
    later process converts known pairs without importing pint at all.
    """
    factor, offset = _affine(from_unit, to_unit, molar_mass_g_per_mol)
    return _tidy(float(value) * factor + offset)


_PairKey = tuple[str, str, float | None]


class _Store:
    """pint's answers, remembered: the factor and offset of each unit pair converted, and
    the unit texts that parse. Kept in memory and as one JSON file in
    :func:`allpath.knowledge.cache_dir` named by the SHA-256 of this module's source and the
    installed pint version, so a changed rewrite table or a new pint never reads a stale
    answer. Only successful answers are kept: a unit error is worked out again each time.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.pairs: dict[_PairKey, tuple[float, float]] = {}
        self.units: set[str] = set()
        if path is not None:
            self._merge(path)

    def _merge(self, path: Path) -> None:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # not written yet, or unreadable: pint answers again
            return
        if not isinstance(doc, dict):
            return
        pairs, units = doc.get("pairs"), doc.get("units")
        if not isinstance(pairs, list) or not isinstance(units, list):
            return
        for row in pairs:
            if (isinstance(row, list) and len(row) == 5 and isinstance(row[0], str)
                    and isinstance(row[1], str) and (row[2] is None or _is_float(row[2]))
                    and _is_float(row[3]) and _is_float(row[4])):
                key = (row[0], row[1], None if row[2] is None else float(row[2]))
                self.pairs.setdefault(key, (float(row[3]), float(row[4])))
        self.units.update(u for u in units if isinstance(u, str))

    def save(self) -> None:
        """Write the file again with what other processes added meanwhile (atomically)."""
        if self.path is None:
            return
        self._merge(self.path)
        doc = {"pairs": [[*k, *v] for k, v in self.pairs.items()],
               "units": sorted(self.units)}
        write_atomic(self.path, json.dumps(doc, ensure_ascii=False))


def _is_float(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


@lru_cache(maxsize=1)
def _store() -> _Store:
    folder = cache_dir()
    if folder is None:
        return _Store(None)
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(importlib.metadata.version("pint").encode())
    return _Store(folder / "units" / f"{digest.hexdigest()}.json")


def _affine(from_unit: str, to_unit: str, molar_mass: float | None) -> tuple[float, float]:
    key = (from_unit, to_unit, molar_mass)
    store = _store()
    known = store.pairs.get(key)
    if known is not None:
        return known
    offset = _pint_convert(0.0, from_unit, to_unit, molar_mass)
    factor = _pint_convert(1.0, from_unit, to_unit, molar_mass) - offset
    check = _pint_convert(1000.0, from_unit, to_unit, molar_mass)
    if not math.isclose(check, 1000.0 * factor + offset, rel_tol=1e-9, abs_tol=1e-12):
        raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}: the conversion is "
                        "not a scale and offset (a logarithmic unit?)")
    store.pairs[key] = (factor, offset)
    store.save()
    return factor, offset


def _pint_convert(
    value: float, from_unit: str, to_unit: str, molar_mass_g_per_mol: float | None
) -> float:
    import pint  # already imported by registry(); here for its exception types

    src = parse_unit(from_unit)
    dst = parse_unit(to_unit)
    reg = registry()
    try:
        if src.units == dst.units:
            return float(value) * float(src.magnitude) / float(dst.magnitude)
        quantity = reg.Quantity(float(value) * float(src.magnitude), src.units)
        try:
            converted = quantity.to(dst.units)
        except pint.DimensionalityError:
            if molar_mass_g_per_mol is None:
                raise
            with reg.context("chemistry", mw=molar_mass_g_per_mol * reg("g/mol")):
                converted = quantity.to(dst.units)
        return float(converted.magnitude) / float(dst.magnitude)
    except pint.DimensionalityError as exc:
        raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}") from exc
    except pint.errors.OffsetUnitCalculusError as exc:
        raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}") from exc


def _tidy(x: float) -> float:
    """Round to 12 significant digits so that 50,000/uL is exactly 50 x10^9/L.

    Binary floating point turns exact decimal scale factors into near misses
    (62.00000000000001); thresholds with ``>=`` must not flip on that noise.
    """
    return float(f"{x:.12g}")
