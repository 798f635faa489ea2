"""Jobs written to the database with the change that calls for them, then handed to RQ.

``add`` runs inside the caller's transaction; ``flush`` runs after the commit (and
again from the worker every few seconds), so a job is enqueued once Redis answers
even if it was down when the ticket was stored.
"""
from __future__ import annotations

import logging

import redis
from sqlalchemy import select, update

from core.models import OutboxJob
from dispatch import timers

log = logging.getLogger(__name__)


def add(session, function: str, args: list, *, key: str, queue: str = "default", now=None) -> None:
    """Record a job to run; ``key`` is unique, so asking twice for the same job is harmless."""
    exists = session.scalar(select(OutboxJob.id).where(OutboxJob.job_key == key))
    if exists is None:
        session.add(OutboxJob(job_key=key, function=function, args=args, queue=queue,
                              **({"created_at": now} if now else {})))


def flush(runtime, limit: int = 100, key: str | None = None) -> int:
    """Enqueue pending jobs (only ``key``'s when given, as a webhook does for its own job);
    returns how many were handed to RQ. Never raises on Redis being down."""
    store = runtime.store
    query = select(OutboxJob).where(OutboxJob.enqueued_at.is_(None)).order_by(OutboxJob.id).limit(limit)
    if key is not None:
        query = query.where(OutboxJob.job_key == key)
    with store.transaction() as session:
        pending = session.scalars(query).all()
        # A webhook flushing its own job claims it in this same transaction: one write lock, not two.
        claimed_here = {job.id for job in pending if key is not None and _claim(session, job.id, runtime.now())}
    sent = 0
    for job in pending:
        # Claim the row first so that two processes flushing at once enqueue it once.
        if job.id not in claimed_here:
            with store.transaction() as session:
                if not _claim(session, job.id, runtime.now()):
                    continue
        try:
            runtime.queue(job.queue).enqueue(job.function, *job.args, job_id=job.job_key,
                                             description=job.job_key, **timers.JOB_OPTIONS)
            sent += 1
        except (redis.RedisError, OSError) as exc:
            with store.transaction() as session:
                session.execute(update(OutboxJob).where(OutboxJob.id == job.id).values(enqueued_at=None))
            log.warning("Redis unavailable, %d job(s) kept in the outbox until it is back: %s",
                        len(pending) - sent, type(exc).__name__)
            break
    return sent


def _claim(session, job_id: int, now) -> bool:
    return bool(session.execute(update(OutboxJob).where(OutboxJob.id == job_id, OutboxJob.enqueued_at.is_(None))
                                .values(enqueued_at=now)).rowcount)
