"""``/health``: whether Redis, the database, the workers and this host's spool are well.

Without a token it answers only ``ok`` or ``degraded`` (a load balancer's probe needs no
more); with the bearer ``API_TOKEN`` it also says which part is down, how many workers
live and what waits in the spool, which is nobody else's business."""
from __future__ import annotations

import redis
from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from dispatch.calls import spool
from dispatch.jobs import recovery
from ivr.api.auth import require_api_token
from ivr.context import runtime as _runtime

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """Liveness of Redis, the database and the workers, and this host's spool; 200 with what is
    up and what is not.

    A worker counts while its liveness key (refreshed every second, busy or idle) lives. The
    spool is per host: a voicemail kept there is a ticket only once a worker of this host
    replays it, so a file waiting longer than ``spool.STALE_SECONDS`` or set aside as
    unrecordable makes the line ``degraded`` even with every service up."""
    runtime = _runtime()
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
    if require_api_token() is not None:  # no token, or a wrong one: the verdict alone
        return jsonify(status=report["status"])
    return jsonify(report)

