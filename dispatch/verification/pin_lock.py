"""The PIN lock: wrong PINs in a row for one contact, across calls, lock PIN entry.

``LOCK_AFTER`` wrong PINs in a row lock PIN entry for ``LOCKED_FOR`` and text the
on-call technician a security notice (the job ``send_security_notice``; it goes out as a
page of its own kind, so a job run twice or retried sends it once). The contact's lock
row is also what concurrent requests lock before counting failures or callbacks, so two
calls at once cannot both slip under a limit.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dispatch import jobs, oncall
from dispatch.directory.models import Contact
from dispatch.jobs.outbox import Handover
from dispatch.notification import delivery, gsm7
from dispatch.notification.models import Page
from dispatch.runtime import Runtime, current
from dispatch.tickets.models import Ticket
from dispatch.tickets.numbers import format_number
from dispatch.tickets.timeline import add_event
from dispatch.verification.models import PinLock, SecurityNotice
from voice_prompts import say

LOCK_AFTER = 5
LOCKED_FOR = timedelta(minutes=30)


def lock_row(session, contact_id: int) -> PinLock:
    """The contact's lock row, locked for the rest of the transaction (made on first use)."""
    query = select(PinLock).where(PinLock.contact_id == contact_id).with_for_update()
    row = session.scalar(query)
    if row is None:
        try:
            # Two calls for this contact may both find no row yet (PostgreSQL lets them read
            # side by side): the second insert fails, and that call locks the first one's row.
            with session.begin_nested():
                row = PinLock(contact_id=contact_id, consecutive_failures=0)
                session.add(row)
                session.flush()
        except IntegrityError:
            row = session.scalar(query)
    return row


def is_locked(row: PinLock | None, now) -> bool:
    return row is not None and row.locked_until is not None and row.locked_until > now


def succeeded(row: PinLock) -> None:
    """A right PIN: the count of wrong ones in a row starts again."""
    row.consecutive_failures = 0


def clear(row: PinLock) -> None:
    """A new PIN was set: no count and no lock carry over from the old one."""
    row.consecutive_failures, row.locked_until = 0, None


def count_failure(session, runtime: Runtime, row: PinLock, contact: Contact, ticket: Ticket) -> Handover | None:
    """One more wrong PIN in a row for ``contact``; at ``LOCK_AFTER`` lock PIN entry and queue the
    on-call technician's security notice. Returns the notice's hand-over to RQ (to call after the
    commit) if it locked, else None."""
    row.consecutive_failures += 1
    if row.consecutive_failures < LOCK_AFTER:
        return None
    now = runtime.now()
    row.locked_until = now + LOCKED_FOR
    row.consecutive_failures = 0
    notice = SecurityNotice(contact_id=contact.id, ticket_id=ticket.id, locked_until=row.locked_until,
                            created_at=now)
    session.add(notice)
    session.flush()
    add_event(ticket, "pin_locked", now, contact=contact.name, failures=LOCK_AFTER,
              until=row.locked_until.isoformat())
    return jobs.enqueue_after_commit(session, send_security_notice, notice.id, now=now)


def send_security_notice(notice_id: int) -> None:
    """Job: text the primary on-call technician that a contact's PIN entry was locked."""
    runtime = current()
    config = runtime.config
    staff = oncall.who(runtime).primary  # with overrides, as the dispatcher pages
    key = f"security:{notice_id}"
    try:
        with runtime.store.transaction() as session:
            notice = session.get(SecurityNotice, notice_id)
            if notice is None:
                return
            page = session.scalar(select(Page).where(Page.ticket_id == notice.ticket_id, Page.key == key))
            if page is None:
                until = notice.locked_until.astimezone(config.timezone).strftime("%H:%M %Z")
                body = gsm7.gsm7(say("verify_security_notice_sms", failures=LOCK_AFTER, contact=notice.contact.name,
                                     client=notice.contact.client.name, until=until,
                                     ticket=format_number(config.ticket_prefix, notice.ticket_id)))
                page = Page(ticket_id=notice.ticket_id, key=key, kind="security_notice", staff_id=staff.id,
                            channel="sms", to=staff.mobile, body=body, created_at=runtime.now())
                session.add(page)
                session.flush()
            page_id = page.id
    except IntegrityError:
        return  # the same job, run twice at once: the other run made the page and sends it
    delivery.send(runtime, page_id)
