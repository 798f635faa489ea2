"""Whatever a correctly signed voice webhook carries, the answer is well-formed TwiML that
leads somewhere: a caller, a technician and a callee are never stranded."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fake_twilio.phone import ACCOUNT_SID, CallError, PhoneCall, new_sid
from tests.dispatch_support import advance, deliver_all, emergency_voicemail, on_call, settle
from tests.properties.support import (
    ALL_ENDPOINTS,
    BASE,
    CALLERS,
    ENDPOINT,
    INSTANTS,
    PROPERTY,
    QUERY,
    TRANSCRIPTS,
    URLS,
    VOICE_ENDPOINTS,
    VOICE_PARAMS,
    Seeded,
    _assert_walk_documents,
    _expected_status,
    _machine,
    _query_value,
    answering_verdicts,
    assert_valid_voice_twiml,
    check_voice_answer,
    keys,
    parse_twiml,
)
from tests.support import CLIENT_PHONE, NY, SUPPORT_NUMBER
from tests.verification_helpers import ANN_PIN


def test_every_twilio_facing_route_is_covered(world):
    """New webhook routes must join these properties: the list is checked against the app's URL map."""
    routes = {rule.rule for rule in world.app.url_map.iter_rules() if "POST" in rule.methods
              and rule.rule.startswith(("/voice/", "/sms/", "/verification/"))}
    assert routes == {e.path for e in ALL_ENDPOINTS}


@PROPERTY
@given(transcript=TRANSCRIPTS, recording_url=URLS, answered_by=answering_verdicts("human", "machine_start", "fax"),
       key=st.sampled_from(["1", "*", "0", "#"]))
# A NUL in <Say> would make the document unreadable XML.
@example(transcript="\x00", recording_url="", answered_by="human", key="*")
@example(transcript="line one\x0bline two", recording_url="", answered_by="human", key="*")
@example(transcript="", recording_url="not a url", answered_by="human", key="1")  # <Play> must only ever hold a URL
def test_whatever_the_recording_callbacks_say_the_voice_page_reading_them_is_valid_twiml(
        world, transcript, recording_url, answered_by, key):
    """The technician's voice page reads the caller's transcript aloud and plays the recording
    on 1: whatever Twilio's recording and transcription callbacks carried, the page and its
    keys answer valid TwiML, and nothing the callbacks said is lost. (First in the module,
    while ticket 1 is still new and its page still reads them; the keys tried here leave it so.)"""
    call_sid = world.seeded["emergency_sid"]
    for path, params in (("/voice/recording-status", {
            "RecordingSid": new_sid("RE"), "RecordingUrl": recording_url, "RecordingStatus": "completed",
            "RecordingDuration": "42"}), ("/voice/transcription", {
            "TranscriptionText": transcript, "TranscriptionStatus": "completed"})):
        params = {"CallSid": call_sid, "From": CLIENT_PHONE, "AccountSid": ACCOUNT_SID, **params}
        response, _, _, crashes = world.post(path, {"box": "emergency"}, params)
        if (expected := _expected_status(params, world)) != 200:  # over the size Twilio never comes near
            assert response.status_code == expected
            return
        assert response.status_code == 200 and not crashes, crashes
    [ticket] = world.tickets_of_call(call_sid)
    if transcript:  # the words are kept (PostgreSQL's text cannot hold a NUL, so the store drops those)
        assert (ticket["transcript"] or "").replace("\x00", "") == transcript[:20000].replace("\x00", ""), \
            "transcript lost"
    params = {"CallSid": world.seeded["page_call_sid"], "AnsweredBy": answered_by, "Direction": "outbound-api"}
    response, url, params, crashes = world.post("/voice/page", {"page": Seeded("voice_page")}, params)
    check_voice_answer(world, ENDPOINT["/voice/page"], url, params, response, crashes)
    response, url, params, crashes = world.post("/voice/page/key", {"page": Seeded("voice_page")},
                                                {**params, "Digits": key})
    check_voice_answer(world, ENDPOINT["/voice/page/key"], url, params, response, crashes)


TECHNICIAN_KEYS = keys(("4", 2), ("6", 2), ("1", 2), ("*", 2), ("9", 1), ("#", 1), ("44", 1), ("64", 1),
                       junk=r"[0-9*#]{1,4}")


@settings(PROPERTY, max_examples=8)
@given(answered_by=answering_verdicts("human", "machine_start", "machine_end_beep", "fax", "unknown"),
       keys=st.lists(TECHNICIAN_KEYS, max_size=5), transcript=TRANSCRIPTS.filter(lambda t: len(t) < 3000),
       acknowledged_by_sms=st.booleans())
