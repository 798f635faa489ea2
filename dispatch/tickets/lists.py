"""Lists of tickets as staff browse them: the open ones, one with its whole timeline.

Each list is one indexed query with a limit, newest first, paged by id (``before``): the
store may hold years of tickets, and a page of the console must not slow down with them.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from dispatch.tickets.models import OPEN_STATUSES, Ticket


def open_tickets(session, limit: int, before: int | None = None, priority: str | None = None) -> list[Ticket]:
    """Open tickets (not resolved), newest first, up to ``limit``; those older than ticket ``before``."""
    query = select(Ticket).where(Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.id.desc()).limit(limit)
    if before is not None:
        query = query.where(Ticket.id < before)
    if priority is not None:
        query = query.where(Ticket.priority == priority)
    return list(session.scalars(query))


def count_open(session) -> int:
    return session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status.in_(OPEN_STATUSES)))


def with_timeline(session, ticket_id: int) -> Ticket | None:
    """The ticket with its timeline loaded, or None."""
    return session.scalar(select(Ticket).options(selectinload(Ticket.timeline)).where(Ticket.id == ticket_id))
