"""Delivering hand-off events: each to each destination, in order, once, retried for a day.

A delivery moves ``pending -> sending -> delivered``; a failed attempt puts it back to
``pending`` with its next time (``BACKOFF``), until a day after the change, when it is
``failed``. A webhook that answers 410 is disabled (stored, so it stays so across restarts)
and gets nothing more. Only the process whose ``UPDATE … WHERE state = 'pending'`` won may
send, so duplicate jobs and concurrent workers never send an event twice; a process that
dies mid-send leaves its delivery ``sending``, which the sweep gives back after
``STALE_AFTER`` (the receiver may then get that event a second time, with the same id and
Message-ID, which is what they are for).

Order: a ticket's changes reach a destination in the order they happened; a delivery waits
while an earlier one to the same destination is pending, and is sent as soon as that one is
settled. A ticket's first event waits up to ``TRANSCRIPT_WAIT`` for the voicemail's
transcript (Twilio's comes tens of seconds after the call), so the PSA's new ticket has it.

What is sent is made at the first attempt and stored (``payload``): every retry sends the
same e-mail or body, signed afresh. Its RQ jobs are ``hand_off`` and ``send_handoff``; the
worker's housekeeping runs :func:`sweep`.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.orm import aliased

from core.db import get_locked
from dispatch import jobs
from dispatch.handoff import destinations, render, transport
from dispatch.handoff.models import DisabledWebhook, HandoffAttempt, HandoffDelivery, HandoffEvent
from dispatch.handoff.transport import Outcome
from dispatch.runtime import Runtime, current
from dispatch.tickets.models import Ticket
from dispatch.tickets.timeline import add_event

log = logging.getLogger(__name__)

RETRY_FOR = timedelta(days=1)
BACKOFF = (timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=5),
           timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2),
           timedelta(hours=4), timedelta(hours=8))  # after the 1st, 2nd … failed attempt; then every 8 hours
TRANSCRIPT_WAIT = timedelta(minutes=2)
TRANSCRIPT_POLL = timedelta(seconds=10)
TRANSCRIBED_UP_TO_SECONDS = 120  # Twilio transcribes recordings up to 2 minutes
STALE_AFTER = timedelta(minutes=5)  # a delivery "sending" this long lost its worker
LATE_AFTER = timedelta(minutes=1)  # a pending delivery this far past its time lost its job
SWEEP_EVERY_SECONDS = 30.0
WAKE_AT_MOST = 200


def hand_off(event_id: int) -> None:
    """Job (from the outbox): start the deliveries of a new hand-off event."""
    start(current(), event_id)


def send_handoff(delivery_id: int) -> None:
    """Job: attempt one delivery (safe to run twice: the claim decides)."""
    attempt(current(), delivery_id)


def start(runtime: Runtime, event_id: int) -> None:
    with runtime.store.reading() as session:
        pending = session.execute(select(HandoffDelivery.id, HandoffDelivery.attempts).where(
            HandoffDelivery.event_id == event_id, HandoffDelivery.state == "pending")).all()
    for delivery_id, attempts in pending:
        _queue(runtime, delivery_id, f"{attempts}")


def _queue(runtime: Runtime, delivery_id: int, why: str, at: datetime | None = None) -> None:
    jobs.enqueue(runtime, send_handoff, delivery_id, key=f"{delivery_id}-{why}", at=at, queue=jobs.DEFAULT)


@dataclass(frozen=True)
class _Claimed:
    """What a worker that won a delivery needs to send it, outside the transaction."""

    id: int
    ticket_id: int
    attempt: int
    destination: destinations.Destination
    subject: str | None
    payload: str


def attempt(runtime: Runtime, delivery_id: int) -> None:
    """Send delivery ``delivery_id`` if it is pending, due and first in its line, then record the outcome."""
    now = runtime.now()
    follow_up: list[tuple[int, str, datetime | None]] = []
    claimed = None
    with runtime.store.transaction() as session:
        delivery = get_locked(session, HandoffDelivery, delivery_id)
        if delivery is None or delivery.state != "pending":
            return
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return  # an early copy of the job: the delivery's own timer is set
        if _waits_for_earlier(session, delivery):
            return  # the earlier one queues this one once it is settled
        handoff = runtime.config.handoff
        destination = destinations.find(handoff, delivery.destination)
        settled = None
        if destination is None:
            settled = ("dropped", "no longer in the configuration")
        elif destination.webhook is not None and session.get(DisabledWebhook, destination.key) is not None:
            settled = ("disabled", "the webhook is disabled (it answered 410 Gone)")
        if settled:
            delivery.state, delivery.last_error = settled
            follow_up += _next_in_line(session, delivery)
        else:
            event = session.get(HandoffEvent, delivery.event_id)
            ticket = session.get(Ticket, delivery.ticket_id)
            hold = _transcript_due(ticket, event, now)
            if hold is not None:
                delivery.next_attempt_at = hold
                follow_up.append((delivery.id, f"transcript-{int(hold.timestamp())}", hold))
            else:
                if delivery.payload is None:
                    _make(session, runtime, delivery, destination, event, ticket)
                delivery.state, delivery.attempts = "sending", delivery.attempts + 1
                delivery.sending_at, delivery.sender = now, runtime.process_name
                claimed = _Claimed(delivery.id, delivery.ticket_id, delivery.attempts, destination,
                                   delivery.subject, delivery.payload)
    for ident, why, at in follow_up:
        _queue(runtime, ident, why, at)
    if claimed is not None:
        _record(runtime, claimed, _send(runtime, claimed))


def _waits_for_earlier(session, delivery: HandoffDelivery) -> bool:
    return session.scalar(select(HandoffDelivery.id).where(
        HandoffDelivery.ticket_id == delivery.ticket_id, HandoffDelivery.destination == delivery.destination,
        HandoffDelivery.id < delivery.id, HandoffDelivery.state.in_(("pending", "sending"))).limit(1)) is not None


def _next_in_line(session, delivery: HandoffDelivery) -> list[tuple[int, str, None]]:
    """The delivery waiting behind ``delivery`` (now settled), to queue after the commit."""
    following = session.scalar(select(HandoffDelivery.id).where(
        HandoffDelivery.ticket_id == delivery.ticket_id, HandoffDelivery.destination == delivery.destination,
        HandoffDelivery.id > delivery.id, HandoffDelivery.state == "pending")
        .order_by(HandoffDelivery.id).limit(1))
    return [(following, f"after-{delivery.id}", None)] if following else []


def _transcript_due(ticket: Ticket, event: HandoffEvent, now: datetime) -> datetime | None:
    """When to look again for the transcript a new ticket's hand-off waits for; None to send now."""
    if event.change != "created" or ticket.transcript or not ticket.recording_sid or ticket.kind == "missed_call":
        return None
    if (ticket.recording_seconds or 0) > TRANSCRIBED_UP_TO_SECONDS:
        return None
    if any(e.event == "transcript_failed" for e in ticket.timeline):
        return None
    until = ticket.created_at + TRANSCRIPT_WAIT
    return min(until, now + TRANSCRIPT_POLL) if now < until else None


