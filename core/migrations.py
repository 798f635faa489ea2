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

import re
from functools import cache

from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from core.db import Store
from core.settings import PROJECT_ROOT

SCHEMA_LOCK_KEY = 0x5CE3A  # PostgreSQL advisory lock held while a process migrates the schema
BEFORE_MIGRATIONS = "0001"  # what a database made at start-up by the earlier releases is
VERSIONS = PROJECT_ROOT / "migrations" / "versions"


def config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def head() -> str:
    """The newest revision: the one no other revision follows. Read from the files themselves, so that
    a process whose schema is current never imports Alembic (15 MB of memory per process)."""
    revisions, parents = set(), set()
    for path in VERSIONS.glob("*.py"):
        source = path.read_text()
        found = re.search(r'^revision\s*=\s*"([^"]+)"', source, re.M)
        down = re.search(r"^down_revision\s*=\s*(.+)$", source, re.M)
        if found:
            revisions.add(found.group(1))
            parents.update(re.findall(r'"([^"]+)"', down.group(1)) if down else [])
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads ({', '.join(sorted(heads))}); merge them")
    return heads.pop()


def current(store: Store) -> str | None:
    """The revision the database is at (None: none yet)."""
    with store.engine.connect() as conn:
        return _version(conn)


def _version(conn) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(store: Store, revision: str = "head") -> None:
    """Bring the schema to ``revision``, in one transaction (nothing to do, and no Alembic
    imported, when it is there already)."""
    if revision == "head":
        try:
            if current(store) == head():
                store.schema_ready = True
                return
        except DBAPIError:
            pass  # the transaction below says what is wrong
    from alembic import command
    from alembic.runtime.migration import MigrationContext

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
