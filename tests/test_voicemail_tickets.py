"""Voicemails into tickets: callbacks in any order and repeated, callers matched or withheld."""
import fcntl
import io

import pytest

from dispatch import directory
from dispatch.calls import spool
from dispatch.calls.intake import CallReport
from fake_twilio.phone import ACCOUNT_SID
from tests.dispatch_support import database_held
from tests.support import CLIENT_PHONE

pytestmark = pytest.mark.postgres


def _emergency_call(stack, from_=CLIENT_PHONE):
    stack.at(2026, 11, 25, 23, 0)
    call = stack.call(from_=from_)
    call.press("501")
    return call


def test_duplicate_and_reordered_callbacks_make_one_ticket_and_one_page(stack):
    call = _emergency_call(stack)
    call.leave_message(seconds=25, transcript="Server room is flooding")
    call.deliver_callbacks(order=[1, 0], repeat=True)  # transcript first, then both again
    tickets = stack.tickets()
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket["transcript"] == "Server room is flooding" and ticket["recording_seconds"] == 25
    events = [e["event"] for e in ticket["timeline"]]
    assert events.count("created") == 1 and events.count("page_requested") == 1
    assert events.count("transcript") == 1 and events.count("recording") == 1
    assert len(stack.queued_jobs("urgent")) == 1


def test_recording_callback_before_the_action_creates_the_ticket_the_action_completes(stack):
    call = _emergency_call(stack)
    recording = {"CallSid": call.call_sid, "From": CLIENT_PHONE, "RecordingSid": "RE" + "1" * 32,
                 "RecordingUrl": "https://api.twilio.com/rec/RE1", "RecordingStatus": "completed",
                 "RecordingDuration": "33"}
    assert stack.hooks.post("/voice/recording-status?box=emergency", recording)[0] == 200
    assert stack.tickets() == []  # kept in the spool: the action, sent with it, usually stores it all
    assert spool.replay(stack.runtime) == 1  # as the worker does every few seconds
    assert stack.ticket("1")["kind"] == "emergency_voicemail"
    action = {**recording, "Digits": "#"}
    del action["RecordingStatus"]
    status, body = stack.hooks.post("/voice/recorded?box=emergency", action)
    assert status == 200 and "Your ticket number is 1." in body
    assert len(stack.tickets()) == 1
    assert len(stack.queued_jobs("urgent")) == 1


def test_the_recording_callback_is_answered_while_another_process_holds_the_database(stack):
    """Twilio's recording status callback mostly repeats what the <Record> action stored. On
    SQLite a read, which never waits for the write lock, finds the ticket holding the
    recording, and nothing is written, not even to the spool. PostgreSQL's table lock (a
    migration's) stops reads too: after the lock timeout the callback goes to the spool, and
    the replay finds the ticket complete."""
    call = _emergency_call(stack)
    call.leave_message(seconds=25, transcript=None)  # the action stored the ticket and its recording
    spooled = spool.spool_dir(stack.runtime.settings.data_dir)
    with database_held(stack.runtime.store):
        assert call.deliver_callbacks() == [200]
        kept = list(spooled.glob("*.json"))
        assert len(kept) == (0 if stack.runtime.store.is_sqlite else 1)
    assert spool.replay(stack.runtime) == len(kept)
    ticket = stack.ticket("1")
    assert ticket["recording_seconds"] == 25
    assert [e["event"] for e in ticket["timeline"]].count("recording") == 1


def test_a_recording_callback_that_adds_to_the_ticket_is_kept_for_the_worker(stack):
    """The action stored a recording; a callback names another one (the call recorded again): not
    what the ticket holds, so it goes to the spool, and the replay notes it on the timeline."""
    call = _emergency_call(stack)
    call.leave_message(seconds=25, transcript=None)
    recording = {"CallSid": call.call_sid, "RecordingSid": "RE" + "9" * 32, "RecordingStatus": "completed",
                 "RecordingUrl": "https://api.twilio.com/rec/RE9", "RecordingDuration": "31"}
    assert stack.hooks.post("/voice/recording-status?box=emergency", recording)[0] == 200
    assert len(list(spool.spool_dir(stack.runtime.settings.data_dir).glob("*.json"))) == 1
    assert spool.replay(stack.runtime) == 1
    ticket = stack.ticket("1")
    assert ticket["recording_seconds"] == 25
    assert [(e["sid"], e["seconds"]) for e in ticket["timeline"] if e["event"] == "another_recording"] == [
        ("RE" + "9" * 32, 31)]


