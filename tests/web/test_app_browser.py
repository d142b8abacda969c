"""The clinician application and the family views in a real browser (headless Chromium driven
by Selenium), with an accessibility check (axe-core, vendored under tests/web/vendor) on every
page and a screenshot of each page saved under ``$ALLPATH_ARTIFACTS`` (default
``tests/artifacts``, git-ignored).

Skips when Chromium or its driver is not installed (CI installs Debian's chromium and
chromium-driver; under CI a skip fails the run, see tests/conftest.py). The server runs on
127.0.0.1 only, on a fresh SQLite database with one account.
"""

from __future__ import annotations

import base64
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_helpers import ARTIFACTS, _axe, _screenshot

from support import load_yaml

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="Chromium and chromedriver are not installed")

HERE = Path(__file__).parent
PASSWORD = "correct horse battery staple"
PHONE = (390, 844)  # CSS pixels of a common phone
DESKTOP = (1280, 1600)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    from allpath.api import create_app
    from allpath.db import Database
    from allpath.web.accounts import add_user

    db = Database(f"sqlite:///{tmp_path_factory.mktemp('webapp') / 'app.db'}")
    with db.transaction() as session:
        add_user(session, "alice", PASSWORD)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(database=db), host="127.0.0.1",
                                           port=port, log_level="warning"))
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
    db.dispose()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run",
                 f"--window-size={DESKTOP[0]},{DESKTOP[1]}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=options)
    driver.set_page_load_timeout(30)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    yield driver
    driver.quit()


def _wait(d: Any, condition: Any, timeout: float = 20) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    # polled every 50 ms (selenium's default is every 0.5 s): a test goes on as soon as
    # the page shows what it waits for
    return WebDriverWait(d, timeout, poll_frequency=0.05).until(condition)


def _wait_text(d: Any, css: str, text: str, timeout: float = 20) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    _wait(d, ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text), timeout)
    return str(d.find_element(By.CSS_SELECTOR, css).text)


def _script_errors(d: Any) -> list[str]:
    """Errors the pages logged since the last call: script errors and Content-Security-Policy
    refusals. Answers of 4xx that the pages asked for and show (a wrong password, a bad
    record) are expected and left out."""
    return [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"
            and "Failed to load resource" not in e["message"]]


def _sign_in(d: Any, base_url: str) -> None:
    from selenium.webdriver.common.by import By

    d.get(base_url + "/app/login")
    d.delete_all_cookies()  # signed out, whatever an earlier test left
    d.get(base_url + "/app")
    _wait(d, lambda drv: "/app/login" in drv.current_url)
    assert _axe(d, "01-sign-in") == []
    d.find_element(By.ID, "login-name").send_keys("alice")
    d.find_element(By.ID, "login-password").send_keys(PASSWORD)
    d.find_element(By.ID, "login-submit").click()
    _wait_text(d, "#who", "alice")


def _example(name: str) -> Path:
    from allpath.examples import example_paths

    return next(p for p in example_paths() if p.stem == name)


