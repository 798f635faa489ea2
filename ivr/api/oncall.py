"""``GET /api/oncall``: who is primary, secondary and manager now, or at ``?at=``, and until when."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, jsonify, request

from dispatch import oncall
from ivr.api.auth import require_api_token
from ivr.context import runtime as _runtime
from ivr.views import oncall_dict

bp = Blueprint("oncall_api", __name__)
bp.before_request(require_api_token)


def parse_instant(text: str, zone) -> datetime:
    """ISO 8601; without an offset it is read as company time. Raises ValueError."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


@bp.get("/api/oncall")
def who_is_on_call():
    runtime = _runtime()
    at = runtime.now()
    if request.args.get("at"):
        try:
            at = parse_instant(request.args["at"], runtime.config.timezone)
        except ValueError:
            return jsonify(error="at must be an ISO 8601 time, e.g. 2026-11-24T03:00-05:00"), 400
    return jsonify(oncall_dict(oncall.who(runtime, at)))
