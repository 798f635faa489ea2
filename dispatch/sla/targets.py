"""A ticket's targets as pure rules: when its response and resolution are due, when each
warning and breach notice falls, and which of them are owed at an instant.

Everything is computed from the ticket's creation, its priority's target and the times
its resolution clock stood still (``pauses``: waiting on the caller, or resolved until a
reopening), so a priority change recomputes both dues from the creation, exactly. A
target met (the first response given, the ticket resolved) has no due any more; a
resolution clock standing still has none until it runs again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.config import Config, SlaTarget
from dispatch.sla import clock as clocks

RESPONSE, RESOLUTION = "response", "resolution"
WARNING, BREACH = "warning", "breach"
# ``tickets.sla_alerts`` is a set of these bits: each notice, once sent (or passed over), is never owed again.
BITS = {(RESPONSE, WARNING): 1, (RESPONSE, BREACH): 2, (RESOLUTION, WARNING): 4, (RESOLUTION, BREACH): 8}
NO_CLOCK_KINDS = ("verification",)  # a record of a caller proving who they are, not a request for service

Pause = tuple[datetime, datetime | None]


@dataclass(frozen=True)
class Alert:
    target: str  # response | resolution
    stage: str  # warning | breach
    at: datetime  # when it falls
    due: datetime  # the target's due instant

    @property
    def bit(self) -> int:
        return BITS[(self.target, self.stage)]


def target_of(config: Config, ticket) -> SlaTarget | None:
    if ticket.kind in NO_CLOCK_KINDS:
        return None
    return config.sla.get(ticket.priority)


def pauses_of(ticket) -> list[Pause]:
    """The ticket's pauses as instants; the last one has no end while the clock stands still."""
    return [(datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None)
            for start, end in (ticket.pauses or [])]


def paused_now(ticket) -> bool:
    pauses = ticket.pauses or []
    return bool(pauses) and pauses[-1][1] is None


def _paused_time(config: Config, clock: str, pauses: list[Pause]) -> timedelta:
    return sum((clocks.elapsed(config, clock, start, end) for start, end in pauses if end is not None),
               timedelta(0))


def alerts(config: Config, ticket) -> list[Alert]:
    """Every notice the ticket's running targets call for, sent or not, in time order."""
    target = target_of(config, ticket)
    if target is None or ticket.status == "closed":
        return []
    found = []
    start, warn_at = ticket.created_at, config.sla_warn_at
    if ticket.responded_at is None:
        due = clocks.add(config, target.clock, start, target.response)
        if due is not None:
            found += [Alert(RESPONSE, WARNING, clocks.add(config, target.clock, start, target.response * warn_at), due),
                      Alert(RESPONSE, BREACH, due, due)]
    if ticket.resolved_at is None and not paused_now(ticket):
        paused = _paused_time(config, target.clock, pauses_of(ticket))
        due = clocks.add(config, target.clock, start, target.resolution + paused)
        if due is not None:
            warning = clocks.add(config, target.clock, start, target.resolution * warn_at + paused)
            found += [Alert(RESOLUTION, WARNING, warning, due), Alert(RESOLUTION, BREACH, due, due)]
    return sorted(found, key=lambda a: a.at)


def refresh(config: Config, ticket) -> None:
    """Set the ticket's ``response_due``, ``resolution_due`` and ``sla_next_at`` (the first notice
    still owed, which the workers' sweep waits for) from its state."""
    found = alerts(config, ticket)
    dues = {a.target: a.due for a in found if a.stage == BREACH}
    ticket.response_due, ticket.resolution_due = dues.get(RESPONSE), dues.get(RESOLUTION)
    pending = [a.at for a in found if not (ticket.sla_alerts or 0) & a.bit]
    ticket.sla_next_at = min(pending) if pending else None


def owed(config: Config, ticket, now: datetime) -> tuple[list[Alert], int]:
    """(the notices to send now, the bits to set): every notice fallen due and not sent; a warning
    whose breach has fallen due as well is passed over (its bit set, nothing sent)."""
    sent = ticket.sla_alerts or 0
    due = [a for a in alerts(config, ticket) if a.at <= now and not sent & a.bit]
    breached = {a.target for a in due if a.stage == BREACH}
    send = [a for a in due if a.stage == BREACH or a.target not in breached]
    bits = 0
    for alert in due:
        bits |= alert.bit
    return send, bits


def clock_of(config: Config, ticket) -> str | None:
    target = target_of(config, ticket)
    return target.clock if target else None
