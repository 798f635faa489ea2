"""The multi-process launcher itself (tests/processes.py), so the benchmark and the
multi-process tests stand on something tested: gunicorn, an RQ worker and the Twilio
stand-in as processes of their own, one emergency voicemail through all of them."""
from __future__ import annotations

import time

import pytest

from fake_twilio.phone import PhoneCall
from tests.dispatch_support import REAL_CLOCK_CONFIG
from tests.processes import ProcessStack
from tests.support import SUPPORT_NUMBER

pytestmark = pytest.mark.timeout(90)


def test_a_voicemail_through_the_process_stack_pages_once(tmp_path, redis_url, database_url):
    config = REAL_CLOCK_CONFIG  # closed all week, one person on call: whatever the real time
    with ProcessStack(tmp_path, redis_url, config=config, database_url=database_url, web_workers=1,
                      web_threads=2) as stack:
        assert stack.health()["status"] == "ok"
        stack.fake.fail_next(500)  # the first SMS request fails: retried (after 5 s) by the worker
        call = PhoneCall(stack.hooks, from_="+12705550177", to=SUPPORT_NUMBER).start()
        call.press("501").leave_message(seconds=30)
        call.deliver_callbacks()
        assert "Your ticket number is 1." in call.transcript
        [ticket] = stack.api("/api/tickets")["tickets"]
        assert (ticket["number"], ticket["priority"]) == ("CS-000001", "P1")
        deadline = time.monotonic() + 30
        while not stack.fake.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        primary = stack.api("/api/oncall")["primary"]["mobile"]
        assert [m["to"] for m in stack.fake.messages] == [primary]
        body = stack.fake.messages[0]["body"]
        assert body.startswith("EMERGENCY ") and "CS-000001." in body
        assert len(stack.fake.request_times) == 2  # the 500, then the retry
        workers = stack.workers
    assert all(w.poll() is not None for w in workers) and stack.web.poll() is not None
