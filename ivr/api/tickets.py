"""``/api/tickets`` and ``/api/callbacks``: tickets as the client portal and scripts see them and
change them."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch.followup import actions, callbacks
from dispatch.tickets import notes
from dispatch.tickets.models import PRIORITIES, STATUSES, Ticket
from dispatch.tickets.numbers import parse_number
from ivr.api.auth import answer_database_errors, require_api_token
from ivr.context import runtime as _runtime
from ivr.views import callback_dict, ticket_dict

PATCH_FIELDS = ("priority", "status", "owner", "note")
PATCH_STATUSES = ("acknowledged", "waiting", "resolved")

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
        return jsonify(tickets=[ticket_dict(t, runtime) for t in found])


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
        return jsonify(ticket_dict(ticket, runtime))


@bp.patch("/api/tickets/<number>")
def change_ticket(number: str):
    """Any of ``priority``, ``status``, ``owner`` (a staff id, or null), ``note``: 200 the ticket; 400
    naming a bad field; 409 for a change the ticket's state does not allow."""
    runtime = _runtime()
    config = runtime.config
    ticket_id = parse_number(number, config.ticket_prefix)
    if ticket_id is None:
        return jsonify(error=f"no ticket {number}"), 404
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body:
        return jsonify(error=f"the body must be a JSON object with any of {', '.join(PATCH_FIELDS)}"), 400
    unknown = sorted(set(body) - set(PATCH_FIELDS))
    if unknown:
        return jsonify(error=f"{unknown[0]}: not a field that can be changed ({', '.join(PATCH_FIELDS)})"), 400
    priority, status, owner, note = (body.get(name) for name in PATCH_FIELDS)
    if "priority" in body and priority not in PRIORITIES:
        return jsonify(error=f"priority: must be one of {', '.join(PRIORITIES)}"), 400
    if "status" in body and status not in PATCH_STATUSES:
        return jsonify(error=f"status: must be one of {', '.join(PATCH_STATUSES)}"), 400
    if "owner" in body and owner is not None and owner not in config.staff:
        return jsonify(error="owner: must be a staff id, or null"), 400
    if "note" in body and notes.refusal(note):
        return jsonify(error=f"note: {notes.refusal(note)}"), 400
    change = actions.Change(priority=priority, status=status, note=note.strip() if note else None,
                            owner=("" if owner is None else owner) if "owner" in body else None)
    try:
        actions.apply(runtime, ticket_id, change, "api", "api")
    except actions.Missing:
        return jsonify(error=f"no ticket {number}"), 404
    except actions.Refused as exc:
        return jsonify(error=str(exc)), 409
    with runtime.store.reading() as session:
        return jsonify(ticket_dict(session.get(Ticket, ticket_id), runtime))


@bp.get("/api/callbacks")
def list_callbacks():
    """Open tickets whose caller awaits a call back, soonest due first, with the seconds left."""
    runtime = _runtime()
    now = runtime.now()
    with runtime.store.reading() as session:
        found = callbacks.waiting(session, timeline=True)
        return jsonify(callbacks=[callback_dict(t, runtime, now) for t in found])
