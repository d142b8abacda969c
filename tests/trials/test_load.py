"""The ClinicalTrials.gov readers in allpath.trials.load, on real downloads and on broken files."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allpath.errors import TrialDataError
from allpath.trials.load import (
    parse_age_years,
    read_ctgov_csv,
    read_ctgov_json,
    read_ctgov_xml,
    read_trials,
)
from allpath.trials.records import Site, Trial
from support import shared_dir

_SHARED = shared_dir()
_CTGOV = _SHARED / "data" / "ctgov" if _SHARED else None
needs_data = pytest.mark.skipif(
    _CTGOV is None or not _CTGOV.is_dir(), reason="../shared/data/ctgov is not present"
)

CSV_NAME = "ctgov_export_ALL_pediatric_oncology_subset.csv"
XML_NAME = "NCT01207388_classic.xml"
FULL_JSON_NAME = "NCT02513394_api_v2_full_study.json"
PAGE_NAMES = ("api_v2_search_page1_with_nextPageToken.json", "api_v2_search_page2.json")

CSV_HEADER = (
    '"NCT Number","Study Title","Study Status","Conditions","Sponsor","Collaborators",'
    '"Funder Type","Phases","Enrollment","Study Type","Start Date","Completion Date",'
    '"Locations","Sex","Age"\n'
)


def data(name: str) -> Path:
    assert _CTGOV is not None
    return _CTGOV / name


def by_id(trials: tuple[Trial, ...], nct_id: str) -> Trial:
    return next(t for t in trials if t.nct_id == nct_id)


def csv_row(nct_id: str = "NCT00000001", locations: str = "", **cells: str) -> str:
    values = {
        "title": "A study",
        "status": "RECRUITING",
        "conditions": "Acute Lymphoblastic Leukemia",
        "phases": "PHASE2",
        "enrollment": "10.0",
        "start": "2022-08",
        "age": "CHILD",
    } | cells
    fields = [
        nct_id, values["title"], values["status"], values["conditions"], "Sponsor", "",
        "OTHER", values["phases"], values["enrollment"], "INTERVENTIONAL", values["start"],
        "", locations, "ALL", values["age"],
    ]
    return ",".join(f'"{f}"' for f in fields) + "\n"


def sites_from_locations(tmp_path: Path, locations: str) -> tuple[Site, ...]:
    file = tmp_path / "export.csv"
    file.write_text(CSV_HEADER + csv_row(locations=locations), encoding="utf-8")
    (trial,) = read_ctgov_csv(file)
    return trial.sites


XML_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<clinical_study>
  <id_info><nct_id>NCT00000002</nct_id></id_info>
  <brief_title>Legacy record</brief_title>
  <overall_status>{status}</overall_status>
  <start_date>March 15, 2010</start_date>
  <phase>{phase}</phase>
  <study_type>{study_type}</study_type>
  <eligibility>
    <gender>{gender}</gender>
    <minimum_age>{min_age}</minimum_age>
    <maximum_age>{max_age}</maximum_age>
  </eligibility>
  <location>
    <facility><name>Site A</name>
      <address><city>Lyon</city><country>France</country></address></facility>
    <status>Not yet recruiting</status>
  </location>
</clinical_study>
"""


def write_xml(tmp_path: Path, **fields: str) -> Path:
    values = {
        "status": "Recruiting", "phase": "Phase 2", "study_type": "Interventional",
        "gender": "All", "min_age": "1 Year", "max_age": "N/A",
    } | fields
    file = tmp_path / "study.xml"
    file.write_text(XML_TEMPLATE.format(**values), encoding="utf-8")
    return file


def json_study(nct_id: str | None = "NCT00000003", **modules: object) -> dict[str, object]:
    identification: dict[str, object] = {"briefTitle": "API study"}
    if nct_id is not None:
        identification["nctId"] = nct_id
    section: dict[str, object] = {
        "identificationModule": identification,
        "statusModule": {"overallStatus": "RECRUITING"},
    }
    section.update(modules)
    return {"protocolSection": section}


