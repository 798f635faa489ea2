"""Benchmark (not a test): time from an emergency voicemail's recording callback to the first SMS
REST request reaching the Twilio stand-in, next to the floor of an empty RQ job's enqueue-to-start.

Everything is real and on loopback: a redis-server, a SQLite file, the FakeTwilio REST
server, the app answering signed webhooks in this process, and ``python -m dispatch.worker``
as a separate process (its RQ worker listening, as in production). Voicemails are left
one at a time, each from its own caller, and each waits for its page before the next.

    .venv/bin/python bench/page_latency.py [--voicemails 200]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rq.job import Job  # noqa: E402

from bench.stats import percentile  # noqa: E402
from tests.support import RedisServer, config_with, make_stack  # noqa: E402


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the worker did not answer in time")
        time.sleep(0.0005)


def floor_sample(queue) -> float:
    """An empty job's enqueue-to-start, in seconds: the job's result is when it started."""
    started = time.time()
    job = queue.enqueue("time.time", result_ttl=60)
    wait_for(lambda: job.get_status(refresh=True) == "finished")
    return Job.fetch(job.id, connection=queue.connection).return_value() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voicemails", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="page-latency-"))
    redis_server = RedisServer(work / "redis").start()
    # Every voicemail's page on its own, not held for a burst's digest: the page path is measured.
    stack = make_stack(work, redis_server.url, public_base_url="http://localhost",
                       config=config_with(security={"page_burst_seconds": 0}),
                       at=datetime(2026, 11, 24, 3, 0, tzinfo=ZoneInfo("America/New_York")))
    settings = stack.runtime.settings
    env = {**os.environ, "IVR_CONFIG": str(settings.config_path), "REDIS_URL": redis_server.url,
           "DATABASE_URL": settings.database_url, "IVR_DATA_DIR": str(settings.data_dir),
           "TWILIO_ACCOUNT_SID": stack.fake.account_sid, "TWILIO_AUTH_TOKEN": stack.fake.auth_token,
           "TWILIO_API_BASE_URL": stack.fake.base_url, "PUBLIC_BASE_URL": "http://localhost",
           "IVR_SECRET_KEY": settings.secret_key}
    worker = subprocess.Popen([sys.executable, "-m", "dispatch.worker", "--name", "bench"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    queue = stack.runtime.queue("urgent")
    try:
        for _ in range(20):  # warm up: imports, connections, the worker's first BLPOP
            floor_sample(queue)
        pages, floors, parts = [], [], []
        for n in range(args.voicemails):
            call = stack.call(from_=f"+1270555{n % 10000:04d}")
            call.press("501")
            before = len(stack.fake.request_times)
            started = time.time()
            call.leave_message(seconds=30, transcript=None)  # the <Record> action: the ticket, the job
            wait_for(lambda: len(stack.fake.request_times) > before)
            pages.append(stack.fake.request_times[before] - started)
            page_job = Job.fetch(f"page-ticket-{n + 1}", connection=queue.connection)
            wait_for(lambda: page_job.get_status(refresh=True) == "finished")  # the worker is idle again
            page_job.refresh()  # its timestamps as the worker left them
            enqueued, begun = page_job.enqueued_at.timestamp(), page_job.started_at.timestamp()
            parts.append((enqueued - started, begun - enqueued, stack.fake.request_times[before] - begun))
            floors.append(floor_sample(queue))
            call.deliver_callbacks()
        sent = len(stack.fake.messages)
    finally:
        worker.terminate()
        worker.wait(10)
        stack.fake.stop()
        redis_server.stop()
    ms = lambda s: f"{s * 1000:7.1f} ms"  # noqa: E731
    print(f"{args.voicemails} emergency voicemails, {sent} pages sent")
    print(f"recording callback -> first SMS request: p50 {ms(percentile(pages, 50))}  p99 {ms(percentile(pages, 99))}"
          f"  max {ms(max(pages))}")
    print(f"floor, empty RQ job enqueue -> start:    p50 {ms(percentile(floors, 50))}  "
          f"p99 {ms(percentile(floors, 99))}  max {ms(max(floors))}")
    for name, p in (("medians", 50), ("p99s", 99)):
        webhook, queued, job = (percentile(list(values), p) for values in zip(*parts))
        print(f"where the page's time goes ({name}): webhook to enqueued {ms(webhook)}, enqueued to started "
              f"{ms(queued)}, job start to SMS request {ms(job)}")
    print(f"page / floor: p50 {statistics.median(pages) / statistics.median(floors):.1f}x  "
          f"p99 {percentile(pages, 99) / percentile(floors, 99):.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
