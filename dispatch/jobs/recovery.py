"""What a worker that died mid-job (SIGKILL, OOM, a lost host) leaves behind, picked up again.

RQ moves a dead worker's job to the failed registry only after its execution heartbeat
expires (a minute or more), and retries it only if it was enqueued with retries: a
P1's first page would wait, or be lost. Here every ``dispatch.worker`` keeps a short
liveness key in Redis from a thread of its own, and the housekeeping of every other
worker, every few seconds, requeues the jobs a dead worker had started (jobs are
idempotent: the database decides what is still owed), the one process whose ``ZREM`` of
the registry entry wins doing it, so a job is requeued once however many workers look.

What else a dead worker leaves is each domain's to pick up: pages left ``sending``
(``notification.recovery``), and timers Redis lost (``escalation.recovery``).
"""
from __future__ import annotations

import logging
import threading

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job

from dispatch.jobs.schedule import QUEUE_NAMES
from dispatch.runtime import Runtime

log = logging.getLogger(__name__)

BEAT_SECONDS = 1.0
ALIVE_TTL_SECONDS = 5  # a worker silent this long is dead
ALIVE_PREFIX, ALIVE_SUFFIX = "ivr:worker:", ":alive"


def _alive_key(name: str) -> str:
    return f"{ALIVE_PREFIX}{name}{ALIVE_SUFFIX}"


def keep_alive(runtime: Runtime, name: str, stop: threading.Event) -> None:
    """Refresh this worker's liveness key until ``stop`` is set (its own thread: a long job must not
    make a live worker look dead)."""
    while not stop.is_set():
        try:
            runtime.redis.set(_alive_key(name), "1", ex=ALIVE_TTL_SECONDS)
        except (redis.RedisError, OSError):
            pass  # nobody can rescue anything while Redis is away either
        stop.wait(BEAT_SECONDS)
    try:
        runtime.redis.delete(_alive_key(name))
    except (redis.RedisError, OSError):
        pass


def is_alive(runtime: Runtime, name: str | None) -> bool:
    return bool(name) and bool(runtime.redis.exists(_alive_key(name)))


def alive_workers(runtime: Runtime) -> list[str]:
    """Names of the workers alive now (what ``/health`` reports)."""
    keys = (key.decode() for key in runtime.redis.scan_iter(match=_alive_key("*"), count=100))
    return sorted(key[len(ALIVE_PREFIX):-len(ALIVE_SUFFIX)] for key in keys)


def rescue_jobs(runtime: Runtime) -> int:
    """Requeue jobs started by workers that are no longer alive; returns how many."""
    rescued = 0
    for name in QUEUE_NAMES:
        queue = runtime.queue(name)
        registry = queue.started_job_registry
        for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
            try:
                job = Job.fetch(job_id, connection=runtime.redis)
            except NoSuchJobError:
                runtime.redis.zrem(registry.key, f"{job_id}:{execution_id}")
                continue
            if not job.worker_name or is_alive(runtime, job.worker_name):
                continue
            if not runtime.redis.zrem(registry.key, f"{job_id}:{execution_id}"):
                continue  # another worker rescued it first
            queue.enqueue_job(job)
            rescued += 1
            log.warning("job %s was running on worker %s, which stopped: queued again", job_id, job.worker_name)
    return rescued
