"""Plain-language wording of triage results (about 8th-grade level).

Family-facing text never names a diagnosis: it says what was found, what it can mean in
general terms, and what to do. Clinician-facing reason texts live beside the rule ids.
"""

from __future__ import annotations

__all__ = [
    "AFTER_TRANSPLANT_SIGNS",
    "ALLOWED_PHRASES",
    "BLEEDING_SIGN_WORDS",
    "BLOOD_COUNT_SIGNS",
    "EMERGENCY_HEAD_INJURY",
    "EMERGENCY_ITEMS",
    "FINDING_NORMAL_PLAIN",
    "FINDING_NORMAL_PLATELETS_ON_TREATMENT",
    "FINDING_PLAIN",
    "FORBIDDEN_WORDS",
    "HEADLINE",
    "HEADLINE_BY_URGENCY",
    "HEADLINE_OTHER_CONCERN",
    "HEADLINE_TRANSPLANT_SIGNS",
    "IF_NO",
    "MEANING",
    "MEANING_AFTER_TRANSPLANT",
    "MEANING_BY_SYMPTOM",
    "MEANING_CHICKENPOX",
    "MEANING_EMERGENCY",
    "MEANING_FEVER_STATUS_UNKNOWN",
    "MEANING_HEAD_INJURY",
    "MEANING_LOW_URINE_FIRST_WEEK",
    "MEANING_NOTHING_GIVEN",
    "MEANING_NO_COUNT",
    "MEANING_OFF_TREATMENT_SIGNS",
    "MEANING_ON_TREATMENT",
    "MEANING_ON_TREATMENT_FEVER",
    "MEANING_ON_TREATMENT_SIGNS",
    "MEANING_SEE_TODAY",
    "MEANING_SPOTS_WITH_FEVER",
    "MEANING_VOMITING_NOT_DRINKING",
    "NEXT_STEP_CLINICAL",
    "NEXT_STEP_PLAIN",
    "PLAIN_DISCLAIMER",
    "SMEAR_REVIEW_CLINICAL",
    "SYMPTOM_PLAIN",
    "TREATMENT_WORDS",
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
    "now_ask_treatment": "This sign can be an emergency. Is this person having cancer "
                         "treatment, like chemo, CAR-T cells or a transplant? Or do they have "
                         "a central line? Then call the cancer care team now, day or night, "
                         "or go to the emergency department. If you are not sure, act as if "
                         "the answer is yes. Only if you are sure it is no: {if_no}",
    "emergency_department": "Go to the emergency department now, or call the doctor now, day "
                            "or night. Do not wait for an appointment.",
    "fever_ask_treatment": "A fever can be an emergency. Is this person having cancer "
                           "treatment, like chemo, CAR-T cells or a transplant? Or do they have "
                           "a central line? Then call the cancer care team now, day or night, "
                           "or go to the emergency department. If you are not sure, act as if "
                           "the answer is yes. Only if you are sure it is no: {if_no}",
    "transplant_team_today": "Call the transplant team today, as soon as you can. After a "
                             "transplant, they know these signs best. Other doctors may not. "
                             "With a fever, call now, day or night.",
    "oncology_team_today": "Call the cancer care team today, as soon as you can.",
    "today_ask_treatment": "Is this person having cancer treatment, like chemo, CAR-T cells or "
                           "a transplant? Or do they have a central line? Then call the cancer "
                           "care team today. If you are not sure, act as if the answer is yes. "
                           "Only if you are sure it is no: {if_no}",
    "same_day": "See a doctor today. Call your doctor's office now. If they cannot see you "
                "today, go to urgent care or the emergency department.",
    "oncology_team_soon": "Call the cancer care team in the next day or two. Call sooner if "
                          "things get worse.",
    "infection_ask_treatment": "Two questions first. Is this person having cancer treatment, "
                               "like chemo, CAR-T cells or a transplant? Do they have a "
                               "central line, like a port? If yes to either, call the cancer "
                               "care team today. During treatment, a cough, a cold, flu or a "
                               "sore throat can be the start of an infection. With a fever, "
                               "call now. If you are not sure, act as if the answer is yes. "
                               "Only if you are sure it is no: {if_no}",
    "soon_ask_treatment": "Two questions first. Is this person having cancer treatment, like "
                          "chemo, CAR-T cells or a transplant? Do they have a central line, "
                          "like a port? If yes to either, call the cancer care team within a "
                          "day or two, and now for a fever. If not, see a doctor within the "
                          "next day or two. Go sooner if things get worse.",
    "within_two_days": "See a doctor within the next day or two. Go sooner if things get "
                       "worse.",
    "routine_on_treatment": "Nothing you entered needs a call right now. But if you are "
                            "worried, call the cancer care team anyway. Call them if anything "
                            "changes.",
    "routine_ask_treatment": "Two questions first. Is this person having cancer treatment, "
                             "like chemo, CAR-T cells or a transplant? Do they have a central "
                             "line, like a port? If yes to either, call the cancer care team "
                             "about any new sign within a day or two, and now for a fever. If "
                             "not, see a doctor if anything changes or you are worried.",
    "routine": "Nothing you entered looks urgent. Talk to your doctor at a routine visit. Go "
               "sooner if things change or you are worried.",
}
# The end of the fever_ask_treatment, now_ask_treatment and today_ask_treatment headlines, for
# a family sure the answer is no: what the same answers with "no" give (core reads the advice
# of that result, so the headline never promises less than answering "no" does; review U, V).
IF_NO = {
    "emergency_services": "call 911 now, or the number for help where you are.",
    "emergency_department": "go to the emergency department now, or call the doctor now, day "
                            "or night.",
    "transplant_team_today": "call the transplant team today.",
    "same_day": "see a doctor today. If your doctor cannot see you today, go to urgent care.",
    "within_two_days": "see a doctor in the next day or two, sooner if they get worse.",
    "routine": "nothing you entered looks urgent. See a doctor if things change or you are "
               "worried.",
}
# The today_ask_treatment headline for a chickenpox or measles contact: the defences stay low for
# at least 6 months after chemotherapy ends (PICS-INFOBOOK), so "no" alone is not enough to
# drop the call (reviews AA, BB: a child a few months off treatment is truthfully "no").
HEADLINE_EXPOSURE_ASK = (
    "Is this person having cancer treatment, like chemo, CAR-T cells or a transplant? Or do "
    "they have a central line? Or did cancer treatment end in the last 6 months? Then call the "
    "cancer care team today. If you are not sure, act as if the answer is yes. Only if you are "
    "sure it is no to all three: {if_no}")
