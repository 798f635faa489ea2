"""Helpers of the dispatcher tests: an emergency voicemail, and time moved on with RQ's own registries."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from rq import Worker
from rq.job import Job
from sqlalchemy import text

from core.settings import PROJECT_ROOT
from dispatch.jobs import recovery
from dispatch.jobs.schedule import QUEUE_NAMES
from tests.support import CLIENT_PHONE, NY, config_with, make_stack

ALICE, BOB, CAROL, DAVE = "+12705550111", "+12705550112", "+12705550113", "+12705550114"


# For processes on the real clock: closed all week (501 goes straight to the voicemail) and one person
# in the rotation, so that who is paged does not depend on when the test runs (the weekly handoff).
REAL_CLOCK_CONFIG = config_with(hours={"holidays": []}, replace=True)
REAL_CLOCK_CONFIG["oncall"]["rotation"] = ["alice"]
# Every page on its own: a burst's digest would wait a minute of the real clock.
REAL_CLOCK_CONFIG["security"] = {"page_burst_seconds": 0}


def paging_stack(tmp_path, redis_url, database_url, **kwargs):
    """A stack whose callbacks have a public base URL (so pages carry status callbacks and calls TwiML)."""
    return make_stack(tmp_path, redis_url, database_url, public_base_url="http://localhost", **kwargs)


ERIN = {"id": "erin", "name": "Erin Eng", "mobile": "+12705550115", "role": "manager"}


def two_managers_stack(tmp_path, redis_url, database_url, channel: str):
    """A paging stack, on a Tuesday at 3 AM, whose policy pages Dave and Erin (the managers) first,
    by ``channel``, then the primary by SMS at minute 10: a step of several people."""
    steps = [{"notify": "managers", "channel": channel, "after_minutes": 0},
             {"notify": "primary", "channel": "sms", "after_minutes": 10}]
    config = config_with(oncall={"managers": ["dave", "erin"], "escalation": steps, "repeat": 0})
    config["staff"].append(ERIN)
    stack = paging_stack(tmp_path, redis_url, database_url, config=config)
    stack.at(2026, 11, 24, 3, 0)
    return stack


def real_time_stack(tmp_path, redis_url, database_url):
    """A paging stack for tests with worker processes, which run on the real clock: the app's clock starts
    at the real now, nothing is in business hours (extension 501 goes straight to the voicemail), and
    one person is on call (a test running across the weekly handoff pages the same person)."""
    return paging_stack(tmp_path, redis_url, database_url, config=REAL_CLOCK_CONFIG, at=datetime.now(NY))


def emergency_voicemail(stack, from_=CLIENT_PHONE, transcript="My server is down, please call me.", seconds=42):
    """A caller at night dials 501 and leaves a message; every Twilio callback arrives. Returns the call."""
    call = stack.call(from_=from_)
    call.press("501")
    call.leave_message(seconds=seconds, transcript=transcript)
    call.deliver_callbacks()
    return call


def release_due_jobs(stack) -> int:
    """What the worker's RQ scheduler does once the clock reaches a job's time: move it to its queue.

    Uses RQ's ScheduledJobRegistry with the test's clock instead of the wall clock.
    """
    moved = 0
    timestamp = int(stack.clock.now().timestamp())
    for name in QUEUE_NAMES:
        queue = stack.runtime.queue(name)
        registry = queue.scheduled_job_registry
        for job_id in registry.get_jobs_to_schedule(timestamp):
            job = Job.fetch(job_id, connection=stack.runtime.redis)
            registry.remove(job)
            queue.enqueue_job(job)
            moved += 1
    return moved


def advance(stack, **delta) -> None:
    """Move the clock on, release what is due, and let a burst worker run it (repeating until quiet).

    A burst worker takes about a second to stop (RQ joins its pub/sub thread), so it
    runs only when there is something to run.
    """
    stack.clock.advance(**delta)
    settle(stack)


def settle(stack) -> None:
    """Run burst workers until no job is waiting or due."""
    while True:
        release_due_jobs(stack)
        if not any(stack.runtime.queue(name).count for name in QUEUE_NAMES):
            return
        stack.run_worker()


def scheduled(stack) -> dict[str, int]:
    """Job id -> scheduled UNIX time, of everything waiting in the urgent queue's scheduled registry."""
    registry = stack.runtime.queue("urgent").scheduled_job_registry
    return {job_id: int(registry.get_scheduled_time(job_id).timestamp()) for job_id in registry.get_job_ids()}


