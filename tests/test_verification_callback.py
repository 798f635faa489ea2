"""The dual callback: who is called, how often, and webhooks that must not be believed."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from dispatch.verification.models import Callback
from fake_twilio.phone import ACCOUNT_SID, Webhooks, new_sid
from tests.support import SUPPORT_NUMBER
from tests.verification_helpers import (
    ANN,
    ANN_DESK,
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

pytestmark = pytest.mark.postgres


def _ask_for_callback(stack, from_: str, keyed: str | None = None):
    call = reach_pin_prompt(stack, from_, keyed).press("*")
    assert "call you back at the number we have on file" in call.said and call.state == "ended"
    return call


def _callback_params(call: dict, call_sid: str | None = None, **extra) -> dict:
    return {"CallSid": call_sid or call["sid"], "AccountSid": ACCOUNT_SID, "From": call["from"], "To": call["to"],
            "CallStatus": "in-progress", "Direction": "outbound-api", "ApiVersion": "2010-04-01",
            "AnsweredBy": "human", **extra}


def test_the_callback_with_a_pin_verifies_the_person_at_the_number_on_file(stack):
    seed(stack)
    _ask_for_callback(stack, ANN)
    (placed,) = run_callbacks(stack)
    assert placed["to"] == ANN and placed["from"] == SUPPORT_NUMBER

    answered = stack.fake.answer_call(placed["sid"])
    assert "calling you back because you asked us to verify your identity" in answered.said
    answered.press("1")
    assert "the PIN you set on our client portal" in answered.said
    answered.press("1111#")
    assert "That PIN was not accepted" in answered.said
    answered.press(ANN_PIN + "#")
    assert "you are verified on this call" in answered.said and "press 1" in answered.said
    answered.wait()
    assert answered.said == "Goodbye." and answered.state == "ended"

    (ticket,) = verification_tickets(stack)
    # The person on the callback is verified, on that call; the inbound call that asked is not.
    assert ticket["verified"] is None
    assert {k: v for k, v in events(ticket, "verified")[0].items() if k not in ("at", "until")} == {
        "event": "verified", "method": "callback", "on": "callback", "to": ANN, "call_sid": placed["sid"],
        "contact": "Ann Archer"}
    assert events(ticket)[-4:] == ["callback_answered", "callback_confirmed", "pin_failed", "verified"]
    assert events(ticket, "callback_placed")[0] == {"at": events(ticket, "callback_placed")[0]["at"],
                                                    "event": "callback_placed", "to": ANN,
                                                    "call_sid": placed["sid"]}
    assert "verified" not in contact(stack, ANN)


def test_a_contact_without_a_pin_confirms_with_1(stack):
    seed(stack)
    _ask_for_callback(stack, BEN)
    (placed,) = run_callbacks(stack)
    answered = stack.fake.answer_call(placed["sid"]).press("1")
    assert "you are verified" in answered.said
    (ticket,) = verification_tickets(stack)
    assert ticket["verified"] is None and events(ticket, "verified")[0]["method"] == "callback"


def test_silence_at_the_callback_pin_is_asked_again_then_ends_the_call_and_is_no_wrong_pin(stack):
    """Someone called back who keys nothing has not keyed a wrong PIN: no lock, no security notice."""
    seed(stack)
    for _ in range(2):
        _ask_for_callback(stack, ANN)
        placed = run_callbacks(stack)[-1]
        answered = stack.fake.answer_call(placed["sid"]).press("1")
        answered.wait()
        assert answered.said == ("Sorry, we did not hear anything. "
                                 "Please enter the PIN you set on our client portal, followed by pound.")
        answered.press("#")  # only the finish key: no digits either
        assert answered.said == "We could not verify your identity on this call. Goodbye."
        assert answered.state == "ended"
    tickets = verification_tickets(stack)
    assert [e["reason"] for t in tickets for e in events(t, "callback_failed")] == ["no PIN keyed"] * 2
    assert [e for t in tickets for e in events(t, "pin_failed")] == []
    stack.run_worker()
    assert stack.fake.messages == []  # no "wrong portal PINs" notice to the on-call technician
    call = reach_pin_prompt(stack, ANN).press(ANN_PIN + "#")
    assert "You are verified" in call.said


def test_spoofed_caller_id_gets_the_callback_sent_to_the_real_contact(stack):
    seed(stack)
    # Gil, of another client, spoofs Ann's number and asks for the callback.
    attacker = _ask_for_callback(stack, ANN)
    (placed,) = run_callbacks(stack)
    assert placed["to"] == ANN and not stack.fake.calls_to(GIL)

    # The attacker's own call cannot stand in for the callback, even through Twilio's signature.
    status, body = stack.hooks.post(placed["url"], _callback_params(placed, call_sid=attacker.call_sid))
    assert status == 200 and "could not be verified" in body

    # The real Ann answers, did not ask for it, and presses nothing: nobody is verified.
    answered = stack.fake.answer_call(placed["sid"])
    assert "could not be verified" in answered.said  # the leaked token is spent
    assert all(t["verified"] is None for t in verification_tickets(stack))
    assert events(verification_tickets(stack)[0], "callback_rejected")[0]["reason"] == \
        "token used with another CallSid"


def test_a_keyed_number_is_called_back_never_the_calling_number(stack):
    seed(stack)
    _ask_for_callback(stack, STRANGER, keyed=ANN_DESK.removeprefix("+1"))
    (placed,) = run_callbacks(stack)
    assert placed["to"] == ANN_DESK and not stack.fake.calls_to(STRANGER)
    answered = stack.fake.answer_call(placed["sid"]).wait()
    assert "Nothing has been changed" in answered.said
    assert verification_tickets(stack)[0]["verified"] is None


def test_at_most_three_callbacks_per_contact_per_hour(stack):
    seed(stack)
    for _ in range(4):
        _ask_for_callback(stack, BEN)  # the fourth caller hears the very same promise
    assert [c["to"] for c in run_callbacks(stack)] == [BEN] * 3
    refused = events(verification_tickets(stack)[3], "callback_refused")
    assert refused and "3 callbacks" in refused[0]["reason"]

    _ask_for_callback(stack, ANN)  # the limit is per contact
    assert [c["to"] for c in run_callbacks(stack)] == [BEN] * 3 + [ANN]

    stack.clock.advance(minutes=60)
    _ask_for_callback(stack, BEN)
    assert [c["to"] for c in run_callbacks(stack)] == [BEN] * 3 + [ANN, BEN]


def test_forged_callback_webhooks_are_refused(stack):
    seed(stack)
    _ask_for_callback(stack, BEN)
    (placed,) = run_callbacks(stack)
    params = _callback_params(placed)

    assert stack.hooks.post(placed["url"], params, signed=False)[0] == 403
    forger = Webhooks("http://localhost", "not-the-auth-token", client=stack.client)
    assert forger.post(placed["url"], params)[0] == 403
    tampered = placed["url"][:-4] + "AAAA"  # another token, signed properly
    status, body = stack.hooks.post(tampered, params)
    assert status == 200 and "could not be verified" in body

    answered = stack.fake.answer_call(placed["sid"]).press("1")  # the real callback still works
    assert "you are verified" in answered.said


def test_replayed_callback_webhooks_are_refused(stack):
    seed(stack)
    _ask_for_callback(stack, BEN)
    (placed,) = run_callbacks(stack)
    answered = stack.fake.answer_call(placed["sid"]).press("1")
    assert "you are verified" in answered.said

    # Replaying, with the same CallSid and a valid signature, the answer or the confirmation.
    status, body = stack.hooks.post(placed["url"], _callback_params(placed))
    assert status == 200 and "could not be verified" in body
    confirm_action = placed["url"].replace("/verification/callback?", "/verification/callback/confirm?")
    status, body = stack.hooks.post(confirm_action, _callback_params(placed, Digits="1"))
    assert status == 200 and "could not be verified" in body
    (ticket,) = verification_tickets(stack)
    assert len(events(ticket, "verified")) == 1


def test_a_callback_answered_too_late_is_refused(stack):
    seed(stack)
    _ask_for_callback(stack, BEN)
    (placed,) = run_callbacks(stack)
    stack.clock.advance(minutes=10, seconds=1)
    answered = stack.fake.answer_call(placed["sid"])
    assert "could not be verified" in answered.said and answered.state == "ended"
    assert events(verification_tickets(stack)[0], "callback_rejected")[0]["reason"] == "expired"


def test_an_answering_machine_hears_nothing_sensitive(stack):
    seed(stack)
    _ask_for_callback(stack, BEN)
    (placed,) = run_callbacks(stack)
    answered = stack.fake.answer_call(placed["sid"], answered_by="machine_end_beep")
    assert "Please call us again" in answered.said and answered.state == "ended"
    assert "press 1" not in answered.transcript
    assert events(verification_tickets(stack)[0], "callback_failed")[0]["reason"] == "answered by machine_end_beep"


def test_an_unanswered_callback_is_on_the_timeline(stack):
    seed(stack)
    _ask_for_callback(stack, BEN)
    (placed,) = run_callbacks(stack)
    assert stack.fake.send_call_status(placed["sid"], "no-answer") == 200
    (ticket,) = verification_tickets(stack)
    assert events(ticket, "callback_unanswered")[0]["status"] == "no-answer"
    # A status callback with someone else's CallSid changes nothing.
    stack.hooks.post(placed["status_callback"], _callback_params(placed, call_sid=new_sid("CA"),
                                                                 CallStatus="completed"))
    assert len(stack.ticket(ticket["number"])["timeline"]) == len(ticket["timeline"])


def test_three_wrong_pins_on_the_callback_fail_it(stack):
    seed(stack)
    _ask_for_callback(stack, ANN)
    (placed,) = run_callbacks(stack)
    answered = stack.fake.answer_call(placed["sid"]).press("1")
    for pin in ("1357", "2468", "3579"):
        answered.press(pin + "#")
    assert "could not verify your identity" in answered.said and answered.state == "ended"
    (ticket,) = verification_tickets(stack)
    assert ticket["verified"] is None and events(ticket, "callback_failed")[0]["reason"] == "3 wrong PINs"


def test_a_callback_the_carrier_refuses_is_on_the_timeline(stack):
    seed(stack)
    _ask_for_callback(stack, BEN)
    stack.fake.fail_next(("error", 400, 21211))
    assert run_callbacks(stack) == []
    (ticket,) = verification_tickets(stack)
    assert "21211" in events(ticket, "callback_failed")[0]["reason"]
    stack.run_worker()  # the job is not retried into a second call
    assert stack.fake.calls == []


def test_a_machine_that_answered_while_the_callback_was_being_placed_is_still_a_machine(stack):
    """Twilio may request the callback's TwiML before the job has stored the CallSid; the app waits
    with a <Redirect>, and Twilio's answering-machine verdict, sent with the first request only,
    must survive the wait."""
    seed(stack)
    _ask_for_callback(stack, ANN)
    (placed,) = run_callbacks(stack)
    with stack.runtime.store.transaction() as session:  # as if Twilio had outrun the job
        callback = session.query(Callback).one()
        callback.status, callback.call_sid = "placing", None
    status, body = stack.hooks.post(placed["url"], _callback_params(placed, AnsweredBy="machine_start"))
    assert status == 200 and "<Pause" in body
    params = {k: v for k, v in _callback_params(placed).items() if k != "AnsweredBy"}
    redirect = ET.fromstring(body).find("Redirect").text
    status, body = stack.hooks.post(redirect, params, relative_to=placed["url"])  # still placing: a second wait
    assert status == 200 and "<Pause" in body
    redirect = ET.fromstring(body).find("Redirect").text
    with stack.runtime.store.transaction() as session:  # the job records the call
        callback = session.query(Callback).one()
        callback.status, callback.call_sid = "placed", placed["sid"]
    status, body = stack.hooks.post(redirect, params, relative_to=placed["url"])
    assert "returning your call" in body and "press 1" not in body
    assert events(verification_tickets(stack)[0], "callback_failed")[0]["reason"] == "answered by machine_start"
