"""A ticket worked through its lifecycle by technicians' texts and callers' replies, through signed SMS
webhooks and the Twilio stand-in: waiting on the caller, reminders, resolution, reopening, the survey,
closing; and what a caller may and may not do by text."""
import pytest

from tests.dispatch_support import ALICE, DAVE, events, settle
from tests.lifecycle_support import assign, text, texts_to, tick, voicemail, worked_stack
from tests.support import CLIENT_PHONE, config_with
from tests.verification_helpers import ANN, ANN_PIN, STRANGER, reach_pin_prompt, seed


@pytest.fixture
def worked(tmp_path, redis_url, database_url):
    yield from worked_stack(tmp_path, redis_url, database_url)


@pytest.mark.postgres  # what several workers or web processes rely on, on PostgreSQL too
def test_waiting_reminders_no_contact_reopen_resolve_rate_and_close(worked):
    ticket = voicemail(worked)
    assert (ticket["number"], ticket["priority"], ticket["status"]) == ("CS-000001", "P3", "new")
    assert texts_to(worked, CLIENT_PHONE) == [
        "SmartPath Technologies: your call is logged as ticket CS-000001. A technician will call you back."]
    assign(worked, "CS-000001", "alice")  # the desk lead hands out the call-back

    assert text(worked, ALICE, "ACK 1")[0].startswith("CS-000001 is yours.")
    assert worked.ticket("CS-000001")["owner"] == "alice"
    assert text(worked, ALICE, "WAIT 1") == [
        "CS-000001 waits on the caller: 3 reminders, 1 day apart, then resolved for no contact."]
    settle(worked)
    reminder = ("SmartPath Technologies: we are waiting for your reply on ticket CS-000001 to go on. "
                "Reply to this message or call us on +12702054709.")
    assert texts_to(worked, CLIENT_PHONE)[1:] == [reminder]
    waiting = worked.ticket("CS-000001")
    assert waiting["status"] == "waiting" and waiting["resolution_due"] is None  # the clock stands still

    tick(worked, days=1)
    tick(worked, hours=23)
    assert texts_to(worked, CLIENT_PHONE)[1:] == [reminder] * 2  # one a day, not sooner
    tick(worked, hours=1)
    assert texts_to(worked, CLIENT_PHONE)[1:] == [reminder] * 3
    tick(worked, days=1)  # a day after the last reminder, no reply: resolved for no contact
    resolved = worked.ticket("CS-000001")
    assert resolved["status"] == "resolved" and resolved["resolved_at"] is not None
    assert events(resolved, "resolved")[-1]["reason"] == "no contact"
    assert texts_to(worked, CLIENT_PHONE)[-1] == (
        "SmartPath Technologies: we did not hear back from you, so ticket CS-000001 is resolved. "
        "Reply REOPEN 1 within 5 days if you still need help.")

    assert text(worked, CLIENT_PHONE, "Reopen 1") == ["Ticket CS-000001 is open again. A technician will contact you."]
    reopened = worked.ticket("CS-000001")
    assert (reopened["status"], reopened["resolved_at"]) == ("acknowledged", None)
    assert events(reopened, "reopened")[-1]["via"] == "sms"
    settle(worked)
    assert texts_to(worked, ALICE)[-1] == ("CS-000001 REOPENED by its caller: unknown caller. Call +12705550199. "
                                           "Reply ACK 1")

    assert text(worked, ALICE, "RES 1") == ["CS-000001 is resolved. Thank you."]
    settle(worked)
    assert texts_to(worked, CLIENT_PHONE)[-1] == (
        "SmartPath Technologies: ticket CS-000001 is resolved. Reply REOPEN 1 within 5 days if it is not fixed. "
        "How did we do? Reply 1 Poor, 2 Average, 3 Good, 4 Excellent.")
    assert text(worked, CLIENT_PHONE, "4") == ["Thank you for your feedback on ticket CS-000001."]
    assert worked.ticket("CS-000001")["rating"] == 4
    settle(worked)
    assert texts_to(worked, DAVE) == []  # a good rating troubles no manager

    tick(worked, days=4, hours=23)
    assert worked.ticket("CS-000001")["status"] == "resolved"
    tick(worked, hours=1)
    closed = worked.ticket("CS-000001")
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert text(worked, CLIENT_PHONE, "REOPEN 1") == [
        "Ticket CS-000001 is closed. Please call us on +12702054709, and we will open a new ticket."]
    assert worked.ticket("CS-000001")["status"] == "closed"
    changes = [e["event"] for e in closed["timeline"] if e["event"] in (
        "acknowledged", "owner", "waiting", "wait_ended", "resolved", "reopened", "rating", "closed")]
    assert changes == ["owner", "acknowledged", "waiting", "wait_ended", "resolved", "reopened", "resolved", "rating",
                       "closed"]