def on_call(stack) -> dict:
    """{"primary": mobile, "secondary": mobile, "manager": mobile} now, as the API tells it."""
    who = stack.api("/api/oncall").get_json()
    return {"primary": who["primary"]["mobile"], "secondary": who["secondary"]["mobile"],
            "manager": who["managers"][0]["mobile"]}


def deliver_all(stack, status="delivered") -> None:
    """The carrier reports every SMS sent so far as ``status`` (once each)."""
    for message in list(stack.fake.messages):
        if message["status"] == "queued":
            stack.fake.deliver_sms_status(message["sid"], status)


def events(ticket: dict, name: str) -> list[dict]:
    return [e for e in ticket["timeline"] if e["event"] == name]


def start_worker(stack, name: str, burst: bool = False, data_dir: Path | None = None,
                 env: dict | None = None) -> subprocess.Popen:
    """``python -m dispatch.worker`` as production runs it, on the stack's Redis, database and Twilio stand-in
    (and data folder, unless ``data_dir`` puts it on another host's; ``env`` overrides the rest).

    It runs on the real clock, not the stack's: compare with ``primary_now``."""
    settings = stack.runtime.settings
    env = {**os.environ, "IVR_CONFIG": str(settings.config_path), "REDIS_URL": settings.redis_url,
           "DATABASE_URL": settings.database_url, "IVR_DATA_DIR": str(data_dir or settings.data_dir),
           "TWILIO_ACCOUNT_SID": stack.fake.account_sid, "TWILIO_AUTH_TOKEN": stack.fake.auth_token,
           "TWILIO_API_BASE_URL": stack.fake.base_url, "PUBLIC_BASE_URL": settings.public_base_url or "",
           "IVR_SECRET_KEY": settings.secret_key or "", **(env or {})}
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / f"worker-{name}.log", "ab") as log:  # the child keeps its own copy
        return subprocess.Popen([sys.executable, "-m", "dispatch.worker", "--name", name,
                                 *(["--burst"] if burst else [])],
                                cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its group: RQ's scheduler child goes with it (stop_workers)


def worker_logs(stack, lines: int = 25) -> str:
    """The last lines of every worker the stack started: what a timed-out wait shows."""
    tails = []
    for path in sorted(stack.runtime.settings.data_dir.glob("worker-*.log")):
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        tails.append(f"--- {path.name}\n" + "\n".join(tail))
    return "\n".join(tails)


def stop_workers(*workers: subprocess.Popen) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    for worker in workers:
        # A worker killed with SIGKILL leaves RQ's forked scheduler running, on the real clock, on the
        # session's Redis: it would release later tests' FixedClock timers (all in the real past) early.
        try:
            os.killpg(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_until(predicate, timeout: float = 30, what: str = "the condition", explain=None) -> None:
    """Poll ``predicate`` until true; on time-out fail, with what ``explain()`` tells (a worker's log)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            detail = f"\n{explain()}" if explain else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(0.05)


def wait_alive(stack, name: str) -> None:
    """Wait until worker ``name`` is up: its liveness key is in Redis, and RQ's start-up (registering,
    starting the scheduler, first maintenance) is over, so that a fault a test brings next finds the
    worker at work, as in production, not half started."""

    def at_work() -> bool:
        worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + name, connection=stack.runtime.redis)
        return worker is not None and worker.get_state() in ("idle", "busy")

    wait_until(lambda: recovery.is_alive(stack.runtime, name) and at_work(), 60, f"worker {name} to start",
               lambda: worker_logs(stack))


def primary_now(stack) -> str:
    """The on-call primary's mobile at this real instant (what a worker process pages)."""
    who = stack.api("/api/oncall", query_string={"at": datetime.now(timezone.utc).isoformat()}).get_json()
    return who["primary"]["mobile"]


@contextmanager
def database_held(store):
    """Hold the store's write lock (SQLite) or lock the tickets and escalations tables (PostgreSQL)
    until the block ends, as a long migration or a stuck process would."""
    with store.transaction() as session:
        if store.is_sqlite:
            session.execute(text("SELECT 1"))  # the transaction began with BEGIN IMMEDIATE: the write lock
        else:
            session.execute(text("LOCK TABLE tickets, escalations IN ACCESS EXCLUSIVE MODE"))
        yield
