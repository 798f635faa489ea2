"""The directory as staff browse it: clients with their contracts, contacts by client, searched, a page
at a time."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from dispatch.directory.models import Client, Contact, ContactPhone


def contacts_page(session, search: str | None, limit: int, offset: int = 0) -> tuple[list[Contact], int]:
    """Contacts ordered by client and name, those matching ``search`` (a part of the client's or the
    contact's name, the e-mail or a phone number) when given; and how many match in all."""
    query = select(Contact).join(Client, Client.id == Contact.client_id)
    if search:
        pattern = f"%{search.strip().lower()}%"
        digits = "".join(ch for ch in search if ch.isdigit())
        matches = [func.lower(Client.name).like(pattern), func.lower(Contact.name).like(pattern),
                   func.lower(Contact.email).like(pattern)]
        if len(digits) >= 3:
            matches.append(Contact.id.in_(select(ContactPhone.contact_id).where(ContactPhone.e164.like(f"%{digits}%"))))
        query = query.where(or_(*matches))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    found = session.scalars(query.order_by(Client.name, Contact.name, Contact.id).limit(limit).offset(offset))
    return list(found.unique()), total


def clients_page(session, search: str | None, limit: int, offset: int = 0) -> tuple[list[Client], int]:
    """Clients by name, those whose name holds ``search`` when given; and how many match in all."""
    query = select(Client)
    if search:
        query = query.where(func.lower(Client.name).like(f"%{search.strip().lower()}%"))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    return list(session.scalars(query.order_by(Client.name, Client.id).limit(limit).offset(offset))), total
