"""PIN guessing ends: locks that grow and a third that only a manager lifts, one security notice per
lock, hourly limits per calling number and across the directory, 6-digit PINs (older 4-digit ones
flagged), PIN hashes peppered with a key outside the database, and the slow hash checked while no
database lock is held."""
from __future__ import annotations

import sqlite3

import argon2
import pytest
from argon2.exceptions import VerifyMismatchError
from sqlalchemy import select

from dispatch.directory.models import Contact
from tests.test_verification_secret import _verified_callback
from tests.verification_helpers import (
    ANN,
    ANN_PIN,
    BEN,
    GIL,
    STRANGER,
    contact,
    events,
    reach_pin_prompt,
    run_callbacks,
    seed,
    verification_tickets,
)

WRONG = ("135790", "246802", "357914")


def _wrong_pins(stack, count: int, from_: str = ANN, keyed: str | None = None) -> None:
    """Key ``count`` wrong PINs, three a call, as a caller would."""
    while count > 0:
        call = reach_pin_prompt(stack, from_, keyed)
        for pin in WRONG[:min(3, count)]:
            call.press(pin + "#")
        count -= 3
        call.hang_up()


def _right_pin_works(stack, from_: str = ANN, keyed: str | None = None) -> bool:
    call = reach_pin_prompt(stack, from_, keyed).press(ANN_PIN + "#")
    verified = "You are verified" in call.said
    call.hang_up()
    return verified


def _notices(stack) -> list[str]:
    stack.run_worker()
    return [m["body"] for m in stack.fake.messages if "SECURITY NOTICE" in m["body"]]


@pytest.mark.postgres
def test_locks_grow_and_the_third_holds_until_a_manager_resets_it(stack):
    ids = seed(stack)
    _wrong_pins(stack, 5)
    stack.clock.advance(minutes=29)
    assert not _right_pin_works(stack)  # the first lock: 30 minutes
    assert contact(stack, ANN)["pin_lock"]["until"] == "2026-11-24T15:30:00+00:00"
    stack.clock.advance(minutes=32)  # (and the hour of this number's wrong PINs is over)
    _wrong_pins(stack, 5)
    stack.clock.advance(minutes=119)
    assert not _right_pin_works(stack)  # the second: 2 hours
    stack.clock.advance(minutes=2)
    _wrong_pins(stack, 5)
    stack.clock.advance(hours=48)
    assert not _right_pin_works(stack)  # the third: until a manager resets it
    assert contact(stack, ANN)["pin_lock"] == {"until": None, "reset_needed": True}
    notices = _notices(stack)
    assert len(notices) == 3 and "stays locked until a manager resets it" in notices[2]
    assert [e["lock"] for t in verification_tickets(stack) for e in events(t, "pin_locked")] == [1, 2, 3]

    refused = stack.api(f"/api/contacts/{ids['ann']}/pin-lock/reset", method="POST", json={"manager": "alice"})
    assert refused.status_code == 400  # a technician may not
    assert not _right_pin_works(stack)
    reset = stack.api(f"/api/contacts/{ids['ann']}/pin-lock/reset", method="POST", json={"manager": "dave"})
    assert reset.status_code == 200 and reset.get_json()["was_locked"] is True
    assert contact(stack, ANN)["pin_lock"] is None
    assert _right_pin_works(stack)


def test_a_manager_resets_a_lock_from_the_command_line(stack):
    ids = seed(stack)
    for _ in range(3):
        _wrong_pins(stack, 5)
        stack.clock.advance(hours=3)
    assert contact(stack, ANN)["pin_lock"]["reset_needed"] is True
    runner = stack.app.test_cli_runner()
    result = runner.invoke(args=["directory", "reset-pin-lock", str(ids["ann"]), "--manager", "bob"])
    assert result.exit_code != 0 and "not the staff id of a manager" in result.output
    result = runner.invoke(args=["directory", "reset-pin-lock", str(ids["ann"]), "--manager", "dave"])
    assert result.exit_code == 0 and "PIN entry for Ann Archer" in result.output and "unlocked" in result.output
    assert _right_pin_works(stack)
    _wrong_pins(stack, 5)
    stack.clock.advance(hours=25)  # this lock's time ran out: a reset finds nothing locked
    result = runner.invoke(args=["directory", "reset-pin-lock", str(ids["ann"]), "--manager", "dave"])
    assert result.exit_code == 0 and "was not locked" in result.output


@pytest.mark.postgres
def test_wrong_pins_during_a_lock_bring_no_second_notice(stack):
    """Ann's number on file answers callbacks during the lock, and wrong PINs are keyed there: the
    lock is not renewed and the on-call technician gets one notice, not one per five guesses."""
    seed(stack)
    _wrong_pins(stack, 5)
    for _ in range(2):
        answered = _verified_callback(stack, pin=WRONG[0])
        answered.press(WRONG[1] + "#").press(WRONG[2] + "#")
        assert answered.state == "ended"
    assert len(_notices(stack)) == 1
    assert sum(len(events(t, "pin_locked")) for t in verification_tickets(stack)) == 1


