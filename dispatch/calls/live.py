"""Emergency calls put through to the on-call technician's mobile (``[emergency] mode = "ring_oncall"``).

After hours, the emergency extension rings the primary on-call's mobile, screened; whoever
presses 1 takes the call. It is still a P1 ticket (kind ``emergency_call``), made at that
moment and acknowledged by them (``taken_live`` on its timeline, with who), so nobody is
paged about it. Unanswered, the caller leaves the emergency voicemail, paged as ever.
"""
from __future__ import annotations

from sqlalchemy import select

from core import phones
from core.db import lock_key
from dispatch import directory, oncall
from dispatch.escalation import responses
from dispatch.runtime import Runtime
from dispatch.tickets import changes
from dispatch.tickets.models import Ticket
from dispatch.tickets.timeline import add_event

KIND = "emergency_call"


def ring_whom(runtime: Runtime):
    """The staff member whose mobile an emergency call rings: the primary on call now (overrides
    included), or None when calls are not put through (the emergency voicemail, as ever)."""
    if runtime.config.emergency_mode != "ring_oncall":
        return None
    return oncall.who(runtime, runtime.now()).primary


def taken_live(runtime: Runtime, call_sid: str, caller_raw: str | None, staff_id: str, language: str) -> Ticket:
    """``staff_id`` took the emergency call ``call_sid``: its P1 ticket, acknowledged by them.
    A repeated webhook finds the ticket made the first time."""
    config, now = runtime.config, runtime.now()
    source_key = f"call:{call_sid}"
    with runtime.store.transaction() as session:
        lock_key(session, source_key)
        known = session.scalar(select(Ticket).where(Ticket.source_key == source_key))
        if known is not None:
            return known
        caller = phones.caller_id(caller_raw, config.region)
        client, contact = directory.match_caller(session, None if caller == phones.ANONYMOUS else caller)
        ticket = Ticket(source_key=source_key, call_sid=call_sid, box="emergency", status="new", kind=KIND,
                        priority="P1", caller=caller, caller_raw=(caller_raw or "")[:64] or None,
                        client=client, client_id=client.id if client else None,
                        contact=contact, contact_id=contact.id if contact else None, created_at=now,
                        language=language)
        add_event(ticket, "created", now, box="emergency", caller=caller, client=client.name if client else None)
        session.add(ticket)
        session.flush()  # its id, and a ticket of the session: acknowledging it changes it
        changes.publish(session, ticket, "created", now)
        owed = responses.acknowledge_live(session, runtime, ticket, staff_id)
    for hand_over in owed:
        hand_over(runtime)
    return ticket


def was_taken(runtime: Runtime, call_sid: str) -> bool:
    """Whether someone took the emergency call ``call_sid`` live."""
    with runtime.store.reading() as session:
        return session.scalar(select(Ticket.id).where(Ticket.source_key == f"call:{call_sid}",
                                                      Ticket.kind == KIND)) is not None
