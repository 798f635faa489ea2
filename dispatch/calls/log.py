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

from sqlalchemy import select

from core import phones
from core.db import get_locked, lock_key
from dispatch import directory
from dispatch.calls.models import CallLog
from dispatch.followup import lifecycle
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


def outcome_of(end: CallEnd, ticket: Ticket | None) -> str:
    found = {"desk": end.desk, "oncall": end.oncall, "status": end.status,
             "voicemail": ticket is not None and ticket.kind in ("voicemail", "emergency_voicemail"),
             "missed": ticket is not None and ticket.kind == "missed_call",
             "verification": ticket is not None and ticket.kind == "verification"}
    return next((o for o in OUTCOMES if found.get(o)), "abandoned")


def record(runtime: Runtime, end: CallEnd) -> CallLog:
    """Log the call (again, if Twilio repeats its callback: the row is brought up to date)."""
    now = runtime.now()
    config = runtime.config
    caller = phones.caller_id(end.caller_raw, config.region)
    handovers = []
    with runtime.store.transaction() as session:
        lock_key(session, f"call-log:{end.sid}")
        tickets = session.scalars(select(Ticket).where(
            Ticket.source_key.in_((f"call:{end.sid}", f"verification:{end.sid}")))).all()
        ticket = min(tickets, key=lambda t: t.kind == "verification", default=None)  # the call's own ticket first
        client = ticket.client if ticket is not None and ticket.client is not None else (
            directory.match_caller(session, None if caller == phones.ANONYMOUS else caller)[0])
        row = session.scalar(select(CallLog).where(CallLog.sid == end.sid))
        if row is None:
            row = CallLog(sid=end.sid, started_at=now - timedelta(seconds=end.seconds or 0))
            session.add(row)
        row.caller, row.client, row.seconds = caller, client, end.seconds
        row.language = end.language or row.language or "en"
        row.outcome, row.ticket_id = outcome_of(end, ticket), ticket.id if ticket is not None else None
        if caller != phones.ANONYMOUS:
            waiting = select(Ticket.id).where(Ticket.caller == caller, Ticket.status == "waiting")
            for ticket_id in session.scalars(waiting).all():
                handovers += lifecycle.end_wait(session, runtime, get_locked(session, Ticket, ticket_id), now,
                                                "the caller called", call=end.sid)
    for hand_over in handovers:
        hand_over(runtime)
    return row


def recent(session, since=None, limit: int = 100) -> list[CallLog]:
    """Calls newest first (those started at or after ``since``)."""
    query = select(CallLog).order_by(CallLog.started_at.desc(), CallLog.id.desc()).limit(limit)
    if since is not None:
        query = query.where(CallLog.started_at >= since)
    return list(session.scalars(query))
