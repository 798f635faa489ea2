"""The domain's objects as the JSON API and the commands show them."""
from __future__ import annotations

from dispatch.calls.models import CallLog
from dispatch.directory.models import Client, Contact
from dispatch.followup import callbacks
from dispatch.handoff import recordings
from dispatch.oncall import OnCall
from dispatch.runtime import Runtime
from dispatch.tickets.models import Ticket
from dispatch.tickets.numbers import format_number
from dispatch.verification import one_time_secrets, pin_lock, pins
from dispatch.verification.models import OneTimeSecret, PinLock


def ticket_dict(ticket: Ticket, runtime: Runtime) -> dict:
    return {
        "number": format_number(runtime.config.ticket_prefix, ticket.id),
        "status": ticket.status,
        "priority": ticket.priority,
        "kind": ticket.kind,
        "caller": ticket.caller,
        "client": ticket.client.name if ticket.client else None,
        "contact": {"id": ticket.contact.id, "name": ticket.contact.name} if ticket.contact else None,
        # The app's own signed link, which plays without a Twilio login; Twilio's URL needs the account's.
        "recording_url": recordings.link(runtime, ticket),
        "recording_seconds": ticket.recording_seconds,
        "transcript": ticket.transcript,
        "created_at": ticket.created_at.isoformat(),
        "verified": ({"method": ticket.verified_method, "at": ticket.verified_at.isoformat()}
                     if ticket.verified_method else None),
        "language": ticket.language,
        "owner": ticket.owner,
        "response_due": _iso(ticket.response_due),
        "resolution_due": _iso(ticket.resolution_due),
        "responded_at": _iso(ticket.responded_at),
        "resolved_at": _iso(ticket.resolved_at),
        "closed_at": _iso(ticket.closed_at),
        "rating": ticket.rating,
        "timeline": [{"at": e.at.isoformat(), "event": e.event, **(e.detail or {})} for e in ticket.timeline],
    }


def _iso(at) -> str | None:
    return at.isoformat() if at is not None else None


def callback_dict(ticket: Ticket, runtime: Runtime, now) -> dict:
    """A ticket on the call-back list, with how long is left until its response is due (seconds;
    negative once overdue; null without a target)."""
    left = callbacks.left(ticket, now)
    return {**ticket_dict(ticket, runtime), "left_seconds": int(left.total_seconds()) if left is not None else None}


def call_dict(call: CallLog, prefix: str) -> dict:
    return {"sid": call.sid, "caller": call.caller, "client": call.client.name if call.client else None,
            "started_at": call.started_at.isoformat(), "seconds": call.seconds, "language": call.language,
            "outcome": call.outcome, "ticket": format_number(prefix, call.ticket_id) if call.ticket_id else None}


def client_dict(client: Client) -> dict:
    return {"id": client.id, "name": client.name, "after_hours": client.after_hours, "require_pin": client.require_pin,
            "language": client.language}


def contact_dict(contact: Contact, lock: PinLock | None = None, now=None) -> dict:
    """A contact, never with a verification: a proof belongs to the call that earned it, and anyone
    calling with this contact's number must not look verified to whoever reads this."""
    has_pin = contact.pin_hash is not None
    locked = now is not None and pin_lock.is_locked(lock, now)
    return {"id": contact.id, "client": contact.client.name, "name": contact.name,
            "phones": [p.e164 for p in contact.phones], "email": contact.email,
            "has_pin": has_pin,
            "pin_short": has_pin and pins.is_short(contact.pin_digits),
            "pin_lock": ({"until": None if pin_lock.needs_reset(lock) else lock.locked_until.isoformat(),
                          "reset_needed": pin_lock.needs_reset(lock)} if locked else None)}


def staff_dict(person) -> dict:
    return {"id": person.id, "name": person.name, "mobile": person.mobile, "role": person.role}


def oncall_dict(who: OnCall) -> dict:
    return {"primary": staff_dict(who.primary),
            "secondary": staff_dict(who.secondary) if who.secondary else None,
            "managers": [staff_dict(m) for m in who.managers],
            "until": who.until.isoformat()}


def secret_dict(stored: OneTimeSecret) -> dict:
    """What the API may say about a one-time secret (a "disclosure"): never the secret."""
    return {"id": stored.id, "contact_id": stored.contact_id, "status": one_time_secrets.status(stored),
            "requested_by": stored.requested_by, "created_at": stored.created_at.isoformat(),
            "expires_at": stored.expires_at.isoformat(),
            "delivered_at": stored.delivered_at.isoformat() if stored.delivered_at else None,
            "delivered_to": stored.delivered_to,
            "destroyed_at": stored.destroyed_at.isoformat() if stored.destroyed_at else None}
