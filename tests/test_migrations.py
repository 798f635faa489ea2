"""The schema is Alembic's: a database made by the release before migrations is upgraded with
nothing lost, and the migrations make exactly the schema the models describe."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

import wiring
from core import migrations
from core.db import Base, Store

pytestmark = pytest.mark.postgres

AT = "2026-12-01 08:00:00"
# What the release before migrations kept: a contact, a paged P1 with its timeline, escalation and
# two pages (the carrier's own words in ``delivery``), and two jobs waiting in the outbox.
EARLIER_ROWS = [
    "INSERT INTO clients (id, name) VALUES (1, 'Acme Corp')",
    "INSERT INTO contacts (id, client_id, name, email) VALUES (1, 1, 'Jane Doe', 'jane@acme.example')",
    "INSERT INTO contact_phones (id, contact_id, e164) VALUES (1, 1, '+12705550150')",
    "INSERT INTO tickets (id, source_key, status, priority, kind, box, call_sid, caller, client_id, contact_id, "
    "recording_sid, recording_seconds, transcript, created_at, paged_at) VALUES (1, 'call:CA1', 'new', 'P1', "
    f"'emergency_voicemail', 'emergency', 'CA1', '+12705550150', 1, 1, 'RE1', 42, 'The mail server is down', "
    f"'{AT}', '{AT}')",
    f"INSERT INTO timeline_events (id, ticket_id, at, event, detail) VALUES (1, 1, '{AT}', 'created', "
    "'{\"box\": \"emergency\"}')",
    f"INSERT INTO escalations (ticket_id, started_at, next_position, next_due_at) VALUES (1, '{AT}', 1, '{AT}')",
    "INSERT INTO pages (id, ticket_id, key, kind, position, staff_id, channel, to_number, body, state, attempts, "
    f"sid, delivery, delivery_rank, created_at) VALUES (1, 1, 'p0:alice', 'page', 0, 'alice', 'sms', "
    f"'+12705550111', 'CS-000001 EMERGENCY', 'sent', 1, 'SM1', 'delivered', 6, '{AT}')",
    "INSERT INTO pages (id, ticket_id, key, kind, position, staff_id, channel, to_number, state, attempts, "
    f"sid, delivery, delivery_rank, created_at) VALUES (2, 1, 'p1:alice', 'page', 1, 'alice', 'voice', "
    f"'+12705550111', 'sent', 1, 'CA9', 'ringing', 4, '{AT}')",
    "INSERT INTO outbox_jobs (id, job_key, function, args, queue, created_at) VALUES "
    "(1, 'notify-acknowledged-1', 'dispatch.jobs.notify_others', '[1, \"acknowledged\", \"alice\"]', "
    f"'urgent', '{AT}')",
    "INSERT INTO outbox_jobs (id, job_key, function, args, queue, created_at) VALUES "
    f"(2, 'callback-1', 'dispatch.verification_jobs.place_callback', '[1]', 'urgent', '{AT}')",
]


def _database_of_the_earlier_release(database_url: str, with_unanswered_at: bool) -> Store:
    """The tables as the earlier release made them at start-up (the first revision, plus the column it
    added by hand, or not for a release older still), with its rows, and no record of migrations."""
    store = Store(database_url)
    migrations.upgrade(store, "0002" if with_unanswered_at else "0001")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")
        for statement in EARLIER_ROWS:
            conn.exec_driver_sql(statement)
    store.schema_ready = False
    return store


@pytest.mark.parametrize("with_unanswered_at", [True, False])
def test_a_database_of_the_release_before_migrations_is_upgraded_and_nothing_is_lost(database_url,
                                                                                      with_unanswered_at):
    store = _database_of_the_earlier_release(database_url, with_unanswered_at)
    migrations.upgrade(store)
    assert migrations.current(store) == migrations.head()
    with store.engine.connect() as conn:
        ticket = conn.execute(text("SELECT caller, transcript, recording_seconds, client_id FROM tickets")).one()
        assert tuple(ticket) == ("+12705550150", "The mail server is down", 42, 1)
        assert conn.execute(text("SELECT e164 FROM contact_phones")).scalar_one() == "+12705550150"
        assert conn.execute(text("SELECT event FROM timeline_events")).scalar_one() == "created"
        pages = conn.execute(text("SELECT delivery, delivery_rank FROM pages ORDER BY id")).all()
        assert [tuple(p) for p in pages] == [("delivered", 4), ("sent", 2)]  # neutral states now
        jobs = conn.execute(text("SELECT function FROM outbox_jobs ORDER BY id")).scalars().all()
        assert jobs == ["dispatch.escalation.responses.notify_others",
                        "dispatch.verification.callbacks.place_callback"]
    assert "unanswered_at" in {c["name"] for c in inspect(store.engine).get_columns("pages")}
    store.dispose()


def test_the_upgraded_jobs_still_name_functions_that_exist(database_url):
    """Every job an upgraded outbox names can be imported by a worker."""
    from importlib import import_module

    store = _database_of_the_earlier_release(database_url, True)
    migrations.upgrade(store)
    with store.engine.connect() as conn:
        for name in conn.execute(text("SELECT function FROM outbox_jobs")).scalars():
            module, _, function = name.rpartition(".")
            assert callable(getattr(import_module(module), function)), name
    store.dispose()


def test_the_migrations_make_the_schema_the_models_describe(database_url):
    wiring.load_models()
    store = Store(database_url)
    migrations.upgrade(store)
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    store.dispose()
    assert differences == [], "a model changed without a migration: alembic revision --autogenerate"


def test_upgrading_twice_changes_nothing(database_url):
    store = Store(database_url)
    migrations.upgrade(store)
    migrations.upgrade(store)
    assert migrations.current(store) == migrations.head()
    store.dispose()


def test_a_job_queued_by_the_earlier_release_still_finds_its_function():
    """RQ imports a job's function by the name it was queued under; the earlier release's names
    (``dispatch.jobs.page_ticket``, …) still lead to the functions."""
    from rq.utils import import_attribute

    from dispatch.escalation import steps
    from dispatch.notification import delivery

    assert import_attribute("dispatch.jobs.page_ticket") is steps.page_ticket
    assert import_attribute("dispatch.jobs.send_page") is delivery.send_page


def test_db_upgrade_and_current_say_where_the_schema_is(stack):
    runner = stack.app.test_cli_runner()
    assert "already current" in runner.invoke(args=["db", "upgrade"]).output
    assert runner.invoke(args=["db", "current"]).output.startswith(f"database at {migrations.head()}; newest")
