"""Calibration losses read the declarative target list (knowledge/sim/validation_targets.yaml),
the same rows the validation tests and report use."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from allpath.sim.validation import calibration_loss, load_targets, targets_by_metric


def test_every_metric_has_one_target_and_the_loss_is_zero_on_the_published_values() -> None:
    targets = load_targets()
    by_metric = targets_by_metric()
    assert len(by_metric) == len(targets)
    fitted = [t.metric for t in targets if t.role == "fitted"]
    assert len(fitted) >= 20
    got = calibration_loss({m: by_metric[m].value for m in fitted}, fitted)
    assert got.loss == 0.0 and got.outside == 0


def test_loss_is_the_sum_of_squared_tolerance_scaled_deviations() -> None:
    by_metric = targets_by_metric()
    rel, late = by_metric["relapse_rate"], by_metric["late_share_b"]
    simulated = {"relapse_rate": rel.value + 2 * rel.tolerance,  # outside: (2)^2
                 "late_share_b": late.value - 0.5 * late.tolerance}  # inside: (0.5)^2
    got = calibration_loss(simulated, ["relapse_rate", "late_share_b"])
    assert got.loss == pytest.approx(4.25)
    assert got.outside == 1


def test_a_missing_value_is_outside_and_an_unknown_metric_raises() -> None:
    got = calibration_loss({"relapse_rate": math.nan}, ["relapse_rate"])
    assert math.isinf(got.loss) and got.outside == 1
    with pytest.raises(KeyError, match="no_such_metric"):
        calibration_loss({"no_such_metric": 0.1}, ["no_such_metric"])


def test_a_metric_with_two_targets_is_refused() -> None:
    t = load_targets()[0]
    with pytest.raises(ValueError, match="two targets"):
        targets_by_metric([t, replace(t, id="copy")])