# ----------------------------------------------------------------------------- CSV export


@needs_data
def test_csv_export_gives_one_trial_per_row_without_exact_ages() -> None:
    trials = read_ctgov_csv(data(CSV_NAME))
    assert len(trials) == 1294
    assert len({t.nct_id for t in trials}) == 1294
    assert all(t.source == "csv" and not t.has_exact_ages for t in trials)
    assert all(t.min_age_years is None and t.max_age_years is None for t in trials)
    assert all(t.eligibility_text is None and t.age_groups for t in trials)


@needs_data
def test_csv_status_counts_match_the_export() -> None:
    counts = Counter(t.status for t in read_ctgov_csv(data(CSV_NAME)))
    assert counts["COMPLETED"] == 551
    assert counts["RECRUITING"] == 254
    assert sum(counts.values()) == 1294


@needs_data
def test_csv_row_gives_title_conditions_dates_and_site() -> None:
    trial = by_id(read_ctgov_csv(data(CSV_NAME)), "NCT05626400")
    assert trial.title == (
        "Clinical Study of Senl-T7 CAR T Cells in the Treatment of Relapsed and Refractory "
        "CD7+ Acute T-ALL/T-LBL"
    )
    assert trial.conditions == ("T-cell Acute Lymphoblastic Leukemia/Lymphoma",)
    assert trial.sites == (
        Site(facility="Hebei yanda Hospital", city="Beijingcun", state="Hebei", country="China"),
    )
    assert trial.status == "RECRUITING"
    assert trial.study_type == "INTERVENTIONAL"
    assert trial.sponsor == "Hebei Senlang Biotechnology Inc., Ltd."
    assert trial.enrollment == 100
    assert trial.phases == ()
    assert trial.sex == "ALL"
    assert trial.age_groups == {"CHILD", "ADULT", "OLDER_ADULT"}
    assert trial.start_date == dt.date(2022, 8, 29)
    assert trial.completion_date == dt.date(2027, 12, 30)


@needs_data
def test_csv_month_only_dates_mean_the_first_and_phases_split_on_pipes() -> None:
    trials = read_ctgov_csv(data(CSV_NAME))
    observational = by_id(trials, "NCT01896752")
    assert observational.start_date == dt.date(2011, 3, 1)
    assert observational.completion_date == dt.date(2013, 1, 1)
    assert observational.sponsor == "Rigshospitalet, Denmark"
    assert observational.age_groups == {"CHILD", "ADULT"}
    assert by_id(trials, "NCT07366801").phases == ("PHASE2", "PHASE3")


@needs_data
def test_csv_us_site_drops_the_zip_code_and_keeps_the_state() -> None:
    trial = by_id(read_ctgov_csv(data(CSV_NAME)), "NCT04088864")
    assert trial.sites[0] == Site(
        facility="Stanford Medical Center", city="Stanford", state="California",
        country="United States",
    )


@needs_data
def test_csv_export_has_no_double_encoded_text_left() -> None:
    trials = read_ctgov_csv(data(CSV_NAME))
    texts = [t.title for t in trials] + [s.facility + (s.city or "") for t in trials
                                         for s in t.sites]
    assert not [x for x in texts if "Ã" in x or "Å" in x]
    assert any(s.city == "Münster" for t in trials for s in t.sites)


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("Hebei yanda Hospital, Beijingcun, Hebei, China",
         Site("Hebei yanda Hospital", "Beijingcun", "Hebei", "China")),
        ("Seattle Children's Hospital, Seattle, Washington, 98105, United States",
         Site("Seattle Children's Hospital", "Seattle", "Washington", "United States")),
        ("Aarhus University Hospital, Aarhus N, 8200, Denmark",
         Site("Aarhus University Hospital", "Aarhus N", None, "Denmark")),
        ("Derriford Hospital, Plymouth, United Kingdom",
         Site("Derriford Hospital", "Plymouth", None, "United Kingdom")),
        ("Klinikum Mannheim gGmbH, Kinderklinik, Abt. Onkologie, Mannheim, 68167, Germany",
         Site("Klinikum Mannheim gGmbH, Kinderklinik, Abt. Onkologie", "Mannheim", None,
              "Germany")),
        ("Klinikum Stuttgart, Zentrum (Onkologie, Hämatologie), Stuttgart, 70174, Germany",
         Site("Klinikum Stuttgart, Zentrum (Onkologie, Hämatologie)", "Stuttgart", None,
              "Germany")),
        ("Institute of Hematology, CAMS & PUMC, Tianjin, Tianjin Municipality, China",
         Site("Institute of Hematology, CAMS & PUMC", "Tianjin", "Tianjin Municipality",
              "China")),
        ("Nantes, France", Site("", "Nantes", None, "France")),
    ],
)
def test_csv_location_strings_split_into_site_parts(
    tmp_path: Path, location: str, expected: Site
) -> None:
    assert sites_from_locations(tmp_path, location) == (expected,)


