"""Which tickets a caller may hear about on the phone."""
from __future__ import annotations

from sqlalchemy import select

from core import phones
from dispatch.directory.models import Contact, ContactPhone
from dispatch.tickets.models import Ticket


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
