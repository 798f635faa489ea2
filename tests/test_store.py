"""The store across processes: several processes starting together on an empty database all start, a killed process's
database sessions end with it, and a PostgreSQL connection waits on no server for long."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from core import migrations
from core.db import Store
from core.settings import PROJECT_ROOT
from tests.dispatch_support import real_time_stack, start_worker, stop_workers, wait_alive, wait_until
from tests.support import RedisServer

pytestmark = pytest.mark.postgres


def test_processes_starting_together_on_an_empty_database_all_start(database_url):
    # What gunicorn's workers and the RQ workers do at once on a first deployment.
    code = "import sys; from core import migrations; from core.db import Store; migrations.upgrade(Store(sys.argv[1]))"
    processes = [subprocess.Popen([sys.executable, "-c", code, database_url], cwd=PROJECT_ROOT,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [process.communicate(timeout=60)[1] for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, "\n".join(errors)


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_a_killed_worker_leaves_no_database_session_behind(tmp_path, database_url):
    # RQ's worker forks its scheduler process; killed with SIGKILL (the OOM killer, a lost host),
    # the worker must not leave that child holding its PostgreSQL sessions and their locks.
    if database_url.startswith("sqlite"):
        pytest.skip("about PostgreSQL sessions (a forked process does not inherit SQLite's locks)")
    # A Redis of its own: no other test's worker holds the scheduler lock, so this one forks its scheduler.
    redis_server = RedisServer(tmp_path / "redis").start()
    stack = real_time_stack(tmp_path, redis_server.url, database_url)
    worker = start_worker(stack, "doomed")
    children = []

    def sessions() -> int:
        with stack.runtime.store.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                                {"name": f"support-line pid {worker.pid}"}).scalar()

    try:
        wait_alive(stack, "doomed")
        wait_until(lambda: _children(worker.pid), 10, "the worker to start its scheduler process")
        children = _children(worker.pid)
        wait_until(lambda: sessions() > 0, 10, "the worker to use the database")
        worker.kill()
        worker.wait()
        wait_until(lambda: sessions() == 0, 10, "the killed worker's sessions to end")
    finally:
        stop_workers(worker)
        for pid in children:  # the orphaned scheduler process
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        redis_server.stop()
        stack.fake.stop()
        stack.runtime.store.dispose()


def test_the_checkpoint_copies_the_log_into_the_database(tmp_path):
    # What the worker's housekeeping does every round on SQLite (it once failed there every time).
    store = Store(f"sqlite:///{tmp_path / 'ivr.db'}")
    migrations.upgrade(store)
    with store.transaction() as session:
        for n in range(50):
            session.execute(text("INSERT INTO clients (name) VALUES (:name)"), {"name": f"client {n}"})
    log, copied = store.checkpoint()
    store.dispose()
    assert log > 0 and copied == log


def test_postgresql_connections_are_armed_against_a_server_that_stops_answering(database_url):
    # A host that went down or a network cut sends no reset: without these socket options a
    # pooled connection's next statement would wait a quarter of an hour for TCP to give up,
    # and a caller's voicemail with it. (Dropping packets needs privileges a test should not
    # take, so this checks the sockets the store opens carry the limits the kernel enforces.)
    if database_url.startswith("sqlite"):
        pytest.skip("about PostgreSQL's TCP connections")
    store = Store(database_url)
    try:
        with store.engine.connect() as conn:
            driver = conn.connection.dbapi_connection
            if driver.info.host.startswith("/"):
                pytest.skip("TEST_DATABASE_URL names a Unix socket: no TCP to bound")
            # fromfd works on a duplicate of the descriptor, closed when the block ends.
            with socket.fromfd(driver.pgconn.socket, socket.AF_INET, socket.SOCK_STREAM) as probe:
                assert probe.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 5000
                assert probe.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 5
                assert probe.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 1
                assert probe.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 5
            assert conn.execute(text("SHOW lock_timeout")).scalar() == "5s"
    finally:
        store.dispose()