def test_csv_repairs_utf8_that_was_decoded_as_windows_1252(tmp_path: Path) -> None:
    mangled = "Hôpital Clínic, Münster, Germany".encode().decode("cp1252")
    assert "Ã" in mangled
    (site,) = sites_from_locations(tmp_path, mangled)
    assert (site.facility, site.city) == ("Hôpital Clínic", "Münster")


def test_csv_missing_required_column_is_named(tmp_path: Path) -> None:
    file = tmp_path / "export.csv"
    file.write_text('"NCT Number","Study Title"\n"NCT00000001","A study"\n', encoding="utf-8")
    with pytest.raises(TrialDataError) as info:
        read_ctgov_csv(file)
    (problem,) = info.value.problems
    assert problem.path == "columns"
    assert "Study Status" in problem.message
    assert problem.expected is not None and "Study Status" in problem.expected
    assert problem.got == "'NCT Number', 'Study Title'"
    assert problem.source == str(file)


def test_csv_bad_nct_numbers_are_all_reported_and_nothing_returned(tmp_path: Path) -> None:
    file = tmp_path / "export.csv"
    rows = csv_row("") + csv_row("NCT00000001") + csv_row("NCT123", enrollment="many")
    file.write_text(CSV_HEADER + rows, encoding="utf-8")
    with pytest.raises(TrialDataError) as info:
        read_ctgov_csv(file)
    paths = [p.path for p in info.value.problems]
    assert paths == ["rows[0].NCT Number", "rows[2].NCT Number", "rows[2].Enrollment"]
    assert info.value.problems[1].got == "'NCT123'"
    assert info.value.problems[0].hint == "line 2 of the file"
    assert "rows[2].NCT Number" in str(info.value)


def test_csv_unreadable_dates_and_age_groups_are_problems(tmp_path: Path) -> None:
    file = tmp_path / "export.csv"
    file.write_text(CSV_HEADER + csv_row(start="29.08.2022", age="CHILD, TEEN"),
                    encoding="utf-8")
    with pytest.raises(TrialDataError) as info:
        read_ctgov_csv(file)
    assert [p.path for p in info.value.problems] == ["rows[0].Age", "rows[0].Start Date"]


# ---------------------------------------------------------------------------- classic XML


@needs_data
def test_xml_classic_record_gives_exact_ages_sites_and_criteria() -> None:
    trial = read_ctgov_xml(data(XML_NAME))
    assert trial.nct_id == "NCT01207388"
    assert trial.source == "xml"
    assert trial.has_exact_ages
    assert trial.min_age_years == 18.0
    assert trial.max_age_years is None
    assert trial.age_groups == {"ADULT", "OLDER_ADULT"}
    assert trial.sex == "ALL"
    assert len(trial.sites) == 75
    assert trial.sites[0] == Site("1102 - LKH Graz", "Graz", None, "Austria")
    assert trial.eligibility_text and trial.eligibility_text.startswith("Inclusion Criteria:")
    assert trial.status == "ACTIVE_NOT_RECRUITING"
    assert trial.phases == ("PHASE2",)
    assert trial.study_type == "INTERVENTIONAL"
    assert trial.sponsor == "Amgen Research (Munich) GmbH"
    assert trial.interventions == ("Blinatumomab",)
    assert "MRD" in trial.keywords
    assert trial.enrollment == 116
    assert trial.start_date == dt.date(2010, 11, 1)
    assert trial.completion_date == dt.date(2019, 1, 1)


