"""The database unreachable (and the spool's disk failing too): no caller is stuck or asked to
record again, and what Twilio sends that nothing could keep is answered 503, so that Twilio's
retry (here, sent by hand once the database is back) is taken.

The database is made unreachable at once (its folder becomes a plain file), so these run on SQLite
only: what is tested is the web app's answer, not the database's behaviour."""
from contextlib import contextmanager
from pathlib import Path

import pytest

from dispatch.calls import spool
from dispatch.verification import one_time_secrets
from dispatch.verification.models import OneTimeSecret
from tests.dispatch_support import advance, deliver_all, emergency_voicemail, events, on_call, paging_stack, settle
from tests.test_verification_secret import SECRET, _post_secret, _readings, _verified_callback
from tests.verification_helpers import ANN, BEN, seed


@pytest.fixture
def night(tmp_path, redis_url):
    folder = tmp_path / "db"
    folder.mkdir()
    stack = paging_stack(tmp_path, redis_url, f"sqlite:///{folder / 'tickets.sqlite3'}")
    stack.at(2026, 11, 24, 3, 0)
    yield stack
    stack.fake.stop()
    stack.runtime.store.dispose()


@contextmanager
def database_away(stack, spool_too: bool = False):
    """The database's folder is a plain file (and the spool's too, with ``spool_too``: a full or
    read-only disk) until the block ends."""
    folder = Path(stack.runtime.store.engine.url.database).parent
    away = folder.with_name(folder.name + "-away")
    spool_folder = spool.spool_dir(stack.runtime.settings.data_dir)
    folder.rename(away)
    folder.write_text("not a folder")
    if spool_too:
        spool_folder.parent.mkdir(parents=True, exist_ok=True)
        spool_folder.write_text("not a folder")
    stack.runtime.store.dispose()
    try:
        yield
    finally:
        if spool_too:
            spool_folder.unlink()
        folder.unlink()
        away.rename(folder)
        stack.runtime.store.dispose()


def test_a_message_nothing_can_keep_is_left_with_twilio_and_its_callbacks_come_again(night):
    call = night.call().press("501")
    with database_away(night, spool_too=True):
        call.leave_message(seconds=20, transcript="The server room is flooding")
        assert call.state == "ended" and "Your message has been saved" in call.said
        callbacks = list(call.pending)
        assert call.deliver_callbacks() == [503, 503]
    assert night.tickets() == []
    # Twilio's retries, once the disk and the database are back:
    assert [call._post(url, params)[0] for url, params in callbacks] == [200, 200]
    spool.replay(night.runtime)  # the worker's replay of what the recording status left in the spool
    [ticket] = night.tickets()
    assert (ticket["kind"], ticket["priority"], ticket["recording_seconds"], ticket["transcript"]) == (
        "emergency_voicemail", "P1", 20, "The server room is flooding")


def test_a_silent_caller_is_not_sent_round_to_another_tone(night):
    call = night.call().press("501")
    with database_away(night, spool_too=True):
        call.stay_silent()  # the one more chance every silent caller gets: no database needed
        assert call.state == "record"
        call.stay_silent()
    assert call.state == "ended" and "Your message has been saved" in call.said


def test_a_voice_page_nobody_answered_still_escalates_when_its_status_comes_again(night):
    people = on_call(night)
    emergency_voicemail(night)
    settle(night)
    deliver_all(night)
    advance(night, minutes=5)  # the voice step: a call to the primary
    [call] = night.fake.calls
    with database_away(night):
        assert night.fake.send_call_status(call["sid"], "no-answer") == 503
    assert night.fake.send_call_status(call["sid"], "no-answer") == 200
    settle(night)
    assert [m["to"] for m in night.fake.messages] == [people["primary"], people["secondary"]]
    primary = night.api("/api/oncall").get_json()["primary"]["id"]
    assert events(night.ticket("CS-000001"), "escalation_step")[-1]["early_because"] == f"{primary}: no-answer"


def test_a_dual_callback_ending_while_the_database_is_away_erases_the_secret_on_the_retry(night):
    disclosure = _post_secret(night, seed(night)["ben"])
    answered = _verified_callback(night, from_=BEN, pin=None)
    assert _readings(answered) == 1
    ended = {"CallStatus": "completed", "CallDuration": "60"}
    with database_away(night):
        assert answered._post(answered.status_url, ended)[0] == 503
    assert answered._post(answered.status_url, ended)[0] == 200
    with night.runtime.store.reading() as session:
        assert session.get(OneTimeSecret, disclosure).ciphertext is None
    assert SECRET not in night.api(f"/api/disclosures/{disclosure}").get_data(as_text=True)


def test_a_secret_whose_calls_end_never_arrived_is_erased_once_its_verification_is_over(night):
    """Twilio retries a 503 a few times within seconds, at most: when the database is away longer,
    the worker's housekeeping erases the delivered secret once the call's verification is over."""
    disclosure = _post_secret(night, seed(night)["ben"])
    answered = _verified_callback(night, from_=BEN, pin=None)
    with database_away(night):
        assert answered._post(answered.status_url, {"CallStatus": "completed", "CallDuration": "60"})[0] == 503
    assert one_time_secrets.expire_due(night.runtime) == 0  # still within the verification's 15 minutes
    night.clock.advance(minutes=15)
    assert one_time_secrets.expire_due(night.runtime) == 1
    with night.runtime.store.reading() as session:
        assert session.get(OneTimeSecret, disclosure).ciphertext is None


def test_option_2_with_the_database_away_goes_back_to_the_menu_where_the_voicemail_works(night):
    call = night.call(from_=ANN)
    with database_away(night):
        call.press("2")
        assert call.said.startswith("Sorry, we cannot complete the verification right now.")
        assert call.state == "gather" and "For support, press 1" in call.said
        call.press("501")
        call.leave_message(seconds=12, transcript="Locked out of the portal and the server is down")
        assert "Your message has been saved" in call.said
