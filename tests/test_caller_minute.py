"""The caller's minute: each path played through the stand-in, what is heard in order, and
how many words go by before the caller can act (at about 2.5 words a second, 6 s is 15 words)."""
import xml.etree.ElementTree as ET

import pytest

from tests.dispatch_support import events, paging_stack, settle
from tests.support import CLIENT_PHONE, config_with
from tests.test_dispatch_sms_commands import text

WORDS_PER_SECOND = 2.5


def words_until(call, phrase: str) -> int:
    """How many words the caller has heard when ``phrase`` ends (from the start of the call)."""
    heard = " ".join(call.heard)
    assert phrase in heard, heard
    return len(heard[:heard.index(phrase) + len(phrase)].split())


def promises(call) -> int:
    """How many sentences promise the call back."""
    return " ".join(call.heard).count("will call you back")


def test_the_emergency_extension_comes_first_and_can_be_dialled_within_six_seconds(stack):
    call = stack.call()
    assert call.heard[:2] == ["Thank you for calling SmartPath Technologies.",
                              "If this is an emergency, dial 5 0 1 now, at any time."]
    assert words_until(call, "dial 5 0 1") <= 6 * WORDS_PER_SECOND
    assert call.heard[2:] == ["For support, press 1. For account access or password help, press 2. "
                              "To hear the status of a ticket, press 3.", "To hear the options again, press star."]
    gather = ET.fromstring(call.documents[-1]).find("Gather")
    assert (gather.get("timeout"), gather.get("numDigits")) == ("5", None)  # Twilio's default; 5-0-1 not cut


def test_star_repeats_the_options_and_a_wrong_key_is_said_back(stack):
    call = stack.call()
    call.press("*")
    assert call.said.startswith("If this is an emergency, dial 5 0 1") and "Sorry" not in call.said
    call.press("9*")
    assert call.said.startswith("Sorry, 9 star is not one of the options.")


def test_after_hours_a_caller_who_misses_the_menu_is_asked_if_it_is_an_emergency(stack):
    stack.at(2026, 11, 24, 23, 0)
    call = stack.call()
    call.wait().wait().wait()
    assert call.said == ("Sorry, we did not hear a selection. Is this an emergency? Press 1 for yes. Otherwise, "
                         "stay on the line to leave a message for the next business day.")
    call.press("1")
    assert call.said.startswith("You have reached the emergency line.") and call.state == "record"


def test_after_hours_a_caller_who_says_no_leaves_a_message_for_the_morning_which_pages_nobody(stack):
    stack.at(2026, 11, 24, 23, 0)
    call = stack.call()
    call.press("7").press("7").wait()
    call.wait()  # not an emergency
    assert call.state == "record" and "Please leave your name" in call.said
    call.leave_message(seconds=20)
    assert call.said.endswith("A technician will call you back tomorrow at 9 AM. Thank you for calling. Goodbye.")
    assert promises(call) == 1
    assert stack.queued_jobs("urgent") == []  # no page


def test_an_emergency_at_night_hears_the_tone_quickly_and_when_to_expect_the_call_back(stack):
    stack.at(2026, 11, 25, 3, 0)
    call = stack.call()
    call.press("501")
    assert call.said == ("You have reached the emergency line. After the tone, tell us your name, your company, "
                         "a number to reach you, and what is down. Then press pound.")
    assert len(call.said.split()) <= 12 * WORDS_PER_SECOND  # the tone within about 12 s of keying 501
    call.leave_message(seconds=30)
    assert call.said == ("Your ticket number is 1. Again, that is ticket 1. The on-call technician is being paged "
                         "now and will call you back within 15 minutes. If you have not heard from us by then, "
                         "call again and dial 5 0 1. Thank you for calling. Goodbye.")
    assert promises(call) == 1


@pytest.mark.parametrize("path", ["desk_busy", "after_hours", "silent"])
def test_no_path_promises_the_call_back_twice(stack, path):
    if path == "after_hours":
        stack.at(2026, 11, 24, 19, 30)
    call = stack.call()
    call.press("1")
    if path == "after_hours":
        call.wait()
    else:
        call.dial_result("busy")
    if path == "silent":
        call.stay_silent().stay_silent()
    else:
        call.leave_message(seconds=12)
    assert call.state == "ended" and promises(call) == 1, call.transcript


def test_a_silent_caller_at_the_tone_gets_one_more_chance(stack):
    call = stack.call()
    call.press("1").dial_result("no-answer")
    call.stay_silent()
    assert call.said == "We did not hear a message. Please speak after the tone, then press pound."
    assert call.state == "record"
    call.leave_message(seconds=15, transcript="Printer jammed")
    assert "Your ticket number is 1." in call.said
    call.deliver_callbacks()
    assert stack.ticket("1")["kind"] == "voicemail"


@pytest.mark.parametrize("keyed", ["1#", "000001#", "271#", "27000001#"])
def test_a_ticket_number_is_taken_as_digits_or_as_written_on_a_keypad(stack, keyed):
    call = stack.call()
    call.press("1").dial_result("busy").leave_message(seconds=10)
    call = stack.call()
    call.press("3")
    assert call.said == "Please enter your ticket number on your keypad, just the digits, followed by pound."
    call.press(keyed)  # C-S keyed as letters are 2-7
    assert call.said.startswith("Ticket 1 has not been assigned to a technician yet.")


