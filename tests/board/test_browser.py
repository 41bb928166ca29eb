"""The board in a real headless Chromium (selenium + Debian's chromedriver), one browser
for the module: log in, the board in deadline order with live countdowns equal to the
SLA clock's, a ticket's page and its forms, a PBX's <script> shown as text."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from agent.board.views import local
from agent.tickets import sla
from agent.tickets.register import Register
from tests.board.conftest import (
    BANK_HOLIDAY,
    CONTRACT,
    FRIDAY_1725,
    PASSWORDS,
    XSS,
    Server,
    classification,
    start_server,
)

WAIT_S = 10


def settle(browser: WebDriver) -> WebDriverWait[WebDriver]:
    """A wait that reads again when the page was replaced under it (a form's redirect
    reloads the page while the condition reads an element of the old one)."""
    return WebDriverWait(browser, WAIT_S, ignored_exceptions=(StaleElementReferenceException,))


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--disable-gpu", "--window-size=1400,1000",
                     "--disable-dev-shm-usage"):
        options.add_argument(argument)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(WAIT_S * 3)
    try:
        yield driver
    finally:
        driver.quit()


def login(browser: WebDriver, server: Server, name: str) -> None:
    browser.delete_all_cookies()
    browser.get(server.url + "/")
    assert browser.current_url.endswith("/login")  # nothing without logging in
    browser.find_element(By.NAME, "name").send_keys(name)
    browser.find_element(By.NAME, "password").send_keys(PASSWORDS[name])
    browser.find_element(By.CSS_SELECTOR, "#login button").click()
    settle(browser).until(lambda d: d.find_elements(By.ID, "board"))


def rows(browser: WebDriver) -> dict[str, tuple[str, str, str]]:
    """ref → (data-deadline, shown due time, countdown text), in the table's order."""
    found = {}
    for row in browser.find_elements(By.CSS_SELECTOR, "#rows tr[data-ref]"):
        countdown = row.find_element(By.CSS_SELECTOR, ".countdown")
        found[row.get_attribute("data-ref") or ""] = (
            countdown.get_attribute("data-deadline") or "",
            row.find_element(By.CSS_SELECTOR, ".due").text, countdown.text)
    return found


def seconds_of(countdown: str) -> int:
    match = re.fullmatch(r"(in|overdue) (?:(\d+)d )?(\d+)h (\d+)m", countdown)
    assert match, countdown
    sign, days, hours, minutes = match.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60
    return total if sign == "in" else -total


def next_deadline(priority: str, opened: datetime) -> datetime:
    """The SLA clock's answer, independently of the register and the board."""
    d = sla.deadlines(priority, opened, CONTRACT)
    return min([d.response, *([d.parts] if d.parts else []), *(t for _, t in d.escalations)])


def test_login_shows_the_board_sorted_by_deadline_with_live_countdowns(
        browser: WebDriver, server: Server) -> None:
    login(browser, server, "erin")
    settle(browser).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".countdown[data-live='1']"))
    shown = rows(browser)
    assert server.seeded.friday in shown and server.seeded.recent in shown
    dues = [datetime.fromisoformat(deadline) for deadline, _, _ in shown.values()]
    assert dues == sorted(dues)
    # the breached ones are highlighted, the P1 with three hours left is not
    breached = browser.find_element(By.CSS_SELECTOR, f"tr[data-ref='{server.seeded.friday}']")
    assert "breached" in (breached.get_attribute("class") or "")
    recent = browser.find_element(By.CSS_SELECTOR, f"tr[data-ref='{server.seeded.recent}']")
    assert "breached" not in (recent.get_attribute("class") or "")
    # the maintenance window from the inventory is on the page
    assert "Maintenance: acme-leeds" in browser.find_element(By.TAG_NAME, "main").text


@pytest.mark.parametrize(("which", "opened"), [("friday", FRIDAY_1725),
                                               ("holiday", BANK_HOLIDAY)])
def test_countdowns_equal_the_sla_clocks_deadlines(browser: WebDriver, server: Server,
                                                   which: str, opened: datetime) -> None:
    login(browser, server, "dora")
    ref = getattr(server.seeded, which)
    expected = next_deadline("P3", opened)
    if which == "holiday":  # Monday 31 August is no working day: the clock starts Tuesday
        assert expected.date() == opened.date() + timedelta(days=1)
    settle(browser).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".countdown[data-live='1']"))
    deadline, due, countdown = rows(browser)[ref]
    assert datetime.fromisoformat(deadline) == expected
    assert due == local(expected)
    browser_now = datetime.fromisoformat(browser.execute_script(
        "return new Date().toISOString()").replace("Z", "+00:00"))
    # the live text is the time left to that deadline, to the minute the script shows
    assert abs(seconds_of(countdown) - (expected - browser_now).total_seconds()) <= 120


