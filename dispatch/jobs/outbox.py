"""Jobs written to the database with the change that calls for them, then handed to RQ.

``enqueue_after_commit`` runs inside the caller's transaction and returns the hand-over
to call once it has committed; ``flush`` (the worker, every few seconds) enqueues
whatever a hand-over could not, so a job reaches RQ once Redis answers even if it was
down when the change was stored.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from sqlalchemy import insert, select, update

from core.db import utcnow
from dispatch.jobs import schedule
from dispatch.jobs.models import OutboxJob
from dispatch.runtime import Runtime

log = logging.getLogger(__name__)

Handover = Callable[[Runtime], bool]


def enqueue_after_commit(session, function: Callable, *args, key: object = None, queue: str = schedule.URGENT,
                         now=None, new: bool = False, claim: bool = False) -> Handover:
    """Record ``function(*args)`` in the outbox, in the caller's transaction, and return the hand-over
    to RQ to call with the runtime once it has committed (it never raises on Redis being down, which
    leaves the job to :func:`flush`). Asking twice for the same job (same id) records it once.

    ``new``: the caller's own guard, in this transaction, already makes this the first request
    for the job (a ticket's ``paged_at``), so the lookup is skipped.

    ``claim``: the row is marked handed over in this transaction, which spares the hand-over a
    transaction of its own (on a webhook's path every transaction waits its turn at SQLite's
    write lock). A process killed between the commit and the hand-over then leaves the job
    marked sent: only for jobs whose loss something else notices (a P1's page and its steps
    are swept by ``dispatch.jobs.recovery``).
    """
    ident = schedule.job_id(function, *args, key=key)
    name = schedule.function_name(function)
    if new or session.scalar(select(OutboxJob.id).where(OutboxJob.job_key == ident)) is None:
        now = now or utcnow()
        # On the table, not the ORM class: the ORM's handling of a bulk insert takes longer than the insert.
        session.connection().execute(insert(OutboxJob.__table__).values(
            job_key=ident, function=name, args=list(args), queue=queue, created_at=now,
            enqueued_at=now if claim else None))

    def hand_over(runtime: Runtime) -> bool:
        if claim:
            return _push_claimed(runtime, ident, name, list(args), queue)
        return flush(runtime, key=ident) > 0

    return hand_over


def _push_claimed(runtime: Runtime, key: str, name: str, args: list, queue: str) -> bool:
    try:
        schedule.push(runtime, queue, name, args, key)
        return True
    except (redis.RedisError, OSError) as exc:
        with runtime.store.transaction() as session:
            session.execute(update(OutboxJob).where(OutboxJob.job_key == key).values(enqueued_at=None))
        log.warning("Redis unavailable, job %s kept in the outbox until it is back: %s", key, type(exc).__name__)
        return False


def flush(runtime: Runtime, limit: int = 100, key: str | None = None) -> int:
    """Enqueue pending jobs (only ``key``'s when given: a hand-over); returns how many were handed to
    RQ. Never raises on Redis being down."""
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
            schedule.push(runtime, job.queue, job.function, job.args, job.job_key)
            sent += 1
        except (redis.RedisError, OSError) as exc:
            with store.transaction() as session:
                session.execute(update(OutboxJob).where(OutboxJob.id == job.id).values(enqueued_at=None))
            log.warning("Redis unavailable, %d job(s) kept in the outbox until it is back: %s",
                        len(pending) - sent, type(exc).__name__)
            break
    return sent
