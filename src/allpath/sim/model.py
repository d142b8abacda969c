"""The ALLPath minimal marrow/blood model (models.md §9), declared by its mathematics.

States (columns of ``y``, shape ``(n_patients, 20)``)::

    lnL_S, lnL_R                      natural log of sensitive / resistant leukaemic cells
    P_N, T1_N, T2_N, T3_N, ANC        neutrophil Friberg chain (ANC in 10^9/L)
    P_P, T1_P, T2_P, T3_P, PLT        platelet Friberg chain (PLT in 10^9/L)
    P_E, T1_E, T2_E, R1, R2, R3, R4   erythroid precursors and four RBC age classes
                                      (sum R = Hb/Hb0, 1 at the healthy steady state)
    TGN                               red-cell 6-TGN (Jost 2020 model units)

Equations (i = patient, x in {N, P, E}; u = drive of the current day)::

    x_L = (e^{lnL_S} + e^{lnL_R}) / K_N           leukaemic burden relative to normal marrow
    B   = x_L / (1 + x_L)                           marrow blast fraction (= MRD)
    g   = r_i (1 - x_L K_N / K_L)   on therapy;  r_post_i (1 - ...) off therapy
    k   = s_i kappa_j  (induction)  |  s_post_i kappa_j  (after)  |  s_post_i kappa_M TGN/TGN_ref
          (x s_pro_i in the steroid prophase of induction)
    d lnL_S/dt = g - k - k_imm,S ;   d lnL_R/dt = g - rho_i k - k_imm,R
                                                    (k_imm: blinatumomab, allpath.sim.immuno)
    phi_x = (1 - B)^{kappa_x}                       crowding of normal production
    dP_x/dt  = k_tr,x P_x [ (1 - E_x) phi_x (C0_x / C_x)^{gamma_x} - 1 ]
    dT1..3/dt = k_tr,x (previous - current)
    dC_x/dt  = k_tr,x T3_x - k_circ,x C_x           (k_circ = k_tr for the acute chains;
                                                     k_ma = 2.3765/d in maintenance, Jost 2020)
    erythroid: dP_E/dt = k_tr,E [S0 (1 - E_E) phi_E (1/sum R)^{gamma_E} - P_E]  (source-driven)
               C_E = sum R;  dR1/dt = k_tr,E T2_E - k_R R1;  dR_k/dt = k_R (R_{k-1} - R_k)
    dTGN/dt = a_i dose_i(t) - CL_i TGN              (6-MP PK reduced to its daily input,
                                                     a_i = F FM3 k_me / k_20 x genotype)
    E_N = theta_N,j (acute phases);  slope_i TGN (maintenance, Jost chain parameters)

References
----------
Friberg LE et al. J Clin Oncol 2002;20:4713. Jost F et al. Front Physiol 2020;11:217.
Tsuji 2017 (platelet chain); Shrestha 2016 (RBC lifespan). ALLPath models.md §§1, 2.1, 7, 9.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from allpath.sim.base import Array, OdeModel

__all__ = ["STATES", "AllModel", "Drive", "steady_state"]

STATES: tuple[str, ...] = (
    "lnL_S", "lnL_R",
    "P_N", "T1_N", "T2_N", "T3_N", "ANC",
    "P_P", "T1_P", "T2_P", "T3_P", "PLT",
    "P_E", "T1_E", "T2_E", "R1", "R2", "R3", "R4",
    "TGN",
)  # fmt: skip

PARAMS: tuple[str, ...] = (
    "r", "r_post", "s_ind", "s_post", "rho", "lnK_N", "K_L_ratio",
    "ktr_N", "gam_N", "C0_N", "kc_N", "crowd_N",
    "ktr_M", "gam_M", "C0_M", "kc_M", "slope",
    "ktr_P", "gam_P", "C0_P", "kc_P", "crowd_P",
    "ktr_E", "gam_E", "kR", "crowd_E",
    "tgn_in", "cl_tgn", "s_pro",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Drive:
    """Treatment input for one day, constant within the day.

    ``dose_mg`` is the per-patient 6-MP dose (mg/d), shape ``(n_patients,)``, or None when no
    6-MP is given; the other fields are scalars shared by the cohort (one protocol calendar).
    """

    kill: float = 0.0
    post_induction: bool = False
    on_therapy: bool = True
    theta_n: float = 0.0
    theta_p: float = 0.0
    theta_e: float = 0.0
    maintenance: bool = False
    tgn_ref: float = 1.0
    dose_mg: Array | None = None
    prophase: bool = False  # steroid prophase: kill scaled by the patient's s_pro as well
    #: extra per-patient kill (1/d) of lnL_S and lnL_R, shape ``(n_patients, 2)``: the
    #: immunotherapy term k_imm of models.md §9.2 (:class:`allpath.sim.immuno.ImmuneDrive`)
    immune: Array | None = None


_S = {name: i for i, name in enumerate(STATES)}
_P = {name: i for i, name in enumerate(PARAMS)}


class AllModel(OdeModel[Drive]):
    """Leukaemia (two log-scale clones) + neutrophil, platelet, erythroid chains + 6-TGN."""

    state_names: ClassVar[tuple[str, ...]] = STATES
    param_names: ClassVar[tuple[str, ...]] = PARAMS
    nonnegative_span: ClassVar[tuple[int, int]] = (2, len(STATES))

    def drive_for_patient(self, u: Drive, i: int) -> Drive:
        """Patient ``i``'s slice of the per-patient 6-MP dose."""
        if u.immune is not None:
            u = replace(u, immune=u.immune[i : i + 1])
        if u.dose_mg is None:
            return u
        return replace(u, dose_mg=u.dose_mg[i : i + 1])

    def rhs(self, t: float, y: Array, p: Array, u: Drive) -> Array:
        """dy/dt for all patients; ``y`` ``(n, 20)``, ``p`` ``(n, 28)``, returns ``(n, 20)``."""
        dy = np.empty_like(y, order="F")
        col = p.T  # rows of p.T are contiguous columns of a Fortran-ordered p
        # --- leukaemia -------------------------------------------------------------------
        lnk = col[_P["lnK_N"]]
        x = np.exp(y[:, 0] - lnk)
        x += np.exp(y[:, 1] - lnk)
        growth = col[_P["r"]] if u.on_therapy else col[_P["r_post"]]
        g = growth * (1.0 - x / col[_P["K_L_ratio"]])
        if u.kill != 0.0:
            s = col[_P["s_post"]] if u.post_induction else col[_P["s_ind"]]
            if u.prophase:
                s = s * col[_P["s_pro"]]
            k = s * (u.kill / u.tgn_ref) * y[:, 19] if u.maintenance else s * u.kill
            dy[:, 0] = g - k
            dy[:, 1] = g - col[_P["rho"]] * k
        else:
            dy[:, 0] = g
            dy[:, 1] = g
        if u.immune is not None:
            dy[:, 0:2] -= u.immune
        log1mb = -np.log1p(x)  # ln(1 - B)
        # --- neutrophils -----------------------------------------------------------------
        if u.maintenance:
            ktr, gam, c0, kc = col[_P["ktr_M"]], col[_P["gam_M"]], col[_P["C0_M"]], col[_P["kc_M"]]
            one_m_e = 1.0 - col[_P["slope"]] * y[:, 19]
        else:
            ktr, gam, c0, kc = col[_P["ktr_N"]], col[_P["gam_N"]], col[_P["C0_N"]], col[_P["kc_N"]]
            one_m_e = 1.0 - u.theta_n
        self._chain(dy, y, 2, ktr, kc, gam, c0, one_m_e, col[_P["crowd_N"]] * log1mb)
        # --- platelets -------------------------------------------------------------------
        self._chain(
            dy, y, 7, col[_P["ktr_P"]], col[_P["kc_P"]], col[_P["gam_P"]], col[_P["C0_P"]],
            1.0 - u.theta_p, col[_P["crowd_P"]] * log1mb,
        )  # fmt: skip
        # --- erythroid -------------------------------------------------------------------
        ke, kr = col[_P["ktr_E"]], col[_P["kR"]]
        hb_rel = y[:, 15] + y[:, 16]
        hb_rel += y[:, 17]
        hb_rel += y[:, 18]
        ln_hb = np.log(np.maximum(hb_rel, 1e-9))
        fb = np.exp(col[_P["crowd_E"]] * log1mb - col[_P["gam_E"]] * ln_hb)
        # production-driven (not self-renewing) precursor pool: a self-renewing pool behind a
        # 116-day RBC delay oscillates violently; S0 = kR/(4 ke) is its healthy level
        dy[:, 12] = ke * (((1.0 - u.theta_e) * 0.25 * kr / ke) * fb - y[:, 12])
        dy[:, 13] = ke * (y[:, 12] - y[:, 13])
        dy[:, 14] = ke * (y[:, 13] - y[:, 14])
        dy[:, 15] = ke * y[:, 14] - kr * y[:, 15]
        dy[:, 16] = kr * (y[:, 15] - y[:, 16])
        dy[:, 17] = kr * (y[:, 16] - y[:, 17])
        dy[:, 18] = kr * (y[:, 17] - y[:, 18])
        # --- 6-TGN -----------------------------------------------------------------------
        dy[:, 19] = -col[_P["cl_tgn"]] * y[:, 19]
        if u.dose_mg is not None:
            dy[:, 19] += col[_P["tgn_in"]] * u.dose_mg
        return dy

    @staticmethod
    def _chain(
        dy: Array,
        y: Array,
        i0: int,
        ktr: Array,
        kc: Array,
        gam: Array,
        c0: Array,
        one_minus_e: Array | float,
        log_phi: Array,
    ) -> None:
        """Friberg chain P, T1, T2, T3, C at columns ``i0 .. i0+4`` (writes into ``dy``)."""
        prol, t1, t2, t3, c = (y[:, i0 + k] for k in range(5))
        # (1-E) phi (C0/C)^gamma, evaluated in log space for speed and positivity
        # RK4 stages may overshoot below zero; the feedback sees a floored count
        fb = np.exp(gam * (np.log(c0) - np.log(np.maximum(c, 1e-9))) + log_phi)
        fb *= one_minus_e
        fb -= 1.0
        dy[:, i0] = ktr * prol * fb
        dy[:, i0 + 1] = ktr * (prol - t1)
        dy[:, i0 + 2] = ktr * (t1 - t2)
        dy[:, i0 + 3] = ktr * (t2 - t3)
        dy[:, i0 + 4] = ktr * t3 - kc * c


