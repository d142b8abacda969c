"""``allpath simulate``: virtual patients and cohorts (a thin layer over :mod:`allpath.sim`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress

from allpath.io import atomic_output, write_text_atomic

app = typer.Typer(
    help="Simulate virtual ALL patients (marrow and blood-count dynamics under treatment). "
    "Virtual patients are not real people; outputs are not clinical advice.",
    no_args_is_help=True,
)
_console = Console()


@app.command("patient")
def patient(
    profile: Annotated[Path, typer.Argument(help="Profile YAML or an allpath.record/1 file")],
    out_png: Annotated[Path | None, typer.Option(
        "--plot", help="Write a PNG plot of the patient's course here")] = None,
    old_png: Annotated[Path | None, typer.Option(
        "--out-png", hidden=True, help="Deprecated name of --plot")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed")] = 0,
    out_record: Annotated[
        Path | None, typer.Option("--out-record", help="Write the synthetic record (JSON)")
    ] = None,
    exact: Annotated[
        bool, typer.Option("--exact", help="Record the model's values instead of measured "
                           "ones (no ANC residual error, no marrow counting noise)")
    ] = False,
) -> None:
    """Simulate one virtual patient; print events, optionally plot and write its record."""
    from allpath.sim import load_profile, plot_patient, simulate_patient, to_record
    from allpath.sim.patient import measurement_rng

    run = simulate_patient(load_profile(profile), seed=seed)
    o = run.outcome
    def said(flag: object, yes: str, no: str) -> str:
        return yes if bool(flag) else no

    _console.print(
        f"{run.profile['id']}: {run.profile['sex']}, {run.profile['age']:.1f} years, "
        f"{run.profile['subtype']} | {said(o['cr'], 'complete remission', 'no remission')}, "
        f"end-of-induction MRD (flow) {o['mrd_eoi_flow']:.2e}, "
        f"{said(o['relapse'], 'relapse', 'no relapse')}, {said(o['death'], 'died', 'alive')}"
    )
    if old_png is not None:  # the name before --plot; still read, never shown in --help
        typer.echo("note: --out-png is deprecated; use --plot", err=True)
        out_png = out_png or old_png
    if out_png is not None:
        with atomic_output(out_png) as tmp:
            plot_patient(run, tmp)
        _console.print(f"plot written to {out_png}")
    if out_record is not None:
        rng = None if exact else measurement_rng(seed)
        write_text_atomic(out_record, json.dumps(to_record(run, rng), indent=2))
        _console.print(f"record written to {out_record}")


def _print_text(summary: dict[str, Any]) -> None:
    for key, value in summary.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k}={v:.3f}" for k, v in value.items())
            _console.print(f"{key}: {inner}")
        elif isinstance(value, float):
            _console.print(f"{key}: {value:.4f}")
        else:
            _console.print(f"{key}: {value}")


@app.command("cohort")
def cohort(
    config: Annotated[Path | None, typer.Argument(help="Cohort YAML (optional)")] = None,
    preset: Annotated[str, typer.Option(
        "--preset", help="Population preset (pediatric, adult, aya, older_adult) or a trial "
        "preset of immunotherapy.yaml (e.g. tower_blinatumomab, eliana_cart, e1910_blinatumomab)"),
    ] = "pediatric",
    n: Annotated[int, typer.Option("--n", help="Number of patients")] = 10_000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    out: Annotated[Path, typer.Option("--out", help="Per-patient Parquet file")] = Path(
        "cohort.parquet"
    ),
    chunk_size: Annotated[int, typer.Option("--chunk-size")] = 16_384,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes")] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address (tcp://HOST:8786), or 'local' "
                     "for a local cluster of --workers processes (at least 2)"),
    ] = None,
    connect_timeout: Annotated[
        float | None,
        typer.Option("--connect-timeout", envvar="ALLPATH_CONNECT_TIMEOUT", min=0.001,
                     help="Seconds to wait for the scheduler to answer (default 5)"),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Directory for a summary plot")
    ] = None,
    titration: Annotated[
        str | None,
        typer.Option("--titration", help="Maintenance titration policy: protocol (built-in "
                     "rule), fixed (no titration) or pack (closed loop through the titration "
                     "pack); overrides the config"),
    ] = None,
    titration_basis: Annotated[
        str, typer.Option("--titration-basis", help="auto (WBC, NOPHO window) or anc")
    ] = "auto",
    checkpoints: Annotated[
        str | None,
        typer.Option("--checkpoints", help="pack: the response pack calls remission at the end "
                     "of induction and the relapse pack detects and classifies relapses; none: "
                     "calls from the true burden; overrides the config"),
    ] = None,
    intensification: Annotated[
        str | None,
        typer.Option("--intensification", help="pack: MRD re-stratification by the risk pack "
                     "with augmented therapy for high risk; none; overrides the config"),
    ] = None,
    roadmap: Annotated[
        str | None,
        typer.Option("--roadmap", help="pack: each patient's protocol is the roadmap template "
                     "the roadmap pack chooses at diagnosis; none: one protocol; overrides "
                     "the config"),
    ] = None,
) -> None:
    """Simulate a cohort, stream it to Parquet and print its summary."""
    from allpath.sim import load_config, simulate_cohort, summarise

    try:
        cfg = load_config(preset, config)
    except (KeyError, ValueError) as exc:
        raise typer.BadParameter(str(exc.args[0]) if exc.args else str(exc)) from exc
    if titration is not None:
        from dataclasses import replace

        from allpath.sim.closed_loop import parse_titration

        every = cfg.titration.every_weeks if cfg.titration is not None else None
        cfg = replace(cfg, titration=parse_titration(
            {"policy": titration, "basis": titration_basis, "every_weeks": every}))
    if checkpoints is not None or intensification is not None or roadmap is not None:
        from dataclasses import replace

        from allpath.sim.checkpoints import parse_checkpoints
        from allpath.sim.cohort import parse_intensification, parse_roadmap

        try:
            if checkpoints is not None:
                cfg = replace(cfg, checkpoints=parse_checkpoints(checkpoints))
            if intensification is not None:
                cfg = replace(cfg, intensification=parse_intensification(intensification))
            if roadmap is not None:
                cfg = replace(cfg, roadmap=parse_roadmap(roadmap))
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    # the bar goes to stderr, so that stdout holds only the summary (JSON with --format json)
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"simulating {n} patients", total=n)
        if scheduler is not None:
            from allpath.cli.common import fail
            from allpath.errors import AllPathError
            from allpath.sim.cohort import simulate_cohort_dask

            try:
                simulate_cohort_dask(
                    cfg, n=n, seed=seed, chunk_size=chunk_size, out=out,
                    progress=lambda k: progress.advance(task, k),
                    scheduler=None if scheduler == "local" else scheduler,
                    connect_timeout=connect_timeout, n_workers=max(workers, 2),
                    announce=lambda line: typer.echo(line, err=True),
                )  # fmt: skip
            except AllPathError as err:  # cluster unreachable or lost: a message, exit 2
                progress.stop()
                fail(err)
        else:
            simulate_cohort(
                cfg, n=n, seed=seed, chunk_size=chunk_size, out=out,
                progress=lambda k: progress.advance(task, k), workers=workers,
            )  # fmt: skip
    summary = summarise(out)
    if fmt == "json":
        typer.echo(json.dumps(summary, indent=2))
    else:
        _print_text(summary)
    if plot is not None:
        from allpath.sim.report import plot_cohort

        plot.mkdir(parents=True, exist_ok=True)
        path = plot / "cohort.png"
        with atomic_output(path) as tmp:
            plot_cohort(out, tmp)
        _console.print(f"plot written to {path}")


@app.command("compare")
def compare(
    policy_a: Annotated[Path, typer.Argument(help="Policy YAML of arm A (the reference)")],
    policy_b: Annotated[Path, typer.Argument(help="Policy YAML of arm B")],
    n: Annotated[int, typer.Option("--n", help="Virtual patients (each in both arms)")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed: the same patients in both arms")] = 0,
    at: Annotated[str, typer.Option("--at", help="Times for EFS/OS, e.g. 3y,5y or 18m")] = "3y,5y",
    out: Annotated[Path, typer.Option("--out", help="Report file (Markdown, or JSON with "
                                      "--format json)")] = Path("compare.md"),
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Kaplan-Meier PNG (default: the report's path with .png)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="markdown or json")] = "markdown",
    workers: Annotated[int, typer.Option("--workers", help="Worker processes")] = 1,
    chunk_size: Annotated[int, typer.Option("--chunk-size")] = 16_384,
) -> None:
    """Virtual trial: two policies on the same virtual patients (common random numbers);
    EFS/OS with 95% intervals, hazard ratio, log-rank test, Kaplan-Meier PNG and a report."""
    import shlex

    from allpath.sim.compare import (
        parse_times,
        plot_comparison,
        run_comparison,
        to_json,
        to_markdown,
    )
    from allpath.sim.policy import PolicyError, load_policy

    if fmt not in ("markdown", "json"):
        raise typer.BadParameter(f"expected markdown or json, got {fmt!r}",
                                 param_hint="--format")
    try:
        times = parse_times(at)
        a, b = load_policy(policy_a), load_policy(policy_b)
    except (PolicyError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    png = plot if plot is not None else out.with_suffix(".png")
    for hint, target in (("--out", out), ("--plot", png)):  # before the simulation, not after
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise typer.BadParameter(f"cannot create folder {target.parent}: "
                                     f"{exc.strerror or exc}", param_hint=hint) from exc
    with Progress(console=_console, transient=True, disable=fmt == "json") as progress:
        task = progress.add_task(f"simulating {n} patients x 2 policies", total=2 * n)
        try:
            comp = run_comparison(a, b, n=n, seed=seed, times=times, chunk_size=chunk_size,
                                  workers=workers, progress=lambda k: progress.advance(task, k))
        except (PolicyError, ValueError) as exc:
            raise typer.BadParameter(str(exc)) from exc
    from dataclasses import replace

    command = shlex.join(["allpath", "simulate", "compare", str(policy_a), str(policy_b),
                          "--n", str(n), "--seed", str(seed), "--at", at])
    comp = replace(comp, command=command)
    with atomic_output(png) as tmp:
        plot_comparison(comp, tmp)
    if fmt == "json":
        text = json.dumps(to_json(comp), indent=2)
        write_text_atomic(out, text + "\n")
        typer.echo(text)
        typer.echo(f"report written to {out}; Kaplan-Meier curves written to {png}", err=True)
        return
    link = png.name if png.parent.resolve() == out.parent.resolve() else str(png)
    write_text_atomic(out, to_markdown(comp, link))
    for ep in comp.endpoints:
        surv = ", ".join(f"{s.label} {100 * s.a[0]:.1f}% vs {100 * s.b[0]:.1f}%" for s in ep.at)
        _console.print(f"{ep.endpoint}: A vs B {surv}; HR B vs A {ep.hazard_ratio:.3f} "
                       f"({ep.hr_lower:.3f}-{ep.hr_upper:.3f}), log-rank p {ep.logrank_p:.3g}")
    _console.print(f"report written to {out}; Kaplan-Meier curves written to {png}")
