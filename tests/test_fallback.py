"""The Voice Fallback URL works when Redis (and the database) are gone, and loses nothing."""
from datetime import datetime

import pytest

from core import migrations
from dispatch import jobs
from tests.support import NY, RedisServer, free_port, make_stack

pytestmark = pytest.mark.postgres


def test_fallback_takes_a_voicemail_with_redis_down_and_the_page_waits_in_the_outbox(tmp_path, database_url):
    redis_server = RedisServer(tmp_path / "redis").start()
    stack = make_stack(tmp_path, redis_server.url, database_url, at=datetime(2026, 11, 25, 3, 0, tzinfo=NY))
    redis_server.stop()
    try:
        call = stack.call(voice_url="/voice/fallback")
        assert "technical difficulties" in call.said and call.state == "record"
        call.leave_message(seconds=30, transcript="Nothing works")
        assert "Your ticket number is 1." in call.said
        call.deliver_callbacks()
        ticket = stack.ticket("1")
        assert ticket["priority"] == "P1" and ticket["transcript"] == "Nothing works"
        # The ticket is safe in the database; now Redis comes back on the same port.
        redis_server.start()
        assert jobs.flush(stack.runtime) == 1
        assert [j.id for j in stack.queued_jobs("urgent")] == ["page-ticket-1"]
        assert jobs.flush(stack.runtime) == 0  # never twice
    finally:
        redis_server.stop()
        stack.fake.stop()


def test_the_whole_menu_still_works_with_redis_down(tmp_path, database_url):
    stack = make_stack(tmp_path, f"redis://127.0.0.1:{free_port()}/0", database_url)
    try:
        call = stack.call()
        call.press("1")
        call.dial_result("no-answer")
        call.leave_message(seconds=8)
        assert "Your ticket number is 1." in call.said
    finally:
        stack.fake.stop()


def test_fallback_records_with_the_database_unreachable_and_the_spool_makes_the_ticket(tmp_path, redis_url):
    from dispatch.calls import spool

    blocked = tmp_path / "blocked"
    blocked.mkdir()
    stack = make_stack(tmp_path, redis_url, f"sqlite:///{blocked / 'tickets.sqlite3'}")
    try:
        away = tmp_path / "away"
        blocked.rename(away)  # the database vanishes: its folder is now a plain file
        blocked.write_text("not a folder")
        stack.runtime.store.dispose()
        call = stack.call(voice_url="/voice/fallback")
        call.leave_message(seconds=20, transcript="Help")
        assert "Your message has been saved" in call.said
        call.deliver_callbacks()
        assert len(list((tmp_path / "var" / "spool").glob("*.json"))) == 3
        blocked.unlink()
        away.rename(blocked)  # the database is back
        stack.runtime.store.dispose()
        assert spool.replay(stack.runtime) == 3
        ticket = stack.ticket("1")
        assert ticket["transcript"] == "Help" and ticket["recording_seconds"] == 20
        assert len(stack.tickets()) == 1
    finally:
        stack.fake.stop()


def test_the_app_starts_and_the_fallback_records_when_the_database_was_down_at_start_up(tmp_path, redis_url):
    from dispatch.calls import spool

    database = tmp_path / "db" / "tickets.sqlite3"
    database.mkdir(parents=True)  # a folder where the database file should be: it cannot be opened
    stack = make_stack(tmp_path, redis_url, f"sqlite:///{database}")
    try:
        assert stack.api("/health").get_json()["database"] == "down"
        call = stack.call(voice_url="/voice/fallback")
        call.leave_message(seconds=20, transcript="Help")
        assert "Your message has been saved" in call.said
        call.deliver_callbacks()
        database.rmdir()  # the database answers again, empty: the worker makes the schema first
        stack.runtime.store.dispose()
        migrations.ensure(stack.runtime.store)
        assert spool.replay(stack.runtime) == 3
        [ticket] = stack.tickets()
        assert (ticket["kind"], ticket["transcript"], ticket["recording_seconds"]) == ("voicemail", "Help", 20)
    finally:
        stack.fake.stop()
