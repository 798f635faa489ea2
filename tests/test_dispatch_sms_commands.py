"""Technicians' replies to /sms/incoming: answered in the TwiML, slow work queued, strangers told nothing."""
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from dispatch import jobs
from dispatch.escalation.sms_commands import Command, parse
from dispatch.notification.models import Page
from dispatch.notification.twilio.statuses import is_carrier_keyword
from tests.dispatch_support import advance, deliver_all, emergency_voicemail, events, on_call, paging_stack, settle
from tests.support import CLIENT_PHONE, SUPPORT_NUMBER, RedisServer

pytestmark = pytest.mark.postgres


def text(stack, from_, body) -> list[str]:
    """Send an SMS to the support number; the <Message>s the app answers with."""
    status, answer = stack.fake.sms_from(from_, body, SUPPORT_NUMBER)
    assert status == 200, answer
    root = ET.fromstring(answer)
    assert root.tag == "Response"
    return [m.text for m in root.iter("Message")]


@pytest.mark.parametrize("body, expected", [
    ("ACK", Command("ACK", None)), ("ack 123", Command("ACK", 123)), (" Ack CS-000123 ", Command("ACK", 123)),
    ("res cs123", Command("RES", 123)), ("'ack #12'", Command("ACK", 12)), ("Ack!", Command("ACK", None)),
    ("ESC 7.", Command("ESC", 7)), ("call", Command("CALL", None)),
    ("who", Command("WHO", None)), ("HELP", Command("HELP", None)),
    ("ack please", None), ("ok", None), ("", None), ("123", None),
    ("\u201cACK\u201d", Command("ACK", None)), ("ACK 12?", Command("ACK", 12)), ("ACK, 12", Command("ACK", 12)),
    ("ACK-12", Command("ACK", 12)), ("Ack: cs-000012", Command("ACK", 12)), ("who?", Command("WHO", None)),
])
def test_parse(body, expected):
    assert parse(body, "CS") == expected


@pytest.mark.parametrize("body, keyword", [("STOP", True), ("start", True), ("'Stop.'", True), ("stop please", False),
                                           ("ACK", False)])
def test_twilios_own_keywords_are_left_to_twilio(body, keyword):
    assert is_carrier_keyword(body) is keyword


def test_ack_without_a_number_takes_the_newest_page_stops_escalation_and_tells_the_others(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)
    deliver_all(paging)
    advance(paging, minutes=10)  # voice page to the primary at 5, SMS to the secondary at 10
    deliver_all(paging)
    assert [m["to"] for m in paging.fake.messages] == [people["primary"], people["secondary"]]
    [reply] = text(paging, people["secondary"], "ack")
    assert reply == ("CS-000001 is yours. Call +12705550199. Reply RES 1 when fixed, CALL 1 to ring the caller.")
    ticket = paging.ticket("CS-000001")
    assert ticket["status"] == "acknowledged"
    [ack] = events(ticket, "acknowledged")
    assert (ack["by"], ack["via"]) == (paging.api("/api/oncall").get_json()["secondary"]["id"], "sms")
    settle(paging)
    notice = paging.fake.messages[-1]
    assert notice["to"] == people["primary"]
    assert notice["body"] == f"CS-000001 was taken by {paging.api('/api/oncall').get_json()['secondary']['name']}." \
                             " Nothing to do."
    sent_before = (len(paging.fake.messages), len(paging.fake.calls))
    advance(paging, minutes=120)
    assert (len(paging.fake.messages), len(paging.fake.calls)) == sent_before
    assert [e["step"] for e in events(paging.ticket("CS-000001"), "escalation_step")] == [1, 2, 3]
    # A second ACK from someone else learns who has it.
    [again] = text(paging, people["primary"], "ACK 1")
    assert again.startswith("CS-000001 was already taken by")


