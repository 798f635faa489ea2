"""Recording callbacks, junk included, in any order and with the database away: one ticket per call,
and nothing a caller recorded is lost."""
from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dispatch.calls import spool
from dispatch.calls.intake import BOXES
from fake_twilio.phone import new_sid
from tests.properties.support import (
    CALLERS,
    E164,
    ENDPOINT,
    PROPERTY,
    SPOKEN_TICKET,
    VOICE_PARAMS,
    _expected_status,
    check_voice_answer,
    one_of_values,
)
from tests.support import CLIENT_PHONE

pytestmark = pytest.mark.postgres


RECORDING_CALLBACKS = st.tuples(
    st.sampled_from(["/voice/recorded", "/voice/recording-status", "/voice/transcription", "/voice/no-message",
                     "/voice/status"]),
    one_of_values(*BOXES, "unknown"), VOICE_PARAMS)


@PROPERTY
@given(callbacks=st.lists(RECORDING_CALLBACKS, min_size=1, max_size=6), caller=CALLERS)
# were, on PostgreSQL: a RecordingSid longer than its column, or a NUL, failed the write; the
# callback went to the spool, whose replay failed on it for ever: no ticket
@example(callbacks=[("/voice/recording-status", "support", {"RecordingSid": "RE" + "1" * 100,
                                                            "RecordingStatus": "completed"})], caller=CLIENT_PHONE)
@example(callbacks=[("/voice/transcription", "emergency", {"TranscriptionText": "down\x00",
                                                           "TranscriptionStatus": "completed"})], caller="\x00")
def test_recording_callbacks_with_junk_leave_exactly_one_ticket_per_call(world, callbacks, caller):
    """The <Record> action, the recording and transcription callbacks, the silent-caller and
    status callbacks of one CallSid, in any order, repeated, with junk values: one ticket (none
    if only a status callback came), paged at most once, and the number a caller hears is that
    ticket's. Nothing lost, nothing duplicated."""
    call_sid = new_sid("CA")
    spool.replay(world.stack.runtime)  # what earlier tests of this world left there
    folder = spool.spool_dir(world.stack.runtime.settings.data_dir)
    heard, creators, paging = [], 0, False
    for path, box, params in callbacks:
        params = {**params, "CallSid": call_sid, "From": caller}
        if _expected_status(params, world) != 200:  # refused before it is read, or a SID of no Twilio shape
            continue
        waiting = len(list(folder.glob("*.json")))
        response, url, sent, crashes = world.post(path, {"box": box}, params)
        root = check_voice_answer(world, ENDPOINT[path], url, sent, response, crashes)
        heard += [" ".join(node.text or "" for node in root.iter("Say"))] if path in (
            "/voice/recorded", "/voice/no-message") else []
        if path != "/voice/status":
            creators += 1
            paging |= BOXES.get(box, BOXES["support"]).pages
        if path == "/voice/recording-status" and len(list(folder.glob("*.json"))) == waiting:
            # not kept for the worker: only because the call's ticket already held it
            assert world.tickets_of_call(call_sid), params
    kept = len(list(folder.glob("*.json")))
    assert spool.replay(world.stack.runtime) == kept
    assert not list(folder.glob("*"))
    tickets = world.tickets_of_call(call_sid)
    assert len(tickets) == (1 if creators else 0), tickets
    if tickets:
        [ticket] = tickets
        assert ticket["caller"] == "anonymous" or E164.fullmatch(ticket["caller"])
        assert ticket["events"].count("created") == 1
        assert ticket["events"].count("page_requested") == (1 if paging else 0)
        for said in heard:  # the number the caller writes down is this call's ticket, and no other
            assert set(SPOKEN_TICKET.findall(said)) == {" ".join(str(ticket["id"]))}, said


SPOOL_CALLBACKS = st.tuples(st.sampled_from(["/voice/recorded", "/voice/recording-status", "/voice/transcription",
                                             "/voice/no-message"]),
                            one_of_values(*BOXES, "unknown"), VOICE_PARAMS.map(lambda p: {
                                k: v for k, v in p.items() if k != "CallSid"}))


@settings(PROPERTY, max_examples=15)
@given(callbacks=st.lists(SPOOL_CALLBACKS, min_size=1, max_size=4),
       call_sid=st.one_of(st.builds(new_sid, st.just("CA")), one_of_values("../../escaped", "a/b", "CA" + "9" * 80)))
# whatever the CallSid holds ('a/b'), the spool file's name stays inside the spool
@example(callbacks=[("/voice/recorded", "support", {"RecordingDuration": "20"})], call_sid="a/b")
def test_with_the_database_away_every_recording_callback_is_kept_and_becomes_one_ticket(away, callbacks, call_sid):
    """While the database is away, every recording callback (any values, any CallSid Twilio
    could sign) still answers valid TwiML and is written to the spool; when the database is
    back, the replay turns them into exactly one ticket for the call, and the spool is empty."""
    world = away.world
    sent = 0
    away.gone()
    try:
        for path, box, params in callbacks:
            params = {**params, "CallSid": call_sid}
            if _expected_status(params, world) != 200:
                continue
            response, url, posted, crashes = world.post(path, {"box": box}, params)
            check_voice_answer(world, ENDPOINT[path], url, posted, response, crashes)
            sent += 1
        assert len(away.spooled()) == sent, "a callback was not kept while the database was away"
    finally:
        away.back()
    assert spool.replay(world.stack.runtime) == sent
    assert away.spooled() == []
    assert len(world.tickets_of_call((call_sid or "unknown")[:64])) == (1 if sent else 0)
