"""Whole calls through the phone tree, driven the way Twilio drives them."""
import xml.etree.ElementTree as ET

import pytest

from dispatch.calls import spool
from tests.support import CLIENT_PHONE

# What a caller hears: not run again on PostgreSQL (scripts/postgres), whose tickets, spool and
# concurrency are tested by test_voicemail_tickets, test_fallback and the fault tests.


def test_greeting_names_the_company_and_every_option(stack):
    call = stack.call()
    assert call.state == "gather"
    said = call.said
    assert "Thank you for calling SmartPath Technologies" in said
    assert "For support, press 1" in said
    assert "press 2" in said and "press 3" in said
    assert "If this is an emergency, dial 5 0 1 now, at any time." in said


def test_menu_gather_takes_one_digit_or_an_extension_without_a_long_wait(stack):
    call = stack.call()
    gather = ET.fromstring(call.documents[-1]).find("Gather")
    assert gather.get("numDigits") is None  # 5-0-1 is not cut short at "5"
    assert int(gather.get("timeout")) <= 5  # "1" is not kept waiting for more
    assert gather.get("finishOnKey") == "#"


def test_support_in_business_hours_rings_the_desk_with_the_callers_id(stack):
    call = stack.call()
    call.press("1")
    assert "Connecting you to the service desk" in call.said
    assert call.state == "dial"
    dial = ET.fromstring(call.documents[-1]).find("Dial")
    assert dial.get("timeout") == "25"
    assert dial.get("callerId") is None  # the desk sees the client's own number
    assert call.dial_numbers() == ["+12705550101", "+12705550102"]


def test_desk_answers_and_the_call_ends_without_a_ticket(stack):
    call = stack.call()
    call.press("1")
    assert call.desk_picks_up(press="1") == "Support call from 2 7 0, 5 5 5, 0 1 9 9. Press 1 to accept."
    call.dial_result("completed", duration=120)
    assert call.state == "ended"
    assert stack.tickets() == []


def test_a_desk_phones_own_voicemail_answering_is_not_a_person_and_the_caller_gets_ours(stack):
    """Twilio reports the <Dial> completed when a desk phone's voicemail picked up, heard the
    screening prompt and pressed nothing: the caller must not be hung up on in silence."""
    call = stack.call()
    call.press("1")
    call.desk_picks_up(press=None)
    call.dial_result("completed", duration=7)
    assert "Our technicians are all busy" in call.said and call.state == "record"
    call.leave_message(seconds=20)
    assert "Your ticket number is 1. Again, that is ticket 1." in call.said


def test_an_emergency_the_desk_took_is_no_missed_call_whichever_callback_comes_first(stack):
    """The caller hangs up after talking to the desk: Twilio's call status callback may be handled
    before the (ignored) <Dial> action; the desk's acceptance already dropped the box hint, so no
    missed-call ticket (a P1 page, from 501) is opened."""
    call = stack.call()
    call.press("501")
    call.desk_picks_up(press="1")
    dial_action = call._expect("dial").get("action")
    call.hang_up()  # the status callback, first
    assert call._post(dial_action, {"DialCallStatus": "completed", "DialCallDuration": "300"})[0] == 200
    assert stack.tickets() == [] and stack.queued_jobs("urgent") == []


@pytest.mark.parametrize("outcome", ["no-answer", "busy", "failed"])
def test_desk_unavailable_falls_back_to_support_voicemail(stack, outcome):
    call = stack.call()
    call.press("1")
    call.dial_result(outcome)
    assert "Our technicians are all busy" in call.said
    assert call.state == "record"
    call.leave_message(seconds=30, transcript="Printer on fire")
    assert "Your ticket number is 1" in call.said
    assert "as soon as possible" in call.said
    call.deliver_callbacks()
    ticket = stack.ticket("CS-000001")
    assert (ticket["kind"], ticket["priority"], ticket["status"]) == ("voicemail", "P3", "new")
    assert ticket["recording_seconds"] == 30 and ticket["transcript"] == "Printer on fire"
    assert stack.queued_jobs() == []  # only P1 pages


