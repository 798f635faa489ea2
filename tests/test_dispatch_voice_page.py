"""The voice page: what the technician hears, 4/6/*/1, machines, and calls that reach nobody."""
import pytest

from tests.dispatch_support import (
    DAVE,
    ERIN,
    advance,
    deliver_all,
    emergency_voicemail,
    events,
    on_call,
    paging_stack,
    settle,
    two_managers_stack,
)


@pytest.fixture
def paged(tmp_path, redis_url, database_url):
    """A ticket whose escalation has reached the voice step (minute 5), the SMS delivered."""
    stack = paging_stack(tmp_path, redis_url, database_url)
    stack.at(2026, 11, 24, 3, 0)
    emergency_voicemail(stack, transcript="The mail server is down.")
    settle(stack)
    deliver_all(stack)
    advance(stack, minutes=5)
    yield stack
    stack.fake.stop()
    stack.runtime.store.dispose()


def test_the_voice_page_says_who_called_and_why_and_4_acknowledges(paged):
    people = on_call(paged)
    [call] = paged.fake.calls
    assert call["to"] == people["primary"] and call["machine_detection"] == "Enable"
    phone = paged.fake.answer_call(call["sid"], answered_by="human")
    said = phone.said
    assert "emergency page" in said and "Ticket 1, from an unknown caller." in said
    assert "Their number is 2 7 0, 5 5 5, 0 1 9 9." in said  # in groups
    assert "They said: The mail server is down." in said
    keys = ("Press 4 to acknowledge, 6 to resolve, 5 to escalate, 7 to be connected to the caller, "
            "1 to hear the message, or star to repeat.")
    assert keys in said and said.index(keys) < said.index("They said")  # the keys before the message
    phone.press("1")
    assert phone.said.startswith("[plays https://api.twilio.com/")
    phone.press("*")
    assert "They said: The mail server is down." in phone.said
    phone.press("4")
    assert phone.said == "Acknowledged. Ticket 1 is yours. Goodbye."
    assert phone.state == "ended"
    ticket = paged.ticket("CS-000001")
    assert ticket["status"] == "acknowledged" and events(ticket, "acknowledged")[0]["via"] == "voice"
    advance(paged, minutes=60)
    assert len(paged.fake.calls) == 1 and len(paged.fake.messages) == 1


def test_6_resolves(paged):
    phone = paged.fake.answer_call(paged.fake.calls[0]["sid"])
    phone.press("6")
    assert phone.said == "Ticket 1 is now resolved. Goodbye."
    assert paged.ticket("CS-000001")["status"] == "resolved"


def test_silence_repeats_the_page_then_gives_up_and_the_next_step_goes_now(paged):
    people = on_call(paged)
    phone = paged.fake.answer_call(paged.fake.calls[0]["sid"])
    phone.wait().wait().wait()
    assert phone.said.endswith("The page was not acknowledged, so it goes on to the next person. Goodbye.")
    assert phone.state == "ended"
    assert phone.heard.count("They said: The mail server is down.") == 3
    assert paged.ticket("CS-000001")["status"] == "new"
    settle(paged)  # minute 5: the secondary's step, not at minute 10
    assert [m["to"] for m in paged.fake.messages] == [people["primary"], people["secondary"]]
    step = events(paged.ticket("CS-000001"), "escalation_step")[-1]
    assert step["early_because"].endswith(": no key pressed on the call")


@pytest.mark.parametrize("answered_by", ["machine_start", "machine_end_beep", "fax"])
def test_an_answering_machine_never_acknowledges_and_escalates_at_once(paged, answered_by):
    people = on_call(paged)
    phone = paged.fake.answer_call(paged.fake.calls[0]["sid"], answered_by=answered_by)
    assert phone.state == "ended" and phone.heard == []
    settle(paged)  # the clock is still at minute 5
    assert paged.ticket("CS-000001")["status"] == "new"
    assert [m["to"] for m in paged.fake.messages] == [people["primary"], people["secondary"]]
    ticket = paged.ticket("CS-000001")
    assert any(e.get("answered_by") == answered_by for e in events(ticket, "delivery"))


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed"])
def test_a_call_that_reaches_nobody_escalates_at_once(paged, status):
    people = on_call(paged)
    paged.fake.send_call_status(paged.fake.calls[0]["sid"], "ringing")
    paged.fake.send_call_status(paged.fake.calls[0]["sid"], status)
    settle(paged)
    assert [m["to"] for m in paged.fake.messages] == [people["primary"], people["secondary"]]
    assert paged.ticket("CS-000001")["timeline"][-1]["event"] == "page_sent"


def test_a_call_answered_after_someone_else_acknowledged_says_who(paged):
    people = on_call(paged)
    paged.fake.sms_from(people["manager"], "ACK 1", paged.config.support_number)  # a manager may take any
    phone = paged.fake.answer_call(paged.fake.calls[0]["sid"])
    manager = paged.api("/api/oncall").get_json()["managers"][0]["name"]
    assert phone.said == f"Ticket 1 was already taken by {manager}. Goodbye."


def test_page_urls_are_signed_and_unknown_pages_end_politely(paged):
    call_sid = "CA" + "1" * 32
    assert paged.client.post("/voice/page?page=1", data={"CallSid": call_sid}).status_code == 403
    status, body = paged.hooks.post("/voice/page?page=999", {"CallSid": call_sid, "AnsweredBy": "human"})
    assert status == 200 and "no longer active" in body
    status, body = paged.hooks.post("/voice/page?page=abc", {"CallSid": call_sid})
    assert status == 200 and "no longer active" in body


@pytest.mark.parametrize("silent_first", [True, False])
def test_a_voice_step_of_several_moves_on_once_nobody_was_reached_whatever_the_order(
        tmp_path, redis_url, database_url, silent_first):
    """Dave picks up and keys nothing (he is told it goes on to the next person); Erin does not
    answer. Whichever comes first, the next step runs as soon as both are known, not at its time."""
    stack = two_managers_stack(tmp_path, redis_url, database_url, "voice")
    try:
        primary = on_call(stack)["primary"]
        emergency_voicemail(stack)
        settle(stack)
        dave, erins = stack.fake.calls
        assert (dave["to"], erins["to"]) == (DAVE, ERIN["mobile"])

        def dave_keys_nothing():
            stack.fake.answer_call(dave["sid"]).wait().wait().wait()

        def erin_does_not_answer():
            stack.fake.send_call_status(erins["sid"], "no-answer")

        for event in ((dave_keys_nothing, erin_does_not_answer) if silent_first
                      else (erin_does_not_answer, dave_keys_nothing)):
            assert stack.fake.messages == []
            event()
            settle(stack)
        assert [m["to"] for m in stack.fake.messages] == [primary]
    finally:
        stack.fake.stop()
