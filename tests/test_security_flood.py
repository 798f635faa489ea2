"""An emergency flood cannot bury the on-call phone: one number opens at most three P1s an hour (a
further call joins its open ticket), and a burst of P1s reaches each person as one SMS."""
from __future__ import annotations

import pytest

from tests.dispatch_support import advance, emergency_voicemail, events, on_call, settle
from tests.test_dispatch_sms_commands import text

pytestmark = pytest.mark.postgres

FLOODER = "+12705550177"


def test_a_fourth_emergency_from_one_number_within_the_hour_joins_its_open_ticket(paging):
    people = on_call(paging)
    calls = [emergency_voicemail(paging, from_=FLOODER, transcript=f"Emergency number {n}") for n in range(5)]
    settle(paging)
    assert [t["number"] for t in paging.tickets()] == ["CS-000003", "CS-000002", "CS-000001"]
    assert "ticket number is 3" in calls[3].transcript and "ticket number is 3" in calls[4].transcript
    joined = events(paging.ticket("CS-000003"), "joined_call")
    assert [e["call_sid"] for e in joined] == [calls[3].call_sid, calls[4].call_sid]
    assert [e["text"] for e in events(paging.ticket("CS-000003"), "another_transcript")] == \
        ["Emergency number 3", "Emergency number 4"]
    assert len(events(paging.ticket("CS-000003"), "another_recording")) == 2
    # Three tickets were paged (one SMS, then one digest), the joined calls paged nobody.
    advance(paging, seconds=60)
    assert [m["to"] for m in paging.fake.messages] == [people["primary"]] * 2

    # Once its open P1s are resolved, or the hour is over, the number opens a ticket again.
    paging.clock.advance(minutes=61)
    emergency_voicemail(paging, from_=FLOODER)
    assert paging.tickets()[0]["number"] == "CS-000004"


def test_a_withheld_number_floods_no_more_than_a_shown_one(paging):
    for _ in range(4):
        emergency_voicemail(paging, from_="Anonymous")
    assert len(paging.tickets()) == 3


def test_a_burst_of_emergencies_is_one_page_then_one_digest(paging):
    people = on_call(paging)
    for n in range(5):  # five callers, five seconds apart
        emergency_voicemail(paging, from_=f"+1270555{n + 300:04d}")
        settle(paging)
        paging.clock.advance(seconds=5)
    [first] = paging.fake.messages
    assert first["body"].startswith("EMERGENCY ") and first["body"].endswith("CS-000001. Reply ACK 1")
    text(paging, people["primary"], "ACK 3")  # a held page is still theirs to take
    advance(paging, seconds=40)
    digest = paging.fake.messages[-1]
    assert len(paging.fake.messages) == 2 and digest["to"] == people["primary"]
    assert digest["body"] == "3 new emergencies: CS-000002, CS-000004, CS-000005. Reply ACK n for each, e.g. ACK 2"
    assert events(paging.ticket("CS-000004"), "page_bundled")[0]["staff"] == \
        paging.api("/api/oncall").get_json()["primary"]["id"]
    text(paging, people["manager"], "ACK 4")  # those the digest named are told who took one
    settle(paging)
    assert [(m["to"], m["body"]) for m in paging.fake.messages[2:]] == [
        (people["primary"], "CS-000004 was taken by Dave Diaz. Nothing to do.")]
    emergency_voicemail(paging, from_="+12705550399")  # within a minute of the digest: held again
    settle(paging)
    assert len(paging.fake.messages) == 3
    advance(paging, seconds=60)
    assert paging.fake.messages[-1]["body"] == "1 new emergency: CS-000006. Reply ACK 6"
    # The policy goes on per ticket: at minute 5 each unacknowledged ticket's voice step.
    advance(paging, minutes=5)
    assert {c["to"] for c in paging.fake.calls} == {people["primary"]}


def test_a_held_page_whose_digest_redis_lost_is_sent_by_the_sweep(paging):
    from dispatch.escalation import recovery

    people = on_call(paging)
    for n in range(3):
        emergency_voicemail(paging, from_=f"+1270555{n + 500:04d}")
        settle(paging)
    assert len(paging.fake.messages) == 1
    paging.runtime.redis.flushall()  # a Redis restarted without its data: every timer is gone
    paging.clock.advance(seconds=91)
    assert recovery.sweep_overdue(paging.runtime) >= 1
    settle(paging)
    assert paging.fake.messages[-1]["to"] == people["primary"]
    assert paging.fake.messages[-1]["body"].startswith("2 new emergencies: CS-000002, CS-000003.")
