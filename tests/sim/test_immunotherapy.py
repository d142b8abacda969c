"""Blinatumomab and CAR-T exposure and kill terms, r/r cohorts and the frontline hook
(allpath.sim.immuno; models.md §6, §9.2, §10 targets 11-12)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from scipy.integrate import quad

from allpath.sim import load_config, simulate_cohort
from allpath.sim.base import patient_randoms, reference_solve
from allpath.sim.cohort import chunk_table
from allpath.sim.engine import run_batch
from allpath.sim.fast import run_cohort_batch
from allpath.sim.immuno import (
    CarKinetics,
    ImmunoDrive,
    KillConstants,
    RelapseModel,
    blin_concentration,
    blin_effect,
    draw_patients,
    ec50_from_ec90,
    entry_state,
    immuno_preset,
    immuno_randoms,
    load_immunotherapy,
    relapse_parameters,
    summarise_relapsed,
)
from allpath.sim.params import load_parameters
from allpath.sim.population import N_NORMAL, N_UNIFORM, make_batch

PS = load_parameters()
IP = load_immunotherapy(parameters=PS)


def _assert_same(a: pa.Table, b: pa.Table) -> None:
    """Tables with the same columns and values (NaN equal to NaN)."""
    assert a.column_names == b.column_names
    for name in a.column_names:
        np.testing.assert_array_equal(a.column(name).to_numpy(zero_copy_only=False),
                                      b.column(name).to_numpy(zero_copy_only=False),
                                      err_msg=name)


def _typical_car() -> CarKinetics:
    one = np.ones(1)
    return CarKinetics(*(IP.value(f"car_{k}") * one for k in
                         ("foldx", "tmax", "cmax", "alpha", "fb", "beta")))


# --- blinatumomab ------------------------------------------------------------------------------


def test_blinatumomab_steady_state_concentrations_match_models_note() -> None:
    """models.md §6 [C]: Css about 170 pg/mL at 9 µg/d and 525 pg/mL at 28 µg/d (CL 2.22 L/h)."""
    cl = IP.value("blin_clearance")
    assert blin_concentration(9.0, cl) == pytest.approx(170.0, rel=0.01)
    assert blin_concentration(28.0, cl) == pytest.approx(525.0, rel=0.01)
    # and the clearance at the reference BSA is the population value
    bsa = np.array([IP.value("blin_clearance_reference_bsa")])
    z, u = np.zeros((1, 8)), np.full((1, 8), 0.5)
    assert draw_patients(IP, bsa, z, u).cl_blin[0] == pytest.approx(cl)


def test_blinatumomab_half_life_justifies_steady_state() -> None:
    """t1/2 = ln2 V/CL ~ 1.9 h (Clements 2020): steady state within hours of a rate change."""
    t_half = math.log(2) * IP.value("blin_volume") / IP.value("blin_clearance")
    assert 1.7 < t_half < 2.0


def test_blinatumomab_ec90_and_bsa_scaling() -> None:
    """E(EC90) = 0.9 by construction; CL at BSA 0.37 is 37 % of CL at 1.88 (−63 %, §6)."""
    hill = IP.value("blin_hill")
    ec50 = ec50_from_ec90(IP.value("blin_ec90"), hill)
    assert blin_effect(np.array([IP.value("blin_ec90")]), ec50, hill)[0] == pytest.approx(0.9)
    z, u = np.zeros((2, 8)), np.full((2, 8), 0.5)
    cl = draw_patients(IP, np.array([0.37, 1.88]), z, u).cl_blin
    assert cl[0] / cl[1] == pytest.approx(0.37, abs=0.01)


def test_effector_to_target_ratio_lowers_kill_at_high_burden() -> None:
    """k_blin = kappa E(C) / (1 + L/L_ref): less kill per cell at overt relapse than on MRD."""
    const = KillConstants.from_parameters(IP)
    conc = np.full(3, 525.0)
    k = const.blin_kill(conc, np.array([1e-3, 1.0, 4.0]))
    assert k[0] > k[1] > k[2] > 0
    assert k[0] == pytest.approx(const.kappa_blin * blin_effect(conc[:1], const.ec50)[0]
                                 / (1 + 1e-3 / const.x_ref))
    assert k[2] / k[0] == pytest.approx((1 + 1e-3 / const.x_ref) / (1 + 4.0 / const.x_ref))


# --- CAR-T -------------------------------------------------------------------------------------


def test_car_t_kinetics_reproduce_stein2019_typical_values() -> None:
    """Stein 2019: peak Cmax 24,000 copies/µg at Tmax 9.3 d, rho = ln(3900)/9.3 ≈ 0.89/d."""
    car = _typical_car()
    assert car.rho[0] == pytest.approx(0.89, abs=0.005)
    t = np.linspace(0, 60, 60001)
    lv = np.array([car.level(tt)[0] for tt in t[::100]])
    assert t[::100][np.argmax(lv)] == pytest.approx(9.3, abs=0.1)
    assert car.level(9.3)[0] == pytest.approx(24000.0)
    assert car.level(0.0)[0] == pytest.approx(24000.0 / 3900.0)
    assert car.level(-1.0)[0] == 0.0
    # biexponential contraction: after the fast phase the persisting fraction FB decays at beta
    late = car.level(400.0)[0] / car.level(300.0)[0]
    assert late == pytest.approx(math.exp(-0.0032 * 100), rel=0.01)


@pytest.mark.parametrize(("t0", "t1"), [(0, 1), (8.5, 9.5), (9, 10), (20, 21), (-1, 0.5)])
def test_car_t_exposure_is_the_exact_integral(t0: float, t1: float) -> None:
    """The daily CAR-T kill uses the exact integral of C over the day (also across Tmax)."""
    car = _typical_car()
    num = quad(lambda t: float(car.level(t)[0]), t0, t1, points=[9.3], limit=200)[0]
    assert car.exposure(t0, t1)[0] == pytest.approx(num, rel=1e-6)


def test_car_t_iiv_is_lognormal_with_stein_omegas() -> None:
    """theta_i = theta exp(omega eta): geometric mean and SD of ln match Stein's values."""
    z, u = patient_randoms(5, 0, 20000, 8, 8, stream=0x1A11)
    imm = draw_patients(IP, np.full(20000, 1.73), z, u)
    for name, arr in (("car_cmax", imm.car.cmax), ("car_tmax", imm.car.tmax),
                      ("car_alpha", imm.car.alpha)):
        assert math.exp(np.log(arr).mean()) == pytest.approx(IP.value(name), rel=0.03)
        assert np.log(arr).std() == pytest.approx(IP.omega(name), rel=0.03)


