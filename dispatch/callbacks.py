"""The dual callback: hang up, then call the contact back at a number already on file.

Caller ID is easily spoofed, but a call *we* place to a number on file reaches whoever
holds that line. The callback is placed by a queued job (never inside a webhook),
at most ``PER_HOUR`` times per contact per hour. Its TwiML URL carries a one-time
token (only its SHA-256 is stored); once the call is placed the token is good only
for requests carrying that call's CallSid, in the expected step, within
``ANSWER_WITHIN`` — so a replayed or forged webhook is refused even before the
Twilio signature check, which comes first anyway.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from sqlalchemy import func, select

from core.db import get_locked, locking
from core.models import ContactPhone
from dispatch import outbox
from dispatch.carrier import DeliveryError
from dispatch.timeline import add_event
from dispatch.verification import guard_for
from dispatch.verification_models import Callback

log = logging.getLogger(__name__)

PER_HOUR = 3
ANSWER_WITHIN = timedelta(minutes=10)
PIN_TRIES = 3
ANSWER_PATH = "/verification/callback"
STATUS_PATH = "/verification/callback/status"


class Rejected(Exception):
    """A callback webhook that must not go on: unknown token, other CallSid, replay, expired."""

    def __init__(self, reason: str, callback: Callback | None = None):
        super().__init__(reason)
        self.reason = reason
        self.callback = callback


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def job_key(callback_id: int) -> str:
    """The outbox (and RQ) key of the job that places callback ``callback_id``."""
    return f"callback-{callback_id}"


def request(session, runtime, ticket, contact, number: str | None, base_url: str) -> Callback | None:
    """Queue a callback to ``number`` (a number on file of ``contact``) unless the hourly limit is reached.

    Without a contact nothing is placed, but the ticket says why; the caller hears the
    same promise either way.
    """
    now = runtime.now()
    if contact is None or number is None:
        add_event(ticket, "callback_not_placed", now, reason="no matching contact")
        return None
    guard_for(session, contact.id)  # serialises concurrent requests for this contact
    recent = session.scalar(select(func.count(Callback.id)).where(
        Callback.contact_id == contact.id, Callback.requested_at > now - timedelta(hours=1)))
    if recent >= PER_HOUR:
        add_event(ticket, "callback_refused", now, reason=f"{PER_HOUR} callbacks to this contact in the last hour",
                  to=number)
        return None
    callback = Callback(contact_id=contact.id, ticket_id=ticket.id, to_number=number, base_url=base_url,
                        status="requested", requested_at=now)
    session.add(callback)
    session.flush()
    outbox.add(session, "dispatch.verification_jobs.place_callback", [callback.id], key=job_key(callback.id),
               queue="urgent", now=now)
    add_event(ticket, "callback_requested", now, to=number)
    return callback


def place(runtime, callback_id: int) -> None:
    """Place the callback's call (the job's body). Safe to run twice: only a ``requested``
    callback is placed, and it is marked ``placing`` before the carrier is asked."""
    store = runtime.store
    with store.transaction() as session:
        callback = get_locked(session, Callback, callback_id)  # a duplicate job waits, then finds it placing
        if callback is None or callback.status != "requested":
            return
        now = runtime.now()
        on_file = session.scalar(select(ContactPhone.id).where(ContactPhone.contact_id == callback.contact_id,
                                                               ContactPhone.e164 == callback.to_number))
        if on_file is None:  # the directory changed since the request
            callback.status = "failed"
            add_event(callback.ticket, "callback_failed", now, reason="number no longer on file",
                      to=callback.to_number)
            return
        token = secrets.token_urlsafe(32)
        callback.token_hash = digest(token)
        callback.status = "placing"
        to, base = callback.to_number, callback.base_url
    try:
        sent = runtime.carrier.place_call(to, f"{base}{ANSWER_PATH}?t={token}", f"{base}{STATUS_PATH}?t={token}",
                                          machine_detection=True, timeout=30)
    except DeliveryError as exc:
        with store.transaction() as session:
            callback = session.get(Callback, callback_id)
            callback.status = "failed"
            add_event(callback.ticket, "callback_failed", runtime.now(), reason=exc.detail, to=to)
        log.warning("callback %s could not be placed: %s", callback_id, exc.detail)
        return
    with store.transaction() as session:
        callback = session.get(Callback, callback_id)
        callback.call_sid, callback.status, callback.placed_at = sent.sid, "placed", runtime.now()
        add_event(callback.ticket, "callback_placed", callback.placed_at, to=to, call_sid=sent.sid)


def by_token(session, token: str) -> Callback | None:
    """The callback of ``token``, locked: its webhooks move it step by step, one at a time."""
    if not token:
        return None
    return session.scalar(select(Callback).where(Callback.token_hash == digest(token))
                          .with_for_update(**locking(Callback)))


def admit(session, runtime, token: str, call_sid: str, steps: tuple[str, ...], fresh: bool = True) -> Callback:
    """The callback this webhook belongs to, if it may go on from one of ``steps``; else Rejected.

    ``fresh`` steps must come within ``ANSWER_WITHIN`` of placing the call. A token shown
    with another CallSid has leaked: the callback is spent so that it cannot be used.
    """
    callback = by_token(session, token)
    if callback is None:
        raise Rejected("unknown callback token")
    if callback.status == "placing":
        raise Rejected("placing", callback)  # Twilio answered before the job recorded the CallSid
    if callback.call_sid != call_sid:
        _spend(runtime, callback, "token used with another CallSid")
        raise Rejected("token used with another CallSid", callback)
    if callback.status not in steps:
        raise Rejected(f"callback already {callback.status}", callback)
    if fresh and runtime.now() > callback.placed_at + ANSWER_WITHIN:
        _spend(runtime, callback, "expired")
        raise Rejected("expired", callback)
    return callback


def _spend(runtime, callback: Callback, reason: str) -> None:
    if callback.status not in ("verified", "failed"):
        callback.status = "failed"
    add_event(callback.ticket, "callback_rejected", runtime.now(), reason=reason, to=callback.to_number)


def fail(runtime, callback: Callback, reason: str) -> None:
    callback.status = "failed"
    add_event(callback.ticket, "callback_failed", runtime.now(), reason=reason, to=callback.to_number)
