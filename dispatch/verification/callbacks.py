"""The dual callback: hang up, then call the contact back at a number already on file.

Caller ID is easily spoofed, but a call *we* place to a number on file reaches whoever
holds that line. The callback is placed by a queued job (``place_callback``, never inside
a webhook), at most ``PER_HOUR`` times per contact per hour. Its TwiML URL carries a
one-time token (only its SHA-256 is stored); once the call is placed the token is good
only for requests carrying that call's CallSid, in the expected step, within
``ANSWER_WITHIN``, so a replayed or forged webhook is refused even before the Twilio
signature check, which comes first anyway.

A callback moves ``requested → placing → placed → answered → confirmed → verified``, or
ends ``failed`` or ``unanswered``; every move is made here.

The callback verifies the person who answered it, on that call, and nobody else: not
the inbound call that asked (its caller ID proves nothing), nor a later call from the
same number. What they gain is on this same call: a waiting one-time secret, and then
the desk (in business hours) or the on-call technician (after hours), rung with a
screening prompt that says they were verified (``hand_over``). A contact with a PIN,
and every contact of a client whose contract says ``require_pin``, must key the PIN
on the callback too; so for such a client the callback alone releases nothing.

Each ``<Gather>`` that releases something (the secret again, the hand-over) carries a
one-time value (``issue_nonce``): a replayed request, validly signed though it is, finds
it spent.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from core import hours
from core.db import get_locked, locking
from dispatch import jobs, oncall
from dispatch.directory.models import Contact, ContactPhone
from dispatch.jobs.outbox import Handover
from dispatch.notification.carrier import DeliveryError
from dispatch.runtime import Runtime, current
from dispatch.tickets.models import Ticket, TimelineEvent
from dispatch.tickets.timeline import add_event
from dispatch.verification import identity, pin_lock, pins, secret_box
from dispatch.verification.models import Callback

log = logging.getLogger(__name__)

PER_HOUR = 3
ANSWER_WITHIN = timedelta(minutes=10)
PIN_TRIES = 3


class Rejected(Exception):
    """A callback webhook that must not go on: unknown token, other CallSid, replay, expired."""

    def __init__(self, reason: str, callback: Callback | None = None):
        super().__init__(reason)
        self.reason = reason
        self.callback = callback


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request(session, runtime: Runtime, ticket: Ticket, contact: Contact | None, number: str | None,
            base_url: str) -> Handover | None:
    """Queue a callback to ``number`` (a number on file of ``contact``) unless the hourly limit is
    reached; returns the job's hand-over to RQ, to call after the commit.

    Without a contact nothing is placed, but the ticket says why; the caller hears the
    same promise either way.
    """
    now = runtime.now()
    if contact is None or number is None:
        add_event(ticket, "callback_not_placed", now, reason="no matching contact")
        return None
    pin_lock.lock_row(session, contact.id)  # serialises concurrent requests for this contact
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
    add_event(ticket, "callback_requested", now, to=number)
    return jobs.enqueue_after_commit(session, place_callback, callback.id, now=now)


def place_callback(callback_id: int) -> None:
    """Job: place the callback's call. Safe to run twice: only a ``requested`` callback is placed,
    and it is marked ``placing`` before the carrier is asked."""
    runtime = current()
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
        sent = runtime.carrier.place_call(to, runtime.links.callback_answer(base, token),
                                          runtime.links.callback_status(base, token),
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


def admit(session, runtime: Runtime, token: str, call_sid: str, steps: tuple[str, ...], fresh: bool = True) -> Callback:
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


def _spend(runtime: Runtime, callback: Callback, reason: str) -> None:
    if callback.status not in ("verified", "failed"):
        callback.status = "failed"
    add_event(callback.ticket, "callback_rejected", runtime.now(), reason=reason, to=callback.to_number)


def fail(runtime: Runtime, callback: Callback, reason: str) -> None:
    callback.status = "failed"
    add_event(callback.ticket, "callback_failed", runtime.now(), reason=reason, to=callback.to_number)


def answered(runtime: Runtime, callback: Callback, answered_by: str, machine: bool) -> bool:
    """The callback was picked up; returns whether by a person (a machine ends it)."""
    if machine:
        fail(runtime, callback, f"answered by {answered_by}")
        return False
    callback.status = "answered"
    add_event(callback.ticket, "callback_answered", runtime.now(), to=callback.to_number, answered_by=answered_by)
    return True


def pin_required(contact: Contact) -> bool:
    """Whether the callback must also ask the PIN: the contact has one, or their client's contract
    says ``require_pin`` (then a contact without a PIN cannot be verified until one is set)."""
    return contact.pin_hash is not None or bool(contact.client.require_pin)


def confirmed(runtime: Runtime, callback: Callback) -> bool:
    """The person called pressed 1: they asked for this call. Returns whether a PIN is still to be
    asked; without one they are verified by :func:`verified` next."""
    if not pin_required(callback.contact):
        return False
    callback.status = "confirmed"
    add_event(callback.ticket, "callback_confirmed", runtime.now(), to=callback.to_number)
    return True


class PinOutcome:
    VERIFIED, RETRY, FAILED = "verified", "retry", "failed"


def pin_to_check(callback: Callback) -> str | None:
    """The hash a PIN keyed on the callback is checked against (None: none on file, nothing matches).
    PIN-entry locks are not applied here: they stop guessing from any phone, and this call reached
    a number on file; wrong PINs still count towards one (not during one)."""
    return callback.contact.pin_hash


def check_pin(pin_hash: str | None, pin: str, runtime: Runtime) -> tuple[bool, str | None]:
    """(whether ``pin`` is right, a peppered hash to store if the one checked predates the pepper).
    Slow: call it between transactions, never inside one."""
    pepper = secret_box.pepper(runtime.settings)
    right = pins.matches(pin_hash, pin, pepper)
    return right, (pins.hash_pin(pin, pepper) if right and not pins.is_peppered(pin_hash) else None)


def pin_keyed(session, runtime: Runtime, callback: Callback, checked_hash: str | None, pin: str, right: bool,
              upgraded: str | None) -> tuple[str, Handover | None]:
    """Record a PIN keyed on the callback and checked (``right``) against ``checked_hash``; returns
    (``PinOutcome``, the security notice's hand-over when this PIN locked the contact)."""
    contact = callback.contact
    lock = pin_lock.lock_row(session, contact.id)
    if right and contact.pin_hash == checked_hash:
        pin_lock.succeeded(lock)
        identity.learn_pin(contact, pin, upgraded)
        return PinOutcome.VERIFIED, None
    callback.pin_failures += 1
    now = runtime.now()
    reason = "wrong PIN" if contact.pin_hash is not None else "no PIN on file"
    add_event(callback.ticket, "pin_failed", now, attempt=callback.pin_failures, reason=reason, on="callback")
    pin_lock.note_failure(session, now, callback.to_number, contact.id)
    notice = pin_lock.count_failure(session, runtime, lock, contact, callback.ticket) if reason == "wrong PIN" else None
    if callback.pin_failures >= PIN_TRIES:
        fail(runtime, callback, f"{PIN_TRIES} wrong PINs")
        return PinOutcome.FAILED, notice
    return PinOutcome.RETRY, notice


def verified(session, runtime: Runtime, callback: Callback) -> None:
    """The person at the number on file proved who they are, on this call: the proof is the call's."""
    identity.verify(session, runtime, callback.ticket, callback.contact, "callback", callback.call_sid,
                    number=callback.to_number)
    callback.status, callback.verified_at = "verified", runtime.now()


def still_verified(runtime: Runtime, callback: Callback) -> bool:
    """Whether the callback's verification still lasts (what it releases, it releases only meanwhile)."""
    return (callback.status == "verified" and callback.verified_at is not None
            and runtime.now() < callback.verified_at + identity.VERIFIED_FOR)


def issue_nonce(callback: Callback) -> str:
    """A fresh one-time value for the next ``<Gather>`` action of this call (the one before is spent)."""
    nonce = secrets.token_urlsafe(16)
    callback.nonce_hash = digest(nonce)
    return nonce


def spend_nonce(runtime: Runtime, callback: Callback, nonce: str) -> bool:
    """Whether ``nonce`` is the call's current one-time value; it is spent either way."""
    expected, callback.nonce_hash = callback.nonce_hash, None
    if expected is not None and nonce and secrets.compare_digest(expected, digest(nonce)):
        return True
    add_event(callback.ticket, "callback_rejected", runtime.now(), reason="one-time value spent or wrong",
              to=callback.to_number)
    return False


@dataclass(frozen=True)
class HandOver:
    """Whom the verified person is put through to: ``desk`` (business hours) or ``oncall``."""

    to: str
    numbers: tuple[str, ...]
    staff_id: str | None = None


def hand_over_target(runtime: Runtime) -> HandOver:
    """The desk phones in business hours; after hours the primary on-call technician's mobile."""
    config = runtime.config
    if hours.is_open(config, runtime.now()):
        return HandOver("desk", config.desk_numbers)
    primary = oncall.who(runtime).primary
    return HandOver("oncall", (primary.mobile,), primary.id)


def hand_over_started(runtime: Runtime, callback: Callback, target: HandOver) -> None:
    add_event(callback.ticket, "callback_handed_over", runtime.now(), to=target.to, numbers=list(target.numbers),
              staff=target.staff_id, call_sid=callback.call_sid)


def hand_over_accepted(runtime: Runtime, callback: Callback, by_number: str | None) -> None:
    add_event(callback.ticket, "callback_hand_over_accepted", runtime.now(), by=by_number,
              call_sid=callback.call_sid)


def hand_over_ended(session, runtime: Runtime, callback: Callback, outcome: str) -> bool:
    """The hand-over's dial is over (``outcome``: ``connected``, ``no_answer``, ...); returns whether a
    person took it. A dial that connected may have been a desk phone's own voicemail, which never
    pressed 1 at the screening prompt."""
    taken = session.scalar(select(TimelineEvent.id).where(
        TimelineEvent.ticket_id == callback.ticket_id, TimelineEvent.event == "callback_hand_over_accepted",
        TimelineEvent.at >= callback.verified_at).limit(1)) is not None
    add_event(callback.ticket, "callback_hand_over_ended", runtime.now(), status=outcome, taken=taken)
    return taken


def for_screening(session, token: str, parent_call_sid: str) -> Callback | None:
    """The verified callback whose hand-over leg asks for its screening prompt: the leg's parent must be
    the callback's own call (the token alone, leaked, does not do)."""
    callback = by_token(session, token)
    if callback is None or not parent_call_sid or callback.call_sid != parent_call_sid:
        return None
    return callback if callback.status == "verified" else None


def call_ended(runtime: Runtime, callback: Callback, status: str) -> None:
    """The callback's call is over (``status``: the carrier's word for how it ended)."""
    if callback.status == "placed":
        callback.status = "unanswered"
        add_event(callback.ticket, "callback_unanswered", runtime.now(), to=callback.to_number, status=status)
    elif callback.status in ("answered", "confirmed"):
        fail(runtime, callback, "hung up before verifying")
