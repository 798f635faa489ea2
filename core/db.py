"""The ticket store: a SQLAlchemy engine and sessions, SQLite (WAL) by default.

``DATABASE_URL`` selects another database (PostgreSQL in production and in CI).
Each domain keeps its models, on ``Base``, in its own package; the schema is Alembic's
(``core.migrations``).
"""
from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
import weakref
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

from sqlalchemy import DateTime, create_engine, event, insert, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

LOCK_TIMEOUT_SECONDS = 5  # how long a transaction waits for another's lock before failing
# SQLite copies its write-ahead log back into the database (a checkpoint) in the commit that
# makes the log pass this many pages; the worker's housekeeping checkpoints every few seconds
# (Store.checkpoint), so a webhook's or a page's commit only does it if no worker runs.
WAL_AUTOCHECKPOINT_PAGES = 16000  # 64 MB
MAX_ID = 2**31 - 1  # the largest INTEGER primary key on every supported database (PostgreSQL's int4)


def parse_id(text: str | None) -> int | None:
    """A row id named in a URL (``?page=12``), or None for anything that cannot be one: not a
    number, not positive, or beyond the column's range, which the driver would refuse with an
    error (SQLite's OverflowError) instead of simply finding no row."""
    try:
        value = int(text or "")
    except ValueError:
        return None
    return value if 0 < value <= MAX_ID else None


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
            raise ValueError("naive datetime given to the store; use the runtime's clock")
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
        options = {}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
                # Made here, readable by this user only: SQLite gives its WAL and shared-memory
                # files the database file's own permissions.
                try:
                    os.close(os.open(parsed.database, os.O_WRONLY | os.O_CREAT, 0o600))
                except OSError:
                    pass  # not a file it can make (a folder there, a read-only disk): the first query says so
            options["connect_args"] = {"timeout": LOCK_TIMEOUT_SECONDS}
        else:
            # A server connection can drop (a restart, a proxy's idle time-out): test it at checkout.
            # A SQLite file cannot, and the test would cost every transaction a statement.
            options.update(pool_size=5, max_overflow=5, pool_timeout=5, pool_pre_ping=True)
        if parsed.get_backend_name() == "postgresql":
            options["connect_args"] = _postgresql_timeouts()
        # hide_parameters: an error's message (logged) names the statement, never the values,
        # which are callers' numbers, transcripts, PIN hashes.
        self.engine = create_engine(url, hide_parameters=True, **options)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin_immediate)
        else:
            event.listen(self.engine, "before_cursor_execute", _drop_nul, retval=True)
            event.listen(self.engine, "do_connect", _name_the_session)
            event.listen(self.engine, "connect", lambda dbapi_connection, _record: _opened.add(dbapi_connection))
        _stores.add(self)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(self.engine.execution_options(read_only=True), expire_on_commit=False)
        self.schema_ready = False  # set once the schema is current (core.migrations)
        self._gate = threading.RLock() if self.is_sqlite else None  # see _one_writer_at_a_time

    @contextmanager
    def transaction(self):
        with self._one_writer_at_a_time():
            session: Session = self._sessions()
            try:
                with session.begin():
                    yield session
            finally:
                session.close()

    @contextmanager
    def reading(self):
        """A transaction that only reads: on SQLite it takes neither the write lock nor this
        process's turn (WAL readers see the last commit and wait for no one). Nothing is
        written: the objects read are handed out as they are, and the transaction is rolled back."""
        session: Session = self._readers()
        try:
            session.begin()
            yield session
        finally:
            session.expunge_all()
            session.close()

    @contextmanager
    def _one_writer_at_a_time(self):
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
        if not self._gate.acquire(timeout=LOCK_TIMEOUT_SECONDS):
            raise SQLAlchemyTimeoutError("no turn at the SQLite database within "
                                         f"{LOCK_TIMEOUT_SECONDS:.0f} s in this process")
        try:
            yield
        finally:
            self._gate.release()

    def checkpoint(self) -> tuple[int, int] | None:
        """SQLite: copy the write-ahead log into the database, off the paths callers and pages wait on;
        returns (frames in the log, frames copied).

        PASSIVE: it copies what no reader still needs and never waits for, nor blocks,
        a writer; a later round takes the rest. Nothing to do on other databases.
        """
        if not self.is_sqlite:
            return None
        with self.engine.connect() as conn:
            # On the driver's connection, outside any transaction: inside one (SQLAlchemy begins
            # one, IMMEDIATE here, before its first statement) SQLite refuses with "database
            # table is locked".
            _busy, log, copied = conn.connection.dbapi_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return log, copied

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def _postgresql_timeouts() -> dict:
    """libpq settings that bound every wait on the server to about ``LOCK_TIMEOUT_SECONDS``.

    A webhook must answer within Twilio's 15 s (a store that cannot take a voicemail sends
    it to the spool) and a job must fail to be retried, so nothing may wait on the server
    for long: not a lock (``lock_timeout``), not a connection (``connect_timeout``), and not
    a server that vanished without closing its connections (a host down, a network cut),
    which sends no reset: a pooled connection's next statement, or the pool's pre-ping,
    would wait for TCP's retransmissions to give up, a quarter of an hour.
    ``tcp_user_timeout`` ends a connection whose sent data goes unacknowledged that long;
    keepalive probes find an idle one dead (or one whose statement was sent and whose answer
    never comes) and fall under the same limit. A slow query is not cut (the server's kernel
    acknowledges the query at once, and a busy server answers probes); only a bulk pipelined
    write queued behind a statement slower than the limit would be, and the app sends none.

    Each wait is bounded, not their sum: after a network cut, a checkout's pre-ping fails
    in about 5 s and its reconnect may wait ``connect_timeout`` once per address of the host.
    A server that stalls while its host still answers TCP is bounded by none of these.
    """
    seconds = LOCK_TIMEOUT_SECONDS
    return {"options": f"-c lock_timeout={seconds * 1000}", "connect_timeout": seconds,
            "tcp_user_timeout": seconds * 1000, "keepalives": 1, "keepalives_idle": seconds,
            # On Linux tcp_user_timeout decides when unanswered probes end the connection; the
            # count applies where libpq cannot set it (macOS): 5 probes a second apart.
            "keepalives_interval": 1, "keepalives_count": 5}