def test_res_resolves_and_a_number_picks_the_ticket(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    emergency_voicemail(paging, from_="+12705550177")
    settle(paging)
    [reply] = text(paging, people["primary"], "RES cs-000001")
    assert reply == "CS-000001 is resolved. Thank you."
    assert paging.ticket("CS-000001")["status"] == "resolved"
    assert paging.ticket("CS-000002")["status"] == "new"
    assert text(paging, people["primary"], "res 1") == ["CS-000001 is already resolved."]
    assert text(paging, people["primary"], "ACK 99") == ["There is no ticket CS-000099."]


def test_a_second_bare_ack_takes_the_next_open_ticket(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    emergency_voicemail(paging, from_="+12705550177")
    settle(paging)
    assert text(paging, people["primary"], "ACK")[0].startswith("CS-000002 is yours.")
    assert text(paging, people["primary"], "ACK")[0].startswith("CS-000001 is yours.")
    assert [paging.ticket(n)["status"] for n in ("CS-000001", "CS-000002")] == ["acknowledged"] * 2
    assert text(paging, people["primary"], "ACK")[0].startswith("CS-000002 is yours.")  # nothing new: the newest


def test_a_ticket_resolved_before_its_first_page_left_pages_nobody(paging):
    people = on_call(paging)
    emergency_voicemail(paging)  # no worker has run yet
    [reply] = text(paging, people["manager"], "RES 1")
    assert reply == "CS-000001 is resolved. Thank you."
    settle(paging)  # the page job runs now
    advance(paging, minutes=90)  # and no later step does
    assert [m["to"] for m in paging.fake.messages] == [CLIENT_PHONE]  # only the caller, told it is resolved
    ticket = paging.ticket("CS-000001")
    assert ticket["status"] == "resolved"
    assert events(ticket, "page_sent") == []
    with paging.runtime.store.reading() as session:
        assert session.scalars(select(Page.kind)).all() == ["caller_resolved"]


def test_esc_pages_the_next_step_now(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)
    # The policy's next step is a voice page to the primary: ESC says so.
    assert text(paging, people["primary"], "ESC") == [
        "CS-000001: the next on-call step pages you again, now. Reply ESC 1 again to pass it on."]
    settle(paging)  # no time has passed
    assert [c["to"] for c in paging.fake.calls] == [people["primary"]]
    text(paging, people["primary"], "ESC 1")
    settle(paging)
    assert [m["to"] for m in paging.fake.messages] == [people["primary"], people["secondary"]]
    ticket = paging.ticket("CS-000001")
    assert [e["command"] for e in events(ticket, "reply")] == ["ESC", "ESC"]
    primary = paging.api("/api/oncall").get_json()["primary"]["id"]
    assert [e.get("early_because") for e in events(ticket, "escalation_step")] == \
        [None, f"ESC from {primary}", f"ESC from {primary}"]


def test_esc_long_after_an_ack_pages_one_step_then_the_policy_goes_on_from_there(paging):
    """ACK stops the policy; an ESC an hour and a half later brings its next step forward, once,
    instead of every step that fell due meanwhile at the same moment."""
    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)
    deliver_all(paging)
    text(paging, people["primary"], "ACK")
    settle(paging)
    advance(paging, minutes=90)
    sent_before = (len(paging.fake.messages), len(paging.fake.calls))
    assert sent_before == (1, 0)
    assert text(paging, people["primary"], "ESC") == [
        "CS-000001: the next on-call step pages you again, now. Reply ESC 1 again to pass it on."]
    settle(paging)
    assert (len(paging.fake.messages), [c["to"] for c in paging.fake.calls]) == (1, [people["primary"]])
    ticket = paging.ticket("CS-000001")
    assert ticket["status"] == "new" and len(events(ticket, "reopened")) == 1
    primary = paging.api("/api/oncall").get_json()["primary"]["id"]
    released = events(ticket, "owner")[-1]  # no longer theirs
    assert ticket["owner"] is None
    assert (released["before"], released["after"], released["via"]) == (primary, None, "sms")
    assert [(e["step"], e.get("early_because")) for e in events(ticket, "escalation_step")] == \
        [(1, None), (2, f"ESC from {primary}")]
    # The next steps keep their spacing, counted as if step 1 had run at the ESC: step 3 ten minutes on.
    advance(paging, minutes=9)
    assert len(paging.fake.messages) == 1
    advance(paging, minutes=1)
    assert [m["to"] for m in paging.fake.messages] == [people["primary"], people["secondary"]]


def test_after_a_reopen_a_new_ack_is_news_to_everyone_paged(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)
    deliver_all(paging)
    advance(paging, minutes=10)  # the voice call to the primary, the SMS to the secondary
    deliver_all(paging)
    text(paging, people["secondary"], "ACK")
    settle(paging)
    text(paging, people["secondary"], "ESC")  # the secondary hands it back: the managers are paged
    settle(paging)
    deliver_all(paging)
    text(paging, people["manager"], "ACK")
    settle(paging)
    manager = paging.api("/api/oncall").get_json()["managers"][0]["name"]
    secondary = paging.api("/api/oncall").get_json()["secondary"]["name"]
    notices = [(m["to"], m["body"]) for m in paging.fake.messages if "was taken by" in m["body"]]
    assert notices == [(people["primary"], f"CS-000001 was taken by {secondary}. Nothing to do."),
                       (people["primary"], f"CS-000001 was taken by {manager}. Nothing to do."),
                       (people["secondary"], f"CS-000001 was taken by {manager}. Nothing to do.")]


@pytest.mark.parametrize("fault, reached", [("accept_then_drop", True), (429, False)])
def test_someone_whose_page_may_have_reached_them_is_told_who_took_it(paging, fault, reached):
    """The primary ACKs while the secondary's SMS waits for its retry. Created at Twilio, its answer
    lost: the secondary may have it on their phone, so they get the notice too. Refused with a 429:
    Twilio created nothing, and they are told nothing."""
    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)
    deliver_all(paging)
    advance(paging, minutes=5)  # the voice call to the primary
    paging.fake.fail_next(fault)
    advance(paging, minutes=5)  # the secondary's SMS
    text(paging, people["primary"], "ACK")
    settle(paging)
    primary = paging.api("/api/oncall").get_json()["primary"]["name"]
    notice = (people["secondary"], f"CS-000001 was taken by {primary}. Nothing to do.")
    assert (notice in [(m["to"], m["body"]) for m in paging.fake.messages]) is reached


