"""The schema, owned by Alembic (``migrations/``): brought up to date at start-up and by
``flask --app wsgi db upgrade``.

Several processes start together (gunicorn's workers, the RQ workers, on several hosts):
SQLite's IMMEDIATE transaction already lets one at a time in; on PostgreSQL, where DDL
is transactional but not exclusive, a transaction-level advisory lock queues them, and
the later ones find the schema current. A database made by a release from before
migrations (its tables, no ``alembic_version``) is taken as the first revision, then
upgraded.
"""
from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from core.db import Store
from core.settings import PROJECT_ROOT

SCHEMA_LOCK_KEY = 0x5CE3A  # PostgreSQL advisory lock held while a process migrates the schema
BEFORE_MIGRATIONS = "0001"  # what a database made at start-up by the earlier releases is


def config(connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    return ScriptDirectory.from_config(config()).get_current_head()


def current(store: Store) -> str | None:
    """The revision the database is at (None: none yet)."""
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(store: Store, revision: str = "head") -> None:
    """Bring the schema to ``revision``, in one transaction."""
    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})")
        if MigrationContext.configure(conn).get_current_revision() is None and inspect(conn).has_table("tickets"):
            command.stamp(config(conn), BEFORE_MIGRATIONS)
        command.upgrade(config(conn), revision)
    store.schema_ready = True


def ensure(store: Store) -> None:
    """Upgrade the schema if start-up could not (the database was away then)."""
    if not store.schema_ready:
        upgrade(store)
