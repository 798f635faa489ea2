"""The call log: every inbound call, its outcome, and its ticket when it has one.

One row per call, written when Twilio reports the call over (its status callback), off the
caller's path: the webhooks along the way only leave hints (the desk took it, the caller
heard a ticket's status) where they already keep the call's state, and the call's tickets
(voicemail, missed call, verification) are found by their source keys. A call from the
number of a ticket that waits on its caller ends that wait.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from core import phones
from dispatch import directory
from dispatch.calls.models import CallLog
from dispatch.followup import actions, lifecycle
from dispatch.runtime import Runtime
from dispatch.tickets.models import Ticket

# Most telling first: what a call that did several things is logged as.
OUTCOMES = ("desk", "oncall", "voicemail", "missed", "verification", "status", "abandoned")


@dataclass(frozen=True)
class CallEnd:
    """What is known of an inbound call once it is over."""

    sid: str
    caller_raw: str | None
    seconds: int | None
    desk: bool = False  # a person at the desk took it
    oncall: bool = False  # the on-call technician took it live
    status: bool = False  # the caller heard a ticket's status
    language: str | None = None


def outcome_of(end: CallEnd, ticket) -> str:
    found = {"desk": end.desk, "oncall": end.oncall, "status": end.status,
             "voicemail": ticket is not None and ticket.kind in ("voicemail", "emergency_voicemail"),
             "missed": ticket is not None and ticket.kind == "missed_call",
             "verification": ticket is not None and ticket.kind == "verification"}
    return next((o for o in OUTCOMES if found.get(o)), "abandoned")


def record(runtime: Runtime, end: CallEnd) -> None:
    """Log the call (again, if Twilio repeats its callback: the row is brought up to date).

    What the row says is read first, outside the write lock (on SQLite one for the whole
    database, which every webhook of every call waits for); the write is one statement."""
    now = runtime.now()
    caller = phones.caller_id(end.caller_raw, runtime.config.region)
    known = caller != phones.ANONYMOUS
    with runtime.store.reading() as session:
        found = session.execute(select(Ticket.id, Ticket.kind, Ticket.client_id).where(
            Ticket.source_key.in_((f"call:{end.sid}", f"verification:{end.sid}")))).all()
        ticket = min(found, key=lambda t: t.kind == "verification", default=None)  # the call's own ticket first
        client_id = ticket.client_id if ticket is not None else None
        if client_id is None and known:
            client = directory.match_caller(session, caller)[0]
            client_id = client.id if client is not None else None
        waiting = session.scalars(select(Ticket.id).where(Ticket.caller == caller, Ticket.status == "waiting")
                                  ).all() if known else []
    values = {"caller": caller, "client_id": client_id, "seconds": end.seconds, "language": end.language or "en",
              "outcome": outcome_of(end, ticket), "ticket_id": ticket.id if ticket is not None else None}
    try:
        with runtime.store.transaction() as session:
            session.execute(insert(CallLog.__table__).values(
                sid=end.sid, started_at=now - timedelta(seconds=end.seconds or 0), **values))
    except IntegrityError:  # logged already: Twilio sent the callback again
        with runtime.store.transaction() as session:
            session.execute(update(CallLog.__table__).where(CallLog.__table__.c.sid == end.sid).values(**values))
    for ticket_id in waiting:  # a call from the caller of a ticket that waits on them ends the wait
        actions.act(runtime, ticket_id, lifecycle.end_wait, "the caller called", call=end.sid)


def recent(session, since=None, limit: int = 100) -> list[CallLog]:
    """Calls newest first (those started at or after ``since``)."""
    query = select(CallLog).order_by(CallLog.started_at.desc(), CallLog.id.desc()).limit(limit)
    if since is not None:
        query = query.where(CallLog.started_at >= since)
    return list(session.scalars(query))


def started_between(session, start, end, limit: int, outcome: str | None = None,
                    after: CallLog | None = None) -> list[CallLog]:
    """Calls started from ``start`` to ``end`` (excluded), newest first, ``limit`` of them, those
    older than ``after`` (the last one of the page before) when given; only those of ``outcome`` when
    given. A call is logged when it ends, so pages of a day still going on are cut by position in
    the order, not by count: a call logged meanwhile never shifts a row onto the next page."""
    query = select(CallLog).where(CallLog.started_at >= start, CallLog.started_at < end)
    if outcome:
        query = query.where(CallLog.outcome == outcome)
    if after is not None:
        query = query.where(or_(CallLog.started_at < after.started_at,
                                and_(CallLog.started_at == after.started_at, CallLog.id < after.id)))
    return list(session.scalars(query.order_by(CallLog.started_at.desc(), CallLog.id.desc()).limit(limit)))


def outcomes_between(session, start, end) -> dict[str, int]:
    """How many calls of each outcome started from ``start`` to ``end``."""
    rows = session.execute(select(CallLog.outcome, func.count()).where(
        CallLog.started_at >= start, CallLog.started_at < end).group_by(CallLog.outcome))
    return dict(rows.all())
