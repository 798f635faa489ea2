"""The console in a real browser: Debian's headless Chromium, driven by Selenium, against the app
served on loopback by a real WSGI server. One browser for the module; each test its own stack.

Where Chromium or its driver is missing the tests are skipped with the reason, except in CI
(``CI`` set), where they fail: ``.ci/run`` installs both."""
from __future__ import annotations

import os
import re

import pytest

from dispatch import oncall
from dispatch.staff import accounts
from tests import console_browser
from tests.dispatch_support import advance, emergency_voicemail, paging_stack
from tests.lifecycle_support import LIFECYCLE_CONFIG
from tests.support import NY


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    reason = console_browser.missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the console's browser tests need Chromium in CI: {reason}")
        pytest.skip(reason)
    driver = console_browser.chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture
def served(tmp_path, redis_url, database_url):
    """A stack with service targets (so call-backs count down), on a Tuesday at 3 AM, served on loopback."""
    stack = paging_stack(tmp_path, redis_url, database_url, config=LIFECYCLE_CONFIG)
    stack.at(2026, 11, 24, 3, 0)
    try:
        with console_browser.LiveServer(stack.app) as server:
            yield stack, server.url
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()


def _wait(driver, condition, what: str, seconds: float = 10):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds).until(lambda d: condition(d), message=f"waited for {what}")


def test_sign_in_see_the_call_backs_play_a_recording_and_acknowledge_it(browser, served):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    stack, url = served
    emergency_voicemail(stack, transcript="The file server is down at the clinic.", seconds=12)
    advance(stack, minutes=1)
    stack.fake.add_recording(console_browser.recording_sid(stack, 1), 12)
    accounts.set_password(stack.runtime, "alice", console_browser.PASSWORD)

    browser.get(url + "/console/")
    assert browser.current_url.startswith(url + "/console/login")
    console_browser.sign_in(browser, url, "alice", "a wrong password!")
    assert "Sign-in refused" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    console_browser.sign_in(browser, url, "alice")
    assert browser.current_url == url + "/console/"
    ActionChains(browser).send_keys(Keys.TAB).perform()  # the first stop is the skip link, shown when focused
    focused = browser.switch_to.active_element
    assert focused.text == "Skip to content" and focused.rect["x"] >= 0
    waiting = browser.find_element(By.ID, "callbacks").find_element(By.XPATH, "..")
    countdown = r"CS-000001\s+P1\s+\(270\) 555-0199.*Tue 24 Nov 04:00\s+59m left"  # the P1's hour to respond
    assert re.search(countdown, waiting.text, re.S), waiting.text
    open_list = browser.find_element(By.ID, "open").find_element(By.XPATH, "..")
    assert "CS-000001" in open_list.text and "(270) 555-0199" in open_list.text

    console_browser.follow(browser, open_list.find_element(By.LINK_TEXT, "CS-000001"))
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("CS-000001")
    assert "The file server is down at the clinic." in browser.page_source
    audio = browser.find_element(By.TAG_NAME, "audio")
    _wait(browser, lambda d: d.execute_script("return arguments[0].readyState", audio) >= 1, "the audio's metadata")
    duration = browser.execute_script("return arguments[0].duration", audio)
    assert abs(duration - 12) < 1, duration
    browser.execute_script("arguments[0].play()", audio)
    _wait(browser, lambda d: d.execute_script("return arguments[0].currentTime", audio) > 0.3, "the audio to play")
    assert browser.execute_script("return arguments[0].error", audio) is None
    assert any(path.endswith(".mp3") for method, path in stack.fake.requests if method == "GET")

    console_browser.follow(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Acknowledge']"))
    assert "CS-000001 is yours: acknowledged." in browser.find_element(By.CSS_SELECTOR, "[role=status]").text
    assert browser.find_element(By.CSS_SELECTOR, "h1 .badge.acknowledged").text == "acknowledged"
    assert "Acknowledged by Alice Adams in the console." in browser.find_element(By.ID, "timeline").find_element(
        By.XPATH, "..").text
    assert stack.ticket("CS-000001")["status"] == "acknowledged"


def test_a_technician_adds_an_override_for_themselves(browser, served):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    stack, url = served
    accounts.set_password(stack.runtime, "alice", console_browser.PASSWORD)
    console_browser.sign_in(browser, url, "alice")
    console_browser.follow(browser, browser.find_element(By.LINK_TEXT, "Schedule"))
    who = Select(browser.find_element(By.ID, "override-staff"))
    assert [o.text for o in who.options] == ["Alice Adams"]  # a technician sets only their own
    # A datetime-local field's typing depends on the browser's locale; its value is set as the form sends it.
    for field, value in (("override-starts", "2026-11-25T18:00"), ("override-ends", "2026-11-26T08:00")):
        browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.ID, field), value)
    console_browser.follow(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Add the override']"))
    status = browser.find_element(By.CSS_SELECTOR, "[role=status]").text
    assert status == "Alice Adams is primary on call from Wed 25 Nov 18:00 to Thu 26 Nov 08:00."
    rotation = browser.find_element(By.ID, "rotation").find_element(By.XPATH, "..").text
    assert re.search(r"Wed 25 Nov 18:00\s+Thu 26 Nov 08:00\s+Alice Adams override", rotation), rotation
    from datetime import datetime

    assert oncall.who(stack.runtime, datetime(2026, 11, 25, 20, tzinfo=NY)).primary.id == "alice"
