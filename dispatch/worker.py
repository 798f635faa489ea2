"""``python -m dispatch.worker``: the RQ worker, with its scheduler, on the project's queues.

Besides running jobs it keeps two promises of the web app: jobs written to the outbox
while Redis was down are enqueued once it is back, and voicemails spooled to disk
while the database was down become tickets once it is back. And it picks up what
another worker left when it died mid-job (``dispatch.jobs.recovery`` and each domain's
``recovery``).
"""
from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import sys
import threading
import time
import uuid

import redis
from rq import SimpleWorker
from rq.job import JobStatus
from rq.timeouts import JobTimeoutException
from rq.utils import now, utcformat

import wiring
from core import logs, migrations
from core.config import ConfigError
from core.heap import freeze_startup_objects
from dispatch import jobs
from dispatch import runtime as runtime_module
from dispatch.calls import spool
from dispatch.escalation import recovery as escalation_recovery
from dispatch.followup import actions as followup
from dispatch.followup import callbacks
from dispatch.handoff import delivery as handoff
from dispatch.jobs import recovery
from dispatch.jobs.schedule import QUEUE_NAMES
from dispatch.notification import recovery as notification_recovery
from dispatch.runtime import Runtime
from dispatch.sla import alerts as sla_alerts
from dispatch.verification import one_time_secrets

log = logging.getLogger("dispatch.worker")
HOUSEKEEPING_SECONDS = 2.0
# At most, per spool file: a page job runs for about 10 ms; a longer job mostly waits on the
# network and needs no giving way, and a round of replays must not stall behind it.
GIVE_WAY_SECONDS = 0.02


def _ensure_schema(runtime: Runtime) -> None:
    migrations.ensure(runtime.store)


def _checkpoint(runtime: Runtime) -> None:
    runtime.store.checkpoint()


def housekeeping(runtime: Runtime, stop: threading.Event, idle: threading.Event | None = None,
                 interval: float = HOUSEKEEPING_SECONDS) -> None:
    """Flush the outbox, replay the spool, recover dead workers' jobs and pages, destroy one-time
    secrets whose time is up, pick up hand-offs that lost their job, send the service-level notices,
    follow-ups and morning digest that have fallen due, and checkpoint SQLite's log until ``stop`` is
    set; survives Redis or database outages.

    The spool's replay, the long task (a recording status callback that beats its action,
    and every voicemail taken while the database was away, passes through it), gives way
    between files while the worker runs a job (``idle`` clear): the two threads share one
    interpreter, and a page waited out a whole round of replays (page p99 13 -> 21 ms, max
    100 ms, in bench/page_latency.py).
    """
    def give_way() -> None:
        if idle is not None:
            idle.wait(GIVE_WAY_SECONDS)

    def replay(runtime: Runtime) -> None:
        spool.replay(runtime, give_way)

    while not stop.is_set():
        for task in (_ensure_schema, jobs.flush, replay, recovery.rescue_jobs, notification_recovery.resume_pages,
                     escalation_recovery.sweep_overdue, one_time_secrets.expire_due, handoff.sweep_now_and_then,
                     sla_alerts.sweep, followup.sweep, callbacks.send_digest, _checkpoint):
            try:
                task(runtime)
            except Exception:  # an outage: try again next round, never die
                log.warning("housekeeping: %s.%s failed; retrying in %.0fs", task.__module__, task.__name__, interval,
                            exc_info=True)
        stop.wait(interval)