def test_xml_legacy_spellings_become_api_v2_codes(tmp_path: Path) -> None:
    trial = read_ctgov_xml(write_xml(
        tmp_path, status="Not yet recruiting", phase="Phase 1/Phase 2",
        study_type="Expanded Access", gender="Female", min_age="6 Months", max_age="17 Years",
    ))
    assert trial.status == "NOT_YET_RECRUITING"
    assert trial.phases == ("PHASE1", "PHASE2")
    assert trial.study_type == "EXPANDED_ACCESS"
    assert trial.sex == "FEMALE"
    assert (trial.min_age_years, trial.max_age_years) == (0.5, 17.0)
    assert trial.age_groups == {"CHILD"}
    assert trial.start_date == dt.date(2010, 3, 15)
    assert trial.sites == (Site("Site A", "Lyon", None, "France", status="NOT_YET_RECRUITING"),)


@pytest.mark.parametrize(
    ("status", "phase", "expected_status", "expected_phases"),
    [
        ("Active, not recruiting", "N/A", "ACTIVE_NOT_RECRUITING", ()),
        ("Unknown status", "Early Phase 1", "UNKNOWN", ("EARLY_PHASE1",)),
        ("Completed", "Phase 3", "COMPLETED", ("PHASE3",)),
    ],
)
def test_xml_status_and_phase_spellings(
    tmp_path: Path, status: str, phase: str, expected_status: str,
    expected_phases: tuple[str, ...],
) -> None:
    trial = read_ctgov_xml(write_xml(tmp_path, status=status, phase=phase))
    assert (trial.status, trial.phases) == (expected_status, expected_phases)


def test_xml_with_another_root_element_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "other.xml"
    file.write_text("<?xml version='1.0'?><study><nct_id>NCT00000002</nct_id></study>")
    with pytest.raises(TrialDataError) as info:
        read_ctgov_xml(file)
    (problem,) = info.value.problems
    assert problem.expected == "root element <clinical_study>"
    assert problem.got == "<study>"


def test_xml_missing_required_elements_are_all_reported(tmp_path: Path) -> None:
    file = tmp_path / "bare.xml"
    file.write_text("<clinical_study><brief_title> </brief_title></clinical_study>")
    with pytest.raises(TrialDataError) as info:
        read_ctgov_xml(file)
    assert [p.path for p in info.value.problems] == [
        "id_info/nct_id", "brief_title", "overall_status",
    ]


def test_xml_bad_age_is_reported_at_its_element(tmp_path: Path) -> None:
    with pytest.raises(TrialDataError) as info:
        read_ctgov_xml(write_xml(tmp_path, min_age="eighteen"))
    (problem,) = info.value.problems
    assert (problem.path, problem.got) == ("eligibility/minimum_age", "'eighteen'")


def test_xml_entity_expansion_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "bomb.xml"
    file.write_text(
        '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;">]><clinical_study>&b;</clinical_study>'
    )
    with pytest.raises(TrialDataError):
        read_ctgov_xml(file)


def test_xml_that_is_not_well_formed_is_a_trial_data_error(tmp_path: Path) -> None:
    file = tmp_path / "broken.xml"
    file.write_text("<clinical_study><id_info>")
    with pytest.raises(TrialDataError, match="not a well-formed XML document"):
        read_ctgov_xml(file)


# --------------------------------------------------------------------------- API v2 JSON


