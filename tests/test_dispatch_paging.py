"""Paging end to end: voicemail -> outbox -> RQ -> worker -> the Twilio stand-in, with time driven by the clock."""
import io
import time

import pytest
from sqlalchemy import update

from dispatch import directory
from dispatch.notification.models import Page
from tests.dispatch_support import (
    ALICE,
    DAVE,
    ERIN,
    advance,
    deliver_all,
    emergency_voicemail,
    events,
    on_call,
    paging_stack,
    primary_now,
    scheduled,
    settle,
    start_worker,
    two_managers_stack,
)
from tests.support import config_with

pytestmark = pytest.mark.postgres


def sms_bodies(stack, number):
    return [m["body"] for m in stack.fake.sms_to(number)]


def test_page_leaves_within_the_second_of_the_voicemail_and_fits_one_segment(paging):
    with paging.runtime.store.transaction() as session:
        directory.import_csv(session, io.StringIO("client,name,phone,email\nAcme Corp,Jo Smith,+12705550199,\n"),
                             "US")
    people = on_call(paging)
    call = paging.call()
    call.press("501")
    started = time.time()
    call.leave_message(seconds=75, transcript="Our file server is down and nobody can work, please call me.")
    call.deliver_callbacks()
    paging.run_worker()
    [page] = paging.fake.messages
    assert page["at"] - started < 1.0
    assert page["to"] == people["primary"] and page["from"] == paging.config.support_number
    assert page["body"] == ('EMERGENCY Acme Corp (Jo Smith): "Our file server is down and nobody can work, please '
                            'call me." (75-second voicemail). Call +12705550199. CS-000001. Reply ACK 1')
    assert (page["num_segments"], page["encoding"]) == (1, "GSM-7")
    assert page["status_callback"] == "http://localhost/sms/status?page=1"
    ticket = paging.ticket("CS-000001")
    primary = paging.api("/api/oncall").get_json()["primary"]["id"]
    assert [e["staff"] for e in events(ticket, "escalation_step")] == [[primary]]
    assert events(ticket, "page_sent")[0]["sid"] == page["sid"]


def test_non_gsm_transcript_is_transliterated_and_long_ones_are_cut_at_a_word(paging):
    emergency_voicemail(paging, from_="Anonymous",
                        transcript="Café’s server – “totally” down 😱 " + "and the backup is failing too " * 6)
    paging.run_worker()
    [page] = paging.fake.messages
    assert (page["num_segments"], page["encoding"]) == (1, "GSM-7")
    assert page["body"].startswith('EMERGENCY unknown caller: "Cafe\'s server - "totally" down and')  # accents dropped
    assert page["body"].endswith('..." (42-second voicemail). Number withheld. CS-000001. Reply ACK 1')
    assert len(page["body"]) <= 160


