"""Handing jobs to RQ: now, or at a time of the runtime's clock, under ids made here and only here.

A job is a plain function taking ids (``dispatch.<domain>.jobs``), given as the function
object. Its id names the function and its arguments (``page-ticket-12``), so asking
twice for the same job is harmless (RQ keeps one entry per id) and an operator finds a
ticket's timers in RQ's registries by name. The time comes from the runtime's clock,
not RQ's ``enqueue_in`` (which reads the wall clock), so tests can move a FixedClock and
release what is due with RQ's own registry API.

Every job is retried a few times when it raises (a database locked past its timeout,
a connection lost mid-job): jobs are idempotent, so running one again is always safe,
and a page job that failed once must not leave a P1 unpaged.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

import redis
from rq import Retry

from dispatch.runtime import Runtime

log = logging.getLogger(__name__)

URGENT, DEFAULT = "urgent", "default"
QUEUE_NAMES = (URGENT, DEFAULT)  # the worker takes them in this order
JOB_OPTIONS = {"result_ttl": 3600, "failure_ttl": 7 * 86400, "retry": Retry(max=3, interval=[5, 30, 120])}


def function_name(function: Callable) -> str:
    """The import path RQ runs ``function`` by (and the outbox stores)."""
    return f"{function.__module__}.{function.__qualname__}"


def job_id(function: Callable, *args, key: object = None) -> str:
    """The id of ``function(*args)``: its name and arguments (``page-ticket-12``), or its name and
    ``key`` when the arguments are not what tells two jobs apart (a reason in words, an attempt)."""
    parts = [function.__name__.replace("_", "-"), *map(str, args if key is None else [key])]
    return "-".join(parts)


def push(runtime: Runtime, queue: str, name: str, args: Sequence, job_id: str, at: datetime | None = None) -> None:
    """Hand job ``name(*args)`` to RQ in one Redis round trip (RQ's own ``enqueue`` takes two), at
    once or at ``at``; raises what Redis raises."""
    with runtime.redis.pipeline() as pipe:
        target = runtime.queue(queue)
        if at is None:
            target.enqueue(name, *args, job_id=job_id, description=job_id, pipeline=pipe, **JOB_OPTIONS)
        else:
            target.enqueue_at(at, name, *args, job_id=job_id, description=job_id, pipeline=pipe, **JOB_OPTIONS)
        pipe.execute()


def enqueue(runtime: Runtime, function: Callable, *args, key: object = None, at: datetime | None = None,
            queue: str = URGENT) -> str:
    """Run ``function(*args)`` on a worker now, or at ``at`` on the runtime's clock; returns its id.

    Redis being down is logged, not raised: whoever calls this has a database row saying
    what is owed, and the workers' sweep (``dispatch.jobs.recovery``) re-enqueues what is overdue.
    """
    ident = job_id(function, *args, key=key)
    try:
        push(runtime, queue, function_name(function), args, ident, at)
    except (redis.RedisError, OSError) as exc:
        log.error("could not %s %s: Redis unavailable (%s)", "schedule" if at else "enqueue", ident,
                  type(exc).__name__)
    return ident


def enqueue_many(runtime: Runtime, jobs: list[tuple[datetime, Callable, tuple]], queue: str = URGENT) -> None:
    """Schedule several ``(at, function, args)`` in one Redis round trip."""
    if not jobs:
        return
    target = runtime.queue(queue)
    idents = [job_id(function, *args) for _at, function, args in jobs]
    try:
        with runtime.redis.pipeline() as pipe:
            for (at, function, args), ident in zip(jobs, idents):
                target.enqueue_at(at, function_name(function), *args, job_id=ident, description=ident,
                                  pipeline=pipe, **JOB_OPTIONS)
            pipe.execute()
    except (redis.RedisError, OSError) as exc:
        log.error("could not schedule %s: Redis unavailable (%s)", ", ".join(idents), type(exc).__name__)