def test_clinician_signs_in_uploads_and_reads_the_dashboard(base_url: str, browser: Any,
                                                           downloads: Path,
                                                           tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d = browser
    d.set_window_size(*DESKTOP)
    # a wrong password is refused in words
    d.get(base_url + "/app/login")
    d.find_element(By.ID, "login-name").send_keys("alice")
    d.find_element(By.ID, "login-password").send_keys("not the password")
    d.find_element(By.ID, "login-submit").click()
    assert "wrong" in _wait_text(d, "#login-error", "wrong")
    _sign_in(d, base_url)
    assert "0 shown of 0 patients" in _wait_text(d, "#count", "patients")
    assert _axe(d, "02-patients-empty") == []

    # a bad record: every problem beside its field, nothing stored
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: allpath.record/1\nid: bad-1\nsex: femal\nobservations:\n"
                   "  - {code: wcb, value: 12, unit: 10*9/L, time: 2024-01-01}\n",
                   encoding="utf-8")
    d.find_element(By.ID, "upload-file").send_keys(str(bad))
    d.find_element(By.ID, "upload").click()
    text = _wait_text(d, "#upload-result", "sex")
    assert "observations[0]" in text and "femal" in text
    assert _axe(d, "03-upload-errors") == []

    # a good record is added and listed
    d.find_element(By.ID, "upload-file").send_keys(str(_example("example-001")))
    d.find_element(By.ID, "upload").click()
    _wait_text(d, "#upload-result", "Open example-001")
    _wait_text(d, "#patients", "example-001")
    d.find_element(By.ID, "search").send_keys("T-ALL")
    _wait_text(d, "#count", "0 shown of 1")
    d.find_element(By.ID, "search").clear()
    d.find_element(By.ID, "search").send_keys("ETV6")
    _wait_text(d, "#count", "1 shown of 1")
    d.find_element(By.ID, "search").clear()
    assert _axe(d, "04-patients") == []

    # the structured form: problems beside their fields, then a patient added
    def fill(field: str, value: str) -> None:
        box = d.find_element(By.ID, "rf-" + field)
        d.execute_script("arguments[0].value = arguments[1]", box, value)

    for name, value in (("id", "form-1"), ("birth_date", "2019-03-02"),
                        ("diagnosis_date", "2024-04-02"), ("cbc_date", "2024-04-01"),
                        ("wbc", "8.2"), ("hemoglobin", "71"), ("platelets", "40"),
                        ("marrow_date", "2024-04-02"), ("marrow_blasts", "90"),
                        ("flow_date", "2024-04-02"), ("genetics_date", "2024-04-05"),
                        ("fusions", "none")):
        fill(name, value)
    Select(d.find_element(By.ID, "rf-sex")).select_by_value("male")
    Select(d.find_element(By.ID, "rf-hemoglobin-unit")).select_by_value("g/dL")
    for marker, answer in (("CD19", "positive"), ("CD10", "positive"),
                           ("cCD79a", "positive"), ("MPO", "negative"), ("cCD3", "negative")):
        Select(d.find_element(By.ID, "rf-m-" + marker)).select_by_value(answer)
    d.find_element(By.ID, "record-add").click()  # hemoglobin 71 g/dL; WBC without a unit
    assert "plausible" in _wait_text(d, "#rf-err-hemoglobin", "plausible")
    assert "unit" in d.find_element(By.ID, "rf-err-wbc").text
    assert _axe(d, "04a-record-form-errors") == []
    fill("hemoglobin", "7.1")
    Select(d.find_element(By.ID, "rf-wbc-unit")).select_by_value("10*9/L")
    assert "unit" in d.find_element(By.ID, "rf-err-platelets").text
    Select(d.find_element(By.ID, "rf-platelets-unit")).select_by_value("/uL")
    fill("platelets", "40000")
    d.find_element(By.ID, "record-add").click()
    _wait_text(d, "#record-result", "Open form-1")
    d.find_element(By.LINK_TEXT, "Open form-1").click()
    assert "B-lineage" in _wait_text(d, "#summary-body", "B-lineage")
    d.get(base_url + "/app")
    _wait_text(d, "#patients", "example-001")

    # the dashboard: risk with its rule, where the patient is, the timeline
    d.find_element(By.LINK_TEXT, "example-001").click()
    risk = _wait_text(d, "#summary-body", "nci_rome")
    assert "standard" in risk and "ETV6::RUNX1" in risk and "CNS1" in risk
    assert "day 28" in _wait_text(d, "#now-body", "Induction")
    _wait(d, lambda drv: len(drv.find_elements(By.CSS_SELECTOR, "#charts canvas")) >= 3)
    titles = [f.get_attribute("data-panel") for f in
              d.find_elements(By.CSS_SELECTOR, "#charts figure.chart")]
    assert titles[:2] == ["Blood counts", "Haemoglobin"] and "Minimal residual disease" in titles
    assert "induction" in d.find_element(By.ID, "charts").text
    assert "No alerts" in d.find_element(By.ID, "alerts-body").text
    assert _axe(d, "05-dashboard") == []
    d.find_element(By.CSS_SELECTOR, "button[aria-label='Explain rule nci_rome.standard']").click()
    assert "[S4]" in _wait_text(d, "#explain-body", "[S4]")
    assert _axe(d, "06-rule-explained") == []
    d.find_element(By.ID, "explain-close").click()

    # a CBC with units: the plot's numbers and the alerts follow
    d.execute_script("arguments[0].value = '2024-06-05'",  # the date field's own format
                     d.find_element(By.ID, "cbc-date"))  # varies with the browser's locale
    d.find_element(By.ID, "cbc-platelets").send_keys("5")
    d.find_element(By.ID, "cbc-anc").send_keys("400")  # a unit is missing
    Select(d.find_element(By.ID, "cbc-platelets-unit")).select_by_value("10*9/L")
    d.find_element(By.ID, "cbc-add").click()
    assert "a unit is needed" in _wait_text(d, "[id='err-counts.anc']", "unit")
    assert _axe(d, "07-cbc-field-error") == []
    Select(d.find_element(By.ID, "cbc-anc-unit")).select_by_value("/uL")
    d.find_element(By.ID, "cbc-add").click()
    _wait_text(d, "#cbc-errors", "Added 2 results")
    assert "platelet" in _wait_text(d, "#alerts-body", "HIGH").lower()
    table = d.execute_script(
        "return [...document.querySelectorAll('#charts figure.chart')]"
        ".find((f) => f.dataset.panel === 'Blood counts').querySelector('details table')"
        ".textContent")
    assert "2024-06-05" in table and "0.4" in table  # 400 /uL drawn as 0.4 x10^9/L

    # the roadmap with doses and its calendar file
    assert "vincristine" in d.find_element(By.ID, "roadmap-body").get_attribute("textContent")
    d.find_element(By.ID, "ics").click()
    ics = downloads / "example-001-roadmap.ics"
    _wait(d, lambda _: ics.exists() and ics.stat().st_size > 0)
    assert ics.read_text(encoding="utf-8").startswith("BEGIN:VCALENDAR")

    # the print stylesheet: forms and buttons hidden, a one-page A4 summary
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not d.find_element(By.ID, "cbc").is_displayed()
        assert d.find_element(By.ID, "summary").is_displayed()
        d.set_window_size(794, 1123)  # an A4 sheet at 96 px per inch
        _screenshot(d, "08-dashboard-print")
        d.set_window_size(*DESKTOP)
    finally:
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    pdf = base64.b64decode(d.execute_cdp_cmd("Page.printToPDF", {
        "preferCSSPageSize": True, "printBackground": True})["data"])
    (ARTIFACTS / "08-dashboard-print.pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
    assert _script_errors(d) == []


def test_family_view_of_a_stored_patient_on_a_phone(base_url: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    d = browser
    d.set_window_size(*DESKTOP)
    _sign_in(d, base_url)
    _wait_text(d, "#count", "patients")
    if "example-001" not in d.find_element(By.ID, "patients").text:  # run on its own
        d.find_element(By.ID, "upload-file").send_keys(str(_example("example-001")))
        d.find_element(By.ID, "upload").click()
        _wait_text(d, "#patients", "example-001")
    d.find_element(By.LINK_TEXT, "example-001").click()
    _wait_text(d, "#summary-body", "nci_rome")
    d.find_element(By.ID, "share").click()
    link = _wait_text(d, "#share-result", "/family/p/")
    url = d.find_element(By.ID, "family-link").get_attribute("href")
    assert "valid until" in link
    # sign out: the family link works without an account
    d.find_element(By.ID, "logout").click()
    _wait(d, lambda drv: "/app/login" in drv.current_url)
    d.get(base_url + "/app")
    _wait(d, lambda drv: "/app/login" in drv.current_url)

    d.set_window_size(*PHONE)
    d.get(url)
    where = _wait_text(d, "#where", "Now: ")
    assert "Lumbar puncture" in d.find_element(By.ID, "glossary").text
    body = d.find_element(By.TAG_NAME, "main").text
    for key in ("nci_rome", "sr_favorable", "cog_pdq", "None", "undefined"):
        assert key not in body, key
    assert not re.findall(r"\b[a-z0-9]+_[a-z0-9_]+\b", body)  # no internal keys
    assert "fever" in d.find_element(By.ID, "when-to-call").text.lower()
    assert d.find_element(By.ID, "questions").text
    assert "out of 100" in d.find_element(By.ID, "outlook").text
    assert "Where these numbers come from" in d.find_element(By.ID, "outlook").text
    assert "does not replace" in d.find_element(By.ID, "disclaimer").text
    assert where and d.find_element(By.ID, "upcoming").text
    # one column: nothing wider than the phone's screen
    assert d.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    target = d.find_element(By.CSS_SELECTOR, "#when-to-call + p a.button")
    assert target.size["height"] >= 44
    assert _axe(d, "09-family-view-phone") == []
    assert _script_errors(d) == []


def test_family_page_symptom_check_reaches_an_emergency_on_a_phone(base_url: str,
                                                                   browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    d = browser
    d.set_window_size(*PHONE)
    d.get(base_url + "/family")
    _wait_text(d, "#symptoms", "noisy, high-pitched breathing")
    assert _axe(d, "10-family-page-phone") == []
    # keyboard only: tab to the first answer, space to choose it
    yes = d.find_element(By.CSS_SELECTOR, "input[name='on_treatment'][value='yes']")
    yes.send_keys(Keys.SPACE)
    assert yes.is_selected()
    for symptom in ("facial_swelling", "stridor"):
        box = d.find_element(By.CSS_SELECTOR, f"input[value='{symptom}']")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        box.send_keys(Keys.SPACE)
    d.find_element(By.ID, "check").send_keys(Keys.ENTER)
    text = _wait_text(d, "#triage", "emergency")
    assert "leukemia" not in text.lower()
    badge = d.find_element(By.CSS_SELECTOR, "#triage .badge")
    assert badge.text.strip()  # the urgency in words, not by colour alone
    shown = d.find_element(By.TAG_NAME, "main").text
    assert not re.findall(r"\b[a-z0-9]+_[a-z0-9_]+\b", shown)  # no internal keys
    items = [li.text for li in d.find_elements(By.CSS_SELECTOR, "#triage li")]
    assert items and not [t for t in items if t.startswith("- ")]  # one bullet per item
    assert d.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    assert _axe(d, "11-family-emergency-phone") == []
    # age in years and months; months outside 0-11 are asked again in words
    months = d.find_element(By.ID, "age-months")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", months)
    months.send_keys("14")
    d.find_element(By.ID, "check").send_keys(Keys.ENTER)
    assert "0 to 11" in _wait_text(d, "#errors", "0 to 11")
    # a code that does not work says so in words
    code = d.find_element(By.ID, "family-code")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", code)
    code.send_keys("not-a-code")
    d.find_element(By.ID, "code-open").click()
    assert "does not work" in _wait_text(d, "#code-error", "does not work")
    assert _script_errors(d) == []


def test_population_screening_shows_progress_and_downloads_the_flagged_rows(
        base_url: str, browser: Any, downloads: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    import allpath.examples

    d = browser
    d.set_window_size(*DESKTOP)
    _sign_in(d, base_url)
    d.find_element(By.LINK_TEXT, "Screening").click()
    _wait(d, lambda drv: drv.find_elements(By.ID, "unit-wbc"))
    assert _axe(d, "12-screening") == []
    table = Path(allpath.examples.__file__).parent / "cbc.csv"
    d.find_element(By.ID, "screen-file").send_keys(str(table))
    Select(d.find_element(By.ID, "unit-wbc")).select_by_value("10*9/L")
    d.find_element(By.ID, "screen-submit").click()
    _wait_text(d, "#screen-status", "finished", timeout=60)
    assert d.find_element(By.ID, "screen-progress").get_attribute("value") == "3"
    summary = d.find_element(By.ID, "screen-summary").text
    assert "6 3 1" in summary  # rows, flagged, unreadable rows
    assert _axe(d, "13-screening-done") == []
    d.find_element(By.ID, "screen-flagged").click()
    _wait(d, lambda _: any(p.stat().st_size > 0 for p in downloads.glob("screen-*-flagged.csv")))
    got = list(downloads.glob("screen-*-flagged.csv"))
    rows = got[0].read_text(encoding="utf-8").strip().splitlines()
    assert rows[0].startswith('"row","patient_id"') and len(rows) == 4
    assert _script_errors(d) == []


def test_openapi_docs_page_renders_from_local_assets(base_url: str, browser: Any) -> None:
    """/docs draws Swagger UI from the package's own files: every script and stylesheet the
    page loaded came from this service (no CDN), and the operations are listed."""
    d = browser
    d.set_window_size(*DESKTOP)
    d.get(base_url + "/docs")
    assert "ALLPath API" in _wait_text(d, ".swagger-ui .info .title", "ALLPath API")
    _wait_text(d, ".swagger-ui", "/v1/patients")
    loaded = d.execute_script("return performance.getEntriesByType('resource')"
                              ".map((e) => e.name)")
    assert loaded and all(u.startswith(base_url) for u in loaded), loaded
    _screenshot(d, "14-api-docs")
    assert _script_errors(d) == []


def test_maintenance_titration_table_on_the_dashboard(base_url: str, browser: Any,
                                                      tmp_path: Path) -> None:
    """A record with maintenance counts and doses: the library's titration, visit by visit,
    in the dashboard's table (a hold below the ANC limit), with its rule one click away."""
    import yaml
    from selenium.webdriver.common.by import By

    record = load_yaml(_example("example-001").read_text(encoding="utf-8"))
    record["id"] = "maintenance-1"
    record["treatment"].append({"phase": "maintenance", "start": "2025-01-01"})
    for day, anc, mp in (("2025-01-01", 1.2, 75), ("2025-01-29", 0.6, 75),
                         ("2025-02-26", 0.4, 50)):
        record["observations"] += [
            {"code": "anc", "value": anc, "unit": "10*9/L", "time": day},
            {"code": "platelets", "value": 150, "unit": "10*9/L", "time": day},
            {"code": "mercaptopurine_dose", "value": mp, "unit": "mg/m2/d", "time": day}]
    path = tmp_path / "maintenance-1.yaml"
    path.write_text(yaml.safe_dump(record), encoding="utf-8")
    d = browser
    d.set_window_size(*DESKTOP)
    _sign_in(d, base_url)
    d.find_element(By.ID, "upload-file").send_keys(str(path))
    d.find_element(By.ID, "upload").click()
    _wait_text(d, "#upload-result", "Open maintenance-1")
    d.find_element(By.LINK_TEXT, "Open maintenance-1").click()
    text = _wait_text(d, "#titration-body", "2025-02-26")
    assert "hold" in text and "2025-01-29" in text
    row = d.find_element(By.XPATH, "//section[@id='titration']//tr[td[1]='2025-02-26']")
    assert "hold" in row.text and "0.4" in row.text
    row.find_element(By.CSS_SELECTOR, "button.link").click()
    _wait_text(d, "#explain-body", "Sources")
    assert _axe(d, "15-dashboard-titration") == []
    assert _script_errors(d) == []
