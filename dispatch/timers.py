"""Handing paging work to RQ: now, or at a time of the runtime's clock, under deterministic job ids.

A deterministic id makes asking twice harmless (RQ keeps one scheduled entry per id)
and lets an operator find a ticket's timers in RQ's registries. The time comes from
the runtime's clock, not RQ's ``enqueue_in`` (which reads the wall clock), so tests
can move a FixedClock and release what is due with RQ's own registry API.
Redis being down never stops a page that is already being sent: the failure is logged,
and the database state (``Escalation``, ``Page``) still says what is owed.

Every job is retried a few times when it raises (a database locked past its timeout,
a connection lost mid-job): jobs are idempotent, so running one again is always safe,
and a page job that failed once must not leave a P1 unpaged.
"""
from __future__ import annotations

import logging
from datetime import datetime

import redis
from rq import Retry

log = logging.getLogger(__name__)

QUEUE = "urgent"
JOB_OPTIONS = {"result_ttl": 3600, "failure_ttl": 7 * 86400, "retry": Retry(max=3, interval=[5, 30, 120])}


def enqueue(runtime, queue: str, function: str, args, job_id: str) -> None:
    """Hand ``function(*args)`` to RQ in one Redis round trip (RQ's own ``enqueue`` takes two);
    raises what Redis raises."""
    with runtime.redis.pipeline() as pipe:
        runtime.queue(queue).enqueue(function, *args, job_id=job_id, description=job_id, pipeline=pipe,
                                     **JOB_OPTIONS)
        pipe.execute()


def now(runtime, function: str, *args, job_id: str) -> None:
    """Enqueue ``dispatch.jobs.<function>(*args)`` to run as soon as a worker is free."""
    try:
        enqueue(runtime, QUEUE, f"dispatch.jobs.{function}", args, job_id)
    except (redis.RedisError, OSError) as exc:
        log.error("could not enqueue %s: Redis unavailable (%s)", job_id, type(exc).__name__)


def at(runtime, when: datetime, function: str, *args, job_id: str) -> None:
    """Schedule ``dispatch.jobs.<function>(*args)`` for ``when``; the worker's RQ scheduler enqueues it."""
    try:
        runtime.queue(QUEUE).enqueue_at(when, f"dispatch.jobs.{function}", *args, job_id=job_id,
                                        description=job_id, **JOB_OPTIONS)
    except (redis.RedisError, OSError) as exc:
        log.error("could not schedule %s: Redis unavailable (%s)", job_id, type(exc).__name__)


def at_many(runtime, entries: list[tuple[datetime, str, tuple, str]]) -> None:
    """Schedule several (when, function, args, job_id) in one Redis round trip."""
    if not entries:
        return
    queue = runtime.queue(QUEUE)
    try:
        with runtime.redis.pipeline() as pipe:
            for when, function, args, job_id in entries:
                queue.enqueue_at(when, f"dispatch.jobs.{function}", *args, job_id=job_id, description=job_id,
                                 pipeline=pipe, **JOB_OPTIONS)
            pipe.execute()
    except (redis.RedisError, OSError) as exc:
        log.error("could not schedule %s: Redis unavailable (%s)", ", ".join(e[3] for e in entries),
                  type(exc).__name__)
