"""Running a P1 ticket's escalation policy: who is paged at each step, and when it stops.

Its RQ jobs (plain functions taking ids, safe to run twice) are ``page_ticket``,
``escalate``, ``escalate_now`` and ``send_transcript`` (the caller's first words, to whoever
was paged before the transcription came).

Timers are RQ jobs scheduled for each position's due time (``policy.due_at``); the
database decides: a position runs only for the process whose compare-and-set moves
``Escalation.next_position`` past it, and never once the ticket is acknowledged or
resolved. A step that can reach nobody any more (every page of it failed, undelivered,
unanswered, answered by a machine or with no key pressed) forces the next position at once
(``notification.delivery.escalate_after``), and so does ESC. After the last round, the
ticket is marked ``unacknowledged`` on its timeline and the managers get a final notice.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.config import Config, Staff
from core.db import get_locked, insert_now
from dispatch import jobs, oncall
from dispatch.escalation import bursts, page_text
from dispatch.escalation.models import Escalation
from dispatch.escalation.policy import begin_now, due_at, final_position
from dispatch.notification import delivery
from dispatch.notification.gsm7 import gsm7
from dispatch.notification.models import Page
from dispatch.runtime import Runtime, current
from dispatch.tickets.models import CLOSED_STATUSES, Ticket, TimelineEvent
from dispatch.tickets.timeline import add_event

log = logging.getLogger(__name__)


def page_ticket(ticket_id: int) -> None:
    """Job: a P1 ticket was stored; start its escalation policy (its first step now, or at its time)."""
    start(current(), ticket_id)


def escalate(ticket_id: int, position: int) -> None:
    """Job: the timer of ``position``; run whatever of the policy is due by now."""
    advance(current(), ticket_id)


def escalate_now(ticket_id: int, position: int, reason: str = "") -> None:
    """Job: the step before ``position`` reached nobody, or ESC was sent; run ``position`` now if it is
    still the next one (a later position already ran: nothing to do)."""
    advance(current(), ticket_id, force_position=position, reason=reason or "requested")


def start(runtime: Runtime, ticket_id: int) -> None:
    """Begin the policy for ``ticket_id`` (once; a second call only catches up on what is due)."""
    advance(runtime, ticket_id, begin=True)


def advance(runtime: Runtime, ticket_id: int, force_position: int | None = None, reason: str | None = None,
            begin: bool = False) -> None:
    """Run every position that is due (and ``force_position``, early because of ``reason``, if it is
    the next one); schedule the rest. ``begin`` starts the policy if it has not started."""
    config = runtime.config
    last = final_position(config)
    clashes = 0
    while True:
        now = runtime.now()
        try:
            with runtime.store.transaction() as session:
                # The ticket first, locked: an ACK committing now must not find this step half-taken
                # (nor this step miss the ACK), and another worker's advance waits its turn.
                ticket = get_locked(session, Ticket, ticket_id)
                escalation = session.get(Escalation, ticket_id)
                if ticket is None:
                    log.warning("escalation for ticket %s, which does not exist", ticket_id)
                    return
                fresh = escalation is None
                if fresh:
                    if not begin:
                        return
                    escalation = begin_now(config, ticket_id, now)
                    session.add(escalation)
                if escalation.finished_at is not None:
                    return
                if ticket.status != "new":
                    escalation.finished_at, escalation.outcome = now, ticket.status
                    return
                position = escalation.next_position
                if position > last:
                    return
                due = due_at(config, escalation.started_at, position)
                if due > now and force_position != position:
                    break
                following = due_at(config, escalation.started_at, position + 1) if position < last else None
                if fresh:  # inserting the row claims the position: a concurrent insert fails on the key
                    escalation.next_position, escalation.next_due_at = position + 1, following
                elif not session.execute(update(Escalation).where(
                        Escalation.ticket_id == ticket_id, Escalation.next_position == position).values(
                        next_position=position + 1, next_due_at=following)).rowcount:
                    continue
                with session.no_autoflush:  # choosing the people reads nothing pending: one flush at commit
                    pages, digests = _claim(session, runtime, ticket, position, now,
                                            reason if due > now else None)
                if position == last:
                    escalation.finished_at, escalation.outcome = now, "unacknowledged"
        except IntegrityError:
            clashes += 1  # another worker began the same policy at the same moment: read its row
            if clashes > 3:  # not that, then, but a row this step can never insert: fail the job, loudly
                raise
            continue
        # The pages first, then their timers: a page is what someone waits for. A worker dying in
        # between loses no step: its pages are taken over and an overdue step is swept
        # (dispatch.notification.recovery, dispatch.escalation.recovery).
        held = [page for page in pages if page.state == "held"]  # a burst's: one digest SMS later
        pages = [page for page in pages if page.state != "held"]
        for page in sorted(pages, key=lambda p: p.channel != "sms"):
            delivery.send_claimed(runtime, page)
        deadline = now + timedelta(minutes=config.delivery_deadline_minutes)
        jobs.enqueue_many(runtime, ([(following, escalate, (ticket_id, position + 1))] if following else [])
                          + [(deadline, delivery.check_delivery, (page.id,)) for page in pages])
        bursts.schedule(runtime, digests)
        if position == last:
            return
        if pages or held:
            if following > runtime.now():
                return  # the next position's timer is set (above): nothing more is due yet
            force_position = reason = None
        else:
            force_position, reason = position + 1, "nobody to notify at the step before"
    jobs.enqueue(runtime, escalate, ticket_id, position, at=due)


def _claim(session, runtime: Runtime, ticket: Ticket, position: int, now, early: str | None
           ) -> tuple[list[Page], list]:
    """Insert the page rows of ``position``, already ``sending`` (this process owns them; a concurrent
    claim of the same rows fails on their key), and note the step on the timeline. Returns the rows,
    and the burst digests that SMS rows held back wait for (``bursts``)."""
    digests = []
    config = runtime.config
    prefix = config.ticket_prefix
    if position == final_position(config):
        people = [config.staff[m] for m in config.managers]
        add_event(ticket, "unacknowledged", now, rounds=config.escalation_repeat + 1,
                  **({"early_because": early} if early else {}))
        rows = [Page(ticket_id=ticket.id, key=f"final:{p.id}", kind="final", position=position, staff_id=p.id,
                     channel="sms", to=p.mobile, body=page_text.final_body(ticket, prefix), created_at=now,
                     state="sending", attempts=1, sender=runtime.process_name, sending_at=now)
                for p in people]
    else:
        rounds, index = divmod(position, len(config.escalation))
        step = config.escalation[index]
        people = recipients(session, config, step.notify, now)
        rows = [Page(ticket_id=ticket.id, key=f"p{position}:{p.id}", kind="page", position=position, staff_id=p.id,
                     channel=step.channel, to=p.mobile, created_at=now, state="sending", attempts=1,
                     body=page_text.page_body(ticket, prefix, nth=_pages_to(session, ticket.id, p.id) + 1)
                     if step.channel == "sms" else None,
                     sender=runtime.process_name, sending_at=now)
                for p in people]
        digests = bursts.hold(session, config, ticket.id, rows, now)
        add_event(ticket, "escalation_step", now, round=rounds + 1, step=index + 1, notify=step.notify,
                  channel=step.channel, staff=[p.id for p in people],
                  **({"early_because": early} if early else {}))
    return [insert_now(session, row) for row in rows], digests


def _pages_to(session, ticket_id: int, staff_id: str) -> int:
    """How many pages of the ticket's policy went to ``staff_id`` before: the next says it is the 2nd, 3rd..."""
    return session.scalar(select(func.count()).select_from(Page).where(
        Page.ticket_id == ticket_id, Page.staff_id == staff_id, Page.kind == "page"))


