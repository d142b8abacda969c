"""Care policies for virtual trials: what a policy file may set, validated with clear errors.

A policy file (YAML, format ``allpath.policy/1``) names the care decisions a virtual trial
(:mod:`allpath.sim.compare`) varies between its arms. It may set only what the cohort
simulator already models as a *decision* (see docs/simulator/README.md, "Closed loop"):

``format`` (optional)
    ``allpath.policy/1``.
``name`` (required), ``description`` (optional)
    Labels for the report.
``preset`` (optional, default ``pediatric``)
    Which virtual patients and which base protocol: a population preset of
    ``knowledge/sim/parameters.yaml`` or an immunotherapy preset of ``immunotherapy.yaml``
    (e.g. ``e1910_blinatumomab`` / ``e1910_chemotherapy``). Both arms of a comparison must draw
    the same population (they may differ in protocol).
``titration``
    Maintenance 6-MP/MTX titration: a policy name (``protocol``, ``fixed``, ``pack``) or a
    mapping with ``policy``, ``every_weeks`` (visit interval), ``basis`` (``auto``/``anc``),
    ``anc_noise`` (true/false) and ``pack_dir`` (a folder of packs, relative to the policy
    file) - :mod:`allpath.sim.closed_loop`.
``checkpoints``
    ``pack`` / ``none`` or a mapping with ``response`` and ``relapse`` (``pack``/``none``) and
    the surveillance intervals ``weeks_on_therapy`` / ``weeks_off_therapy`` -
    :mod:`allpath.sim.checkpoints`.
``intensification``
    ``pack`` (MRD re-stratification by the risk pack, augmented phase for high risk) or
    ``none``.
``roadmap``
    ``pack`` (the roadmap pack chooses each patient's protocol template at diagnosis) or
    ``none``.

Population settings (``male_fraction``, ``subtypes``, ``age_years``, ``ancestry``) and
numerics (``horizon_days``, ``substeps``) describe the patients or the solver, not the care,
and are refused: a comparison runs both policies on the same patients. A fixed 6-MP dose
*level* is not offered either: the kernel measures the maintenance kill against the 6-TGN
level of the protocol's nominal dose, so changing the nominal dose moves the reference with it
and would change nothing (use ``titration: fixed`` for "no titration").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from allpath.sim.checkpoints import parse_checkpoints
from allpath.sim.closed_loop import POLICIES, TitrationConfig, parse_titration
from allpath.sim.cohort import CohortConfig, load_config, parse_intensification, parse_roadmap
from allpath.sim.params import ParameterSet

__all__ = ["FORMAT", "KEYS", "Policy", "PolicyError", "load_policy", "parse_policy"]

FORMAT = "allpath.policy/1"
#: Keys a policy file may have.
KEYS = ("format", "name", "description", "preset", "titration", "checkpoints",
        "intensification", "roadmap")
#: Keys of a cohort YAML a policy file may not set, and why.
REFUSED = {
    "male_fraction": "population",
    "subtypes": "population",
    "age_years": "population",
    "ancestry": "population",
    "protocol": "population",
    "horizon_days": "numerics",
    "substeps": "numerics",
}
TITRATION_KEYS = ("policy", "every_weeks", "basis", "pack_dir", "anc_noise")


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Policy:
    """A validated policy: its labels, its source and the cohort configuration it gives."""

    name: str
    config: CohortConfig
    description: str = ""
    source: str = ""
    #: The policy's settings as written (for the report), without labels.
    settings: Mapping[str, Any] = field(default_factory=dict)


def load_policy(path: str | Path, parameters: ParameterSet | None = None) -> Policy:
    """Read and validate a policy file (see the module docstring for its keys)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"policy file {p}: cannot be read ({exc.strerror or exc})") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy file {p}: not valid YAML ({exc})") from exc
    return parse_policy(raw, source=str(p), base_dir=p.parent, parameters=parameters)


