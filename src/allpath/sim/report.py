"""Cohort plots (Kaplan-Meier EFS/OS and the end-of-induction MRD distribution)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

__all__ = ["plot_cohort"]


def plot_cohort(parquet: str | Path, path: str | Path) -> Path:
    """Write a PNG with KM curves of EFS and OS and a histogram of log10 EOI MRD."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from lifelines import KaplanMeierFitter

    t = pq.read_table(str(parquet))
    cols = {k: t.column(k).to_numpy(zero_copy_only=False) for k in t.column_names}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for label, time, event in (
        ("EFS", cols["efs_day"], cols["efs_event"] == 1),
        ("OS", cols["os_day"], cols["death"] == 1),
    ):
        kmf = KaplanMeierFitter(label=label)
        kmf.fit(np.asarray(time) / 365.25, event_observed=event)
        kmf.plot_survival_function(ax=ax1, ci_show=False)
    ax1.set_ylim(0, 1)
    if "mrd_eoi_true" in cols:
        ax1.set_xlabel("years from diagnosis")
        mrd = np.asarray(cols["mrd_eoi_true"])
        ax2.hist(np.log10(np.maximum(mrd, 1e-12)), bins=60, color="grey")
        ax2.axvline(-4, color="black", ls=":")
        ax2.axvline(-3, color="black", ls=":")
        ax2.set_xlabel("log10 end-of-induction MRD (true)")
    else:  # relapsed/refractory immunotherapy cohort (allpath.sim.immuno)
        ax1.set_xlabel("years from study entry")
        best = np.asarray(cols["best_blasts"])
        ax2.hist(np.log10(np.maximum(best, 1e-12)), bins=60, color="grey")
        ax2.axvline(np.log10(0.05), color="black", ls=":")
        ax2.set_xlabel("log10 lowest marrow blast fraction at the assessments")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
