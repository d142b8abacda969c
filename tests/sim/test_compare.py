"""Virtual trials (``allpath simulate compare``): common random numbers, statistics checked
against lifelines called directly, known model effects, CLI outputs and policy-file errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from allpath.sim.compare import (
    Comparison,
    TimePoint,
    parse_times,
    run_comparison,
)
from allpath.sim.policy import PolicyError, load_policy, parse_policy

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "simulator" / "examples"
AT = parse_times("3y,5y")


@pytest.fixture(scope="module")
def titration_trial() -> Comparison:
    """Protocol titration (A) against a fixed dose (B): 1,500 children, seed 7."""
    a = load_policy(EXAMPLES / "titration-protocol.yaml")
    b = load_policy(EXAMPLES / "titration-fixed.yaml")
    return run_comparison(a, b, n=1500, seed=7, times=AT)


def test_same_policy_twice_gives_identical_curves_and_hazard_ratio_one() -> None:
    p = parse_policy({"name": "protocol titration", "titration": "protocol"})
    comp = run_comparison(p, p, n=500, seed=3, times=AT)
    for endpoint in ("EFS", "OS"):
        ta, ea = comp.a.endpoint(endpoint)
        tb, eb = comp.b.endpoint(endpoint)
        assert np.array_equal(ta, tb) and np.array_equal(ea, eb)
    for ep in comp.endpoints:
        assert ep.events_a == ep.events_b > 0
        for s in ep.at:
            assert s.a == s.b  # the same estimate and interval, bit for bit
            assert s.paired_difference == (0.0, 0.0, 0.0)
        assert ep.hazard_ratio == pytest.approx(1.0, abs=1e-12)
        assert ep.hr_lower < 1.0 < ep.hr_upper
        assert ep.logrank_statistic == pytest.approx(0.0, abs=1e-12)
        assert ep.logrank_p == pytest.approx(1.0)
        assert ep.b_earlier == ep.a_earlier == 0 and ep.same == 500


def test_common_random_numbers_give_the_same_patients_in_both_arms(
        titration_trial: Comparison) -> None:
    # the titration only acts in maintenance: induction deaths and failures (EFS events in the
    # first weeks) are the same patients on the same days in both arms
    ta, ea = titration_trial.a.endpoint("EFS")
    tb, eb = titration_trial.b.endpoint("EFS")
    early = (ea & (ta < 60)) | (eb & (tb < 60))
    assert early.sum() > 5
    assert np.array_equal(ta[early], tb[early]) and np.array_equal(ea[early], eb[early])


def test_fixed_dose_relapses_more_than_protocol_titration_hr_excludes_one(
        titration_trial: Comparison) -> None:
    # model: relapse depends on 6-TGN exposure, and without titration the dose stays at the
    # start (docs/simulator/README.md: fixed 21 % vs protocol 12 % relapse at n = 20,000)
    efs = titration_trial.endpoints[0]
    assert efs.endpoint == "EFS"
    assert efs.hr_lower > 1.0
    assert efs.logrank_p < 0.01
    assert all(s.b[0] < s.a[0] for s in efs.at)
    five = efs.at[-1]
    # paired difference: the KM difference itself, with an interval below 0 that is narrower
    # than either arm's own interval (the pairing removes the between-patient variation)
    est, lo, hi = five.paired_difference
    assert est == pytest.approx(five.b[0] - five.a[0], abs=1e-12)
    assert lo < est < hi < 0.0
    assert hi - lo < five.a[2] - five.a[1]
    # paired: far more children have their event earlier under the fixed dose
    assert efs.b_earlier > 5 * efs.a_earlier and efs.sign_test_p < 1e-6


def test_logrank_hazard_ratio_and_km_agree_with_lifelines_called_directly(
        titration_trial: Comparison) -> None:
    import pandas as pd  # type: ignore[import-untyped]
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import logrank_test

    for ep in titration_trial.endpoints:
        ta, ea = titration_trial.a.endpoint(ep.endpoint)
        tb, eb = titration_trial.b.endpoint(ep.endpoint)
        df = pd.DataFrame({"T": np.concatenate([ta, tb]), "E": np.concatenate([ea, eb]),
                           "arm": np.repeat([0.0, 1.0], [ta.size, tb.size])})
        row = CoxPHFitter().fit(df, "T", "E").summary.loc["arm"]
        assert ep.hazard_ratio == pytest.approx(row["exp(coef)"], rel=1e-6)
        assert ep.hr_lower == pytest.approx(row["exp(coef) lower 95%"], rel=1e-6)
        assert ep.hr_upper == pytest.approx(row["exp(coef) upper 95%"], rel=1e-6)
        assert ep.hr_p == pytest.approx(row["p"], rel=1e-4, abs=1e-300)
        lr = logrank_test(ta, tb, event_observed_A=ea, event_observed_B=eb)
        assert ep.logrank_p == pytest.approx(lr.p_value, rel=1e-9, abs=1e-300)
        assert ep.logrank_statistic == pytest.approx(lr.test_statistic, rel=1e-9)
        for t, s in zip(AT, ep.at, strict=True):
            kmf = KaplanMeierFitter().fit(tb, event_observed=eb)
            assert s.b[0] == pytest.approx(float(kmf.predict(t.days)), rel=1e-12)
            ci = kmf.confidence_interval_survival_function_
            last = ci[ci.index <= t.days].iloc[-1]
            assert (s.b[1], s.b[2]) == pytest.approx((last.iloc[0], last.iloc[1]), rel=1e-12)
            assert s.b[1] < s.b[0] < s.b[2]


def test_sparser_surveillance_finds_relapses_later_in_the_same_patients() -> None:
    # model: a relapse is found at the first visit on or after the day the marrow reaches 5 %
    # blasts (checkpoints.detection_day); visits every 26 instead of 4 weeks after therapy can
    # only delay that, except where the 4-weekly marrow had to be repeated
    a = load_policy(EXAMPLES / "surveillance-4w.yaml")
    b = load_policy(EXAMPLES / "surveillance-26w.yaml")
    comp = run_comparison(a, b, n=1200, seed=5, times=AT)
    efs = comp.endpoints[0]
    assert efs.a_earlier > 5 * max(efs.b_earlier, 1)
    assert efs.sign_test_p < 1e-3


def test_cli_writes_markdown_report_and_png(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import allpath.cli.commands  # noqa: F401  (registers the sub-commands)
    from allpath.cli import app

    out = tmp_path / "new" / "report.md"  # a folder that does not exist yet
    args = ["simulate", "compare", str(EXAMPLES / "titration-protocol.yaml"),
            str(EXAMPLES / "titration-fixed.yaml"), "--n", "300", "--seed", "2",
            "--at", "1y,3y", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    png = tmp_path / "new" / "report.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = out.read_text(encoding="utf-8")
    assert "# Virtual trial: Fixed dose vs Protocol titration" in text
    assert "![Kaplan-Meier curves of both arms](report.png)" in text
    assert "| EFS | 1y |" in text and "| OS | 3y |" in text and "HR B vs A" in text
    assert "B - A, paired (95% CI)" in text
    res_json = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "r.json"),
                                        "--format", "json"])
    assert res_json.exit_code == 0, res_json.output
    data: dict[str, Any] = json.loads(res_json.stdout)
    assert data == json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["design"]["n_per_arm"] == 300 and data["design"]["common_random_numbers"]
    diff = data["endpoints"]["EFS"]["survival"][0]["paired_difference_b_minus_a"]
    assert diff["lower"] <= diff["estimate"] <= diff["upper"]
    assert set(data["endpoints"]) == {"EFS", "OS"}
    hr = data["endpoints"]["EFS"]["hazard_ratio_b_vs_a"]
    assert hr["lower"] < hr["estimate"] < hr["upper"]
    assert (tmp_path / "r.png").exists()


@pytest.mark.parametrize(("raw", "message"), [
    ("- a\n- b\n", "expected a mapping of policy settings"),
    ("name: x\ntitration: weekly\n", "titration: 'weekly' is not one of"),
    ("name: x\ntitration: {policy: sometimes}\n", "titration.policy: 'sometimes'"),
    ("name: x\ntitration: {policy: fixed, every_week: 4}\n",
     "titration: unknown key(s) ['every_week']"),
    ("name: x\ntitration: {policy: pack, every_weeks: -2}\n",
     "titration.every_weeks: expected a positive number of weeks, got -2"),
    ("name: x\ntitration: {policy: pack, pack_dir: no/such/folder}\n",
     "titration.pack_dir: folder"),
    ("name: x\ncheckpoints: {weeks_off_therapy: 0}\n",
     "checkpoints.weeks_off_therapy: expected a positive number of weeks, got 0"),
    ("name: x\ncheckpoints: {relapse: maybe}\n", "checkpoints.relapse: expected 'pack'"),
    ("name: x\nroadmap: yes\n", "roadmap: expected 'pack' or 'none', got True"),
    ("name: x\nintensification: always\n", "intensification: expected 'pack' or 'none'"),
    ("name: x\nage_years: {distribution: uniform, low: 1, high: 5}\n",
     "age_years: is a population setting, not a policy"),
    ("name: x\nhorizon_days: 900\n", "horizon_days: is a numerics setting"),
    ("name: x\nsurveillance: 4\n", "surveillance: unknown key; allowed keys:"),
    ("titration: fixed\n", "name: expected a non-empty text naming the policy, got None"),
    ("name: x\nformat: allpath.policy/9\n", "format: expected 'allpath.policy/1'"),
    ("name: x\npreset: martian\n", "preset: unknown preset 'martian'"),
    ("name: x\npreset: tower_blinatumomab\ntitration: fixed\n",
     "titration: does not apply to the relapsed/refractory preset 'tower_blinatumomab'"),
    ("name: [unclosed\n", "not valid YAML"),
])
def test_bad_policy_file_is_a_clear_error_naming_the_field(tmp_path: Path, raw: str,
                                                           message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(raw, encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(err.value).startswith(f"policy file {path}: ")
    assert message in str(err.value)


def test_policies_on_different_populations_are_refused() -> None:
    a = parse_policy({"name": "children"}, source="a.yaml")
    b = parse_policy({"name": "adults", "preset": "adult"}, source="b.yaml")
    with pytest.raises(PolicyError, match=r"draw different patients.*'pediatric' vs 'adult'"):
        run_comparison(a, b, n=10, seed=0, times=AT)


def test_cli_bad_policy_file_exits_with_the_field_named(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import allpath.cli.commands  # noqa: F401  (registers the sub-commands)
    from allpath.cli import app

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntitration: {policy: fixed, basis: platelets}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["simulate", "compare", str(bad),
                                      str(EXAMPLES / "titration-fixed.yaml"), "--n", "10",
                                      "--out", str(tmp_path / "r.md")])
    assert result.exit_code == 2
    assert "titration.basis" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r.md").exists()


def test_paired_difference_in_survival_and_none_when_censored_early() -> None:
    from allpath.sim.compare import paired_difference

    t = np.array([100.0, 400.0, 800.0, 900.0])
    e = np.array([True, False, True, False])
    assert np.isnan(paired_difference(t, e, t, e, 500.0)[0])  # censored at 400 < 500
    # by day 300: an event in patient 0 under A; in patients 0 and 2 under B
    tb = np.array([200.0, 400.0, 150.0, 900.0])
    est, lo, hi = paired_difference(t, e, tb, e, 300.0)
    assert est == pytest.approx(0.5 - 0.75)  # survival 2/4 under B, 3/4 under A
    # d = (0, 0, -1, 0): sd 0.5, standard error 0.25
    assert (lo, hi) == pytest.approx((-0.25 - 1.959964 * 0.25, -0.25 + 1.959964 * 0.25))


def test_times_are_parsed_with_units_and_a_bare_number_is_refused() -> None:
    times = parse_times("5y, 18m,26w,365d")
    assert [t.label for t in times] == ["26w", "365d", "18m", "5y"]
    assert [t.days for t in times] == pytest.approx([182.0, 365.0, 547.875, 1826.25])
    assert times[0] == TimePoint("26w", 182.0)
    with pytest.raises(ValueError, match="'5' needs a unit"):
        parse_times("3y,5")
    with pytest.raises(ValueError, match="not a time"):
        parse_times("soon")
    with pytest.raises(ValueError, match="needs a unit"):
        parse_times("3 parsecs")
