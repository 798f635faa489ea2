"""Jobs written to the database with the change that calls for them, then handed to RQ.

``add`` runs inside the caller's transaction; ``flush`` runs after the commit (and
again from the worker every few seconds), so a job is enqueued once Redis answers
even if it was down when the ticket was stored.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

import redis
from sqlalchemy import insert, select, update

from core.db import utcnow
from core.models import OutboxJob
from dispatch import timers

log = logging.getLogger(__name__)


def add(session, function: str, args: list, *, key: str, queue: str = "default", now=None,
        claimed: bool = False, new: bool = False) -> None:
    """Record a job to run; ``key`` is unique, so asking twice for the same job is harmless.

    ``new``: the caller's own guard, in this transaction, already makes this the first
    request for ``key`` (a ticket's ``paged_at``), so the lookup is skipped.

    ``claimed``: the caller hands it to RQ itself with :func:`enqueue` right after the
    commit, one transaction less than :func:`flush` (the webhook path, where every
    transaction waits its turn at SQLite's write lock); if Redis refuses it then,
    ``enqueue`` gives it back to ``flush``.
    """
    if new or session.scalar(select(OutboxJob.id).where(OutboxJob.job_key == key)) is None:
        now = now or utcnow()
        # On the table, not the ORM class: the ORM's handling of a bulk insert takes longer than the insert.
        session.connection().execute(insert(OutboxJob.__table__).values(
            job_key=key, function=function, args=args, queue=queue, created_at=now, enqueued_at=now if claimed else None))


def add_claimed(session, function: str, args: list, *, key: str, queue: str, now, new: bool = False
                ) -> Callable[[object], bool]:
    """:func:`add` a job its caller hands to RQ itself once the transaction has committed; returns
    that hand-over, to be called with the runtime (:func:`enqueue`: never raises on Redis being down,
    which gives the job back to :func:`flush`)."""
    add(session, function, args, key=key, queue=queue, now=now, claimed=True, new=new)
    return partial(enqueue, key=key, function=function, args=args, queue=queue)


def enqueue(runtime, key: str, function: str, args: list, queue: str = "default") -> bool:
    """Hand to RQ a job added with ``claimed=True`` (after the commit). Never raises on Redis being down."""
    try:
        timers.enqueue(runtime, queue, function, args, key)
        return True
    except (redis.RedisError, OSError) as exc:
        with runtime.store.transaction() as session:
            session.execute(update(OutboxJob).where(OutboxJob.job_key == key).values(enqueued_at=None))
        log.warning("Redis unavailable, job %s kept in the outbox until it is back: %s", key, type(exc).__name__)
        return False


def flush(runtime, limit: int = 100, key: str | None = None) -> int:
    """Enqueue pending jobs (only ``key``'s when given, as a webhook does for its own job);
    returns how many were handed to RQ. Never raises on Redis being down."""
    store = runtime.store
    query = select(OutboxJob).where(OutboxJob.enqueued_at.is_(None)).order_by(OutboxJob.id).limit(limit)
    if key is not None:
        query = query.where(OutboxJob.job_key == key)
    with store.reading() as session:
        pending = session.scalars(query).all()
    sent = 0
    for job in pending:
        # Claim the row first so that two processes flushing at once enqueue it once.
        with store.transaction() as session:
            claimed = session.execute(
                update(OutboxJob).where(OutboxJob.id == job.id, OutboxJob.enqueued_at.is_(None))
                .values(enqueued_at=runtime.now())).rowcount
        if not claimed:
            continue
        try:
            timers.enqueue(runtime, job.queue, job.function, job.args, job.job_key)
            sent += 1
        except (redis.RedisError, OSError) as exc:
            with store.transaction() as session:
                session.execute(update(OutboxJob).where(OutboxJob.id == job.id).values(enqueued_at=None))
            log.warning("Redis unavailable, %d job(s) kept in the outbox until it is back: %s",
                        len(pending) - sent, type(exc).__name__)
            break
    return sent