def _make(session, runtime: Runtime, delivery: HandoffDelivery, destination: destinations.Destination,
          event: HandoffEvent, ticket: Ticket) -> None:
    """Make what the delivery sends, once: the e-mail, or the webhook's body."""
    if destination.kind == "email":
        handoff = runtime.config.handoff
        root = session.scalar(select(HandoffEvent.public_id).join(
            HandoffDelivery, HandoffDelivery.event_id == HandoffEvent.id).where(
            HandoffDelivery.ticket_id == ticket.id, HandoffDelivery.destination == destinations.EMAIL)
            .order_by(HandoffDelivery.id).limit(1))
        message = render.email(runtime, event, ticket, handoff.email_to, handoff.email_from, root)
        delivery.subject = message["Subject"]
        delivery.message_id = message["Message-ID"]
        delivery.payload = message.as_bytes().decode("ascii")
    elif destination.kind == "slack":
        delivery.payload = render.slack(runtime, event, ticket)
    elif destination.kind == "teams":
        delivery.payload = render.teams(runtime, event, ticket)
    else:
        delivery.payload = render.json_event(runtime, event, ticket)


def _send(runtime: Runtime, claimed: _Claimed) -> Outcome:
    destination = claimed.destination
    if destination.kind == "email":
        handoff = runtime.config.handoff
        return transport.send_email(runtime.settings.smtp_url, handoff.email_from, list(handoff.email_to),
                                    claimed.payload.encode("ascii"), claimed.subject or "")
    hook = destination.webhook
    secret = runtime.settings.environment.get(hook.secret_env) if hook.secret_env else None
    return transport.post(hook.url, claimed.payload, secret)


