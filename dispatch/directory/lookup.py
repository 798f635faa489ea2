"""Who is calling: the contact and client a phone number belongs to."""
from __future__ import annotations

from sqlalchemy import select

from dispatch.directory.models import Client, Contact, ContactPhone


def contacts_with_phone(session, e164: str | None) -> list[Contact]:
    if not e164:
        return []
    return list(session.scalars(
        select(Contact).join(ContactPhone).where(ContactPhone.e164 == e164).order_by(Contact.id)).unique())


def match_caller(session, e164: str | None) -> tuple[Client | None, Contact | None]:
    """The client and contact a number belongs to: a contact only when exactly one has it,
    a client when every contact with it belongs to the same client."""
    contacts = contacts_with_phone(session, e164)
    if not contacts:
        return None, None
    if len(contacts) == 1:
        return contacts[0].client, contacts[0]
    clients = {c.client_id for c in contacts}
    return (contacts[0].client, None) if len(clients) == 1 else (None, None)
