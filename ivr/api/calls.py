"""``GET /api/calls``: the call log, newest first."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from dispatch.calls import log
from ivr.api.auth import answer_database_errors, require_api_token
from ivr.api.oncall import parse_instant
from ivr.context import runtime as _runtime
from ivr.views import call_dict

bp = Blueprint("calls_api", __name__)
bp.before_request(require_api_token)
answer_database_errors(bp, "the call log")


@bp.get("/api/calls")
def list_calls():
    runtime = _runtime()
    since = None
    if request.args.get("since"):
        try:
            since = parse_instant(request.args["since"], runtime.config.timezone)
        except ValueError:
            return jsonify(error="since must be an ISO 8601 time, e.g. 2026-11-24T00:00-05:00"), 400
    try:
        limit = max(1, min(500, int(request.args.get("limit", "100"))))
    except ValueError:
        return jsonify(error="limit must be a whole number"), 400
    with runtime.store.reading() as session:
        return jsonify(calls=[call_dict(c, runtime.config.ticket_prefix) for c in log.recent(session, since, limit)])
