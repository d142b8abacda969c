"""Parameter and protocol files: every number has a unit, a citation and an evidence grade."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from allpath.errors import KnowledgeError
from allpath.sim import load_parameters, load_protocols
from allpath.sim.params import _knowledge_path, parse_parameters


def _raw() -> dict[str, Any]:
    with _knowledge_path("parameters.yaml").open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def test_bundled_parameter_file_loads_with_version() -> None:
    """The bundled parameter set validates and carries a version."""
    ps = load_parameters()
    assert ps.version
    assert all(p.citations for p in ps.parameters.values())


def test_parameter_without_citation_fails() -> None:
    """Removing a citation list raises KnowledgeError naming the parameter path."""
    raw = copy.deepcopy(_raw())
    del raw["parameters"]["growth_rate"]["citations"]
    with pytest.raises(KnowledgeError) as info:
        parse_parameters(raw)
    assert "parameters.growth_rate.citations" in str(info.value)


def test_all_problems_reported_at_once() -> None:
    """Unknown citation key, bad unit and bad evidence grade are all listed in one error."""
    raw = copy.deepcopy(_raw())
    raw["parameters"]["growth_rate"]["citations"] = ["friberg2020"]
    raw["parameters"]["birth_rate"]["unit"] = "@@@"
    raw["parameters"]["death_rate"]["evidence"] = "trust me"
    with pytest.raises(KnowledgeError) as info:
        parse_parameters(raw)
    assert len(info.value.problems) == 3
    assert "friberg2002" in str(info.value)  # did-you-mean hint


def test_protocol_phases_cover_about_two_and_a_half_years() -> None:
    """Induction first, maintenance last (730 d), total therapy about 2.5 years."""
    prot = load_protocols()["cog_style_pediatric"]
    assert prot.phases[0].name == "induction" and prot.phases[-1].maintenance
    assert prot.phases[-1].days == 730
    assert 800 < prot.therapy_days < 1000