def _record(runtime: Runtime, claimed: _Claimed, outcome: Outcome) -> None:
    now = runtime.now()
    follow_up: list[tuple[int, str, datetime | None]] = []
    wake = False
    label = claimed.destination.label
    with runtime.store.transaction() as session:
        delivery = get_locked(session, HandoffDelivery, claimed.id)
        if delivery is None or delivery.state != "sending" or delivery.attempts != claimed.attempt:
            return  # given back by the sweep meanwhile, and taken by another worker
        event = session.get(HandoffEvent, delivery.event_id)
        ticket = session.get(Ticket, delivery.ticket_id)
        session.add(HandoffAttempt(delivery_id=delivery.id, at=now, status=outcome.status, error=outcome.error,
                                   outcome="delivered" if outcome.ok else "gone" if outcome.gone else "failed"))
        delivery.last_status, delivery.last_error, delivery.via = outcome.status, outcome.error, outcome.via
        delivery.sending_at = None
        noted = {"to": label, "handoff": event.name, "id": event.public_id, "change": event.change}
        if outcome.ok:
            delivery.state, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
            add_event(ticket, "handoff_delivered", now, **noted, attempts=delivery.attempts,
                      **({"via": "console outbox"} if outcome.via == "console" else {}))
            follow_up += _next_in_line(session, delivery)
            wake = True
        elif outcome.gone:
            delivery.state, delivery.next_attempt_at = "disabled", None
            if session.get(DisabledWebhook, delivery.destination) is None:
                session.add(DisabledWebhook(destination=delivery.destination, label=label, disabled_at=now,
                                            reason=(outcome.error or "410 Gone")[:300]))
            add_event(ticket, "handoff_disabled", now, **noted, error=outcome.error)
            follow_up += _next_in_line(session, delivery)
        elif now >= event.at + RETRY_FOR:
            delivery.state, delivery.next_attempt_at = "failed", None
            add_event(ticket, "handoff_failed", now, **noted, attempts=delivery.attempts, error=outcome.error)
            follow_up += _next_in_line(session, delivery)
        else:
            delay = BACKOFF[min(delivery.attempts, len(BACKOFF)) - 1]
            retry_at = min(now + delay, event.at + RETRY_FOR)
            delivery.state, delivery.next_attempt_at = "pending", retry_at
            if delivery.attempts == 1:  # the first failure on the timeline; every attempt in the API
                add_event(ticket, "handoff_retrying", now, **noted, error=outcome.error, next_at=retry_at.isoformat())
            follow_up.append((delivery.id, f"{delivery.attempts}", retry_at))
    if outcome.gone:
        log.error("hand-off webhook %s answered 410 Gone: disabled, nothing more is sent to it until "
                  "`flask --app wsgi handoff enable %s`", label, claimed.destination.key)
    elif not outcome.ok:
        log.warning("hand-off of delivery %s to %s failed (attempt %s): %s", claimed.id, label, claimed.attempt,
                    outcome.error)
    for ident, why, at in follow_up:
        _queue(runtime, ident, why, at)
    if wake:
        wake_destination(runtime, claimed.destination.key)


def wake_destination(runtime: Runtime, key: str) -> int:
    """A destination took a delivery: send what waits for it after failing there before now, not at
    each one's backoff time (hours, after a long outage). Returns how many were queued."""
    now = runtime.now()
    waiting_now = (HandoffDelivery.destination == key, HandoffDelivery.state == "pending",
                   HandoffDelivery.attempts > 0, HandoffDelivery.next_attempt_at > now)
    with runtime.store.reading() as session:
        waiting = session.scalars(select(HandoffDelivery.id).where(*waiting_now)
                                  .order_by(HandoffDelivery.id).limit(WAKE_AT_MOST)).all()
    if not waiting:
        return 0
    with runtime.store.transaction() as session:
        session.execute(update(HandoffDelivery).where(HandoffDelivery.id.in_(waiting), *waiting_now)
                        .values(next_attempt_at=now))
    for delivery_id in waiting:
        _queue(runtime, delivery_id, f"wake-{int(now.timestamp())}")
    return len(waiting)