def test_esc_and_call_sent_while_redis_is_away_happen_once_it_is_back(tmp_path, database_url):
    redis_server = RedisServer(tmp_path / "redis").start()
    stack = paging_stack(tmp_path, redis_server.url, database_url)
    stack.at(2026, 11, 24, 3, 0)
    try:
        people = on_call(stack)
        emergency_voicemail(stack)
        settle(stack)
        deliver_all(stack)
        redis_server.stop()
        assert text(stack, people["primary"], "CALL 1")[0].startswith("Calling you now")
        assert text(stack, people["primary"], "ESC 1") == [
            "CS-000001: the next on-call step pages you again, now. Reply ESC 1 again to pass it on."]
        redis_server.start()  # the same port
        assert jobs.flush(stack.runtime) == 2  # what the worker's housekeeping does every 2 s
        settle(stack)
        bridge, voice_step = stack.fake.calls
        assert bridge["to"] == voice_step["to"] == people["primary"]
        assert "/voice/bridge?" in bridge["url"] and "/voice/page?" in voice_step["url"]
    finally:
        redis_server.stop()
        stack.fake.stop()
        stack.runtime.store.dispose()


def test_call_bridges_the_technician_to_the_caller_from_the_support_number(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)
    [reply] = text(paging, people["primary"], "CALL")
    assert reply.startswith("Calling you now")
    settle(paging)
    [call] = paging.fake.calls
    assert call["to"] == people["primary"] and call["from"] == SUPPORT_NUMBER
    phone = paging.fake.answer_call(call["sid"])
    assert "Connecting you to the caller of ticket 1." in phone.said
    assert phone.state == "dial" and phone.dial_numbers() == [CLIENT_PHONE]
    dial = ET.fromstring(phone.documents[-1]).find("Dial")
    assert dial.get("callerId") == SUPPORT_NUMBER != people["primary"]
    phone.dial_result("completed", duration=95)
    ticket = paging.ticket("CS-000001")
    [callback] = events(ticket, "callback")
    assert (callback["status"], callback["seconds"]) == ("connected", 95)
    assert events(ticket, "callback_call")[0]["staff"] == paging.api("/api/oncall").get_json()["primary"]["id"]


def test_call_for_a_withheld_number_says_so_and_rings_nobody(paging):
    people = on_call(paging)
    emergency_voicemail(paging, from_="Anonymous")
    settle(paging)
    assert text(paging, people["primary"], "call 1") == [
        "The caller of CS-000001 withheld their number, so they cannot be called back."]
    settle(paging)
    assert paging.fake.calls == []


def test_the_same_call_message_delivered_twice_rings_once(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)
    params = {"MessageSid": "SM" + "1" * 32, "SmsSid": "SM" + "1" * 32, "AccountSid": paging.fake.account_sid,
              "From": people["primary"], "To": SUPPORT_NUMBER, "Body": "CALL 1", "NumMedia": "0"}
    assert paging.hooks.post("/sms/incoming", params)[0] == 200
    assert paging.hooks.post("/sms/incoming", params)[0] == 200
    settle(paging)
    assert len(paging.fake.calls) == 1


