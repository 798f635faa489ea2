import os

import pytest
import redis
from hypothesis import settings

from tests.dispatch_support import paging_stack
from tests.support import RedisServer, fresh_database_url, make_stack

# CI (CI=true) runs the property tests on a fixed sequence of examples, so a red build can be
# re-run and read; a developer's runs draw new examples each time and keep exploring.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


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
    return fresh_database_url(tmp_path)


@pytest.fixture
def stack(tmp_path, redis_url, database_url):
    built = make_stack(tmp_path, redis_url, database_url)
    yield built
    built.fake.stop()
    built.runtime.store.dispose()


@pytest.fixture
def paging(tmp_path, redis_url, database_url):
    """A stack with a public base URL (pages carry status callbacks), on a Tuesday at 3 AM:
    extension 501 goes straight to the emergency voicemail."""
    stack = paging_stack(tmp_path, redis_url, database_url)
    stack.at(2026, 11, 24, 3, 0)
    yield stack
    stack.fake.stop()
    stack.runtime.store.dispose()
