"""A verification belongs to the call that earned it: the dual callback verifies only the person who
answered it, who is then put through to the desk or the on-call technician on that same call; the
inbound call that asked gains nothing, and a client whose contract requires the PIN gets no secret
for the callback alone."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from dispatch.directory.models import Client
from tests.support import SUPPORT_NUMBER
from tests.test_verification_secret import SECRET, _post_secret, _readings
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

DESK = ["+12705550101", "+12705550102"]


def _sms(stack, from_: str, body: str) -> list[str]:
    status, answer = stack.fake.sms_from(from_, body, SUPPORT_NUMBER)
    assert status == 200, answer
    return [m.text for m in ET.fromstring(answer).iter("Message")]


def _callback_for(stack, from_: str, keyed: str | None = None):
    """A caller asks for the dual callback (keying ``keyed`` as their number on file); the callback's
    call as the person there answers it."""
    call = reach_pin_prompt(stack, from_, keyed).press("*")
    assert call.state == "ended"
    placed = run_callbacks(stack)[-1]
    return placed, stack.fake.answer_call(placed["sid"])


def test_an_attacker_who_asked_for_bens_callback_gains_nothing(stack):
    """The reviewer's attack: from their own number, key Ben's number on file (no PIN), press star;
    Ben, called back, presses 1. The attacker's ticket is not verified, the directory shows nobody
    verified, and CALL on that ticket rings nobody."""
    seed(stack)
    placed, ben = _callback_for(stack, STRANGER, keyed=BEN.removeprefix("+1"))
    assert placed["to"] == BEN
    ben.press("1")
    assert "you are verified on this call" in ben.said

    (ticket,) = verification_tickets(stack)
    assert ticket["caller"] == STRANGER and ticket["verified"] is None
    assert events(ticket, "verified")[0]["call_sid"] == placed["sid"]  # the callback's own call
    assert "verified" not in contact(stack, BEN)
    number = ticket["number"]
    [refused] = _sms(stack, "+12705550114", f"CALL {number}")  # even a manager, who may act on any ticket
    assert "verification ticket" in refused and "CALL rings only the caller of a voicemail" in refused
    stack.run_worker()
    assert [c["to"] for c in stack.fake.calls] == [BEN]  # only the callback itself: no bridge to the attacker
    assert events(stack.ticket(number), "callback_refused")[0]["reason"] == "kind"


def test_the_verified_person_is_put_through_to_the_desk_which_hears_they_were_verified(stack):
    seed(stack)
    placed, ben = _callback_for(stack, BEN)
    ben.press("1")
    assert "To speak with our service desk now, press 1" in ben.said
    ben.press("1")
    assert "Connecting you to the service desk" in ben.said and ben.state == "dial"
    assert ben.dial_numbers() == DESK
    dial = ben.documents[-1]
    assert f'callerId="{SUPPORT_NUMBER}"' in dial
    heard = ben.desk_picks_up(press="1", index=1)
    assert heard == ("Verified caller: Ben Baker, of Acme Dental, verified by our call back to their number on "
                     "file, 1, 2, 7, 0, 5, 5, 5, 0, 1, 5, 1. Press 1 to accept.")
    ben.dial_result("completed", duration=120)
    assert ben.state == "ended"
    (ticket,) = verification_tickets(stack)
    assert events(ticket, "callback_handed_over")[0]["to"] == "desk"
    assert events(ticket, "callback_hand_over_accepted")[0]["by"] == DESK[1]
    assert events(ticket, "callback_hand_over_ended")[0]["taken"] is True


def test_after_hours_the_verified_person_is_put_through_to_the_on_call_technician(stack):
    seed(stack)
    stack.at(2026, 11, 24, 3, 0)
    primary = stack.api("/api/oncall").get_json()["primary"]
    placed, ann = _callback_for(stack, ANN)
    ann.press("1").press(ANN_PIN + "#")
    assert "To speak with the on-call technician now, press 1" in ann.said
    ann.press("1")
    assert ann.dial_numbers() == [primary["mobile"]]
    assert ann.desk_picks_up(press=None).startswith("Verified caller: Ann Archer, of Acme Dental")
    ann.dial_result("completed")  # the mobile's voicemail took the call: nobody pressed 1
    assert "nobody could take your call" in ann.said
    (ticket,) = verification_tickets(stack)
    assert events(ticket, "callback_handed_over")[0]["staff"] == primary["id"]
    assert events(ticket, "callback_hand_over_ended")[0]["taken"] is False


def test_the_screening_prompt_is_given_only_to_a_leg_of_the_callback_itself(stack):
    seed(stack)
    placed, ben = _callback_for(stack, BEN)
    ben.press("1").press("1")
    screen = ET.fromstring(ben.documents[-1]).find("Dial").find("Number").get("url")
    leg = {"CallSid": "CA" + "e" * 32, "AccountSid": "AC" + "0" * 32, "From": SUPPORT_NUMBER, "To": DESK[0],
           "CallStatus": "in-progress", "Direction": "outbound-dial", "ParentCallSid": "CA" + "f" * 32}
    status, body = stack.hooks.post(screen, leg, relative_to=placed["url"])
    assert status == 200 and "Ben Baker" not in body and "<Hangup" in body


def test_a_replayed_request_for_the_secret_again_reads_nothing(stack):
    """The "press 1 to hear it again" action carries a one-time value: the same signed request, sent
    again, is refused, and the secret is not read a second time to whoever sent it."""
    ids = seed(stack)
    _post_secret(stack, ids["ben"])
    placed, ben = _callback_for(stack, BEN)
    ben.press("1").press("1")  # it was them; a pen is ready
    assert _readings(ben) == 1
    action = ET.fromstring(ben.documents[-1]).find("Gather").get("action")
    params = {"CallSid": placed["sid"], "AccountSid": "AC" + "0" * 32, "From": SUPPORT_NUMBER, "To": BEN,
              "CallStatus": "in-progress", "Direction": "outbound-api", "Digits": "1"}
    ben.press("1")  # the real request: read again
    assert _readings(ben) == 2
    status, body = stack.hooks.post(action, params, relative_to=placed["url"])  # captured, replayed
    assert status == 200 and "capital D as in Delta" not in body and "could not be verified" in body
    assert SECRET not in body


def test_a_client_that_requires_the_pin_gets_no_secret_for_the_callback_alone(stack):
    ids = seed(stack)
    with stack.runtime.store.transaction() as session:
        session.query(Client).filter_by(name="Acme Dental").one().require_pin = True
    _post_secret(stack, ids["ben"])  # Ben, of Acme Dental, has no PIN
    placed, ben = _callback_for(stack, BEN)
    ben.press("1")
    assert "enter the PIN you set on our client portal" in ben.said
    for pin in ("135790", "246801", "357913"):
        ben.press(pin + "#")
    assert "could not verify your identity" in ben.said and ben.state == "ended"
    assert _readings(ben) == 0
    (ticket,) = verification_tickets(stack)
    assert events(ticket, "verified") == [] and events(ticket, "secret_delivered") == []
    assert [e["reason"] for e in events(ticket, "pin_failed")] == ["no PIN on file"] * 3
    # Without the contract's flag, the callback alone verifies him (he has no PIN) and reads it.
    with stack.runtime.store.transaction() as session:
        session.query(Client).filter_by(name="Acme Dental").one().require_pin = False
    stack.clock.advance(minutes=61)
    placed, ben = _callback_for(stack, BEN)
    assert _readings(ben.press("1").press("1")) == 1  # it was him; a pen is ready