class PagingWorker(SimpleWorker):
    """RQ's worker running jobs in its own process (no fork), so jobs share the runtime's pools,
    made to ride out Redis outages, and lean on the way a job runs.

    After an outage RQ's worker waits longer and longer between reconnection tries (up
    to a minute); a page waiting in the outbox must not wait for that, so it tries every
    2 s at most. And RQ retries a lost Redis while it waits for jobs, but quits on any
    error in the maintenance it runs before that (cleaning registries, at start and every
    few minutes): Redis going away just as a worker started ended the worker.
    Maintenance is now put off, and tried again each round until Redis answers.

    A job that succeeds, nearly all of them, costs two Redis round trips of RQ's own (see
    ``execute_job``) instead of about fifty commands; one that raises is handed to RQ's own
    failure handling (its retries, the failed registry). The worker's heartbeat and state,
    which RQ writes several times a job, are written when they change or every
    ``HEARTBEAT_EVERY`` seconds (and ``rq suspend`` is looked for as often): the liveness that
    recovery relies on is the key
    ``dispatch.jobs.recovery`` keeps, every second, from a thread of its own.
    """

    max_connection_wait_time = 2.0
    log_result_lifespan = False
    HEARTBEAT_EVERY = 30.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.idle = threading.Event()  # clear while a job runs (see housekeeping)
        self.idle.set()
        self._heartbeat_at = self._suspension_checked_at = 0.0

    def heartbeat(self, timeout=None, pipeline=None):
        if timeout is None and time.monotonic() - self._heartbeat_at < self.HEARTBEAT_EVERY:
            return
        self._heartbeat_at = time.monotonic()
        super().heartbeat(timeout, pipeline)

    def check_for_suspension(self, burst):
        """``rq suspend`` is looked for every ``HEARTBEAT_EVERY`` seconds, not before every job."""
        if time.monotonic() - self._suspension_checked_at >= self.HEARTBEAT_EVERY:
            self._suspension_checked_at = time.monotonic()
            super().check_for_suspension(burst)

    def set_state(self, state, pipeline=None):
        if state != self._state or pipeline is not None:
            super().set_state(state, pipeline)

    def execute_job(self, job, queue):
        self.idle.clear()
        try:
            self._run(job, queue)
        finally:
            self.idle.set()

    def _run(self, job, queue) -> None:
        """Run ``job``: marked started (in the started registry, with this worker's name, which is
        what ``dispatch.jobs.recovery`` requeues a dead worker's jobs by), performed, then marked
        finished and kept for its result TTL, as RQ would."""
        registry = queue.started_job_registry
        member = f"{job.id}:{uuid.uuid4().hex}"
        job.started_at = now()
        timeout = job.timeout or self.queue_class.DEFAULT_TIMEOUT
        with self.connection.pipeline(transaction=False) as pipe:
            pipe.zadd(registry.key, {member: time.time() + timeout + 60})
            pipe.hset(job.key, mapping={"status": JobStatus.STARTED.value, "worker_name": self.name,
                                        "started_at": utcformat(job.started_at)})
            pipe.execute()
        try:
            with self.death_penalty_class(timeout, JobTimeoutException, job_id=job.id):
                job.perform()
        except BaseException:
            exc_info = sys.exc_info()
            self.connection.zrem(registry.key, member)
            self._finalize_failure(job, queue, self.prepare_execution(job), exc_info)
            return
        job.ended_at = now()
        with self.connection.pipeline(transaction=False) as pipe:
            pipe.zrem(registry.key, member)
            pipe.hset(job.key, mapping={"status": JobStatus.FINISHED.value, "ended_at": utcformat(job.ended_at)})
            pipe.expire(job.key, job.get_result_ttl(self.default_result_ttl))
            pipe.execute()
        self.log.info("Worker %s: %s: job OK (%s)", self.name, queue.name, job.id)

    def run_maintenance_tasks(self):
        try:
            super().run_maintenance_tasks()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self.log.warning("Worker %s: maintenance put off, Redis unavailable: %s", self.name, exc)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def scheduler_dies_with_worker() -> None:
    """Make RQ's scheduler, which the worker forks, stop when the worker dies.

    A worker killed by SIGKILL or the OOM killer otherwise leaves its scheduler running on its
    own, holding the scheduler's lock, outside whatever restarts the worker. The child asks
    Linux for SIGTERM when its parent dies (RQ's scheduler stops on SIGTERM and lets go of its
    lock); elsewhere nothing changes.
    """
    worker_pid = os.getpid()

    def in_child() -> None:
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):  # not Linux
            return
        if os.getppid() != worker_pid:  # the worker died before the request was made
            os.kill(os.getpid(), signal.SIGTERM)

    os.register_at_fork(after_in_child=in_child)


def make_worker(runtime: Runtime, name: str | None = None) -> PagingWorker:
    return PagingWorker([runtime.queue(q) for q in QUEUE_NAMES], connection=runtime.redis, name=name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dispatch.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="run the jobs waiting now, then exit")
    parser.add_argument("--name", help="worker name shown in RQ and /health")
    parser.add_argument("--rq-log-level", default="WARNING", type=str.upper,
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="level of RQ's own log lines (each job started and done is INFO); default WARNING")
    args = parser.parse_args(argv)
    logs.configure()
    logging.getLogger("rq").setLevel(args.rq_log_level)
    try:
        runtime = runtime_module.install(wiring.build())
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    worker = make_worker(runtime, args.name)
    runtime.process_name = worker.name
    scheduler_dies_with_worker()
    freeze_startup_objects()
    stop = threading.Event()
    alive = threading.Thread(target=recovery.keep_alive, args=(runtime, worker.name, stop), daemon=True,
                             name="keep-alive")
    alive.start()
    threading.Thread(target=housekeeping, args=(runtime, stop, worker.idle), daemon=True, name="housekeeping").start()
    try:
        worker.work(burst=args.burst, with_scheduler=True, logging_level=args.rq_log_level)
    finally:
        stop.set()
        alive.join(5)  # it removes the liveness key, so /health stops counting this worker at once
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
