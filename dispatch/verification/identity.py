"""Caller verification: who a caller claims to be, and whether they proved it.

- a caller is identified by their calling number when exactly one contact has it,
  else by the number on file they key in;
- a PIN gets ``PIN_TRIES_PER_CALL`` tries per call; wrong PINs in a row for one
  contact, across calls, lock PIN entry (``pin_lock``);
- a proof of identity (PIN or dual callback) belongs to the call that earned it, and
  lasts ``VERIFIED_FOR`` on that call;
- every attempt is written on the call's ``verification`` ticket.

These functions run inside the caller's transaction and decide; they never speak.
``ivr.verification_calls`` chooses what the caller hears, and takes care that an unknown
number, a contact without a PIN and a locked contact all hear the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass
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
from dispatch.verification import pin_lock, pins, secret_box
from dispatch.verification.models import PinLock, Verification, VerificationCall

VERIFIED_FOR = timedelta(minutes=15)
PIN_TRIES_PER_CALL = 3
TICKET_PRIORITY = "P3"


class PinResult(Enum):
    VERIFIED = "verified"
    RETRY = "retry"          # wrong, and the call has tries left
    EXHAUSTED = "exhausted"  # wrong, and that was the call's last try


class NoSuchContact(LookupError):
    pass


def set_pin(runtime: Runtime, contact_id: int, pin) -> str | None:
    """Give contact ``contact_id`` the portal PIN ``pin`` (kept only as its peppered hash; a lock on
    the old PIN ends); returns why ``pin`` may not be a PIN instead, changing nothing. Raises
    ``NoSuchContact``. The slow hash runs between two short transactions, never holding a lock.
    Never log or echo ``pin``."""
    with runtime.store.reading() as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise NoSuchContact(contact_id)
        reason = pins.refusal(pin, [p.e164 for p in contact.phones])
    if reason is not None:
        return reason
    pin_hash = pins.hash_pin(pin, secret_box.pepper(runtime.settings))
    with runtime.store.transaction() as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise NoSuchContact(contact_id)
        contact.pin_hash, contact.pin_digits = pin_hash, len(pin)
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


@dataclass(frozen=True)
class _PinCheck:
    """What the first transaction of a PIN check found: the hash to try (None: nothing to match)."""

    contact_id: int | None
    pin_hash: str | None
    refused: str | None  # why no hash is tried: no contact, no PIN on file, locked, over a limit


def check_pin(runtime: Runtime, call_sid: str, caller_raw: str | None, pin: str,
              language: str = "en") -> tuple[PinResult, Handover | None]:
    """Check a PIN keyed on the inbound call ``call_sid``; returns (result, the hand-over of the security
    notice to call after the commit when this PIN locked the contact, else None).

    Whatever the reason a PIN fails (wrong, no contact, no PIN on file, PIN entry locked, too
    many wrong PINs in the hour from this number or across the directory), it costs the call
    one try, so the caller cannot tell these apart. The argon2 check runs between two short
    transactions, holding no lock: it takes about a tenth of a second, every other writer
    would wait that long, and many callers keying PINs at once would queue behind each other.
    """
    caller = phones.caller_id(caller_raw, runtime.config.region)
    with runtime.store.transaction() as session:
        vcall, _ = open_call(session, runtime, call_sid, caller_raw, language)
        check = _prepare(session, runtime, vcall, caller)
    pepper = secret_box.pepper(runtime.settings)
    right = pins.matches(check.pin_hash, pin, pepper)
    upgraded = pins.hash_pin(pin, pepper) if right and not pins.is_peppered(check.pin_hash) else None
    with runtime.store.transaction() as session:
        vcall, _ = open_call(session, runtime, call_sid, caller_raw, language)
        return _record(session, runtime, vcall, caller, check, pin, right, upgraded)


def _prepare(session, runtime: Runtime, vcall: VerificationCall, caller: str) -> _PinCheck:
    contact = vcall.contact
    if contact is None:
        return _PinCheck(None, None, "no matching contact")
    now = runtime.now()
    lock = session.get(PinLock, contact.id)
    refused = ("PIN entry locked" if pin_lock.is_locked(lock, now)
               else pin_lock.over_hourly_limit(session, now, caller) or
               ("no PIN on file" if contact.pin_hash is None else None))
    return _PinCheck(contact.id, None if refused else contact.pin_hash, refused)


def _record(session, runtime: Runtime, vcall: VerificationCall, caller: str, check: _PinCheck, pin: str,
            right: bool, upgraded: str | None) -> tuple[PinResult, Handover | None]:
    now = runtime.now()
    contact = vcall.contact
    lock = pin_lock.lock_row(session, contact.id) if contact is not None else None
    # The PIN may have been changed, or the contact locked by another call, during the check.
    still = contact is not None and contact.id == check.contact_id and contact.pin_hash == check.pin_hash
    if right and still and not pin_lock.is_locked(lock, now):
        pin_lock.succeeded(lock)
        learn_pin(contact, pin, upgraded)
        verify(session, runtime, vcall.ticket, contact, "pin", vcall.call_sid)
        return PinResult.VERIFIED, None
    vcall.pin_failures += 1
    reason = check.refused or ("wrong PIN" if still else "PIN changed during the check")
    add_event(vcall.ticket, "pin_failed", now, attempt=vcall.pin_failures, reason=reason)
    pin_lock.note_failure(session, now, caller, contact.id if contact is not None else None)
    notice = pin_lock.count_failure(session, runtime, lock, contact, vcall.ticket) if reason == "wrong PIN" else None
    result = PinResult.EXHAUSTED if vcall.pin_failures >= PIN_TRIES_PER_CALL else PinResult.RETRY
    return result, notice


def learn_pin(contact: Contact, pin: str, upgraded: str | None) -> None:
    """A PIN keyed right: its length is known now (older PINs were stored without it), and a hash made
    before the pepper is replaced by a peppered one."""
    contact.pin_digits = len(pin)
    if upgraded is not None:
        contact.pin_hash = upgraded


def callback_asked(runtime: Runtime, vcall: VerificationCall, how: str) -> None:
    """The caller asked to be called back instead of keying a PIN (``how``: star, or silence)."""
    add_event(vcall.ticket, "callback_asked", runtime.now(), by=how)


def verify(session, runtime: Runtime, ticket: Ticket, contact: Contact, method: str, call_sid: str,
           number: str | None = None) -> Verification:
    """Record that the person on call ``call_sid`` proved to be ``contact`` by ``method`` (``pin`` on the
    ticket's own call, or ``callback``: on our call back to ``number``, a number on file).

    The proof belongs to that call and to nothing else: no later call from the same caller ID
    inherits it. A callback verifies only whoever answered it, so it does not mark the ticket,
    whose caller is the inbound call that asked (anyone can show a contact's number): the
    timeline says who was verified on which call."""
    now = runtime.now()
    if method == "pin":
        ticket.verified_method, ticket.verified_at = method, now
    ticket.contact, ticket.client = contact, contact.client
    proof = Verification(contact_id=contact.id, ticket_id=ticket.id, method=method, call_sid=call_sid, at=now,
                         expires_at=now + VERIFIED_FOR)
    session.add(proof)
    add_event(ticket, "verified", now, method=method, contact=contact.name, call_sid=call_sid,
              **({"on": "callback", "to": number} if method == "callback" else {}),
              until=proof.expires_at.isoformat())
    return proof


def verified_on_call(session, call_sid: str, now) -> Verification | None:
    """The proof earned on call ``call_sid`` (by PIN, on that very call), while it lasts."""
    if not call_sid:
        return None
    return session.scalar(select(Verification).where(Verification.call_sid == call_sid, Verification.method == "pin",
                                                     Verification.expires_at > now)
                          .order_by(Verification.at.desc()).limit(1))
