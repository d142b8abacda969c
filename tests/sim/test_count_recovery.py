"""Blood counts at the end of induction and after therapy stops.

* After therapy the neutrophils return to the Friberg chain (models.md §1, gamma 0.16-0.24):
  the drug-free Jost chain sits next to its Hopf point (models.md §2.1.4, a 78-day wave damped
  over ~600 days) and made ANC waves that never settled in survivors.
* "CR with incomplete count recovery" at the end of induction is a label of the response pack's
  adult criteria (clinical fact sheet 4.1.2); in children remission is decided by the marrow
  (induction failure = persistent blasts after 4-6 weeks, Schrappe 2012), so CRi counts as
  remission and the count threshold does not change the CR rate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from allpath.sim import simulate_cohort
from allpath.sim.base import patient_randoms
from allpath.sim.cohort import load_config
from allpath.sim.engine import run_batch
from allpath.sim.model import PARAMS, STATES
from allpath.sim.population import N_NORMAL, N_UNIFORM, make_batch

CLOSED_LOOP = Path(__file__).resolve().parents[2] / "docs" / "simulator" / "closed-loop.yaml"


def _swing(anc: np.ndarray[Any, Any], lo: int, hi: int) -> np.ndarray[Any, Any]:
    w = anc[:, lo:hi]
    out: np.ndarray[Any, Any] = (w.max(axis=1) - w.min(axis=1)) / w.mean(axis=1)
    return out


def test_friberg2002_anc_settles_within_months_after_therapy_stops() -> None:
    """Children in continuous remission: the relative ANC swing 3-6 months after the end of
    therapy is below 2 % (it was 43 % in the median child with the Jost chain kept), and ANC
    settles at the patient's Friberg baseline."""
    cfg = load_config("pediatric")
    n = 200
    z, u = patient_randoms(3, 0, n, N_NORMAL, N_UNIFORM)
    b = make_batch(cfg.parameters, cfg.population, cfg.protocol, np.arange(n), z, u)
    end = cfg.protocol.therapy_days
    res = run_batch(cfg.parameters, cfg.protocol, b, end + 200, fast_forward=False,
                    keep_trajectory=True)
    assert res.trajectory is not None
    anc = res.trajectory[:, :, STATES.index("ANC")]
    ok = (res.columns["cr"] == 1) & (res.columns["relapse"] == 0) & (res.columns["death"] == 0)
    assert ok.sum() >= 150
    swing = _swing(anc[ok], end + 90, end + 180)
    assert np.median(swing) < 0.02
    assert np.percentile(swing, 90) < 0.05
    base = b.p[ok, PARAMS.index("C0_N")]
    assert np.allclose(anc[ok, end + 180], base, rtol=0.02)


def test_schrappe2012_remission_in_children_is_decided_by_the_marrow_not_counts() -> None:
    """Closed-loop cohort, children with an end-of-induction marrow: the response pack's
    CR + CRi equals the share with marrow blasts < 5 % within 1.5 pp (counting noise of the
    500-cell differential), so CRi changes labels, not the remission rate."""
    cfg = load_config(path=CLOSED_LOOP)
    t = simulate_cohort(cfg, n=3000, seed=1, chunk_size=4096)
    assert not isinstance(t, Path)
    c = {k: t.column(k).to_numpy(zero_copy_only=False) for k in t.column_names}
    code = c["response_eoi"].astype(str)
    assessed = code != "None"  # no marrow after an induction death
    remission = np.isin(code[assessed], ["CR", "CRi"])
    marrow = c["mrd_eoi_true"][assessed] < 0.05
    assert abs(remission.mean() - marrow.mean()) <= 0.015
    cri = code == "CRi"
    # the label is driven by platelets below 100 (fact sheet 4.1.2), not by residual blasts
    assert np.mean(c["platelets_eoi"][cri] < 100) > 0.7
