"""The ticket store: a SQLAlchemy engine and sessions, SQLite (WAL) by default.

``DATABASE_URL`` selects another database (PostgreSQL in production and in CI).
The schema is created at start-up from the models; each domain keeps its models in
its own module, listed in ``MODEL_MODULES`` so that every table exists before the
first request.
"""
from __future__ import annotations

import importlib
import random
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import DateTime, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.schema import CreateColumn
from sqlalchemy.types import TypeDecorator

WRITE_LOCK_WAIT_SECONDS = 5.0  # as busy_timeout: how long a transaction waits for SQLite's write lock
MODEL_MODULES = ("core.models", "dispatch.verification_models", "dispatch.paging_models")


class Base(DeclarativeBase):
    pass


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, whatever the database keeps (SQLite keeps naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use core.clock.now()")
        return value.astimezone(timezone.utc).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Store:
    """One engine per process; ``with store.transaction() as s:`` commits or rolls back."""

    def __init__(self, url: str):
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        options = {"pool_pre_ping": True}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            options["connect_args"] = {"timeout": 5}
        else:
            options.update(pool_size=5, max_overflow=5, pool_timeout=5)
        self.engine = create_engine(url, **options)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin_immediate)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._gate = threading.RLock() if self.is_sqlite else None  # see _turn

    def create_schema(self) -> None:
        for module in MODEL_MODULES:
            importlib.import_module(module)
        Base.metadata.create_all(self.engine)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """The migrations this project needs so far: columns added to existing tables.

        A new nullable column (or one with a server default) is added in place, so a
        release that adds one starts on an old database; anything else is refused
        with a message rather than guessed.
        """
        with self.engine.begin() as conn:
            inspector = inspect(conn)
            for table in Base.metadata.sorted_tables:
                present = {c["name"] for c in inspector.get_columns(table.name)}
                for column in table.columns:
                    if column.name in present:
                        continue
                    if not column.nullable and column.server_default is None:
                        raise RuntimeError(f"database table {table.name} lacks column {column.name}, which "
                                           "cannot be added automatically; migrate it by hand")
                    ddl = CreateColumn(column).compile(dialect=self.engine.dialect)
                    conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {ddl}")

    @contextmanager
    def transaction(self):
        with self._turn():
            session: Session = self._sessions()
            try:
                with session.begin():
                    yield session
            finally:
                session.close()

    @contextmanager
    def _turn(self):
        """SQLite: this process's transactions one at a time.

        Each holds the database's one write lock anyway (BEGIN IMMEDIATE), so no
        parallelism is lost. The threads of a process then queue on a lock that hands
        over at once, and only one of them at a time competes with the other processes,
        which so get their fair turn: under load, a worker's one thread was outrun by the
        web processes' eight, and pages queued for seconds.
        """
        if self._gate is None:
            yield
            return
        if not self._gate.acquire(timeout=WRITE_LOCK_WAIT_SECONDS):
            raise SQLAlchemyTimeoutError("no turn at the SQLite database within "
                                         f"{WRITE_LOCK_WAIT_SECONDS:.0f} s in this process")
        try:
            yield
        finally:
            self._gate.release()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record):
    # Let SQLAlchemy, not the driver, say when a transaction begins (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(conn):
    """Take SQLite's write lock when a transaction begins, not at its first write.

    A deferred transaction that reads and then writes can fail at once with
    SQLITE_BUSY when another process wrote in between; taking the lock up front
    makes concurrent web processes and workers queue politely for it.

    The queueing is ours, retrying every 0.1-2 ms: SQLite's own busy handler sleeps
    1, 2, 5, 10, ... 100 ms between tries, so under load a lock that other writers free
    only for moments is missed try after try (waits of 330 ms measured with the lock busy
    three quarters of the time; the load benchmark's webhooks spent 70% of their time
    there). The last try, after ``WRITE_LOCK_WAIT_SECONDS``, raises as SQLAlchemy does.
    """
    raw = conn.connection.dbapi_connection
    deadline = time.monotonic() + WRITE_LOCK_WAIT_SECONDS
    delay = 0.0001
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    break
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 0.002)
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        raw.execute("PRAGMA busy_timeout=5000")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
