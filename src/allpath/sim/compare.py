"""Virtual trials: two care policies on the same virtual patients (common random numbers).

:func:`run_comparison` simulates one cohort under policy A and the *same* cohort under policy B
(:mod:`allpath.sim.policy`): patient k's draws come from the seeded block streams of
:func:`allpath.sim.base.patient_randoms`, keyed by seed and patient index, and every policy
setting draws from its own stream, so both arms hold the same patients with the same random
draws wherever the policies do not act. Two identical policies give identical outcomes,
patient by patient; a difference between the arms is the policies' effect plus Monte Carlo
noise that the pairing keeps small.

:func:`analyse` compares the arms on event-free survival (EFS: induction failure, relapse or
death) and overall survival (OS), all at once along the patient axis:

* Kaplan-Meier estimates at chosen times with 95 % intervals (lifelines; exponential Greenwood,
  i.e. log(-log) transformed);
* the hazard ratio of B against A with its 95 % interval and Wald p (lifelines Cox model, arm as
  the only covariate, Efron ties) and the log-rank test
  (lifelines). Both treat the arms as independent samples, i.e. they show what a two-arm trial
  with N patients per arm would show; for paired arms this is conservative;
* the paired difference in survival at each time, B - A in the same patients, with a 95 %
  interval from the per-patient differences (:func:`paired_difference`);
* a paired view that uses the common patients: in how many pairs the event came earlier under
  B, earlier under A, or at the same time (or not at all) under both, with a two-sided sign
  test (scipy ``binomtest``) on the discordant pairs.

Virtual patients are not real people, and the simulator's parameters are partly toy values:
a virtual trial shows consequences of the model, not clinical evidence.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from allpath.sim.policy import Policy, PolicyError

__all__ = [
    "ENDPOINTS",
    "Arm",
    "Comparison",
    "EndpointComparison",
    "SurvivalAt",
    "TimePoint",
    "analyse",
    "parse_times",
    "plot_comparison",
    "run_comparison",
    "to_json",
    "to_markdown",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Endpoint -> (time column, event column) of the cohort table.
ENDPOINTS: dict[str, tuple[str, str]] = {"EFS": ("efs_day", "efs_event"),
                                         "OS": ("os_day", "death")}
ENDPOINT_TITLES = {"EFS": "Event-free survival", "OS": "Overall survival"}
#: Unit spellings accepted in ``--at`` -> pint unit names (converted to days with pint).
_UNITS = {"y": "year", "yr": "year", "yrs": "year", "year": "year", "years": "year",
          "m": "month", "mo": "month", "month": "month", "months": "month",
          "w": "week", "wk": "week", "week": "week", "weeks": "week",
          "d": "day", "day": "day", "days": "day"}
LEVEL = 0.95


# ------------------------------------------------------------------------------- times
@dataclass(frozen=True)
class TimePoint:
    """A time after diagnosis at which survival is reported: its label and its days."""

    label: str
    days: float


def parse_times(text: str) -> tuple[TimePoint, ...]:
    """``"3y,5y"`` (also ``18m``, ``26w``, ``365d``, ``2.5 years``) -> time points in days.

    Units are converted with pint (a year is 365.25 days, a month a twelfth of it). A number
    without a unit is refused: the unit is never assumed.
    """
    from allpath.units import convert

    items = [s.strip() for s in text.split(",")]
    if not text.strip() or any(not s for s in items):
        raise ValueError(f"--at: expected times such as '3y,5y', got {text!r}")
    out: list[TimePoint] = []
    for item in items:
        m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([A-Za-z]*)", item)
        if m is None:
            raise ValueError(f"--at: {item!r} is not a time such as 3y, 18m, 26w or 365d")
        unit = _UNITS.get(m.group(2).lower())
        if unit is None:
            raise ValueError(f"--at: {item!r} needs a unit (y, m, w or d); got "
                             f"{m.group(2)!r}" if m.group(2) else
                             f"--at: {item!r} needs a unit (y, m, w or d), e.g. {item}y")
        days = float(convert(float(m.group(1)), unit, "day"))
        if days <= 0:
            raise ValueError(f"--at: {item!r} must be after diagnosis (> 0)")
        out.append(TimePoint(label=item.replace(" ", ""), days=days))
    return tuple(sorted(out, key=lambda t: t.days))


# ------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Arm:
    """One arm's per-patient outcomes (patient order = cohort index)."""

    policy: Policy
    columns: Mapping[str, FloatArray]

    def endpoint(self, name: str) -> tuple[FloatArray, BoolArray]:
        t_col, e_col = ENDPOINTS[name]
        return (np.asarray(self.columns[t_col], dtype=np.float64),
                np.asarray(self.columns[e_col], dtype=np.float64) == 1.0)


