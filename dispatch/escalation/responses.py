"""What people do about a paged ticket: acknowledge, resolve, escalate on request, and the
notice to everyone else who was paged (its RQ job: ``notify_others``)."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from core.config import Config, Staff
from core.db import get_locked
from dispatch import jobs
from dispatch.escalation import page_text, policy, steps
from dispatch.escalation.models import Escalation
from dispatch.followup import lifecycle
from dispatch.notification import delivery
from dispatch.notification.models import Page
from dispatch.runtime import Runtime, current
from dispatch.tickets import changes
from dispatch.tickets.models import CLOSED_STATUSES, Ticket, TimelineEvent
from dispatch.tickets.timeline import add_event

log = logging.getLogger(__name__)


def set_status(runtime: Runtime, ticket_id: int, status: str, staff_id: str, via: str) -> tuple[str, str | None]:
    """Acknowledge or resolve a ticket for ``staff_id`` (``followup.lifecycle``); stops its escalation.

    Returns (outcome, name): ``done``; ``taken`` with who acknowledged it first;
    ``resolved`` when it already was (or is closed); ``missing`` when there is no such ticket.
    The notice to the others goes through the outbox, so Redis being away delays it, never loses it.
    """
    now = runtime.now()
    with runtime.store.transaction() as session:
        ticket = get_locked(session, Ticket, ticket_id)  # two ACKs at once: the second one is "taken"
        if ticket is None:
            return "missing", None
        if ticket.status in CLOSED_STATUSES:
            return "resolved", None
        if status == "acknowledged" and ticket.status == "acknowledged":
            return "taken", acknowledged_by(session, runtime.config, ticket_id)
        change = lifecycle.acknowledge if status == "acknowledged" else lifecycle.resolve
        owed = change(session, runtime, ticket, now, staff_id, via)
        escalation = session.get(Escalation, ticket_id)
        if escalation is not None and escalation.finished_at is None:
            escalation.finished_at, escalation.outcome = now, status
        # Each time an ESC reopened the ticket, a new ACK or RES is news to everyone paged again.
        reopened = session.scalar(select(func.count()).select_from(TimelineEvent).where(
            TimelineEvent.ticket_id == ticket_id, TimelineEvent.event == "reopened"))
        generation = [reopened] if reopened else []
        notice = jobs.enqueue_after_commit(session, notify_others, ticket_id, status, staff_id, *generation,
                                           now=now, claim=True)
    notice(runtime)
    for hand_over in owed:
        hand_over(runtime)
    return "done", None


def acknowledge_live(session, runtime: Runtime, ticket: Ticket, staff_id: str) -> list[lifecycle.Handover]:
    """``staff_id`` took the ticket's emergency call live (pressed 1 at its screening), in the caller's
    transaction: ``taken_live`` on its timeline, then acknowledged by them as an ACK would (they own
    it, its response target is met), and no escalation runs for it (a running one stops). Returns what
    to hand over after the commit."""
    now = runtime.now()
    changes.record(session, ticket, "taken_live", now, by=staff_id)
    owed = lifecycle.acknowledge(session, runtime, ticket, now, staff_id, "live")
    escalation = session.get(Escalation, ticket.id)
    if escalation is not None and escalation.finished_at is None:
        escalation.finished_at, escalation.outcome = now, "acknowledged"
    return owed


def acknowledged_by(session, config: Config, ticket_id: int) -> str | None:
    """The name of whoever acknowledged the ticket (its timeline says), if staff."""
    detail = session.scalar(select(TimelineEvent.detail).where(
        TimelineEvent.ticket_id == ticket_id, TimelineEvent.event == "acknowledged")
        .order_by(TimelineEvent.id.desc()).limit(1))
    person = config.staff.get((detail or {}).get("by"))
    return person.name if person else None


def notify_others(ticket_id: int, status: str, staff_id: str, reopened: int = 0) -> None:
    """Job: tell the others who were paged that ``staff_id`` acknowledged or resolved the ticket."""
    tell_others(current(), ticket_id, status, staff_id, reopened)


def tell_others(runtime: Runtime, ticket_id: int, status: str, staff_id: str, reopened: int = 0) -> None:
    """Tell everyone else who was paged about the ticket that ``staff_id`` took (or resolved) it,
    once per person for each time the ticket was ``reopened`` (by ESC) before.

    Paged means a message may have reached them: a page sent or being sent (or named in a burst's
    digest, ``escalation.bursts``), or one whose attempt
    Twilio did not answer (it may have delivered it), waiting for its retry or skipped since; not
    one Twilio refused (a 429 or 5xx created nothing) nor one that failed."""
    config = runtime.config
    now = runtime.now()
    name = config.staff[staff_id].name if staff_id in config.staff else staff_id
    created = []
    with runtime.store.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        paged = session.scalars(select(Page.staff_id).where(
            Page.ticket_id == ticket_id, Page.kind.in_(("page", "final")),
            or_(Page.state.in_(("sending", "sent", "bundled")),  # bundled: named in a digest that went out
                and_(Page.state.in_(("claimed", "skipped")), Page.unanswered_at.is_not(None)))).distinct()).all()
        body = page_text.notice_body(status, ticket, config.ticket_prefix, name)
        for other in sorted(set(paged) - {staff_id}):
            if other not in config.staff:
                continue
            row_key = f"{status}:{other}" + (f":{reopened}" if reopened else "")
            try:
                with session.begin_nested():
                    exists = session.scalar(select(Page.id).where(Page.ticket_id == ticket_id, Page.key == row_key))
                    if exists is None:
                        row = Page(ticket_id=ticket_id, key=row_key, kind="ack_notice", staff_id=other, channel="sms",
                                   to=config.staff[other].mobile, body=body, created_at=now)
                        session.add(row)
                        session.flush()
                        created.append(row.id)
            except IntegrityError:
                continue
        if created:
            add_event(ticket, "others_notified", now, about=status, by=staff_id, staff=sorted(set(paged) - {staff_id}))
    for page_id in created:
        delivery.send(runtime, page_id)


@dataclass(frozen=True)
class Escalated:
    """What an ESC did: ``outcome`` ``queued``, ``resolved`` (nothing to escalate) or ``done`` (every
    step was paged already); the people the next step pages besides the sender (``others``), and
    whether it pages only the sender again (``only_you``)."""

    outcome: str
    others: tuple[Staff, ...] = ()
    only_you: bool = False


def escalate_on_request(runtime: Runtime, ticket_id: int, staff_id: str, request_id: str, via: str) -> Escalated:
    """ESC, saying who the next step pages: :func:`_escalate`, with the people read before it runs."""
    following = steps.who_is_next(runtime, ticket_id)
    outcome = _escalate(runtime, ticket_id, staff_id, request_id, via)
    return Escalated(outcome, tuple(p for p in following if p.id != staff_id),
                     outcome == "queued" and bool(following) and all(p.id == staff_id for p in following))


def _escalate(runtime: Runtime, ticket_id: int, staff_id: str, request_id: str, via: str) -> str:
    """ESC from ``staff_id`` (``via`` sms, or voice: 5 on a voice page): page the policy's next step
    now. A ticket they had acknowledged goes back to ``new`` (``reopened`` on its timeline) and is no
    longer theirs, and a stopped policy restarts from where it was
    (``policy.reopen``). ``request_id`` names the request (the SMS's id): one job per request, and two
    for one position run it once (``steps.advance`` decides).

    Returns ``queued``, ``resolved`` (nothing to escalate) or ``done`` (every step was paged already).
    """
    now = runtime.now()
    with runtime.store.transaction() as session:
        ticket = get_locked(session, Ticket, ticket_id)  # not interleaved with an ACK or a running step
        if ticket.status in CLOSED_STATUSES:
            return "resolved"
        state = session.get(Escalation, ticket_id)
        if state is None:
            session.add(policy.begin_now(runtime.config, ticket_id, now))
            position = 0
        else:
            position = state.next_position
            if position > policy.final_position(runtime.config):
                return "done"
            if state.finished_at is not None:
                policy.reopen(runtime.config, state, now)
        if ticket.status == "waiting":  # any status change ends a wait on the caller
            lifecycle.end_wait(session, runtime, ticket, now, "escalated")
        if ticket.status == "acknowledged":
            ticket.status = "new"
            changes.record(session, ticket, "reopened", now, by=staff_id, via=via)
            if ticket.owner == staff_id:
                lifecycle.set_owner(session, runtime, ticket, now, None, staff_id, via)
        step = jobs.enqueue_after_commit(session, steps.escalate_now, ticket_id, position, f"ESC from {staff_id}",
                                         key=f"{ticket_id}-{position}-esc-{request_id}", now=now, claim=True)
    step(runtime)
    return "queued"