def test_without_ack_every_step_runs_in_order_at_its_time_then_repeats_then_managers_are_told(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)
    timeline = []  # (minutes after the page, kind, to)

    def note(minute):
        for m in paging.fake.messages[len([t for t in timeline if t[1] == "sms"]):]:
            timeline.append((minute, "sms", m["to"]))
        for c in paging.fake.calls[len([t for t in timeline if t[1] == "call"]):]:
            timeline.append((minute, "call", c["to"]))
        deliver_all(paging)

    note(0)
    assert scheduled(paging)["escalate-1-1"] == int(paging.clock.now().timestamp()) + 5 * 60
    minute = 0
    for target in (4, 5, 9, 10, 19, 20, 29, 30, 35, 40, 50, 59, 60, 90):
        advance(paging, minutes=target - minute)
        minute = target
        note(minute)
    p, s, m = people["primary"], people["secondary"], people["manager"]
    assert timeline == [(0, "sms", p), (5, "call", p), (10, "sms", s), (20, "sms", m),
                        (30, "sms", p), (35, "call", p), (40, "sms", s), (50, "sms", m), (60, "sms", m)]
    bodies = sms_bodies(paging, m)
    assert bodies[1].startswith("EMERGENCY (2nd page) ")
    assert bodies[2].startswith("CS-000001 NOBODY ACKNOWLEDGED")
    ticket = paging.ticket("CS-000001")
    assert ticket["status"] == "new"
    assert [(e["round"], e["step"]) for e in events(ticket, "escalation_step")] == \
        [(1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (2, 2), (2, 3), (2, 4)]
    [unacknowledged] = events(ticket, "unacknowledged")
    assert unacknowledged["at"] == "2026-11-24T09:00:00+00:00"
    assert len(events(ticket, "delivery")) == 7  # every SMS's delivered status is on the timeline


def test_an_undelivered_page_moves_to_the_next_step_at_once(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)
    [sms] = paging.fake.messages
    paging.fake.deliver_sms_status(sms["sid"], "sent")
    paging.fake.deliver_sms_status(sms["sid"], "undelivered", error_code="30003")
    settle(paging)  # the clock has not moved
    [call] = paging.fake.calls
    assert call["to"] == people["primary"] and call["machine_detection"] == "Enable"
    ticket = paging.ticket("CS-000001")
    assert [(e["status"], e.get("error_code")) for e in events(ticket, "delivery")] == \
        [("sent", None), ("undelivered", "30003")]
    assert [(e["step"], e.get("early_because")) for e in events(ticket, "escalation_step")] == \
        [(1, None), (2, f"{paging.api('/api/oncall').get_json()['primary']['id']}: undelivered")]


def test_status_callbacks_out_of_order_never_go_backwards(paging):
    emergency_voicemail(paging)
    settle(paging)
    [sms] = paging.fake.messages
    for status in ("delivered", "sent", "queued", "failed"):
        assert paging.fake.deliver_sms_status(sms["sid"], status) == 200
    settle(paging)
    ticket = paging.ticket("CS-000001")
    assert [e["status"] for e in events(ticket, "delivery")] == ["delivered"]
    assert paging.fake.calls == []  # a late "failed" after "delivered" does not escalate
    forged = paging.client.post("/sms/status?page=1", data={"MessageSid": sms["sid"], "MessageStatus": "failed"})
    assert forged.status_code == 403


def test_a_page_stuck_before_delivery_counts_as_failed_at_the_deadline(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)
    advance(paging, minutes=2, seconds=59)
    assert paging.fake.calls == []
    advance(paging, seconds=1)  # oncall.delivery_deadline_minutes = 3 (the default)
    assert [c["to"] for c in paging.fake.calls] == [people["primary"]]
    ticket = paging.ticket("CS-000001")
    assert len(events(ticket, "delivery_timeout")) == 1


def test_a_permanent_error_is_not_retried_and_escalates(paging):
    people = on_call(paging)
    paging.fake.fail_next(("error", 400, 21610))  # the technician replied STOP once
    emergency_voicemail(paging)
    settle(paging)
    assert paging.fake.messages == []
    assert [c["to"] for c in paging.fake.calls] == [people["primary"]]
    assert sum(1 for method, path in paging.fake.requests if path.endswith("Messages.json")) == 1
    [failed] = events(paging.ticket("CS-000001"), "page_failed")
    assert failed["permanent"] is True and "21610" in failed["error"]
    advance(paging, minutes=1)
    assert sum(1 for method, path in paging.fake.requests if path.endswith("Messages.json")) == 1


def test_transient_errors_are_retried_with_backoff_and_send_once(paging):
    paging.fake.fail_next(500, 429, "drop")
    emergency_voicemail(paging)
    settle(paging)
    assert paging.fake.messages == []
    advance(paging, seconds=4)
    assert paging.fake.messages == []
    advance(paging, seconds=1)   # 5 s after the first try
    advance(paging, seconds=20)  # 20 s after the second
    assert paging.fake.messages == []
    advance(paging, seconds=60)  # the fourth try goes through (after a dropped connection: checked first)
    assert len(paging.fake.messages) == 1
    ticket = paging.ticket("CS-000001")
    assert [e["retry_in_seconds"] for e in events(ticket, "page_retry")] == [5, 20, 60]
    assert paging.fake.requests.count(("GET", f"/2010-04-01/Accounts/{paging.fake.account_sid}/Messages.json")) == 3
    assert paging.fake.calls == []  # retries happened before the voice step was due
    advance(paging, minutes=30)
    assert len(paging.fake.sms_to(paging.fake.messages[0]["to"])) == 2  # round two, not a duplicate


def test_a_worker_dying_after_the_carrier_accepted_does_not_cause_a_second_message(paging):
    """The SMS left, but the worker died before recording it: the deadline check finds it at the carrier."""
    emergency_voicemail(paging)
    settle(paging)
    [sms] = paging.fake.messages
    with paging.runtime.store.transaction() as session:  # what a kill between send and record leaves
        session.execute(update(Page).where(Page.id == 1).values(state="sending", sid=None, delivery=None,
                                                                delivery_rank=0))
    advance(paging, minutes=3)
    assert len(paging.fake.messages) == 1
    sent = [e for e in events(paging.ticket("CS-000001"), "page_sent") if e["channel"] == "sms"]
    assert [(e["sid"], e.get("adopted")) for e in sent] == [(sms["sid"], None), (sms["sid"], True)]


def test_duplicate_jobs_and_two_worker_processes_send_each_page_once(real_time):
    emergency_voicemail(real_time)
    queue = real_time.runtime.queue("urgent")
    for n in range(6):  # the outbox's job plus copies under other ids, as a bug or a replay would make
        queue.enqueue("dispatch.escalation.steps.page_ticket", 1, job_id=f"copy-{n}")
        queue.enqueue("dispatch.escalation.steps.escalate_now", 1, 0, job_id=f"copy-now-{n}")
    workers = [start_worker(real_time, f"w{i}", burst=True) for i in range(2)]
    for worker in workers:
        assert worker.wait(60) == 0
    assert [m["to"] for m in real_time.fake.messages] == [primary_now(real_time)]
    real_time.run_worker()  # a third worker finds nothing waiting and nothing left to send
    assert len(real_time.fake.messages) == 1
    assert len(events(real_time.ticket("CS-000001"), "page_sent")) == 1


def test_without_public_base_url_pages_still_go_out_and_voice_steps_escalate(stack):
    """No PUBLIC_BASE_URL: SMS without status callbacks; a voice page cannot be placed, so the policy moves on."""
    people = on_call(stack)
    stack.at(2026, 11, 24, 3, 0)
    emergency_voicemail(stack)
    settle(stack)
    [sms] = stack.fake.messages
    assert sms["to"] == people["primary"] and sms["status_callback"] is None
    advance(stack, minutes=5)
    assert stack.fake.calls == []
    assert [m["to"] for m in stack.fake.messages] == [people["primary"], people["secondary"]]
    [failed] = events(stack.ticket("CS-000001"), "page_failed")
    assert failed["channel"] == "voice" and "PUBLIC_BASE_URL" in failed["error"]
    advance(stack, minutes=3)  # no callbacks expected, so no delivery deadline either
    assert events(stack.ticket("CS-000001"), "delivery_timeout") == []


def test_a_step_with_nobody_to_notify_moves_on_at_once(tmp_path, redis_url, database_url):
    stack = paging_stack(tmp_path, redis_url, database_url,
                         config=config_with(oncall={"rotation": ["alice"], "repeat": 0}))
    stack.at(2026, 11, 24, 3, 0)
    emergency_voicemail(stack)
    settle(stack)
    deliver_all(stack)
    advance(stack, minutes=5)
    stack.fake.send_call_status(stack.fake.calls[0]["sid"], "completed", answered_by="human")
    advance(stack, minutes=5)  # minute 10: no secondary in a rotation of one, so the managers now, not at 20
    assert [m["to"] for m in stack.fake.messages] == [ALICE, DAVE]
    [step] = [e for e in events(stack.ticket("CS-000001"), "escalation_step") if e["notify"] == "managers"]
    assert step["early_because"] == "nobody to notify at the step before"
    deliver_all(stack)
    advance(stack, minutes=20)  # repeat = 0: one round (steps at 0-20, +10), then the final notice
    assert [m["to"] for m in stack.fake.messages] == [ALICE, DAVE, DAVE]
    assert stack.fake.messages[-1]["body"].startswith("CS-000001 NOBODY ACKNOWLEDGED")
    stack.fake.stop()


@pytest.mark.parametrize("failures, early", [(1, False), (2, True)])
def test_a_step_of_several_people_moves_on_early_only_once_it_reached_none_of_them(
        tmp_path, redis_url, database_url, failures, early):
    stack = two_managers_stack(tmp_path, redis_url, database_url, "sms")
    primary = on_call(stack)["primary"]
    stack.fake.fail_next(*[("error", 400, 21610)] * failures)  # opted out (STOP): permanent
    emergency_voicemail(stack)
    settle(stack)
    sent = [m["to"] for m in stack.fake.messages]
    assert sent == ([primary] if early else [ERIN["mobile"]])
    if not early:
        advance(stack, minutes=10)  # the primary at the step's own time
        assert [m["to"] for m in stack.fake.messages] == [ERIN["mobile"], primary]
    stack.fake.stop()


def test_a_first_step_after_a_delay_waits_for_its_time(tmp_path, redis_url, database_url):
    steps = [{"notify": "primary", "channel": "sms", "after_minutes": 2},
             {"notify": "managers", "channel": "sms", "after_minutes": 10}]
    stack = paging_stack(tmp_path, redis_url, database_url, config=config_with(oncall={"escalation": steps}))
    stack.at(2026, 11, 24, 3, 0)
    primary = on_call(stack)["primary"]
    emergency_voicemail(stack)
    settle(stack)
    assert stack.fake.messages == []
    advance(stack, minutes=1)
    assert stack.fake.messages == []
    advance(stack, minutes=1)  # minute 2: the first step
    assert [m["to"] for m in stack.fake.messages] == [primary]
    [step] = events(stack.ticket("CS-000001"), "escalation_step")
    assert step["notify"] == "primary" and "early_because" not in step
    stack.fake.stop()


def test_a_claimed_page_whose_retry_timer_was_lost_is_sent_by_the_deadline_check(paging):
    people = on_call(paging)
    paging.fake.fail_next(500)
    emergency_voicemail(paging)
    settle(paging)
    registry = paging.runtime.queue("urgent").scheduled_job_registry
    registry.remove("send-page-1-2", delete_job=True)  # as if the worker died before scheduling its retry
    advance(paging, minutes=2)
    assert paging.fake.messages == []
    advance(paging, minutes=1)
    assert [m["to"] for m in paging.fake.messages] == [people["primary"]]
