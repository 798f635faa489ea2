"""``python -m dispatch.worker``: the RQ worker, with its scheduler, on the project's queues.

Besides running jobs it keeps two promises of the web app: jobs written to the outbox
while Redis was down are enqueued once it is back, and voicemails spooled to disk
while the database was down become tickets once it is back.
"""
from __future__ import annotations

import argparse
import logging
import sys
import threading

from rq import SimpleWorker

from core import runtime as runtime_module
from core.config import ConfigError
from core.runtime import QUEUE_NAMES
from dispatch import outbox, spool

log = logging.getLogger("dispatch.worker")
HOUSEKEEPING_SECONDS = 2.0


def housekeeping(runtime, stop: threading.Event, interval: float = HOUSEKEEPING_SECONDS) -> None:
    """Flush the outbox and replay the spool until ``stop`` is set; survives Redis or database outages."""
    while not stop.is_set():
        for task in (outbox.flush, spool.replay):
            try:
                task(runtime)
            except Exception:  # an outage: try again next round, never die
                log.warning("housekeeping: %s failed; retrying in %.0fs", task.__module__, interval, exc_info=True)
        stop.wait(interval)


def make_worker(runtime, name: str | None = None) -> SimpleWorker:
    """A worker that runs jobs in its own process (no fork), so jobs share the runtime's pools."""
    return SimpleWorker([runtime.queue(q) for q in QUEUE_NAMES], connection=runtime.redis, name=name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dispatch.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="run the jobs waiting now, then exit")
    parser.add_argument("--name", help="worker name shown in RQ and /health")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        runtime = runtime_module.install(runtime_module.build())
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    stop = threading.Event()
    threading.Thread(target=housekeeping, args=(runtime, stop), daemon=True, name="housekeeping").start()
    try:
        make_worker(runtime, args.name).work(burst=args.burst, with_scheduler=True)
    finally:
        stop.set()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
