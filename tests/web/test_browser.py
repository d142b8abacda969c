"""The web page in a real browser (headless Chromium driven by Selenium).

Skips when Chromium or its driver is not installed (CI installs Debian's chromium and
chromium-driver). The server runs on 127.0.0.1 only.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from support import load_yaml

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="Chromium and chromedriver are not installed")


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    import uvicorn

    from allpath.web import create_web_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_web_app(), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("web server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1280,1600"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _wait_text(driver: object, css: str, text: str, timeout: float = 20) -> str:
    """Waits for ``text`` in ``css``, polled every 50 ms (selenium's default is 0.5 s)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout, poll_frequency=0.05).until(  # type: ignore[arg-type]
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    return str(driver.find_element(By.CSS_SELECTOR, css).text)  # type: ignore[attr-defined]


def test_clinician_assesses_an_example_patient(base_url: str, browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d: object = browser
    d.get(base_url + "/")  # type: ignore[attr-defined]
    _wait_text(d, "#example", "example-001")
    Select(d.find_element(By.ID, "example")).select_by_value("example-001")  # type: ignore[attr-defined]
    d.find_element(By.ID, "assess").click()  # type: ignore[attr-defined]
    risk = _wait_text(d, "#risk", "cog_pdq")
    assert "low" in risk and "nci_rome" in risk
    assert "ETV6::RUNX1" in _wait_text(d, "#diagnosis", "ETV6::RUNX1")
    assert "does not replace" in d.find_element(By.ID, "results").text  # type: ignore[attr-defined]
    # A rule opens with its sources.
    d.find_element(By.XPATH, "//button[text()='nci_rome.standard']").click()  # type: ignore[attr-defined]
    assert "[S4]" in _wait_text(d, "#explain-body", "[S4]")


def test_clinician_sees_field_paths_for_a_bad_record(base_url: str, browser: object) -> None:
    from selenium.webdriver.common.by import By

    d: object = browser
    d.get(base_url + "/")  # type: ignore[attr-defined]
    box = d.find_element(By.ID, "record")  # type: ignore[attr-defined]
    box.clear()
    box.send_keys("format: allpath.record/1\nid: x\nobservations:\n"
                  "  - {code: hgb, value: 71, unit: g/dL, time: 2024-01-01}\n")
    d.find_element(By.ID, "assess").click()  # type: ignore[attr-defined]
    assert "observations[0].value" in _wait_text(d, "#errors", "observations[0].value")


def test_family_symptom_check_says_how_soon(base_url: str, browser: object) -> None:
    from selenium.webdriver.common.by import By

    d: object = browser
    d.get(base_url + "/family")  # type: ignore[attr-defined]
    _wait_text(d, "#symptoms", "noisy, high-pitched breathing")  # plain words, not "stridor"
    for symptom in ("facial_swelling", "stridor"):
        d.find_element(By.CSS_SELECTOR, f"input[value='{symptom}']").click()  # type: ignore[attr-defined]
    d.find_element(By.ID, "check").click()  # type: ignore[attr-defined]
    text = _wait_text(d, "#triage", "emergency")
    assert "leukemia" not in text.lower()  # family text never names a diagnosis
    assert _wait_text(d, "#guide", "ALL")


def test_clinician_finds_trials_for_an_example_patient(base_url: str, browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    d: object = browser
    d.get(base_url + "/")  # type: ignore[attr-defined]
    _wait_text(d, "#example", "example-001")
    Select(d.find_element(By.ID, "example")).select_by_value("example-001")  # type: ignore[attr-defined]
    d.find_element(By.ID, "assess").click()  # type: ignore[attr-defined]
    _wait_text(d, "#trials", "Clinical trials")
    d.find_element(By.ID, "trials-find").click()  # type: ignore[attr-defined]
    text = _wait_text(d, "#trials-results", "could fit")
    assert "Could fit" in text and "Taking new participants" in text
    links = d.find_elements(By.CSS_SELECTOR, "#trials-results a.nct")  # type: ignore[attr-defined]
    assert links and all(a.text.startswith("NCT") for a in links)
    assert links[0].get_attribute("href") == "https://clinicaltrials.gov/study/" + links[0].text
    assert "Only a trial's own team can say" in text  # the document's disclaimer
    # a country filter narrows the list to studies with a site there
    before = d.find_element(By.CSS_SELECTOR, ".trial-counts").text  # type: ignore[attr-defined]
    d.find_element(By.ID, "trials-country").send_keys("France")  # type: ignore[attr-defined]
    d.find_element(By.ID, "trials-find").click()  # type: ignore[attr-defined]
    WebDriverWait(d, 20, poll_frequency=0.05).until(  # type: ignore[type-var]
        lambda drv: drv.find_elements(By.CSS_SELECTOR, ".trial-counts")  # type: ignore[attr-defined]
        and drv.find_element(By.CSS_SELECTOR, ".trial-counts").text != before)  # type: ignore[attr-defined]
    after = d.find_element(By.CSS_SELECTOR, ".trial-counts").text  # type: ignore[attr-defined]
    assert int(after.split()[0]) < int(before.split()[0])


def test_family_finds_centres_and_studies(base_url: str, browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d: object = browser
    d.get(base_url + "/family")  # type: ignore[attr-defined]
    d.find_element(By.ID, "centre-country").send_keys("United States")  # type: ignore[attr-defined]
    d.find_element(By.ID, "centre-state").send_keys("California")  # type: ignore[attr-defined]
    d.find_element(By.ID, "centre-find").click()  # type: ignore[attr-defined]
    text = _wait_text(d, "#centres", "referral")
    assert "open stud" in text and "California, United States" in text
    assert "care team" in text
    # the made-up patient shows how many studies could fit, with links and the disclaimer
    _wait_text(d, "#study-example", "example-001")
    Select(d.find_element(By.ID, "study-example")).select_by_value("example-001")  # type: ignore[attr-defined]
    d.find_element(By.ID, "study-find").click()  # type: ignore[attr-defined]
    studies = _wait_text(d, "#study-results", "could fit")
    assert "Only a trial's own team can say" in studies
    assert d.find_elements(By.CSS_SELECTOR, "#study-results a[href^='https://']")  # type: ignore[attr-defined]


def _fill_family_form(d: Any, case: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    inp = case["input"]
    for question in ("on_treatment", "central_line"):
        if question in inp:
            answer = {True: "yes", False: "no"}.get(inp[question], "unknown")
            d.find_element(By.CSS_SELECTOR,
                           f"input[name='{question}'][value='{answer}']").click()
    age = d.find_element(By.ID, "age")
    age.clear()
    age.send_keys(str(inp["age_years"]))
    Select(d.find_element(By.ID, "sex")).select_by_visible_text(inp.get("sex", "unknown"))
    temp = inp.get("temperature")
    if temp:
        d.find_element(By.ID, "temp").send_keys(str(temp["value"]))
        unit = {"F": "[degF]", "C": "Cel"}.get(temp["unit"], temp["unit"])
        Select(d.find_element(By.ID, "temp-unit")).select_by_value(unit)
    for code in inp.get("symptoms", []):
        d.find_element(By.CSS_SELECTOR, f"input[name='symptom'][value='{code}']").click()
    ids = {"anc": "anc", "wbc": "wbc", "platelets": "plt", "hemoglobin": "hgb"}
    for code, q in (inp.get("cbc") or {}).items():
        d.find_element(By.ID, ids[code]).send_keys(str(q["value"]))
        Select(d.find_element(By.ID, ids[code] + "-unit")).select_by_value(q["unit"])


def test_family_situations_through_the_real_form(base_url: str, browser: object) -> None:
    """Issue 21's table of family situations typed into the family page in Chromium."""
    from pathlib import Path

    from selenium.webdriver.common.by import By

    from triage.test_family_situations import check  # the same expectations as the API

    cases = load_yaml((Path(__file__).parent.parent / "triage" /
                            "family_situations.yaml").read_text(encoding="utf-8"))["cases"]
    d: Any = browser
    for case in cases:
        d.get(base_url + "/family")
        _wait_text(d, "#symptoms", "trouble breathing")
        _fill_family_form(d, case)
        d.find_element(By.ID, "check").click()
        badge = _wait_text(d, "#triage .badge", "")
        headline = d.find_element(By.CSS_SELECTOR, "#triage p.headline").text
        text = d.find_element(By.ID, "triage").text
        result = {"urgency": badge.strip(),
                  "plain_language": {"headline": headline.removeprefix(badge).strip(),
                                     "all": text}}
        check(case, result)
        if "temperature_text" in case["expect"]:
            assert case["expect"]["temperature_text"] in text


def test_family_form_asks_back_for_a_count_without_its_unit(base_url: str,
                                                            browser: object) -> None:
    from selenium.webdriver.common.by import By

    d: Any = browser
    d.get(base_url + "/family")
    _wait_text(d, "#symptoms", "trouble breathing")
    d.find_element(By.CSS_SELECTOR, "input[name='on_treatment'][value='yes']").click()
    d.find_element(By.ID, "anc").send_keys("300")
    d.find_element(By.ID, "check").click()
    assert "300 /uL (= 0.3 x10^9/L)" in _wait_text(d, "#errors", "which unit")


def test_axe_finds_a_known_contrast_violation(browser: object) -> None:
    """The accessibility check is live: a page with grey-on-white text fails it."""
    from axe_helpers import _axe

    d: Any = browser
    d.get("data:text/html,<!doctype html><html lang=en><title>t</title>"
          "<p style='color:%23bbb;background:%23fff'>faint text</p></html>")
    assert "color-contrast" in {v["id"] for v in _axe(d, "00-axe-self-check")}


def test_paste_page_and_family_page_pass_axe(base_url: str, browser: object) -> None:
    """The stand-alone pages of ``allpath web``: no serious or critical WCAG 2.1 AA
    violation, before and after an assessment and a symptom check."""
    from axe_helpers import _axe
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d: Any = browser
    d.get(base_url + "/")
    _wait_text(d, "#example", "example-001")
    assert _axe(d, "20-paste-page") == []
    Select(d.find_element(By.ID, "example")).select_by_value("example-001")
    d.find_element(By.ID, "assess").click()
    _wait_text(d, "#risk", "cog_pdq")
    assert _axe(d, "21-paste-page-assessed") == []
    d.get(base_url + "/family")
    _wait_text(d, "#symptoms", "trouble breathing")
    assert _axe(d, "22-family-page") == []


def test_family_form_sends_the_start_day_and_transplant_answers(base_url: str,
                                                                browser: object) -> None:
    """The optional answers typed into the family page reach the triage: the answer shown is
    the library's for the same answers (the first-week window and the graft-versus-host rule
    come from the triage pack), "Not sure" reads as not answered, and a date the browser
    cannot read is asked again, naming the field. axe-core passes with the answers shown."""
    import datetime as dt

    from axe_helpers import _axe
    from selenium.webdriver.common.by import By

    from allpath.rules.loader import load_knowledge
    from allpath.triage import triage

    d: Any = browser
    rule = load_knowledge().rule("triage.urgency.emergency.low_urine_tumour_lysis_window")[2]
    days = [int(c.value) for c in rule.when.all
            if getattr(c, "fact", None) == "triage.days_since_treatment_start"]
    # the middle of the first week, so a check run near midnight still lands in it
    start = dt.date.today() - dt.timedelta(days=(min(days) + max(days)) // 2)

    def check(answers: dict[str, Any], symptoms: list[str]) -> tuple[str, str, str]:
        d.get(base_url + "/family")
        _wait_text(d, "#symptoms", "trouble breathing")
        for question, answer in answers.items():
            if question == "treatment_start":
                d.execute_script("arguments[0].value = arguments[1]",  # the field's own
                                 d.find_element(By.ID, "treatment-start"), answer)  # format
                continue                                                # varies by locale
            choice = {True: "yes", False: "no"}.get(answer, "unknown")
            d.find_element(By.CSS_SELECTOR,
                           f"input[name='{question}'][value='{choice}']").click()
        for code in symptoms:
            box = d.find_element(By.CSS_SELECTOR, f"input[name='symptom'][value='{code}']")
            d.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
            box.click()
        d.find_element(By.ID, "check").click()
        badge = _wait_text(d, "#triage .badge", "").strip()
        headline = d.find_element(By.CSS_SELECTOR, "#triage p.headline").text
        return badge, headline.removeprefix(badge).strip(), d.find_element(By.ID, "triage").text

    def library(answers: dict[str, Any], symptoms: list[str]) -> dict[str, Any]:
        doc = {"format": "allpath.triage/1", "age_years": 5, "sex": "female",
               "symptoms": symptoms, **answers}
        if "treatment_start" in answers:
            doc["date"] = dt.date.today().isoformat()
        return triage(doc).to_dict()

    first_week = {"on_treatment": True, "central_line": False,
                  "treatment_start": start.isoformat()}
    badge, headline, _ = check(first_week, ["low_urine"])
    want = library(first_week, ["low_urine"])
    assert want["reasons"][0]["rule_id"] == rule.id and badge == want["urgency"] == rule.then
    assert headline == want["plain_language"]["headline"]

    after_transplant = {"on_treatment": False, "central_line": False,
                        "recent_transplant": True}
    badge, headline, text = check(after_transplant, ["rash"])
    want = library(after_transplant, ["rash"])
    assert "triage.urgency.urgent.gvhd_signs_after_transplant" in \
        [r["rule_id"] for r in want["reasons"]]
    assert (badge, headline) == (want["urgency"], want["plain_language"]["headline"])
    assert "graft-versus-host" in text
    assert _axe(d, "23-family-page-transplant-answer") == []

    not_sure = {"on_treatment": True, "central_line": False, "recent_transplant": "unknown",
                "transplant": "unknown"}
    _, _, text = check(not_sure, ["rash"])
    unanswered = library({"on_treatment": True, "central_line": False}, ["rash"])
    assert library(not_sure, ["rash"]) == unanswered
    for step in unanswered["plain_language"]["what_to_do"]:  # each step, one per list item
        assert step in text, step
    assert "graft-versus-host" not in text

    # part of a date typed (the rest missing): asked again, naming the field, nothing sent
    d.get(base_url + "/family")
    _wait_text(d, "#symptoms", "trouble breathing")
    field = d.find_element(By.ID, "treatment-start")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", field)
    field.send_keys("02")
    d.find_element(By.ID, "check").click()
    assert "treatment_start" in _wait_text(d, "#errors", "treatment_start")
    assert field.get_attribute("aria-invalid") == "true"
    assert not d.find_element(By.ID, "triage").text
    assert _axe(d, "24-family-page-bad-start-day") == []
