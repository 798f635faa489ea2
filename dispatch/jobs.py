"""The dispatcher's RQ jobs: plain functions taking ids, safe to run twice or concurrently.

Each reaches the process's runtime through ``core.runtime.current()`` and delegates
to the module that owns the rule; the database, not RQ, decides whether anything
is still owed, so a duplicate or late job finds nothing to do.
"""
from __future__ import annotations

from core.runtime import current
from dispatch import delivery, escalation


def page_ticket(ticket_id: int) -> None:
    """A P1 ticket was stored: start its escalation policy (its first step now, or at its time)."""
    escalation.start(current(), ticket_id)


def escalate(ticket_id: int, position: int) -> None:
    """The timer of ``position``: run whatever of the policy is due by now."""
    escalation.advance(current(), ticket_id)


def escalate_now(ticket_id: int, position: int, reason: str = "") -> None:
    """The step before ``position`` reached nobody, or ESC was sent: run ``position`` now if still next."""
    escalation.escalate_now(current(), ticket_id, position, reason or "requested")


def send_page(page_id: int) -> None:
    """Send a claimed page (a retry after a transient error, or a CALL bridge)."""
    delivery.send(current(), page_id)


def check_delivery(page_id: int) -> None:
    """A page's delivery deadline: not delivered by now counts as failed."""
    delivery.check(current(), page_id)


def notify_others(ticket_id: int, status: str, staff_id: str, reopened: int = 0) -> None:
    """Tell the others who were paged that ``staff_id`` acknowledged or resolved the ticket."""
    escalation.notify_others(current(), ticket_id, status, staff_id, reopened)
