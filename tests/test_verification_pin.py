"""Menu option 2 with a portal PIN: right PIN, wrong PINs, the lock across calls, expiry,
and answers that never tell whether a contact exists."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch import jobs
from dispatch.escalation.steps import page_ticket
from dispatch.jobs.models import OutboxJob
from tests.verification_helpers import (
    ANN,
    ANN_PIN,
    BEN,
    STRANGER,
    contact,
    events,
    reach_pin_prompt,
    run_callbacks,
    seed,
    verification_tickets,
)

pytestmark = pytest.mark.postgres


def test_right_pin_verifies_the_caller_on_this_call(stack):
    seed(stack)
    call = reach_pin_prompt(stack, ANN).press(ANN_PIN + "#")

    assert "You are verified on this call" in call.said
    (ticket,) = verification_tickets(stack)
    assert ticket["verified"] == {"method": "pin", "at": stack.runtime.now().isoformat()}
    assert ticket["contact"]["name"] == "Ann Archer" and ticket["client"] == "Acme Dental"
    assert events(ticket) == ["verification_started", "caller_identified", "verified"]
    assert events(ticket, "caller_identified")[0]["how"] == "caller_id"
    spoken_number = " ".join(str(int(ticket["number"].split("-")[1])))
    assert f"on ticket {spoken_number}." in call.said
    assert "verified" not in contact(stack, ANN)  # the call is verified, not the contact
    # What happens next, not the whole menu again: in business hours, the desk.
    assert "To speak to the service desk now, press 0, or stay on the line." in call.said
    assert "For account access or password help" not in call.said
    call.press("0")
    assert call.state == "dial" and "Connecting you to the service desk" in call.said


def test_a_pin_verifies_only_the_call_it_was_keyed_on(stack):
    """A desk screening the PIN-verified caller hears so; a later call showing the same number, a
    minute on, is nobody verified: its screening says only who the number is."""
    seed(stack)
    verified = reach_pin_prompt(stack, ANN).press(ANN_PIN + "#").press("1")
    assert "verified by PIN on this call as Ann Archer, of Acme Dental" in verified.desk_picks_up(press=None)
    stack.clock.advance(minutes=1)
    spoofed = stack.call(from_=ANN).press("1")
    screening = spoofed.desk_picks_up(press=None)
    assert screening.startswith("Support call from") and "verified" not in screening
    # The ticket keeps the history of when and how the caller was verified.
    assert verification_tickets(stack)[0]["verified"]["method"] == "pin"


def test_three_wrong_pins_end_in_the_dual_callback(stack):
    seed(stack)
    call = reach_pin_prompt(stack, ANN).press("1357#")
    assert "That PIN was not accepted" in call.said and "the PIN you set on our client portal" in call.said
    call.press("2468#")
    assert "That PIN was not accepted" in call.said
    call.press("9999#")
    assert "call you back at the number we have on file" in call.said
    assert call.state == "ended"

    (ticket,) = verification_tickets(stack)
    assert ticket["verified"] is None
    assert [e["attempt"] for e in events(ticket, "pin_failed")] == [1, 2, 3]
    assert events(ticket, "callback_requested")[0]["to"] == ANN
    assert "pin_locked" not in events(ticket)
    placed = run_callbacks(stack)
    assert [c["to"] for c in placed] == [ANN]
    assert placed[0]["machine_detection"] == "Enable"


def test_five_wrong_pins_across_calls_lock_pin_entry_and_page_the_on_call(stack):
    ids = seed(stack)
    first = reach_pin_prompt(stack, ANN)
    for pin in ("1357", "2468", "3579"):
        first.press(pin + "#")
    assert first.state == "ended"

    second = reach_pin_prompt(stack, ANN).press("1470#").press("2581#")  # the fifth wrong PIN in a row
    heard_after_lock = second.said
    second.press(ANN_PIN + "#")  # right, but PIN entry is now locked
    assert "That PIN was not accepted" in heard_after_lock
    assert "call you back at the number we have on file" in second.said
    assert "verified" not in second.said

    tickets = verification_tickets(stack)
    assert events(tickets[1], "pin_locked")[0]["failures"] == 5
    assert events(tickets[1], "pin_failed")[-1]["reason"] == "PIN entry locked"
    assert all(t["verified"] is None for t in tickets)

    stack.run_worker()
    on_call = stack.config.staff[stack.api("/api/oncall").get_json()["primary"]["id"]]
    notices = [m for m in stack.fake.messages if "SECURITY NOTICE" in m["body"]]
    assert [m["to"] for m in notices] == [on_call.mobile]
    assert "Ann Archer" in notices[0]["body"] and tickets[1]["number"] in notices[0]["body"]
    assert ANN_PIN not in notices[0]["body"]
    assert events(stack.ticket(tickets[1]["number"]), "security_notice_sent")[0]["to"] == on_call.id
    stack.run_worker()  # running again sends nothing more
    assert len([m for m in stack.fake.messages if "SECURITY NOTICE" in m["body"]]) == 1

    stack.clock.advance(minutes=30, seconds=1)
    third = reach_pin_prompt(stack, ANN).press(ANN_PIN + "#")
    assert "You are verified" in third.said
    assert contact(stack, ANN)["id"] == ids["ann"]


def test_a_right_pin_resets_the_run_of_failures(stack):
    seed(stack)
    reach_pin_prompt(stack, ANN).press("1357#").press("2468#").press(ANN_PIN + "#")
    call = reach_pin_prompt(stack, ANN).press("1357#").press("2468#").press("3579#")
    assert call.state == "ended"
    assert not any("pin_locked" in events(t) for t in verification_tickets(stack))


def _transcript_of_wrong_pins(stack, from_: str, keyed: str | None) -> list[str]:
    call = reach_pin_prompt(stack, from_, keyed)
    mark = len(call.heard)
    for pin in ("1357", "2468", "3579"):
        call.press(pin + "#")
    return call.heard[mark:]


def test_answers_do_not_reveal_whether_a_contact_exists(stack):
    seed(stack)
    # A stranger keys a number nobody has, the number of a contact without a PIN, and one with a PIN.
    unknown = _transcript_of_wrong_pins(stack, STRANGER, "2705550199")
    no_pin = _transcript_of_wrong_pins(stack, STRANGER, BEN.removeprefix("+1"))
    with_pin = _transcript_of_wrong_pins(stack, STRANGER, ANN.removeprefix("+1"))
    assert unknown == no_pin == with_pin
    assert "call you back at the number we have on file" in " ".join(unknown)

    tickets = verification_tickets(stack)
    assert events(tickets[0], "caller_not_identified")[-1]["how"] == "keyed"
    assert events(tickets[0], "callback_not_placed")
    assert [e["reason"] for e in events(tickets[1], "pin_failed")] == ["no PIN on file"] * 3
    # Only real contacts are called back, at the number on file, never at the stranger's.
    assert [c["to"] for c in run_callbacks(stack)] == [BEN, ANN]


def test_a_number_that_is_not_a_phone_number_is_asked_again(stack):
    seed(stack)
    call = stack.call(from_=STRANGER).press(stack.config.verification_digit)
    call.press("12#")
    assert "does not look like a complete phone number" in call.said
    call.wait()
    assert "did not hear anything" in call.said
    call.press("99#")
    assert "Returning to the main menu" in call.said
    # The real main menu, with every option, not one that offers only support.
    assert "If this is an emergency, dial 5 0 1 now, at any time. For support, press 1. For account access or " \
           "password help, press 2. To hear the status of a ticket, press 3." in call.said
    assert "did not hear a selection" not in call.said
    call.press("3")
    assert "enter your ticket number" in call.said


def test_star_asks_for_the_callback_and_silence_ends_there_too(stack):
    seed(stack)
    call = reach_pin_prompt(stack, BEN).press("*")
    assert "call you back at the number we have on file" in call.said and call.state == "ended"
    silent = reach_pin_prompt(stack, BEN).wait()
    assert "did not hear anything" in silent.said
    silent.wait()
    assert "call you back at the number we have on file" in silent.said and silent.state == "ended"
    assert [c["to"] for c in run_callbacks(stack)] == [BEN, BEN]


def test_a_pin_webhook_hands_to_rq_only_the_jobs_it_made(stack):
    """The callback and the security notice go to RQ at once; another pending outbox job is
    left to the worker's flush, not done inside the caller's webhook."""
    seed(stack)
    with stack.runtime.store.transaction() as session:
        jobs.enqueue_after_commit(session, page_ticket, 12345)  # someone else's job
    queued = lambda: set(stack.runtime.queue("urgent").job_ids)  # noqa: E731

    first = reach_pin_prompt(stack, ANN)
    for pin in ("1357", "2468", "3579"):
        first.press(pin + "#")
    assert any(key.startswith("place-callback-") for key in queued())
    second = reach_pin_prompt(stack, ANN).press("1470#").press("2581#")  # the fifth wrong PIN locks
    assert "That PIN was not accepted" in second.said
    assert any(key.startswith("send-security-notice-") for key in queued())
    assert "page-ticket-12345" not in queued()
    with stack.runtime.store.transaction() as session:
        pending = session.scalars(select(OutboxJob.job_key).where(OutboxJob.enqueued_at.is_(None))).all()
    assert pending == ["page-ticket-12345"]
