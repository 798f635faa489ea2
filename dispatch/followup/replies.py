"""A caller's texts to the support number: ``REOPEN [n]``, a rating ``1``-``4``, or any reply while
one of their tickets waits on them (which ends the wait).

Only a ticket's own caller is answered, and only about the tickets they called in (a
verification call is no such ticket): a text from any other number gets no answer and
changes nothing. STOP and START are the carrier's
words (``outgoing.opt``), never answered here.
"""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from dispatch.followup import actions, lifecycle, texts
from dispatch.runtime import Runtime
from dispatch.tickets.models import CLOSED_STATUSES, Ticket
from dispatch.tickets.numbers import format_number, parse_number

RATING_WINDOW = timedelta(days=30)  # a rating is taken for a ticket resolved at most this long ago
OWN_TICKETS = 50  # the caller's newest tickets looked at
QUOTES = "'\"\u2018\u2019\u201c\u201d"
REOPEN, RATE = "REOPEN", "RATE"


def parse(body: str | None, prefix: str) -> tuple[str, int | None, str] | None:
    """(``REOPEN``, the ticket number or None, what was given) or (``RATE``, 1-4, ""); None for anything else."""
    text = (body or "").strip().strip(QUOTES).rstrip(".!?").strip().strip(QUOTES)
    if re.fullmatch(r"[1-4]", text):
        return RATE, int(text), ""
    match = re.fullmatch(r"re-?open[\s,:;#-]*(.*)", text, re.IGNORECASE | re.DOTALL)
    if not match:
        return None
    given = match.group(1).strip()
    return REOPEN, parse_number(given, prefix) if given else None, given[:20]


def handle(runtime: Runtime, number: str | None, body: str | None) -> str | None:
    """The answer to a text from ``number``, or None for no answer."""
    if not number:
        return None
    config = runtime.config
    with runtime.store.reading() as session:
        own = session.execute(select(Ticket.id, Ticket.status, Ticket.resolved_at, Ticket.rating).where(
            Ticket.caller == number, Ticket.kind != "verification").order_by(Ticket.id.desc()).limit(OWN_TICKETS)).all()
    if not own:
        return None
    text = (body or "").strip()[:500]
    waited = [row.id for row in own if row.status == "waiting"]
    for ticket_id in waited:  # any reply from the caller ends the wait
        actions.act(runtime, ticket_id, lifecycle.end_wait, "the caller replied", text=text, via="sms")
    command = parse(text, config.ticket_prefix)
    support = config.support_number
    if command is not None and command[0] == REOPEN:
        _, wanted, given = command
        ids = {row.id for row in own}
        if given and wanted not in ids:
            return texts.say("followup_reply_not_found", given=given, support=support)
        finished = [row.id for row in own if row.status in CLOSED_STATUSES]
        ticket_id = wanted or (finished[0] if finished else own[0].id)
        number_text = format_number(config.ticket_prefix, ticket_id)
        outcome = actions.reopen_for_caller(runtime, ticket_id, "caller", "sms")
        key = {"reopened": "followup_reply_reopened", "closed": "followup_reply_closed"}.get(outcome,
                                                                                            "followup_reply_open")
        return texts.say(key, number=number_text, support=support)
    if command is not None and command[0] == RATE and config.followup.survey:
        now = runtime.now()
        rateable = [row for row in own if row.status in CLOSED_STATUSES and row.resolved_at is not None
                    and row.resolved_at >= now - RATING_WINDOW]
        if rateable:
            latest = rateable[0]
            if latest.rating is None:
                actions.act(runtime, latest.id, lifecycle.rate, command[1])
            return texts.say("followup_reply_rated", number=format_number(config.ticket_prefix, latest.id))
    if waited:
        return texts.say("followup_reply_received", number=format_number(config.ticket_prefix, waited[0]))
    return None