def test_desk_screening_asks_the_technician_to_accept(stack):
    leg, other_leg = "CA" + "1" * 32, "CA" + "2" * 32
    status, body = stack.hooks.post("/voice/desk-screen", {"CallSid": leg, "From": CLIENT_PHONE,
                                                           "To": "+12705550101"})
    assert status == 200
    root = ET.fromstring(body)
    assert "Press 1 to accept" in root.find("Gather/Say").text
    withheld = ET.fromstring(stack.hooks.post("/voice/desk-screen", {"CallSid": other_leg, "From": "Anonymous",
                                                                      "To": "+12705550101"})[1])
    assert withheld.find("Gather/Say").text == "Support call from an unknown number. Press 1 to accept."
    assert root.find("Hangup") is not None  # a voicemail that presses nothing is not connected
    accepted = ET.fromstring(stack.hooks.post("/voice/desk-accept", {"CallSid": leg, "Digits": "1"})[1])
    assert list(accepted) == []  # an empty document bridges the call
    refused = ET.fromstring(stack.hooks.post("/voice/desk-accept", {"CallSid": leg, "Digits": "9"})[1])
    assert refused.find("Hangup") is not None


def test_support_after_hours_says_when_we_reopen_and_takes_a_voicemail(stack):
    stack.at(2026, 11, 24, 19, 30)  # Tuesday evening
    call = stack.call()
    call.press("1")
    assert "Our office is closed. We open again tomorrow at 9 AM." in call.said
    assert "If this is an emergency, dial 5 0 1 now" in call.said
    call.wait()
    assert "Please leave your name" in call.said and call.state == "record"
    call.leave_message(seconds=12)
    assert "A technician will call you back tomorrow at 9 AM" in call.said
    assert call.transcript.count("call you back tomorrow") == 1  # promised once, at the end
    call.deliver_callbacks()
    assert stack.ticket("CS-000001")["kind"] == "voicemail"


@pytest.mark.parametrize("when, phrase", [
    ((2026, 11, 27, 17, 0), "on Monday at 9 AM"),      # Friday at closing time
    ((2026, 11, 28, 11, 0), "on Monday at 9 AM"),      # Saturday
    ((2026, 11, 24, 7, 0), "today at 9 AM"),           # early Tuesday
    ((2026, 12, 24, 18, 0), "on Monday at 9 AM"),      # Thursday before the Christmas holiday
    ((2026, 12, 25, 10, 0), "on Monday at 9 AM"),      # on the holiday itself
    ((2026, 11, 1, 10, 0), "tomorrow at 9 AM"),        # the Sunday daylight saving ends
])
def test_reopening_is_spoken_naturally(stack, when, phrase):
    stack.at(*when)
    call = stack.call()
    call.press("1")
    assert f"We open again {phrase}." in call.said


def test_holiday_is_closed_in_what_would_be_business_hours(stack):
    stack.at(2026, 12, 25, 11, 0)  # Friday, Christmas
    call = stack.call()
    call.press("1")
    assert call.state == "gather" and "Our office is closed" in call.said


@pytest.mark.parametrize("utc_hour, utc_minute, open_", [(13, 59, False), (14, 0, True), (21, 59, True),
                                                         (22, 0, False)])
def test_monday_after_daylight_saving_ends_opens_at_9_local(stack, utc_hour, utc_minute, open_):
    from datetime import datetime, timezone

    stack.clock.set(datetime(2026, 11, 2, utc_hour, utc_minute, tzinfo=timezone.utc))  # EST = UTC-5
    call = stack.call()
    call.press("1")
    assert (call.state == "dial") is open_


def test_spring_forward_opens_at_9_local(stack):
    from datetime import datetime, timezone

    stack.clock.set(datetime(2027, 3, 15, 13, 0, tzinfo=timezone.utc))  # Monday 9:00 EDT
    call = stack.call()
    call.press("1")
    assert call.state == "dial"


