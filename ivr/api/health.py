"""``/health``: whether Redis, the database, the workers and this host's spool are well.

Without a token it answers only ``ok`` or ``degraded`` (a load balancer's probe needs no
more); with the bearer ``API_TOKEN`` it also says which part is down, how many workers
live and what waits in the spool, which is nobody else's business."""
from __future__ import annotations

from flask import Blueprint, jsonify

from dispatch import health as line_health
from ivr.api.auth import require_api_token
from ivr.context import runtime as _runtime

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """200 with what is up and what is not (``dispatch.health.check``); without the API token, only
    the verdict (``ok`` or ``degraded``): which part is down is for operators."""
    report = line_health.check(_runtime())
    if require_api_token() is not None:  # no token, or a wrong one: the verdict alone
        return jsonify(status=report["status"])
    return jsonify(report)