def who_is_next(runtime: Runtime, ticket_id: int) -> list[Staff]:
    """Who the ticket's next escalation position pages (ESC says it): nobody when none is left."""
    config = runtime.config
    now = runtime.now()
    with runtime.store.reading() as session:
        escalation = session.get(Escalation, ticket_id)
        position = 0 if escalation is None else escalation.next_position
        if position > final_position(config):
            return []
        if position == final_position(config):
            return [config.staff[m] for m in config.managers]
        step = config.escalation[position % len(config.escalation)]
        return recipients(session, config, step.notify, now)


def recipients(session, config: Config, notify: str, at: datetime) -> list[Staff]:
    if notify in config.staff:
        return [config.staff[notify]]
    who = oncall.on_call(config, oncall.overrides_near(session, at), at)
    if notify == "primary":
        return [who.primary]
    if notify == "secondary":
        return [who.secondary] if who.secondary else []
    return list(who.managers)


def page_reached_nobody(runtime: Runtime, page: Page, reason: str) -> None:
    """``page``, of a policy step, reached nobody: run the next step now, unless another page of its
    step (the managers, say) may still reach someone. Each page that fails commits before it looks,
    so the last of a step's pages to fail always sees the others failed."""
    with runtime.store.reading() as session:
        others_alive = session.scalar(select(Page.id).where(
            Page.ticket_id == page.ticket_id, Page.kind == "page", Page.position == page.position,
            Page.id != page.id, Page.state.in_(("claimed", "sending", "sent")), Page.answered_by.is_(None),
            or_(Page.delivery.is_(None), Page.delivery.not_in(delivery.REACHED_NOBODY))).limit(1))
    if others_alive is not None:
        return
    jobs.enqueue(runtime, escalate_now, page.ticket_id, page.position + 1, f"{page.staff_id}: {reason}",
                 key=f"{page.ticket_id}-{page.position + 1}")


