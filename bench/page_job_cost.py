"""Benchmark (not a test): what one page job costs the worker, and how much of it is RQ's.

Emergency voicemails are left (``tests.dispatch_support.emergency_voicemail``: signed
webhooks into the app, in this process, every callback delivered) while no worker runs,
so their page jobs wait in Redis; then RQ's worker (``dispatch.worker``'s,
``SimpleWorker``) runs them all in burst mode in this thread, twice: once plain, for the
CPU per job, and once under cProfile, for the share spent inside the job function
(``rq.job.Job.perform``: our code, its SQL and its REST request to the Twilio stand-in)
against RQ's own work around it (dequeueing, heartbeats, job state and registries).
Redis's own counters give the commands per job. Everything is real and on loopback: a
redis-server, a SQLite file, the FakeTwilio REST server (in a thread, its CPU not counted).
The machine's speed varies by spells, and CPU time with it: the speed probe
(``bench/speed_probe.py``) runs through the plain run, which prints the share of it the
machine spent in slow spells.

    .venv/bin/python bench/page_job_cost.py [--jobs 200]
"""
from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.speed_probe import SpeedProbe  # noqa: E402
from tests.dispatch_support import emergency_voicemail, paging_stack  # noqa: E402
from tests.support import RedisServer, config_with  # noqa: E402


def leave_voicemails(stack, count: int, first: int) -> None:
    for n in range(first, first + count):
        emergency_voicemail(stack, from_=f"+1270555{n:04d}")


def commands_processed(stack) -> int:
    return stack.runtime.redis.info("stats")["total_commands_processed"]


def run_jobs(stack, profile: cProfile.Profile | None = None) -> tuple[float, int]:
    """Run every queued job; returns (CPU seconds of this thread, Redis commands processed)."""
    commands, cpu = commands_processed(stack), time.thread_time()
    if profile:
        profile.enable()
    stack.run_worker()
    if profile:
        profile.disable()
    return time.thread_time() - cpu, commands_processed(stack) - commands


def cumulative(stats: pstats.Stats, module_end: str, function: str) -> float:
    return sum(row[3] for (path, _line, name), row in stats.stats.items()
               if path.endswith(module_end) and name == function)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # RQ logs three lines a job
    work = Path(tempfile.mkdtemp(prefix="page-job-cost-"))
    redis_server = RedisServer(work / "redis").start()
    # Every voicemail's page on its own, not held for a burst's digest: the page job is measured.
    stack = paging_stack(work, redis_server.url, None, config=config_with(security={"page_burst_seconds": 0}))
    stack.at(2026, 11, 24, 3, 0)  # a Tuesday at 3 AM: extension 501 goes straight to the voicemail
    try:
        leave_voicemails(stack, 20, 1000)  # warm-up: imports, connections, statements
        run_jobs(stack)
        leave_voicemails(stack, args.jobs, 2000)
        with SpeedProbe(work / "speed.txt") as probe:
            time.sleep(2)  # its first samples, before the jobs
            began = time.perf_counter()
            cpu, commands = run_jobs(stack)
            machine = probe.report(began, time.perf_counter(), [])
        leave_voicemails(stack, args.jobs, 5000)
        profile = cProfile.Profile()
        run_jobs(stack, profile)
        stats = pstats.Stats(profile)
        whole = cumulative(stats, "rq/worker/base.py", "work")
        inside = cumulative(stats, "rq/job.py", "perform")
        sent = len(stack.fake.messages)
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()
        redis_server.stop()
    print(f"page jobs: {args.jobs} plain, then {args.jobs} under cProfile; {sent} SMS requests in all")
    slow = machine.get("slow_share")
    print(f"  CPU per job (the worker's thread): {cpu / args.jobs * 1000:.1f} ms (target at most 3 ms); the machine "
          + (f"in slow spells {slow:.0%} of the run" if slow is not None else "'s speed unknown (no probe samples)"))
    print(f"  Redis commands per job: {commands / args.jobs:.1f} (target at most 20)")
    print(f"  under cProfile: inside the job function {inside / whole:.0%}, "
          f"RQ's own work around it {1 - inside / whole:.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
