"""Requests that change one row at the same moment: Twilio repeating a callback or sending
statuses close together, two technicians answering a page, two calls for one contact.

Each test releases its requests together from threads, each with its own Flask test
client, and checks that the row moved once and nobody got an error. SQLite runs one
write transaction at a time; on PostgreSQL (the postgres marker) the row locks of
``core.db.locking`` must give the same.
"""
from __future__ import annotations

import threading
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from dispatch.calls.intake import CallReport, record_call
from dispatch.escalation.steps import advance
from dispatch.notification.models import Page
from dispatch.verification.models import PinLock
from fake_twilio.phone import ACCOUNT_SID, PhoneCall, Webhooks, new_sid
from tests.dispatch_support import emergency_voicemail, events, on_call
from tests.support import AUTH_TOKEN, SUPPORT_NUMBER
from tests.verification_helpers import ANN, BEN, GIL, seed

pytestmark = pytest.mark.postgres
TRIALS = 4  # races that a single try can miss are run this many times


def own_hooks(stack) -> Webhooks:
    """Signed webhooks through a test client of their own, for one thread."""
    return Webhooks(stack.hooks.base_url, AUTH_TOKEN, client=stack.app.test_client())


def at_once(jobs) -> list:
    """Run the callables together (released by a barrier), each in its own thread; their results."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), []

    def run(index, job):
        try:
            barrier.wait(10)
            results[index] = job()
        except Exception as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads), "a request did not finish in 30 s"
    if errors:
        raise errors[0]
    return results


def post_all(stack, posts: list[tuple[str, dict]]) -> list[tuple[int, str]]:
    clients = [own_hooks(stack) for _ in posts]
    return at_once([lambda h=h, url=url, params=params: h.post(url, params)
                    for h, (url, params) in zip(clients, posts)])


def test_a_voicemail_s_callbacks_repeated_at_once_are_noted_once(paging):
    call = paging.call()
    call.press("501")
    call.leave_message(seconds=42, transcript="The server room is flooding.")
    recording, transcription = call.pending  # what Twilio sends next; here each four times at once
    answers = post_all(paging, [recording, transcription] * 4)

    assert {status for status, _ in answers} == {200}
    [ticket] = paging.tickets()
    assert ticket["recording_seconds"] == 42 and ticket["transcript"] == "The server room is flooding."
    for name in ("created", "recording", "transcript", "page_requested"):
        assert len(events(ticket, name)) == 1, name


def test_delivery_statuses_arriving_together_never_move_a_page_backwards(paging):
    emergency_voicemail(paging)
    paging.run_worker()
    [message] = paging.fake.messages
    params = {"MessageSid": message["sid"], "SmsSid": message["sid"], "AccountSid": ACCOUNT_SID,
              "From": message["from"], "To": message["to"], "ApiVersion": "2010-04-01"}
    posts = [(message["status_callback"], {**params, "MessageStatus": status, "SmsStatus": status})
             for status in ("sent", "delivered") * 4]
    answers = post_all(paging, posts)

    assert {status for status, _ in answers} == {200}
    with paging.runtime.store.transaction() as session:
        page = session.scalar(select(Page).where(Page.sid == message["sid"]))
        assert page.delivery == "delivered"
    statuses = [e["status"] for e in events(paging.ticket("CS-000001"), "delivery")]
    assert statuses.count("delivered") == 1 and statuses.count("sent") <= 1


def test_two_technicians_acknowledging_at_once_one_takes_it_the_other_is_told(paging):
    people = on_call(paging)
    for n in range(TRIALS):  # from several numbers: one number opens only 3 P1s an hour
        emergency_voicemail(paging, from_=f"+1270555{n + 400:04d}")
    paging.run_worker()

    def ack(mobile, number):
        sid = new_sid("SM")
        return own_hooks(paging).post("/sms/incoming", {
            "MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID, "From": mobile, "To": SUPPORT_NUMBER,
            "Body": f"ACK {number}", "NumMedia": "0", "ApiVersion": "2010-04-01"})

    for number in range(1, TRIALS + 1):
        # The primary was paged; a manager may take any ticket.
        answers = at_once([lambda: ack(people["primary"], number), lambda: ack(people["manager"], number)])

        assert {status for status, _ in answers} == {200}
        replies = [ET.fromstring(body).find("Message").text for _, body in answers]
        assert sum("is yours" in reply for reply in replies) == 1, replies
        assert sum("was already taken by" in reply for reply in replies) == 1, replies
        ticket = paging.ticket(str(number))
        assert ticket["status"] == "acknowledged" and len(events(ticket, "acknowledged")) == 1


def test_wrong_pins_on_two_calls_at_once_both_count(stack):
    ids = seed(stack)
    for name, number in (("ann", ANN), ("ben", BEN), ("gil", GIL)):  # the first PIN ever tried for each
        calls = []
        for _ in range(2):  # two calls from the contact's number, both at the PIN question
            call = PhoneCall(own_hooks(stack), from_=number, to=SUPPORT_NUMBER).start()
            calls.append(call.press(stack.config.verification_digit))
            assert "the PIN you set on our client portal" in call.said, call.said

        at_once([lambda c=c: c.press("1357#") for c in calls])

        for call in calls:
            assert "That PIN was not accepted" in call.said, call.said
        with stack.runtime.store.transaction() as session:
            guard = session.get(PinLock, ids[name])
            assert guard.consecutive_failures == (2 if name == "ann" else 0)  # only Ann has a PIN to get wrong


def test_an_ack_racing_the_next_escalation_step_is_never_followed_by_it(paging):
    people = on_call(paging)
    for n in range(TRIALS):  # from several numbers: one number opens only 3 P1s an hour
        emergency_voicemail(paging, from_=f"+1270555{n + 400:04d}")
    paging.run_worker()  # the first step: an SMS to the primary for each ticket (one, then a digest)
    paging.clock.advance(minutes=5)  # the second step (a voice call) is due for all of them

    def ack(number):
        sid = new_sid("SM")
        return own_hooks(paging).post("/sms/incoming", {
            "MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID, "From": people["primary"],
            "To": SUPPORT_NUMBER, "Body": f"ACK {number}", "NumMedia": "0", "ApiVersion": "2010-04-01"})

    for number in range(1, TRIALS + 1):
        # What the worker runs when the step's timer fires, next to the technician's reply.
        at_once([lambda: advance(paging.runtime, number), lambda: ack(number)])

        timeline = [e["event"] for e in paging.ticket(str(number))["timeline"]]
        acked = timeline.index("acknowledged")
        assert "escalation_step" not in timeline[acked:], timeline
    voice_pages = [c for c in paging.fake.calls if c["to"] == people["primary"]]
    steps = sum(len(events(paging.ticket(str(n)), "escalation_step")) for n in range(1, TRIALS + 1))
    assert len(voice_pages) == steps - TRIALS  # a voice page only for a step that ran before its ACK


def test_callbacks_racing_to_open_a_call_s_ticket_make_one_with_the_next_number(stack):
    # The <Record> action and the recording status callback often arrive together, before
    # either has stored the ticket: one ticket per call, and no number skipped for the loser.
    for index in range(TRIALS):
        report = CallReport(call_sid=new_sid("CA"), box="support", caller_raw=ANN)
        made = at_once([lambda: record_call(stack.runtime, report) for _ in range(4)])
        assert {ticket.id for ticket, _ in made} == {index + 1}
        assert sum(created for _, created in made) == 1