@dataclass(frozen=True)
class SurvivalAt:
    """Kaplan-Meier survival at one time in each arm: (estimate, lower, upper), and the
    paired difference B - A with its 95 % interval (NaN where a patient was censored
    before that time, which the simulator's administrative censoring never does)."""

    label: str
    days: float
    a: tuple[float, float, float]
    b: tuple[float, float, float]
    paired_difference: tuple[float, float, float] = (math.nan, math.nan, math.nan)


@dataclass(frozen=True)
class EndpointComparison:
    """One endpoint compared between the arms (B against A)."""

    endpoint: str
    at: tuple[SurvivalAt, ...]
    events_a: int
    events_b: int
    hazard_ratio: float
    hr_lower: float
    hr_upper: float
    hr_p: float
    logrank_statistic: float
    logrank_p: float
    #: Paired view: pairs with the event earlier under B, earlier under A, the same outcome.
    b_earlier: int
    a_earlier: int
    same: int
    sign_test_p: float


@dataclass(frozen=True)
class Comparison:
    """A finished virtual trial."""

    a: Arm
    b: Arm
    n: int
    seed: int
    horizon_days: int
    times: tuple[TimePoint, ...]
    endpoints: tuple[EndpointComparison, ...]
    seconds: float = math.nan
    command: str = ""
    parameter_set: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------- running
