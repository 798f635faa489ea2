"""A P1 ticket's escalation policy: who is paged, when, and when it stops.

Step s of round r is due ``after_minutes`` of that step after the round began; round
0 begins at the first page. The policy repeats ``oncall.repeat`` times: each round
begins as long after the previous round's last step as that step came after the one
before it (5 minutes when every step is at once). After the last round, the ticket is
marked ``unacknowledged`` on its timeline and the managers get a final notice.

Timers are RQ jobs scheduled for each position's due time under deterministic ids;
the database decides: a position runs only for the process whose compare-and-set
moves ``Escalation.next_position`` past it, and never once the ticket is acknowledged
or resolved. A step that can reach nobody any more (every page of it failed, undelivered,
unanswered, answered by a machine or with no key pressed) forces the next position at once
(``delivery.escalate_after``), and so does ESC.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.db import get_locked, insert_now
from core.models import Ticket, TimelineEvent
from dispatch import delivery, outbox, rotation, sms_text, timers
from dispatch.paging_models import Escalation, Page
from dispatch.timeline import add_event

log = logging.getLogger(__name__)
ALL_AT_ONCE_GAP_MINUTES = 5
NOTIFY_JOB = "dispatch.jobs.notify_others"


def round_minutes(config) -> int:
    minutes = [step.after_minutes for step in config.escalation]
    gaps = [b - a for a, b in zip(minutes, minutes[1:]) if b > a]
    return minutes[-1] + (gaps[-1] if gaps else ALL_AT_ONCE_GAP_MINUTES)


def final_position(config) -> int:
    return len(config.escalation) * (config.escalation_repeat + 1)


def due_at(config, started_at: datetime, position: int) -> datetime:
    rounds, step = divmod(position, len(config.escalation))
    minutes = rounds * round_minutes(config)
    if position < final_position(config):
        minutes += config.escalation[step].after_minutes
    return started_at + timedelta(minutes=minutes)


def begin_now(config, ticket_id: int, now) -> Escalation:
    """A policy beginning at ``now`` with its first position; ``next_due_at`` is what the recovery
    sweep watches, should the job that runs that position be lost."""
    return Escalation(ticket_id=ticket_id, started_at=now, next_position=0, next_due_at=due_at(config, now, 0))


def reopen(config, escalation: Escalation, now) -> None:
    """Restart a policy an ACK or RES stopped, for ESC: its next position goes on as if the position
    before it had just run (so ESC brings it forward, as on a running policy), the later ones at
    their usual spacing from there.

    Left on the old schedule, every position that fell due while the policy was stopped would run
    at once: a page to each level within the second.
    """
    position = escalation.next_position
    ran_last = due_at(config, escalation.started_at, position - 1) if position > 0 else escalation.started_at
    escalation.started_at = now - (ran_last - escalation.started_at)
    escalation.next_due_at = due_at(config, escalation.started_at, position)
    escalation.finished_at = escalation.outcome = None


def start(runtime, ticket_id: int) -> None:
    """Begin the policy for ``ticket_id`` (once; a second call only catches up on what is due)."""
    advance(runtime, ticket_id, begin=True)


def advance(runtime, ticket_id: int, force_position: int | None = None, reason: str | None = None,
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
                    pages = _claim(session, runtime, ticket, position, now, reason if due > now else None)
                if position == last:
                    escalation.finished_at, escalation.outcome = now, "unacknowledged"
        except IntegrityError:
            clashes += 1  # another worker began the same policy at the same moment: read its row
            if clashes > 3:  # not that, then, but a row this step can never insert: fail the job, loudly
                raise
            continue
        # The pages first, then their timers: a page is what someone waits for. A worker dying in
        # between loses no step: its pages are taken over and an overdue step is swept
        # (dispatch.recovery).
        for page in sorted(pages, key=lambda p: p.channel != "sms"):
            delivery.send_claimed(runtime, page)
        deadline = now + timedelta(minutes=config.delivery_deadline_minutes)
        timers.at_many(runtime, ([(following, "escalate", (ticket_id, position + 1),
                                   f"escalate-{ticket_id}-{position + 1}")] if following else [])
                       + [(deadline, "check_delivery", (page.id,), f"check-page-{page.id}") for page in pages])
        if position == last:
            return
        if pages:
            if following > runtime.now():
                return  # the next position's timer is set (above): nothing more is due yet
            force_position = reason = None
        else:
            force_position, reason = position + 1, "nobody to notify at the step before"
    timers.at(runtime, due, "escalate", ticket_id, position, job_id=f"escalate-{ticket_id}-{position}")


def _claim(session, runtime, ticket: Ticket, position: int, now, early: str | None) -> list[Page]:
    """Insert the page rows of ``position``, already ``sending`` (this process owns them; a concurrent
    claim of the same rows fails on their key), and note the step on the timeline."""
    config = runtime.config
    prefix = config.ticket_prefix
    if position == final_position(config):
        people = [config.staff[m] for m in config.managers]
        add_event(ticket, "unacknowledged", now, rounds=config.escalation_repeat + 1,
                  **({"early_because": early} if early else {}))
        rows = [Page(ticket_id=ticket.id, key=f"final:{p.id}", kind="final", position=position, staff_id=p.id,
                     channel="sms", to=p.mobile, body=sms_text.final_body(ticket, prefix), created_at=now,
                     state="sending", attempts=1, sender=runtime.process_name, sending_at=now)
                for p in people]
    else:
        rounds, index = divmod(position, len(config.escalation))
        step = config.escalation[index]
        people = recipients(session, config, step.notify, now)
        body = sms_text.page_body(ticket, prefix, repeat=rounds > 0) if step.channel == "sms" else None
        rows = [Page(ticket_id=ticket.id, key=f"p{position}:{p.id}", kind="page", position=position, staff_id=p.id,
                     channel=step.channel, to=p.mobile, body=body, created_at=now, state="sending", attempts=1,
                     sender=runtime.process_name, sending_at=now)
                for p in people]
        add_event(ticket, "escalation_step", now, round=rounds + 1, step=index + 1, notify=step.notify,
                  channel=step.channel, staff=[p.id for p in people],
                  **({"early_because": early} if early else {}))
    return [insert_now(session, row) for row in rows]


def recipients(session, config, notify: str, at: datetime) -> list:
    if notify in config.staff:
        return [config.staff[notify]]
    who = rotation.on_call(config, rotation.overrides_near(session, at), at)
    if notify == "primary":
        return [who.primary]
    if notify == "secondary":
        return [who.secondary] if who.secondary else []
    return list(who.managers)


def escalate_now(runtime, ticket_id: int, position: int, reason: str) -> None:
    """Run ``position`` now if it is still the next one (a later position already ran: nothing to do)."""
    advance(runtime, ticket_id, force_position=position, reason=reason)


def set_status(runtime, ticket_id: int, status: str, staff_id: str, via: str) -> tuple[str, str | None]:
    """Acknowledge or resolve a ticket for ``staff_id``; stops its escalation.

    Returns (outcome, name): ``done``; ``taken`` with who acknowledged it first;
    ``resolved`` when it already was; ``missing`` when there is no such ticket.
    The notice to the others goes through the outbox, so Redis being away delays it, never loses it.
    """
    now = runtime.now()
    with runtime.store.transaction() as session:
        ticket = get_locked(session, Ticket, ticket_id)  # two ACKs at once: the second one is "taken"
        if ticket is None:
            return "missing", None
        if ticket.status == "resolved":
            return "resolved", None
        if status == "acknowledged" and ticket.status == "acknowledged":
            return "taken", acknowledged_by(session, runtime.config, ticket_id)
        ticket.status = status
        add_event(ticket, status, now, by=staff_id, via=via)
        escalation = session.get(Escalation, ticket_id)
        if escalation is not None and escalation.finished_at is None:
            escalation.finished_at, escalation.outcome = now, status
        # Each time an ESC reopened the ticket, a new ACK or RES is news to everyone paged again.
        reopened = session.scalar(select(func.count()).select_from(TimelineEvent).where(
            TimelineEvent.ticket_id == ticket_id, TimelineEvent.event == "reopened"))
        generation = [reopened] if reopened else []
        notice = outbox.add_claimed(session, NOTIFY_JOB, [ticket_id, status, staff_id, *generation],
                                    key="-".join(map(str, ["notify", status, ticket_id, *generation])),
                                    queue=timers.QUEUE, now=now)
    notice(runtime)
    return "done", None


def acknowledged_by(session, config, ticket_id: int) -> str | None:
    """The name of whoever acknowledged the ticket (its timeline says), if staff."""
    detail = session.scalar(select(TimelineEvent.detail).where(
        TimelineEvent.ticket_id == ticket_id, TimelineEvent.event == "acknowledged")
        .order_by(TimelineEvent.id.desc()).limit(1))
    person = config.staff.get((detail or {}).get("by"))
    return person.name if person else None


def notify_others(runtime, ticket_id: int, status: str, staff_id: str, reopened: int = 0) -> None:
    """Tell everyone else who was paged about the ticket that ``staff_id`` took (or resolved) it,
    once per person for each time the ticket was ``reopened`` (by ESC) before.

    Paged means a message may have reached them: a page sent or being sent, or one whose attempt
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
            or_(Page.state.in_(("sending", "sent")),
                and_(Page.state.in_(("claimed", "skipped")), Page.unanswered_at.is_not(None)))).distinct()).all()
        body = sms_text.notice_body(status, ticket, config.ticket_prefix, name)
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
