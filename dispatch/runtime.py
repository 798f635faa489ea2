"""Everything a request or a job needs, built once per process by the composition root
(``wiring.build``) and installed here.

RQ jobs, which are plain functions taking ids, reach it through :func:`current`.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import redis
from rq import Queue

from core.config import Config
from core.db import Store
from core.links import Links
from core.settings import Settings
from dispatch.notification.carrier import Carrier


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass
class Runtime:
    settings: Settings
    config: Config
    store: Store
    clock: Clock
    carrier: Carrier
    links: Links
    # Names this process on the pages it sends; a worker uses its RQ worker name (dispatch.jobs.recovery).
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

    def release(self) -> None:
        """What a short-lived process (a CLI command) does as it ends: close its Redis connections, and
        stop the embedded Redis if it started it and no other process uses it."""
        if self._redis is not None:
            self._redis.connection_pool.disconnect()
        if self.settings.redis_url is None:
            from core.embedded_redis import stop_if_unused

            stop_if_unused(self.settings.data_dir)

    def queue(self, name: str) -> Queue:
        return Queue(name, connection=self.redis)

    def now(self) -> datetime:
        return self.clock.now()


_current: Runtime | None = None


def install(runtime: Runtime) -> Runtime:
    """Make ``runtime`` the one jobs in this process use."""
    global _current
    _current = runtime
    return runtime


def current() -> Runtime:
    """The runtime installed in this process (by the web app's factory or the worker's main)."""
    if _current is None:
        raise RuntimeError("no runtime installed: start the worker with `python -m dispatch.worker`")
    return _current