def test_open_a_ticket_add_a_note_and_book_a_visit(browser: WebDriver,
                                                   server: Server) -> None:
    ref = server.seeded.friday
    login(browser, server, "erin")
    browser.find_element(By.LINK_TEXT, ref).click()
    settle(browser).until(lambda d: d.find_elements(By.ID, "note-form"))
    assert ref in browser.title
    occurrences = browser.find_element(By.ID, "occurrences").text
    assert "health-check" in occurrences and "run-acme-bolton" in occurrences

    browser.find_element(By.CSS_SELECTOR, "#note-form textarea").send_keys(
        "Customer says the card LED is red")
    browser.find_element(By.CSS_SELECTOR, "#note-form button").click()
    settle(browser).until(
        lambda d: "Customer says the card LED is red" in d.find_element(By.ID, "audit").text)
    assert "erin note Customer says the card LED is red" in \
        browser.find_element(By.ID, "audit").text.replace("\n", " ")

    visit = browser.find_element(By.CSS_SELECTOR, "#visit-form input[name=date]")
    browser.execute_script("arguments[0].value = '2026-12-31'", visit)
    browser.find_element(By.CSS_SELECTOR, "#visit-form input[name=engineer]").send_keys("Eve")
    browser.find_element(By.CSS_SELECTOR, "#visit-form input[name=parts]").send_keys(
        "KX-TDA0172, PSU")
    browser.find_element(By.CSS_SELECTOR, "#visit-form button").click()
    settle(browser).until(lambda d: d.find_elements(By.ID, "visit"))
    assert browser.find_element(By.ID, "state").text == "visit_booked"
    assert "2026-12-31 — Eve (parts: KX-TDA0172, PSU)" in browser.find_element(By.ID,
                                                                               "visit").text
    with Register(server.db) as reg:
        ticket = reg.get(ref)
        assert (ticket.state, ticket.visit_engineer) == ("visit_booked", "Eve")
        assert ticket.visit_parts == ("KX-TDA0172", "PSU")
        assert ("erin", "state_changed") in [(a.who, a.action) for a in reg.audit(ref)]


def test_a_script_in_the_evidence_is_shown_as_text_and_runs_nothing(
        browser: WebDriver, server: Server) -> None:
    login(browser, server, "dora")
    browser.get(f"{server.url}/tickets/{server.seeded.xss}")
    settle(browser).until(lambda d: d.find_elements(By.ID, "evidence"))
    evidence = browser.find_element(By.ID, "evidence")
    assert f"error log: {XSS}" in evidence.text
    assert "<b>bold</b> & co" in evidence.text
    assert not evidence.find_elements(By.TAG_NAME, "script")
    assert not evidence.find_elements(By.TAG_NAME, "b")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018


def test_a_desk_user_has_no_resolve_and_a_forged_post_is_refused(
        browser: WebDriver, server: Server) -> None:
    ref = server.seeded.holiday
    login(browser, server, "dora")
    browser.get(f"{server.url}/tickets/{ref}")
    settle(browser).until(lambda d: d.find_elements(By.ID, "note-form"))
    assert not browser.find_elements(By.ID, "resolve-form")
    assert not browser.find_elements(By.ID, "status-form")
    # a resolve form posted by hand, with the session's own CSRF token, is still refused
    browser.execute_script("""
        var f = document.createElement('form'); f.method = 'post';
        f.action = '/tickets/' + arguments[0] + '/resolve';
        for (var [k, v] of [['how', 'remote'], ['csrf', arguments[1]]]) {
          var i = document.createElement('input'); i.name = k; i.value = v; f.appendChild(i); }
        document.body.appendChild(f); f.submit();""", ref,
        browser.find_element(By.CSS_SELECTOR, "#note-form input[name=csrf]")
        .get_attribute("value"))
    settle(browser).until(lambda d: d.find_elements(By.ID, "message"))
    assert "may not do that" in browser.find_element(By.ID, "message").text
    with Register(server.db) as reg:
        assert reg.get(ref).state == "logged"


def test_the_table_refreshes_itself_without_reloading_the_page(
        browser: WebDriver, server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A fault filed while the page is open (a fleet run from cron) appears in the table;
    the page itself is not reloaded (a marker set in it survives)."""
    url, process = start_server(tmp_path_factory.mktemp("refresh"), server.db, server.users,
                                "--refresh", "1")
    try:
        browser.delete_all_cookies()
        browser.get(url + "/login")
        browser.find_element(By.NAME, "name").send_keys("dora")
        browser.find_element(By.NAME, "password").send_keys(PASSWORDS["dora"])
        browser.find_element(By.CSS_SELECTOR, "#login button").click()
        settle(browser).until(lambda d: d.find_elements(By.ID, "board"))
        browser.execute_script("window.__still_this_page = true;")
        with Register(server.db) as reg:
            ref = reg.record_fault(
                site_id="cron-site", customer="Filed by cron", contract=CONTRACT,
                run_id="run-cron", now=datetime.now(FRIDAY_1725.tzinfo),
                classification=classification("P2", "cron", evidence=("e",),
                                              summary="found by the nightly fleet"),
            ).ticket.ref
        settle(browser).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, f"#rows tr[data-ref='{ref}']"))
        assert browser.execute_script("return window.__still_this_page === true;")
        with Register(server.db) as reg:
            reg.resolve(ref, "remote", who="test", now=datetime.now(FRIDAY_1725.tzinfo))
    finally:
        process.terminate()
        process.wait(timeout=10)
