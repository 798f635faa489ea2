"""The lifecycle's changes, each in a transaction of its own on the locked ticket: what the API,
the technicians' SMS commands, the phone tree and the workers' sweep call.

What a change queued (texts, notices) is handed to RQ once it has committed.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.db import get_locked
from dispatch.followup import lifecycle
from dispatch.followup.lifecycle import Refused
from dispatch.runtime import Runtime
from dispatch.tickets.models import CLOSED_STATUSES, Ticket

__all__ = ["Change", "Missing", "Refused", "apply", "reopen_for_caller", "sweep"]

SWEEP_LIMIT = 100


class Missing(LookupError):
    """No such ticket."""


@dataclass(frozen=True)
class Change:
    """What a PATCH asks for; None leaves a field as it is (``owner=""`` takes the owner away)."""

    priority: str | None = None
    status: str | None = None
    owner: str | None = None
    note: str | None = None


def apply(runtime: Runtime, ticket_id: int, change: Change, by: str, via: str) -> None:
    """Make ``change`` (priority, owner and note, then the status), all or nothing. Raises
    :class:`Missing`, or :class:`Refused` naming the field whose change the ticket's state does
    not allow."""
    now = runtime.now()
    handovers = []
    with runtime.store.transaction() as session:
        ticket = get_locked(session, Ticket, ticket_id)
        if ticket is None:
            raise Missing(ticket_id)
        try:
            field = "priority"
            if change.priority is not None:
                handovers += lifecycle.set_priority(session, runtime, ticket, now, change.priority, by, via)
            field = "owner"
            if change.owner is not None:
                handovers += lifecycle.set_owner(session, runtime, ticket, now, change.owner or None, by, via)
            if change.note:
                handovers += lifecycle.add_note(session, runtime, ticket, now, change.note, by, via)
            field = "status"
            if change.status is not None and change.status != ticket.status:
                handovers += {"acknowledged": lifecycle.acknowledge, "waiting": lifecycle.wait,
                              "resolved": lifecycle.resolve}[change.status](session, runtime, ticket, now, by, via)
        except Refused as exc:  # leaving the transaction rolls back what came before
            raise Refused(f"{field}: {exc}") from None
    for hand_over in handovers:
        hand_over(runtime)


def act(runtime: Runtime, ticket_id: int, rule, *args, **kwargs):
    """Run ``rule(session, runtime, ticket, now, *args)`` on the locked ticket and hand over what it
    queued; returns the ticket as it left the transaction. Raises :class:`Missing` or :class:`Refused`."""
    now = runtime.now()
    with runtime.store.transaction() as session:
        ticket = get_locked(session, Ticket, ticket_id)
        if ticket is None:
            raise Missing(ticket_id)
        handovers = rule(session, runtime, ticket, now, *args, **kwargs)
    for hand_over in handovers:
        hand_over(runtime)
    return ticket


def reopen_for_caller(runtime: Runtime, ticket_id: int, by: str, via: str) -> str:
    """The caller asks to reopen the ticket: ``reopened``, ``closed`` (too late: a new ticket it is),
    or ``open`` (it never stopped being worked)."""
    try:
        act(runtime, ticket_id, lifecycle.reopen, by, via)
        return "reopened"
    except Refused:
        pass
    with runtime.store.reading() as session:
        ticket = session.get(Ticket, ticket_id)
        return "closed" if ticket.status in CLOSED_STATUSES else "open"


def sweep(runtime: Runtime) -> int:
    """The follow-ups that have fallen due (a reminder, a no-contact resolution, a close), each
    taken once whichever worker looks first; returns how many tickets moved on."""
    now = runtime.now()
    with runtime.store.reading() as session:
        due = session.scalars(select(Ticket.id).where(Ticket.followup_at <= now).order_by(Ticket.followup_at)
                              .limit(SWEEP_LIMIT)).all()
    for ticket_id in due:
        act(runtime, ticket_id, lifecycle.step)
    return len(due)