def test_a_technician_answering_a_voice_page_with_any_keys(world, answered_by, keys, transcript,
                                                           acknowledged_by_sms):
    """A fresh emergency, escalated to the voice page, answered by a person or a machine that
    presses anything. Every answer is TwiML the call can follow, the call ends with a spoken
    reason (silently only for a machine), and the ticket's status is decided by the keys alone:
    4 acknowledges, 6 resolves, 7 acknowledges (and connects to the caller), 5 escalates (the
    ticket stays open), a machine or any other key changes nothing."""
    stack = world.stack
    world.next_night()
    call = emergency_voicemail(stack, transcript=transcript)
    [ticket] = world.tickets_of_call(call.call_sid)
    settle(stack)
    deliver_all(stack)
    advance(stack, minutes=5)
    [page_call] = [c for c in stack.fake.calls if urlsplit(c["url"]).path == "/voice/page"
                   and world.page_ticket(int(_query_value(c["url"], "page"))) == ticket["id"]]
    if acknowledged_by_sms:  # another technician takes it while the phone rings
        manager = on_call(stack)["manager"]  # someone else, who may take any ticket
        assert stack.fake.sms_from(manager, f"ACK {ticket['id']}", SUPPORT_NUMBER)[0] == 200
    world.errors.records.clear()
    expected = "acknowledged" if acknowledged_by_sms else "new"
    try:
        phone = stack.fake.answer_call(page_call["sid"], answered_by=answered_by)
        for key in keys:
            if phone.state != "gather":
                break
            if key and key[0] in "467":  # numDigits=1: only the first key counts
                expected = "resolved" if key[0] == "6" else "acknowledged"
            phone.press(key) if key else phone.wait()
    except CallError as exc:
        raise AssertionError(f"the page could not go on: {exc}") from None
    assert not world.errors.records, [r.getMessage() for r in world.errors.records]
    _assert_walk_documents(world, phone, silent_end=_machine({"AnsweredBy": answered_by}))
    status = stack.ticket(str(ticket["id"]))["status"]
    assert status == expected, (status, expected, keys, phone.transcript)
    # The technician closes it, so its escalation does not go on paging through later examples.
    assert stack.fake.sms_from(on_call(stack)["primary"], f"RES {ticket['id']}", SUPPORT_NUMBER)[0] == 200


@pytest.mark.parametrize("endpoint", VOICE_ENDPOINTS, ids=str)
@PROPERTY
@given(params=VOICE_PARAMS, query=QUERY, at=INSTANTS)
# a page id beyond SQLite's INTEGER must find no page, not raise OverflowError
@example(params={"CallSid": "CA1", "DialCallStatus": "completed"}, query={"page": "99999999999999999999"},
         at=datetime(2026, 11, 24, 3, 0, tzinfo=NY))
# was, on PostgreSQL (its text cannot hold a NUL): the verification answered with its error message
@example(params={"CallSid": "CA\x00", "From": "\x00"}, query={}, at=datetime(2026, 11, 24, 3, 0, tzinfo=NY))
def test_a_signed_voice_webhook_always_gets_valid_twiml_and_never_a_dead_end(world, endpoint, params, query, at):
    """Any parameters (missing, junk, huge, Unicode) and any query string: 200 and TwiML a
    caller can follow, or 413 when the form is over the size limit; never a 5xx."""
    world.stack.clock.set(at)
    query = {k: v for k, v in query.items() if k in endpoint.args}
    response, url, sent, crashes = world.post(endpoint.path, query, params)
    if (expected := _expected_status(params, world)) != 200:  # too large, or a SID of no Twilio shape
        assert response.status_code == expected
        return
    check_voice_answer(world, endpoint, url, sent, response, crashes)


@dataclass(frozen=True)
class Move:
    """What the caller does at the next step, read according to where the call is."""

    keys: str | None  # at a <Gather>: what is keyed (None: silence)
    seconds: int  # at a <Record>: length of the message (0: silence)
    hang_up: bool  # at a <Record>: hang up after speaking
    dial_status: str  # at a <Dial>: what the desk did


MOVES = st.builds(Move, keys=keys(("1", 3), ("501", 3), ("2", 2), ("3", 2), ("*", 2), ("9", 1), ("1#", 1),
                                  ("#", 1), (ANN_PIN + "#", 2), ("1111#", 1), ("2705550150#", 1), ("*1", 1),
                                  junk=r"[0-9*#]{1,12}"),
                  seconds=st.integers(0, 700), hang_up=st.booleans(),
                  dial_status=st.sampled_from(["completed", "answered", "busy", "no-answer", "failed", "canceled"]))


@PROPERTY
@given(caller=CALLERS.filter(lambda c: len(c) < 500), moves=st.lists(MOVES, max_size=8), at=INSTANTS,
       order=st.permutations([0, 1]), repeat=st.booleans())
def test_a_caller_pressing_anything_is_never_stranded_and_a_message_is_never_lost(world, caller, moves, at, order,
                                                                                  repeat):
    """A whole call, driven by the Twilio stand-in's phone: any keys, silences, messages and desk
    results. Every answer is TwiML the phone can follow, a call only ends on an explicit
    <Hangup>, and a message left becomes exactly one voicemail ticket, whatever the order or
    repetition of the recording and transcription callbacks."""
    world.stack.clock.set(at)
    call = PhoneCall(world.stack.hooks, from_=caller, to=SUPPORT_NUMBER).start()
    left_message = hung_up = False
    try:
        for move in moves:
            if call.state == "gather":
                call.press(move.keys) if move.keys else call.wait()
            elif call.state == "record":
                if move.seconds:
                    call.leave_message(seconds=move.seconds, transcript="Printer on fire", hang_up=move.hang_up)
                    left_message = move.seconds >= world.stack.config.voicemail_min_seconds
                    hung_up = move.hang_up
                else:
                    call.stay_silent()
            elif call.state == "dial":
                call.dial_result(move.dial_status)
            else:
                break
    except CallError as exc:
        raise AssertionError(f"the call could not go on: {exc}; heard: {call.transcript[-300:]!r}") from None
    for document in call.documents:
        root = parse_twiml(document)
        assert_valid_voice_twiml(world.app, BASE + "/voice/incoming", root)
    if call.state == "ended" and not hung_up:
        assert parse_twiml(call.documents[-1])[-1].tag == "Hangup", f"the call ran off the end: {call.transcript!r}"
    if len(call.pending) == 2:
        call.deliver_callbacks(order=order, repeat=repeat)
    else:
        call.deliver_callbacks(repeat=repeat)
    call.hang_up()
    tickets = world.tickets_of_call(call.call_sid)
    assert len(tickets) <= 1
    if left_message:
        [ticket] = tickets
        assert ticket["kind"] in ("voicemail", "emergency_voicemail") and ticket["recording_sid"], ticket
