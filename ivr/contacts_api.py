"""The JSON API of caller verification (bearer ``API_TOKEN``): contacts, PINs, one-time secrets.

A PIN is taken once and kept only as its argon2id hash; a secret is taken once and
kept only encrypted. Neither is ever echoed back, not even in an error message, and
neither is logged.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import redis
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from core import phones
from core.models import Contact, Ticket
from dispatch import directory, disclosures, pins, secrets_box, ticket_numbers, verification
from dispatch.verification_models import Disclosure
from ivr.api import require_api_token

log = logging.getLogger(__name__)

bp = Blueprint("contacts_api", __name__)
bp.before_request(require_api_token)
# A malformed IVR_SECRET_KEY stops the app at start-up, not at the first secret.
bp.record_once(lambda state: secrets_box.box_for(state.app.extensions["runtime"].settings))


def _runtime():
    return current_app.extensions["runtime"]


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@bp.errorhandler(SQLAlchemyError)
def database_unavailable(exc):
    log.error("database error on %s: %s", request.path, type(exc).__name__)
    return jsonify(error="the directory is unavailable; try again shortly"), 503


def contact_dict(session, contact: Contact, now) -> dict:
    proof = verification.current_verification(session, contact.id, now)
    return {**contact.as_dict(), "verified": (
        {"method": proof.method, "at": proof.at.isoformat(), "until": proof.expires_at.isoformat()}
        if proof else None)}


@bp.get("/api/contacts")
def find_contacts():
    runtime = _runtime()
    raw = request.args.get("phone", "")
    number = phones.normalise(raw, runtime.config.region)
    if number is None:
        return jsonify(error="phone must be a valid phone number, such as +12705550150"), 400
    with runtime.store.transaction() as session:
        found = directory.contacts_with_phone(session, number)
        return jsonify(contacts=[contact_dict(session, c, runtime.now()) for c in found])


@bp.put("/api/contacts/<int:contact_id>/pin")
def set_pin(contact_id: int):
    runtime = _runtime()
    pin = _body().get("pin")
    with runtime.store.transaction() as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            return jsonify(error=f"no contact {contact_id}"), 404
        reason = pins.refusal(pin, [p.e164 for p in contact.phones])
        if reason is not None:
            return jsonify(error=reason), 400
        contact.pin_hash = pins.hash_pin(pin)
        guard = verification.guard_for(session, contact.id)
        guard.consecutive_failures, guard.locked_until = 0, None  # a new PIN ends any lock on the old one
    log.info("portal PIN set for contact %s", contact_id)
    return "", 204


@bp.post("/api/disclosures")
def create_disclosure():
    runtime = _runtime()
    body = _body()
    contact_id, secret = body.get("contact_id"), body.get("secret")
    requested_by = body.get("requested_by", "API client")
    if not isinstance(contact_id, int) or isinstance(contact_id, bool):
        return jsonify(error="contact_id must be a contact's id (a whole number)"), 400
    if (reason := disclosures.refusal(secret)) is not None:
        return jsonify(error=reason), 400
    if not isinstance(requested_by, str) or not requested_by.strip() or len(requested_by) > 80:
        return jsonify(error="requested_by must be a name of at most 80 characters"), 400
    number = body.get("ticket")
    ticket_id = ticket_numbers.parse_number(number, runtime.config.ticket_prefix) if number is not None else None
    if number is not None and ticket_id is None:
        return jsonify(error="ticket must be a ticket number such as CS-000123"), 400
    with runtime.store.transaction() as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            return jsonify(error=f"no contact {contact_id}"), 404
        ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
        if ticket_id is not None and ticket is None:
            return jsonify(error=f"no ticket {number}"), 404
        disclosure = disclosures.create(session, runtime, contact, secret, ticket, requested_by.strip())
    _schedule_expiry(runtime, disclosure.id)
    log.info("one-time secret %s stored for contact %s, asked by %s", disclosure.id, contact_id, requested_by)
    return jsonify(id=disclosure.id), 201


def _schedule_expiry(runtime, disclosure_id: int) -> None:
    """Best effort: with Redis down the 24-hour limit is still enforced whenever the secret is read.
    On the runtime's clock, as the secret's ``expires_at`` and every other timer (``dispatch.timers``)."""
    try:
        runtime.queue("default").enqueue_at(runtime.now() + disclosures.LIFETIME + timedelta(minutes=1),
                                            "dispatch.verification_jobs.expire_disclosure", disclosure_id,
                                            job_id=f"expire-disclosure-{disclosure_id}")
    except (redis.RedisError, OSError):
        log.warning("Redis unavailable: secret %s will expire when next read instead", disclosure_id)


@bp.get("/api/disclosures/<int:disclosure_id>")
def show_disclosure(disclosure_id: int):
    """Whether a secret is pending, being delivered, delivered or expired; never the secret."""
    runtime = _runtime()
    with runtime.store.transaction() as session:
        disclosure = session.get(Disclosure, disclosure_id)
        if disclosure is None:
            return jsonify(error=f"no disclosure {disclosure_id}"), 404
        disclosures.expire_stale(session, runtime, disclosure.contact_id)
        return jsonify(disclosures.as_dict(disclosure))
