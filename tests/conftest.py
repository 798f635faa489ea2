import pytest
import redis

from tests.support import RedisServer, fresh_database_url, make_stack


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
