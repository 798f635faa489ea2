"""How the line is: Redis, the database, the workers and this host's spool, as ``/health`` and
the console's Now page show it."""
from __future__ import annotations

import redis
from sqlalchemy.exc import SQLAlchemyError

from dispatch.calls import spool
from dispatch.jobs import recovery
from dispatch.runtime import Runtime


def check(runtime: Runtime) -> dict:
    """Liveness of Redis, the database and the workers, and this host's spool, with ``status``
    ``ok`` or ``degraded``.

    A worker counts while its liveness key (refreshed every second, busy or idle) lives. The
    spool is per host: a voicemail kept there is a ticket only once a worker of this host
    replays it, so a file waiting longer than ``spool.STALE_SECONDS`` or set aside as
    unrecordable makes the line ``degraded`` even with every service up."""
    report = {"redis": "ok", "database": "ok", "workers": 0}
    try:
        runtime.store.ping()
    except SQLAlchemyError:
        report["database"] = "down"
    try:
        runtime.redis.ping()
        report["workers"] = len(recovery.alive_workers(runtime))
    except (redis.RedisError, OSError):
        report["redis"] = "down"
    try:
        report["spool"] = spool.backlog(runtime.settings.data_dir)
        spool_ok = not spool.needs_attention(report["spool"])
    except OSError as exc:
        report["spool"], spool_ok = {"error": type(exc).__name__}, False
    services_ok = report["redis"] == report["database"] == "ok" and report["workers"]
    report["status"] = "ok" if services_ok and spool_ok else "degraded"
    return report
