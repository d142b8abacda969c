"""``allpath trials match|centres``: pre-screen registered studies, find centres with open ones."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from allpath.cli.common import fail
from allpath.errors import AllPathError
from allpath.outputs.readable import age_in_words, words, wrap_text

app = typer.Typer(help="Clinical trials: pre-screen ClinicalTrials.gov studies for a patient "
                       "and find centres with open ALL studies. Never a decision to enrol.",
                  no_args_is_help=True)

__all__ = ["app", "render_matches_markdown", "render_matches_text"]

_MARK = {"met": "yes", "not_met": "NO", "unknown": "unknown"}
_VERDICT = {"possible": "Could fit", "check": "Could fit, needs checking",
            "excluded": "Does not fit"}


class MatchFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    fhir = "fhir"


class CentreFormat(StrEnum):
    text = "text"
    json = "json"


TrialsOption = Annotated[Path | None, typer.Option(
    "--trials", "-t", help="ClinicalTrials.gov CSV export, classic XML, API v2 JSON, or a "
                           "folder of them (default: the bundled snapshot of open ALL studies).")]


_AGE_LIMIT = re.compile(r"(?P<op>[<>]=?|[≥≤])\s*(?P<years>\d+(?:\.\d+)?)")


def _is_age(cr: dict[str, Any]) -> bool:
    return str(cr["criterion"]).rsplit(".", 1)[-1] == "age"


def _requires(cr: dict[str, Any]) -> str:
    """What a criterion requires, in words; age limits in years and months."""
    text = words(cr["requires"])
    if not _is_age(cr):
        return text
    text = re.sub(r"\s*years?$", "", text)
    return _AGE_LIMIT.sub(lambda m: m["op"] + age_in_words(float(m["years"])), text)


def _patient(cr: dict[str, Any]) -> str:
    value = cr["patient"]
    if _is_age(cr) and isinstance(value, int | float) \
            and not isinstance(value, bool):
        return age_in_words(float(value))
    return words(value)


def render_matches_text(doc: dict[str, Any]) -> str:
    """Plain text: counts, then each listed study with its criteria."""
    c = doc["counts"]
    lines = [f"Trial pre-screen for {doc['patient_id']} "
             f"(criteria {doc['criteria_version']}): {doc['screened']} studies compared, "
             f"{c['possible']} could fit, {c['check']} need checking, "
             f"{c['excluded']} do not fit.", ""]
    lines += [f"Note: {n}" for n in doc.get("notes", [])]
    if doc.get("notes"):
        lines.append("")
    for m in doc["matches"]:
        phases = "/".join(m["phases"]) or "no phase"
        lines.append(f"{_VERDICT[m['verdict']]}: {m['nct_id']} [{m['status']}, {phases}]")
        lines.append(f"  {m['title']}")
        lines.append(f"  {m['url']}")
        for cr in m["criteria"]:
            requires, value = _requires(cr), _patient(cr)
            patient = "" if cr["criterion"] == "status" else f", patient {value}"
            lines.append(f"    {_MARK[cr['outcome']]:>7}  {cr['label']}: requires "
                         f"{requires}{patient}"
                         + (f"  <- {cr['evidence']}" if cr["evidence"] else ""))
        for s in m["to_settle"]:
            lines.append(f"    to settle: {s}")
        for s in m.get("to_confirm", []):
            lines.append(f"    the study team confirms: {s}")
        lines.append("")
    lines.append(doc["disclaimer"])
    return "\n".join(lines)


def render_matches_markdown(doc: dict[str, Any]) -> str:
    c = doc["counts"]
    out = [f"## Trial pre-screen for {doc['patient_id']}", "",
           f"{doc['screened']} studies compared: **{c['possible']}** could fit, "
           f"**{c['check']}** need checking, {c['excluded']} do not fit.", ""]
    out += [f"> {n}" for n in doc.get("notes", [])]
    for m in doc["matches"]:
        out += [f"### [{m['nct_id']}]({m['url']}): {m['title']}", "",
                f"{_VERDICT[m['verdict']]}. Status {m['status']}, "
                f"{'/'.join(m['phases']) or 'no phase'}.", "",
                "| criterion | requires | patient | result | shown by |", "|---|---|---|---|---|"]
        out += [f"| {cr['label']} | {_requires(cr)} | "
                f"{'' if cr['criterion'] == 'status' else _patient(cr)} | {words(cr['outcome'])} "
                f"| {cr['evidence'] or ''} |" for cr in m["criteria"]]
        out += [f"- to settle: {s}" for s in m["to_settle"]]
        out += [f"- the study team confirms: {s}" for s in m.get("to_confirm", [])]
        out.append("")
    out.append(f"*{doc['disclaimer']}*")
    return "\n".join(out)


def _load(trials: Path | None) -> Any:
    """``--trials``, else the snapshot of ``allpath trials update`` when there is one, else the
    bundled snapshot (with its criteria text)."""
    from allpath.trials import bundled_trials, read_trials
    from allpath.trials.update import local_snapshot_dir

    if trials is not None:
        _warn_if_partial(trials)
        return read_trials(trials)
    local = local_snapshot_dir()
    if local.is_dir() and any(local.glob("page-*.json")):
        _warn_if_partial(local)
        return read_trials(local)
    return bundled_trials()


def _warn_if_partial(folder: Path) -> None:
    """A snapshot stopped by ``trials update --max-pages`` is screened, with a warning that
    studies are missing from it."""
    from allpath.trials.update import read_snapshot_info

    info = read_snapshot_info(folder) if folder.is_dir() else None
    if info is not None and not info.complete:
        typer.echo(f"warning: {folder} is {info.describe()}.", err=True)


@app.command("match")
def match_command(
    record: Annotated[Path, typer.Argument(help="Patient record (allpath.record/1 YAML or "
                                                "JSON, or a FHIR R4 Bundle).")],
    trials: TrialsOption = None,
    country: Annotated[str | None, typer.Option(
        help="Only studies with a site in this country, as registered (\"United States\").")]
    = None,
    limit: Annotated[int, typer.Option(min=1, help="Studies to list.")] = 10,
    include_closed: Annotated[bool, typer.Option(
        "--include-closed", help="Also compare studies that are not taking participants.")]
    = False,
    show_excluded: Annotated[bool, typer.Option(
        "--show-excluded", help="Also list studies with a failed requirement.")] = False,
    format: Annotated[MatchFormat, typer.Option("--format", "-f")] = MatchFormat.text,
) -> None:
    """Pre-screen registered studies for one patient: what fits, what fails, what is unknown."""
    from allpath.interop.fhir import load_any
    from allpath.pipeline import assess
    from allpath.trials import match_trials

    try:
        rec, warnings = load_any(record)
        for w in warnings:
            typer.echo(f"warning: {w}", err=True)
        report = match_trials(assess(rec), _load(trials), country=country,
                              include_closed=include_closed, include_excluded=show_excluded,
                              limit=limit)
    except AllPathError as err:
        fail(err)
        return
    if format is MatchFormat.fhir:
        from allpath.trials.fhir import report_to_bundle

        typer.echo(json.dumps(report_to_bundle(report), indent=2, ensure_ascii=False))
        return
    doc = report.to_dict()
    if format is MatchFormat.json:
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif format is MatchFormat.markdown:
        typer.echo(render_matches_markdown(doc))
    else:
        typer.echo(wrap_text(render_matches_text(doc)))


def _near(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    parts = text.split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise typer.BadParameter(f"expected LATITUDE,LONGITUDE in degrees, got {text!r}",
                                 param_hint="--near") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise typer.BadParameter(f"latitude must be in [-90, 90] and longitude in "
                                 f"[-180, 180], got {text!r}", param_hint="--near")
    return lat, lon


@app.command("centres")
def centres_command(
    trials: TrialsOption = None,
    country: Annotated[str | None, typer.Option(help="Country as registered.")] = None,
    state: Annotated[str | None, typer.Option(help="State or region as registered.")] = None,
    city: Annotated[str | None, typer.Option(help="City as registered.")] = None,
    near: Annotated[str | None, typer.Option(
        help="LATITUDE,LONGITUDE: order by distance (needs files with coordinates, such as "
             "API v2 JSON).")] = None,
    within: Annotated[float | None, typer.Option(
        min=0, help="Kilometres from --near to keep.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Centres to list.")] = 20,
    format: Annotated[CentreFormat, typer.Option("--format", "-f")] = CentreFormat.text,
) -> None:
    """Centres taking part in open ALL studies, by place (a specialist finder from the registry)."""
    from allpath.trials import find_centres

    point = _near(near)
    if within is not None and point is None:
        raise typer.BadParameter("--within needs --near LATITUDE,LONGITUDE",
                                 param_hint="--within")
    try:
        centres = find_centres(_load(trials), country=country, state=state, city=city,
                               near=point, within_km=within, limit=limit)
    except AllPathError as err:
        fail(err)
        return
    if format is CentreFormat.json:
        typer.echo(json.dumps([c.to_dict() for c in centres], indent=2, ensure_ascii=False))
        return
    if not centres:
        typer.echo("No centre with an open ALL study matches that place in these records.")
        return
    for c in centres:
        where = ", ".join(p for p in (c.city, c.state, c.country) if p)
        dist = f"  {c.distance_km:.0f} km" if c.distance_km is not None else ""
        typer.echo(wrap_text(f"{c.facility} ({where}){dist}: {len(c.trials)} open "
                             f"stud{'y' if len(c.trials) == 1 else 'ies'} "
                             f"({', '.join(c.trials)})"))
    typer.echo("\nA centre listed here runs ALL studies; ask your care team about a referral.")


@app.command("update")
def update_command(
    out: Annotated[Path | None, typer.Option(
        help="Snapshot folder (default: $XDG_DATA_HOME/allpath/trials, which 'trials match' "
             "then reads).")] = None,
    url: Annotated[str, typer.Option(help="API v2 studies endpoint.")] =
    "https://clinicaltrials.gov/api/v2/studies",
    condition: Annotated[str, typer.Option(help="Condition searched.")] =
    "acute lymphoblastic leukemia",
    page_size: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    max_pages: Annotated[int | None, typer.Option(min=1, help="Stop after this many pages.")]
    = None,
    retries: Annotated[int, typer.Option(min=0, max=10)] = 3,
) -> None:
    """Download current open ALL studies (API v2, paged, with retries) into a local snapshot."""
    from rich.progress import Progress

    from allpath.trials.update import UpdateError, download_studies

    with Progress(transient=True) as bar:
        task = bar.add_task("Downloading studies", total=None)

        def advance(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        try:
            result = download_studies(out, base_url=url, condition=condition,
                                      page_size=page_size, max_pages=max_pages,
                                      retries=retries, progress=advance)
        except UpdateError as err:
            typer.echo(f"error: {err} (the snapshot in use was not changed)", err=True)
            raise typer.Exit(code=2) from err
    total = f" of {result.total}" if result.total is not None else ""
    typer.echo(f"{result.studies}{total} studies in {result.pages} page(s) saved to "
               f"{result.folder}")
    if not result.complete:
        typer.echo(f"warning: stopped by --max-pages {max_pages}: the registry has more "
                   "studies than this snapshot holds. It is marked partial, and 'trials match' "
                   "says so each time it reads it.", err=True)
