"""Plain-language wording of triage results (about 8th-grade level).

Family-facing text never names a diagnosis: it says what was found, what it can mean in
general terms, and what to do. Clinician-facing reason texts live beside the rule ids.
"""

from __future__ import annotations

__all__ = [
    "FINDING_PLAIN",
    "FORBIDDEN_WORDS",
    "HEADLINE",
    "MEANING",
    "NEXT_STEP_CLINICAL",
    "NEXT_STEP_PLAIN",
    "PLAIN_DISCLAIMER",
    "SYMPTOM_PLAIN",
    "WHEN_TO_GET_HELP",
]

# Words that name a diagnosis; a family text must contain none of them.
FORBIDDEN_WORDS = ("leukemia", "leukaemia", "lymphoma", "cancer", "malignan", "tumor",
                   "tumour", "ALL ")

HEADLINE = {
    "emergency": "Get emergency help now. Call your local emergency number or go to the "
                 "nearest emergency department.",
    "urgent": "See a doctor today. Call your doctor's office now, or go to urgent care if "
              "they cannot see you today.",
    "soon": "Make an appointment to see a doctor in the next few days.",
    "routine": "This does not look urgent. Talk to your doctor at a routine visit, or sooner "
               "if things change.",
}

MEANING = {
    "high": "These results can have several causes. Some of them are serious, so a blood "
            "specialist (a hematologist) should look at them soon. Only more tests can show "
            "what is going on.",
    "moderate": "These signs can come from many things, from infections to problems with how "
                "the body makes blood. A doctor should check them with a blood test and "
                "decide if more tests are needed.",
    "low": "These signs are common. Most of the time they come from everyday illness, such as "
           "a virus. A doctor can check with a simple blood test.",
    "none": "Nothing here points to a problem with the blood.",
}

FINDING_PLAIN = {
    "anemia": "fewer red blood cells than normal for this age (this can cause paleness and "
              "tiredness)",
    "neutropenia": "fewer infection-fighting white cells (neutrophils) than normal for this "
                   "age",
    "thrombocytopenia": "fewer platelets than normal (platelets help blood clot)",
    "leukopenia": "a lower white cell count than normal for this age",
    "severe_anemia": "a very low red blood cell level",
    "severe_neutropenia": "very few infection-fighting white cells, so infections can get "
                          "serious fast",
    "severe_thrombocytopenia": "very few platelets, so bleeding can be hard to stop",
    "circulating_blasts": "young, unfinished blood cells in the blood, which are not usually "
                          "seen there",
    "hyperleukocytosis": "a very high white cell count",
}

SYMPTOM_PLAIN = {
    "fever": "fever", "fatigue": "tiredness", "pallor": "pale skin",
    "easy_bruising": "easy bruising", "petechiae": "tiny red or purple dots on the skin",
    "bleeding_gums": "bleeding gums", "nosebleeds": "nosebleeds",
    "heavy_periods": "heavy periods", "frequent_infections": "frequent infections",
    "bone_pain": "bone or joint pain", "limp": "a limp", "arthritis": "swollen joints",
    "swollen_lymph_nodes": "swollen glands (lymph nodes)",
    "abdominal_fullness": "a full or swollen feeling under the ribs",
    "loss_of_appetite": "poor appetite", "weight_loss": "weight loss",
    "night_sweats": "night sweats", "shortness_of_breath": "trouble breathing",
    "cough": "cough", "wheeze": "wheezing", "stridor": "noisy, high-pitched breathing",
    "orthopnea": "trouble breathing when lying flat", "facial_swelling": "a swollen face",
    "neck_swelling": "a swollen neck", "distended_neck_veins": "bulging neck veins",
    "cyanosis": "bluish skin or lips", "syncope": "fainting", "headache": "headache",
    "vomiting": "vomiting", "confusion": "confusion", "seizure": "a seizure",
    "cranial_nerve_palsy": "a drooping or weak face", "vision_changes": "blurred vision",
    "testicular_swelling": "a swollen testicle", "rash": "a rash",
    "active_bleeding": "bleeding that does not stop", "runny_nose": "runny nose",
    "sore_throat": "sore throat", "flu_like_symptoms": "flu-like illness",
}

NEXT_STEP_PLAIN = {
    "emergency_care": "Call your local emergency number or go to the emergency department "
                      "now. Do not wait for an appointment.",
    "cbc_with_smear": "Ask for a complete blood count (CBC) with a differential, and for a "
                      "lab expert to look at the blood under a microscope (a smear).",
    "chemistry": "Ask if blood chemistry tests are needed (salts, uric acid and LDH).",
    "coagulation": "Ask if blood clotting tests are needed.",
    "hematology_referral": "Ask to see a blood specialist (a hematologist) soon.",
    "chest_xray": "Ask if a chest X-ray is needed to look at the chest and airway.",
    "airway_before_sedation": "Tell every doctor about the breathing problems before any "
                              "sleep medicine or sedation is given.",
    "fever_plan": "With a low infection-fighting cell count, treat any fever as urgent and "
                  "call right away.",
    "watch_and_return": "Watch for new or worse signs. See a doctor if things do not get "
                        "better as expected, or sooner if you are worried.",
}

NEXT_STEP_CLINICAL = {
    "emergency_care": "Emergency assessment now.",
    "cbc_with_smear": "CBC with differential and peripheral smear review.",
    "chemistry": "Chemistry: potassium, phosphate, calcium, uric acid, LDH.",
    "coagulation": "Coagulation: PT, aPTT, fibrinogen, D-dimer.",
    "hematology_referral": "Referral to hematology.",
    "chest_xray": "Chest X-ray for a mediastinal mass.",
    "airway_before_sedation": "Assess the airway before any general anesthesia or deep "
                              "sedation (mediastinal mass risk).",
    "fever_plan": "Febrile neutropenia pathway: blood cultures and empirical antibiotics per "
                  "local protocol.",
    "watch_and_return": "Safety-net advice; review if symptoms persist or worsen.",
}

WHEN_TO_GET_HELP = (
    "Get emergency help at once for trouble breathing, noisy breathing, a swollen face or "
    "neck, bluish skin or lips, fainting, confusion, a seizure, or bleeding that does not stop."
)

PLAIN_DISCLAIMER = (
    "This tool does not give a diagnosis and does not replace a doctor or nurse. It helps you "
    "decide how soon to get care. If you are worried, get help anyway."
)
