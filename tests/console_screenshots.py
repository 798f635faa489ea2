"""Screenshots of the console's pages for docs/console.md, taken by headless Chromium.

    .venv/bin/python -m tests.console_screenshots [FOLDER]      # default: docs/console

It builds a stack as the tests do (real Redis, a SQLite file, the Twilio stand-in), fills it
through the phone tree (an emergency voicemail paged and escalated, an after-hours voicemail, a
caller who hung up), imports a directory, adds an override, signs in as the manager and saves
one PNG per page at desk width (the directory with the report of an import through its form),
and the Now and ticket pages at a phone's 375 px.
"""
from __future__ import annotations

import io
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from core.settings import PROJECT_ROOT
from dispatch import directory, oncall
from dispatch.directory.models import Contact
from dispatch.staff import accounts
from dispatch.verification import identity
from tests import console_browser
from tests.dispatch_support import advance, deliver_all, emergency_voicemail, paging_stack
from tests.support import NY, RedisServer

DIRECTORY = """client,name,phone,email
Acme Dental,Jane Doe,+12705550199,jane@acme.example
Acme Dental,Raj Patel,+12705550160;+12705550161,raj@acme.example
Blue Fern Logistics,Omar Haddad,+12705550170,omar@bluefern.example
Blue Fern Logistics,Li Wei,+12705550171,
Cedar Law,Maria Garcia,+12705550180,maria@cedarlaw.example
Cedar Law,Tom Becker,555-0100,tom@cedarlaw.example
"""


def fill(stack) -> None:
    runtime = stack.runtime
    with runtime.store.transaction() as session:
        directory.import_csv(session, io.StringIO(DIRECTORY), runtime.config.region)
        jane = session.scalar(select(Contact.id).where(Contact.name == "Jane Doe"))
    assert identity.set_pin(runtime, jane, "492107") is None
    stack.at(2026, 11, 24, 2, 40)
    emergency_voicemail(stack, from_="+12705550170", transcript="Our warehouse scanners are all offline "
                                "and the trucks leave at six. Please call me back.", seconds=37)
    advance(stack, minutes=1)
    deliver_all(stack)
    stack.fake.sms_from(oncall.who(runtime).primary.mobile, "ACK", stack.config.support_number)
    advance(stack, minutes=1)
    stack.at(2026, 11, 24, 3, 0)
    emergency_voicemail(stack, transcript="Hi, this is Jane from Acme Dental. The server is down and no one "
                               "can open patient records. Please call me back as soon as you can.")
    advance(stack, minutes=1)
    deliver_all(stack)
    advance(stack, minutes=6)
    stack.at(2026, 11, 24, 3, 20)
    after_hours = stack.call(from_="+12705550180")
    after_hours.press("1").wait()
    after_hours.leave_message(seconds=25, transcript="Could someone reset the password of our shared mailbox "
                              "tomorrow morning? Thanks.")
    after_hours.deliver_callbacks()
    stack.at(2026, 11, 24, 3, 30)
    missed = stack.call(from_="+12705550123")
    missed.press("1").wait()
    missed.hang_up()  # before the tone: a missed call
    for ticket in stack.tickets():
        if ticket["recording_url"]:
            sid = console_browser.recording_sid(stack, int(ticket["number"].split("-")[1]))
            stack.fake.add_recording(sid, ticket["recording_seconds"])
    oncall.add_override(runtime, "carol", datetime(2026, 11, 27, 18, 0, tzinfo=NY), datetime(2026, 11, 28, 9, 0,
                        tzinfo=NY), by="dave")
    stack.at(2026, 11, 24, 3, 32)
    accounts.set_password(runtime, "dave", console_browser.PASSWORD)


def main(argv: list[str]) -> int:
    from selenium.webdriver.common.by import By

    reason = console_browser.missing()
    if reason:
        print(f"cannot take screenshots: {reason}", file=sys.stderr)
        return 1
    folder = Path(argv[0]) if argv else PROJECT_ROOT / "docs" / "console"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        redis_server = RedisServer(tmp / "redis").start()
        stack = paging_stack(tmp, redis_server.url, None)
        try:
            fill(stack)
            with console_browser.LiveServer(stack.app) as server:
                shots = [("now", "/console/"), ("ticket", "/console/tickets/CS-000002"),
                         ("schedule", "/console/schedule"), ("calls", "/console/calls"),
                         ("directory", "/console/directory")]
                for width, suffix in ((1280, ""), (375, "-phone")):
                    driver = console_browser.chromium(tmp / f"profile{width}", width=width, height=900,
                                                      phone=bool(suffix))
                    try:
                        console_browser.sign_in(driver, server.url, "dave")
                        for name, path in shots:
                            if suffix and name not in ("now", "ticket"):
                                continue
                            driver.get(server.url + path)
                            if name == "directory":  # with the report of an import, as a manager sees it
                                upload = tmp / "contacts.csv"
                                upload.write_text(DIRECTORY)
                                driver.find_element(By.ID, "csv-file").send_keys(str(upload))
                                console_browser.follow(
                                    driver, driver.find_element(By.XPATH, "//button[normalize-space()='Import']"))
                            target = folder / f"{name}{suffix}.png"
                            console_browser.full_page_png(driver, target)
                            print(f"saved {target}")
                        driver.get(server.url + "/console/login")
                    finally:
                        driver.quit()
                login = console_browser.chromium(tmp / "profile-login", width=1280, height=700)
                try:
                    login.get(server.url + "/console/login")
                    console_browser.full_page_png(login, folder / "login.png")
                    print(f"saved {folder / 'login.png'}")
                finally:
                    login.quit()
        finally:
            stack.fake.stop()
            stack.runtime.store.dispose()
            redis_server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
