"""Warnings and breach notices, each sent once, whichever worker gets there first.

Every worker's housekeeping looks, every few seconds, for tickets whose ``sla_next_at`` has
come (an indexed read) and checks each with its row locked: the notices owed are those
fallen due whose bit is not yet in ``sla_alerts`` (``targets.owed``); their bits are set and
their texts queued in that one transaction, so a second worker finds nothing left to do.
Nothing is scheduled in Redis, so nothing is lost with it, and a ticket met or resolved
in time has nothing owed.

Who is told: at ``warn_at`` of a target, the ticket's owner, or without one the on-call
primary (24x7 clocks) or the managers (business clocks); at the breach, the managers. A
business clock's notices wait for the desk to open: nobody is texted about it at night.
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from core import hours
from core.config import Config, Staff
from core.db import get_locked
from dispatch import oncall
from dispatch.followup import outgoing, texts
from dispatch.runtime import Runtime
from dispatch.sla import clock as clocks
from dispatch.sla import targets
from dispatch.sla.targets import BREACH, Alert
from dispatch.tickets.models import Ticket
from dispatch.tickets.timeline import add_event

log = logging.getLogger(__name__)

SWEEP_LIMIT = 100


def sweep(runtime: Runtime) -> int:
    """Check every ticket whose next notice has come; returns how many were looked at."""
    now = runtime.now()
    with runtime.store.reading() as session:
        due = session.scalars(select(Ticket.id).where(Ticket.sla_next_at <= now).order_by(Ticket.sla_next_at)
                              .limit(SWEEP_LIMIT)).all()
    for ticket_id in due:
        check(runtime, ticket_id)
    return len(due)


def check(runtime: Runtime, ticket_id: int) -> None:
    """Send the ticket's notices that have fallen due, once each."""
    config, now = runtime.config, runtime.now()
    with runtime.store.transaction() as session:
        ticket = get_locked(session, Ticket, ticket_id)
        if ticket is None or ticket.sla_next_at is None or ticket.sla_next_at > now:
            return
        clock = targets.clock_of(config, ticket)
        if clock is not None and not clocks.runs_now(config, clock, now):
            ticket.sla_next_at = hours.next_opening(config, now)
            return
        send, bits = targets.owed(config, ticket, now)
        ticket.sla_alerts = (ticket.sla_alerts or 0) | bits
        handovers = []
        for alert in send:
            people = recipients(session, config, ticket, alert, clock, now)
            add_event(ticket, f"sla_{alert.stage}", now, target=alert.target, due=alert.due.isoformat(),
                      staff=[p.id for p in people])
            body = _body(config, ticket, alert, now)
            key = f"sla:{alert.target}:{alert.stage}:{int(alert.due.timestamp())}"
            handovers += [h for p in people if (h := outgoing.to_staff(session, ticket, f"sla_{alert.stage}", key, p,
                                                                       body, now))]
        targets.refresh(config, ticket)
    for hand_over in handovers:
        hand_over(runtime)


def recipients(session, config: Config, ticket: Ticket, alert: Alert, clock: str, now) -> list[Staff]:
    managers = [config.staff[m] for m in config.managers]
    if alert.stage == BREACH and managers:
        return managers
    if ticket.owner in config.staff:
        return [config.staff[ticket.owner]]
    if clock == clocks.BUSINESS and managers:
        return managers
    return [oncall.on_call(config, oncall.overrides_near(session, now), now).primary]


def _body(config: Config, ticket: Ticket, alert: Alert, now) -> str:
    target = config.sla[ticket.priority]
    values = {"number": texts.number(config, ticket), "target": texts.say(f"sla_target_{alert.target}"),
              "when": texts.local_time(config, alert.due, now), "priority": ticket.priority, "name": target.name,
              "who": texts.who(ticket), "callback": texts.callback(ticket)}
    if alert.stage == BREACH:
        owner = config.staff.get(ticket.owner or "")
        return texts.say("sms_sla_breach", owner=owner.name if owner else texts.say("sla_no_owner"), **values)
    return texts.say("sms_sla_warning", action=texts.say(f"sla_action_{alert.target}", digits=ticket.id), **values)
