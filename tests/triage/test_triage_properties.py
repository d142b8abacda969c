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
        wbc = round(float(rng.uniform(1, 60)), 1)
        cbc = {"wbc": wbc,
               "hemoglobin": round(float(rng.uniform(5, 16)), 1),
               "platelets": round(float(rng.uniform(5, 400))),
               # the neutrophils are part of the white count (a higher ANC is refused)
               "anc": round(min(float(rng.uniform(0.1, 8)), wbc), 2),
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
        assert after[0] >= before[0], ("blasts", cbc, symptoms, before, after)
        assert after[1] >= before[1], ("blasts", cbc, symptoms, before, after)


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


def test_being_on_treatment_or_having_a_line_never_lowers_urgency() -> None:
    rng = np.random.default_rng(11)
    pool = ["fever", "pallor", "petechiae", "easy_bruising", "bone_pain", "headache",
            "vomiting", "runny_nose", "cough"]
    for _ in range(60):
        symptoms = [str(s) for s in rng.choice(pool, size=int(rng.integers(0, 3)),
                                               replace=False)]
        base = {"format": "allpath.triage/1", "age_years": float(rng.choice([0.5, 4, 12, 30])),
                "sex": "female", "symptoms": symptoms}
        if rng.random() < 0.5:
            base["temperature"] = {"value": round(float(rng.uniform(36.5, 40)), 1),
                                   "unit": "Cel"}
        levels = {}
        for answer in ("no", "unknown", "treatment", "line"):
            doc = dict(base, on_treatment=answer == "treatment", central_line=answer == "line")
            if answer == "unknown":
                doc = dict(base)
            levels[answer] = URGENCY.index(triage(doc).urgency)
        assert levels["no"] <= levels["unknown"] <= levels["treatment"], (base, levels)
        assert levels["unknown"] <= levels["line"], (base, levels)


def test_a_higher_temperature_never_lowers_urgency() -> None:
    for on_treatment in (True, False, None):
        last = 0
        for tenths in range(365, 410, 2):
            doc: dict[str, Any] = {"format": "allpath.triage/1", "age_years": 6, "sex": "male",
                                   "symptoms": [], "temperature": f"{tenths / 10} Cel"}
            if on_treatment is not None:
                doc["on_treatment"] = on_treatment
            level = URGENCY.index(triage(doc).urgency)
            assert level >= last, (on_treatment, tenths / 10)
            last = level
