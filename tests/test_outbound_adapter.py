"""The one adapter around the twilio client: real HTTP to the stand-in, or the console outbox."""
import logging

import pytest

from dispatch.notification.carrier import DeliveryError, DeliveryState
from dispatch.notification.console import ConsoleMessage
from tests.support import make_stack


def test_sms_goes_through_the_real_twilio_client_to_the_api_base_url(stack):
    sent = stack.runtime.carrier.send_sms("+12705550111", "CS-000001 test page", "http://localhost/sms/status")
    assert sent.sid.startswith("SM") and sent.state is DeliveryState.SENDING  # Twilio said "queued"
    [message] = stack.fake.sms_to("+12705550111")
    assert message["from"] == "+12702054709" and message["body"] == "CS-000001 test page"
    assert message["status_callback"] == "http://localhost/sms/status"


def test_calls_carry_machine_detection_and_a_status_callback(stack):
    sent = stack.runtime.carrier.place_call("+12705550111", "http://localhost/voice/x", "http://localhost/cb",
                                            machine_detection=True, timeout=20)
    [call] = stack.fake.calls_to("+12705550111")
    assert call["sid"] == sent.sid and call["machine_detection"] == "Enable" and call["timeout"] == "20"


@pytest.mark.parametrize("fault, permanent", [(500, False), (429, False), ("drop", False),
                                              (("error", 400, 21211), True), (("error", 400, 21610), True)])
def test_errors_are_sorted_into_transient_and_permanent(stack, fault, permanent):
    stack.fake.fail_next(fault)
    with pytest.raises(DeliveryError) as raised:
        stack.runtime.carrier.send_sms("+12705550111", "hello", None)
    assert raised.value.permanent is permanent
    assert stack.fake.messages == []


def test_an_invalid_number_is_refused_by_the_stand_in_as_twilio_would(stack):
    with pytest.raises(DeliveryError) as raised:
        stack.runtime.carrier.send_sms("+1555", "hello", None)
    assert raised.value.permanent and raised.value.code == 21211


def test_without_credentials_messages_go_to_the_console_outbox(tmp_path, redis_url, database_url, caplog):
    caplog.set_level(logging.INFO, logger="dispatch.notification.console")
    stack = make_stack(tmp_path, redis_url, database_url, env={"TWILIO_ACCOUNT_SID": ""})
    try:
        sent = stack.runtime.carrier.send_sms("+12705550111", "page body", None)
        answer, status = "https://x.example/verification/callback?token=T0KEN", "https://x.example/status?token=T0KEN"
        called = stack.runtime.carrier.place_call("+12705550150", answer, status)
        with stack.runtime.store.transaction() as session:
            sms, call = session.query(ConsoleMessage).order_by(ConsoleMessage.id).all()
            assert (sms.sid, sms.to, sms.content) == (sent.sid, "+12705550111", "page body")
            assert (call.sid, call.content, call.status_callback) == (called.sid, answer, status)
        assert "console outbox" in caplog.text and "page body" in caplog.text
        assert "/verification/callback" in caplog.text and "T0KEN" not in caplog.text  # a call's token stays out
        assert stack.fake.messages == []
    finally:
        stack.fake.stop()


@pytest.mark.parametrize("status, call, code, state", [
    ("queued", False, None, "sending"), ("sent", False, None, "sent"), ("delivered", False, None, "delivered"),
    ("undelivered", False, "30003", "failed_temporarily"), ("undelivered", False, "30006", "failed"),
    ("ringing", True, None, "sent"), ("in-progress", True, None, "answered"), ("completed", True, None, "delivered"),
    ("no-answer", True, None, "failed_temporarily"), ("failed", True, None, "failed"),
])
def test_twilios_statuses_become_neutral_states(status, call, code, state):
    from dispatch.notification.twilio import statuses

    report = statuses.report(status, call=call, error_code=code)
    assert report.state.value == state and report.detail == status
    assert statuses.report("a-status-twilio-adds-later", call=call) is None


def test_an_answering_machine_is_told_apart_from_a_person():
    from dispatch.notification.twilio import statuses

    assert statuses.report("in-progress", call=True, answered_by="machine_end_beep").machine
    assert statuses.report("in-progress", call=True, answered_by="fax").machine
    assert not statuses.report("in-progress", call=True, answered_by="human").machine