EXPOSURE_SIGNS = frozenset({"chickenpox_exposure", "measles_exposure"})
# The headline when a sign of graft-versus-host disease after a stem cell transplant gets a
# call to the team today during treatment (step transplant_signs_today; in the first 100 days
# a transplant counts as on treatment): the transplant team first, as the step says (review V;
# BTM-GVHD-CALL: call your transplant team, other doctors may not know the signs of GVHD).
HEADLINE_TRANSPLANT_SIGNS = {
    "oncology_team_today": "Call the transplant team today, as soon as you can. After a "
                           "transplant, they know these signs best. If you cannot reach them, "
                           "call the cancer care team. With a fever, call now, day or night.",
}
# The headline when "something else worries me" (other_concern) was ticked: the tool cannot
# judge what it was not told, so it says so first (review J).
HEADLINE_OTHER_CONCERN = {
    "oncology_team_now": "This tool cannot judge what worries you. Call the cancer care team "
                         "now, day or night, and tell them about it. They will tell you what "
                         "to do.",
    "now_ask_treatment": "This tool cannot judge what worries you. Is this person having "
                         "cancer treatment, like chemo, CAR-T cells or a transplant? Or do they "
                         "have a central line? Then call the cancer care team now, day or "
                         "night, and tell them about it. If you are not sure, act as if the "
                         "answer is yes. Only if you are sure it is no: {if_no}",
    "oncology_team_today": "This tool cannot judge what worries you. Call the cancer care team "
                           "today and tell them about it.",
    "same_day": "This tool cannot judge what worries you. Talk to a doctor or nurse about it "
                "today, like your family doctor or a nurse advice line.",
    "within_two_days": "This tool cannot judge what worries you. See a doctor in the next day "
                       "or two. Go sooner if things get worse.",
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
    "if {who} seems well. Do not give fever medicine before you call, unless your team told "
    "you to. Take the temperature by mouth or under the arm, never in the bottom."
)
MEANING_ON_TREATMENT = (
    "Cancer treatment can lower blood counts. That can make bleeding, bruising and infections "
    "more likely."
)
# "What it can mean" for signs that are not about blood counts (review J: a clot, stroke
# signs, a change in vision, measles or little pee were all explained as low blood counts).
# The first sign of the person's list that has a text gives it; signs with none fall back to
# the blood-count text only when a blood-count sign or finding was given.
MEANING_BY_SYMPTOM = {
    "limb_swelling": "A swollen, sore arm or leg can be a blood clot. Some medicines used in "
                     "cancer treatment make clots more likely.",
    "chest_pain": "Chest pain can be serious, like a blood clot in the lungs or a heart "
                  "problem. It needs help right away.",
    "one_sided_weakness": "These signs can mean a problem in the brain, like a clot or a "
                          "bleed. Every minute counts.",
    "slurred_speech": "These signs can mean a problem in the brain, like a clot or a bleed. "
                      "Every minute counts.",
    "vision_changes": "A change in vision needs a doctor to check the eyes and the brain "
                      "{when}. With a headache it can be a sign of a clot or swelling in the "
                      "brain.",
    "measles_exposure": "Measles can be very serious when treatment has weakened the body's "
                        "defenses. Medicine can still protect, but only for a few days.",
    "low_urine": "Much less pee can mean the body is low on water, or that the kidneys need "
                 "help.",
    "dark_urine": "Dark pee can mean the body is low on water. It can also be a sign that the "
                  "liver is upset by a medicine.",
    "jaundice": "Yellow skin or eyes can mean the liver is upset, sometimes by a medicine. A "
                "doctor can check the liver with a blood test.",
    "hard_to_wake": "A person who cannot be woken needs help right away.",
    "drowsy": "Being very sleepy or hard to wake can be a sign of a bad illness. It may be "
              "an infection, or a problem in the brain.",
    "suicidal_thoughts": "Thoughts of suicide are an emergency. Help is there, day or night. "
                         "These feelings can be treated.",
    "behaviour_change": "Some medicines, like steroids, can change mood. A sudden change can "
                        "also have other causes.",
    "constipation": "Some medicines used in cancer treatment, like vincristine, slow the "
                    "bowels. Hard poop can hurt and can lead to other problems.",
    "jaw_pain": "Some medicines used in cancer treatment, like vincristine, can cause jaw "
                "pain. The team may change the dose.",
    "not_drinking": "Not drinking can quickly lead to low water in the body, mostly in young "
                    "children.",
    "mouth_sores": "Mouth sores are common during cancer treatment. They can make eating "
                   "and drinking hard.",
    "diarrhoea": "Diarrhea is common with some cancer medicines, and after a transplant. It "
                 "can make the body low on water fast, mostly in young children.",
    "very_thirsty": "Steroids can raise blood sugar. Being very thirsty and peeing a lot can "
                    "be a sign of high blood sugar.",
    "dizzy": "Feeling dizzy can be a sign of germs in the blood. It can also mean the body is "
             "low on water or has few red cells.",
    "rash": "A rash during treatment can come from a medicine or an infection. After a stem "
            "cell transplant, it can also be a reaction to the new cells.",
    "chills": "Shaking chills can be a sign of germs in the blood. With a central line, chills "
              "soon after the line is flushed can mean the line is infected.",
    "other_concern": "This tool only knows the signs on its list. It cannot judge what "
                     "worries you, so a nurse or doctor should hear about it.",
}
# added to the low_urine text in the first week of treatment, or when its start day is unknown
MEANING_LOW_URINE_FIRST_WEEK = ("In the first week of treatment it can be a sign of a serious "
                                "problem.")
