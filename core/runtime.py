"""Everything a request or a job needs, built once per process from settings and config.

The web app builds one in its factory and the worker in its main; RQ jobs, which are
plain functions taking ids, reach it through :func:`current`.
"""
from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field

import redis
from rq import Queue
from sqlalchemy.exc import OperationalError

from core.clock import SystemClock
from core.config import Config, load_config
from core.db import Store
from core.settings import Settings

log = logging.getLogger(__name__)

QUEUE_NAMES = ("urgent", "default")

_current: "Runtime | None" = None


@dataclass
class Runtime:
    settings: Settings
    config: Config
    store: Store
    clock: object = field(default_factory=SystemClock)
    carrier: object = None
    # Names this process on the pages it sends; a worker uses its RQ worker name (dispatch.recovery).
    process_name: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    _redis: redis.Redis | None = None

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            url = self.settings.redis_url
            if url is None:
                from core.embedded_redis import ensure_running

                url, _started = ensure_running(self.settings.data_dir)
            self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1,
                                               health_check_interval=10)
        return self._redis

    def queue(self, name: str = "default") -> Queue:
        return Queue(name, connection=self.redis)

    def now(self):
        return self.clock.now()


def build(settings: Settings | None = None, clock=None, carrier=None) -> Runtime:
    """Load config, open the store (creating the schema) and choose the carrier."""
    settings = settings or Settings.from_env()
    config = load_config(settings.config_path)
    store = Store(settings.database_url)
    try:
        store.create_schema()
    except OperationalError as exc:
        # Start anyway: /voice/fallback must take voicemails (into the spool) during a database
        # outage, also after a restart; the worker makes the schema once the database answers.
        log.error("database unavailable at start-up (%s): voicemails go to the spool until it answers",
                  type(exc).__name__)
    runtime = Runtime(settings=settings, config=config, store=store, clock=clock or SystemClock())
    if carrier is None:
        from dispatch.twilio_adapter import carrier_for

        carrier = carrier_for(runtime)
    runtime.carrier = carrier
    return runtime


def install(runtime: Runtime) -> Runtime:
    """Make ``runtime`` the one jobs in this process use."""
    global _current
    _current = runtime
    return runtime


def current() -> Runtime:
    global _current
    if _current is None:
        _current = build()
    return _current
