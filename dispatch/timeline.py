"""A ticket's timeline: every page, delivery status, reply and escalation, with its time."""
from __future__ import annotations

from sqlalchemy.orm import object_session

from core.models import Ticket, TimelineEvent


def add_event(ticket: Ticket, event: str, at, **detail) -> None:
    """Note ``event`` on the ticket's timeline without loading the timeline: the event is added to
    the ticket's session, and to its ``timeline`` only if that is loaded already."""
    session = object_session(ticket)
    if session is None:
        ticket.timeline.append(TimelineEvent(event=event, at=at, detail=detail))
    else:
        session.add(TimelineEvent(ticket=ticket, event=event, at=at, detail=detail))