# a new rash, diarrhea, belly pain or yellow skin within 100 days of a stem cell transplant
# (AAMDS-GVHD): the sign is explained as the transplant, never as a blood count
MEANING_AFTER_TRANSPLANT = (
    "After a stem cell transplant, a new rash, diarrhea, belly cramps or yellow skin can mean "
    "the new cells are attacking the body (graft-versus-host disease). It can start in the "
    "first 100 days or later. A rash often starts on the hands and feet. Found early, it is "
    "easier to treat."
)
# "What it can mean" when no blood count was entered and nothing points to one (review O:
# "nothing here points to a problem with the blood" was said with no count at all)
MEANING_NO_COUNT = "No blood count was entered, so this tool cannot say anything about the blood."
# "What it can mean" after a hit to the head during treatment, by what the platelet count
# given shows (review K: "with few platelets" was shown beside a normal count)
MEANING_HEAD_INJURY = {
    "low": "With few platelets, a hit to the head can bleed inside, even if the person seems "
           "fine at first.",
    "unknown": "Treatment can lower platelets, the cells that help stop bleeding, and no "
               "platelet count was given. With few platelets, a hit to the head can bleed "
               "inside, even if the person seems fine at first.",
    "normal": "The platelet count you gave is not low, so bleeding is less likely. Counts "
              "can change during treatment, so keep watching for the signs below.",
}
# vomiting and not drinking together (SCHN: call the hospital immediately)
MEANING_VOMITING_NOT_DRINKING = (
    "Throwing up and not drinking can quickly lead to low water in the body, mostly in young "
    "children."
)
# the signs whose MEANING_BY_SYMPTOM text also fits a person not on treatment
MEANING_OFF_TREATMENT_SIGNS = ("chest_pain", "suicidal_thoughts", "hard_to_wake", "drowsy",
                               "jaundice", "one_sided_weakness", "slurred_speech",
                               "other_concern")
