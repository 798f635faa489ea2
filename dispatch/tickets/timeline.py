"""A ticket's timeline: every page, delivery status, reply and escalation, with its time."""
from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import object_session

from dispatch.tickets.models import Ticket, TimelineEvent

_INSERT = insert(TimelineEvent.__table__)


def add_event(ticket: Ticket, event: str, at, **detail) -> None:
    """Note ``event`` on the ticket's timeline.

    A stored ticket gets it at once, as one SQL insert, without loading its timeline: the
    paging path writes to timelines it never reads, inside transactions every other writer
    waits for (an ORM flush of the event takes about three times as long). A timeline
    already loaded in this session does not show the event. A ticket not stored yet
    carries the event in its ``timeline``, to be stored with it (:func:`store_new`, or the
    ORM's flush).
    """
    session = object_session(ticket)
    if session is None or ticket.id is None:
        ticket.timeline.append(TimelineEvent(event=event, at=at, detail=detail))
    else:
        session.connection().execute(_INSERT, [_values(ticket.id, event, at, detail)])


def store_new(session, ticket: Ticket) -> None:
    """Insert the events carried by ``ticket``, just inserted out of the session (``core.db.insert_now``)."""
    session.connection().execute(_INSERT, [_values(ticket.id, e.event, e.at, e.detail) for e in ticket.timeline])


def _values(ticket_id: int, event: str, at, detail: dict) -> dict:
    return {"ticket_id": ticket_id, "event": event, "at": at, "detail": detail}
