"""Recording links people can play: the app's own signed, expiring URL of a ticket's recording.

The carrier's recording URL needs the account's credentials, so it is never the link given:
e-mails, webhooks, chat messages, the API and the console give ``/recordings/CS-000123?expires=…&sig=…``,
whose signature (HMAC-SHA256 with a key derived from ``IVR_SECRET_KEY``, or the data folder's
key) covers the ticket number and the expiry. The web app checks it and streams the audio
from the carrier. A link's expiry is rounded up to the hour, so the links made within an hour
are one and the same.
"""
from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from dispatch.notification.carrier import RecordingMedia
from dispatch.runtime import Runtime
from dispatch.tickets.models import Ticket
from dispatch.tickets.numbers import format_number, parse_number
from dispatch.verification.secret_box import derived_key

PURPOSE = "recording links v1"
ROUND_TO_SECONDS = 3600


class LinkRefused(Exception):
    """The link is forged, altered or expired."""


@dataclass(frozen=True)
class SignedLink:
    url: str  # absolute with PUBLIC_BASE_URL set, else the path only
    expires: datetime

    @property
    def absolute(self) -> bool:
        return self.url.startswith(("https://", "http://"))


def signed(runtime: Runtime, ticket: Ticket, valid_for: timedelta | None = None) -> SignedLink | None:
    """The link of ``ticket``'s recording, valid for ``valid_for`` (the configuration's
    ``handoff.recording_link_days`` by default); None when it has no recording."""
    if not ticket.recording_sid:
        return None
    if valid_for is None:
        valid_for = timedelta(days=runtime.config.handoff.recording_link_days)
    number = format_number(runtime.config.ticket_prefix, ticket.id)
    expires = math.ceil((runtime.now() + valid_for).timestamp() / ROUND_TO_SECONDS) * ROUND_TO_SECONDS
    return SignedLink(runtime.links.recording(number, expires, _signature(runtime, number, expires)),
                      datetime.fromtimestamp(expires, timezone.utc))


def link(runtime: Runtime, ticket: Ticket, valid_for: timedelta | None = None) -> str | None:
    """The URL of ``ticket``'s recording for people (see :func:`signed`), or None without a recording."""
    made = signed(runtime, ticket, valid_for)
    return made.url if made else None


def check(runtime: Runtime, number: str, expires: str | None, signature: str | None) -> int:
    """The ticket id a link names, if its signature holds and it has not expired; else LinkRefused."""
    ticket_id = parse_number(number, runtime.config.ticket_prefix)
    if ticket_id is None or not (expires or "").isdigit() or len(expires) > 12 or not signature:
        raise LinkRefused("malformed")
    canonical = format_number(runtime.config.ticket_prefix, ticket_id)
    if not hmac.compare_digest(signature.encode(), _signature(runtime, canonical, int(expires)).encode()):
        raise LinkRefused("bad signature")
    if runtime.now().timestamp() > int(expires):
        raise LinkRefused("expired")
    return ticket_id


def open_media(runtime: Runtime, number: str, expires: str | None, signature: str | None,
               byte_range: str | None = None) -> RecordingMedia | None:
    """The audio a link points at, streamed from the carrier; None when the ticket or its recording
    is gone. Raises LinkRefused for a bad link, DeliveryError when the carrier fails."""
    ticket_id = check(runtime, number, expires, signature)
    with runtime.store.reading() as session:
        ticket = session.get(Ticket, ticket_id)
        recording_sid = ticket.recording_sid if ticket else None
    if not recording_sid:
        return None
    return runtime.carrier.recording_media(recording_sid, byte_range)


def _signature(runtime: Runtime, number: str, expires: int) -> str:
    key = derived_key(runtime.settings, PURPOSE)
    return hmac.new(key, f"{number}\n{expires}".encode(), hashlib.sha256).hexdigest()[:32]
