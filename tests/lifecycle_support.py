"""Helpers of the lifecycle tests: a stack with service targets and the follow-up on, texts both ways,
and time moved on as the workers' housekeeping sees it."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from dispatch.followup import actions, callbacks
from dispatch.sla import alerts
from tests.dispatch_support import paging_stack, settle
from tests.support import CLIENT_PHONE, SUPPORT_NUMBER, config_with

SLA = {"warn_at": 0.75,
       "P1": {"name": "Critical", "response": "1h", "resolution": "4h", "clock": "24x7"},
       "P2": {"name": "High", "response": "4h", "resolution": "8h", "clock": "24x7"},
       "P3": {"name": "Medium", "response": "16h", "resolution": "24h", "clock": "business"},
       "P4": {"name": "Low", "response": "16h", "resolution": "32h", "clock": "business"}}
FOLLOWUP = {"confirm_by_sms": True, "waiting_reminders": 3, "reminder_every": "1d", "reopen_within": "5d",
            "survey": True}
LIFECYCLE_CONFIG = config_with(sla=SLA, followup=FOLLOWUP)


def worked_stack(tmp_path, redis_url, database_url, config: dict | None = None):
    """A paging stack with [sla] and [followup], on Tuesday 2026-11-24 at 10:00 (the desk is open);
    a generator, for a fixture to yield from."""
    stack = paging_stack(tmp_path, redis_url, database_url, config=config or LIFECYCLE_CONFIG)
    stack.at(2026, 11, 24, 10, 0)
    yield stack
    stack.fake.stop()
    stack.runtime.store.dispose()


def text(stack, from_: str, body: str) -> list[str]:
    """A text to the support number; the <Message>s the app answers with."""
    status, answer = stack.fake.sms_from(from_, body, SUPPORT_NUMBER)
    assert status == 200, answer
    return [m.text for m in ET.fromstring(answer).iter("Message")]


def assign(stack, number: str, staff_id: str) -> None:
    """The desk lead gives the ticket to ``staff_id`` (the API's owner, as the console does): a
    technician acts by text only on a ticket that is theirs or was paged to them."""
    response = stack.api(f"/api/tickets/{number}", method="PATCH", json={"owner": staff_id})
    assert response.status_code == 200, response.get_json()


def voicemail(stack, from_: str = CLIENT_PHONE, transcript: str = "The printer is on fire.") -> dict:
    """A caller presses 1, nobody at the desk answers (or it is closed), and they leave a message."""
    call = stack.call(from_=from_)
    call.press("1")
    if call.state == "dial":
        call.dial_result("no-answer")
    elif call.state == "gather":  # closed: "we open again ...", then the after-hours voicemail
        call.wait()
    call.leave_message(seconds=12, transcript=transcript)
    call.deliver_callbacks()
    settle(stack)
    return stack.tickets()[0]


def housekeeping(stack) -> None:
    """What every worker's housekeeping does every few seconds for the follow-up, then the jobs it queued."""
    alerts.sweep(stack.runtime)
    actions.sweep(stack.runtime)
    callbacks.send_digest(stack.runtime)
    settle(stack)


def tick(stack, **delta) -> None:
    """Move the clock on and let the housekeeping see it."""
    stack.clock.advance(**delta)
    housekeeping(stack)


def texts_to(stack, number: str) -> list[str]:
    return [m["body"] for m in stack.fake.sms_to(number)]
