"""``/health``: whether Redis, the database, the workers and this host's spool are well; no token."""
from __future__ import annotations

from flask import Blueprint, jsonify

from dispatch import health as line_health
from ivr.context import runtime as _runtime

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """200 with what is up and what is not (``dispatch.health.check``)."""
    return jsonify(line_health.check(_runtime()))
