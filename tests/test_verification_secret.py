"""One-time secrets: delivered only on a verified callback, spoken once, then gone — and
never found in logs, in the database file, or in any API answer."""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from core.config import ConfigError
from core.settings import Settings
from dispatch.verification import secret_box
from dispatch.verification.models import OneTimeSecret
from dispatch.verification.one_time_secrets import expire_secret
from tests.support import make_stack
from tests.verification_helpers import (
    ANN,
    ANN_PIN,
    BEN,
    contact_id,
    events,
    reach_pin_prompt,
    run_callbacks,
    seed,
    verification_tickets,
)

pytestmark = pytest.mark.postgres

SECRET = "Dx7!kQ-Zebra42"
SPELLED = ["capital D as in Delta", "lower-case X as in X-ray", "digit 7", "symbol exclamation mark",
           "lower-case K as in Kilo", "capital Q as in Quebec", "symbol dash", "capital Z as in Zulu",
           "lower-case E as in Echo", "lower-case B as in Bravo", "lower-case R as in Romeo",
           "lower-case A as in Alfa", "digit 4", "digit 2"]


def _post_secret(stack, contact: int, **extra) -> int:
    response = stack.api("/api/disclosures", method="POST",
                         json={"contact_id": contact, "secret": SECRET, "requested_by": "alice", **extra})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert SECRET not in response.get_data(as_text=True)
    return response.get_json()["id"]


def _verified_callback(stack, from_: str = ANN, pin: str | None = ANN_PIN):
    """Ask for the callback, answer it, confirm and give the PIN: the call after verification."""
    call = reach_pin_prompt(stack, from_).press("*")
    assert call.state == "ended"
    placed = run_callbacks(stack)[-1]
    answered = stack.fake.answer_call(placed["sid"]).press("1")
    if pin is not None:
        answered.press(pin + "#")
    if "Press 1 when you are ready." in answered.said:  # a secret waits: "Have a pen ready"
        answered.press("1")
    return answered


def _readings(call) -> int:
    """How many times the whole secret was read, in order, on this call."""
    heard = call.heard
    return sum(1 for i in range(len(heard)) if heard[i:i + len(SPELLED)] == SPELLED)


def _disclosure(stack, disclosure_id: int) -> dict:
    response = stack.api(f"/api/disclosures/{disclosure_id}")
    assert response.status_code == 200
    assert SECRET not in response.get_data(as_text=True)
    return response.get_json()


def test_the_secret_is_spoken_exactly_once_then_destroyed(stack):
    ids = seed(stack)
    reach_pin_prompt(stack, ANN).press(ANN_PIN + "#")  # Ann calls about a password reset: ticket 1
    disclosure_id = _post_secret(stack, ids["ann"], ticket=verification_tickets(stack)[0]["number"])

    inbound = reach_pin_prompt(stack, ANN).press(ANN_PIN + "#")  # a PIN alone is not enough for a secret
    assert "A one-time message is waiting" in inbound.said and "call you back" in inbound.said
    assert _readings(inbound) == 0 and inbound.state == "ended"
    (placed,) = run_callbacks(stack)
    answered = stack.fake.answer_call(placed["sid"]).press("1").press(ANN_PIN + "#")
    assert answered.said.endswith("Have a pen ready. Press 1 when you are ready.") and _readings(answered) == 0
    answered.press("1")
    assert "14 characters long" in answered.transcript
    assert _readings(answered) == 1
    assert "To hear it again, press 1" in answered.said
    answered.press("9")
    assert "The message has been deleted" in answered.said and "press 1" in answered.said
    answered.wait()
    assert answered.state == "ended"

    state = _disclosure(stack, disclosure_id)
    assert state["status"] == "delivered" and state["delivered_to"] == ANN and state["destroyed_at"]
    with stack.runtime.store.transaction() as session:
        assert session.get(OneTimeSecret, disclosure_id).ciphertext is None

    again = _verified_callback(stack)
    assert "you are verified" in again.said and _readings(again) == 0

    asked_on, callback_ticket = verification_tickets(stack)[0], verification_tickets(stack)[1]
    assert events(asked_on, "disclosure_requested")[0]["requested_by"] == "alice"
    delivered = events(callback_ticket, "secret_delivered")
    assert len(delivered) == 1 and delivered[0]["to"] == ANN and delivered[0]["requested_by"] == "alice"
    assert events(asked_on, "secret_delivered") == delivered  # also on the ticket it was asked for


def test_the_secret_is_repeated_on_request_then_destroyed_at_the_last_reading(stack):
    ids = seed(stack)
    disclosure_id = _post_secret(stack, ids["ben"])
    answered = _verified_callback(stack, from_=BEN, pin=None)
    answered.press("1")
    answered.press("1")
    assert "That was the last time" in answered.said and answered.state == "gather"  # offered a person
    assert _readings(answered) == 3
    assert _disclosure(stack, disclosure_id)["status"] == "delivered"
    destroyed = events(verification_tickets(stack)[0], "secret_destroyed")
    assert [e["reason"] for e in destroyed] == ["read for the last time"]


