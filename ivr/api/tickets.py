"""``/api/tickets``: tickets as the client portal and scripts see them."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch.tickets.models import STATUSES, Ticket
from dispatch.tickets.numbers import parse_number
from ivr.api.auth import answer_database_errors, require_api_token
from ivr.context import runtime as _runtime
from ivr.views import ticket_dict

bp = Blueprint("api", __name__)
bp.before_request(require_api_token)
answer_database_errors(bp, "the ticket store")


@bp.get("/api/tickets")
def list_tickets():
    runtime = _runtime()
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        return jsonify(error=f"status must be one of {', '.join(STATUSES)}"), 400
    try:
        limit = max(1, min(500, int(request.args.get("limit", "100"))))
    except ValueError:
        return jsonify(error="limit must be a whole number"), 400
    query = select(Ticket).options(selectinload(Ticket.timeline)).order_by(Ticket.id.desc()).limit(limit)
    if status:
        query = query.where(Ticket.status == status)
    with runtime.store.reading() as session:
        found = session.scalars(query).unique().all()
        return jsonify(tickets=[ticket_dict(t, runtime.config.ticket_prefix) for t in found])


@bp.get("/api/tickets/<number>")
def show_ticket(number: str):
    runtime = _runtime()
    ticket_id = parse_number(number, runtime.config.ticket_prefix)
    if ticket_id is None:
        abort(404)
    with runtime.store.reading() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            return jsonify(error=f"no ticket {number}"), 404
        return jsonify(ticket_dict(ticket, runtime.config.ticket_prefix))