# --- CD19-negative clone -------------------------------------------------------------------------


def _rr_setup(preset: str, n: int, seed: int = 4) -> tuple[Any, Any, Any, Any]:
    setup = immuno_preset(preset, PS, IP)
    assert setup is not None and setup.relapsed is not None
    z, u = patient_randoms(seed, 0, n, N_NORMAL, N_UNIFORM)
    batch = make_batch(PS, setup.population, setup.protocol, np.arange(n), z, u)
    zi, ui = immuno_randoms(seed, 0, n)
    imm = draw_patients(IP, batch.bsa, zi, ui)
    return setup, batch, imm, relapse_parameters(batch, imm)


@pytest.mark.parametrize("agent", ["blinatumomab", "car_t"])
def test_cd19_negative_clone_is_never_killed(agent: str) -> None:
    """Neither agent acts on a CD19-negative minor clone: it grows exactly as untreated."""
    setup, batch, imm, p = _rr_setup("eliana_cart", 200)
    p[:, list(RelapseModel.param_names).index("cd19pos_R")] = 0.0
    const = KillConstants.from_parameters(IP)
    drive = (ImmunoDrive(const, blin_ug_d=28.0) if agent == "blinatumomab"
             else ImmunoDrive(const, car_day=0.0))
    _, y = entry_state(IP, setup.relapsed, batch, imm)
    untreated, treated = y.copy(), y.copy()
    model = RelapseModel()
    for day in range(40):
        treated = model.step_day(day, treated, p, drive)
        untreated = model.step_day(day, untreated, p, ImmunoDrive(const))
    assert np.all(treated[:, 0] < untreated[:, 0])  # the CD19+ bulk is killed
    # the clones share the crowding term, so with growth switched off (r = 0) a CD19-negative
    # clone must not move at all while the bulk is killed
    p0 = p.copy()
    p0[:, list(RelapseModel.param_names).index("r")] = 0.0
    y1 = y.copy()
    for day in range(40):
        y1 = model.step_day(day, y1, p0, drive)
    np.testing.assert_allclose(y1[:, 1], y[:, 1], rtol=0, atol=1e-12)
    dy = model.rhs(10.0, y, p0, drive)
    assert np.all(dy[:, 1] == 0.0) and np.all(dy[:, 0] < 0.0)


