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
from dispatch import secrets_box
from dispatch.timeline import add_event
from dispatch.verification import VERIFIED_FOR
from dispatch.verification_models import Callback, Disclosure
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


def _context(disclosure: Disclosure) -> str:
    return f"disclosure:{disclosure.id}:contact:{disclosure.contact_id}"


def create(session, runtime, contact, secret: str, ticket, requested_by: str) -> Disclosure:
    now = runtime.now()
    disclosure = Disclosure(contact_id=contact.id, ticket=ticket, requested_by=requested_by, created_at=now,
                            expires_at=now + LIFETIME)
    session.add(disclosure)
    session.flush()
    disclosure.ciphertext = secrets_box.box_for(runtime.settings).seal(secret, _context(disclosure))
    if ticket is not None:
        add_event(ticket, "disclosure_requested", now, disclosure=disclosure.id, requested_by=requested_by,
                  contact=contact.name)
    return disclosure


def status(disclosure: Disclosure) -> str:
    if disclosure.ciphertext is not None:
        return "delivering" if disclosure.delivered_at else "pending"
    return "delivered" if disclosure.delivered_at else "expired"


def as_dict(disclosure: Disclosure) -> dict:
    """What the API may say about a disclosure: never the secret."""
    return {"id": disclosure.id, "contact_id": disclosure.contact_id, "status": status(disclosure),
            "requested_by": disclosure.requested_by, "created_at": disclosure.created_at.isoformat(),
            "expires_at": disclosure.expires_at.isoformat(),
            "delivered_at": disclosure.delivered_at.isoformat() if disclosure.delivered_at else None,
            "delivered_to": disclosure.delivered_to,
            "destroyed_at": disclosure.destroyed_at.isoformat() if disclosure.destroyed_at else None}


def destroy(runtime, disclosure: Disclosure, reason: str, *also_on) -> None:
    """Erase the ciphertext for good and say so on the timelines involved."""
    if disclosure.ciphertext is None:
        return
    now = runtime.now()
    disclosure.ciphertext, disclosure.destroyed_at, disclosure.destroyed_reason = None, now, reason
    for ticket in {t.id: t for t in (disclosure.ticket, *also_on) if t is not None}.values():
        add_event(ticket, "secret_destroyed", now, disclosure=disclosure.id, reason=reason)


def _stale(now):
    """Secrets whose time is up: undelivered past their 24 hours, delivered ones whose call's
    verification is over."""
    return and_(Disclosure.ciphertext.is_not(None), or_(
        and_(Disclosure.delivered_at.is_(None), Disclosure.expires_at <= now),
        Disclosure.delivered_at <= now - VERIFIED_FOR))


def expire_stale(session, runtime, contact_id: int | None = None) -> int:
    """Destroy secrets past their 24 hours, and delivered ones whose call is long over."""
    query = select(Disclosure).where(_stale(runtime.now())).with_for_update(**locking(Disclosure))
    if contact_id is not None:
        query = query.where(Disclosure.contact_id == contact_id)
    stale = session.scalars(query).all()
    for disclosure in stale:
        destroy(runtime, disclosure, "delivered" if disclosure.delivered_at else "not delivered within 24 hours")
    return len(stale)


def expire_due(runtime) -> int:
    """The worker's housekeeping: destroy what ``expire_stale`` would, without waiting for the
    contact's next callback or the 24-hour job. A delivered secret is erased when its call ends,
    but that news can be lost (the status callback answered 503 while the database was away,
    and Twilio's retries spent); then it goes once its verification is over. A read first, so
    that the rounds with nothing to do take no write lock."""
    with runtime.store.reading() as session:
        due = session.scalar(select(Disclosure.id).where(_stale(runtime.now())).limit(1))
    if due is None:
        return 0
    with runtime.store.transaction() as session:
        return expire_stale(session, runtime)


def pending_for(session, runtime, contact_id: int) -> Disclosure | None:
    """The contact's oldest undelivered secret that is still in date (stale ones are destroyed here)."""
    expire_stale(session, runtime, contact_id)
    # Locked: two callbacks answered at once must not both be read the one secret.
    return session.scalar(select(Disclosure).where(
        Disclosure.contact_id == contact_id, Disclosure.ciphertext.is_not(None), Disclosure.delivered_at.is_(None))
        .order_by(Disclosure.id).limit(1).with_for_update(**locking(Disclosure)))


def deliver(session, runtime, callback: Callback) -> tuple[Disclosure, str] | None:
    """The next secret for the callback's verified contact, marked delivered to the callback's number."""
    disclosure = pending_for(session, runtime, callback.contact_id)
    if disclosure is None:
        return None
    secret = secrets_box.box_for(runtime.settings).open(disclosure.ciphertext, _context(disclosure))
    if secret is None:  # altered, or sealed under another key: useless, so gone
        destroy(runtime, disclosure, "could not be decrypted", callback.ticket)
        return None
    now = runtime.now()
    disclosure.delivered_at, disclosure.delivered_to = now, callback.to_number
    disclosure.delivered_call_sid = callback.call_sid
    for ticket in {t.id: t for t in (disclosure.ticket, callback.ticket) if t is not None}.values():
        add_event(ticket, "secret_delivered", now, disclosure=disclosure.id, requested_by=disclosure.requested_by,
                  to=callback.to_number, call_sid=callback.call_sid)
    return disclosure, secret


def repeat(session, runtime, callback: Callback, disclosure_id: int) -> tuple[str, bool] | None:
    """The secret once more on the call it was delivered on; returns (secret, was it the last time)."""
    disclosure = get_locked(session, Disclosure, disclosure_id)
    now = runtime.now()
    if (disclosure is None or disclosure.ciphertext is None or disclosure.delivered_call_sid != callback.call_sid
            or callback.verified_at is None or now >= callback.verified_at + VERIFIED_FOR):
        if disclosure is not None:
            destroy(runtime, disclosure, "verification expired", callback.ticket)
        return None
    secret = secrets_box.box_for(runtime.settings).open(disclosure.ciphertext, _context(disclosure))
    disclosure.repeats += 1
    add_event(callback.ticket, "secret_repeated", now, disclosure=disclosure.id, to=callback.to_number)
    last = disclosure.repeats >= MAX_REPEATS
    if last or secret is None:
        destroy(runtime, disclosure, "read for the last time", callback.ticket)
    return (secret, last) if secret is not None else None


def finish_call(session, runtime, callback: Callback, reason: str) -> None:
    """Destroy whatever was delivered on the callback's call: the person has it, or hung up."""
    for disclosure in session.scalars(select(Disclosure).where(Disclosure.delivered_call_sid == callback.call_sid,
                                                               Disclosure.ciphertext.is_not(None))
                                      .with_for_update(**locking(Disclosure))):
        destroy(runtime, disclosure, reason, callback.ticket)
