"""Jobs and timers lost from Redis (a restart without persistence, a crash between snapshots): the
database still says what is owed, and the workers' sweep queues it again once it is overdue."""
import pytest

from dispatch.escalation import recovery
from fake_twilio.phone import Webhooks
from tests.dispatch_support import advance, deliver_all, emergency_voicemail, events, on_call, settle
from tests.support import AUTH_TOKEN, SUPPORT_NUMBER

pytestmark = pytest.mark.postgres


def test_a_page_job_lost_from_redis_is_queued_again_once_overdue(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    paging.runtime.redis.flushall()  # Redis restarted empty before a worker took the page job
    settle(paging)
    assert paging.fake.messages == []
    paging.clock.advance(seconds=25)
    assert recovery.sweep_overdue(paging.runtime) == 0  # late, but not yet taken as lost
    paging.clock.advance(seconds=6)
    assert recovery.sweep_overdue(paging.runtime) == 1
    settle(paging)
    assert [m["to"] for m in paging.fake.messages] == [people["primary"]]
    assert recovery.sweep_overdue(paging.runtime) == 0  # the policy is running: nothing more is owed


class _ServerDiesAfterSending:
    """A test client whose server is killed once it has sent each response: read, never closed,
    so nothing the app left for after the response (``ivr.after_response``) runs."""

    def __init__(self, client):
        self.client = client

    def post(self, *args, buffered: bool, **kwargs):
        return self.client.post(*args, buffered=False, **kwargs)


def test_a_web_process_killed_after_answering_the_record_action_still_gets_the_p1_paged(paging):
    people = on_call(paging)
    call = paging.call()
    call.press("501")
    hooks, call.hooks = call.hooks, Webhooks(paging.hooks.base_url, AUTH_TOKEN,
                                             client=_ServerDiesAfterSending(paging.client))
    call.leave_message(seconds=42)
    assert "Your ticket number is" in call.said  # committed before the caller heard it
    call.hooks = hooks  # Twilio's later callbacks reach another web process
    call.deliver_callbacks()
    settle(paging)
    assert paging.fake.messages == []  # the page never reached RQ
    paging.clock.advance(seconds=31)
    assert recovery.sweep_overdue(paging.runtime) == 1
    settle(paging)
    assert [m["to"] for m in paging.fake.messages] == [people["primary"]]


def test_a_lost_escalation_timer_still_runs_its_step_and_the_policy_goes_on(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)
    deliver_all(paging)
    paging.runtime.redis.flushall()  # every timer gone, the voice step's among them
    advance(paging, minutes=5)
    assert paging.fake.calls == []
    paging.clock.advance(seconds=31)
    assert recovery.sweep_overdue(paging.runtime) == 1
    settle(paging)
    assert [c["to"] for c in paging.fake.calls] == [people["primary"]]
    advance(paging, minutes=5)  # the step scheduled the next timer again: the secondary at minute 10
    assert [m["to"] for m in paging.fake.messages] == [people["primary"], people["secondary"]]
    steps = events(paging.ticket("CS-000001"), "escalation_step")
    assert [(s["step"], s["channel"]) for s in steps] == [(1, "sms"), (2, "voice"), (3, "sms")]


def test_an_esc_before_the_first_page_whose_job_is_lost_still_pages_once_overdue(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    assert paging.fake.sms_from(people["manager"], "ESC 1", SUPPORT_NUMBER)[0] == 200  # before any worker ran
    paging.runtime.redis.flushall()  # the page job and the ESC's job both lost
    settle(paging)
    assert paging.fake.messages == []
    paging.clock.advance(seconds=31)
    assert recovery.sweep_overdue(paging.runtime) == 1
    settle(paging)
    assert [m["to"] for m in paging.fake.messages] == [people["primary"]]