@pytest.mark.postgres
def test_one_calling_number_gets_ten_wrong_pins_an_hour_whichever_contacts_it_tries(stack):
    seed(stack)
    _wrong_pins(stack, 6, from_=STRANGER, keyed=BEN.removeprefix("+1"))
    _wrong_pins(stack, 4, from_=STRANGER, keyed=GIL.removeprefix("+1"))
    # The right PIN of Ann, keyed from that number: refused for the rest of the hour, as a wrong PIN is.
    assert not _right_pin_works(stack, from_=STRANGER, keyed=ANN.removeprefix("+1"))
    ticket = verification_tickets(stack)[-1]
    assert events(ticket, "pin_failed")[0]["reason"] == "too many wrong PINs from this number"
    assert _right_pin_works(stack, from_=ANN)  # Ann herself is not locked out
    stack.clock.advance(hours=1)
    assert _right_pin_works(stack, from_=STRANGER, keyed=ANN.removeprefix("+1"))


@pytest.mark.postgres
def test_one_pin_sprayed_across_the_directory_from_many_numbers_is_stopped(stack):
    seed(stack)
    for n in range(10):  # ten calling numbers, three wrong PINs each: each under its own limit
        _wrong_pins(stack, 3, from_=f"+1270555{n:04d}", keyed=BEN.removeprefix("+1") if n % 2 else
                    GIL.removeprefix("+1"))
    assert not _right_pin_works(stack, from_=ANN)
    assert events(verification_tickets(stack)[-1], "pin_failed")[0]["reason"] == \
        "too many wrong PINs across the directory"
    assert run_callbacks(stack)  # the dual callback still works meanwhile
    stack.clock.advance(hours=1)
    assert _right_pin_works(stack, from_=ANN)


@pytest.mark.postgres
def test_an_older_4_digit_pin_keeps_working_is_flagged_and_is_peppered_once_keyed(stack):
    ids = seed(stack)
    with stack.runtime.store.transaction() as session:  # as the release before stored it: no pepper, no length
        session.get(Contact, ids["ben"]).pin_hash = argon2.PasswordHasher().hash("4827")
    assert contact(stack, BEN)["pin_short"] is True
    call = reach_pin_prompt(stack, BEN).press("4827#")
    assert "You are verified" in call.said
    with stack.runtime.store.reading() as session:
        upgraded = session.scalar(select(Contact.pin_hash).where(Contact.id == ids["ben"]))
    assert upgraded.startswith("pepper1:")
    assert contact(stack, BEN)["pin_short"] is True  # still 4 digits: the client is asked for a new one
    assert "You are verified" in reach_pin_prompt(stack, BEN).press("4827#").said
    assert stack.api(f"/api/contacts/{ids['ben']}/pin", method="PUT", json={"pin": "4827"}).status_code == 400
    assert stack.api(f"/api/contacts/{ids['ben']}/pin", method="PUT", json={"pin": "482719"}).status_code == 204
    assert contact(stack, BEN)["pin_short"] is False


def test_a_stored_pin_hash_cannot_be_tried_without_the_key(stack):
    ids = seed(stack)
    with stack.runtime.store.reading() as session:
        stored = session.scalar(select(Contact.pin_hash).where(Contact.id == ids["ann"]))
    with pytest.raises(VerifyMismatchError):  # the PIN alone, as someone holding the database would try it
        argon2.PasswordHasher().verify(stored.removeprefix("pepper1:"), ANN_PIN)


def test_the_slow_pin_check_holds_no_database_lock(stack, monkeypatch):
    """While argon2 checks a PIN (a tenth of a second), another writer can write: the check runs
    between transactions. Observed from a second SQLite connection asking for the write lock."""
    seed(stack)
    path = stack.runtime.settings.database_url.removeprefix("sqlite:///")
    if not stack.runtime.store.is_sqlite:
        pytest.skip("observes SQLite's write lock")
    writable_during_checks = []
    verify = argon2.PasswordHasher.verify

    def observing_verify(self, pin_hash, password):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            writable_during_checks.append(True)
        except sqlite3.OperationalError:
            writable_during_checks.append(False)
        finally:
            other.close()
        return verify(self, pin_hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", observing_verify)
    reach_pin_prompt(stack, ANN).press(WRONG[0] + "#").press(ANN_PIN + "#")
    answered = _verified_callback(stack)
    assert "you are verified" in answered.said
    assert writable_during_checks == [True] * 3