def parse_policy(raw: Any, source: str = "<policy>", base_dir: Path | None = None,
                 parameters: ParameterSet | None = None) -> Policy:
    """Validate a policy mapping; ``base_dir`` resolves a relative ``titration.pack_dir``."""
    def fail(msg: str) -> PolicyError:
        return PolicyError(f"policy file {source}: {msg}")

    if not isinstance(raw, dict):
        raise fail(f"expected a mapping of policy settings, got {type(raw).__name__} "
                   f"{raw!r}")
    for key in raw:
        if not isinstance(key, str):
            raise fail(f"key {key!r}: expected a text key")
        if key in REFUSED:
            raise fail(f"{key}: is a {REFUSED[key]} setting, not a policy; both arms of a "
                       f"comparison run on the same virtual patients (allowed keys: "
                       f"{', '.join(KEYS)})")
        if key not in KEYS:
            raise fail(f"{key}: unknown key; allowed keys: {', '.join(KEYS)}")
    fmt = raw.get("format", FORMAT)
    if fmt != FORMAT:
        raise fail(f"format: expected {FORMAT!r}, got {fmt!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail(f"name: expected a non-empty text naming the policy, got {name!r}")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise fail(f"description: expected text, got {description!r}")
    preset = raw.get("preset", "pediatric")
    if not isinstance(preset, str):
        raise fail(f"preset: expected a preset name, got {preset!r}")
    try:
        cfg = load_config(preset, parameters=parameters)
    except KeyError as exc:
        raise fail(f"preset: {exc.args[0] if exc.args else exc}") from exc
    relapsed = cfg.immuno is not None and cfg.immuno.relapsed is not None
    decisions = [k for k in ("titration", "checkpoints", "intensification", "roadmap")
                 if raw.get(k) not in (None, "none")]
    if relapsed and decisions:
        raise fail(f"{decisions[0]}: does not apply to the relapsed/refractory preset "
                   f"{preset!r} (front-line settings act during front-line therapy)")
    try:
        titration = _titration(raw.get("titration"), base_dir)
        cfg = replace(
            cfg,
            titration=titration,
            checkpoints=parse_checkpoints(raw.get("checkpoints")),
            intensification=parse_intensification(raw.get("intensification")),
            roadmap=parse_roadmap(raw.get("roadmap")),
        )
    except ValueError as exc:
        raise fail(str(exc)) from exc
    settings = {k: raw[k] for k in KEYS if k in raw and k not in ("format", "name",
                                                                   "description")}
    settings.setdefault("preset", preset)
    return Policy(name=name.strip(), config=cfg, description=description.strip(),
                  source=source, settings=settings)


def _titration(raw: Any, base_dir: Path | None) -> TitrationConfig | None:
    """``titration`` checked key by key before :func:`parse_titration` builds it (absent:
    the kernel's built-in rule, the calibrated default)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        if raw not in POLICIES:
            raise ValueError(f"titration: {raw!r} is not one of {POLICIES}")
        return parse_titration(raw)
    if not isinstance(raw, dict):
        raise ValueError(f"titration: expected a policy name ({', '.join(POLICIES)}) or a "
                         f"mapping, got {raw!r}")
    extra = sorted(str(k) for k in raw if k not in TITRATION_KEYS)
    if extra:
        raise ValueError(f"titration: unknown key(s) {extra}; expected some of "
                         f"{list(TITRATION_KEYS)}")
    every = raw.get("every_weeks")
    if every is not None and (isinstance(every, bool) or not isinstance(every, int | float)
                              or every <= 0):
        raise ValueError(f"titration.every_weeks: expected a positive number of weeks, "
                         f"got {every!r}")
    if "policy" in raw and raw["policy"] not in POLICIES:
        raise ValueError(f"titration.policy: {raw['policy']!r} is not one of {POLICIES}")
    pack_dir = raw.get("pack_dir")
    if pack_dir is not None:
        if not isinstance(pack_dir, str):
            raise ValueError(f"titration.pack_dir: expected a folder path, got {pack_dir!r}")
        folder = Path(pack_dir)
        if not folder.is_absolute() and base_dir is not None:
            folder = base_dir / folder
        if not folder.is_dir():
            raise ValueError(f"titration.pack_dir: folder {str(folder)!r} does not exist")
        raw = {**raw, "pack_dir": str(folder.absolute())}
    return parse_titration(raw)
