"""The JSON API for the client portal and scripts (bearer ``API_TOKEN``), and ``/health``."""
from __future__ import annotations

import hmac
import logging

import redis
from flask import Blueprint, abort, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from core.models import Ticket
from dispatch import recovery, spool, ticket_numbers, tickets

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__)


def _runtime():
    return current_app.extensions["runtime"]


def require_api_token():
    """``before_request`` of every ``/api/*`` blueprint: 401 without the bearer ``API_TOKEN``."""
    if not request.path.startswith("/api/"):
        return None
    expected = _runtime().settings.api_token
    given = request.headers.get("Authorization", "")
    if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        return jsonify(error="a valid bearer token is required"), 401, {"WWW-Authenticate": "Bearer"}
    return None


bp.before_request(require_api_token)


@bp.errorhandler(SQLAlchemyError)
def database_unavailable(exc):
    log.error("database error on %s: %s", request.path, type(exc).__name__)
    return jsonify(error="the ticket store is unavailable; try again shortly"), 503


@bp.get("/api/tickets")
def list_tickets():
    runtime = _runtime()
    status = request.args.get("status")
    if status is not None and status not in tickets.STATUSES:
        return jsonify(error=f"status must be one of {', '.join(tickets.STATUSES)}"), 400
    try:
        limit = max(1, min(500, int(request.args.get("limit", "100"))))
    except ValueError:
        return jsonify(error="limit must be a whole number"), 400
    query = select(Ticket).options(selectinload(Ticket.timeline)).order_by(Ticket.id.desc()).limit(limit)
    if status:
        query = query.where(Ticket.status == status)
    with runtime.store.reading() as session:
        found = session.scalars(query).unique().all()
        return jsonify(tickets=[tickets.as_dict(t, runtime.config.ticket_prefix) for t in found])


@bp.get("/api/tickets/<number>")
def show_ticket(number: str):
    runtime = _runtime()
    ticket_id = ticket_numbers.parse_number(number, runtime.config.ticket_prefix)
    if ticket_id is None:
        abort(404)
    with runtime.store.reading() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            return jsonify(error=f"no ticket {number}"), 404
        return jsonify(tickets.as_dict(ticket, runtime.config.ticket_prefix))


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
    return jsonify(report)

