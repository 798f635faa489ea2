"""Redis stopped, or the database locked, in the middle of a call: the caller still leaves a voicemail,
it becomes a ticket, and the page goes out once the store is back. Real worker processes throughout."""
import pytest

from dispatch.calls import spool
from fake_twilio.phone import ACCOUNT_SID
from tests.dispatch_support import (
    database_held,
    events,
    primary_now,
    real_time_stack,
    start_worker,
    stop_workers,
    wait_alive,
    wait_until,
    worker_logs,
)
from tests.support import RedisServer

pytestmark = pytest.mark.postgres


def test_redis_stopped_during_a_call_loses_nothing_and_the_page_leaves_once_it_is_back(tmp_path, database_url):
    redis_server = RedisServer(tmp_path / "redis").start()
    stack = real_time_stack(tmp_path, redis_server.url, database_url)
    worker = start_worker(stack, "through-the-outage")
    try:
        wait_alive(stack, "through-the-outage")
        primary = primary_now(stack)
        call = stack.call()
        call.press("501")
        assert call.state == "record"
        redis_server.stop()  # mid-call, between the menu and the message
        call.leave_message(seconds=35, transcript="The whole office is offline")
        call.deliver_callbacks()
        assert "Your ticket number is 1." in call.said
        ticket = stack.ticket("CS-000001")
        assert (ticket["kind"], ticket["priority"], ticket["transcript"]) == (
            "emergency_voicemail", "P1", "The whole office is offline")
        assert stack.fake.messages == []  # nothing could be queued: the page waits in the database's outbox
        redis_server.start()  # the same port: the worker and the app reconnect by themselves
        wait_until(lambda: stack.fake.sms_to(primary), 60, "the page once Redis is back", lambda: worker_logs(stack))
        wait_until(lambda: events(stack.ticket("CS-000001"), "page_sent"), 10, "the page to be recorded")
        assert len(stack.fake.messages) == 1
        assert worker.poll() is None  # the worker rode out the outage
    finally:
        stop_workers(worker)
        redis_server.stop()
        stack.fake.stop()
        stack.runtime.store.dispose()


def test_a_locked_database_still_takes_the_voicemail_and_the_ticket_and_page_follow(tmp_path, redis_url,
                                                                                    database_url):
    stack = real_time_stack(tmp_path, redis_url, database_url)
    worker = None
    try:
        primary = primary_now(stack)
        call = stack.call()
        call.press("501")
        with database_held(stack.runtime.store):  # each webhook waits out the lock timeout, then spools
            call.leave_message(seconds=50, transcript="Server room is flooding")
            assert "Your message has been saved" in call.said and call.state == "ended"
            call.deliver_callbacks()
        assert stack.tickets() == []
        worker = start_worker(stack, "after-the-lock")  # its housekeeping replays the spool
        wait_until(lambda: stack.fake.sms_to(primary), 60, "the page from the replayed voicemail",
                   lambda: worker_logs(stack))
        # The page may leave between the replay of the action's file and the transcription's.
        wait_until(lambda: spool.backlog(stack.runtime.settings.data_dir)["waiting"] == 0, 30,
                   "the rest of the spool's replay", lambda: worker_logs(stack))
        [ticket] = stack.tickets()
        assert (ticket["kind"], ticket["priority"], ticket["transcript"], ticket["recording_seconds"]) == (
            "emergency_voicemail", "P1", "Server room is flooding", 50)
        assert ticket["recording_url"]
        # One page; when it left before the transcript was replayed, the transcript follows it once.
        pages = [m for m in stack.fake.messages if m["body"].startswith("EMERGENCY")]
        follow_ups = [m for m in stack.fake.messages if " said: " in m["body"]]
        assert len(pages) == 1 and len(follow_ups) <= 1
        assert len(stack.fake.messages) == len(pages) + len(follow_ups)
    finally:
        if worker:
            stop_workers(worker)
        stack.fake.stop()
        stack.runtime.store.dispose()


def test_a_recording_callback_arriving_first_with_redis_down_is_kept_and_makes_the_ticket(tmp_path, database_url):
    """The recording status callback may beat the <Record> action, and is the only copy of the
    recording when the action never comes: with Redis away it is still kept (in the spool), the
    worker's replay makes the ticket, and the page waits in the database's outbox."""
    redis_server = RedisServer(tmp_path / "redis").start()
    stack = real_time_stack(tmp_path, redis_server.url, database_url)
    try:
        call = stack.call()
        call.press("501")
        record = call._expect("record")
        redis_server.stop()
        recording = {"AccountSid": ACCOUNT_SID, "CallSid": call.call_sid, "RecordingSid": "RE" + "3" * 32,
                     "RecordingUrl": "https://api.twilio.com/rec/RE3", "RecordingStatus": "completed",
                     "RecordingDuration": "20"}
        assert stack.hooks.post(record.get("recordingStatusCallback"), recording)[0] == 200
        assert spool.replay(stack.runtime) == 1
        ticket = stack.ticket("CS-000001")
        assert (ticket["kind"], ticket["recording_seconds"]) == ("emergency_voicemail", 20)
        assert events(ticket, "page_requested")  # the page waits in the outbox for Redis
    finally:
        redis_server.stop()
        stack.fake.stop()
        stack.runtime.store.dispose()
