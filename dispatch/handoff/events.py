"""Ticket changes into hand-off events, in the transaction that makes the change.

Each change becomes an event with a stable id, one delivery per destination that takes
it, and the job that starts them, in the outbox (``dispatch.jobs``): the change and its
hand-off commit together or not at all, and Redis being away delays the hand-off, never
loses it. Rendering and sending happen later, on a worker (``delivery``), so a webhook's
transaction pays only for three inserts, and nothing when no destination is configured.

Verification tickets are not handed off: they record who tried to prove their identity
and how (PIN failures, callbacks), which belongs to the security log, not to a PSA queue;
anything a verified caller needs done arrives as a voicemail or a call of its own.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import insert

from dispatch import jobs
from dispatch.handoff import destinations
from dispatch.handoff.delivery import hand_off
from dispatch.handoff.models import HandoffDelivery, HandoffEvent
from dispatch.runtime import current
from dispatch.tickets.models import Ticket

NOT_HANDED_OFF = ("verification",)
CREATED, UPDATED = "ticket.created", "ticket.updated"

_INSERT_EVENT = insert(HandoffEvent.__table__).returning(HandoffEvent.__table__.c.id)
_INSERT_DELIVERIES = insert(HandoffDelivery.__table__)


def event_name(change: str) -> str:
    return CREATED if change == "created" else UPDATED


def on_change(session, ticket: Ticket, change: str, at: datetime, detail: dict) -> None:
    """Listener of ``dispatch.tickets.changes``: queue the hand-off of ``change`` with it."""
    if ticket.kind in NOT_HANDED_OFF:
        return
    handoff = current().config.handoff
    if not handoff.active:
        return
    name = event_name(change)
    targets = destinations.for_event(handoff, name)
    if not targets:
        return
    connection = session.connection()
    event_id = connection.execute(_INSERT_EVENT, {
        "public_id": str(uuid.uuid4()), "ticket_id": ticket.id, "name": name, "change": change[:40],
        "detail": json.loads(json.dumps(detail, default=str)), "at": at}).scalar_one()
    connection.execute(_INSERT_DELIVERIES, [
        {"event_id": event_id, "ticket_id": ticket.id, "destination": target.key, "kind": target.kind,
         "label": target.label[:300], "state": "pending", "attempts": 0, "next_attempt_at": at}
        for target in targets])
    jobs.enqueue_after_commit(session, hand_off, event_id, queue=jobs.DEFAULT, now=at, new=True)
