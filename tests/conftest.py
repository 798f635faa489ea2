import os

import pytest
import redis
from hypothesis import settings

from tests.dispatch_support import paging_stack, real_time_stack
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


def _in_use(stack):
    """Hand ``stack`` to the test, then stop its Twilio stand-in and close its database pool."""
    yield stack
    stack.fake.stop()
    stack.runtime.store.dispose()


@pytest.fixture
def stack(tmp_path, redis_url, database_url):
    yield from _in_use(make_stack(tmp_path, redis_url, database_url))


@pytest.fixture
def paging(tmp_path, redis_url, database_url):
    """A stack with a public base URL (pages carry status callbacks), on a Tuesday at 3 AM:
    extension 501 goes straight to the emergency voicemail."""
    stack = paging_stack(tmp_path, redis_url, database_url)
    stack.at(2026, 11, 24, 3, 0)
    yield from _in_use(stack)


@pytest.fixture
def real_time(tmp_path, redis_url, database_url):
    """A stack for worker processes, which run on the real clock (see ``real_time_stack``)."""
    yield from _in_use(real_time_stack(tmp_path, redis_url, database_url))
