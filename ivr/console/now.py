"""The Now page: who is on call, the open P1s and where their escalation stands, the callers awaiting
a call back with the time left, the open tickets, and the health of the line."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import request
from sqlalchemy import select

from core.config import LEVELS, Config
from core.db import parse_id
from dispatch import health, oncall
from dispatch.escalation import policy
from dispatch.escalation.models import Escalation
from dispatch.followup import callbacks
from dispatch.tickets import lists
from ivr.console.base import bp, page, say, staff_name
from ivr.context import runtime as _runtime

PAGE_SIZE = 50
P1_LIMIT = 50
CALLBACKS_PAGE = 50


@dataclass(frozen=True)
class Standing:
    """Where a P1's escalation stands, for people."""

    text: str
    next_at: datetime | None = None


def standing(config: Config, escalation: Escalation | None) -> Standing:
    if escalation is None:
        return Standing(say("console_standing_not_paged"))
    if escalation.finished_at is not None:
        return Standing(say("console_standing_stopped", outcome=escalation.outcome or "-"))
    ran = policy.step_of(config, escalation.next_position - 1)
    if ran is None:
        return Standing(say("console_standing_first"), escalation.next_due_at)
    round_, step = ran
    rule = config.escalation[step - 1]
    notify = say(f"console_notify_{rule.notify}") if rule.notify in LEVELS else staff_name(rule.notify)
    return Standing(say("console_standing_step", round=round_, step=step, steps=len(config.escalation),
                        notify=notify, channel=say(f"console_channel_{rule.channel}")), escalation.next_due_at)


@bp.get("")
@bp.get("/")
def now():
    runtime = _runtime()
    config, at = runtime.config, runtime.now()
    before = parse_id(request.args.get("before"))
    waiting_from = parse_id(request.args.get("waiting_from")) or 0
    who = oncall.who(runtime, at)
    with runtime.store.reading() as session:
        p1s = lists.open_tickets(session, P1_LIMIT, priority="P1")
        escalations = {e.ticket_id: e for e in session.scalars(
            select(Escalation).where(Escalation.ticket_id.in_([t.id for t in p1s])))} if p1s else {}
        waiting = callbacks.waiting(session, CALLBACKS_PAGE, offset=waiting_from)
        waiting_count = callbacks.count_waiting(session)
        tickets = lists.open_tickets(session, PAGE_SIZE + 1, before=before)
        open_count = lists.count_open(session)
    more = len(tickets) > PAGE_SIZE
    tickets = tickets[:PAGE_SIZE]
    return page("console/now.html", title="Now", nav="now", who=who, at=at,
                p1s=[(t, standing(config, escalations.get(t.id))) for t in p1s],
                waiting=[(t, callbacks.countdown(t, at)) for t in waiting], waiting_count=waiting_count,
                waiting_from=waiting_from, waiting_page=CALLBACKS_PAGE,
                tickets=tickets, open_count=open_count, before=before,
                older=tickets[-1].id if more else None, health=health.check(runtime))