def test_a_reply_from_the_caller_ends_the_wait_and_its_owner_hears_it(worked):
    voicemail(worked)
    assign(worked, "CS-000001", "alice")  # the desk lead hands out the call-back
    text(worked, ALICE, "ACK 1")
    assert text(worked, ALICE, "WAIT") == ["You have no open page. Add a ticket number, e.g. ACK 123."]
    text(worked, ALICE, "WAIT 1")
    settle(worked)
    tick(worked, hours=5)
    assert text(worked, CLIENT_PHONE, "It works again after a restart, thanks") == [
        "Thank you. Your reply is on ticket CS-000001, and a technician will be in touch."]
    ticket = worked.ticket("CS-000001")
    assert ticket["status"] == "acknowledged" and ticket["resolution_due"] is not None  # the clock runs again
    [ended] = events(ticket, "wait_ended")
    assert (ended["reason"], ended["text"]) == ("the caller replied", "It works again after a restart, thanks")
    settle(worked)
    assert texts_to(worked, ALICE)[-1] == ("CS-000001: the caller replied: \"It works again after a restart, "
                                           "thanks\" Reply CALL 1 to ring them.")
    tick(worked, days=5)
    assert len(texts_to(worked, CLIENT_PHONE)) == 2  # the confirmation and the one reminder: no more


def test_a_call_from_the_callers_number_ends_the_wait(worked):
    voicemail(worked)
    text(worked, DAVE, "WAIT 1")  # a manager, on a ticket nobody owns yet
    settle(worked)
    call = worked.call()
    call.press("3")
    call.press("1#")
    assert "Ticket 1 has been assigned to a technician." in call.said  # caller ID alone: no more
    call.hang_up()
    ticket = worked.ticket("CS-000001")
    assert ticket["status"] == "new"  # nobody owns it: back to the list
    assert events(ticket, "wait_ended")[0]["reason"] == "the caller called"


def test_stop_is_honoured_before_anything_is_sent_and_start_undoes_it(worked):
    voicemail(worked)
    assign(worked, "CS-000001", "alice")  # the desk lead hands out the call-back
    assert text(worked, CLIENT_PHONE, "STOP") == []  # the carrier's word: Twilio answers it, we do not
    text(worked, ALICE, "WAIT 1")
    settle(worked)
    assert len(texts_to(worked, CLIENT_PHONE)) == 1  # the confirmation, before the STOP
    requests_to_twilio = len(worked.fake.requests)
    tick(worked, days=1)
    assert len(worked.fake.requests) == requests_to_twilio  # not even tried (Twilio would refuse: 21610)
    skipped = events(worked.ticket("CS-000001"), "caller_not_texted")
    assert [e["reason"] for e in skipped] == ["the caller replied STOP"] * 2
    text(worked, CLIENT_PHONE, "START")
    tick(worked, days=1)
    assert len(texts_to(worked, CLIENT_PHONE)) == 2  # the third reminder goes out


def test_a_landline_is_noted_and_never_texted_again(worked):
    voicemail(worked)
    assign(worked, "CS-000001", "alice")  # the desk lead hands out the call-back
    [confirmation] = worked.fake.sms_to(CLIENT_PHONE)
    worked.fake.deliver_sms_status(confirmation["sid"], "undelivered", "30006")  # a landline
    settle(worked)
    [noted] = events(worked.ticket("CS-000001"), "caller_unreachable")
    assert noted["permanent"] is True and noted["kind"] == "caller_confirm"
    text(worked, ALICE, "WAIT 1")
    for _ in range(3):
        tick(worked, days=1)
    ticket = worked.ticket("CS-000001")
    assert len(worked.fake.sms_to(CLIENT_PHONE)) == 1  # no reminder tried
    assert [e["kind"] for e in events(ticket, "caller_not_texted")] == ["caller_reminder"] * 3 + ["caller_resolved"]
    assert ticket["status"] == "resolved" and events(ticket, "resolved")[0]["reason"] == "no contact"


def test_a_send_the_carrier_refuses_marks_the_number_too(worked):
    worked.fake.fail_next(("error", 400, 21614))  # "not a mobile number"
    voicemail(worked)
    assign(worked, "CS-000001", "alice")  # the desk lead hands out the call-back
    noted = events(worked.ticket("CS-000001"), "caller_unreachable")
    assert [n["permanent"] for n in noted] == [True]
    text(worked, ALICE, "RES 1")
    settle(worked)
    assert worked.fake.sms_to(CLIENT_PHONE) == []
    assert events(worked.ticket("CS-000001"), "caller_not_texted")[0]["kind"] == "caller_resolved"


