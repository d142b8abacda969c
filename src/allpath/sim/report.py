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
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.4))
    n = len(cols["os_day"])
    for label, time, event in (
        ("event-free survival (EFS)", cols["efs_day"], cols["efs_event"] == 1),
        ("overall survival (OS)", cols["os_day"], cols["death"] == 1),
    ):
        kmf = KaplanMeierFitter(label=label)
        kmf.fit(np.asarray(time) / 365.25, event_observed=event)
        kmf.plot_survival_function(ax=ax1, ci_show=False)
    ax1.set_ylim(0, 1)
    ax1.set_ylabel("share of patients without the event")
    ax1.set_title("Kaplan-Meier estimates")
    ax1.legend(loc="lower left")
    if "mrd_eoi_true" in cols:
        ax1.set_xlabel("years from diagnosis")
        mrd = np.asarray(cols["mrd_eoi_true"])
        ax2.hist(np.log10(np.maximum(mrd, 1e-12)), bins=60, color="grey",
                 label="virtual patients")
        ax2.axvline(-4, color="black", ls=":", label="MRD 0.01 % (1e-4)")
        ax2.axvline(-3, color="black", ls="--", label="MRD 0.1 % (1e-3)")
        ax2.set_xlabel("log10 end-of-induction MRD (true)")
        ax2.set_title("End-of-induction MRD")
    else:  # relapsed/refractory immunotherapy cohort (allpath.sim.immuno)
        ax1.set_xlabel("years from study entry")
        best = np.asarray(cols["best_blasts"])
        ax2.hist(np.log10(np.maximum(best, 1e-12)), bins=60, color="grey",
                 label="virtual patients")
        ax2.axvline(np.log10(0.05), color="black", ls=":", label="5 % blasts (remission)")
        ax2.set_xlabel("log10 lowest marrow blast fraction at the assessments")
        ax2.set_title("Best response")
    ax2.set_ylabel("number of patients")
    ax2.legend(loc="upper right")
    fig.suptitle(f"Virtual cohort of {n:,} patients")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
