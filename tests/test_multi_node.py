"""Two web processes (gunicorn) and two RQ workers on one Redis and one database, as a multi-node
set-up runs: concurrent emergency calls, every callback delivered twice, make one ticket each with
its own number and one page each."""
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from fake_twilio.phone import PhoneCall, Webhooks
from tests.dispatch_support import REAL_CLOCK_CONFIG
from tests.processes import ProcessStack, wait_until
from tests.support import AUTH_TOKEN, SUPPORT_NUMBER

pytestmark = pytest.mark.postgres

CALLS = 40


def emergency_call(base_url: str, n: int) -> str:
    """One caller dials 501 and leaves a message; Twilio sends every callback twice, in reverse order."""
    call = PhoneCall(Webhooks(base_url, AUTH_TOKEN), from_=f"+1270555{n:04d}", to=SUPPORT_NUMBER).start()
    call.press("501")
    call.leave_message(seconds=20 + n, transcript=f"Caller {n}: the network is down")
    assert set(call.deliver_callbacks(order=[1, 0], repeat=True)) == {200}
    assert "Your ticket number is " in call.said
    return call.from_


def test_concurrent_calls_through_two_web_processes_and_two_workers_make_one_ticket_and_one_page_each(
        tmp_path, redis_url, database_url):
    with ProcessStack(tmp_path, redis_url, config=REAL_CLOCK_CONFIG, database_url=database_url, web_workers=2,
                      rq_workers=2, fake_in_process=True) as stack:
        with ThreadPoolExecutor(max_workers=16) as pool:
            callers = list(pool.map(lambda n: emergency_call(stack.base_url, n), range(CALLS)))
        wait_until(lambda: len(stack.fake.messages) >= CALLS, "a page for every call", 60, stack.workers)
        wait_until(lambda: all(any(e["event"] == "page_sent" for e in stack.api(f"/api/tickets/{t['number']}")
                                   ["timeline"]) for t in stack.api("/api/tickets?limit=500")["tickets"]),
                   "every page to be recorded", 30)
        tickets = stack.api("/api/tickets?limit=500")["tickets"]
        assert sorted(t["caller"] for t in tickets) == sorted(callers)  # one ticket per call
        assert sorted(t["number"] for t in tickets) == [f"CS-{n:06d}" for n in range(1, CALLS + 1)]
        assert all(t["priority"] == "P1" and t["transcript"].startswith("Caller ") for t in tickets)
        pages = [m for m in stack.fake.messages if m["body"].startswith("EMERGENCY ")]
        paged_callers = [re.search(r"Call (\+1270555\d{4})", m["body"]).group(1) for m in pages]
        assert sorted(paged_callers) == sorted(callers)  # one page per ticket, none twice
        # A transcript that came after its page follows it, once.
        words = [re.match(r"(CS-\d{6}) unknown caller said: ", m["body"]) for m in stack.fake.messages
                 if m not in pages]
        assert all(words) and len({w.group(1) for w in words}) == len(words)
        assert {m["to"] for m in stack.fake.messages} == {stack.api("/api/oncall")["primary"]["mobile"]}
