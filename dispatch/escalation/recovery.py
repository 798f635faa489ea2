"""Timers Redis lost, found again from the database.

Timers and queued jobs live only in Redis, which can lose them (a restart without
persistence, the embedded Redis's periodic snapshot). The database still says what is
owed, so every worker's housekeeping re-enqueues, once they are overdue, the first page
of a P1 ticket whose policy never began, the next step of every unfinished policy, and
the digest of pages held back in a burst (``bursts``).
A duplicate is harmless: the steps' compare-and-set in the database runs each one once.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select

from dispatch import jobs
from dispatch.escalation import bursts
from dispatch.escalation.models import Escalation
from dispatch.escalation.steps import escalate, page_ticket
from dispatch.notification.models import Page
from dispatch.runtime import Runtime
from dispatch.tickets.models import Ticket

log = logging.getLogger(__name__)

OVERDUE = timedelta(seconds=30)  # a job or timer this late is taken as lost


def sweep_overdue(runtime: Runtime) -> int:
    """Re-enqueue the page or step jobs the database says are overdue; returns how many."""
    late = runtime.now() - OVERDUE
    with runtime.store.reading() as session:
        unstarted = session.scalars(select(Ticket.id).outerjoin(Escalation, Escalation.ticket_id == Ticket.id).where(
            Ticket.paged_at < late, Ticket.status == "new", Escalation.ticket_id.is_(None))).all()
        overdue = session.execute(select(Escalation.ticket_id, Escalation.next_position).where(
            Escalation.finished_at.is_(None), Escalation.next_due_at < late)).all()
        window = timedelta(seconds=runtime.config.page_burst_seconds)
        held = session.execute(select(Page.staff_id, func.min(Page.created_at)).where(
            Page.state == "held", Page.created_at < late - window).group_by(Page.staff_id)).all()
    for ticket_id in unstarted:
        log.warning("ticket %s: its page job was lost; queued again", ticket_id)
        jobs.enqueue(runtime, page_ticket, ticket_id)
    for ticket_id, position in overdue:
        log.warning("ticket %s: escalation step %s is overdue (timer lost?); queued now", ticket_id, position)
        jobs.enqueue(runtime, escalate, ticket_id, position)
    for staff_id, since in held:
        log.warning("pages to %s held since %s: their digest is overdue (timer lost?); queued now", staff_id, since)
        jobs.enqueue(runtime, bursts.send_digest, staff_id, int((since + window).timestamp()))
    return len(unstarted) + len(overdue) + len(held)
