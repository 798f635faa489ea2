"""Screenshots of the console's pages for docs/console.md, taken by headless Chromium.

    .venv/bin/python -m tests.console_screenshots [FOLDER]      # default: docs/console

It builds a stack as the tests do (real Redis, a SQLite file, the Twilio stand-in, service
targets), fills it through the phone tree (an emergency voicemail paged and escalated, after-hours
voicemails, a caller who hung up, wrong PINs that lock a contact's PIN entry), imports a
directory, adds an override, signs in as the manager and saves one PNG per page at desk width
(the directory with the report of an import through its form), and the Now and ticket pages at
a phone's 375 px.
"""
from __future__ import annotations

import io
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import argon2
from sqlalchemy import select

from core.settings import PROJECT_ROOT
from dispatch import directory, oncall
from dispatch.directory.models import Contact
from dispatch.followup import actions, lifecycle
from dispatch.sla import alerts
from dispatch.staff import accounts
from dispatch.verification import identity
from tests import console_browser
from tests.dispatch_support import advance, deliver_all, emergency_voicemail, paging_stack
from tests.lifecycle_support import LIFECYCLE_CONFIG
from tests.support import NY, RedisServer

DIRECTORY = """client,name,phone,email,after_hours,require_pin,language
Acme Dental,Jane Doe,+12705550199,jane@acme.example,page,yes,
Acme Dental,Raj Patel,+12705550160;+12705550161,raj@acme.example,page,yes,
Blue Fern Logistics,Omar Haddad,+12705550170,omar@bluefern.example,,,
Blue Fern Logistics,Li Wei,+12705550171,,,,
Cedar Law,Maria Garcia,+12705550180,maria@cedarlaw.example,,,es
Cedar Law,Tom Becker,555-0100,tom@cedarlaw.example,,,es
"""


def fill(stack) -> str:
    """Fill the store; returns the number of the ticket to show."""
    runtime = stack.runtime
    with runtime.store.transaction() as session:
        directory.import_csv(session, io.StringIO(DIRECTORY), runtime.config.region)
        jane = session.scalar(select(Contact.id).where(Contact.name == "Jane Doe"))
        raj = session.scalar(select(Contact.id).where(Contact.name == "Raj Patel"))
        # A PIN set by the release before, which kept neither a pepper nor the length: flagged as short.
        session.scalar(select(Contact).where(Contact.name == "Omar Haddad")).pin_hash = \
            argon2.PasswordHasher().hash("4827")
    assert identity.set_pin(runtime, jane, "492107") is None
    assert identity.set_pin(runtime, raj, "730418") is None  # his PIN entry locks below
    stack.at(2026, 11, 23, 22, 0)  # Monday night: an after-hours voicemail the desk made a P2
    monday = stack.call(from_="+12705550171")
    monday.press("1").wait()
    monday.leave_message(seconds=18, transcript="Hi, it's Li from Blue Fern. The label printer in the "
                         "warehouse stopped printing again.")
    monday.deliver_callbacks()
    actions.act(runtime, int(stack.tickets()[0]["number"].split("-")[1]), lifecycle.set_priority, "P2", "dave",
                "console")
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
    shown = stack.tickets()[0]["number"]
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
    stack.at(2026, 11, 24, 3, 40)
    for wrong in (("111111#", "222222#", "333333#"), ("444444#", "555555#")):  # Raj's PIN entry locks
        call = stack.call(from_="+12705550160").press(stack.config.verification_digit)
        for pin in wrong:
            call.press(pin)
        call.hang_up()
    stack.at(2026, 11, 24, 3, 50)  # past three quarters of the 3 AM emergency's hour: its warning goes out
    alerts.sweep(runtime)
    deliver_all(stack)
    accounts.set_password(runtime, "dave", console_browser.PASSWORD)
    return shown


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
        stack = paging_stack(tmp, redis_server.url, None, config=LIFECYCLE_CONFIG)
        try:
            shown = fill(stack)
            with console_browser.LiveServer(stack.app) as server:
                shots = [("now", "/console/"), ("ticket", f"/console/tickets/{shown}"),
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