# the blood-count signs that MEANING_ON_TREATMENT explains
BLOOD_COUNT_SIGNS = frozenset({"fatigue", "pallor", "easy_bruising", "petechiae",
                               "bleeding_gums", "nosebleeds", "heavy_periods",
                               "frequent_infections", "active_bleeding"})

# added after a chickenpox contact during treatment (CDC 2013: immunocompromised people are at
# high risk of severe varicella)
MEANING_CHICKENPOX = ("Chickenpox can be much more serious when cancer treatment has weakened "
                      "the body's defenses.")
# added to MEANING_ON_TREATMENT only when signs or results were given
MEANING_ON_TREATMENT_SIGNS = "The care team needs to know about these signs."
# instead of a reassuring MEANING when the advice is to see a doctor today or now
MEANING_SEE_TODAY = "These signs need a doctor to check them today."
# nothing ticked and no result given: no hint of illness and no test (review K)
MEANING_NOTHING_GIVEN = (
    "You did not enter any sign. This check can only judge the signs you give it."
)
MEANING_FEVER_STATUS_UNKNOWN = (
    "A fever is often from an everyday illness. But with cancer treatment or a central line, a "
    "fever can be the first sign of a bad infection. If you are not sure, treat it as an "
    "emergency."
)
# tiny red or purple spots with a fever (rule triage.urgency.emergency.spots_with_fever;
# Meningitis Now, NHS Healthier Together): never "a fever is often from an everyday illness"
MEANING_SPOTS_WITH_FEVER = (
    "Tiny red or purple spots or new bruises, which do not fade under a pressed glass, with a "
    "fever, can be a "
    "sign of a serious infection in the blood. It can get worse within hours. Get help first; "
    "the cause can be found later."
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

# a count that was measured and is not low, shown so that a count given is never left out
FINDING_NORMAL_PLAIN = {
    "findings.anemia": "the red blood cell level (hemoglobin) is not low for this age",
    "findings.neutropenia": "the infection-fighting white cells (neutrophils) are not low for "
                            "this age",
    "findings.thrombocytopenia": "the platelet count is not low for this age (platelets help "
                                 "blood clot)",
}

# the platelet count during treatment, with how old it is (review N: an 8-day-old count was
# shown as "not low" with no date)
FINDING_NORMAL_PLATELETS_ON_TREATMENT = (
    "the platelet count {when} is not low for this age. Counts change during treatment, so a "
    "new count may be different"
)
# signs explained by MEANING_AFTER_TRANSPLANT when a transplant was in the last 100 days
AFTER_TRANSPLANT_SIGNS = frozenset({"rash", "diarrhoea", "abdominal_pain", "jaundice"})

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
    "cranial_nerve_palsy": "a drooping or weak face",
    "vision_changes": "a change in vision, like blurred or double vision",
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
    "measles_exposure": "contact with measles",
    "low_urine": "peeing much less than usual, or fewer wet nappies (diapers)",
    "constipation": "no poop for 2 days or more",
    "jaw_pain": "jaw pain that pain medicine does not help",
    "jaundice": "yellow skin or yellow whites of the eyes",
    "dark_urine": "dark pee, like tea or cola",
    "chest_pain": "chest pain",
    "hard_to_wake": "cannot be woken, or does not respond",
    "drowsy": "very sleepy, floppy or hard to wake",
    "head_injury": "a fall or a hit to the head",
    "not_drinking": "not drinking, or cannot swallow",
    "mouth_sores": "mouth sores",
    "behaviour_change": "a sudden change in mood or behavior",
    "suicidal_thoughts": "thoughts of suicide or self-harm",
    "other_concern": "something else that worries me",
    "diarrhoea": "diarrhea (runny or watery poop)",
    "very_thirsty": "very thirsty and peeing a lot",
    "dizzy": "dizzy or light-headed",
}

