"""Plain-language wording of triage results (about 8th-grade level).

Family-facing text never names a diagnosis: it says what was found, what it can mean in
general terms, and what to do. Clinician-facing reason texts live beside the rule ids.
"""

from __future__ import annotations

__all__ = [
    "ALLOWED_PHRASES",
    "FINDING_PLAIN",
    "FORBIDDEN_WORDS",
    "HEADLINE",
    "HEADLINE_BY_URGENCY",
    "MEANING",
    "MEANING_CHICKENPOX",
    "MEANING_EMERGENCY",
    "MEANING_FEVER_STATUS_UNKNOWN",
    "MEANING_ON_TREATMENT",
    "MEANING_ON_TREATMENT_FEVER",
    "MEANING_ON_TREATMENT_SIGNS",
    "MEANING_SEE_TODAY",
    "NEXT_STEP_CLINICAL",
    "NEXT_STEP_PLAIN",
    "PLAIN_DISCLAIMER",
    "SMEAR_REVIEW_CLINICAL",
    "SYMPTOM_PLAIN",
    "when_to_get_help",
]

# Words that name a diagnosis; a family text must contain none of them. "Cancer" may appear
# only in "cancer treatment" and "cancer care team" (the question every symptom check asks
# first, and where to call), never as something the person may have.
FORBIDDEN_WORDS = ("leukemia", "leukaemia", "lymphoma", "cancer", "malignan", "tumor",
                   "tumour", "ALL ")
ALLOWED_PHRASES = ("cancer treatment", "cancer care team")

# The family headline, by the pack's advice code (decision triage_advice). Every emergency
# headline says "now"; none of them sends a family to an appointment or to urgent care.
HEADLINE = {
    "emergency_services": "Get emergency help now. Call 911. In another country, call the "
                          "number for help there.",
    "oncology_team_now": "Call the cancer care team now, day or night, or go to the emergency "
                         "department. Do not wait for the clinic to open.",
    "emergency_department": "Go to the emergency department now, or call the doctor now, day "
                            "or night. Do not wait for an appointment.",
    "fever_ask_treatment": "A fever can be an emergency. Is this person having cancer "
                           "treatment, like chemo? Or do they have a central line? Then call "
                           "the cancer care team now, day or night, or go to the emergency "
                           "room. If not, see a doctor in the next day or two. Go sooner if "
                           "they get worse.",
    "oncology_team_today": "Call the cancer care team today, as soon as you can.",
    "same_day": "See a doctor today. Call your doctor's office now. If they cannot see you "
                "today, go to urgent care or the emergency department.",
    "oncology_team_soon": "Call the cancer care team in the next day or two. Call sooner if "
                          "things get worse.",
    "within_two_days": "See a doctor within the next day or two. Go sooner if things get "
                       "worse.",
    "routine_on_treatment": "Nothing here needs a call right now. Keep the next visit with the "
                            "cancer care team. Call them if anything changes.",
    "routine": "This does not look urgent. Talk to your doctor at a routine visit, or sooner "
               "if things change.",
}
# Used only when the advice decision could not answer (never expected with the bundled pack).
HEADLINE_BY_URGENCY = {
    "emergency": HEADLINE["emergency_department"],
    "urgent": HEADLINE["same_day"],
    "soon": HEADLINE["within_two_days"],
    "routine": HEADLINE["routine"],
}

MEANING_ON_TREATMENT_FEVER = (
    "Cancer treatment lowers the body's germ-fighting cells. A fever can be the first sign of "
    "a serious infection, and it can get worse within hours. It needs a doctor right away, even "
    "if the child seems well. Do not give fever medicine before you call, unless your team told "
    "you to. Take the temperature by mouth or under the arm, never in the bottom."
)
MEANING_ON_TREATMENT = (
    "Cancer treatment can lower blood counts. That can make bleeding, bruising and infections "
    "more likely."
)
# added after a chickenpox contact during treatment (CDC 2013: immunocompromised people are at
# high risk of severe varicella)
MEANING_CHICKENPOX = ("Chickenpox can be much more serious when cancer treatment has weakened "
                      "the body's defenses.")
# added to MEANING_ON_TREATMENT only when signs or results were given
MEANING_ON_TREATMENT_SIGNS = "The care team needs to know about these signs."
# instead of a reassuring MEANING when the advice is to see a doctor today or now
MEANING_SEE_TODAY = (
    "These signs need a doctor to check them today. A blood test is the first step."
)
MEANING_FEVER_STATUS_UNKNOWN = (
    "A fever is often from an everyday illness. But with cancer treatment or a central line, a "
    "fever can be the first sign of a bad infection."
)
MEANING_EMERGENCY = (
    "These signs need a doctor right away. Get help first; the cause can be found later."
)