def test_frontline_immune_drive_spares_cd19_negative_resistant_clone() -> None:
    """E1910 hook: kill of both clones on infusion days, the resistant one only when CD19+."""
    setup = immuno_preset("e1910_blinatumomab", PS, IP)
    assert setup is not None
    z, u = patient_randoms(2, 0, 3000, N_NORMAL, N_UNIFORM)
    batch = make_batch(PS, setup.population, setup.protocol, np.arange(3000), z, u)
    drive = setup.drive(batch, seed=2)
    assert drive is not None
    day = next(d for d, r in enumerate(drive.rate_ug_d) if r > 0)
    k = drive.kill(day, np.full(3000, 1e-4))
    assert k is not None and k.shape == (2, 3000)
    neg = drive.cd19pos_r == 0
    assert 0 < neg.mean() < 0.5
    assert np.all(k[1][neg] == 0) and np.all(k[1][~neg] == k[0][~neg]) and np.all(k[0] > 0)
    assert drive.kill(0, np.full(3000, 1e-4)) is None


# --- numerics and determinism ---------------------------------------------------------------------


@pytest.mark.parametrize("preset", ["eliana_cart", "tower_blinatumomab", "tower_chemotherapy"])
def test_relapse_model_daily_step_matches_lsoda(preset: str) -> None:
    """Strang-split daily step (exact logistic and CAR-T integrals) versus LSODA, 60 days."""
    setup, batch, imm, p = _rr_setup(preset, 12)
    _, y0 = entry_state(IP, setup.relapsed, batch, imm)
    const = KillConstants.from_parameters(IP)
    courses = setup.relapsed.courses

    def drive(day: int) -> ImmunoDrive:
        c = next((c for c in courses if c.start <= day < c.stop and c.agent != "car_t"), None)
        car = 0.0 if any(c.agent == "car_t" for c in courses) else None
        if c is None or c.responders_only:
            return ImmunoDrive(const, car_day=car)
        if c.agent == "chemotherapy":
            return ImmunoDrive(const, chemo_kill=IP.value("salvage_kill"), car_day=car)
        return ImmunoDrive(const, blin_ug_d=c.dose_ug_d, blin_ug_m2_d=c.dose_ug_m2_d,
                           car_day=car)

    model = RelapseModel()
    ref = reference_solve(model, y0, p, 60, drive, rtol=1e-9, atol=1e-9)
    y = y0.copy()
    err = 0.0
    for day in range(60):
        y = model.step_day(day, y, p, drive(day))
        alive = ref[:, day + 1, :] > -40  # compare while clones are above ~1e-17 cells
        err = max(err, float(np.max(np.abs(y - ref[:, day + 1, :])[alive], initial=0.0)))
    assert err < 0.05


def test_relapsed_cohort_same_seed_same_result_for_any_chunk_size() -> None:
    """Patient k's immunotherapy draws and outcomes do not depend on the chunk size."""
    cfg = load_config("tower_blinatumomab")
    a = simulate_cohort(cfg, n=2500, seed=9, chunk_size=1000)
    b = simulate_cohort(cfg, n=2500, seed=9, chunk_size=4096)
    assert isinstance(a, pa.Table) and isinstance(b, pa.Table)
    _assert_same(a, b)
    _assert_same(chunk_table(cfg, 1200, 1300, seed=9), a.slice(1200, 100))


def test_frontline_blinatumomab_same_seed_same_result_for_any_chunk_size() -> None:
    cfg = load_config("e1910_blinatumomab")
    a = chunk_table(cfg, 0, 600, seed=5)
    b = pa.concat_tables([chunk_table(cfg, 0, 250, seed=5), chunk_table(cfg, 250, 600, seed=5)])
    _assert_same(a, b)