# "Get emergency help at once": short items, each shown when one of its symptom codes is in
# the pack's emergency rule (triage.advice.emergency_services), in this order.
EMERGENCY_ITEMS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("shortness_of_breath", "orthopnea", "stridor", "cyanosis"),
     "Trouble breathing, noisy breathing, or blue lips"),
    (("chest_pain",), "Chest pain"),
    (("facial_swelling", "neck_swelling", "distended_neck_veins"),
     "A swollen face or neck"),
    (("hard_to_wake", "syncope"), "Fainting, or cannot be woken"),
    (("seizure", "confusion"), "A seizure or new confusion"),
    (("one_sided_weakness", "slurred_speech"), "Weakness on one side, or slurred speech"),
    (("active_bleeding",), "Bleeding that does not stop"),
    (("petechiae", "easy_bruising"), "A fever with tiny red or purple spots, new bruises, or "
                                     "a rash that does not fade when you press a glass on it"),
    (("suicidal_thoughts",), "Talk of suicide or self-harm"),
)
# how the bleeding_signs_today step names the signs the family entered, in this order (review W)
BLEEDING_SIGN_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("petechiae",), "the tiny red or purple spots"),
    (("easy_bruising",), "the bruises"),
    (("bleeding_gums", "nosebleeds", "heavy_periods"), "the bleeding"),
)
# what the tell_emergency_team_treatment step names, by the answer that was "yes" (review W)
TREATMENT_WORDS = {
    "triage.on_treatment": "is on cancer treatment",
    "triage.central_line": "has a central line, like a port",
    "triage.recent_transplant": "had a stem cell transplant in the last 100 days",
}
# a line of its own after the fever line, when the pack has the rule
# triage.urgency.emergency.head_injury_low_platelets: the headline for it is the care team now
# or the emergency department, not the emergency number (review K)
EMERGENCY_HEAD_INJURY = (
    "A hit to the head when platelets are low, or not known during cancer treatment, is an "
    "emergency too. Call the care team now, day or night, or go to the emergency "
    "department."
)

