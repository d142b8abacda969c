"""Parameter and protocol files: every number has a unit, a citation and an evidence grade."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from allpath.errors import KnowledgeError
from allpath.sim import load_parameters, load_protocols
from allpath.sim.params import knowledge_path, parse_parameters
from support import load_yaml


def _raw() -> dict[str, Any]:
    with knowledge_path("parameters.yaml").open(encoding="utf-8") as fh:
        data: dict[str, Any] = load_yaml(fh)
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


def test_presets_inherit_population_values_and_carry_age_banded_subtypes() -> None:
    """``parameters_from`` gives a preset another preset's values unless it has its own; the
    adult Ph+ share rises with age (10 / 22 / 44 %, models.md §5.2)."""
    ps = load_parameters()
    assert ps.value("post_induction_sensitivity", "older_adult") == ps.value(
        "post_induction_sensitivity", "adult")
    assert ps.value("induction_death_probability", "aya") == ps.value(
        "induction_death_probability", "adult")
    assert ps.value("induction_death_probability", "older_adult") == 0.15
    bands = ps.populations["adult"].subtypes_by_age
    assert [b for b, _ in bands] == sorted(b for b, _ in bands)
    assert [mix["Ph+ B-ALL"] for _, mix in bands] == [0.10, 0.22, 0.44]


def test_bad_correlations_ancestry_and_bands_are_all_reported() -> None:
    """Correlations whose squares sum to 1 or more, an unknown ancestry, a preset inheriting
    from an unknown preset and decreasing age bands are each a problem."""
    raw = copy.deepcopy(_raw())
    raw["parameters"]["post_induction_sensitivity"]["iiv"]["correlations"] = {
        "induction_sensitivity": 0.8, "prophase_sensitivity": 0.7}
    raw["populations"]["aya"]["ancestry"] = "atlantean"
    raw["populations"]["older_adult"]["parameters_from"] = "grown_up"
    raw["populations"]["adult"]["subtypes_by_age"][1]["below_age"] = 10.0
    with pytest.raises(KnowledgeError) as info:
        parse_parameters(raw)
    text = str(info.value)
    for path in ("post_induction_sensitivity.iiv.correlations", "populations.aya.ancestry",
                 "populations.older_adult.parameters_from", "subtypes_by_age[1].below_age"):
        assert path in text


def test_a_profile_subtype_wins_over_the_age_bands() -> None:
    """A single patient's stated subtype is kept although the adult preset draws Ph+ by age."""
    from allpath.sim import simulate_patient

    for sub in ("T-ALL", "B-ALL"):
        run = simulate_patient({"id": "p", "age": 55, "sex": "male", "subtype": sub,
                                "diagnosis_date": "2024-01-01"}, seed=1)
        assert run.profile["subtype"] == sub
