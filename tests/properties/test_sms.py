"""Whatever a text or an SMS status callback carries: a Messaging response, and nothing for a stranger."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given

from tests.properties.support import PROPERTY, QUERY, SMS_PARAMS, STAFF_MOBILES, _expected_status, parse_twiml
from tests.verification_helpers import STRANGER

pytestmark = pytest.mark.postgres


def _may_be_answered(raw: str | None, callers: set[str]) -> bool:
    """Whether ``raw`` could be read as a staff mobile or a ticket's caller (in any format): only then may
    it get an answer."""
    digits = "".join(str(unicodedata.decimal(ch)) for ch in raw or "" if ch.isdecimal())
    return any(number[2:] in digits for number in (*STAFF_MOBILES, *callers) if number.startswith("+"))


@PROPERTY
@given(params=SMS_PARAMS)
@example(params={"From": STAFF_MOBILES[0], "Body": "ACK 1"})
@example(params={"From": STRANGER, "Body": "WHO"})
@example(params={"From": STRANGER, "Body": "REOPEN 1"})
def test_a_text_gets_a_messaging_response_and_a_stranger_gets_nothing(world, params):
    """/sms/incoming answers a <Response> of <Message>s (possibly none); a sender that is neither a
    staff mobile nor the caller of a ticket gets an empty one, whatever it writes, and changes
    nothing in the store."""
    before, callers = world.counts(), world.callers()
    response, _, _, crashes = world.post("/sms/incoming", {}, params)
    if (expected := _expected_status(params, world)) != 200:  # too large, or a SID of no Twilio shape
        assert response.status_code == expected
        return
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and not crashes, (response.status_code, body[:300], crashes)
    root = parse_twiml(body)
    assert all(child.tag == "Message" and (child.text or "").strip() and not len(child) for child in root), body
    assert len(root) <= 1
    if not _may_be_answered(params.get("From"), callers):
        assert len(root) == 0, f"a stranger was answered: {body!r}"
        assert world.counts() == before, "a stranger's text changed the store"


@PROPERTY
@given(params=SMS_PARAMS, query=QUERY)
# An id beyond the column range: no page, no 500.
@example(params={"MessageStatus": "delivered"}, query={"page": "99999999999999999999"})
def test_an_sms_status_callback_gets_an_empty_response(world, params, query):
    """Status callbacks of our SMS: any status, any page id (or none), out of range or not: 200 and <Response/>."""
    query = {k: v for k, v in query.items() if k == "page"}
    response, _, _, crashes = world.post("/sms/status", query, params)
    if (expected := _expected_status(params, world)) != 200:  # too large, or a SID of no Twilio shape
        assert response.status_code == expected
        return
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and not crashes, (response.status_code, body[:300], crashes)
    assert len(parse_twiml(body)) == 0