NEXT_STEP_PLAIN = {
    "emergency_care": "Call your emergency number or go to the emergency department now. Do not "
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
                         "department. Tell them what you see, the temperature, and the "
                         "treatment. Away from home, go to the closest hospital and say the "
                         "person is on cancer treatment. Follow your hospital's rule if it is "
                         "different.",
    "ask_treatment": "Tell the doctor if the person gets cancer treatment. Also say if they "
                     "have a central line, like a port.",
    "recheck_temperature": "Check the temperature again in one hour. If it is {fever} "
                           "or more, call the cancer care team now, day or night.",
    "watch_and_return": "Watch for new or worse signs. See a doctor if things do not get "
                        "better as expected, or sooner if you are worried.",
    # watch_and_return under a "within a day or two" headline (review U: "see a doctor if things
    # do not get better" read as less than the headline)
    "watch_and_return_soon": "Watch for new or worse signs. Do not wait the day or two if "
                             "things get worse, or if you are worried.",
    "watch_and_call_team": "Watch for new or worse signs. Call the cancer care team if things "
                           "get worse, or if you are worried.",
    "measles_prophylaxis": "Call the cancer care team today about the measles contact. A shot "
                           "that can protect (immune globulin) works only if it is given "
                           "within 6 days of the contact.",
    "exposure_after_treatment": "Chemo keeps the body's defenses low for at least 6 months "
                                "after it ends. Did {who} finish cancer treatment in the last "
                                "6 months? Then treat the answer as yes. Call the cancer care "
                                "team today.",
    # a limp off treatment (NHS Healthier Together "Limp": amber today, red emergency)
    "limp_watch": "See a doctor today if {who} cannot put weight on the leg, gets a fever, or "
                  "has a red, hot or swollen joint. Do the same if the limp is no better in 48 "
                  "hours. Get emergency help now if {who} looks pale, blue or blotchy, or is "
                  "very sleepy or hard to wake.",
    # a limp during treatment (SCHN: fever is a call now; NHS Healthier Together: amber signs)
    "limp_watch_on_treatment": "Call the cancer care team now, day or night, for a fever of 38 "
                               "C (100.4 F) or more. Call them today if {who} cannot put "
                               "weight on the leg, or has a red, hot or swollen joint.",
    # a cough, cold, flu or sore throat during treatment (SCHN, CCS)
    "infection_watch": "Check the temperature. Call the cancer care team now, day or night, "
                       "for a fever of 38 C (100.4 F) or more, shivering or chills, or trouble "
                       "breathing.",
    "constipation_care": "Do not use an enema or a suppository (medicine put in the bottom). "
                         "Ask the team before you give any medicine for it.",
    "head_injury_watch": "Watch closely for 2 days after a hit to the head. Get emergency help "
                         "at once if the person gets very sleepy or hard to wake. The same if "
                         "they throw up 3 times or more, get confused, have a seizure, or have "
                         "new trouble talking or seeing. If a headache gets worse or does not "
                         "go away, talk to a doctor or nurse today. With cancer treatment, call "
                         "the team now for a bad headache.",
    "drinks_watch": "Watch if even small sips stay down, and how much {who} pees. If they "
                    "throw up and cannot drink, call the cancer care team now, day or night. "
                    "Much less pee than usual is a sign the body is low on water.",
    # drinks_watch for a baby (review N): nappies, and a floppy baby (SCHN, drowsy) is now
    "drinks_watch_baby": "Offer the bottle or breast often, and count the wet nappies "
                         "(diapers). Call the cancer care team right away if a nappy stays dry "
                         "for 6 hours or more. Call now, day or night, if the baby gets very "
                         "sleepy or floppy, or throws up and cannot drink.",
    # given to a baby or toddler only (core: nappy age); empty for older people
    "wet_nappy_watch": "Count the wet nappies (diapers). A child under 2 with no wet nappy for "
                       "6 hours needs a call now, day or night: to the cancer care team during "
                       "treatment, or else a doctor or the emergency department. Call now "
                       "too if {who} gets very sleepy or floppy.",
    # not drinking off treatment (NHS Healthier Together, diarrhoea and vomiting)
    "fluids_watch_off_treatment": "Give small drinks often. Get emergency help now if {who} "
                                  "gets very sleepy, hard to wake, or confused. The same if "
                                  "there is no pee (or no wet nappy) for 12 hours, if the "
                                  "vomit is green or has blood in it, or if there is a rash "
                                  "that does not fade when you press a glass on it.",
    # vomiting or diarrhea off treatment, still drinking (NHS Healthier Together, Health for
    # Under 5s): small drinks often, and when it becomes today or emergency help
    "drinks_little_and_often": "Give small drinks often. See a doctor today if {who} cannot "
                               "keep drinks down, or has no pee (or no wet nappy) for 8 "
                               "hours. Get emergency help now if {who} gets very sleepy, hard "
                               "to wake, or confused, or if the vomit is green or has blood "
                               "in it. The same if there is no pee (or no wet nappy) for 12 "
                               "hours.",
    # much less pee off treatment with no vomiting, diarrhea or drinking sign (NHS Healthier
    # Together, South Yorkshire: 12 hours is red; Health for Under 5s: drinks little and often)
    "low_urine_off_treatment": "Give small drinks often, and keep track of each time {who} "
                               "pees (or each wet nappy). Get emergency help now if there is "
                               "no pee (or no wet nappy) for 12 hours, or if {who} gets very "
                               "sleepy, hard to wake, or confused.",
    # tiny red or purple spots with a fever (Meningitis Now, NHS Healthier Together)
    "spots_with_fever": "Tiny red or purple spots, or new purple marks like bruises, with a "
                        "fever are an emergency, even if {who} seems well. They do not fade "
                        "when you press a glass on them. Do not wait for a doctor's visit or "
                        "a blood test.",
    # tiny red or purple spots without a fever: they do not fade by nature, so the glass test
    # line would contradict a "today" headline (review V)
    "spots_watch": "Tiny red or purple spots do not fade when you press a glass on them. If "
                   "{who} gets a fever or seems more unwell, get emergency help now: call 911 "
                   "or go to the emergency department.",
    # new or easy bruising (Meningitis Now: the septicaemia rash can develop into purple
    # bruising; bruises do not fade by nature, so the glass test line would contradict a
    # "today" headline, as for spots; review W)
    "bruises_watch": "Bruises do not fade when you press a glass on them. So the glass test "
                     "does not help here. Get emergency help now if new purple marks or tiny "
                     "spots show up or spread, or if {who} seems more unwell. If so, call 911 "
                     "or go to the emergency department.",
    # during treatment from 2 years on (or no age): CCS 6-8 hours read at 6; Alabama 3+ 10-12
    "low_urine_hours": "Keep track of each time {who} pees (or each wet nappy). Call the "
                       "cancer care team now, day or night, if there is much less pee, or "
                       "none, for 6 hours.",
    # any rash (NHS Healthier Together, Meningitis Now)
    "glass_test": "Press the side of a clear glass firmly on the rash. If the spots do not "
                  "fade under the glass, get emergency help now: call 911 or go to the "
                  "emergency department. Spots may fade at first, so keep checking. On dark "
                  "skin, look at the palms and soles.",
    "rash_today": "Call the cancer care team today about the rash. Tell them if there was ever a "
                  "stem cell transplant. With a fever, call now, day or "
                  "night.",
    "transplant_signs_today": "Call the transplant or cancer care team today. Tell them how "
                              "long ago the transplant was. With a fever, call now, day or "
                              "night.",
    "diarrhoea_watch": "Give small drinks often. Do not give medicine to stop diarrhea unless "
                       "the team says it is OK. Call the cancer care team now, day or night, "
                       "if {who} cannot drink, gets a fever, or pees much less (fewer wet "
                       "nappies) or not at all for 6 hours.",
    # {signs}: the bleeding signs the family entered (core; review W: "the bruises" for spots)
    "bleeding_signs_today": "Call the cancer care team today about {signs}. "
                            "Counts change during treatment, so they may want a new blood "
                            "count. Call now, day or night, for bleeding that does not stop "
                            "after 10 minutes of pressure.",
    "headache_watch": "Call the cancer care team now, day or night, if the headache gets "
                      "bad, or if {who} has a change in vision with it.",
    "vomiting_watch": "Call the cancer care team now, day or night, if {who} cannot keep "
                      "drinks or medicine down.",
    "blood_sugar_today": "Call the cancer care team today. Say if the person is taking a "
                         "steroid, like dexamethasone or prednisone. Never stop a steroid on "
                         "your own.",
    "dark_urine_watch": "Call the cancer care team now, day or night, if drinks do not stay "
                        "down, or if there is much less pee, or none, for 6 hours. Tell them "
                        "if the eyes or skin turn yellow.",
    "dark_urine_tumour_lysis_window": "In the first week of treatment, much less pee means "
                                      "calling the cancer care team now, day or night. Do not "
                                      "wait to see how much comes.",
    "mouth_sores_watch": "Call the cancer care team today if the sores stop the person from "
                         "drinking, or from swallowing, even their own spit. Call now, day or "
                         "night, for a fever.",
    "mood_watch": "If the person talks about suicide or hurting themselves, get help at once. "
                  "Call 911, or call or text 988 (the Suicide and Crisis Lifeline in the US). "
                  "Do not leave them alone.",
    "crisis_help": "Do not leave the person alone. Call 911 now, or call or text 988 (the "
                   "Suicide and Crisis Lifeline in the US). Keep medicines and weapons out of "
                   "reach.",
    "tell_the_concern": "Say what worries you, even if it is not on any list. This tool cannot "
                        "judge it. If you are worried, you are right to call.",
    # under the emergency number during treatment (SCHN: tell the triage nurse); {treatment}
    # names only what was answered "yes" (core)
    "tell_emergency_team_treatment": "Tell the emergency team that {who} {treatment}. If you "
                                     "can, call the cancer care team too.",
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
    "watch_and_call_team": "Safety-net advice on treatment: call the oncology team if worse or "
                           "worried.",
    "measles_prophylaxis": "Measles exposure on treatment: immune globulin within 6 days of "
                           "the first exposure (CDC).",
    "exposure_after_treatment": "Varicella or measles exposure, treatment status not given: "
                                "immunity stays low for at least 6 months after chemotherapy "
                                "(PICS); a recent end of treatment counts as on treatment.",
    "limp_watch": "Limp off treatment: same-day review for non-weight-bearing, fever above 38 C "
                  "or a red, hot or swollen joint; emergency for pallor, mottling or reduced "
                  "consciousness (NHS Healthier Together).",
    "limp_watch_on_treatment": "Limp on treatment: fever of 38 C or more means immediate "
                               "review (SCHN); non-weight-bearing or a red, hot or swollen "
                               "joint, same-day review (NHS Healthier Together); consider "
                               "osteonecrosis on steroids.",
    "infection_watch": "Respiratory or flu-like symptoms on treatment: fever of 38 C or more, "
                       "rigors or respiratory distress means immediate review (SCHN, CCS).",
    "constipation_care": "Constipation on treatment: no enemas or suppositories; laxatives "
                         "as the team directs (COG, Cincinnati Children's).",
    "head_injury_watch": "Head injury: 48-hour red-flag safety net (NHS Healthier Together); "
                         "worsening or persistent headache the same day (amber); check the "
                         "platelet count.",
    "drinks_watch": "Poor oral intake on treatment: vomiting with no fluids tolerated needs "
                    "assessment now (SCHN); monitor urine output for dehydration.",
    "dark_urine_watch": "Dark urine on treatment: check hydration and liver tests "
                        "(mercaptopurine); escalate if fluids not tolerated.",
    "dark_urine_tumour_lysis_window": "Dark urine within 7 days of starting therapy "
                                      "(tumour-lysis window, Cairo-Bishop): reduced urine output "
                                      "means assessment now; consider TLS laboratory tests.",
    "mouth_sores_watch": "Mucositis on treatment: review the same day if oral intake or "
                         "swallowing is impaired (BWC, KidsHealth NZ).",
    "wet_nappy_watch": "Under 2 years: no urine for 6 hours is a call now (Children's of "
                       "Alabama); hours not recorded.",
    "fluids_watch_off_treatment": "Poor oral intake off treatment: same-day review; "
                                  "reduced consciousness, no urine for 12 hours, bilious or "
                                  "bloody vomit or a non-blanching rash means emergency care "
                                  "(NHS Healthier "
                                  "Together, what0-18 and South Yorkshire).",
    "drinks_little_and_often": "Vomiting or diarrhoea off treatment, fluids kept down: small "
                               "frequent drinks; same-day review if fluids are not kept down "
                               "or no urine for 8 hours; emergency care for reduced "
                               "consciousness, bilious or bloody vomit, or no urine for 12 "
                               "hours (NHS Healthier Together).",
    "spots_with_fever": "Fever with petechiae or new bruising (non-blanching; purpura): "
                        "emergency assessment now for "
                        "possible invasive bacterial infection (Meningitis Now, NHS Healthier "
                        "Together red, NICE NG143 red feature).",
    "spots_watch": "Petechiae without fever: safety-net - fever or clinical deterioration means "
                   "emergency assessment (Meningitis Now, NHS Healthier Together).",
    "low_urine_hours": "Oliguria on treatment, 2 years and older: no urine for 6 hours is a "
                       "call now (CCS 6-8 hours, lower end; Children's of Alabama 10-12 hours "
                       "from 3 years); hours not recorded.",
    "bruises_watch": "Bruising: safety-net - new or spreading purpura or petechiae, or "
                     "clinical deterioration, means emergency assessment (Meningitis Now: the "
                     "septicaemia rash can develop into purple bruising; NHS Healthier Together "
                     "red: non-blanching rash).",
    "glass_test": "Rash: a non-blanching rash (glass test) means emergency assessment (NHS "
                  "Healthier Together; Meningitis Now, with fever).",
    "rash_today": "New rash on treatment: same-day review (drug reaction, infection; GVHD "
                  "after a transplant).",
    "transplant_signs_today": "After a stem cell transplant: rash, diarrhoea, abdominal pain "
                              "or jaundice - same-day review for acute GVHD (first 100 days) "
                              "or chronic GVHD (later) (AAMDS, NMDP).",
    "diarrhoea_watch": "Diarrhoea on treatment: assess hydration; stool infection tests as "
                       "needed; no antidiarrhoeals unless the team advises (CHOP); unable to "
                       "drink means assessment now (SCHN).",
    "bleeding_signs_today": "Bleeding or bruising on treatment: same-day review; repeat the "
                            "platelet count if the last one is not current.",
    "headache_watch": "Headache on treatment: same-day review; a severe headache or visual "
                      "change with it means assessment now (SCHN, CCS).",
    "vomiting_watch": "Vomiting on treatment: same-day review; no fluids or medicine kept "
                      "down, or not drinking, means assessment now (SCHN, CCS).",
    "blood_sugar_today": "Polydipsia and polyuria on treatment: check blood glucose (steroid "
                         "hyperglycaemia).",
    "mood_watch": "Behaviour change: safety-net for suicidal talk or self-harm (emergency "
                  "services or 988).",
    "crisis_help": "Suicidal thoughts or self-harm: emergency services or crisis line (988 in "
                   "the US) now; do not leave the person alone; remove means.",
    "tell_the_concern": "Family concern the symptom check cannot classify: clinical review.",
    "tell_emergency_team_treatment": "Emergency care on cancer treatment or with a central "
                                     "line: tell the emergency team and inform the oncology "
                                     "team (SCHN).",
    "low_urine_off_treatment": "Reduced urine output off treatment: same-day review; no urine "
                               "for 12 hours or reduced consciousness means emergency care "
                               "(NHS Healthier Together, South Yorkshire); small frequent "
                               "drinks.",
}

def when_to_get_help(items: list[str], fever: str, head_injury: bool = False,
                     treatment_lines: bool = True) -> list[str]:
    """The emergency list as short lines: the items (:data:`EMERGENCY_ITEMS` read from the
    pack's emergency rule), then the fever line; ``fever`` is the pack's fever threshold in
    both scales (:meth:`TriageResult.fever_threshold`). ``head_injury`` adds the line of
    :data:`EMERGENCY_HEAD_INJURY` (the care team now, like the fever line).
    ``treatment_lines`` False (both treatment questions answered "no") leaves out the lines
    about cancer treatment (review V)."""
    return ["Call your emergency number at once for any of these:",
            *[f"- {item}" for item in items],
            *([f"With cancer treatment or a central line, a fever of {fever} or more is an "
               "emergency too. Call the cancer care team now, day or night, or go to the "
               "emergency department.",
               *([EMERGENCY_HEAD_INJURY] if head_injury else [])] if treatment_lines else [])]


PLAIN_DISCLAIMER = (
    "This tool does not give a diagnosis and does not replace a doctor or nurse. It helps you "
    "decide how soon to get care. If you are worried, get help anyway."
)