@needs_data
def test_json_full_study_gives_every_site_with_coordinates_where_given() -> None:
    (trial,) = read_ctgov_json(data(FULL_JSON_NAME))
    assert trial.nct_id == "NCT02513394"
    assert trial.source == "json"
    assert len(trial.sites) == 437
    assert sum(s.lat is not None and s.lon is not None for s in trial.sites) == 435
    assert trial.sites[0] == Site(
        "University of South Alabama Mitchell Cancer Institute", "Mobile", "Alabama",
        "United States", lat=30.69436, lon=-88.04305,
    )
    assert trial.has_exact_ages
    assert trial.min_age_years == 18.0
    assert trial.max_age_years is None
    assert trial.age_groups == {"ADULT", "OLDER_ADULT"}
    assert trial.sex == "ALL"
    assert trial.phases == ("PHASE3",)
    assert trial.enrollment == 5796
    assert trial.start_date == dt.date(2015, 8, 1)
    assert trial.eligibility_text


@needs_data
@pytest.mark.parametrize("name", PAGE_NAMES)
def test_json_search_pages_give_five_studies_each(name: str) -> None:
    trials = read_ctgov_json(data(name))
    assert len(trials) == 5
    assert all(t.has_exact_ages and t.age_groups and t.source == "json" for t in trials)
    assert all(t.sex is None and t.eligibility_text is None for t in trials)


@needs_data
def test_json_search_page_ages_give_the_standard_groups() -> None:
    trials = read_ctgov_json(data(PAGE_NAMES[0])) + read_ctgov_json(data(PAGE_NAMES[1]))
    five_to_17 = by_id(trials, "NCT02710084")
    assert (five_to_17.min_age_years, five_to_17.max_age_years) == (5.0, 17.0)
    assert five_to_17.age_groups == {"CHILD"}
    assert five_to_17.phases == ("PHASE2",)
    assert by_id(trials, "NCT07014020").age_groups == {"CHILD", "ADULT"}  # 3 to 18 years
    no_minimum = by_id(trials, "NCT03836300")  # only maximumAge 99 Years
    assert no_minimum.min_age_years is None
    assert no_minimum.age_groups == {"CHILD", "ADULT", "OLDER_ADULT"}
    assert no_minimum.phases == ()  # "NA"
    three_months = by_id(trials, "NCT07119606")
    assert three_months.min_age_years == 0.25


def test_json_without_eligibility_module_has_no_ages(tmp_path: Path) -> None:
    file = tmp_path / "page.json"
    file.write_text(json.dumps({"studies": [json_study()]}))
    (trial,) = read_ctgov_json(file)
    assert not trial.has_exact_ages
    assert trial.age_groups == frozenset()
    assert trial.min_age_years is None and trial.max_age_years is None


def test_json_missing_nct_id_is_reported_with_the_study_path(tmp_path: Path) -> None:
    file = tmp_path / "page.json"
    file.write_text(json.dumps({"studies": [json_study(), json_study(None), json_study("X1")]}))
    with pytest.raises(TrialDataError) as info:
        read_ctgov_json(file)
    assert [p.path for p in info.value.problems] == [
        "studies[1].protocolSection.identificationModule.nctId",
        "studies[2].protocolSection.identificationModule.nctId",
    ]


def test_json_ill_typed_fields_are_reported(tmp_path: Path) -> None:
    file = tmp_path / "study.json"
    study = json_study(
        conditionsModule={"conditions": "ALL"},
        contactsLocationsModule={"locations": [{"facility": "A", "geoPoint": {"lat": "north"}}]},
    )
    file.write_text(json.dumps(study))
    with pytest.raises(TrialDataError) as info:
        read_ctgov_json(file)
    assert [p.path for p in info.value.problems] == [
        "protocolSection.conditionsModule.conditions",
        "protocolSection.contactsLocationsModule.locations[0].geoPoint.lat",
    ]


def test_json_that_is_not_a_study_or_page_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "other.json"
    file.write_text(json.dumps({"totalCount": 3}))
    with pytest.raises(TrialDataError, match=r"not a ClinicalTrials\.gov API v2 document"):
        read_ctgov_json(file)


# ------------------------------------------------------------------------------- dispatch


