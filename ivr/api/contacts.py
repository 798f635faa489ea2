"""The JSON API of caller verification (bearer ``API_TOKEN``): contacts, PINs, one-time secrets.

A PIN is taken once and kept only as its argon2id hash; a secret is taken once and
kept only encrypted. Neither is ever echoed back, not even in an error message, and
neither is logged.
"""
from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request

from core import phones
from dispatch import directory
from dispatch.directory.models import Contact
from dispatch.tickets.models import Ticket
from dispatch.tickets.numbers import parse_number
from dispatch.verification import identity, one_time_secrets, pin_lock, secret_box
from dispatch.verification.models import OneTimeSecret, PinLock
from ivr.api.auth import answer_database_errors, require_api_token
from ivr.context import runtime as _runtime
from ivr.views import contact_dict, secret_dict

log = logging.getLogger(__name__)

bp = Blueprint("contacts_api", __name__)
bp.before_request(require_api_token)
answer_database_errors(bp, "the directory")
# A malformed IVR_SECRET_KEY stops the app at start-up, not at the first secret.
bp.record_once(lambda state: secret_box.box_for(state.app.extensions["runtime"].settings))


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@bp.get("/api/contacts")
def find_contacts():
    runtime = _runtime()
    raw = request.args.get("phone", "")
    number = phones.normalise(raw, runtime.config.region)
    if number is None:
        return jsonify(error="phone must be a valid phone number, such as +12705550150"), 400
    with runtime.store.reading() as session:
        found = directory.contacts_with_phone(session, number)
        return jsonify(contacts=[contact_dict(c, session.get(PinLock, c.id), runtime.now()) for c in found])


@bp.put("/api/contacts/<int:contact_id>/pin")
def set_pin(contact_id: int):
    runtime = _runtime()
    try:
        reason = identity.set_pin(runtime, contact_id, _body().get("pin"))  # a new PIN ends any lock
    except identity.NoSuchContact:
        return jsonify(error=f"no contact {contact_id}"), 404
    if reason is not None:
        return jsonify(error=reason), 400
    log.info("portal PIN set for contact %s", contact_id)
    return "", 204


@bp.post("/api/contacts/<int:contact_id>/pin-lock/reset")
def reset_pin_lock(contact_id: int):
    """A manager lifts the contact's PIN lock (the third lock ends only this way); body ``{"manager": id}``."""
    runtime = _runtime()
    manager = _body().get("manager")
    if not pin_lock.may_reset(runtime.config, manager):
        return jsonify(error="manager must be the staff id of a manager"), 400
    done = pin_lock.reset(runtime, contact_id, manager)
    if done is None:
        return jsonify(error=f"no contact {contact_id}"), 404
    return jsonify(contact_id=contact_id, was_locked=done[1], reset_by=manager)


@bp.post("/api/disclosures")
def create_disclosure():
    runtime = _runtime()
    body = _body()
    contact_id, secret = body.get("contact_id"), body.get("secret")
    requested_by = body.get("requested_by", "API client")
    if not isinstance(contact_id, int) or isinstance(contact_id, bool):
        return jsonify(error="contact_id must be a contact's id (a whole number)"), 400
    if (reason := one_time_secrets.refusal(secret)) is not None:
        return jsonify(error=reason), 400
    if not isinstance(requested_by, str) or not requested_by.strip() or len(requested_by) > 80:
        return jsonify(error="requested_by must be a name of at most 80 characters"), 400
    number = body.get("ticket")
    ticket_id = parse_number(number, runtime.config.ticket_prefix) if number is not None else None
    if number is not None and ticket_id is None:
        return jsonify(error="ticket must be a ticket number such as CS-000123"), 400
    with runtime.store.transaction() as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            return jsonify(error=f"no contact {contact_id}"), 404
        ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
        if ticket_id is not None and ticket is None:
            return jsonify(error=f"no ticket {number}"), 404
        stored = one_time_secrets.create(session, runtime, contact, secret, ticket, requested_by.strip())
    one_time_secrets.schedule_expiry(runtime, stored.id)
    log.info("one-time secret %s stored for contact %s, asked by %s", stored.id, contact_id, requested_by)
    return jsonify(id=stored.id), 201


@bp.get("/api/disclosures/<int:disclosure_id>")
def show_disclosure(disclosure_id: int):
    """Whether a secret is pending, being delivered, delivered or expired; never the secret."""
    runtime = _runtime()
    with runtime.store.transaction() as session:
        stored = session.get(OneTimeSecret, disclosure_id)
        if stored is None:
            return jsonify(error=f"no disclosure {disclosure_id}"), 404
        one_time_secrets.expire_stale(session, runtime, stored.contact_id)
        return jsonify(secret_dict(stored))