MEANING = {
    "high": "These results can have several causes. Some of them are serious, so a blood "
            "specialist (a hematologist) should look at them. Only more tests can show what is "
            "going on.",
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
    "one_sided_weakness": "weakness on one side of the body",
    "slurred_speech": "slurred speech or trouble talking",
    "trouble_walking": "new trouble walking", "chills": "shaking chills",
    "severe_headache": "a bad headache", "abdominal_pain": "belly pain",
    "severe_abdominal_pain": "bad belly pain",
    "cannot_keep_fluids_down": "throwing up and not keeping drinks or medicine down",
    "line_damage": "a broken, cracked or leaking central line",
    "line_redness": "redness, swelling or pain where the central line goes in",
    "limb_swelling": "a swollen, sore arm or leg",
    "chickenpox_exposure": "contact with chickenpox or shingles",
    "measles_exposure": "contact with measles", "low_urine": "peeing much less than usual",
    "constipation": "no poop for 2 days or more",
}

NEXT_STEP_PLAIN = {
    "emergency_care": "Call your emergency number or go to the emergency room now. Do not "
                      "wait for an appointment.",
    "cbc_with_smear": "Ask for a blood test called a complete blood count (CBC). Ask that an "
                      "expert look at the blood under a microscope too.",
    # Lab tests beyond the blood count are the clinician's call: no family text.
    "chemistry": "",
    "coagulation": "",
    "hematology_referral": "The doctor may send you to a blood doctor (a hematologist).",
    "chest_xray": "Ask if a chest X-ray is needed to look at the chest and airway.",
    "airway_before_sedation": "Tell each doctor about these signs before any medicine that "
                              "makes the person sleep.",
    "varicella_prophylaxis": "Call the cancer care team today about the chickenpox contact. "
                             "A shot that can protect works best within 4 days of the "
                             "contact, and it can still be given up to 10 days after it.",
    "line_first_aid": "If the line is broken, cracked or leaking: clamp it between the break "
                      "and the skin, with the clamp you were given. Cover the break with clean "
                      "(sterile) gauze. Then go to the emergency department right away.",
    "fever_plan": "With cancer treatment or few germ-fighting cells, any fever is an emergency, "
                  "whatever the blood count. Take the temperature by mouth or under the arm, "
                  "never in the bottom.",
    "oncology_team_now": "Call the cancer care team now, day or night, or go to the emergency "
                         "room. Tell them what you see, the temperature, and the treatment. "
                         "Follow your hospital's rule if it is different.",
    "ask_treatment": "Tell the doctor if the person gets cancer treatment. Also say if they "
                     "have a central line, like a port.",
    "recheck_temperature": "Check the temperature again in one hour. If it is {fever} "
                           "or more, call the cancer care team now, day or night.",
    "watch_and_return": "Watch for new or worse signs. See a doctor if things do not get "
                        "better as expected, or sooner if you are worried.",
}

SMEAR_REVIEW_CLINICAL = "Peripheral smear review of the blood count given."

NEXT_STEP_CLINICAL = {
    "emergency_care": "Emergency assessment now.",
    "cbc_with_smear": "CBC with differential and peripheral smear review.",
    "chemistry": "Chemistry: potassium, phosphate, calcium, uric acid, LDH.",
    "coagulation": "Coagulation: PT, aPTT, fibrinogen, D-dimer.",
    "hematology_referral": "Referral to hematology.",
    "chest_xray": "Chest X-ray for a mediastinal mass.",
    "varicella_prophylaxis": "Varicella or zoster exposure on treatment: VariZIG as soon as "
                             "possible if not immune, ideally within 96 hours, up to 10 days "
                             "(CDC 2013).",
    "line_first_aid": "Damaged central line: clamp between the break and the skin, cover "
                      "with sterile gauze, emergency assessment (CHKD).",
    "airway_before_sedation": "Assess the airway before any general anesthesia or deep "
                              "sedation (mediastinal mass risk).",
    "fever_plan": "Febrile neutropenia pathway: blood cultures and empirical antibiotics per "
                  "local protocol.",
    "oncology_team_now": "Fever in a patient on cancer treatment or with a central line: "
                         "assess now as possible neutropenic sepsis or line infection (NICE "
                         "CG151).",
    "ask_treatment": "Ask whether the patient is on cancer treatment or has a central line.",
    "recheck_temperature": "Borderline temperature on treatment: recheck within the hour; "
                           "manage as febrile if {fever} or more (CCLG).",
    "watch_and_return": "Safety-net advice; review if symptoms persist or worsen.",
}

def when_to_get_help(signs: list[str], fever: str) -> str:
    """The emergency list, built from the signs of the pack's emergency rule; ``fever`` is the
    pack's fever threshold in both scales (:meth:`TriageResult.fever_threshold`)."""
    listed = ", ".join(signs[:-1]) + (f" or {signs[-1]}" if len(signs) > 1 else "".join(signs))
    return (f"Get emergency help at once for any of these: {listed}. Call your emergency "
            "number. Does the person have cancer treatment or a central line? Then a fever of "
            f"{fever} or more is an emergency too. Call the cancer care team now, day "
            "or night, or go to the emergency room.")


PLAIN_DISCLAIMER = (
    "This tool does not give a diagnosis and does not replace a doctor or nurse. It helps you "
    "decide how soon to get care. If you are worried, get help anyway."
)
