"""The patient plot: blood counts, haemoglobin, blasts and MRD over time, with the recorded
treatment phases as bands, the diagnosis and assessment dates marked, titles, axis labels
and legends (``allpath assess RECORD --plot FILE``).

Only the record's own results are drawn, in the catalogue's units; nothing is interpolated.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from allpath.errors import AllPathError
from allpath.io import atomic_output
from allpath.observations.normalise import Timeline
from allpath.outputs.assessment import Assessment

__all__ = ["PANELS", "PlotError", "phase_spans", "plot_assessment"]

#: (title, y-axis label, log scale, [(analyte code, legend label), ...])
PANELS: tuple[tuple[str, str, bool, tuple[tuple[str, str], ...]], ...] = (
    ("Blood counts", "count (x10^9/L, log scale)", True,
     (("wbc", "white cells (WBC)"), ("anc", "neutrophils (ANC)"),
      ("platelets", "platelets"))),
    ("Haemoglobin", "haemoglobin (g/dL)", False, (("hemoglobin", "haemoglobin"),)),
    ("Blasts", "blasts (%)", False,
     (("blood_blasts", "blood blasts"), ("marrow_blasts", "marrow blasts"))),
    ("Minimal residual disease", "MRD (%, log scale)", True,
     (("mrd_marrow", "MRD, marrow"), ("mrd_blood", "MRD, blood"))),
)

_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
_BAND_COLOURS = ("#dbe9f6", "#fde9d9", "#e2f0d9", "#ede2f6", "#fff2cc", "#e7e6e6")


class PlotError(AllPathError):
    """The plot cannot be drawn (an unknown file type, no dated results)."""


def _series(timeline: Timeline, code: str) -> list[tuple[dt.date, float]]:
    return [(o.time, float(o.value)) for o in timeline.series(code) if o.value is not None]


def phase_spans(a: Assessment) -> list[tuple[str, dt.date, dt.date]]:
    """Recorded treatment phases: (name, start, end); an open phase ends at the next one or
    on the assessment date."""
    events = sorted(a.record.treatment, key=lambda e: e.start)
    last = a.as_of or (events[-1].start if events else None)
    out = []
    for i, ev in enumerate(events):
        end = ev.end or (events[i + 1].start if i + 1 < len(events) else last) or ev.start
        out.append((ev.phase.replace("_", " "), ev.start, max(end, ev.start)))
    return out


def plot_assessment(a: Assessment, path: str | Path) -> Path:
    """Draw the patient plot of an assessment and write it (PNG, SVG or PDF by extension)."""
    out = Path(path)
    fmt = _FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise PlotError(f"--plot {out}: the file name must end in "
                        f"{', '.join(_FORMATS)} (got {out.suffix or 'no extension'!r})")
    panels = [(title, label, log, [(name, _series(a.timeline, code)) for code, name in lines])
              for title, label, log, lines in PANELS]
    panels = [p for p in panels if any(points for _, points in p[3])]
    if not panels:
        raise PlotError(f"--plot: record {a.record.id} has no dated blood counts, blasts or "
                        "MRD results to draw")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2.6 * len(panels) + 1.2),
                             sharex=True, squeeze=False)
    phases = phase_spans(a)
    for ax, (title, label, log, lines) in zip(axes[:, 0], panels, strict=True):
        for i, (_, start, end) in enumerate(phases):
            ax.axvspan(start, end + dt.timedelta(days=1), color=_BAND_COLOURS[i % 6], lw=0)
        floor = _floor(lines) if log else None
        for name, points in lines:
            if not points:
                continue
            _draw(ax, name, points, floor)
        if a.record.diagnosis_date is not None:
            ax.axvline(a.record.diagnosis_date, color="#444444", ls="--", lw=0.9,
                       label="diagnosis")
        if a.as_of is not None:
            ax.axvline(a.as_of, color="#b00020", ls=":", lw=1.1, label=f"as of {a.as_of}")
        if log:
            ax.set_yscale("log")
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_ylabel(label)
        ax.grid(True, which="major", axis="y", color="#dddddd", lw=0.6)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    bottom = axes[-1, 0]
    bottom.set_xlabel("date")
    if phases:
        bands = [Patch(color=_BAND_COLOURS[i % 6], label=name)
                 for i, (name, _, _) in enumerate(phases)]
        bottom.legend(handles=bands + bottom.get_legend_handles_labels()[0],
                      loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
                      title="treatment phases", title_fontsize=8)
    fig.autofmt_xdate()
    fig.suptitle(f"Patient {a.record.id}: results over time"
                 + (f" (as of {a.as_of})" if a.as_of else ""), fontsize=12)
    fig.text(0.01, 0.005, "Drawn from the record's own results; decision support only, it "
             "does not replace the care team.", fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.02, 1, 0.97))
    with atomic_output(out) as tmp:
        fig.savefig(tmp, format=fmt, dpi=100)
    plt.close(fig)
    return out


def _floor(lines: list[tuple[str, list[tuple[dt.date, float]]]]) -> float:
    """Where a zero (not detected) is drawn on a log axis: a tenth of the smallest value."""
    positive = [v for _, points in lines for _, v in points if v > 0]
    return min(positive) / 10 if positive else 1e-3


def _draw(ax: Any, name: str, points: list[tuple[dt.date, float]], floor: float | None
          ) -> None:
    """One analyte; on a log axis a zero (not detected) is an open triangle at ``floor``."""
    if floor is None:
        ax.plot([d for d, _ in points], [v for _, v in points], marker="o", ms=4, lw=1.2,
                label=name)
        return
    shown = [(d, v) for d, v in points if v > 0]
    zeros = [d for d, v in points if v <= 0]
    colour = None
    if shown:
        (line,) = ax.plot([d for d, _ in shown], [v for _, v in shown], marker="o", ms=4,
                          lw=1.2, label=name)
        colour = line.get_color()
    if zeros:
        ax.plot(zeros, [floor] * len(zeros), ls="none", marker="v", ms=6, color=colour,
                mfc="none", label=f"{name}: not detected (drawn at the axis floor)")
