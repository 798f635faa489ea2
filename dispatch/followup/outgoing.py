"""Texts of the follow-up, as pages of their own kinds: sent exactly once each, with the delivery
domain's retries, and followed on its neutral states (``notification.delivery``).

A text to a ticket's caller is a page whose ``staff_id`` is ``caller``. Before it goes out
its number is checked (``send_to_caller``): nothing goes to a number that replied STOP or
that cannot take texts (a landline: the carrier's permanent failure marks it, see
:func:`unreachable`), and nothing is ever queued for a withheld number.
"""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import phones
from core.config import Staff
from core.db import get_locked, insert_now
from dispatch import jobs
from dispatch.followup.models import CallerNumber
from dispatch.jobs.outbox import Handover
from dispatch.notification import delivery
from dispatch.notification.carrier import DeliveryState
from dispatch.notification.models import Page
from dispatch.runtime import Runtime, current
from dispatch.tickets.models import Ticket
from dispatch.tickets.timeline import add_event

log = logging.getLogger(__name__)

CALLER = "caller"  # the staff_id of a text to a ticket's caller
CALLER_KINDS = ("caller_confirm", "caller_reminder", "caller_resolved")


def to_staff(session, ticket: Ticket, kind: str, key: str, person: Staff, body: str, now) -> Handover | None:
    """Queue ``body`` to ``person`` about ``ticket`` once (a page keyed ``key``); the hand-over to
    call after the commit, or None if it was queued before."""
    return _queue(session, ticket, kind, f"{key}:{person.id}", person.id, person.mobile, body, now,
                  delivery.send_page)


def to_caller(session, ticket: Ticket, kind: str, key: str, body: str, now) -> Handover | None:
    """Queue ``body`` to the ticket's caller once; nothing for a withheld number."""
    if ticket.caller == phones.ANONYMOUS:
        return None
    return _queue(session, ticket, kind, key, CALLER, ticket.caller, body, now, send_to_caller)


def _queue(session, ticket: Ticket, kind: str, key: str, staff_id: str, to: str, body: str, now,
           job) -> Handover | None:
    if session.scalar(select(Page.id).where(Page.ticket_id == ticket.id, Page.key == key)) is not None:
        return None
    page = insert_now(session, Page(ticket_id=ticket.id, key=key, kind=kind, staff_id=staff_id, channel="sms",
                                    to=to, body=body, created_at=now, state="claimed", attempts=0,
                                    delivery_rank=0))
    # Not claimed: should this process die before its hand-over, the workers' flush of the outbox sends it.
    return jobs.enqueue_after_commit(session, job, page.id, now=now, new=True)


def send_to_caller(page_id: int) -> None:
    """Job: send a text to a ticket's caller, unless the number may not be texted (any more)."""
    deliver_to_caller(current(), page_id)


def deliver_to_caller(runtime: Runtime, page_id: int) -> None:
    with runtime.store.transaction() as session:
        page = session.get(Page, page_id)
        if page is None or page.state != "claimed":
            return
        refusal = refusal_for(session, page.to)
        if refusal is not None:
            page.state, page.error = "skipped", refusal
            add_event(session.get(Ticket, page.ticket_id), "caller_not_texted", runtime.now(), kind=page.kind,
                      reason=refusal)
            return
    delivery.send(runtime, page_id)


def refusal_for(session, number: str) -> str | None:
    """Why ``number`` may not be texted, or None."""
    row = session.get(CallerNumber, number)
    if row is None:
        return None
    if row.stopped_at is not None:
        return "the caller replied STOP"
    if row.unreachable_at is not None:
        return f"the number cannot take texts ({row.reason})" if row.reason else "the number cannot take texts"
    return None


def unreachable(runtime: Runtime, page: Page, reason: str) -> None:
    """A text to a caller reached nobody (``delivery.when_unreached``): noted on the timeline; a
    permanent failure (a landline, a number the carrier refuses) also keeps every later text from
    being tried."""
    now = runtime.now()
    with runtime.store.transaction() as session:
        row = get_locked(session, Page, page.id)
        permanent = row.delivery == DeliveryState.FAILED.value or reason == "permanent error"
        why = (row.error or reason)[:200]
        if permanent:
            number = session.get(CallerNumber, row.to) or CallerNumber(number=row.to)
            number.unreachable_at, number.reason = now, why
            session.add(number)
        add_event(session.get(Ticket, row.ticket_id), "caller_unreachable", now, kind=row.kind, reason=why,
                  permanent=permanent)
    log.info("text to the caller of ticket %s reached nobody (%s)", page.ticket_id, reason)


def opt(runtime: Runtime, number: str, stop: bool) -> None:
    """The number replied STOP (``stop``) or START: honoured before anything more is sent to it."""
    try:
        _opt(runtime, number, stop)
    except IntegrityError:  # the same reply, delivered twice at once: the other delivery stored it
        pass


def _opt(runtime: Runtime, number: str, stop: bool) -> None:
    now = runtime.now()
    with runtime.store.transaction() as session:
        row = session.get(CallerNumber, number, with_for_update=True)
        if row is None:
            if not stop:
                return
            row = CallerNumber(number=number)
            session.add(row)
        if stop:
            row.stopped_at = row.stopped_at or now
        else:  # a phone that can text START can take texts
            row.stopped_at = row.unreachable_at = row.reason = None