@needs_data
def test_read_trials_reads_a_folder_of_all_three_formats() -> None:
    assert _CTGOV is not None
    trials = read_trials(_CTGOV)
    assert len(trials) == 1294 + 1 + 1 + 5 + 5
    assert {t.source for t in trials} == {"csv", "xml", "json"}
    assert read_trials(data(XML_NAME)) == (read_ctgov_xml(data(XML_NAME)),)


@needs_data
def test_read_trials_keeps_the_first_of_duplicated_studies(tmp_path: Path) -> None:
    shutil.copy(data(XML_NAME), tmp_path / "a.xml")
    shutil.copy(data(XML_NAME), tmp_path / "b.XML")
    (tmp_path / "notes.txt").write_text("not a trial file")
    (trial,) = read_trials(tmp_path)
    assert trial.nct_id == "NCT01207388"


def test_read_trials_rejects_an_unknown_suffix(tmp_path: Path) -> None:
    file = tmp_path / "trials.tsv"
    file.write_text("NCT Number\tStudy Title\n")
    with pytest.raises(TrialDataError) as info:
        read_trials(file)
    (problem,) = info.value.problems
    assert problem.expected == ".csv, .xml or .json"
    assert problem.got == "'trials.tsv'"
    assert problem.source == str(file)


def test_read_trials_reports_problems_from_every_file_of_a_folder(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{")
    (tmp_path / "b.xml").write_text("<study/>")
    with pytest.raises(TrialDataError) as info:
        read_trials(tmp_path)
    assert [p.source for p in info.value.problems] == [
        str(tmp_path / "a.json"), str(tmp_path / "b.xml"),
    ]


def test_read_trials_on_a_missing_path_is_a_trial_data_error(tmp_path: Path) -> None:
    with pytest.raises(TrialDataError, match="no such file or folder"):
        read_trials(tmp_path / "absent.csv")


# ------------------------------------------------------------------------------ ages


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("18 Years", 18.0),
        ("1 Year", 1.0),
        ("6 Months", 0.5),
        ("2 Weeks", 14 / 365.25),
        ("30 Days", 30 / 365.25),
        ("  65 years ", 65.0),
        ("N/A", None),
        ("", None),
    ],
)
def test_parse_age_years_converts_units_to_years(text: str, years: float | None) -> None:
    assert parse_age_years(text) == pytest.approx(years)


@pytest.mark.parametrize("text", ["eighteen", "18", "Years", "-1 Years", "18 Decades"])
def test_parse_age_years_rejects_text_that_is_not_an_age(text: str) -> None:
    with pytest.raises(ValueError, match="not an age"):
        parse_age_years(text)


@given(
    st.integers(min_value=0, max_value=120),
    st.sampled_from(["Year", "Month", "Week", "Day"]),
    st.booleans(),
    st.booleans(),
)
def test_parse_age_years_is_unit_times_count_whatever_the_spelling(
    count: int, unit: str, plural: bool, upper: bool
) -> None:
    text = f"{count} {unit}{'s' if plural else ''}"
    per_unit = parse_age_years(f"1 {unit}")
    assert per_unit is not None
    assert parse_age_years(text.upper() if upper else text) == pytest.approx(count * per_unit)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Münster", "Münster"),  # correct Latin text does not round-trip: left alone
        ("Köln – 東京", "Köln – 東京"),  # a character beyond Latin-1: not mojibake
        ("MÃ¼nster", "Münster"),  # the whole text re-encodes at once
        # "Á" is UTF-8 C3 81; 0x81 is undefined in cp1252, so the byte passed through
        # as U+0081 and the character-by-character path repairs it
        ("Ã\x81vila", "Ávila"),
    ],
)
def test_mojibake_repair_whole_text_and_byte_by_byte_agree(text: str, expected: str) -> None:
    from allpath.trials.load import _repair_mojibake

    assert _repair_mojibake(text) == expected


def test_split_keeps_bracketed_commas_and_plain_split_otherwise() -> None:
    from allpath.trials.load import _split_outside_brackets

    assert _split_outside_brackets("A (B, C), City, , Country") == ["A (B, C)", "City",
                                                                    "Country"]
    assert _split_outside_brackets("A, City,  , Country") == ["A", "City", "Country"]
