"""Notes: what staff write on a ticket's timeline (from the console, or the API's ``note``)."""
from __future__ import annotations

from core.db import get_locked
from dispatch.runtime import Runtime
from dispatch.tickets import changes
from dispatch.tickets.models import Ticket

MAX_LENGTH = 4000


def refusal(text) -> str | None:
    """Why ``text`` cannot be a note, or None if it can."""
    if not isinstance(text, str) or not text.strip():
        return "a note needs some text"
    if len(text) > MAX_LENGTH:
        return f"a note has at most {MAX_LENGTH} characters"
    return None


def add_note(runtime: Runtime, ticket_id: int, staff_id: str, text: str, via: str) -> bool:
    """Put ``text`` (checked by :func:`refusal`) on the ticket's timeline as ``staff_id``'s note;
    False when there is no such ticket."""
    with runtime.store.transaction() as session:
        ticket = get_locked(session, Ticket, ticket_id)
        if ticket is None:
            return False
        changes.record(session, ticket, "note", runtime.now(), by=staff_id, via=via, text=text.strip())
    return True
