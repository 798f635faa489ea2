"""Service-level warnings and breaches as technicians and managers receive them: once each, never at
night for a business clock, never for a ticket met or resolved in time; and once each with two real
worker processes."""
import time
from datetime import datetime

import pytest

from tests.dispatch_support import (
    ALICE,
    BOB,
    DAVE,
    REAL_CLOCK_CONFIG,
    events,
    on_call,
    paging_stack,
    start_worker,
    stop_workers,
    wait_alive,
    wait_until,
    worker_logs,
)
from tests.lifecycle_support import SLA, text, texts_to, tick, voicemail, worked_stack
from tests.support import NY, config_with


@pytest.fixture
def worked(tmp_path, redis_url, database_url):
    # P3: a 9-hour response on business hours, so that a ticket left at 16:00 on Tuesday is due at Wednesday's close.
    sla = {**SLA, "P3": {"name": "Medium", "response": "9h", "resolution": "2d", "clock": "business"}}
    config = config_with(sla=sla, followup={"digest_to": []})  # the morning digest goes to nobody here
    yield from worked_stack(tmp_path, redis_url, database_url, config=config)


def test_a_business_clock_warns_the_managers_in_hours_and_its_breach_waits_for_the_morning(worked):
    worked.at(2026, 11, 24, 16, 0)
    ticket = voicemail(worked)
    due = datetime(2026, 11, 25, 17, 0, tzinfo=NY)  # Tuesday 1 h, Wednesday 8 h
    assert datetime.fromisoformat(ticket["response_due"]) == due
    tick(worked, hours=22, minutes=44)  # Wednesday 14:44
    assert texts_to(worked, DAVE) == []
    tick(worked, minutes=1)  # 75 % of 9 business hours: Wednesday 14:45
    assert texts_to(worked, DAVE) == ["CS-000001 RESPONSE due 17:00 (P3 Medium): unknown caller. Call +12705550199. "
                                      "Reply ACK 1"]
    for hours in (2, 1, 4, 6):  # the breach at 17:00 Wednesday; nobody is texted overnight
        tick(worked, hours=hours)
        assert len(texts_to(worked, DAVE)) == 1
    worked.at(2026, 11, 26, 9, 0)
    tick(worked, seconds=0)
    assert texts_to(worked, DAVE)[1:] == ["CS-000001 RESPONSE OVERDUE since Wed 17:00 (P3 Medium): unknown caller. "
                                          "Call +12705550199. Owner: none."]
    tick(worked, hours=3)
    assert len(texts_to(worked, DAVE)) == 2
    timeline = worked.ticket("CS-000001")
    assert [e["target"] for e in events(timeline, "sla_warning")] == ["response"]
    assert [e["staff"] for e in events(timeline, "sla_breach")] == [["dave"]]


def test_a_new_priority_recomputes_the_targets_and_a_ticket_met_in_time_is_never_breached(worked):
    voicemail(worked)  # Tuesday 10:00, P3
    assert text(worked, DAVE, "p2 1") == ["CS-000001 is now P2 (High). Response due 14:00, resolution due 18:00."]
    ticket = worked.ticket("CS-000001")
    assert ticket["priority"] == "P2" and events(ticket, "priority")[0]["before"] == "P3"
    primary = on_call(worked)["primary"]
    tick(worked, hours=3)  # 75 % of the 4-hour response, on the 24x7 clock: the on-call primary
    assert texts_to(worked, primary) == ["CS-000001 RESPONSE due 14:00 (P2 High): unknown caller. "
                                         "Call +12705550199. Reply ACK 1"]
    tick(worked, minutes=30)
    text(worked, primary, "ACK 1")  # the warning's reader takes it: met in time
    tick(worked, hours=2, minutes=30)  # 16:00: 75 % of the 8-hour resolution, to its owner
    assert texts_to(worked, primary)[-1] == ("CS-000001 RESOLUTION due 18:00 (P2 High): unknown caller. "
                                         "Call +12705550199. Reply RES 1 when fixed")
    text(worked, primary, "RES 1")  # resolved in time
    tick(worked, hours=8)
    assert texts_to(worked, DAVE) == []  # no breach of either target
    assert events(worked.ticket("CS-000001"), "sla_breach") == []
    assert text(worked, BOB, "P1 1") == ["CS-000001 is now P1 (Critical)."]  # resolved: no due any more


@pytest.mark.postgres  # what several workers or web processes rely on, on PostgreSQL too
def test_warnings_and_breaches_go_out_once_each_with_two_worker_processes(tmp_path, redis_url, database_url):
    """Worker processes run on the real clock: a P3 on a 24x7 clock of seconds, warned 3 s after it is left
    and breached at 6 s, with both workers' housekeeping looking every 2 s."""
    sla = {"warn_at": 0.5, "P3": {"name": "Medium", "response": "6s", "resolution": "1h", "clock": "24x7"}}
    config = {**REAL_CLOCK_CONFIG, "sla": sla}
    stack = paging_stack(tmp_path, redis_url, database_url, config=config, at=datetime.now(NY))
    workers = []
    try:
        workers = [start_worker(stack, "sla-1"), start_worker(stack, "sla-2")]
        for name in ("sla-1", "sla-2"):
            wait_alive(stack, name)
        stack.clock.set(datetime.now(NY))
        voicemail(stack)  # closed all week: the after-hours box, a P3
        wait_until(lambda: stack.fake.sms_to(DAVE), 30, "the breach notice", lambda: worker_logs(stack))
        time.sleep(2.5)  # another round of both workers' housekeeping
        assert [m["body"].split(" ")[1] for m in stack.fake.sms_to(ALICE)] == ["RESPONSE"]
        assert [m["body"].split(" ")[2] for m in stack.fake.sms_to(DAVE)] == ["OVERDUE"]
        timeline = stack.ticket("CS-000001")
        assert len(events(timeline, "sla_warning")) == len(events(timeline, "sla_breach")) == 1
    finally:
        stop_workers(*workers)
        stack.fake.stop()
        stack.runtime.store.dispose()
