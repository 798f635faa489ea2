"""Caller verification: who a caller claims to be, and whether they proved it.

- a caller is identified by their calling number when exactly one contact has it,
  else by the number on file they key in;
- a PIN gets ``PIN_TRIES_PER_CALL`` tries per call; wrong PINs in a row for one
  contact, across calls, lock PIN entry (``pin_lock``);
- a proof of identity (PIN or dual callback) lasts ``VERIFIED_FOR``;
- every attempt is written on the call's ``verification`` ticket.

These functions run inside the caller's transaction and decide; they never speak.
``ivr.verification_calls`` chooses what the caller hears, and takes care that an unknown
number, a contact without a PIN and a locked contact all hear the same thing.
"""
from __future__ import annotations

from datetime import timedelta
from enum import Enum

from sqlalchemy import select

from core import phones
from core.db import lock_key
from dispatch import directory
from dispatch.directory.models import Contact
from dispatch.jobs.outbox import Handover
from dispatch.runtime import Runtime
from dispatch.tickets.models import Ticket
from dispatch.tickets.timeline import add_event
from dispatch.verification import pin_lock, pins
from dispatch.verification.models import Verification, VerificationCall

VERIFIED_FOR = timedelta(minutes=15)
PIN_TRIES_PER_CALL = 3
TICKET_PRIORITY = "P3"


class PinResult(Enum):
    VERIFIED = "verified"
    RETRY = "retry"          # wrong, and the call has tries left
    EXHAUSTED = "exhausted"  # wrong, and that was the call's last try


def set_pin(session, contact: Contact, pin) -> str | None:
    """Give ``contact`` the portal PIN ``pin`` (kept only as its hash; a lock on the old PIN ends);
    returns why ``pin`` may not be a PIN instead, changing nothing. Never log or echo ``pin``."""
    reason = pins.refusal(pin, [p.e164 for p in contact.phones])
    if reason is not None:
        return reason
    contact.pin_hash = pins.hash_pin(pin)
    pin_lock.clear(pin_lock.lock_row(session, contact.id))
    return None


def open_call(session, runtime: Runtime, call_sid: str, caller_raw: str | None,
              language: str = "en") -> tuple[VerificationCall, bool]:
    """The verification state of this call, with its ``verification`` ticket (in the caller's
    ``language``, which the callback speaks too), made on first use; returns (state, whether it was
    just made)."""
    lock_key(session, f"verification:{call_sid}")  # a repeated webhook waits, then finds this call's state
    found = session.scalar(select(VerificationCall).where(VerificationCall.call_sid == call_sid))
    if found is not None:
        return found, False
    now = runtime.now()
    caller = phones.caller_id(caller_raw, runtime.config.region)
    ticket = Ticket(source_key=f"verification:{call_sid}", call_sid=call_sid, status="new", kind="verification",
                    priority=TICKET_PRIORITY, caller=caller, caller_raw=(caller_raw or "")[:64] or None,
                    created_at=now, language=language)
    session.add(ticket)
    add_event(ticket, "verification_started", now, caller=caller)
    vcall = VerificationCall(call_sid=call_sid, ticket=ticket)
    session.add(vcall)
    session.flush()
    return vcall, True


def identify(session, runtime: Runtime, vcall: VerificationCall, number: str | None, how: str) -> bool:
    """Note the contact that ``number`` (E.164, on file) belongs to, if exactly one; ``how`` is
    ``caller_id`` or ``keyed``. Returns whether one was found; the caller must not be told."""
    contacts = directory.contacts_with_phone(session, number)
    now = runtime.now()
    if len(contacts) != 1:
        add_event(vcall.ticket, "caller_not_identified", now, how=how, number=number,
                  reason="no contact has this number" if not contacts else "several contacts share this number")
        return False
    contact = contacts[0]
    vcall.contact, vcall.number = contact, number
    vcall.ticket.contact, vcall.ticket.client = contact, contact.client
    add_event(vcall.ticket, "caller_identified", now, how=how, number=number, contact=contact.name,
              client=contact.client.name)
    return True


def check_pin(session, runtime: Runtime, vcall: VerificationCall, pin: str) -> tuple[PinResult, Handover | None]:
    """Check a PIN keyed on the inbound call; returns (result, the hand-over of the security
    notice to call after the commit when this PIN locked the contact, else None).

    Whatever the reason a PIN fails (wrong, no contact, no PIN on file, PIN entry locked),
    it costs the call one try, so the caller cannot tell these apart.
    """
    now = runtime.now()
    contact = vcall.contact
    lock = pin_lock.lock_row(session, contact.id) if contact is not None else None
    locked = pin_lock.is_locked(lock, now)
    usable_hash = contact.pin_hash if contact is not None and not locked else None
    if pins.matches(usable_hash, pin):
        pin_lock.succeeded(lock)
        verify(session, runtime, vcall.ticket, contact, "pin", vcall.call_sid)
        return PinResult.VERIFIED, None
    vcall.pin_failures += 1
    reason = ("no matching contact" if contact is None else "PIN entry locked" if locked
              else "no PIN on file" if contact.pin_hash is None else "wrong PIN")
    add_event(vcall.ticket, "pin_failed", now, attempt=vcall.pin_failures, reason=reason)
    notice = pin_lock.count_failure(session, runtime, lock, contact, vcall.ticket) if reason == "wrong PIN" else None
    result = PinResult.EXHAUSTED if vcall.pin_failures >= PIN_TRIES_PER_CALL else PinResult.RETRY
    return result, notice


def callback_asked(runtime: Runtime, vcall: VerificationCall, how: str) -> None:
    """The caller asked to be called back instead of keying a PIN (``how``: star, or silence)."""
    add_event(vcall.ticket, "callback_asked", runtime.now(), by=how)


def verify(session, runtime: Runtime, ticket: Ticket, contact: Contact, method: str, call_sid: str) -> Verification:
    """Record that ``contact`` proved who they are by ``method`` (``pin`` or ``callback``)."""
    now = runtime.now()
    ticket.verified_method, ticket.verified_at = method, now
    ticket.contact, ticket.client = contact, contact.client
    proof = Verification(contact_id=contact.id, ticket_id=ticket.id, method=method, call_sid=call_sid, at=now,
                         expires_at=now + VERIFIED_FOR)
    session.add(proof)
    add_event(ticket, "verified", now, method=method, contact=contact.name, until=proof.expires_at.isoformat())
    return proof


def current_verification(session, contact_id: int, now) -> Verification | None:
    """The contact's latest proof of identity that has not yet expired."""
    return session.scalar(select(Verification).where(Verification.contact_id == contact_id,
                                                     Verification.expires_at > now)
                          .order_by(Verification.at.desc()).limit(1))
