"""JAX port of the cohort kernel's default path, for GPUs (CPU too, for testing).

:func:`run_cohort_batch_jax` returns the same columns as
:func:`allpath.sim.fast.run_cohort_batch` called without options: diagnosis counts, the
tabulated prophase / induction / post-induction drive with RK4 sub-steps, maintenance (exact
6-TGN, exact kill integral, RK4 on the Jost chain, the protocol's ANC-window titration every
``check_every_days``), extinction, the induction-death hazard, relapse detection in therapy, the
closed-form treatment-related death and post-therapy relapse, post-relapse death and the
EFS / OS columns. Options of the numpy kernel (``titration``, ``intensify``, ``checkpoints``,
``visit_z``, ``immune``, traces) are not ported and raise :class:`ValueError`.

Layout: the setup (diagnosis steady state, per-patient parameter rows, the per-day schedule
from :func:`allpath.sim.fast.schedule_for`) is numpy, as in the fast kernel; the days are two
``jax.jit`` functions, induction (a ``lax.scan`` that also returns the daily "ANC < 0.5" flags
for the induction-death hazard) and post-induction (``lax.fori_loop`` over the acute and the
maintenance days, carrying the state, the titration state and the relapse day). The end of
induction runs on the host between them, because the flow-MRD assay there changes the
post-induction sensitivity. The Poisson assays, the induction-death hazard (float64, from the
flags) and the closed forms also run on the host with the code every kernel shares
(:mod:`allpath.sim.outcomes`), so they are the same given the same burdens. States are float32
on the device, as in the numpy kernel; everything is elementwise along the patient axis. The
patient axis is padded to a bucket size (a power of two up to 65,536, then a multiple of it) so
that chunks of varying size reuse the compiled functions.

JAX is imported lazily: the package imports without it (``pip install 'allpath[jax]'``).
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from functools import lru_cache
from typing import Any

import numpy as np

from allpath.sim.base import AnyArray, Array
from allpath.sim.fast import schedule_for
from allpath.sim.model import PARAMS, steady_state
from allpath.sim.outcomes import (
    EXTINCT,
    X_RELAPSE,
    AssayLimits,
    Events,
    RunResult,
    adapt_post_induction,
    assay,
    day8_columns,
    diagnosis_columns,
    eoi_columns,
    fill_assay_columns,
)
from allpath.sim.params import ParameterSet, Protocol
from allpath.sim.population import Batch, U, tgn_ref

__all__ = ["jax_available", "run_cohort_batch_jax"]

_PI = {name: i for i, name in enumerate(PARAMS)}
_CHAINS = {
    "N": ("ktr_N", "gam_N", "C0_N", "kc_N", "crowd_N"),
    "P": ("ktr_P", "gam_P", "C0_P", "kc_P", "crowd_P"),
    "M": ("ktr_M", "gam_M", "C0_M", "kc_M", "crowd_N"),
}


def jax_available() -> bool:
    """Whether JAX can be imported."""
    return importlib.util.find_spec("jax") is not None


def _modules() -> tuple[Any, Any, Any]:
    """``(jax, jax.numpy, jax.lax)``, imported on first use."""
    try:
        jax = importlib.import_module("jax")
    except ImportError as exc:  # pragma: no cover - exercised only without JAX
        raise ImportError("kernel 'jax' needs JAX: pip install 'allpath[jax]'") from exc
    return jax, importlib.import_module("jax.numpy"), importlib.import_module("jax.lax")


def accelerator() -> Any | None:
    """The first non-CPU JAX device (GPU / TPU), or None (also when JAX is missing)."""
    if not jax_available():
        return None
    jax = _modules()[0]
    for d in jax.devices():
        if d.platform != "cpu":
            return d
    return None


def _bucket(n: int) -> int:
    """Padded patient count: the next power of two (at least 256) up to 65,536, then the next
    multiple of 65,536."""
    if n <= 65_536:
        return max(256, 1 << (n - 1).bit_length())
    return -(-n // 65_536) * 65_536


# --- device code ------------------------------------------------------------------------------


def _chain(jnp: Any, y: tuple[Any, ...], c: dict[str, Any], expo: Any, ome: Any
           ) -> tuple[Any, ...]:
    """Friberg chain derivative (the numpy kernel's ``_Kernel.chain``, same operation order)."""
    w = jnp.log(jnp.maximum(y[4], 1e-9)) * c["gam"]
    w = jnp.exp(expo - w) * ome - 1.0
    d0 = (y[0] * w) * c["ktr"]
    d = [(y[i - 1] - y[i]) * c["ktr"] for i in range(1, 5)]
    d[3] = d[3] + c["dk"] * y[4]
    return (d0, *d)


def _rk4(s: tuple[Any, ...], h: float, f: Any) -> tuple[Any, ...]:
    """One classical RK4 step; ``f(y, stage)`` with stage 0 / 1 (mid-point) / 2 (end)."""
    k1 = f(s, 0)
    k2 = f(tuple(a + k * (0.5 * h) for a, k in zip(s, k1, strict=True)), 1)
    k3 = f(tuple(a + k * (0.5 * h) for a, k in zip(s, k2, strict=True)), 1)
    k4 = f(tuple(a + k * h for a, k in zip(s, k3, strict=True)), 2)
    return tuple(
        a + ((b1 + (b2 + b3) * 2.0) + b4) * (h / 6.0)
        for a, b1, b2, b3, b4 in zip(s, k1, k2, k3, k4, strict=True)
    )


def _common(jnp: Any, rows: dict[str, Any]) -> tuple[Any, Any]:
    def extinct(s: tuple[Any, ...]) -> tuple[Any, ...]:
        return (jnp.where(s[0] < rows["ncrit0"], EXTINCT, s[0]),
                jnp.where(s[1] < rows["ncrit1"], EXTINCT, s[1]), *s[2:])

    def burden(a: Any, b: Any) -> Any:
        return jnp.exp(a - rows["lnk"]) + jnp.exp(b - rows["lnk"])

    return extinct, burden


def _acute_step(jnp: Any, rows: dict[str, Any], s: tuple[Any, ...], ks: Any, ome_n: Any,
                ome_p: Any, k_sub: int) -> tuple[Any, ...]:
    """``k_sub`` RK4 sub-steps of one acute day; ``len(s)`` 12 (with platelets) or 7."""
    _, burden = _common(jnp, rows)
    cn, cp = rows["N"], rows["P"]

    def f(y: tuple[Any, ...], _stage: int) -> tuple[Any, ...]:
        x = burden(y[0], y[1])
        g = (1.0 - x * rows["inv_kl"]) * rows["r"]
        lm = jnp.log1p(x)
        out = (g - ks, g - rows["rho"] * ks,
               *_chain(jnp, y[2:7], cn, cn["gl"] - cn["crowd"] * lm, ome_n))
        if len(y) > 7:
            out = (*out, *_chain(jnp, y[7:12], cp, cp["gl"] - cp["crowd"] * lm, ome_p))
        return out

    h = 1.0 / k_sub
    for _ in range(k_sub):
        s = _rk4(s, h, f)
        s = (s[0], s[1], *(jnp.maximum(v, 1e-12) for v in s[2:]))
    return s


def _kill_row(jnp: Any, rows: dict[str, Any], code: Any, kill: Any) -> Any:
    """s_post, s_pro or s_ind (phase code 2 / 1 / 0) times the day's kill."""
    row = jnp.where(code == 2, rows["s_post"], jnp.where(code == 1, rows["s_pro"], rows["s_ind"]))
    return row * kill


@lru_cache(maxsize=32)
def _induction_fn(n_days: int, k_sub: int) -> Any:
    """Days ``0 .. n_days - 1`` with platelets; returns the state after the extinction check of
    day ``n_days``, the burden then, the day-8 burden / ANC and the daily ANC < 0.5 flags."""
    jax, jnp, lax = _modules()

    def run(rows: dict[str, Any], sched: dict[str, Any], s0: tuple[Any, ...]) -> Any:
        extinct, burden = _common(jnp, rows)

        def body(carry: Any, xs: Any) -> Any:
            s, x8, anc8 = carry
            day, kill, ome_n, ome_p, code = xs
            s = extinct(s)
            x = burden(s[0], s[1])
            x8 = jnp.where(day == 8, x, x8)
            anc8 = jnp.where(day == 8, s[6], anc8)
            low = s[6] < 0.5
            s = _acute_step(jnp, rows, s, _kill_row(jnp, rows, code, kill), ome_n, ome_p, k_sub)
            return (s, x8, anc8), low

        zero = jnp.zeros_like(s0[0])
        xs = (jnp.arange(n_days), sched["kill"], sched["ome_n"], sched["ome_p"], sched["code"])
        (s, x8, anc8), low = lax.scan(body, (s0, zero, zero), xs)
        s = extinct(s)
        x = burden(s[0], s[1])
        x8 = jnp.where(n_days == 8, x, x8)
        anc8 = jnp.where(n_days == 8, s[6], anc8)
        return s, x, x8, anc8, low

    return jax.jit(run)


@lru_cache(maxsize=32)
def _post_fn(start: int, maint_start: int, last_day: int, therapy_end: int, k_acute: int,
             k_maint: int, every: int, window: tuple[float, float], step: float,
             max_factor: float) -> Any:
    """Days ``start .. last_day`` (events of ``last_day`` included, no step after it)."""
    jax, jnp, lax = _modules()
    lo, hi = window
    has_maint = maint_start < therapy_end

    def run(rows: dict[str, Any], sched: dict[str, Any], s0: tuple[Any, ...], watch0: Any,
            x_relapse: float) -> Any:
        extinct, burden = _common(jnp, rows)
        cm = rows["M"]

        def events(day: Any, c: dict[str, Any]) -> tuple[dict[str, Any], Any]:
            c = dict(c)
            s = extinct(c["s"])
            x = burden(s[0], s[1])
            c["x78"] = jnp.where(day == 78, x, c["x78"])
            hit = c["watch"] & (x >= x_relapse) & (day > start)
            c["rel"] = jnp.where(hit, day.astype(c["rel"].dtype), c["rel"])
            c["watch"] = c["watch"] & ~hit
            if has_maint:
                hand = day == maint_start
                s = (*s[:2], *(jnp.where(hand, s[6] * rows["jost_ratio"], v) for v in s[2:6]),
                     s[6])
                since = day - maint_start
                in_m = (day >= maint_start) & (day < therapy_end)
                check = in_m & (since % every == 0)
                upd = check & (since > 0)
                anc, df, held = s[6], c["df"], c["held"]
                low = anc < lo
                df1 = jnp.where(~low & held, df * (1 - step), df)
                up = ~low & ~held & (anc > hi)
                df2 = jnp.where(up, jnp.minimum(df1 * (1 + step), max_factor), df1)
                c["df"] = jnp.where(upd, df2, df)
                c["held"] = jnp.where(upd, low, held)
                c["eff"] = jnp.where(check, jnp.where(c["held"], 0.0, c["df"]), c["eff"])
                c["anc_sum"] = c["anc_sum"] + jnp.where(in_m, anc, 0.0)
                c["dose_sum"] = c["dose_sum"] + jnp.where(in_m, c["eff"] * rows["dpb"], 0.0)
            c["s"] = s
            return c, x

        def acute(day: Any, c: dict[str, Any]) -> dict[str, Any]:
            c, _ = events(day, c)
            i = day - start
            ks = _kill_row(jnp, rows, sched["code"][i], sched["kill"][i])
            c["s"] = _acute_step(jnp, rows, c["s"], ks, sched["ome_n"][i], 0.0, k_acute)
            return c

        def maint(day: Any, c: dict[str, Any]) -> dict[str, Any]:
            c, x = events(day, c)
            s, tgn, eff = c["s"], c["tgn"], c["eff"]
            lm = jnp.log1p(x)
            expo = cm["gl"] - cm["crowd"] * lm
            g = (1.0 - x * rows["inv_kl"]) * rows["r"]
            kint = rows["ka"] * tgn + eff * rows["kbb"]
            # a growing (relapsed) burden: midpoint rule for growth and crowding
            mid0 = s[0] + 0.5 * (g - kint)
            mid1 = s[1] + 0.5 * (g - kint * rows["rho"])
            x_mid = burden(mid0, mid1)
            big = x > 0.01
            g = jnp.where(big, rows["r"] * (1.0 - x_mid * rows["inv_kl"]), g)
            expo = jnp.where(big, cm["gl"] - cm["crowd"] * jnp.log1p(x_mid), expo)
            l0 = (s[0] + g) - kint
            l1 = (s[1] + g) - rows["rho"] * kint
            a_h, b1, b2 = rows["a_h"], rows["b1"], rows["b2"]
            c_h = eff * rows["chb"]
            a1 = 1.0 - eff * rows["a1b"]
            a2 = 1.0 - eff * rows["a2b"]
            y = s[2:7]
            ome0 = c["ome0"]
            for _ in range(k_maint):
                ome1 = a1 - b1 * tgn
                ome2 = a2 - b2 * tgn
                tgn = tgn * a_h + c_h
                omes = (ome0, ome1, ome2)

                def f(yy: tuple[Any, ...], stage: int, omes: Any = omes) -> tuple[Any, ...]:
                    return _chain(jnp, yy, cm, expo, omes[stage])

                y = _rk4(y, 1.0 / k_maint, f)
                y = tuple(jnp.maximum(v, 1e-12) for v in y)
                ome0 = ome2
            c["s"] = (l0, l1, *y)
            c["tgn"], c["ome0"] = tgn, ome0
            return c

        zero = jnp.zeros_like(s0[0])
        c: dict[str, Any] = {
            "s": s0, "watch": watch0, "rel": jnp.full_like(zero, jnp.inf), "x78": zero,
            "tgn": zero, "ome0": jnp.ones_like(zero), "df": jnp.ones_like(zero),
            "held": jnp.zeros_like(watch0), "eff": zero, "anc_sum": zero, "dose_sum": zero,
        }
        c = lax.fori_loop(start, min(maint_start, last_day), acute, c)
        c = lax.fori_loop(max(maint_start, start), last_day, maint, c)
        c, _ = events(jnp.asarray(last_day), c)
        return c

    return jax.jit(run, static_argnames=("x_relapse",))


# --- host side --------------------------------------------------------------------------------


def _refuse(**options: Any) -> None:
    for name, value in options.items():
        if value is not None and value is not False:
            raise ValueError(
                f"run_cohort_batch_jax: option {name!r} is not supported by the JAX kernel "
                "(default path only); use run_cohort_batch (kernel 'fast')")


def run_cohort_batch_jax(
    ps: ParameterSet,
    protocol: Protocol,
    batch: Batch,
    horizon_days: int,
    substeps: int | None = None,
    *,
    dtype: str = "float32",
    titration: Any = None,
    intensify: bool = False,
    checkpoints: Any = None,
    checkpoint_u: Any = None,
    visit_z: Any = None,
    immune: Any = None,
    trace_days: int | None = None,
) -> RunResult:
    """:func:`allpath.sim.fast.run_cohort_batch` (default options) on JAX's default device.

    ``batch.p`` is updated in place with the risk-adapted post-induction sensitivity, as in the
    numpy kernel. ``dtype`` ``float64`` needs ``jax_enable_x64``. The other keyword options
    exist only to be refused with a clear :class:`ValueError`.
    """
    _refuse(titration=titration, intensify=intensify, checkpoints=checkpoints,
            checkpoint_u=checkpoint_u, visit_z=visit_z, immune=immune, trace_days=trace_days)
    jax, jnp, _ = _modules()
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    if dtype == "float64" and not jax.config.jax_enable_x64:
        raise ValueError("dtype 'float64' needs jax.config.update('jax_enable_x64', True)")
    if batch.n == 0:
        from allpath.sim.fast import run_cohort_batch

        return run_cohort_batch(ps, protocol, batch, horizon_days, substeps)
    dt = np.dtype(dtype)
    pop = batch.population
    n = batch.n
    npad = _bucket(n)
    u = batch.uniforms
    p = batch.p
    sched = schedule_for(protocol, substeps)
    ref = tgn_ref(ps, protocol, pop)
    therapy_end = protocol.therapy_days
    ind_days = protocol.phases[0].days
    starts = protocol.phase_starts()
    maint_start = next(
        (s for s, ph in zip(starts, protocol.phases, strict=True) if ph.maintenance), therapy_end
    )
    if maint_start < ind_days or not 8 <= ind_days <= 78:
        raise ValueError("run_cohort_batch_jax: needs 8 <= induction days <= 78 and maintenance "
                         "after induction")
    last_day = min(horizon_days, therapy_end)
    k_acute = set(sched.substeps[:maint_start])
    k_maint = set(sched.substeps[maint_start:])
    if len(k_acute) > 1 or len(k_maint) > 1:
        raise ValueError("run_cohort_batch_jax: sub-steps must be constant within the acute "
                         "phases and within maintenance")
    ka_sub = k_acute.pop() if k_acute else 1
    km_sub = k_maint.pop() if k_maint else 1

    y0 = steady_state(p, batch.ln_l_s, batch.ln_l_r)
    lnk64 = p[:, _PI["lnK_N"]]
    cols = diagnosis_columns(batch, y0)
    adapt_post_induction(p, (batch.age >= protocol.nci_high_risk_age)
                         | (cols["wbc_dx"] >= protocol.nci_high_risk_wbc),
                         protocol.nci_high_risk_multiplier)

    def dev(a: AnyArray) -> Any:
        """Per-patient row, padded by repeating the last patient, on the device."""
        a = np.asarray(a)
        return jnp.asarray(np.pad(a, (0, npad - n), mode="edge").astype(
            dt if a.dtype.kind == "f" else a.dtype))

    def host(a: Any) -> Array:
        out: Array = np.asarray(a)[..., :n].astype(np.float64)
        return out

    rows: dict[str, Any] = {
        "lnk": dev(lnk64),
        "r": dev(p[:, _PI["r"]]),
        "inv_kl": dev(1.0 / p[:, _PI["K_L_ratio"]]),
        "rho": dev(p[:, _PI["rho"]]),
        "s_ind": dev(p[:, _PI["s_ind"]]),
        "s_pro": dev(p[:, _PI["s_ind"]] * p[:, _PI["s_pro"]]),
        "s_post": dev(p[:, _PI["s_post"]]),
        "ncrit0": dev(batch.ln_n_crit[:, 0]),
        "ncrit1": dev(batch.ln_n_crit[:, 1]),
    }
    for key, (ktr, gam, c0, kc, crowd) in _CHAINS.items():
        rows[key] = {
            "ktr": dev(p[:, _PI[ktr]]), "gam": dev(p[:, _PI[gam]]),
            "gl": dev(p[:, _PI[gam]] * np.log(p[:, _PI[c0]])),
            "dk": dev(p[:, _PI[ktr]] - p[:, _PI[kc]]), "crowd": dev(p[:, _PI[crowd]]),
        }

    def day_table(lo: int, hi: int) -> dict[str, Any]:
        days = range(lo, max(hi, lo))
        code = [2 if sched.post_induction[d] else 1 if sched.prophase[d] else 0 for d in days]
        return {
            "kill": jnp.asarray(np.array([sched.kill[d] for d in days], dtype=dt)),
            "ome_n": jnp.asarray(np.array([1.0 - sched.theta_n[d] for d in days], dtype=dt)),
            "ome_p": jnp.asarray(np.array([1.0 - sched.theta_p[d] for d in days], dtype=dt)),
            "code": jnp.asarray(np.array(code, dtype=np.int32)),
        }

    # --- induction on the device ------------------------------------------------------------
    n1 = min(ind_days, last_day)
    s0 = tuple(dev(y0[:, i]) for i in range(12))
    s, x_end, x8, anc8, low = _induction_fn(n1, ka_sub)(rows, day_table(0, n1), s0)

    # --- day 8 and the induction-death hazard on the host (allpath.sim.outcomes) -------------
    from allpath.sim import salvage

    limits = AssayLimits.of(ps, pop)
    ev = Events.start(ps, protocol, batch, treated=salvage.enabled(ps, pop))
    low_h = np.asarray(low)[:, :n]
    for day in range(n1):
        ev.induction_day(day, low_h[day])
    if n1 >= 8:
        cols.update(day8_columns(host(x8), host(anc8), batch, limits))

    watch = np.zeros(n, dtype=bool)
    x78 = None
    rel_day = np.full(n, np.inf)
    anc_maint_sum = np.zeros(n)
    dose_maint_sum = np.zeros(n)
    if last_day >= ind_days:
        x64 = host(x_end)
        b = x64 / (1.0 + x64)
        cols.update(eoi_columns(b, host(s[6]), host(s[11]), batch, limits))
        in_cr = ev.alive & (b < 0.05)
        watch = in_cr.copy()
        ev.end_of_induction(in_cr, ind_days)
        adapt_post_induction(p, cols["mrd_eoi_flow"] >= protocol.mrd_positive_threshold,
                             protocol.mrd_positive_multiplier)
        rows["s_post"] = dev(p[:, _PI["s_post"]])

        # --- post-induction on the device ---------------------------------------------------
        cl = p[:, _PI["cl_tgn"]]
        q1 = (1.0 - np.exp(-cl)) / cl
        kill_coef = p[:, _PI["s_post"]] * (
            (sched.kill[maint_start] if maint_start < therapy_end else 0.0) / ref)
        dose_nominal = protocol.mp_dose_mg_m2_d * batch.bsa * batch.dose_fraction
        t_base = p[:, _PI["tgn_in"]] * dose_nominal / cl  # 6-TGN steady state at dose factor 1
        hm = 1.0 / km_sub
        a_half, a_h = np.exp(-cl * hm / 2), np.exp(-cl * hm)
        slope = p[:, _PI["slope"]]
        chb = t_base * (1.0 - a_h)
        rows.update({
            "jost_ratio": dev(p[:, _PI["kc_M"]] / p[:, _PI["ktr_M"]]),
            "dpb": dev(dose_nominal / batch.bsa),
            "ka": dev(kill_coef * q1), "kbb": dev(kill_coef * t_base * (1.0 - q1)),
            "a_h": dev(a_h), "chb": dev(chb), "a1b": dev(slope * t_base * (1.0 - a_half)),
            "b1": dev(slope * a_half), "a2b": dev(slope * chb), "b2": dev(slope * a_h),
        })
        fn = _post_fn(ind_days, maint_start, last_day, therapy_end, ka_sub, km_sub,
                      protocol.check_every_days, protocol.anc_window, protocol.dose_step,
                      protocol.max_dose_factor)
        c = fn(rows, day_table(ind_days, min(maint_start, last_day)), tuple(s[:7]),
               dev(watch), x_relapse=X_RELAPSE)
        s = c["s"]
        rel_day = host(c["rel"])
        anc_maint_sum = host(c["anc_sum"])
        dose_maint_sum = host(c["dose_sum"])
        x78 = c["x78"] if last_day >= 78 else None

    idx = np.flatnonzero(np.isfinite(rel_day))
    ev.record_relapses(idx, rel_day[idx])
    if x78 is not None:
        x64 = host(x78)
        cols["mrd_d78_pcr"] = assay(x64 / (1.0 + x64), u[:, U["d78_pcr"]], limits.lod_pcr,
                                    limits.k_lod)

    # --- treatment-related death in remission: constant hazard, closed form -----------------
    ev.trm_closed_form(ind_days, min(therapy_end, last_day))
    if last_day < horizon_days:
        ev.relapse_after_therapy(np.logaddexp(host(s[0]), host(s[1])), last_day, horizon_days,
                                 lnk64 + math.log(X_RELAPSE), p[:, _PI["r_post"]])

    if ev.treated:
        # the salvage roadmap of the packs as the relapsed patients' protocol (numpy, shared
        # with the fast kernel)
        cols.update(salvage.apply_to_cohort(ps, protocol, batch, ev.relapsed, ev.relapse_day,
                                            ev.death_day, (host(s[0]), host(s[1]))))
    cols.update(ev.columns(horizon_days))
    maint_days = max(min(therapy_end, last_day + 1) - maint_start, 1)
    cols["anc_maintenance_mean"] = anc_maint_sum / maint_days
    cols["mp_dose_mean_mg_m2"] = dose_maint_sum / maint_days
    fill_assay_columns(cols, n)
    return RunResult(columns=cols, trajectory=None, phase_starts=starts)
