"""The cohort plot has a title, axis labels and legends on both panels (#17)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest

from allpath.sim import simulate_cohort
from allpath.sim.report import plot_cohort


def test_cohort_plot_names_its_axes_and_says_what_each_line_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "cohort.parquet"
    simulate_cohort("pediatric", n=300, seed=4, chunk_size=300, out=out)
    seen: list[Any] = []
    real_close = plt.close

    def keep(fig: Any = None) -> None:
        seen.append(fig)
        real_close(fig)

    monkeypatch.setattr(plt, "close", keep)
    png = plot_cohort(out, tmp_path / "cohort.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (fig,) = seen
    assert "300" in fig._suptitle.get_text()
    for ax in fig.axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        legend = ax.get_legend()
        assert legend is not None and [t.get_text() for t in legend.get_texts()]
    km_labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("event-free" in t for t in km_labels) and any("overall" in t for t in km_labels)