def delivered_twice(stack, from_, body, sid) -> list[list[str]]:
    """The same inbound message (one MessageSid) delivered twice, as Twilio may; the two answers."""
    params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": stack.fake.account_sid,
              "From": from_, "To": SUPPORT_NUMBER, "Body": body, "NumMedia": "0"}
    answers = []
    for _ in range(2):
        status, answer = stack.hooks.post("/sms/incoming", params)
        assert status == 200, answer
        answers.append([m.text for m in ET.fromstring(answer).iter("Message")])
        settle(stack)
    return answers


@pytest.mark.parametrize("body", ["ACK", "RES 1", "ESC", "CALL 1"])
def test_a_reply_delivered_twice_acts_once_and_answers_the_same(paging, body):
    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)
    sent_before = (len(paging.fake.messages), len(paging.fake.calls))
    first, second = delivered_twice(paging, people["primary"], body, "SM" + "2" * 32)
    assert first and second == first
    ticket = paging.ticket("CS-000001")
    assert [e["command"] for e in events(ticket, "reply")] == [body.split()[0]]
    if body == "ESC":  # the next step (the voice page) once, not the one after it too
        assert [c["to"] for c in paging.fake.calls] == [people["primary"]]
        assert len(paging.fake.messages) == sent_before[0]
        assert len(events(ticket, "escalation_step")) == 2
    if body == "CALL 1":
        assert len(paging.fake.calls) == 1
    if body == "ACK":
        assert len(events(ticket, "acknowledged")) == 1
    if body == "RES 1":
        assert first == ["CS-000001 is resolved. Thank you."]


def test_an_ack_delivered_again_after_an_esc_does_not_take_the_ticket_back(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)
    ack = {"MessageSid": "SM" + "3" * 32, "AccountSid": paging.fake.account_sid, "From": people["primary"],
           "To": SUPPORT_NUMBER, "Body": "ACK 1", "NumMedia": "0"}
    assert paging.hooks.post("/sms/incoming", ack)[0] == 200
    assert text(paging, people["primary"], "ESC 1") == [
        "CS-000001: the next on-call step pages you again, now. Reply ESC 1 again to pass it on."]
    settle(paging)
    assert paging.ticket("CS-000001")["status"] == "new"
    assert paging.hooks.post("/sms/incoming", ack)[0] == 200  # the first ACK, redelivered late
    ticket = paging.ticket("CS-000001")
    assert ticket["status"] == "new"
    assert len(events(ticket, "acknowledged")) == 1


def test_who_and_help(paging):
    people = on_call(paging)
    who = paging.api("/api/oncall").get_json()
    [answer] = text(paging, people["manager"], "who")
    assert answer == (f"On call: {who['primary']['name']} {who['primary']['mobile']} (primary), "
                      f"{who['secondary']['name']} {who['secondary']['mobile']} (secondary), "
                      "managers Dave Diaz +12705550114. Until Mon Nov 30 09:00.")
    [help_text] = text(paging, people["primary"], "help")
    assert "ACK" in help_text and "RES" in help_text and "CALL" in help_text and len(help_text) <= 160
    assert text(paging, people["primary"], "ACK") == ["You have no open page. Add a ticket number, e.g. ACK 123."]


def test_unknown_senders_learn_nothing(paging):
    emergency_voicemail(paging)
    settle(paging)
    for body in ("WHO", "ACK 1", "HELP", "CALL 1", "hello?"):
        assert text(paging, "+12705550188", body) == []
        assert text(paging, "Anonymous", body) == []
    settle(paging)
    assert paging.ticket("CS-000001")["status"] == "new"
    assert len(paging.fake.messages) == 1 and paging.fake.calls == []
    assert events(paging.ticket("CS-000001"), "reply") == []


def test_unreadable_replies_get_help_a_few_times_an_hour_and_carrier_keywords_none(paging):
    people = on_call(paging)
    answers = [text(paging, people["primary"], "on my way") for _ in range(5)]
    assert [len(a) for a in answers] == [1, 1, 1, 0, 0]
    assert answers[0][0].startswith("ACK/4: take it. RES/6: fixed.")
    text(paging, people["primary"], "WHO")  # understood: the next slip is answered again
    assert len(text(paging, people["primary"], "on my way")) == 1
    assert text(paging, people["secondary"], "STOP") == []
    assert text(paging, people["secondary"], "START") == []


def test_forged_sms_is_refused(paging):
    response = paging.client.post("/sms/incoming", data={"From": on_call(paging)["primary"], "Body": "ACK 1"})
    assert response.status_code == 403
