"""Technicians' commands reach only the tickets paged to them (managers any), and CALL never dials a
premium-rate, shared-cost, satellite or foreign number a fraudster left as their caller ID."""
from __future__ import annotations

import pytest

from tests.dispatch_support import emergency_voicemail, events, on_call, settle
from tests.test_dispatch_sms_commands import text

pytestmark = pytest.mark.postgres


def test_a_technician_may_not_act_on_a_ticket_not_paged_to_them(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)  # the first step pages the primary only
    for body in ("RES 1", "ESC 1", "CALL 1", "ACK 1"):
        [refused] = text(paging, people["secondary"], body)
        assert refused == f"CS-000001 is not yours and was not paged to you, so you cannot {body.split()[0]} it. " \
                          "Ask the on-call or a manager."
    settle(paging)
    ticket = paging.ticket("CS-000001")
    assert ticket["status"] == "new" and events(ticket, "reply") == []
    assert len(events(ticket, "reply_refused")) == 4 and len(events(ticket, "escalation_step")) == 1
    assert paging.fake.calls == []
    assert text(paging, people["primary"], "ACK 1")[0].startswith("CS-000001 is yours.")
    assert text(paging, people["manager"], "RES 1") == ["CS-000001 is resolved. Thank you."]


@pytest.mark.parametrize("caller, why", [
    ("+19002255555", "a premium-rate number (+19002255555)"),
    ("+18722255555", None),  # an ordinary US line: rung
    ("+881631234567", "a satellite or international network number"),
    ("+448712345678", "a premium-rate number"),
    ("+442071838750", "a number in GB (+442071838750), outside the countries we call (US)"),
])
def test_call_refuses_numbers_that_cost_us_or_lie_abroad_and_says_why(paging, caller, why):
    people = on_call(paging)
    emergency_voicemail(paging, from_=caller)
    settle(paging)
    [reply] = text(paging, people["primary"], "CALL 1")
    settle(paging)
    if why is None:
        assert reply.startswith("Calling you now")
        assert [c["to"] for c in paging.fake.calls] == [people["primary"]]
        return
    assert why in reply and "CALL refused" in reply
    assert paging.fake.calls == []
    assert events(paging.ticket("CS-000001"), "callback_refused")[0]["by"] == \
        paging.api("/api/oncall").get_json()["primary"]["id"]


def test_the_bridge_checks_the_number_again_when_it_dials(paging):
    """A CALL asked for while the number was allowed, and dialled after the configuration changed:
    the technician's leg is told, and the caller's number is not dialled."""
    from dataclasses import replace

    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)
    text(paging, people["primary"], "CALL 1")
    paging.runtime.config = replace(paging.runtime.config, callable_countries=frozenset({"CA"}))
    settle(paging)
    (leg,) = paging.fake.calls
    answered = paging.fake.answer_call(leg["sid"])
    assert "can no longer be connected" in answered.said and answered.state == "ended"