def test_extension_501_at_3am_is_a_p1_ticket_handed_to_the_dispatcher(stack):
    stack.at(2026, 11, 25, 3, 0)
    call = stack.call()
    call.press("501")
    assert "emergency line" in call.said and call.state == "record"
    call.leave_message(seconds=40, transcript="The whole office network is down")
    assert "Your ticket number is 1" in call.said
    assert "on-call technician is being paged now" in call.said
    assert "hang up" not in call.transcript
    jobs = stack.queued_jobs("urgent")
    assert [(j.func_name, j.args) for j in jobs] == [("dispatch.escalation.steps.page_ticket", (1,))]
    call.deliver_callbacks()
    ticket = stack.ticket("1")
    assert (ticket["kind"], ticket["priority"]) == ("emergency_voicemail", "P1")
    assert ticket["transcript"] == "The whole office network is down"
    assert [e["event"] for e in ticket["timeline"]].count("page_requested") == 1


def test_extension_501_in_business_hours_rings_the_desk_first(stack):
    call = stack.call()
    call.press("501")
    assert call.state == "dial"
    call.dial_result("no-answer")
    call.leave_message(seconds=20)
    assert stack.ticket("1")["kind"] == "emergency_voicemail"
    assert len(stack.queued_jobs("urgent")) == 1


def test_extension_501_can_be_dialled_from_the_closed_message(stack):
    stack.at(2026, 11, 28, 22, 0)
    call = stack.call()
    call.press("1")
    call.press("501")
    assert "emergency line" in call.said


@pytest.mark.parametrize("give", ["wait", "press"])
def test_three_missed_menus_end_in_a_voicemail_not_silence(stack, give):
    call = stack.call()
    for attempt in range(3):
        assert call.state == "gather"
        call.wait() if give == "wait" else call.press("9")
        if attempt < 2:
            expected = "did not hear a selection" if give == "wait" else "9 is not one of the options"
            assert expected in call.said and "For support, press 1" in call.said
    assert "Let's take a message instead" in call.said
    assert call.state == "record"


def test_caller_who_stays_silent_at_the_tone_still_gets_a_ticket(stack):
    call = stack.call()
    call.press("1")
    call.dial_result("no-answer")
    call.stay_silent()
    assert "We did not hear a message. Please speak after the tone" in call.said and call.state == "record"
    call.stay_silent()  # one more chance, then the call is logged
    assert "We did not hear a message" in call.said
    assert "We have logged your call as ticket 1." in call.said
    call.deliver_callbacks()  # a recording status of "absent"
    assert spool.replay(stack.runtime) == 2  # as the worker does: an "absent" recording for each silence
    ticket = stack.ticket("1")
    assert (ticket["kind"], ticket["priority"], ticket["caller"]) == ("missed_call", "P4", CLIENT_PHONE)


def test_caller_who_hangs_up_before_the_tone_leaves_a_missed_call(stack):
    stack.at(2026, 11, 25, 2, 0)
    call = stack.call()
    call.press("501")
    call.hang_up()  # Twilio sends the status callback; no recording at all
    ticket = stack.ticket("1")
    assert (ticket["kind"], ticket["priority"]) == ("missed_call", "P1")
    assert len(stack.queued_jobs("urgent")) == 1  # an emergency caller is called back even so


def test_too_short_recording_is_a_missed_call(stack):
    call = stack.call()
    call.press("1")
    call.dial_result("no-answer")
    call.leave_message(seconds=1, transcript=None)
    call.deliver_callbacks()  # the recording status: the action stored it all already
    assert spool.replay(stack.runtime) == 0
    ticket = stack.ticket("1")
    assert (ticket["kind"], ticket["recording_seconds"]) == ("missed_call", 1)


def test_hanging_up_during_the_menu_leaves_no_ticket(stack):
    call = stack.call()
    call.hang_up()
    assert stack.tickets() == []