def sweep(runtime: Runtime) -> int:
    """Pick up what lost its job: deliveries left ``sending`` by a dead worker, and pending ones well
    past their time whose timer Redis lost. Returns how many were queued."""
    now = runtime.now()
    earlier = aliased(HandoffDelivery)
    first_in_line = ~exists().where(and_(
        earlier.ticket_id == HandoffDelivery.ticket_id, earlier.destination == HandoffDelivery.destination,
        earlier.id < HandoffDelivery.id, earlier.state.in_(("pending", "sending"))))
    with runtime.store.reading() as session:
        stale = session.scalars(select(HandoffDelivery.id).where(
            HandoffDelivery.state == "sending", HandoffDelivery.sending_at < now - STALE_AFTER).limit(100)).all()
        late = session.execute(select(HandoffDelivery.id, HandoffDelivery.attempts).where(
            HandoffDelivery.state == "pending", HandoffDelivery.next_attempt_at < now - LATE_AFTER, first_in_line)
            .order_by(HandoffDelivery.id).limit(100)).all()
    if stale:
        with runtime.store.transaction() as session:
            session.execute(update(HandoffDelivery).where(
                HandoffDelivery.id.in_(stale), HandoffDelivery.state == "sending",
                HandoffDelivery.sending_at < now - STALE_AFTER).values(state="pending", next_attempt_at=now,
                                                                       sending_at=None))
        log.warning("hand-off deliveries %s were left sending by a worker that stopped: sent again", stale)
    stamp = int(now.timestamp())
    for delivery_id in stale:
        _queue(runtime, delivery_id, f"resumed-{stamp}")
    for delivery_id, attempts in late:
        _queue(runtime, delivery_id, f"{attempts}-late-{stamp}")
    return len(stale) + len(late)


_last_sweep: dict[int, float] = {}


def sweep_now_and_then(runtime: Runtime) -> None:
    """The worker's housekeeping: :func:`sweep` every ``SWEEP_EVERY_SECONDS``, not every round."""
    if time.monotonic() - _last_sweep.get(id(runtime), float("-inf")) < SWEEP_EVERY_SECONDS:
        return
    _last_sweep[id(runtime)] = time.monotonic()
    sweep(runtime)


def disabled_webhooks(runtime: Runtime) -> list[DisabledWebhook]:
    with runtime.store.reading() as session:
        return list(session.scalars(select(DisabledWebhook).order_by(DisabledWebhook.disabled_at)))


def enable_webhook(runtime: Runtime, key: str) -> bool:
    """Send to a webhook disabled by a 410 again (from the next change on); returns whether it was disabled."""
    with runtime.store.transaction() as session:
        return session.execute(delete(DisabledWebhook).where(DisabledWebhook.destination == key)).rowcount > 0


@dataclass(frozen=True)
class DeliveryRecord:
    delivery: HandoffDelivery
    attempts: list[HandoffAttempt]


def history(runtime: Runtime, ticket_id: int) -> list[tuple[HandoffEvent, list[DeliveryRecord]]]:
    """A ticket's hand-off events, oldest first, each with its deliveries and their attempts."""
    with runtime.store.reading() as session:
        events = session.scalars(select(HandoffEvent).where(HandoffEvent.ticket_id == ticket_id)
                                 .order_by(HandoffEvent.id)).all()
        deliveries = session.scalars(select(HandoffDelivery).where(HandoffDelivery.ticket_id == ticket_id)
                                     .order_by(HandoffDelivery.id)).all()
        attempts = session.scalars(select(HandoffAttempt).join(
            HandoffDelivery, HandoffDelivery.id == HandoffAttempt.delivery_id).where(
            HandoffDelivery.ticket_id == ticket_id).order_by(HandoffAttempt.id)).all()
    by_delivery: dict[int, list[HandoffAttempt]] = {}
    for row in attempts:
        by_delivery.setdefault(row.delivery_id, []).append(row)
    by_event: dict[int, list[DeliveryRecord]] = {}
    for row in deliveries:
        by_event.setdefault(row.event_id, []).append(DeliveryRecord(row, by_delivery.get(row.id, [])))
    return [(event, by_event.get(event.id, [])) for event in events]
