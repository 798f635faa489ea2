import os
import warnings

import pytest
import redis

from tests.support import RedisServer, make_stack


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    redis.Redis.from_url(redis_server.url).flushall()
    return redis_server.url


@pytest.fixture
def database_url(tmp_path):
    """SQLite in the test's folder, or the PostgreSQL named by TEST_DATABASE_URL, emptied first."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'tickets.sqlite3'}"
    from sqlalchemy import create_engine

    from core.db import MODEL_MODULES, Base
    import importlib

    for module in MODEL_MODULES:
        importlib.import_module(module)
    engine = create_engine(url)
    with engine.begin() as conn:
        # A session an earlier test left behind (a process it killed, a pool it did not
        # dispose) would block DROP TABLE for good, and every later test with it: end such
        # sessions, and say so, since one still busy means that earlier test leaked it.
        busy = conn.exec_driver_sql(
            "SELECT application_name, state, left(query, 80), pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").all()
    left_busy = [row[:3] for row in busy if row[1] not in ("idle", None)]
    if left_busy:
        warnings.warn(f"sessions left busy by an earlier test, ended: {left_busy}")
    Base.metadata.drop_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def stack(tmp_path, redis_url, database_url):
    built = make_stack(tmp_path, redis_url, database_url)
    yield built
    built.fake.stop()
    built.runtime.store.dispose()
