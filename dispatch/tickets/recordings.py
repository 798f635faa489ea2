"""A ticket's recording, fetched from the carrier for a person entitled to hear it.

The carrier's media address is never handed to a browser: it may need the account's own
credentials (Twilio's "HTTP authentication for media"), so the app fetches and relays it.
"""
from __future__ import annotations

from sqlalchemy import select

from dispatch.notification.carrier import Media
from dispatch.runtime import Runtime
from dispatch.tickets.models import Ticket


def media(runtime: Runtime, ticket_id: int, byte_range: str | None = None) -> Media | None:
    """The recording's audio (or the part ``byte_range``, an HTTP Range, asks for); None when the
    ticket has none or the carrier has none by that address. Raises ``DeliveryError`` when the
    carrier cannot be reached."""
    with runtime.store.reading() as session:
        url = session.scalar(select(Ticket.recording_url).where(Ticket.id == ticket_id))
    if not url:
        return None
    return runtime.carrier.fetch_recording(url, byte_range)