def test_frontline_blinatumomab_fast_kernel_matches_reference_engine() -> None:
    """Cohort kernel and reference engine agree on the E1910 variant (blinatumomab cycles)."""
    setup = immuno_preset("e1910_blinatumomab", PS, IP)
    assert setup is not None
    n = 300
    z, u = patient_randoms(8, 0, n, N_NORMAL, N_UNIFORM)

    def batch() -> Any:
        return make_batch(PS, setup.population, setup.protocol, np.arange(n), z, u)

    b1, b2 = batch(), batch()
    fast = run_cohort_batch(PS, setup.protocol, b1, 1100, immune=setup.drive(b1, 8)).columns
    ref = run_batch(PS, setup.protocol, b2, 1100, immune=setup.drive(b2, 8)).columns
    assert np.array_equal(fast["cr"], ref["cr"])
    assert np.mean(fast["relapse"] == ref["relapse"]) >= 0.99
    assert np.mean(fast["death"] == ref["death"]) >= 0.99
    # and blinatumomab changes the course: fewer relapses than without it
    plain = run_cohort_batch(PS, load_config("e1910_chemotherapy").protocol, batch(),
                             1100).columns
    assert fast["relapse"].sum() < plain["relapse"].sum()


def test_frontline_variant_inserts_blinatumomab_cycles() -> None:
    base = load_config("e1910_chemotherapy")
    blin = load_config("e1910_blinatumomab")
    assert blin.immuno is not None and blin.immuno.frontline is not None
    spec = blin.immuno.frontline
    n_cycles = sum(len(v) for v in spec.insert_after.values())
    assert n_cycles == 4
    assert blin.protocol.therapy_days == base.protocol.therapy_days + 4 * spec.cycle_days
    rate = blin.immuno.rate_ug_d
    assert len(rate) == blin.protocol.therapy_days
    assert sum(r > 0 for r in rate) == 4 * spec.infusion_days
    names = [ph.name for ph in blin.protocol.phases]
    assert names.index("blinatumomab_1") == names.index("consolidation") + 1
    assert all(ph.kill == 0 for ph in blin.protocol.phases if ph.name.startswith("blin"))


# --- knowledge file, presets, CLI ---------------------------------------------------------------


def test_fitted_values_name_their_calibration_target_and_never_a_validation_target() -> None:
    """Every fitted value is graded toy and names its target; none is a validated target."""
    assert set(IP.fitted) == {"blin_kill_max", "blin_et_reference", "salvage_kill",
                              "disease_death_rate", "car_kill", "cd19neg_probability"}
    validated = ("44 %", "7.7", "3-yr", "3-y ", "E1910", "Litzow", "Laetsch", "85 %", "68 %")
    for name, fit in IP.fitted.items():
        assert IP.parameters[name].evidence.value == "toy"
        assert fit["by"].startswith("scripts/sim_calibrate_immuno.py")
        assert not any(v in fit["targets"] for v in validated), (name, fit["targets"])
        assert "pending" not in fit.get("simulated", "pending"), name


def test_immunotherapy_presets_run_through_the_cli(tmp_path: Any) -> None:
    """``allpath simulate cohort --preset tower_blinatumomab`` prints r/r summary fields."""
    import json

    from typer.testing import CliRunner

    from allpath.cli.simulate import app

    out = tmp_path / "tower.parquet"
    res = CliRunner().invoke(app, ["cohort", "--preset", "tower_blinatumomab", "--n", "400",
                                   "--out", str(out), "--format", "json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    plot = CliRunner().invoke(app, ["cohort", "--preset", "eliana_cart", "--n", "200", "--out",
                                    str(tmp_path / "e.parquet"), "--plot", str(tmp_path)])
    assert plot.exit_code == 0, plot.output
    assert (tmp_path / "cohort.png").exists()
    assert summary["n"] == 400
    assert 0 < summary["response_rate"] < 1 and summary["median_os_months"] > 0
    with pytest.raises(KeyError, match="eliana_cart"):
        load_config("no_such_preset")


def test_summary_of_relapsed_cohort() -> None:
    cols = simulate_cohort("eliana_cart", n=1500, seed=1)
    assert isinstance(cols, pa.Table)
    c = {k: cols.column(k).to_numpy(zero_copy_only=False) for k in cols.column_names}
    s = summarise_relapsed(c)
    assert set(s["os"]) == {"6m", "12m", "36m"}
    resp = c["response"] == 1
    assert np.all(c["efs_day"][~resp] == 0) and np.all(c["efs_event"][~resp] == 1)
    assert np.all(np.isnan(c["relapse_day"][~resp]))
    assert np.all(c["death_day"][c["death"] == 1] <= 1096)