def run_comparison(
    a: Policy,
    b: Policy,
    n: int,
    seed: int,
    times: Sequence[TimePoint],
    *,
    chunk_size: int | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Comparison:
    """Simulate ``n`` virtual patients under policy ``a`` and the same patients under ``b``
    (same ``seed``), then :func:`analyse` them. The horizon is the presets' and is extended
    to one day past the latest time asked for."""
    import pyarrow as pa

    from allpath.sim.cohort import DEFAULT_CHUNK, simulate_cohort

    if n < 2:
        raise ValueError(f"--n: expected at least 2 patients, got {n}")
    if not times:
        raise ValueError("--at: expected at least one time")
    if a.config.population != b.config.population:
        raise PolicyError(
            f"policies {a.source} and {b.source} draw different patients (preset "
            f"{a.config.name!r} vs {b.config.name!r}); a comparison runs both policies on "
            f"the same virtual patients, so their presets must share one population")
    horizon = max(a.config.horizon_days, b.config.horizon_days,
                  math.floor(max(t.days for t in times)) + 1)
    started = time.perf_counter()
    arms: list[Arm] = []
    keep = ("id", *{c for pair in ENDPOINTS.values() for c in pair})
    for policy in (a, b):
        cfg = replace(policy.config, horizon_days=horizon)
        table = simulate_cohort(cfg, n=n, seed=seed, chunk_size=chunk_size or DEFAULT_CHUNK,
                                workers=workers, progress=progress)
        assert isinstance(table, pa.Table)  # no ``out``: the table itself
        cols = {k: table.column(k).to_numpy(zero_copy_only=False).astype(np.float64)
                for k in keep}
        arms.append(Arm(policy=replace(policy, config=cfg), columns=cols))
    if not np.array_equal(arms[0].columns["id"], arms[1].columns["id"]):
        raise RuntimeError("the two arms do not hold the same patients in the same order")
    endpoints = analyse(arms[0], arms[1], times)
    return Comparison(a=arms[0], b=arms[1], n=n, seed=seed, horizon_days=horizon,
                      times=tuple(times), endpoints=endpoints,
                      seconds=time.perf_counter() - started,
                      parameter_set=a.config.parameters.version)


# ------------------------------------------------------------------------------- statistics
def analyse(a: Arm, b: Arm, times: Sequence[TimePoint]) -> tuple[EndpointComparison, ...]:
    """EFS and OS of arm ``b`` against arm ``a`` (see the module docstring)."""
    out = []
    for name in ENDPOINTS:
        ta, ea = a.endpoint(name)
        tb, eb = b.endpoint(name)
        out.append(compare_endpoint(name, ta, ea, tb, eb, times))
    return tuple(out)


def compare_endpoint(name: str, ta: FloatArray, ea: BoolArray, tb: FloatArray, eb: BoolArray,
                     times: Sequence[TimePoint]) -> EndpointComparison:
    """One endpoint: KM at ``times``, Cox HR, log-rank, paired sign test."""
    from lifelines.statistics import logrank_test
    from scipy.stats import binomtest

    km_a, km_b = km_at(ta, ea, times), km_at(tb, eb, times)
    at = tuple(SurvivalAt(t.label, t.days, x, y, paired_difference(ta, ea, tb, eb, t.days))
               for t, x, y in zip(times, km_a, km_b, strict=True))
    hr, lo, hi, p = cox_hazard_ratio(ta, ea, tb, eb)
    lr = logrank_test(ta, tb, event_observed_A=ea, event_observed_B=eb)
    b_first = eb & (~ea | (tb < ta))
    a_first = ea & (~eb | (ta < tb))
    k, m = int(b_first.sum()), int(a_first.sum())
    sign_p = 1.0 if k + m == 0 else float(binomtest(k, k + m, 0.5).pvalue)
    return EndpointComparison(
        endpoint=name, at=at, events_a=int(ea.sum()), events_b=int(eb.sum()),
        hazard_ratio=hr, hr_lower=lo, hr_upper=hi, hr_p=p,
        logrank_statistic=float(lr.test_statistic), logrank_p=float(lr.p_value),
        b_earlier=k, a_earlier=m, same=int(ta.shape[0] - k - m), sign_test_p=sign_p)


def paired_difference(ta: FloatArray, ea: BoolArray, tb: FloatArray, eb: BoolArray,
                      day: float) -> tuple[float, float, float]:
    """Survival at ``day`` under B minus under A in the same patients, with a paired 95 %
    interval: (difference, lower, upper).

    Where nobody is censored before ``day`` (the simulator censors only at its horizon) the
    Kaplan-Meier estimate is the share without an event by ``day``, so the difference is the
    mean of the per-patient differences d = [event by day under A] - [event by day under B],
    and its standard error sd(d)/sqrt(n) (normal approximation; the paired analogue of
    McNemar's comparison). NaN where someone is censored earlier.
    """
    from scipy.stats import norm

    if ((~ea & (ta < day)) | (~eb & (tb < day))).any():
        return math.nan, math.nan, math.nan
    d = (ea & (ta <= day)).astype(np.float64) - (eb & (tb <= day)).astype(np.float64)
    n = d.shape[0]
    mean = float(d.mean())
    se = float(d.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    z = float(norm.ppf(0.5 + LEVEL / 2))
    return mean, mean - z * se, mean + z * se


def km_at(t: FloatArray, e: BoolArray, times: Sequence[TimePoint]
          ) -> list[tuple[float, float, float]]:
    """Kaplan-Meier survival at each time with lifelines' 95 % interval (estimate, lo, hi)."""
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter(alpha=1.0 - LEVEL).fit(t, event_observed=e)
    days = np.array([tp.days for tp in times])
    est = kmf.survival_function_at_times(days).to_numpy()
    ci = kmf.confidence_interval_survival_function_
    idx = np.maximum(np.searchsorted(ci.index.to_numpy(), days, side="right") - 1, 0)
    bounds = ci.to_numpy()[idx]
    return [(float(est[i]), float(bounds[i, 0]), float(bounds[i, 1]))
            for i in range(days.shape[0])]


def cox_hazard_ratio(ta: FloatArray, ea: BoolArray, tb: FloatArray, eb: BoolArray
                     ) -> tuple[float, float, float, float]:
    """Hazard ratio of B against A from a Cox model with the arm as covariate (lifelines,
    one row per patient and arm; Efron ties): (HR, lower, upper 95 %, Wald p).

    Rows are not pooled into weighted unique rows: lifelines' weighted Efron correction
    handles tied weighted rows differently from the same rows written out (the fits differ
    in the fifth digit), so the fit would no longer be the plain Cox model of the data."""
    import importlib

    from lifelines import CoxPHFitter

    pd: Any = importlib.import_module("pandas")  # no type stubs installed: keep it Any
    df = pd.DataFrame({"T": np.concatenate([ta, tb]),
                       "E": np.concatenate([ea, eb]),
                       "arm": np.repeat([0.0, 1.0], [ta.shape[0], tb.shape[0]])})
    cph = CoxPHFitter(alpha=1.0 - LEVEL).fit(df, "T", "E")
    row = cph.summary.loc["arm"]
    return (float(row["exp(coef)"]), float(row[f"exp(coef) lower {LEVEL:.0%}"]),
            float(row[f"exp(coef) upper {LEVEL:.0%}"]), float(row["p"]))


# ------------------------------------------------------------------------------- outputs
def plot_comparison(comp: Comparison, path: str | Path) -> None:
    """Kaplan-Meier curves of both arms (EFS and OS panels, 95 % bands) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from lifelines import KaplanMeierFitter

    fig, axes = plt.subplots(1, len(ENDPOINTS), figsize=(11, 4.6), sharey=True)
    for ax, ep in zip(axes, comp.endpoints, strict=True):
        for arm, colour in ((comp.a, "tab:blue"), (comp.b, "tab:orange")):
            t, e = arm.endpoint(ep.endpoint)
            kmf = KaplanMeierFitter(alpha=1.0 - LEVEL).fit(t, event_observed=e)
            years = kmf.survival_function_.index.to_numpy() / 365.25
            sf = kmf.survival_function_.iloc[:, 0].to_numpy()
            ci = kmf.confidence_interval_survival_function_.to_numpy()
            ax.step(years, sf, where="post", color=colour, lw=1.6,
                    label=f"{arm.policy.name} ({int(e.sum())} events)")
            ax.fill_between(years, ci[:, 0], ci[:, 1], step="post", color=colour, alpha=0.2,
                            lw=0)
        ax.set_title(f"{ENDPOINT_TITLES[ep.endpoint]}: HR {ep.hazard_ratio:.2f} "
                     f"({ep.hr_lower:.2f}-{ep.hr_upper:.2f}), log-rank p {_p(ep.logrank_p)}",
                     fontsize=10)
        ax.set_xlabel("Years from diagnosis")
        ax.set_ylabel(f"{ENDPOINT_TITLES[ep.endpoint]} (Kaplan-Meier, 95% CI)")
        ax.set_xlim(0, comp.horizon_days / 365.25)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)
    fig.suptitle(f"Virtual trial: {comp.b.policy.name} vs {comp.a.policy.name} "
                 f"({comp.n:,} virtual patients per arm, seed {comp.seed}; not clinical "
                 f"evidence)", fontsize=11)
    fig.tight_layout()
    fig.savefig(str(path), dpi=110, format="png")
    plt.close(fig)


def _p(p: float) -> str:
    if math.isnan(p):
        return "n/a"
    return f"{p:.2g}" if p >= 1e-4 else "< 0.0001"


def _diff(s: SurvivalAt) -> str:
    def pp(x: float) -> str:
        return f"{round(100 * x, 2) + 0.0:+.2f}"  # + 0.0: no "-0.00"

    est, lo, hi = s.paired_difference
    if math.isnan(est):
        return f"{pp(s.b[0] - s.a[0])} pp (n/a: censored before {s.label})"
    return f"{pp(est)} pp ({pp(lo)} to {pp(hi)})"


def _pct(x: tuple[float, float, float]) -> str:
    return f"{100 * x[0]:.1f}% ({100 * x[1]:.1f}-{100 * x[2]:.1f})"


def _finite(obj: Any) -> Any:
    """NaN (an estimate that does not exist) as None, so that the JSON is standard."""
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def to_json(comp: Comparison) -> dict[str, Any]:
    """The comparison as plain data (JSON-ready; NaN written as null)."""
    return dict(_finite(_json(comp)))


def _json(comp: Comparison) -> dict[str, Any]:
    def arm(x: Arm) -> dict[str, Any]:
        return {"name": x.policy.name, "source": x.policy.source,
                "description": x.policy.description, "settings": dict(x.policy.settings)}

    return {
        "design": {"n_per_arm": comp.n, "seed": comp.seed, "horizon_days": comp.horizon_days,
                   "common_random_numbers": True, "parameter_set": comp.parameter_set,
                   "times": [{"label": t.label, "days": t.days} for t in comp.times]},
        "a": arm(comp.a),
        "b": arm(comp.b),
        "endpoints": {
            ep.endpoint: {
                "survival": [{"time": s.label, "days": s.days,
                              "a": dict(zip(("estimate", "lower", "upper"), s.a, strict=True)),
                              "b": dict(zip(("estimate", "lower", "upper"), s.b, strict=True)),
                              "paired_difference_b_minus_a": dict(zip(
                                  ("estimate", "lower", "upper"), s.paired_difference,
                                  strict=True))}
                             for s in ep.at],
                "events": {"a": ep.events_a, "b": ep.events_b},
                "hazard_ratio_b_vs_a": {"estimate": ep.hazard_ratio, "lower": ep.hr_lower,
                                        "upper": ep.hr_upper, "wald_p": ep.hr_p},
                "logrank": {"statistic": ep.logrank_statistic, "p": ep.logrank_p},
                "paired": {"b_earlier": ep.b_earlier, "a_earlier": ep.a_earlier,
                           "same": ep.same, "sign_test_p": ep.sign_test_p},
            } for ep in comp.endpoints
        },
        "confidence_level": LEVEL,
        "seconds": comp.seconds,
        "command": comp.command,
    }


def _settings(p: Policy) -> str:
    return "; ".join(f"{k}: {_flow(v)}" for k, v in p.settings.items()) or "defaults"


def _flow(v: Any) -> str:
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{k}: {_flow(x)}" for k, x in v.items()) + "}"
    return str(v).lower() if isinstance(v, bool) else str(v)


def to_markdown(comp: Comparison, png: str | None = None) -> str:
    """The comparison as a Markdown report; ``png``: the KM figure's path as linked."""
    a, b = comp.a.policy, comp.b.policy
    lines = [
        f"# Virtual trial: {b.name} vs {a.name}",
        "",
        "Virtual patients are not real people and the simulator's parameters are partly toy "
        "values: this report shows consequences of the model, not clinical evidence, and it is "
        "not advice for any patient.",
        "",
    ]
    if comp.command:
        lines += ["```", comp.command, "```", ""]
    lines += [
        "## Design",
        "",
        f"- **Patients**: {comp.n:,} virtual patients, each simulated under both policies "
        f"(seed {comp.seed}; common random numbers: patient k has the same draws in both "
        "arms, so outcomes differ only where the policies act). Parameter set "
        f"{comp.parameter_set or 'n/a'}.",
        f"- **Follow-up**: {comp.horizon_days} days from diagnosis (administrative censoring).",
        f"- **Arm A**: {a.name} (`{a.source}`): {_settings(a)}."
        + (f" {a.description}" if a.description else ""),
        f"- **Arm B**: {b.name} (`{b.source}`): {_settings(b)}."
        + (f" {b.description}" if b.description else ""),
        "",
        "## Survival at chosen times (Kaplan-Meier, 95% CI)",
        "",
        f"| endpoint | time | A: {a.name} | B: {b.name} | B - A, paired (95% CI) |",
        "|---|---|---|---|---|",
    ]
    for ep in comp.endpoints:
        for s in ep.at:
            lines.append(f"| {ep.endpoint} | {s.label} | {_pct(s.a)} | {_pct(s.b)} | "
                         f"{_diff(s)} |")
    lines += [
        "",
        "## Hazard ratio and log-rank test (arms as independent samples)",
        "",
        "| endpoint | events A | events B | HR B vs A (95% CI) | Wald p | log-rank chi2 | "
        "log-rank p |",
        "|---|---|---|---|---|---|---|",
    ]
    for ep in comp.endpoints:
        lines.append(f"| {ep.endpoint} | {ep.events_a:,} | {ep.events_b:,} | "
                     f"{ep.hazard_ratio:.3f} ({ep.hr_lower:.3f}-{ep.hr_upper:.3f}) | "
                     f"{_p(ep.hr_p)} | {ep.logrank_statistic:.1f} | {_p(ep.logrank_p)} |")
    lines += [
        "",
        "## Paired view (the same patients under both policies)",
        "",
        "| endpoint | event earlier under B | event earlier under A | same outcome | "
        "sign-test p |",
        "|---|---|---|---|---|",
    ]
    for ep in comp.endpoints:
        lines.append(f"| {ep.endpoint} | {ep.b_earlier:,} | {ep.a_earlier:,} | {ep.same:,} | "
                     f"{_p(ep.sign_test_p)} |")
    if png:
        lines += ["", f"![Kaplan-Meier curves of both arms]({png})"]
    lines += [
        "",
        "## Methods",
        "",
        "EFS events: induction failure, relapse or death; OS events: death. Kaplan-Meier "
        "estimates with lifelines' 95% intervals (exponential Greenwood). Hazard ratio: "
        "lifelines Cox model with the arm as the only covariate (Efron ties), Wald interval; "
        "log-rank test: lifelines. These treat the two arms as independent samples - what a "
        "two-arm trial with this many patients per arm would show - and are conservative for "
        "paired arms. Paired view: per patient, whether the event came earlier under B, "
        "earlier under A, or at the same time (or not at all) under both; two-sided sign test "
        "(scipy binomtest) on the discordant pairs. B - A: survival under B minus under A in "
        "the same patients, with a paired 95% interval (mean and standard error of the "
        "per-patient differences; valid because the simulator censors only at its horizon). "
        "Module: `allpath.sim.compare`.",
    ]
    if not math.isnan(comp.seconds):
        lines += ["", f"Simulation and analysis took {comp.seconds:.1f} s."]
    return "\n".join(lines) + "\n"
