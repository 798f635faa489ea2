"""``/api/tickets/<number>/handoff``: what was handed to the MSP's tools about a ticket, and how
each delivery went, attempt by attempt."""
from __future__ import annotations

from flask import Blueprint, jsonify

from dispatch.handoff import delivery
from dispatch.tickets.models import Ticket
from dispatch.tickets.numbers import format_number, parse_number
from ivr.api.auth import answer_database_errors, require_api_token
from ivr.context import runtime as _runtime

bp = Blueprint("api_handoff", __name__)
bp.before_request(require_api_token)
answer_database_errors(bp, "the ticket store")


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def delivery_dict(record: delivery.DeliveryRecord) -> dict:
    row = record.delivery
    return {"to": row.label, "kind": row.kind, "state": row.state, "attempts": row.attempts, "via": row.via,
            "delivered_at": _iso(row.delivered_at),
            "next_attempt_at": _iso(row.next_attempt_at) if row.state == "pending" else None,
            "last_status": row.last_status, "last_error": row.last_error,
            **({"subject": row.subject, "message_id": row.message_id} if row.kind == "email" else {}),
            "attempt_log": [{"at": a.at.isoformat(), "outcome": a.outcome, "status": a.status, "error": a.error}
                            for a in record.attempts]}


@bp.get("/api/tickets/<number>/handoff")
def ticket_handoff(number: str):
    runtime = _runtime()
    ticket_id = parse_number(number, runtime.config.ticket_prefix)
    if ticket_id is not None:
        with runtime.store.reading() as session:
            if session.get(Ticket, ticket_id) is None:
                ticket_id = None
    if ticket_id is None:
        return jsonify(error=f"no ticket {number}"), 404
    found = delivery.history(runtime, ticket_id)
    events = [{"id": event.public_id, "event": event.name, "change": event.change, "at": event.at.isoformat(),
               "deliveries": [delivery_dict(record) for record in records]} for event, records in found]
    return jsonify(ticket=format_number(runtime.config.ticket_prefix, ticket_id), events=events)
