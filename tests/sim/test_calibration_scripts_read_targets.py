"""The calibration scripts (scripts/sim_calibrate.py, scripts/sim_calibrate_immuno.py) take their
published values and tolerances from knowledge/sim/validation_targets.yaml, the list the
validation tests and report read, and fit only rows marked ``fitted`` there."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from allpath.sim.validation import load_targets, targets_by_metric

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
TARGETS_YAML = (Path(__file__).resolve().parents[2] / "src" / "allpath" / "knowledge" / "sim"
                / "validation_targets.yaml")


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_script_{name}", SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def calibrate() -> ModuleType:
    return _script("sim_calibrate")


@pytest.fixture(scope="module")
def calibrate_immuno() -> ModuleType:
    return _script("sim_calibrate_immuno")


def _edited(metric: str, field: str, new: str) -> str:
    """validation_targets.yaml with ``field`` of the row of ``metric`` set to ``new``."""
    text = TARGETS_YAML.read_text(encoding="utf-8")
    row = re.compile(rf"(metric: {re.escape(metric)}, .*?\b{field}: )[0-9.]+")
    edited, n = row.subn(lambda m: m.group(1) + new, text)
    assert n == 1, f"no single row with metric {metric}"
    return edited


def test_every_metric_the_scripts_fit_is_a_fitted_row(calibrate: ModuleType,
                                                      calibrate_immuno: ModuleType) -> None:
    by_metric = targets_by_metric()
    fitted = [m for ms in calibrate.STAGE_METRICS.values() for m in ms]
    fitted += [key for key, *_rest in calibrate_immuno.FITS.values()]
    assert len(set(fitted)) == 26
    assert {m: by_metric[m].role for m in fitted} == dict.fromkeys(fitted, "fitted")


def test_stage_losses_follow_a_changed_tolerance_in_the_target_list(
        calibrate: ModuleType) -> None:
    """Metrics at the published value + 0.02 cost (0.02 / tolerance)^2 each; widening one row's
    tolerance in a copy of the list changes the loss exactly as the list says."""
    for stage, metrics in calibrate.STAGE_METRICS.items():
        by_metric = targets_by_metric()
        simulated = {m: by_metric[m].value + 0.02 for m in metrics}
        got = calibrate.stage_loss(simulated, stage)
        assert got.loss == pytest.approx(sum((0.02 / by_metric[m].tolerance) ** 2
                                             for m in metrics)), stage
        first = metrics[0]
        wider = load_targets(_edited(first, "tolerance", "0.5"))
        changed = calibrate.stage_loss(simulated, stage, wider)
        assert changed.loss == pytest.approx(
            got.loss - (0.02 / by_metric[first].tolerance) ** 2 + (0.02 / 0.5) ** 2), stage


def test_immunotherapy_fit_bisects_to_the_listed_values(calibrate_immuno: ModuleType) -> None:
    by_metric = targets_by_metric()
    assert calibrate_immuno.fit_targets() == {
        name: by_metric[key].value for name, (key, *_rest) in calibrate_immuno.FITS.items()}
    moved = load_targets(_edited("eliana_orr", "value", "0.7"))
    assert calibrate_immuno.fit_targets(moved)["car_kill"] == 0.7
    at_target = {key: by_metric[key].value for key, *_rest in calibrate_immuno.FITS.values()}
    assert calibrate_immuno.fit_loss(at_target).loss == 0.0
    tighter = load_targets(_edited("tower_os_chemo", "tolerance", "0.1"))
    off = {**at_target, "tower_os_chemo": at_target["tower_os_chemo"] + 0.5}
    assert calibrate_immuno.fit_loss(off, tighter).loss == pytest.approx(25.0)
    assert calibrate_immuno.fit_loss(off, tighter).outside == 1