def test_hanging_up_during_the_delivery_destroys_the_secret(stack):
    ids = seed(stack)
    disclosure_id = _post_secret(stack, ids["ben"])
    answered = _verified_callback(stack, from_=BEN, pin=None)
    assert _readings(answered) == 1 and _disclosure(stack, disclosure_id)["status"] == "delivering"
    answered.hang_up()  # Twilio then posts the call's final status
    assert _disclosure(stack, disclosure_id)["status"] == "delivered"
    assert events(verification_tickets(stack)[0], "secret_destroyed")[0]["reason"] == "call ended"


def test_a_repeat_after_the_verification_expired_reads_nothing(stack):
    ids = seed(stack)
    _post_secret(stack, ids["ben"])
    answered = _verified_callback(stack, from_=BEN, pin=None)
    stack.clock.advance(minutes=15)
    answered.press("1")
    assert "The message has been deleted" in answered.said and _readings(answered) == 1


def test_the_secret_goes_only_to_its_own_contact(stack):
    ids = seed(stack)
    disclosure_id = _post_secret(stack, ids["ann"])
    other = _verified_callback(stack, from_=BEN, pin=None)
    assert "you are verified" in other.said and _readings(other) == 0
    assert _disclosure(stack, disclosure_id)["status"] == "pending"


def test_an_undelivered_secret_expires_after_24_hours(stack):
    ids = seed(stack)
    disclosure_id = _post_secret(stack, ids["ann"])
    scheduled = stack.runtime.queue("default").scheduled_job_registry.get_job_ids()
    assert f"expire-secret-{disclosure_id}" in scheduled

    stack.clock.advance(hours=23, minutes=59)
    expire_secret(disclosure_id)
    assert _disclosure(stack, disclosure_id)["status"] == "pending"
    stack.clock.advance(minutes=1)
    expire_secret(disclosure_id)
    state = _disclosure(stack, disclosure_id)
    assert state["status"] == "expired" and state["delivered_at"] is None

    answered = _verified_callback(stack)
    assert "you are verified" in answered.said and _readings(answered) == 0


def test_an_expired_secret_is_never_read_even_if_the_job_did_not_run(stack):
    ids = seed(stack)
    _post_secret(stack, ids["ben"])
    stack.clock.advance(hours=24)
    answered = _verified_callback(stack, from_=BEN, pin=None)
    assert "you are verified" in answered.said and _readings(answered) == 0


def _database_bytes(stack) -> bytes:
    """What the database keeps on disk: SQLite's files; on PostgreSQL, after a checkpoint, the
    files of every table, index and TOAST table of the database and the WAL, read through the
    server (which needs a superuser, as scripts/postgres gives)."""
    store = stack.runtime.store
    if store.is_sqlite:
        path = Path(store.engine.url.database)
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())
    with store.engine.connect() as conn:
        if not conn.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar():
            pytest.skip("reading PostgreSQL's files needs a superuser connection")
        conn.exec_driver_sql("CHECKPOINT")
        files = conn.exec_driver_sql(
            "SELECT pg_relation_filepath(oid) FROM pg_class WHERE relkind IN ('r', 't', 'i') "
            "AND pg_relation_filepath(oid) IS NOT NULL "
            "UNION ALL SELECT 'pg_wal/' || name FROM pg_ls_waldir()").scalars().all()
        return b"".join(conn.exec_driver_sql("SELECT pg_read_binary_file(%(f)s, 0, 1000000000, true)",
                                             {"f": f}).scalar() or b"" for f in files)


def test_the_secret_never_appears_in_logs_database_file_or_api_answers(stack, caplog):
    caplog.set_level(logging.DEBUG)
    ids = seed(stack)
    answers = []

    def api(path, **kwargs):
        response = stack.api(path, **kwargs)
        answers.append(response.get_data(as_text=True))
        return response

    response = api("/api/disclosures", method="POST",
                   json={"contact_id": ids["ann"], "secret": SECRET, "requested_by": "alice"})
    assert response.status_code == 201
    disclosure_id = response.get_json()["id"]
    bad = api("/api/disclosures", method="POST", json={"contact_id": ids["ann"], "secret": SECRET + "é"})
    assert bad.status_code == 400
    assert SECRET.encode() not in _database_bytes(stack)

    answered = _verified_callback(stack)
    assert _readings(answered) == 1
    answered.press("9")
    for path in ("/api/tickets", f"/api/disclosures/{disclosure_id}", f"/api/contacts?phone=%2B{ANN[1:]}",
                 *(f"/api/tickets/{t['number']}" for t in verification_tickets(stack))):
        assert api(path).status_code == 200

    assert all(SECRET not in answer for answer in answers)
    assert SECRET not in caplog.text
    assert not any(SECRET in str(record.args) for record in caplog.records)
    assert SECRET.encode() not in _database_bytes(stack)
    with stack.runtime.store.transaction() as session:
        row = session.scalar(select(OneTimeSecret))
        assert row.ciphertext is None and row.delivered_to == ANN


