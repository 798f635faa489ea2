"""The seeded stacks the property tests share: one for the whole package."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest
import redis

from tests.dispatch_support import advance, deliver_all, emergency_voicemail, on_call, settle
from tests.properties.support import BASE, DatabaseAway, ExceptionLog, World, _query_value
from tests.support import SUPPORT_NUMBER, fresh_database_url, make_stack
from tests.verification_helpers import ANN, BEN, reach_pin_prompt, seed


@pytest.fixture(scope="package")
def world(tmp_path_factory, redis_server):
    """One stack for the whole module, seeded through the app's own flows (no rows written by hand)."""
    redis.Redis.from_url(redis_server.url).flushall()
    folder = tmp_path_factory.mktemp("properties")
    stack = make_stack(folder, redis_server.url, fresh_database_url(folder), public_base_url=BASE)
    errors = ExceptionLog()
    logging.getLogger().addHandler(errors)
    try:
        stack.at(2026, 11, 24, 3, 0)
        contacts = seed(stack)  # Ann (with a PIN), Ben, Gil
        created = stack.api("/api/disclosures", method="POST",
                            json={"contact_id": contacts["ann"], "secret": "Tr0ub4dor&3"})
        assert created.status_code == 201, created.get_data(as_text=True)
        emergency = emergency_voicemail(stack, transcript="The mail server is down.")  # ticket 1, P1
        settle(stack)
        deliver_all(stack)
        advance(stack, minutes=5)  # the voice page to the primary
        primary = on_call(stack)["primary"]
        status, _ = stack.fake.sms_from(primary, "CALL 1", SUPPORT_NUMBER)
        assert status == 200
        for caller in (ANN, BEN):
            reach_pin_prompt(stack, caller).press("*")  # the dual callback
        settle(stack)
        calls = {urlsplit(c["url"]).path: c for c in stack.fake.calls}
        callbacks = [c for c in stack.fake.calls if urlsplit(c["url"]).path == "/verification/callback"]
        by_number = {c["to"]: c for c in callbacks}
        seeded = {
            "emergency_sid": emergency.call_sid,
            "sms_page": _query_value(stack.fake.messages[0]["status_callback"], "page"),
            "voice_page": _query_value(calls["/voice/page"]["url"], "page"),
            "page_call_sid": calls["/voice/page"]["sid"],
            "bridge_page": _query_value(calls["/voice/bridge"]["url"], "page"),
            "bridge_call_sid": calls["/voice/bridge"]["sid"],
            "ann_token": _query_value(by_number[ANN]["url"], "token"),
            "ann_callback_sid": by_number[ANN]["sid"],
            "ben_token": _query_value(by_number[BEN]["url"], "token"),
            "ben_callback_sid": by_number[BEN]["sid"],
        }
        assert errors.records == [], "seeding the stack logged an exception"
        yield World(stack=stack, seeded=seeded, errors=errors, contacts=contacts)
    finally:
        logging.getLogger().removeHandler(errors)
        stack.fake.stop()
        stack.runtime.store.dispose()


@pytest.fixture(scope="package")
def away(tmp_path_factory, redis_server, world):
    folder = tmp_path_factory.mktemp("away")
    (folder / "blocked").mkdir()
    stack = make_stack(folder, redis_server.url, f"sqlite:///{folder / 'blocked' / 'tickets.sqlite3'}",
                       public_base_url=BASE)
    try:
        yield DatabaseAway(World(stack, world.seeded, world.errors, {}), folder)
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()
