"""What happens to a ticket that others may want to hear of: created, acknowledged, resolved,
reopened, and whatever later changes its state, owner or priority.

The domain that makes a change calls :func:`record` inside its transaction: the change goes
on the ticket's timeline, and every listener (the hand-off to the MSP's own tools, say,
subscribed by the composition root) is told in the same transaction, so it can queue its
own work with the change or not at all.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dispatch.tickets.models import Ticket
from dispatch.tickets.timeline import add_event

Listener = Callable[[object, Ticket, str, datetime, dict], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    """Have ``listener(session, ticket, change, at, detail)`` called for every change, in its transaction."""
    if listener not in _listeners:
        _listeners.append(listener)


def record(session, ticket: Ticket, change: str, at: datetime, **detail) -> None:
    """Note ``change`` on the ticket's timeline and tell the listeners."""
    add_event(ticket, change, at, **detail)
    publish(session, ticket, change, at, detail)


def publish(session, ticket: Ticket, change: str, at: datetime, detail: dict | None = None) -> None:
    """Tell the listeners of a change already on the timeline (a new ticket's ``created``, stored with it)."""
    for listener in _listeners:
        listener(session, ticket, change, at, detail or {})