def test_disclosures_refuse_bad_requests_without_echoing_the_secret(stack):
    ids = seed(stack)
    cases = [
        ({"contact_id": ids["ann"], "secret": "pässwörd-" + SECRET}, 400, "only English letters"),
        ({"contact_id": ids["ann"], "secret": SECRET * 5}, 400, "at most 64 characters"),
        ({"contact_id": ids["ann"], "secret": ""}, 400, "non-empty"),
        ({"contact_id": "1", "secret": SECRET}, 400, "contact_id"),
        ({"contact_id": 999, "secret": SECRET}, 404, "no contact 999"),
        ({"contact_id": ids["ann"], "secret": SECRET, "ticket": "nonsense"}, 400, "ticket must be"),
        ({"contact_id": ids["ann"], "secret": SECRET, "ticket": "CS-000999"}, 404, "no ticket"),
    ]
    for body, status, words in cases:
        response = stack.api("/api/disclosures", method="POST", json=body)
        assert response.status_code == status and words in response.get_json()["error"], body
        assert SECRET not in response.get_data(as_text=True)
    assert stack.client.post("/api/disclosures", json={"contact_id": ids["ann"], "secret": SECRET}).status_code == 401
    assert stack.api("/api/disclosures", method="POST", data="{not json").status_code == 400
    assert contact_id(stack, ANN) == ids["ann"]


def test_the_key_file_is_private_and_a_bad_key_is_refused(stack, tmp_path):
    """On the embedded defaults (no DATABASE_URL) the key is a file made in the data folder."""
    embedded = Settings.from_env({"IVR_DATA_DIR": str(tmp_path / "embedded")})
    secret_box.box_for(embedded)
    key_file = embedded.data_dir / secret_box.KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    with pytest.raises(ConfigError, match="IVR_SECRET_KEY"):
        secret_box.box_for(dataclasses.replace(stack.runtime.settings, secret_key="too-short"))


def test_a_key_from_the_environment_is_used_instead_of_a_key_file(tmp_path, redis_url, database_url):
    stack = make_stack(tmp_path, redis_url, database_url, env={"IVR_SECRET_KEY": secret_box.new_key()})
    try:
        ids = seed(stack)
        _post_secret(stack, ids["ben"])
        assert not (stack.runtime.settings.data_dir / secret_box.KEY_FILE).exists()
        assert _readings(_verified_callback(stack, from_=BEN, pin=None)) == 1
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()


def test_silence_repeats_each_offer_and_deletes_nothing(stack):
    ids = seed(stack)
    disclosure_id = _post_secret(stack, ids["ben"])
    reach_pin_prompt(stack, BEN).press("*")
    answered = stack.fake.answer_call(run_callbacks(stack)[-1]["sid"]).press("1")
    offer = "A one-time message is waiting for you. Have a pen ready. Press 1 when you are ready."
    assert answered.said.endswith(offer) and _readings(answered) == 0
    answered.wait()
    assert answered.said == offer and _disclosure(stack, disclosure_id)["status"] == "pending"
    answered.press("1")
    assert _readings(answered) == 1
    answered.wait()
    assert answered.said == "To hear it again, press 1. If you have it, press 9, and it will be deleted."
    assert _disclosure(stack, disclosure_id)["status"] == "delivering"
    answered.press("9")
    assert answered.said == ("The message has been deleted. To speak with our service desk now, press 1. "
                             "Otherwise, you can hang up, and your technician will continue with your request.")


def test_a_secret_left_unread_waits_for_another_call_back(stack):
    ids = seed(stack)
    disclosure_id = _post_secret(stack, ids["ben"])
    reach_pin_prompt(stack, BEN).press("*")
    answered = stack.fake.answer_call(run_callbacks(stack)[-1]["sid"]).press("1")
    answered.wait().wait().wait()
    assert answered.said == "The message has not been read. You can ask for another call back to hear it. Goodbye."
    assert _disclosure(stack, disclosure_id)["status"] == "pending"


def test_the_pound_key_is_pound_everywhere():
    from voice_prompts import CATALOGUES
    from voice_prompts.verification import spell_secret

    assert spell_secret("#") == ["symbol pound sign"]
    assert not [key for key, text in CATALOGUES["en"].items() if "hash" in text.lower()]
