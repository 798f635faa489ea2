"""Which tickets a caller may hear about on the phone, and how much.

Caller ID is whatever the caller chose to show: a calling number that is the ticket's
caller, or a number on file at its client, hears only whether a technician has been
assigned. Its status and priority are told only to a caller verified by PIN on that
very call, about a ticket of their own client. A withheld number hears of no ticket."""
from __future__ import annotations

from sqlalchemy import select

from core import phones
from dispatch.directory.models import Contact, ContactPhone
from dispatch.tickets.models import Ticket


def find_for_verified(session, ticket_id: int, contact_id: int) -> Ticket | None:
    """The ticket, if it is the verified contact's, or their client's."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    if ticket.contact_id == contact_id:
        return ticket
    client_id = session.scalar(select(Contact.client_id).where(Contact.id == contact_id))
    return ticket if client_id is not None and ticket.client_id == client_id else None


def is_assigned(ticket: Ticket) -> bool:
    """Whether a technician has taken the ticket (all a caller not verified on the call may hear)."""
    return ticket.status != "new" or getattr(ticket, "owner", None) is not None


def find_for_caller(session, ticket_id: int, caller: str) -> Ticket | None:
    """The ticket, if the calling number is its caller's or one of its client's contacts'."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or caller == phones.ANONYMOUS:
        return None
    if ticket.caller == caller:
        return ticket
    if ticket.client_id is not None:
        known = session.scalar(select(ContactPhone.id).join(Contact).where(
            Contact.client_id == ticket.client_id, ContactPhone.e164 == caller).limit(1))
        if known is not None:
            return ticket
    return None