def test_a_poor_rating_tells_the_managers(worked):
    voicemail(worked)
    assign(worked, "CS-000001", "alice")  # the desk lead hands out the call-back
    text(worked, ALICE, "ACK 1")
    text(worked, ALICE, "RES 1")
    settle(worked)
    assert text(worked, CLIENT_PHONE, "'1'") == ["Thank you for your feedback on ticket CS-000001."]
    settle(worked)
    assert texts_to(worked, DAVE) == ["CS-000001 was rated 1 (Poor) by its caller: unknown caller. "
                                      "Call +12705550199. Owner: Alice Adams."]
    assert text(worked, CLIENT_PHONE, "4") == ["Thank you for your feedback on ticket CS-000001."]  # kept: 1
    assert worked.ticket("CS-000001")["rating"] == 1


def test_replies_are_matched_to_the_callers_own_tickets_and_strangers_learn_nothing(worked):
    voicemail(worked)
    assign(worked, "CS-000001", "alice")  # the desk lead hands out the call-back
    text(worked, ALICE, "RES 1")
    other = "+12705550166"
    voicemail(worked, from_=other)
    before = worked.ticket("CS-000001")
    for body in ("REOPEN 1", "REOPEN", "4", "hello?", "WHO"):
        assert text(worked, STRANGER, body) == []
    assert text(worked, other, "REOPEN 1") == [
        "We could not find ticket 1 for this number. Please call us on +12702054709."]
    assert text(worked, other, "REOPEN") == ["Ticket CS-000002 is still open, and a technician is on it."]
    assert text(worked, other, "4") == []  # nothing of theirs asked for a rating
    after = worked.ticket("CS-000001")
    assert (after["status"], after["rating"], len(after["timeline"])) == (
        before["status"], None, len(before["timeline"]))


def test_the_survey_is_asked_only_when_it_is_on_and_nothing_goes_to_a_withheld_number(tmp_path, redis_url,
                                                                                       database_url):
    config = config_with(followup={"confirm_by_sms": True, "survey": False})
    stack = next(worked_stack(tmp_path, redis_url, database_url, config=config))
    try:
        voicemail(stack)
        voicemail(stack, from_="anonymous")
        assign(stack, "CS-000001", "alice")
        assign(stack, "CS-000002", "alice")
        text(stack, ALICE, "RES 1")
        text(stack, ALICE, "RES 2")
        settle(stack)
        assert [m["to"] for m in stack.fake.messages] == [CLIENT_PHONE, CLIENT_PHONE]
        assert stack.fake.messages[-1]["body"] == ("SmartPath Technologies: ticket CS-000001 is resolved. "
                                                   "Reply REOPEN 1 within 5 days if it is not fixed.")
        assert text(stack, CLIENT_PHONE, "3") == []  # no survey asked: a digit is just a text
        assert stack.ticket("CS-000001")["rating"] is None
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()


def test_pressing_1_after_hearing_a_resolved_tickets_status_reopens_it(worked):
    seed(worked)
    voicemail(worked, from_=ANN)
    assign(worked, "CS-000001", "alice")  # the desk lead hands out the call-back
    text(worked, ALICE, "ACK 1")
    text(worked, ALICE, "RES 1")
    settle(worked)
    call = reach_pin_prompt(worked, ANN).press(ANN_PIN + "#")  # the status is for a caller verified on the call
    call.press("3")
    call.press("1#")
    assert "Ticket 1 is resolved" in call.said and "press 1 to reopen this ticket" in call.said
    call.press("1")
    assert call.said.startswith("Ticket 1 is open again, and a technician will contact you.")
    ticket = worked.ticket("CS-000001")
    assert ticket["status"] == "acknowledged" and events(ticket, "reopened")[0]["via"] == "phone"
    settle(worked)
    assert texts_to(worked, ALICE)[-1].startswith("CS-000001 REOPENED by its caller")
    tick(worked, days=6)
    assert worked.ticket("CS-000001")["status"] == "acknowledged"  # no longer on its way to closing


def test_a_ticket_resolved_too_long_ago_is_not_offered_for_reopening(worked):
    seed(worked)
    voicemail(worked, from_=ANN)
    assign(worked, "CS-000001", "alice")  # the desk lead hands out the call-back
    text(worked, ALICE, "RES 1")
    tick(worked, days=5, minutes=1)
    call = reach_pin_prompt(worked, ANN).press(ANN_PIN + "#")
    call.press("3")
    call.press("1#")
    assert "Ticket 1 is closed" in call.said and "reopen" not in call.said