def send_transcript(ticket_id: int) -> None:
    """Job: the transcription came after the ticket's first SMS page went out; text its first words
    to everyone paged by SMS who has not read them (once the ticket is taken, only to who took it)."""
    transcript_to_those_paged(current(), ticket_id)


def transcript_to_those_paged(runtime: Runtime, ticket_id: int) -> None:
    config = runtime.config
    now = runtime.now()
    created = []
    try:
        with runtime.store.transaction() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or not ticket.transcript or ticket.status in CLOSED_STATUSES:
                return
            start = f'"{gsm7(ticket.transcript)[:12]}'  # a page that quoted the transcript has read its start
            pages = session.scalars(select(Page).where(
                Page.ticket_id == ticket_id, Page.kind.in_(("page", "final")), Page.channel == "sms",
                Page.state.in_(("sending", "sent"))).order_by(Page.id)).all()
            unread = {p.staff_id for p in pages} - {p.staff_id for p in pages if start in (p.body or "")}
            if ticket.status != "new":
                taker = _taker(session, ticket_id)
                unread &= {taker} if taker else set()
            body = page_text.transcript_body(ticket, config.ticket_prefix, taken=ticket.status != "new")
            for staff_id in sorted(unread):
                if staff_id not in config.staff:
                    continue
                key = f"transcript:{staff_id}"
                if session.scalar(select(Page.id).where(Page.ticket_id == ticket_id, Page.key == key)) is not None:
                    continue
                row = Page(ticket_id=ticket_id, key=key, kind="transcript", staff_id=staff_id, channel="sms",
                           to=config.staff[staff_id].mobile, body=body, created_at=now)
                session.add(row)
                session.flush()
                created.append(row.id)
    except IntegrityError:
        return  # the same job, run twice at once: the other run made the rows and sends them
    for page_id in created:
        delivery.send(runtime, page_id)


def _taker(session, ticket_id: int) -> str | None:
    """The staff id that acknowledged the ticket last, as its timeline says."""
    detail = session.scalar(select(TimelineEvent.detail).where(
        TimelineEvent.ticket_id == ticket_id, TimelineEvent.event == "acknowledged")
        .order_by(TimelineEvent.id.desc()).limit(1))
    return (detail or {}).get("by")