def test_recording_callback_first_without_from_keeps_the_callers_number(stack):
    """Twilio's recording status callback carries no From; when it beats the <Record> action
    and creates the ticket (and its page), the caller's number must still be on it."""
    call = _emergency_call(stack)
    record = call._expect("record")
    recording = {"AccountSid": ACCOUNT_SID, "CallSid": call.call_sid, "RecordingSid": "RE" + "2" * 32,
                 "RecordingUrl": "https://api.twilio.com/rec/RE2", "RecordingStatus": "completed",
                 "RecordingDuration": "40", "RecordingChannels": "1", "RecordingSource": "RecordVerb"}
    assert stack.hooks.post(record.get("recordingStatusCallback"), recording)[0] == 200
    assert spool.replay(stack.runtime) == 1
    assert stack.ticket("1")["caller"] == CLIENT_PHONE
    call.leave_message(seconds=40)
    assert stack.ticket("1")["caller"] == CLIENT_PHONE and len(stack.tickets()) == 1


def test_transcription_first_without_from_keeps_the_callers_number(stack):
    """Nor does the transcription callback carry a From: when it comes first (the action lost, the
    recording status still in the spool), the ticket it creates must still name the caller."""
    call = _emergency_call(stack)
    record = call._expect("record")
    transcription = {"AccountSid": ACCOUNT_SID, "CallSid": call.call_sid, "RecordingSid": "RE" + "3" * 32,
                     "RecordingUrl": "https://api.twilio.com/rec/RE3", "TranscriptionSid": "TR" + "3" * 32,
                     "TranscriptionText": "Email is down for everyone", "TranscriptionStatus": "completed"}
    assert stack.hooks.post(record.get("transcribeCallback"), transcription)[0] == 200
    [ticket] = stack.tickets()
    assert (ticket["caller"], ticket["transcript"]) == (CLIENT_PHONE, "Email is down for everyone")


def test_a_second_recording_on_the_same_call_keeps_the_first_and_goes_on_the_timeline(stack):
    """Twilio sends a call whose action failed to the Fallback URL, and the caller speaks again: one
    ticket, whose recording and transcript stay the first message's; the second is on its timeline."""
    call = _emergency_call(stack)
    call.leave_message(seconds=30, transcript="Server room flooding")
    call.deliver_callbacks()
    first = stack.ticket("1")
    call.fall_back()
    assert "technical difficulties" in call.said and call.state == "record"
    call.leave_message(seconds=6, transcript="Hello, is anyone there?")
    call.deliver_callbacks(repeat=True)
    spool.replay(stack.runtime)
    [ticket] = stack.tickets()
    assert (ticket["recording_url"], ticket["recording_seconds"], ticket["transcript"]) == (
        first["recording_url"], 30, "Server room flooding")
    [again] = [e for e in ticket["timeline"] if e["event"] == "another_recording"]
    assert again["seconds"] == 6 and again["url"].startswith("https://api.twilio.com/")
    assert again["url"] != first["recording_url"]
    [said] = [e for e in ticket["timeline"] if e["event"] == "another_transcript"]
    assert said["text"] == "Hello, is anyone there?"


def test_a_repeated_absent_recording_is_noted_once(stack):
    call = _emergency_call(stack)
    call.stay_silent()
    call.deliver_callbacks(repeat=True)
    spool.replay(stack.runtime)
    events = [e["event"] for e in stack.ticket("1")["timeline"]]
    assert events.count("recording_absent") == 1


def test_late_transcript_is_added_to_the_existing_ticket(stack):
    call = _emergency_call(stack)
    call.leave_message(seconds=25, transcript="Email is down for everyone")
    transcript_callback = call.pending[1]
    call.deliver_callbacks(order=[0])
    assert stack.ticket("1")["transcript"] is None
    stack.clock.advance(minutes=2)
    stack.hooks.post(*transcript_callback)
    ticket = stack.ticket("1")
    assert ticket["transcript"] == "Email is down for everyone"
    assert ticket["timeline"][-1]["event"] == "transcript"