def test_the_status_line_offers_the_desk_in_business_hours(stack):
    call = stack.call()
    call.press("3").press("99#")
    assert "We could not find that ticket. To check another ticket, enter its number followed by pound. " \
           "For the service desk, press 0. Or stay on the line" in call.said
    call.press("0")
    assert call.state == "dial" and "Connecting you to the service desk" in call.said
    stack.at(2026, 11, 24, 22, 0)
    night = stack.call()
    night.press("3").press("99#")
    assert "service desk" not in night.said


def test_desk_screening_names_the_client_and_says_it_is_an_emergency(stack):
    from tests.verification_helpers import ANN, seed

    seed(stack)
    call = stack.call(from_=ANN)
    call.press("501")
    assert call.desk_picks_up(press=None) == "Emergency call from Acme Dental, Ann Archer. Press 1 to accept."
    support = stack.call(from_=ANN)
    support.press("1")
    assert support.desk_picks_up(press=None) == "Support call from Acme Dental, Ann Archer. Press 1 to accept."


# -- live connect: [emergency] mode = "ring_oncall" ------------------------------------------------
@pytest.fixture
def ring_oncall(tmp_path, redis_url, database_url):
    stack = paging_stack(tmp_path, redis_url, database_url,
                         config=config_with(emergency={"mode": "ring_oncall", "ring_seconds": 20}))
    stack.at(2026, 11, 24, 3, 0)
    yield stack
    stack.fake.stop()
    stack.runtime.store.dispose()


def test_live_connect_rings_the_primary_screened_and_a_call_taken_is_an_acknowledged_p1(ring_oncall):
    stack = ring_oncall
    primary = stack.api("/api/oncall").get_json()["primary"]
    call = stack.call()
    call.press("501")
    assert call.said == "Connecting you to the on-call technician. Please hold."
    assert call.state == "dial" and call.dial_numbers() == [primary["mobile"]]
    assert ET.fromstring(call.documents[-1]).find("Dial").get("timeout") == "20"
    heard = call.desk_picks_up(press="1")
    assert heard == ("Emergency call from 2 7 0, 5 5 5, 0 1 9 9. Press 1 to take it. "
                     "Ticket 1 is yours. Connecting you now.")
    call.dial_result("completed", duration=240)
    assert call.state == "ended"
    ticket = stack.ticket("CS-000001")
    assert (ticket["kind"], ticket["priority"], ticket["status"]) == ("emergency_call", "P1", "acknowledged")
    assert events(ticket, "taken_live")[0]["by"] == primary["id"]
    assert events(ticket, "acknowledged")[0]["via"] == "live"
    # Taken as an ACK takes it: theirs, its response target met, and theirs to resolve by SMS.
    assert ticket["owner"] == primary["id"] and ticket["responded_at"] == "2026-11-24T08:00:00+00:00"
    settle(stack)
    stack.clock.advance(minutes=60)
    settle(stack)
    assert stack.fake.messages == [] and len(stack.tickets()) == 1  # nobody paged, no missed call
    assert text(stack, primary["mobile"], "RES 1") == ["CS-000001 is resolved. Thank you."]
    assert stack.ticket("CS-000001")["status"] == "resolved"


@pytest.mark.parametrize("answer", ["no-answer", "voicemail"])
def test_live_connect_unanswered_leaves_the_emergency_voicemail_as_ever(ring_oncall, answer):
    stack = ring_oncall
    call = stack.call()
    call.press("501")
    if answer == "voicemail":  # the mobile's own voicemail picks up and presses nothing
        call.desk_picks_up(press=None)
        call.dial_result("completed", duration=20)
    else:
        call.dial_result("no-answer")
    assert call.said.startswith("The on-call technician could not answer right away") and call.state == "record"
    call.leave_message(seconds=30)
    call.deliver_callbacks()
    settle(stack)
    ticket = stack.ticket("CS-000001")
    assert (ticket["kind"], ticket["status"]) == ("emergency_voicemail", "new")
    assert [m["to"] for m in stack.fake.messages] == [stack.api("/api/oncall").get_json()["primary"]["mobile"]]
    assert CLIENT_PHONE in stack.fake.messages[0]["body"]


def test_star_for_the_call_back_acts_at_once_and_a_pin_may_end_with_pound(stack):
    from tests.verification_helpers import ANN, ANN_PIN, BEN, reach_pin_prompt, seed

    seed(stack)
    call = reach_pin_prompt(stack, BEN)
    gather = ET.fromstring(call.documents[-1]).find("Gather")
    assert (gather.get("finishOnKey"), gather.get("actionOnEmptyResult")) == ("*", "true")  # no wait for pound
    call.press("*")
    assert call.said.startswith("We will hang up now and call you back") and call.state == "ended"
    verified = reach_pin_prompt(stack, ANN).press(ANN_PIN + "#")
    assert "You are verified" in verified.said


def test_once_verified_after_hours_the_caller_is_told_what_happens_next(stack):
    from tests.verification_helpers import ANN, ANN_PIN, reach_pin_prompt, seed

    seed(stack)
    stack.at(2026, 11, 24, 20, 0)
    call = reach_pin_prompt(stack, ANN).press(ANN_PIN + "#")
    assert call.said.endswith("Our office is closed. We open again tomorrow at 9 AM. To leave a message for a "
                              "technician, stay on the line. If this is an emergency, dial 5 0 1 now.")
    call.wait()
    assert call.state == "record" and "Please leave your name" in call.said
    day = reach_pin_prompt(stack, ANN)
    stack.at(2026, 11, 25, 10, 0)
    day.press(ANN_PIN + "#").wait()  # staying on the line rings the desk
    assert day.state == "dial" and "Connecting you to the service desk" in day.said
