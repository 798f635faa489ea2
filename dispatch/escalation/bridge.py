"""CALL: the technician's phone rings first; once they answer, they are bridged to the ticket's
caller, who sees the support number, never the technician's own (``ivr.page_calls.bridge``), when
``bridging`` allows the caller to be rung.

Asked for by an SMS reply (``CALL``) or from the console; either way it is a ``bridge`` page
keyed on the request, so the same request delivered twice rings once.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.config import Staff
from dispatch import jobs
from dispatch.escalation import bridging
from dispatch.followup import lifecycle
from dispatch.notification import delivery
from dispatch.notification.models import Page
from dispatch.runtime import Runtime
from dispatch.tickets.models import Ticket
from dispatch.tickets.timeline import add_event


def call_back_ended(runtime: Runtime, ticket_id: int, staff_id: str, outcome: str, seconds: int) -> None:
    """The technician's bridged call to the caller is over: on the timeline, with how it went
    (``outcome``: ``connected``, ``busy``, ``no_answer``, ...)."""
    with runtime.store.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None:
            add_event(ticket, "callback", runtime.now(), by=staff_id, status=outcome, seconds=seconds)


def ring_technician(runtime: Runtime, ticket_id: int, staff: Staff, request_id: str,
                    via: str) -> bridging.Refusal | None:
    """Ring ``staff``'s mobile, to be bridged to the caller of ``ticket_id``; ``request_id`` names the
    request (an SMS's id, a console form's). Returns None when it rings (also for a request already
    acted on), else why not (``bridging.Refusal``; ``missing``: no such ticket), noted on the timeline."""
    now = runtime.now()
    ring = None
    try:
        with runtime.store.transaction() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                return bridging.Refusal("missing")
            refused = bridging.refusal(runtime.config, ticket)
            if refused is not None:
                add_event(ticket, "callback_refused", now, by=staff.id, via=via, reason=refused.reason,
                          detail=refused.detail)
                return refused
            key = f"bridge:{request_id}"
            if session.scalar(select(Page.id).where(Page.ticket_id == ticket_id, Page.key == key)) is None:
                row = Page(ticket_id=ticket_id, key=key, kind="bridge", staff_id=staff.id, channel="voice",
                           to=staff.mobile, created_at=now)
                session.add(row)
                session.flush()
                add_event(ticket, "callback_requested", now, by=staff.id, via=via)
                lifecycle.responded(runtime, ticket, now)  # a call to the caller is a response
                ring = jobs.enqueue_after_commit(session, delivery.send_page, row.id, now=now, new=True, claim=True)
    except IntegrityError:
        ring = None  # the same request delivered twice at once: the first one rings
    if ring is not None:
        ring(runtime)
    return None
