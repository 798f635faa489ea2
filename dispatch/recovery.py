"""What a worker that died mid-job (SIGKILL, OOM, a lost host) leaves behind, picked up again.

RQ moves a dead worker's job to the failed registry only after its execution heartbeat
expires (a minute or more), and retries it only if it was enqueued with retries: a
P1's first page would wait, or be lost. Here every ``dispatch.worker`` keeps a short
liveness key in Redis from a thread of its own, and the housekeeping of every other
worker, every few seconds:

- requeues the jobs a dead worker had started (jobs are idempotent: the database
  decides what is still owed), the one process whose ``ZREM`` of the registry entry
  wins doing it, so a job is requeued once however many workers look;
- takes over pages a dead worker left ``sending``: an SMS is adopted if the carrier
  has it (the request got through before the worker died), else sent now, once; a
  voice page cannot be matched like that, so it counts as failed and the policy moves
  on (delivered at most once, never twice).

A page is only taken over once it has been ``sending`` longer than the carrier's
request timeout plus a margin, so that a live sender whose key went missing (Redis
restarted empty) has finished its own request by then.

Timers and queued jobs live only in Redis, which can lose them (a restart without
persistence, the embedded Redis's periodic snapshot). The database still says what
is owed, so the sweep re-enqueues, once they are overdue, the first page of a P1
ticket whose policy never began and the next step of every unfinished policy. A
duplicate is harmless: the jobs' compare-and-set in the database runs each step once.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import select, update

from core.models import Ticket
from core.runtime import QUEUE_NAMES
from dispatch import delivery, timers
from dispatch.paging_models import Escalation, Page
from dispatch.tickets import page_job_key
from dispatch.timeline import add_event
from dispatch.twilio_adapter import REQUEST_TIMEOUT_SECONDS

log = logging.getLogger(__name__)

BEAT_SECONDS = 1.0
ALIVE_TTL_SECONDS = 5  # a worker silent this long is dead
SENDING_GRACE = timedelta(seconds=REQUEST_TIMEOUT_SECONDS + 5)
OVERDUE = timedelta(seconds=30)  # a job or timer this late is taken as lost


ALIVE_PREFIX, ALIVE_SUFFIX = "ivr:worker:", ":alive"


def _alive_key(name: str) -> str:
    return f"{ALIVE_PREFIX}{name}{ALIVE_SUFFIX}"


def keep_alive(runtime, name: str, stop: threading.Event) -> None:
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


def is_alive(runtime, name: str | None) -> bool:
    return bool(name) and bool(runtime.redis.exists(_alive_key(name)))


def alive_workers(runtime) -> list[str]:
    """Names of the workers alive now (what ``/health`` reports)."""
    keys = (key.decode() for key in runtime.redis.scan_iter(match=_alive_key("*"), count=100))
    return sorted(key[len(ALIVE_PREFIX):-len(ALIVE_SUFFIX)] for key in keys)


def rescue_jobs(runtime) -> int:
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


def resume_pages(runtime) -> int:
    """Take over pages left ``sending`` by a worker that is no longer alive; returns how many."""
    now = runtime.now()
    with runtime.store.reading() as session:  # every 2 s in every worker: a read takes no write lock
        stale = session.scalars(select(Page).where(Page.state == "sending", Page.sending_at < now - SENDING_GRACE)
                                .order_by(Page.id)).all()
    resumed = 0
    for page in stale:
        if is_alive(runtime, page.sender):
            continue  # slow, not dead: its own request timeout will settle it
        with runtime.store.transaction() as session:
            won = session.execute(update(Page).where(
                Page.id == page.id, Page.state == "sending", Page.attempts == page.attempts).values(
                attempts=page.attempts + 1, sender=runtime.process_name, sending_at=now)).rowcount
            if won:
                add_event(session.get(Ticket, page.ticket_id), "page_resumed", now, staff=page.staff_id,
                          channel=page.channel, stopped_worker=page.sender)
        if not won:
            continue
        resumed += 1
        log.warning("page %s was being sent by worker %s, which stopped: resuming it", page.id, page.sender)
        page.attempts += 1
        delivery.resume(runtime, page)
    return resumed


def sweep_overdue(runtime) -> int:
    """Re-enqueue the page or step jobs the database says are overdue; returns how many."""
    late = runtime.now() - OVERDUE
    with runtime.store.reading() as session:
        unstarted = session.scalars(select(Ticket.id).outerjoin(Escalation, Escalation.ticket_id == Ticket.id).where(
            Ticket.paged_at < late, Ticket.status == "new", Escalation.ticket_id.is_(None))).all()
        overdue = session.execute(select(Escalation.ticket_id, Escalation.next_position).where(
            Escalation.finished_at.is_(None), Escalation.next_due_at < late)).all()
    for ticket_id in unstarted:
        log.warning("ticket %s: its page job was lost; queued again", ticket_id)
        timers.now(runtime, "page_ticket", ticket_id, job_id=page_job_key(ticket_id))
    for ticket_id, position in overdue:
        log.warning("ticket %s: escalation step %s is overdue (timer lost?); queued now", ticket_id, position)
        timers.now(runtime, "escalate", ticket_id, position, job_id=f"escalate-{ticket_id}-{position}")
    return len(unstarted) + len(overdue)