def steady_state(p: Array, ln_l_s: Array, ln_l_r: Array) -> Array:
    """Quasi-steady state at diagnosis under crowding (models.md §9.2 closed form).

    C_x = C0_x phi_x(B)^(1/gamma_x); precursors P = T1..T3 = C k_circ/k_tr; RBC classes equal,
    summing to phi_E^(1/(1+gamma_E)) (source-driven erythroid pool). No drug, no 6-TGN.

    Parameters
    ----------
    p:
        Parameters, shape ``(n_patients, n_params)``.
    ln_l_s, ln_l_r:
        Log leukaemic cell numbers, shape ``(n_patients,)``.

    Returns
    -------
    States, shape ``(n_patients, 20)``, Fortran-ordered.
    """
    n = p.shape[0]
    y = np.zeros((n, len(STATES)), order="F")
    y[:, 0] = ln_l_s
    y[:, 1] = ln_l_r
    lnk = p[:, _P["lnK_N"]]
    x = np.exp(ln_l_s - lnk) + np.exp(ln_l_r - lnk)
    log1mb = -np.log1p(x)
    for i0, ktr, kc, gam, c0, crowd in (
        (2, "ktr_N", "kc_N", "gam_N", "C0_N", "crowd_N"),
        (7, "ktr_P", "kc_P", "gam_P", "C0_P", "crowd_P"),
    ):
        c = p[:, _P[c0]] * np.exp(p[:, _P[crowd]] * log1mb / p[:, _P[gam]])
        pre = c * p[:, _P[kc]] / p[:, _P[ktr]]
        y[:, i0 : i0 + 4] = pre[:, None]
        y[:, i0 + 4] = c
    hb_rel = np.exp(p[:, _P["crowd_E"]] * log1mb / (1.0 + p[:, _P["gam_E"]]))
    rk = hb_rel / 4.0
    y[:, 15:19] = rk[:, None]
    y[:, 12:15] = (rk * p[:, _P["kR"]] / p[:, _P["ktr_E"]])[:, None]
    return y
