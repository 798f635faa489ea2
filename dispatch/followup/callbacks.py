"""The call-back list, and its morning digest to the desk's staff.

A caller awaits a call back while their ticket is ``new`` and nobody has responded (an
ACK, a status change or a CALL meets the response): soonest ``response_due`` first, then
the oldest. At opening time on each business day the staff (``followup.digest_to``, else
everyone in ``[[staff]]``) get one text: how many wait and the three most urgent. A day is
claimed by inserting its ``morning_digests`` row, so two workers send it once.

Other channels (e-mail) subscribe with :func:`subscribe`: each listener is called with
``(session, day, tickets)`` in the transaction that claims the day, to queue its own work.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core import hours
from dispatch.followup import outgoing, texts
from dispatch.followup.models import MorningDigest
from dispatch.runtime import Runtime
from dispatch.sla import targets
from dispatch.tickets.models import Ticket
from dispatch.tickets.timeline import add_event

DIGEST_ITEMS = 3

Listener = Callable[[object, object, list], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    """Have ``listener(session, day, tickets)`` called with each morning's call-backs, most urgent first."""
    if listener not in _listeners:
        _listeners.append(listener)


def _awaiting():
    return (Ticket.status == "new", Ticket.responded_at.is_(None), Ticket.kind != "verification")


def waiting(session, limit: int | None = None, timeline: bool = False, offset: int = 0) -> list[Ticket]:
    """Open tickets whose caller awaits a call back, soonest due first (none due: oldest first);
    ``limit`` of them from the ``offset``-th on, when given."""
    query = (select(Ticket).where(*_awaiting())
             .order_by(Ticket.response_due.is_(None), Ticket.response_due, Ticket.id))
    if timeline:
        query = query.options(selectinload(Ticket.timeline))
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(session.scalars(query).unique())


def count_waiting(session) -> int:
    """How many callers await a call back."""
    return session.scalar(select(func.count()).select_from(Ticket).where(*_awaiting()))


def left(ticket: Ticket, now: datetime) -> timedelta | None:
    """How long is left until the ticket's response is due (negative: overdue); None without a target."""
    return ticket.response_due - now if ticket.response_due is not None else None


@dataclass(frozen=True)
class Countdown:
    """Where a waiting caller's call back stands: how long is left until the response is due (None
    without a target), whether its service-level warning went out, whether it is overdue."""

    left: timedelta | None
    warned: bool
    breached: bool


def countdown(ticket: Ticket, now: datetime) -> Countdown:
    remaining = left(ticket, now)
    sent = ticket.sla_alerts or 0
    breached = (remaining is not None and remaining <= timedelta(0)) or bool(
        sent & targets.BITS[(targets.RESPONSE, targets.BREACH)])
    return Countdown(remaining, bool(sent & targets.BITS[(targets.RESPONSE, targets.WARNING)]), breached)


def send_digest(runtime: Runtime) -> bool:
    """The morning digest, if the desk is open, today's has not gone out, and this process gets
    to claim the day; returns whether it claimed it."""
    config, now = runtime.config, runtime.now()
    if not hours.is_open(config, now):
        return False
    day = now.astimezone(config.timezone).date()
    with runtime.store.reading() as session:
        if session.get(MorningDigest, day) is not None:
            return False
    handovers = []
    try:
        with runtime.store.transaction() as session:
            found = waiting(session)
            session.add(MorningDigest(day=day, sent_at=now, waiting=len(found)))
            session.flush()  # the day's row claims it: a second worker fails here
            for listener in _listeners:
                listener(session, day, found)
            if found:
                body = _body(config, found, now)
                head = found[0]
                people = [config.staff[s] for s in config.followup.digest_to] if config.followup.digest_to is not None \
                    else list(config.staff.values())
                add_event(head, "digest", now, waiting=len(found), staff=[p.id for p in people])
                handovers = [h for p in people
                             if (h := outgoing.to_staff(session, head, "digest", f"digest:{day.isoformat()}", p, body,
                                                        now))]
    except IntegrityError:
        return False
    for hand_over in handovers:
        hand_over(runtime)
    return True


def _body(config, found: list[Ticket], now: datetime) -> str:
    items = []
    for ticket in found[:DIGEST_ITEMS]:
        remaining = left(ticket, now)
        if remaining is None:
            when = texts.say("digest_no_target")
        elif remaining.total_seconds() <= 0:
            when = texts.say("digest_overdue")
        else:
            when = texts.say("digest_left", when=texts.local_time(config, ticket.response_due, now))
        items.append(texts.say("sms_digest_item", number=texts.number(config, ticket), who=texts.who(ticket),
                               left=when))
    key = "sms_digest_one" if len(found) == 1 else "sms_digest"
    return texts.say(key, count=len(found), items="; ".join(items))
