"""A wrongly signed or oversized request is refused and changes nothing; a dual callback reads a
secret only after the PIN, whatever keys are pressed."""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fake_twilio.phone import CallError, new_sid
from tests.dispatch_support import settle
from tests.properties.support import (
    ALL_ENDPOINTS,
    BASE,
    ENDPOINT,
    PROPERTY,
    QUERY,
    SMS_PARAMS,
    VOICE_PARAMS,
    _assert_walk_documents,
    _expected_status,
    _machine,
    answering_verdicts,
    check_voice_answer,
    keys,
    resolve,
)
from tests.support import AUTH_TOKEN
from tests.verification_helpers import ANN, ANN_PIN, BEN, reach_pin_prompt

pytestmark = pytest.mark.postgres


FORGERIES = st.sampled_from(["unsigned", "another token", "tampered parameter", "tampered query", "another URL"])


@PROPERTY
@given(endpoint=st.sampled_from(ALL_ENDPOINTS), params=st.one_of(VOICE_PARAMS, SMS_PARAMS), query=QUERY,
       forgery=FORGERIES)
def test_a_wrongly_signed_request_is_refused_and_changes_nothing(world, endpoint, params, query, forgery):
    """Unsigned, signed with another token, or signed for other parameters or another URL: 403
    (or 413 for an oversized form, refused before it is read, unless there is no signature to check
    it against: 403 at once), and the store is untouched."""
    query = {k: v for k, v in query.items() if k in endpoint.args}
    before = world.counts()
    url = BASE + endpoint.path + (f"?{urlencode(resolve(query, world.seeded))}" if query else "")
    kwargs = {
        "unsigned": {"token": None},
        "another token": {"token": "not-the-" + AUTH_TOKEN},
        "tampered parameter": {"signed_params": {**resolve(params, world.seeded),
                                                 "Digits": (params.get("Digits") or "") + "1"}},
        "tampered query": {"signed_url": url + ("&" if query else "?") + "box=emergency"},
        "another URL": {"signed_url": BASE + "/voice/incoming" if endpoint.path != "/voice/incoming"
                        else BASE + "/voice/fallback"},
    }[forgery]
    response, _, _, crashes = world.post(endpoint.path, query, params, **kwargs)
    too_large = _expected_status(params, world) == 413 and forgery != "unsigned"
    assert response.status_code == (413 if too_large else 403), response.get_data(as_text=True)[:300]
    assert not crashes
    assert world.counts() == before


@settings(PROPERTY, max_examples=5)
@given(endpoint=st.sampled_from(ALL_ENDPOINTS), field_name=st.sampled_from(["Body", "TranscriptionText", "Digits",
                                                                            "X" * 30]),
       piece=st.sampled_from(["x", "é", "🔥", "\x00"]))
def test_a_form_over_the_size_limit_is_refused_with_413(world, endpoint, field_name, piece):
    """Twilio's webhooks are a few KB; a signed form over the limit is 413, never a 500, never read."""
    limit = world.app.config["MAX_CONTENT_LENGTH"]
    params = {"CallSid": new_sid("CA"), field_name: piece * (limit // len(piece.encode()) + 1)}
    before = world.counts()
    response, _, _, crashes = world.post(endpoint.path, {}, params)
    assert response.status_code == 413 and not crashes
    assert world.counts() == before


CALLBACK_KEYS = keys(("1", 4), (ANN_PIN + "#", 3), ("9", 2), ("2", 1), ("*", 1), ("#", 1), ("1111#", 2),
                     (ANN_PIN, 1), junk=r"[0-9*#]{1,8}")


# Accept the call, give the PIN, hear the secret again, say it is written down: the first
# steps of this, then anything, so that examples reach every step of the callback.
CALLBACK_SCRIPTS = st.builds(lambda right, then: ["1", ANN_PIN + "#", "1", "9"][:right] + then,
                             st.integers(0, 4), st.lists(CALLBACK_KEYS, max_size=4))


@settings(PROPERTY, max_examples=10)
@given(who=st.sampled_from([ANN, BEN]), answered_by=answering_verdicts("human", "machine_start", "fax", "unknown"),
       keys=CALLBACK_SCRIPTS, forge_at=st.one_of(st.none(), st.integers(0, 5)),
       with_secret=st.booleans())
def test_a_dual_callback_answered_with_any_keys_reads_a_secret_only_after_the_pin(world, who, answered_by, keys,
                                                                                  forge_at, with_secret):
    """A fresh dual callback, answered by a person or a machine pressing anything, perhaps with a
    forged webhook (the callback's token under another CallSid) in the middle. Every answer
    is TwiML the call can follow and ends with a spoken goodbye; a one-time secret is read
    only after 1 and the right PIN, and it does not outlive the call."""
    stack = world.stack
    world.next_night()
    disclosure = None
    if with_secret:
        created = stack.api("/api/disclosures", method="POST",
                            json={"contact_id": world.contacts["ann"], "secret": "Xy7!"})
        assert created.status_code == 201
        disclosure = created.get_json()["id"]
    before = len(stack.fake.calls)
    reach_pin_prompt(stack, who).press("*")
    settle(stack)
    [placed] = [c for c in stack.fake.calls[before:] if urlsplit(c["url"]).path == "/verification/callback"]
    assert placed["to"] == who
    world.errors.records.clear()
    pressed = []
    try:
        phone = stack.fake.answer_call(placed["sid"], answered_by=answered_by)
        for step, key in enumerate(keys):
            if step == forge_at:
                response, url, sent, crashes = world.post(urlsplit(placed["url"]).path + "?" + urlsplit(
                    placed["url"]).query, {}, {"CallSid": new_sid("CA"), "AnsweredBy": "human", "Digits": "1"})
                check_voice_answer(world, ENDPOINT["/verification/callback"], url, sent, response, crashes)
            if phone.state != "gather":
                break
            pressed.append(key)
            phone.press(key) if key else phone.wait()
    except CallError as exc:
        raise AssertionError(f"the callback could not go on: {exc}") from None
    assert not world.errors.records, [r.getMessage() for r in world.errors.records]
    _assert_walk_documents(world, phone, silent_end=False)
    heard_secret = "one-time message" in phone.transcript
    if heard_secret:  # only Ann has a secret waiting, and only her PIN opens it
        assert who == ANN and any(k and k.split("#")[0] == ANN_PIN for k in pressed), (pressed, phone.transcript)
    if who == ANN and with_secret and pressed[:2] == ["1", ANN_PIN + "#"] and not _machine(
            {"AnsweredBy": answered_by}) and (forge_at is None or forge_at >= 2):
        assert heard_secret, f"Ann verified but was not read her message: {phone.transcript!r}"
    phone.hang_up()
    if disclosure is not None:
        status = stack.api(f"/api/disclosures/{disclosure}").get_json()["status"]
        assert status != "delivering", "a secret outlived the call it was read on"
