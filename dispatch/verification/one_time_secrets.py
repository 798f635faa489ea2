"""One-time secrets (a temporary password) for a contact, spoken once on a verified callback.

A technician posts the secret; it is stored only as AES-GCM ciphertext and never
returned. It is read only on a dual callback to the contact's number on file once
the person there has confirmed (and given their PIN, if they have one). It may be
repeated on that same call while the callback's verification lasts, at most
``MAX_REPEATS`` times; the ciphertext is erased when the person says they have it,
at the last repeat, when that call ends, or ``LIFETIME`` after it was posted if it
was never delivered. The timeline records who asked, when and to which number it
was delivered, and when it was destroyed — never the secret.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, or_, select

from core.db import get_locked, locking
from dispatch import jobs
from dispatch.directory.models import Contact
from dispatch.runtime import Runtime, current
from dispatch.tickets.models import Ticket
from dispatch.tickets.timeline import add_event
from dispatch.verification import secret_box
from dispatch.verification.identity import VERIFIED_FOR
from dispatch.verification.models import Callback, OneTimeSecret
from voice_prompts.verification import SPEAKABLE

LIFETIME = timedelta(hours=24)
MAX_REPEATS = 2
MAX_LENGTH = 64


def refusal(secret) -> str | None:
    """Why ``secret`` cannot be delivered by voice, or None. Never quotes the secret back."""
    if not isinstance(secret, str) or not secret:
        return "secret must be a non-empty string"
    if len(secret) > MAX_LENGTH:
        return f"secret must be at most {MAX_LENGTH} characters, to be read out over the phone"
    if any(ch not in SPEAKABLE for ch in secret):
        return "secret may contain only English letters, digits, spaces and the symbols on a US keyboard"
    return None


def _context(stored: OneTimeSecret) -> str:
    """The associated data that binds a ciphertext to its row (the API calls these disclosures)."""
    return f"disclosure:{stored.id}:contact:{stored.contact_id}"


def create(session, runtime: Runtime, contact: Contact, secret: str, ticket: Ticket | None,
           requested_by: str) -> OneTimeSecret:
    now = runtime.now()
    stored = OneTimeSecret(contact_id=contact.id, ticket=ticket, requested_by=requested_by, created_at=now,
                            expires_at=now + LIFETIME)
    session.add(stored)
    session.flush()
    stored.ciphertext = secret_box.box_for(runtime.settings).seal(secret, _context(stored))
    if ticket is not None:
        add_event(ticket, "disclosure_requested", now, disclosure=stored.id, requested_by=requested_by,
                  contact=contact.name)
    return stored


def status(stored: OneTimeSecret) -> str:
    if stored.ciphertext is not None:
        return "delivering" if stored.delivered_at else "pending"
    return "delivered" if stored.delivered_at else "expired"


def destroy(runtime: Runtime, stored: OneTimeSecret, reason: str, *also_on) -> None:
    """Erase the ciphertext for good and say so on the timelines involved."""
    if stored.ciphertext is None:
        return
    now = runtime.now()
    stored.ciphertext, stored.destroyed_at, stored.destroyed_reason = None, now, reason
    for ticket in {t.id: t for t in (stored.ticket, *also_on) if t is not None}.values():
        add_event(ticket, "secret_destroyed", now, disclosure=stored.id, reason=reason)


def _stale(now):
    """Secrets whose time is up: undelivered past their 24 hours, delivered ones whose call's
    verification is over."""
    return and_(OneTimeSecret.ciphertext.is_not(None), or_(
        and_(OneTimeSecret.delivered_at.is_(None), OneTimeSecret.expires_at <= now),
        OneTimeSecret.delivered_at <= now - VERIFIED_FOR))


def expire_stale(session, runtime: Runtime, contact_id: int | None = None) -> int:
    """Destroy secrets past their 24 hours, and delivered ones whose call is long over."""
    query = select(OneTimeSecret).where(_stale(runtime.now())).with_for_update(**locking(OneTimeSecret))
    if contact_id is not None:
        query = query.where(OneTimeSecret.contact_id == contact_id)
    stale = session.scalars(query).all()
    for stored in stale:
        destroy(runtime, stored, "delivered" if stored.delivered_at else "not delivered within 24 hours")
    return len(stale)


def expire_due(runtime: Runtime) -> int:
    """The worker's housekeeping: destroy what ``expire_stale`` would, without waiting for the
    contact's next callback or the 24-hour job. A delivered secret is erased when its call ends,
    but that news can be lost (the status callback answered 503 while the database was away,
    and Twilio's retries spent); then it goes once its verification is over. A read first, so
    that the rounds with nothing to do take no write lock."""
    with runtime.store.reading() as session:
        due = session.scalar(select(OneTimeSecret.id).where(_stale(runtime.now())).limit(1))
    if due is None:
        return 0
    with runtime.store.transaction() as session:
        return expire_stale(session, runtime)


def pending_for(session, runtime: Runtime, contact_id: int) -> OneTimeSecret | None:
    """The contact's oldest undelivered secret that is still in date (stale ones are destroyed here)."""
    expire_stale(session, runtime, contact_id)
    # Locked: two callbacks answered at once must not both be read the one secret.
    return session.scalar(select(OneTimeSecret).where(
        OneTimeSecret.contact_id == contact_id, OneTimeSecret.ciphertext.is_not(None),
        OneTimeSecret.delivered_at.is_(None))
        .order_by(OneTimeSecret.id).limit(1).with_for_update(**locking(OneTimeSecret)))


def deliver(session, runtime: Runtime, callback: Callback) -> tuple[OneTimeSecret, str] | None:
    """The next secret for the callback's verified contact, marked delivered to the callback's number."""
    stored = pending_for(session, runtime, callback.contact_id)
    if stored is None:
        return None
    secret = secret_box.box_for(runtime.settings).open(stored.ciphertext, _context(stored))
    if secret is None:  # altered, or sealed under another key: useless, so gone
        destroy(runtime, stored, "could not be decrypted", callback.ticket)
        return None
    now = runtime.now()
    stored.delivered_at, stored.delivered_to = now, callback.to_number
    stored.delivered_call_sid = callback.call_sid
    for ticket in {t.id: t for t in (stored.ticket, callback.ticket) if t is not None}.values():
        add_event(ticket, "secret_delivered", now, disclosure=stored.id, requested_by=stored.requested_by,
                  to=callback.to_number, call_sid=callback.call_sid)
    return stored, secret


def deliver_now(session, runtime: Runtime, callback: Callback) -> tuple[OneTimeSecret, str] | None:
    """``deliver``, when the person on the verified callback says they are ready to write it down;
    None once the callback's verification is over."""
    if callback.verified_at is None or runtime.now() >= callback.verified_at + VERIFIED_FOR:
        return None
    return deliver(session, runtime, callback)


def repeat(session, runtime: Runtime, callback: Callback, secret_id: int) -> tuple[str, bool] | None:
    """The secret once more on the call it was delivered on; returns (secret, was it the last time)."""
    stored = get_locked(session, OneTimeSecret, secret_id)
    now = runtime.now()
    if (stored is None or stored.ciphertext is None or stored.delivered_call_sid != callback.call_sid
            or callback.verified_at is None or now >= callback.verified_at + VERIFIED_FOR):
        if stored is not None:
            destroy(runtime, stored, "verification expired", callback.ticket)
        return None
    secret = secret_box.box_for(runtime.settings).open(stored.ciphertext, _context(stored))
    stored.repeats += 1
    add_event(callback.ticket, "secret_repeated", now, disclosure=stored.id, to=callback.to_number)
    last = stored.repeats >= MAX_REPEATS
    if last or secret is None:
        destroy(runtime, stored, "read for the last time", callback.ticket)
    return (secret, last) if secret is not None else None


def finish_call(session, runtime: Runtime, callback: Callback, reason: str) -> None:
    """Destroy whatever was delivered on the callback's call: the person has it, or hung up."""
    for stored in session.scalars(select(OneTimeSecret).where(OneTimeSecret.delivered_call_sid == callback.call_sid,
                                                               OneTimeSecret.ciphertext.is_not(None))
                                      .with_for_update(**locking(OneTimeSecret))):
        destroy(runtime, stored, reason, callback.ticket)


def schedule_expiry(runtime: Runtime, secret_id: int) -> None:
    """Best effort: with Redis down the 24-hour limit is still enforced whenever the secret is read,
    and by the workers' housekeeping (``expire_due``)."""
    jobs.enqueue(runtime, expire_secret, secret_id, at=runtime.now() + LIFETIME + timedelta(minutes=1),
                 queue=jobs.DEFAULT)


def expire_secret(secret_id: int) -> None:
    """Job: 24 hours after a secret was posted, destroy it if it is still there (and any other stale one)."""
    runtime = current()
    with runtime.store.transaction() as session:
        if session.get(OneTimeSecret, secret_id) is not None:
            expire_stale(session, runtime)
