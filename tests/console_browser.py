"""A real browser for the console's tests and screenshots: Debian's headless Chromium driven by
Selenium, and the app served on loopback by a real WSGI server in a thread."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PASSWORD = "correct horse battery staple"


def missing() -> str | None:
    """What of Chromium and its driver is not installed, or None."""
    absent = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    return ", ".join(absent) + " not installed (apt-get install chromium chromium-driver)" if absent else None


def chromium(profile: Path, width: int = 1280, height: int = 900, phone: bool = False):
    """A headless Chromium with a fresh profile in ``profile``, reached through Debian's chromedriver
    (Selenium's own driver download is never tried: there is no network to fetch it from)."""
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required", "--lang=en-US", "--mute-audio",
                 f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    if phone:  # a window cannot be made as narrow as a phone: the page is told the phone's size instead
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})
    return driver


class LiveServer:
    """``app`` on 127.0.0.1 and a free port, served by werkzeug's threaded WSGI server."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="console-server")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def follow(driver, element, seconds: float = 15) -> None:
    """Click a link or a form's button, and wait for the page it leads to (a click returns as soon as
    it is made; the next page may still be on its way)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def left(_driver) -> bool:
        # The old page's element is gone: Chromium says so as a stale reference, or, caught mid-way
        # through the navigation, as a node that "does not belong to the document".
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True

    element.click()
    wait = WebDriverWait(driver, seconds)
    wait.until(left, message="waited for the next page")
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete",
               message="waited for the next page to load")


def sign_in(driver, base_url: str, staff_id: str, password: str = PASSWORD) -> None:
    """Sign in through the login form as a person does: typed into the labelled fields."""
    from selenium.webdriver.common.by import By

    driver.get(base_url + "/console/login")
    driver.delete_all_cookies()  # one browser serves every test: start each signed out
    driver.get(base_url + "/console/login")
    driver.find_element(By.ID, "username").send_keys(staff_id)
    driver.find_element(By.ID, "password").send_keys(password)
    follow(driver, driver.find_element(By.CSS_SELECTOR, "main button[type=submit]"))


def full_page_png(driver, target: Path) -> None:
    """The whole page as a PNG, below the window's fold too (Chromium's own capture)."""
    import base64

    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    target.write_bytes(base64.b64decode(shot["data"]))


def recording_sid(stack, ticket_id: int) -> str:
    """The carrier's id of a ticket's recording (the links people are given name the ticket, not it)."""
    from dispatch.tickets.models import Ticket

    with stack.runtime.store.reading() as session:
        return session.get(Ticket, ticket_id).recording_sid
