"""Property: worsening any count never lowers urgency or suspicion."""

from __future__ import annotations

from typing import Any

import numpy as np

from allpath.triage import triage

URGENCY = ("routine", "soon", "urgent", "emergency")
SUSPICION = ("none", "low", "moderate", "high")


def _doc(age: float, sex: str, symptoms: list[str], cbc: dict[str, float]) -> dict[str, Any]:
    units = {"wbc": "10*9/L", "hemoglobin": "g/dL", "platelets": "10*9/L", "anc": "10*9/L",
             "blood_blasts": "%"}
    return {"format": "allpath.triage/1", "age_years": age, "sex": sex, "symptoms": symptoms,
            "cbc": {"time": "2024-06-01",
                    **{k: {"value": v, "unit": units[k]} for k, v in cbc.items()}}}


def _levels(doc: dict[str, Any]) -> tuple[int, int]:
    out = triage(doc)
    return URGENCY.index(out.urgency), SUSPICION.index(out.leukemia_suspicion)


def test_worsening_any_count_never_lowers_urgency() -> None:
    rng = np.random.default_rng(2024)
    pool = ["fever", "pallor", "bone_pain", "cough", "fatigue", "active_bleeding",
            "swollen_lymph_nodes", "runny_nose"]
    for _ in range(120):
        age = float(rng.choice([0.3, 1.5, 4, 9, 15, 40]))
        sex = str(rng.choice(["female", "male"]))
        symptoms = [str(s) for s in rng.choice(pool, size=int(rng.integers(0, 3)),
                                               replace=False)]
        cbc = {"wbc": round(float(rng.uniform(1, 60)), 1),
               "hemoglobin": round(float(rng.uniform(5, 16)), 1),
               "platelets": round(float(rng.uniform(5, 400))),
               "anc": round(float(rng.uniform(0.1, 8)), 2),
               "blood_blasts": float(rng.choice([0, 0, 5, 30]))}
        before = _levels(_doc(age, sex, symptoms, cbc))
        # lower hemoglobin, platelets or neutrophils, or more blasts, each in turn
        for key, factor in (("hemoglobin", 0.6), ("platelets", 0.3), ("anc", 0.3)):
            worse = dict(cbc, **{key: round(cbc[key] * factor, 2)})
            after = _levels(_doc(age, sex, symptoms, worse))
            assert after[0] >= before[0], (key, cbc, worse, symptoms, before, after)
            assert after[1] >= before[1], (key, cbc, worse, symptoms, before, after)
        worse = dict(cbc, blood_blasts=cbc["blood_blasts"] + 10)
        after = _levels(_doc(age, sex, symptoms, worse))
        assert after >= before or (after[0] >= before[0] and after[1] >= before[1])


def test_adding_a_symptom_never_lowers_urgency() -> None:
    rng = np.random.default_rng(7)
    pool = ["fever", "pallor", "petechiae", "stridor", "bone_pain", "active_bleeding",
            "shortness_of_breath", "headache", "vomiting"]
    for _ in range(60):
        cbc = {"wbc": 6.0, "hemoglobin": round(float(rng.uniform(6, 14)), 1),
               "platelets": float(rng.integers(10, 300)), "anc": 2.0}
        symptoms = [str(rng.choice(pool))]
        before = _levels(_doc(6, "female", symptoms, cbc))
        more = [*symptoms, str(rng.choice(pool))]
        after = _levels(_doc(6, "female", list(dict.fromkeys(more)), cbc))
        assert after[0] >= before[0], (symptoms, more, cbc)