def test_failed_transcription_is_noted_once(stack):
    call = _emergency_call(stack)
    call.leave_message(seconds=25, transcript="x")
    url, params = call.pending[1]
    failed = {**params, "TranscriptionStatus": "failed", "TranscriptionText": ""}
    stack.hooks.post(url, failed)
    stack.hooks.post(url, failed)
    events = [e["event"] for e in stack.ticket("1")["timeline"]]
    assert events.count("transcript_failed") == 1


@pytest.mark.parametrize("from_", ["Anonymous", "Restricted", "", "+266696687", "+7378742833", "+2562533",
                                   "+8656696", "+86282452253", "not a number", "+1" + "9" * 40])
def test_withheld_or_unparsable_caller_ids_are_stored_as_anonymous(stack, from_):
    call = _emergency_call(stack, from_=from_)
    call.leave_message(seconds=10)
    ticket = stack.ticket("1")
    assert ticket["caller"] == "anonymous" and ticket["client"] is None


def test_national_caller_id_is_normalised_to_e164(stack):
    call = _emergency_call(stack, from_="(270) 555-0199")
    call.leave_message(seconds=10)
    assert stack.ticket("1")["caller"] == CLIENT_PHONE


def test_known_caller_is_matched_to_their_client_and_contact(stack):
    csv_text = ("client,name,phone,email\n"
                "Acme Dental,Dana Smith,(270) 555-0199;+12705550198,dana@acme.test\n"
                "Acme Dental,Lee Park,+12705550197,lee@acme.test\n")
    with stack.runtime.store.transaction() as session:
        report = directory.import_csv(session, io.StringIO(csv_text), "US")
    assert report.added == 2
    call = _emergency_call(stack)
    call.leave_message(seconds=10)
    ticket = stack.ticket("1")
    assert ticket["client"] == "Acme Dental"
    assert ticket["contact"]["name"] == "Dana Smith"
    assert ticket["timeline"][0]["client"] == "Acme Dental"


def test_ticket_numbers_are_sequential_with_the_prefix(stack):
    for n in range(1, 4):
        call = stack.call()
        call.press("1")
        call.dial_result("busy")
        call.leave_message(seconds=5)
        assert f"Your ticket number is {n}." in call.said
    assert [t["number"] for t in stack.tickets()] == ["CS-000003", "CS-000002", "CS-000001"]


def test_one_replay_of_the_spool_at_a_time_per_data_folder(stack):
    """The workers of a host share its spool: while one replays it (it holds the folder's lock,
    released even if it is killed), another's round leaves the files to it."""
    call = _emergency_call(stack)
    record = call._expect("record")
    assert stack.hooks.post(record.get("recordingStatusCallback"), {  # before the action: kept in the spool
        "CallSid": call.call_sid, "RecordingSid": "RE" + "5" * 32, "RecordingStatus": "completed",
        "RecordingUrl": "https://api.twilio.com/rec/RE5", "RecordingDuration": "25"})[0] == 200
    data_dir = stack.runtime.settings.data_dir
    with open(data_dir / "spool.lock", "a") as other_worker:
        fcntl.flock(other_worker, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert spool.replay(stack.runtime) == 0
        assert len(list(spool.spool_dir(data_dir).glob("*.json"))) == 1
    assert spool.replay(stack.runtime) == 1


def test_a_spool_file_that_cannot_be_recorded_is_set_aside_and_the_others_go_on(stack):
    """A recording status callback that the action has not already stored passes through the
    spool: one payload that fails for itself (not for a database outage) must not hold up the
    recordings queued after it."""
    data_dir = stack.runtime.settings.data_dir
    spool.keep(data_dir, CallReport(call_sid="CA" + "b" * 32, box="emergency", recording_sid="RE" + "b" * 32,
                                    recording_seconds="not a number", recording_status="completed"))
    call = _emergency_call(stack)
    record = call._expect("record")
    assert stack.hooks.post(record.get("recordingStatusCallback"), {
        "AccountSid": ACCOUNT_SID, "CallSid": call.call_sid, "RecordingSid": "RE" + "4" * 32,
        "RecordingUrl": "https://api.twilio.com/rec/RE4", "RecordingStatus": "completed",
        "RecordingDuration": "30"})[0] == 200
    assert spool.replay(stack.runtime) == 1
    folder = spool.spool_dir(data_dir)
    assert [p.suffix for p in folder.iterdir()] == [".bad"]
    assert stack.ticket("1")["recording_seconds"] == 30