def _without_nul(value):
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {key: _without_nul(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_without_nul(item) for item in value)
    return value


def _drop_nul(_conn, _cursor, statement, parameters, _context, _executemany):
    """PostgreSQL's text cannot hold a NUL (SQLite's can), and Twilio's values are stored as they
    come: a NUL in a CallSid or a transcript would fail every write and lookup of it, and a
    spooled voicemail carrying one would stop the spool's replay for good. NULs are dropped
    from every value sent, so what is written and what is looked up agree."""
    return statement, _without_nul(parameters)


_stores: weakref.WeakSet = weakref.WeakSet()  # every Store of this process
_opened: weakref.WeakSet = weakref.WeakSet()  # every PostgreSQL connection this process opened


def _name_the_session(_dialect, _record, _cargs, cparams):
    """Label each PostgreSQL session with its process (``pg_stat_activity.application_name``)."""
    cparams.setdefault("application_name", f"support-line pid {os.getpid()}")


def _after_fork_in_child() -> None:
    """A forked child must neither use nor keep its parent's database connections.

    RQ's worker forks its scheduler process (and ``gunicorn --preload`` would fork web
    workers) while connections are open. Using one from two processes interleaves their
    messages on one socket. Merely keeping one is harmful on PostgreSQL: psycopg never
    closes a connection it inherited (that would end the parent's session), so the socket
    stays open while the child lives, and if the parent is killed, say mid-transaction,
    its server session lives on, holding its locks, until the child exits. So the child
    gets fresh pools, and each inherited PostgreSQL socket is swapped for /dev/null: the
    server sees the session end with the parent, and the descriptor number stays taken
    for as long as psycopg holds on to it.
    """
    if _opened:
        devnull = os.open(os.devnull, os.O_RDWR)
        try:
            for connection in list(_opened):
                try:
                    os.dup2(devnull, connection.pgconn.socket)
                except Exception:  # already closed: nothing inherited
                    pass
        finally:
            os.close(devnull)
        _opened.clear()
    for store in list(_stores):
        store.engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


def _sqlite_pragmas(dbapi_connection, _record):
    # Let SQLAlchemy, not the driver, say when a transaction begins (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cursor.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_SECONDS * 1000}")
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
    there). The last try, after ``LOCK_TIMEOUT_SECONDS``, raises as SQLAlchemy does.
    """
    raw = conn.connection.dbapi_connection
    if conn.get_execution_options().get("read_only"):
        raw.execute("BEGIN")  # deferred: a WAL reader, never the write lock (Store.reading)
        return
    deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
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
        raw.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_SECONDS * 1000}")


def locking(model) -> dict:
    """Row-lock arguments for a read that decides a write: ``select(...).with_for_update(**locking(M))``.

    SQLite needs none: every transaction here begins IMMEDIATE (see above), so it holds
    the database's one write lock from its first read. PostgreSQL runs transactions side
    by side, so a read-check-write (is the ticket still new? is this status later than
    the page's?) must lock the row it read, or two processes both pass the check and
    both write. FOR NO KEY UPDATE, the lock an UPDATE takes anyway, queues only others
    who lock or update the row: inserting a row that refers to it (a timeline event, a
    page) is not held up. ``of`` keeps joined eager loads out of the lock.
    """
    return {"key_share": True, "of": model}


def get_locked(session, model, ident):
    """``session.get`` with the row locked until the transaction ends (see :func:`locking`),
    re-read even if the session already holds it."""
    return session.get(model, ident, with_for_update=locking(model), populate_existing=True)


def lock_key(session, key: str) -> None:
    """Queue behind any other transaction that may be creating the row known by ``key``.

    A row lock cannot cover a row that does not exist yet: on PostgreSQL two callbacks
    of one call would both find no ticket and both insert one; the unique key stops the
    second, but only after its INSERT took a number from the id sequence, a gap in the
    ticket numbers callers hear. A transaction-level advisory lock on the key's hash
    makes the second wait and find the first one's row. SQLite needs nothing (one
    writer at a time).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def insert_now(session, row):
    """Insert ``row``, a new mapped object kept out of the session, at once as one SQL statement on
    its table, and give it its id; ``row`` is then read, not changed.

    The ORM's flush of the same row takes about three times as long, and the rows written on the
    way from a voicemail to its page (the ticket, the pages) are written while every other writer
    waits: on SQLite there is one write lock. Foreign keys are set as ids, not through relationships
    (the flush is what copies those); an attribute left unset gets its column's default.
    """
    mapper = inspect(type(row))
    values = {attr.columns[0].key: getattr(row, attr.key) for attr in mapper.column_attrs}
    row.id = session.connection().execute(
        _insert_returning_id(mapper.local_table),
        {key: value for key, value in values.items() if value is not None}).scalar_one()
    return row


@cache
def _insert_returning_id(table):
    return insert(table).returning(table.c.id)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
